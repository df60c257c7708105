//! The one error type of autocandle.
//!
//! Every fallible public function returns [`Result`]. Each variant names the problem and, where
//! there is one, what to do about it.

use std::path::PathBuf;

/// Everything that can go wrong in autocandle.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `x` and `y` hold a different number of samples.
    #[error("x has {x} samples but y has {y}: give one target per sample")]
    LengthMismatch { x: usize, y: usize },

    /// The input has the wrong number of dimensions or an impossible shape.
    #[error("bad shape: {0}")]
    BadShape(String),

    /// A NaN or an infinity was found in the input.
    #[error("{what} holds a non-finite value (NaN or infinity) at flat index {index}: clean or impute the data first")]
    NonFinite { what: &'static str, index: usize },

    /// A classification target with fewer than two classes.
    #[error("the classification target has {found} distinct class(es); at least 2 are needed")]
    TooFewClasses { found: usize },

    /// No samples at all.
    #[error("the dataset is empty: {0}")]
    EmptyDataset(String),

    /// A file ended before the size its header announces.
    #[error("{path} is truncated: expected {expected} bytes, found {found}; download it again")]
    Truncated {
        path: PathBuf,
        expected: u64,
        found: u64,
    },

    /// A file is not in the format expected.
    #[error("{path} is not a valid {format} file: {detail}")]
    Format {
        path: PathBuf,
        format: &'static str,
        detail: String,
    },

    /// A dataset could not be found locally (and could not, or may not, be downloaded).
    #[error("{what} not found at {path}: {hint}")]
    DataNotFound {
        what: String,
        path: PathBuf,
        hint: String,
    },

    /// An I/O error, with the path it happened on.
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A download failed.
    #[error("download of {url} failed: {detail}")]
    Download { url: String, detail: String },

    /// A downloaded or cached file does not have the published checksum.
    #[error("checksum mismatch for {path}: expected sha256 {expected}, got {actual}; delete the file and download it again")]
    Checksum {
        path: PathBuf,
        expected: String,
        actual: String,
    },

    /// A hyperparameter was declared or used inconsistently.
    #[error("hyperparameter error: {0}")]
    HyperParameter(String),

    /// A user-facing configuration value is invalid (unknown task, bad budget, ...).
    #[error("invalid configuration: {0}")]
    Config(String),

    /// A model exceeds `max_model_size`.
    #[error("model has {params} parameters, more than max_model_size = {max}")]
    ModelTooLarge { params: usize, max: usize },

    /// Training diverged.
    #[error("training diverged: the loss became {0} (try a lower learning rate)")]
    Diverged(String),

    /// Training was stopped by the time budget before it had a result.
    #[error("out of time: {0} (raise the time limit or lower the number of epochs)")]
    OutOfTime(String),

    /// The search ended without any successful trial.
    #[error("no trial succeeded: {0}")]
    NoSuccessfulTrial(String),

    /// An image file could not be decoded.
    #[error("cannot decode image {path}: {detail}")]
    Image { path: PathBuf, detail: String },

    /// A column the task needs is not in the table.
    #[error("the {role} column {column:?} is not in the table; its columns are: {}", available.join(", "))]
    ColumnNotFound {
        column: String,
        role: &'static str,
        available: Vec<String>,
    },

    /// A cell of a numeric column holds text that is not a number.
    #[error("column {column:?} of {origin} holds the non-numeric value {value:?} at data row {row}: fix or empty that cell (empty cells are filled from their neighbours)")]
    NonNumeric {
        column: String,
        row: usize,
        value: String,
        origin: String,
    },

    /// A series too short for the windows a forecaster needs.
    #[error("the series has {points} points but {needed} are needed: {detail}")]
    SeriesTooShort {
        points: usize,
        needed: usize,
        detail: String,
    },
    /// Text that is not valid UTF-8.
    #[error("{what} is not valid UTF-8 text ({detail}): convert it to UTF-8 first (for example with iconv)")]
    NotUtf8 { what: String, detail: String },

    /// An operation on a table (a polars DataFrame) failed.
    #[error("table error: {0}")]
    Table(String),

    /// A column holds another type of values than the model was trained on, or than asked.
    #[error("column {column:?} should hold {expected} values but holds {found}: {hint}")]
    ColumnType {
        column: String,
        expected: String,
        found: String,
        hint: String,
    },

    /// A folder that autocandle did not make, where it was asked to write or delete a project.
    #[error("will not {action}: {dir} is not an autocandle project folder (it holds {file}, which autocandle did not write); choose another --project (SearchConfig::project_name), an empty folder or a new one")]
    NotAProject {
        dir: PathBuf,
        file: PathBuf,
        action: &'static str,
    },

    /// A project resumed with other data, another task or other settings than it was started
    /// with.
    #[error("project {dir} was started on something else, so it cannot be resumed: {}. Start it over with --overwrite (SearchConfig::overwrite), or use another --project (SearchConfig::project_name)", differences.join("; "))]
    StudyMismatch {
        dir: PathBuf,
        differences: Vec<String>,
    },

    /// An error from the tensor library.
    #[error("tensor error: {0}")]
    Candle(#[from] candle_core::Error),

    /// A JSON (de)serialisation error.
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
}

/// `Result<T, autocandle::Error>`.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Wraps an I/O error together with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
