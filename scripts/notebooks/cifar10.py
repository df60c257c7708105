from common import *
cells = [
md('''
# CIFAR-10: a ResNet-style search under a time limit

Colour photographs in ten classes. This notebook searches with a **time limit** rather than a
number of trials: the search stops when the budget is spent (a trial that is running stops at its
next epoch boundary), and it keeps back the time the final fit of the best trial needs. It starts
from a small CIFAR-style ResNet, then tries an Xception-style network and plain convolutional
ones as time allows, and ends with the confusion matrix of the model it found.

`AUTOCANDLE_QUICK=1` shrinks the data and the budget (every cell still runs).
'''),
SETUP,
md('''
## The data

50,000 training and 10,000 test images, 32×32 RGB, read from the official binary archive without
extracting it. On a laptop CPU the default run uses 8,000 training and 2,000 test images.
'''),
code('''
    let cifar = autocandle::datasets::cifar10(Some(&data_dir.join("cifar10")))?;
    let train = cifar.train.take(if quick { 1_000 } else { 8_000 });
    let test = cifar.test.take(if quick { 300 } else { 2_000 });
    println!("train: {:?}, test: {:?}", train.x.shape, test.x.shape);
    println!("classes: {:?}", train.class_names.clone().unwrap_or_default());
'''),
code('''
    train.preview(20)
'''),
md('''
## The search

`time_limit` is the wall-clock budget of the whole search, final fit included. The tuner
(network morphism, `ImageClassifier`'s default) takes its initial configurations in order; by default a plain convolutional network comes first
(a ResNet costs several times its time per epoch on a CPU), so here the list is rotated to put the
ResNet (and the Xception-style network) first.
'''),
code('''
    let mut clf = ImageClassifier::new(SearchConfig {
        max_trials: 4,
        time_limit: Some(std::time::Duration::from_secs(if quick { 60 } else { 420 })),
        epochs: if quick { 1 } else { 6 },
        seed: 1,
        directory: projects.clone(),
        project_name: "cifar10".into(),
        overwrite: true,
        ..Default::default()
    });
    clf.auto_model.initial_hps.rotate_left(2);
    for (i, hp) in clf.auto_model.initial_hps.iter().enumerate() {
        println!("initial configuration {i}: {}", hp["image_block_1/block_type"]);
    };
'''),
code('''
    let result = clf.fit(&train, None)?.clone();
'''),
code('''
    result
'''),
code('''
    result.plot_trials()
'''),
code('''
    result.plot_learning_curves()
'''),
md('''
## The model it found

Its summary (the residual blocks' layers are nested under them: collapse or filter them), its
accuracy on the test images, and the confusion matrix.
'''),
code('''
    let model = clf.export_model()?;
    model.summary()?
'''),
code('''
    let metrics = model.evaluate(&test)?;
    println!("test loss {:.4}, test accuracy {:.4}", metrics.loss, metrics.accuracy.unwrap_or(f64::NAN));
    let matrix = model.confusion_matrix(&test)?;
    matrix
'''),
code('''
    model.prediction_grid(&test, 20)?
'''),
md('''
Cats and dogs, and the vehicles among themselves, are the usual confusions. A longer budget
(`time_limit` of 30 minutes and `epochs: 20` on all 50,000 images reaches about 0.80 test
accuracy on a 2-core CPU; see BENCHMARKS.md) lets the search train more and try more networks.
'''),
]
notebook(cells, "cifar10")
