//! A classifier's predictions on sample images, for notebooks: each image over its predicted
//! label, in red with the true label where the prediction is wrong.

use super::html::{escape, fragment};
use super::preview::{label_text, sample_grid, HtmlView};
use crate::data::{ImageDataset, Targets};
use crate::error::{Error, Result};
use crate::export::{Model, Predictions};
use crate::preprocessing::Label;

impl Model {
    /// The first `n` images of `data`, each captioned with this classifier's prediction; a wrong
    /// one is shown in red as `predicted (true label)`. Class names come from the training data
    /// where it had them. A regression model is [`Error::Config`].
    ///
    /// ```
    /// # use autocandle::prelude::*;
    /// # fn show(model: &Model, test: &ImageDataset) -> autocandle::Result<()> {
    /// let view = model.prediction_grid(test, 20)?; // a notebook cell's last line shows it
    /// println!("{view}"); // the text fallback: the predictions and how many are right
    /// # Ok(()) }
    /// ```
    pub fn prediction_grid(&self, data: &ImageDataset, n: usize) -> Result<HtmlView> {
        let shown = data.take(n.min(data.len()));
        let labels = match self.predict(&shown.x)? {
            Predictions::Labels(labels) => labels,
            Predictions::Values { .. } => {
                return Err(Error::Config(
                    "a prediction grid needs a classification model; this one is a regressor"
                        .into(),
                ))
            }
        };
        let names = self
            .preprocessing()
            .class_names
            .as_deref()
            .or(data.class_names.as_deref());
        let captions: Vec<(String, bool)> = labels
            .iter()
            .enumerate()
            .map(|(i, predicted)| {
                let truth = label_text(&shown.y, names, i);
                let guess = label_name(predicted, names);
                let right = match (&shown.y, predicted) {
                    (Targets::Int(v), Label::Int(p)) => v.get(i) == Some(p),
                    (Targets::Str(v), Label::Str(p)) => v.get(i) == Some(p),
                    _ => guess == truth,
                };
                if right {
                    (guess, false)
                } else {
                    (format!("{guess} (true {truth})"), true)
                }
            })
            .collect();
        let right = captions.iter().filter(|(_, wrong)| !wrong).count();
        let facts = format!("{right} of {} predictions right", captions.len());
        let html = format!(
            "<h3>Predictions</h3><p class=\"ac-muted\">{}</p>{}",
            escape(&facts),
            sample_grid(&shown.x, &captions)
        );
        let listed: Vec<&str> = captions.iter().map(|(c, _)| c.as_str()).collect();
        Ok(HtmlView {
            html: fragment(&html),
            text: format!("{facts}: {}", listed.join(", ")),
        })
    }
}

/// A predicted label as people read it: its class name where the training data had names.
pub(crate) fn label_name(label: &Label, names: Option<&[String]>) -> String {
    match (label, names) {
        (Label::Int(i), Some(n)) => usize::try_from(*i)
            .ok()
            .and_then(|i| n.get(i))
            .cloned()
            .unwrap_or_else(|| label.to_string()),
        _ => label.to_string(),
    }
}
