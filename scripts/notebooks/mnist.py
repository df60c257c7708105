from common import *
cells = [
md('''
# MNIST: an image classifier found by search

This notebook runs autocandle's `ImageClassifier` on MNIST's handwritten digits: a short search
over network architectures and hyperparameters, the trial plot, the summary of the network it
found, and its predictions on test digits.

The kernel ("Rust (autocandle)") has already loaded the crate and `use autocandle::prelude::*;`,
so the first cell answers in seconds. Set `AUTOCANDLE_QUICK=1` before starting Jupyter for a
smaller run (it is what the tests use).
'''),
SETUP,
md('''
## The data

60,000 training and 10,000 test images of 28×28 grey pixels. The default run searches on 20,000
of the training images (a fifth of them held out for validation) to stay within a few minutes on
a laptop CPU.
'''),
code('''
    let mnist = autocandle::datasets::mnist(Some(&data_dir.join("mnist")))?;
    let train = mnist.train.take(if quick { 2_000 } else { 20_000 });
    let test = mnist.test.take(if quick { 500 } else { 10_000 });
    println!("train: {:?}, test: {:?}", train.x.shape, test.x.shape);
'''),
md('''
A dataset shows its first images with their labels, and how many of each class it holds:
'''),
code('''
    train.preview(20)
'''),
md('''
## The search

`max_trials` bounds the number of networks tried; each trains for up to `epochs` epochs with early
stopping. The tuner (network morphism, `ImageClassifier`'s default) tries known-good
configurations first (a small convolutional network, then the same with augmentation), then
trains children of the best: the same network made deeper or wider, or given a skip connection,
starting from its trained weights. The best configuration is then retrained on all the training images (the final fit). A search given no progress callback
(`clf.on_progress(...)`) picks one that suits where it runs.
'''),
code('''
    let mut clf = ImageClassifier::new(SearchConfig {
        max_trials: if quick { 1 } else { 2 },
        epochs: if quick { 1 } else { 4 },
        seed: 1,
        directory: projects.clone(),
        project_name: "mnist".into(),
        overwrite: true,
        ..Default::default()
    });
    let result = clf.fit(&train, None)?.clone();
'''),
md('''
## The leaderboard

Every trial with its status, validation loss (the objective) and accuracy, size and time; the
best is highlighted. Click a column header to sort.
'''),
code('''
    result
'''),
md('''
## Trials and learning curves

The objective of each trial with the best so far, and the training and validation loss of every
trial, epoch by epoch.
'''),
code('''
    result.plot_trials()
'''),
code('''
    result.plot_learning_curves()
'''),
md('''
## The model

The final model and its accuracy on the test images. Its summary lists every layer with its type,
output shape, parameters and the block that made it; type in the search box to filter the rows.
'''),
code('''
    let metrics = clf.evaluate(&test)?;
    println!("test loss {:.4}, test accuracy {:.4}", metrics.loss, metrics.accuracy.unwrap_or(f64::NAN));
    let model = clf.export_model()?;
    model.summary()?
'''),
md('''
## Predictions on test digits

The first 20 test digits with the predicted label (in red where it is wrong, with the true label).
'''),
code('''
    model.prediction_grid(&test, 20)?
'''),
md('''
## Where it errs

The confusion matrix on the test images: true classes down, predicted across.
'''),
code('''
    model.confusion_matrix(&test)?
'''),
md('''
The model can be saved and loaded back with `model.save("mnist_model")?` and
`Model::load("mnist_model")?`, or used from the command line:
`autocandle predict --model <folder> --data mnist:../shared/data/mnist`.
'''),
]
notebook(cells, "mnist")
