//! autocandle: AutoML for deep learning in Rust, in the spirit of AutoKeras.
//!
//! Hand over data, pick a task, set `max_trials` and/or a `time_limit`, call `fit`: a search over
//! architectures and hyperparameters finds a network, retrains it, and gives it back ready to
//! `predict`, `evaluate` and save.
//!
//! ```no_run
//! use autocandle::prelude::*;
//! let digits = autocandle::datasets::digits()?;
//! let mut clf = ImageClassifier::new(SearchConfig { max_trials: 2, seed: 1, ..Default::default() });
//! clf.fit(&digits, None)?;
//! println!("{:?}", clf.evaluate(&digits)?);
//! # Ok::<(), autocandle::Error>(())
//! ```

pub mod allocator;
pub mod automodel;
pub mod blocks;
pub mod data;
pub mod display;
pub mod durable;
pub mod error;
pub mod export;
pub mod graph;
pub mod heads;
pub mod hyperparameters;
pub mod inputs;
pub mod kernels;
pub mod preprocessing;
pub mod project;
pub mod study;
pub mod tasks;
pub mod training;
pub mod tuners;

pub use data::datasets;

/// The tutorials (tutorials/*.md): their Rust blocks run as doctests, so they never rot.
#[cfg(doctest)]
mod tutorials {
    #[doc = include_str!("../tutorials/mnist.md")]
    pub struct Mnist;
    #[doc = include_str!("../tutorials/cifar10.md")]
    pub struct Cifar10;
    #[doc = include_str!("../tutorials/text_imdb.md")]
    pub struct TextImdb;
    #[cfg(feature = "tables")]
    #[doc = include_str!("../tutorials/timeseries.md")]
    pub struct Timeseries;
    #[cfg(feature = "tables")]
    #[doc = include_str!("../tutorials/structured_titanic.md")]
    pub struct StructuredTitanic;
    #[doc = include_str!("../tutorials/how_the_search_works.md")]
    pub struct HowTheSearchWorks;
}
pub use error::{Error, Result};
pub use export::Model;

/// The names a notebook or a program needs.
pub mod prelude {
    pub use crate::automodel::{AutoModel, SearchConfig, SearchEvent, SearchResult};
    pub use crate::data::{ImageData, ImageDataset, ImdbTarget, Targets, TextDataset};
    pub use crate::data::{SeriesSpec, TimeSeries};
    #[cfg(feature = "tables")]
    pub use crate::display::DataFramePreview;
    pub use crate::display::{ConfusionMatrix, HtmlView, Svg};
    pub use crate::export::{Model, Predictions};
    pub use crate::hyperparameters::{HyperParameters, Tunable};
    pub use crate::inputs::{Input, InputData, InputKind, TextInput};
    pub use crate::preprocessing::{ColumnType, TableSpec};
    pub use crate::tasks::{series_config, Forecast, ForecastMetrics, TimeseriesForecaster};
    #[cfg(feature = "tables")]
    pub use crate::tasks::{ClassWeight, StructuredDataClassifier, StructuredDataRegressor};
    pub use crate::tasks::{
        ImageClassifier, ImageRegressor, MultiModal, TextClassifier, TextRegressor,
    };
    pub use crate::tuners::TunerKind;
    pub use crate::{Error, Result};
}
