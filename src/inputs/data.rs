//! The raw values of one input, as a user gives them to `fit`, `predict` and `evaluate`.

use crate::data::ImageData;
#[cfg(feature = "tables")]
use polars::prelude::DataFrame;

/// The values of one input for a set of samples, borrowed from the caller: arrays for image and
/// numeric inputs, raw strings for a text input, a raw table for a structured-data input, and
/// windows for a time-series input. Row `i` of every input is sample `i`.
///
/// `&ImageData`, `&DataFrame`, `&[String]`, `&Vec<String>`, `&[&str]`, `&[&str; N]` and
/// `&Vec<&str>` convert into it, so a slice of inputs is written
/// `&[InputData::from(&images), InputData::from(&texts), InputData::from(&table)]` (or, for
/// arrays only, `&[&images, &numbers]`).
///
/// ```
/// use autocandle::data::ImageData;
/// use autocandle::inputs::InputData;
/// let texts = vec!["a short text".to_string(), "another".to_string()];
/// let windows = ImageData::from_f32(vec![0.0; 2 * 5 * 3], &[2, 5, 1, 3])?; // 5 steps, 3 channels
/// let x = [InputData::from(&texts), InputData::Windows(&windows)];
/// assert_eq!(x[0].rows(), 2);
/// assert_eq!(x[1].rows(), 2);
/// assert_eq!(InputData::from(&["one", "two", "three"]).rows(), 3);
/// # Ok::<(), autocandle::Error>(())
/// ```
#[derive(Debug, Clone)]
pub enum InputData<'a> {
    /// Images or numbers, `[n, h, w, c]` (an image or numeric input).
    Array(&'a ImageData),
    /// One raw string per sample (a text input).
    Texts(Vec<&'a str>),
    /// One row per sample; the columns as the input was declared (a structured-data input).
    #[cfg(feature = "tables")]
    Table(&'a DataFrame),
    /// One window per sample, `[n, steps, 1, channels]` (a time-series input; an `Array` of
    /// that shape is taken too).
    Windows(&'a ImageData),
}

impl InputData<'_> {
    /// Number of samples.
    pub fn rows(&self) -> usize {
        match self {
            InputData::Array(x) | InputData::Windows(x) => x.len(),
            InputData::Texts(t) => t.len(),
            #[cfg(feature = "tables")]
            InputData::Table(df) => df.height(),
        }
    }

    /// What the value is, for messages ("a table").
    pub fn describe(&self) -> &'static str {
        match self {
            InputData::Array(_) => "an array (InputData::Array)",
            InputData::Texts(_) => "texts (InputData::Texts)",
            #[cfg(feature = "tables")]
            InputData::Table(_) => "a table (InputData::Table)",
            InputData::Windows(_) => "windows (InputData::Windows)",
        }
    }
}

impl<'a> From<&'a ImageData> for InputData<'a> {
    fn from(x: &'a ImageData) -> Self {
        InputData::Array(x)
    }
}

#[cfg(feature = "tables")]
impl<'a> From<&'a DataFrame> for InputData<'a> {
    fn from(df: &'a DataFrame) -> Self {
        InputData::Table(df)
    }
}

impl<'a> From<&'a [String]> for InputData<'a> {
    fn from(texts: &'a [String]) -> Self {
        InputData::Texts(texts.iter().map(String::as_str).collect())
    }
}

impl<'a> From<&'a Vec<String>> for InputData<'a> {
    fn from(texts: &'a Vec<String>) -> Self {
        texts.as_slice().into()
    }
}

impl<'a, 'b: 'a> From<&'a [&'b str]> for InputData<'a> {
    fn from(texts: &'a [&'b str]) -> Self {
        InputData::Texts(texts.to_vec())
    }
}

impl<'a, 'b: 'a> From<&'a Vec<&'b str>> for InputData<'a> {
    fn from(texts: &'a Vec<&'b str>) -> Self {
        texts.as_slice().into()
    }
}

impl<'a, 'b: 'a, const N: usize> From<&'a [&'b str; N]> for InputData<'a> {
    fn from(texts: &'a [&'b str; N]) -> Self {
        texts.as_slice().into()
    }
}

/// The caller's values (anything that converts into [`InputData`]) as inputs.
pub(crate) fn to_inputs<'a, X: Clone + Into<InputData<'a>>>(x: &[X]) -> Vec<InputData<'a>> {
    x.iter().cloned().map(Into::into).collect()
}
