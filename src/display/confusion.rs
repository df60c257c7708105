//! The confusion matrix of a classifier on labelled data, and its heat map.

use super::plots::{render, PALETTE};
use super::predictions::label_name;
use super::svg::Svg;
use crate::data::{ImageDataset, Targets, TextDataset};
use crate::error::{Error, Result};
use crate::export::Model;
use crate::graph::HeadKind;
#[cfg(feature = "tables")]
use crate::preprocessing::class_targets;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
#[cfg(feature = "tables")]
use polars::prelude::DataFrame;

/// Most classes whose cells get their count written in them.
pub const MAX_LABELLED_CLASSES: usize = 40;

/// Counts of (true class, predicted class) pairs: `counts[t][p]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    /// Class names, in the order of the rows and columns.
    pub classes: Vec<String>,
    /// `counts[true][predicted]`.
    pub counts: Vec<Vec<usize>>,
}

impl ConfusionMatrix {
    /// A matrix from class names and a square `counts` of the same size.
    pub fn new(classes: Vec<String>, counts: Vec<Vec<usize>>) -> Result<Self> {
        check(&classes, &counts)?;
        Ok(ConfusionMatrix { classes, counts })
    }

    /// The fraction of samples on the diagonal (0 when there are none).
    pub fn accuracy(&self) -> f64 {
        let total: usize = self.counts.iter().flatten().sum();
        let right: usize = (0..self.counts.len()).map(|i| self.counts[i][i]).sum();
        if total == 0 {
            0.0
        } else {
            right as f64 / total as f64
        }
    }

    /// The heat map (see [`confusion_matrix_plot`]); a drawing failure is shown in the image.
    pub fn plot(&self) -> Svg {
        confusion_matrix_plot(&self.classes, &self.counts)
            .unwrap_or_else(|e| Svg::message(&e.to_string(), (480, 200)))
    }

    /// Shows the heat map in evcxr (the Rust Jupyter kernel), the text table as the fallback.
    pub fn evcxr_display(&self) {
        print!(
            "{}",
            super::html::evcxr_bundle(&[
                ("image/svg+xml", self.plot().as_str()),
                ("text/plain", &self.to_text()),
            ])
        );
    }
}

fn check(classes: &[String], counts: &[Vec<usize>]) -> Result<()> {
    let k = classes.len();
    if k == 0 {
        return Err(Error::BadShape(
            "a confusion matrix needs at least one class".into(),
        ));
    }
    if counts.len() != k || counts.iter().any(|r| r.len() != k) {
        return Err(Error::BadShape(format!(
            "a confusion matrix of {k} classes needs {k} rows of {k} counts, got rows of lengths {:?}",
            counts.iter().map(Vec::len).collect::<Vec<_>>()
        )));
    }
    Ok(())
}

/// A heat map of `counts[true][predicted]`: true classes down, predicted across, each cell
/// shaded by its share of its row and labelled with its count (up to [`MAX_LABELLED_CLASSES`]
/// classes; beyond that the cells are too small and only the shading is drawn).
pub fn confusion_matrix_plot(class_names: &[String], counts: &[Vec<usize>]) -> Result<Svg> {
    check(class_names, counts)?;
    let k = class_names.len();
    let cell = (560 / k as u32).clamp(16, 64);
    let side = cell * k as u32;
    let longest = class_names
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(1)
        .min(24) as u32;
    // About 7 pixels a character at the label size, plus the tick and the axis title.
    let name_px = longest * 7 + 12;
    let y_area = name_px + 28;
    let rotate = name_px > cell;
    let x_area = if rotate { name_px + 28 } else { 44 };
    let size = (y_area + side + 36, side + x_area + 60);
    let base = PALETTE[0];
    let font = (cell as f64 * 0.42).clamp(9.0, 16.0);
    let names: Vec<String> = class_names.to_vec();
    render(size, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Confusion matrix", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(x_area)
            .y_label_area_size(y_area)
            .build_cartesian_2d(0f64..k as f64, 0f64..k as f64)?;
        // Row `t` (true class) is drawn at height k - 1 - t so that class 0 is on top.
        // Long names go below the x axis turned a quarter, drawn after the mesh (plotters
        // would centre them on the tick, half inside the plot).
        let x_fmt = |x: &f64| {
            if rotate {
                String::new()
            } else {
                cell_label(&names, *x, false)
            }
        };
        let y_fmt = |y: &f64| cell_label(&names, *y, true);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(2 * k + 1)
            .y_labels(2 * k + 1)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .x_label_style(("sans-serif", 14))
            .y_label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 15))
            .x_desc("Predicted class")
            .y_desc("True class")
            .draw()?;
        let mut cells = Vec::with_capacity(k * k);
        let mut texts = Vec::with_capacity(k * k);
        for (t, row) in counts.iter().enumerate() {
            let row_total: usize = row.iter().sum();
            let y0 = (k - 1 - t) as f64;
            for (p, &c) in row.iter().enumerate() {
                let share = if row_total == 0 {
                    0.0
                } else {
                    c as f64 / row_total as f64
                };
                let x0 = p as f64;
                let fill = if c == 0 {
                    RGBColor(250, 250, 250).filled()
                } else {
                    base.mix(0.12 + 0.88 * share).filled()
                };
                cells.push(Rectangle::new([(x0, y0), (x0 + 1.0, y0 + 1.0)], fill));
                let colour: &'static RGBColor = if share > 0.55 { &WHITE } else { &BLACK };
                let style = TextStyle::from(("sans-serif", font).into_font())
                    .color(colour)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                texts.push(Text::new(c.to_string(), (x0 + 0.5, y0 + 0.5), style));
            }
        }
        chart.draw_series(cells)?;
        if k <= MAX_LABELLED_CLASSES {
            chart.draw_series(texts)?;
        }
        if rotate {
            let style = TextStyle::from(("sans-serif", 14).into_font())
                .transform(FontTransform::Rotate90)
                .pos(Pos::new(HPos::Left, VPos::Center));
            for i in 0..k {
                let (px, py) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
                let label = cell_label(&names, i as f64 + 0.5, false);
                root.draw(&Text::new(label, (px, py + 8), style.clone()))?;
            }
        }
        Ok(())
    })
}

/// The class name for a tick at the centre of a cell (`flipped` for the y axis), else nothing.
fn cell_label(names: &[String], v: f64, flipped: bool) -> String {
    let k = names.len();
    let c = v - 0.5;
    let r = c.round();
    if (c - r).abs() > 1e-6 || r < 0.0 || r as usize >= k {
        return String::new();
    }
    let i = if flipped {
        k - 1 - r as usize
    } else {
        r as usize
    };
    let name = &names[i];
    if name.chars().count() > 24 {
        name.chars().take(23).chain(['…']).collect()
    } else {
        name.clone()
    }
}

impl Model {
    /// The confusion matrix of this classifier on `data` (rows: true classes, columns:
    /// predicted), with the class names of the training data where known. Regression and
    /// multi-label models are [`Error::Config`]; a label never seen in training is an error.
    pub fn confusion_matrix(&self, data: &ImageDataset) -> Result<ConfusionMatrix> {
        self.confusion(&data.y, || self.predict_proba(&data.x))
    }

    /// The confusion matrix of this text classifier on labelled raw texts (see
    /// [`Model::confusion_matrix`]); the texts go through the model's own tokenizer.
    pub fn confusion_matrix_texts(&self, data: &TextDataset) -> Result<ConfusionMatrix> {
        self.confusion(&data.y, || self.predict_proba_texts(&data.texts))
    }

    #[cfg(feature = "tables")]
    /// The confusion matrix of this table classifier on a raw table that holds the target
    /// column the model was trained for (see [`Model::confusion_matrix`]).
    pub fn confusion_matrix_table(&self, df: &DataFrame) -> Result<ConfusionMatrix> {
        let target = match &self.preprocessing().columns {
            Some(enc) => enc.target.clone(),
            None => {
                return Err(Error::Config(
                    "confusion_matrix_table needs a model trained on a table".into(),
                ))
            }
        };
        self.confusion(&class_targets(df, &target)?, || {
            self.predict_proba_table(df)
        })
    }

    /// Counts of (true, predicted) classes for targets `y` and the class probabilities
    /// `predict` gives (called once the model is known to be a single-label classifier).
    fn confusion(
        &self,
        y: &Targets,
        predict: impl FnOnce() -> Result<Vec<Vec<f32>>>,
    ) -> Result<ConfusionMatrix> {
        let encoder = match (
            &self.architecture().head,
            &self.preprocessing().label_encoder,
        ) {
            (
                HeadKind::Classification {
                    multi_label: false, ..
                },
                Some(enc),
            ) => enc,
            _ => {
                return Err(Error::Config(
                    "a confusion matrix needs a single-label classification model".into(),
                ))
            }
        };
        let truth = encoder.encode(y)?;
        let proba = predict()?;
        if proba.len() != truth.len() {
            return Err(Error::LengthMismatch {
                x: proba.len(),
                y: truth.len(),
            });
        }
        let k = encoder.classes.len();
        let mut counts = vec![vec![0usize; k]; k];
        for (t, p) in truth.iter().zip(&proba) {
            let pred = crate::training::argmax(p);
            if let Some(cell) = counts.get_mut(*t as usize).and_then(|r| r.get_mut(pred)) {
                *cell += 1;
            }
        }
        let names = self.preprocessing().class_names.as_ref();
        let classes = encoder
            .classes
            .iter()
            .map(|l| label_name(l, names.map(Vec::as_slice)))
            .collect();
        ConfusionMatrix::new(classes, counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_is_checked() {
        let names = vec!["a".to_string(), "b".to_string()];
        assert!(matches!(
            ConfusionMatrix::new(names.clone(), vec![vec![1, 2]]),
            Err(Error::BadShape(_))
        ));
        assert!(matches!(
            ConfusionMatrix::new(names.clone(), vec![vec![1, 2], vec![3]]),
            Err(Error::BadShape(_))
        ));
        assert!(matches!(
            ConfusionMatrix::new(vec![], vec![]),
            Err(Error::BadShape(_))
        ));
        let m = ConfusionMatrix::new(names, vec![vec![3, 1], vec![0, 4]]).unwrap();
        assert!((m.accuracy() - 7.0 / 8.0).abs() < 1e-12);
    }

    #[test]
    fn labels_sit_at_cell_centres_and_rows_are_flipped() {
        let names: Vec<String> = ["x", "y", "z"].iter().map(|s| s.to_string()).collect();
        assert_eq!(cell_label(&names, 0.5, false), "x");
        assert_eq!(cell_label(&names, 2.5, false), "z");
        assert_eq!(cell_label(&names, 0.5, true), "z");
        assert_eq!(cell_label(&names, 1.0, false), "");
        assert_eq!(cell_label(&names, 3.5, false), "");
    }
}
