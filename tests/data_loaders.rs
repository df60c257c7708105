//! Dataset loaders against the real datasets in `../shared/data` (or `$AUTOCANDLE_DATA`), and
//! their errors on damaged or missing files. No network is used.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use autocandle::data::{datasets, read_idx_images, read_idx_labels, ImageDataset, Pixels, Targets};
use autocandle::Error;

/// The shared data folder.
fn data_dir() -> PathBuf {
    std::env::var_os("AUTOCANDLE_DATA")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data")))
}

fn mnist_file(name: &str) -> PathBuf {
    data_dir().join("mnist").join(name)
}

fn cifar_tarball() -> PathBuf {
    data_dir().join("cifar10").join("cifar-10-binary.tar.gz")
}

fn pixels(ds: &ImageDataset) -> &[u8] {
    match &ds.x.pixels {
        Pixels::U8(v) => v,
        Pixels::F32(_) => panic!("expected u8 pixels"),
    }
}

fn int_targets(ds: &ImageDataset) -> &[i64] {
    match &ds.y {
        Targets::Int(v) => v,
        other => panic!(
            "expected integer targets, got {:?}",
            std::mem::discriminant(other)
        ),
    }
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Deterministic bytes that gzip cannot shrink much.
fn noise(n: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 56) as u8
        })
        .collect()
}

/// The error of `result`, which must be `Err`.
fn error<T>(result: autocandle::Result<T>) -> Error {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

/// Asserts that `err` is the variant `$pat` and that its message names `$name`.
macro_rules! assert_error {
    ($err:expr, $pat:pat, $name:expr) => {{
        let err: &Error = &$err;
        assert!(matches!(err, $pat), "wrong variant: {err:?}");
        let name = $name.to_string();
        assert!(
            err.to_string().contains(&name),
            "message {:?} does not name {name:?}",
            err.to_string()
        );
    }};
}

#[test]
fn mnist_from_shared_data() {
    let start = Instant::now();
    let m = datasets::mnist(Some(&data_dir().join("mnist"))).unwrap();
    eprintln!("MNIST loaded in {:?}", start.elapsed());
    assert_eq!(m.train.x.shape, [60_000, 28, 28, 1]);
    assert_eq!(m.test.x.shape, [10_000, 28, 28, 1]);
    let (train, test) = (int_targets(&m.train), int_targets(&m.test));
    assert_eq!((train.len(), test.len()), (60_000, 10_000));
    assert_eq!((train[0], test[0]), (5, 7));
    assert!(train.iter().chain(test).all(|y| (0..10).contains(y)));
    for digit in 0..10 {
        assert!(train.contains(&digit) && test.contains(&digit));
    }
    assert_eq!(pixels(&m.train).iter().max(), Some(&255));
    // The low-level readers agree with the split.
    assert_eq!(
        read_idx_labels(mnist_file("t10k-labels-idx1-ubyte.gz")).unwrap(),
        test
    );
    assert!(read_idx_images(mnist_file("t10k-images-idx3-ubyte.gz")).unwrap() == m.test.x);
}

#[test]
fn mnist_reads_raw_idx_files_too() {
    let tmp = tempfile::tempdir().unwrap();
    for name in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        std::fs::write(
            tmp.path().join(name),
            gunzip(&mnist_file(&format!("{name}.gz"))),
        )
        .unwrap();
    }
    let m = datasets::mnist(Some(tmp.path())).unwrap();
    assert_eq!(m.train.len(), 60_000);
    assert_eq!(int_targets(&m.test)[0], 7);
}

#[test]
fn cifar10_from_tarball_and_extracted_folder() {
    let start = Instant::now();
    let c = datasets::cifar10(Some(&cifar_tarball())).unwrap();
    eprintln!("CIFAR-10 loaded from the archive in {:?}", start.elapsed());
    assert_eq!(c.train.x.shape, [50_000, 32, 32, 3]);
    assert_eq!(c.test.x.shape, [10_000, 32, 32, 3]);
    let names = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ];
    assert_eq!(
        c.train.class_names.as_deref(),
        Some(&names.map(String::from)[..])
    );
    assert_eq!(c.test.class_names, c.train.class_names);
    let (train, test) = (int_targets(&c.train), int_targets(&c.test));
    assert_eq!(train[0], 6, "the first training image is a frog");
    for class in 0..10 {
        assert_eq!(train.iter().filter(|&&y| y == class).count(), 5_000);
        assert_eq!(test.iter().filter(|&&y| y == class).count(), 1_000);
    }

    let tmp = tempfile::tempdir().unwrap();
    let archive = flate2::read::GzDecoder::new(std::fs::File::open(cifar_tarball()).unwrap());
    tar::Archive::new(archive).unpack(tmp.path()).unwrap();
    let folder = tmp.path().join("cifar-10-batches-bin");

    // Pixels are converted from the records' RGB planes to HWC.
    let raw = std::fs::read(folder.join("data_batch_1.bin")).unwrap();
    let hwc = pixels(&c.train);
    for (row, col) in [(0, 0), (1, 2), (31, 31), (17, 5)] {
        let p = row * 32 + col;
        for ch in 0..3 {
            assert_eq!(
                hwc[p * 3 + ch],
                raw[1 + ch * 1024 + p],
                "pixel ({row}, {col}) channel {ch}"
            );
        }
    }
    let second = 3073 + 1 + 2 * 1024 + 40;
    assert_eq!(hwc[32 * 32 * 3 + 40 * 3 + 2], raw[second]);

    let start = Instant::now();
    let from_folder = datasets::cifar10(Some(&folder)).unwrap();
    eprintln!("CIFAR-10 loaded from the folder in {:?}", start.elapsed());
    let from_parent = datasets::cifar10(Some(tmp.path())).unwrap();
    for other in [&from_folder, &from_parent] {
        assert!(other.train == c.train, "train parts differ");
        assert!(other.test == c.test, "test parts differ");
    }
}

#[test]
fn digits_embedded_and_from_file() {
    let d = datasets::digits().unwrap();
    assert_eq!(d.x.shape, [1797, 8, 8, 1]);
    assert_eq!(d.len(), 1797);
    let y = int_targets(&d);
    assert_eq!(y[0], 0);
    assert!(y.iter().all(|v| (0..10).contains(v)));
    assert_eq!(pixels(&d).iter().max(), Some(&16));
    let from_file =
        datasets::digits_from(data_dir().join("sklearn").join("digits.csv.gz")).unwrap();
    assert!(from_file == d);

    // A plain CSV with a scikit-learn header line.
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("two.csv");
    let row = |v: u8, t: u8| format!("{},{t}\n", vec![v.to_string(); 64].join(","));
    std::fs::write(
        &path,
        format!("2,64,0,1,2,3,4,5,6,7,8,9\n{}{}", row(3, 1), row(16, 9)),
    )
    .unwrap();
    let two = datasets::digits_from(&path).unwrap();
    assert_eq!(int_targets(&two), [1, 9]);
    assert_eq!(pixels(&two)[0], 3);
    assert_eq!(pixels(&two)[64], 16);

    std::fs::write(&path, row(17, 1)).unwrap();
    assert_error!(
        error(datasets::digits_from(&path)),
        Error::Format { .. },
        "two.csv"
    );
}

#[test]
fn image_folder_round_trip_of_mnist_digits() {
    let images = read_idx_images(mnist_file("train-images-idx3-ubyte.gz")).unwrap();
    let labels = read_idx_labels(mnist_file("train-labels-idx1-ubyte.gz")).unwrap();
    let Pixels::U8(all) = &images.pixels else {
        panic!("expected u8 pixels")
    };
    let n = 25;
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..n {
        let dir = tmp.path().join(labels[i].to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let img = image::GrayImage::from_raw(28, 28, all[i * 784..(i + 1) * 784].to_vec()).unwrap();
        img.save(dir.join(format!("img_{i:03}.png"))).unwrap();
    }
    // Classes in sorted order, files in sorted order within each class.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (labels[i].to_string(), i));
    let mut classes: Vec<String> = order.iter().map(|&i| labels[i].to_string()).collect();
    classes.dedup();

    let ds = datasets::image_folder(tmp.path(), None).unwrap();
    assert_eq!(ds.x.shape, [n, 28, 28, 1]);
    let expected: Vec<u8> = order
        .iter()
        .flat_map(|&i| all[i * 784..(i + 1) * 784].iter().copied())
        .collect();
    assert!(pixels(&ds) == expected, "pixels differ");
    let Targets::Str(y) = &ds.y else {
        panic!("expected string targets")
    };
    assert_eq!(
        *y,
        order
            .iter()
            .map(|&i| labels[i].to_string())
            .collect::<Vec<_>>()
    );
    assert_eq!(ds.class_names, Some(classes));
}

#[test]
fn image_folder_converts_to_rgb_and_resizes() {
    let tmp = tempfile::tempdir().unwrap();
    for class in ["cat", "dog"] {
        std::fs::create_dir(tmp.path().join(class)).unwrap();
    }
    image::RgbImage::from_fn(12, 10, |x, y| image::Rgb([x as u8 * 20, y as u8 * 20, 200]))
        .save(tmp.path().join("cat").join("a.PNG"))
        .unwrap();
    image::GrayImage::from_pixel(8, 8, image::Luma([77]))
        .save(tmp.path().join("dog").join("b.jpg"))
        .unwrap();
    std::fs::write(tmp.path().join("dog").join("notes.txt"), "not an image").unwrap();

    let ds = datasets::image_folder(tmp.path(), Some((6, 5))).unwrap();
    assert_eq!(ds.x.shape, [2, 6, 5, 3]);
    assert_eq!(ds.y, Targets::from(vec!["cat", "dog"]));
    let grey = &pixels(&ds)[6 * 5 * 3..];
    assert!(
        grey.chunks(3).all(|p| p[0] == p[1] && p[1] == p[2]),
        "a grey image becomes r = g = b"
    );
    assert!(
        grey.iter().all(|&v| v.abs_diff(77) <= 2),
        "JPEG keeps a flat grey about flat"
    );
}

#[test]
fn truncated_idx_files() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = gunzip(&mnist_file("t10k-images-idx3-ubyte.gz"));
    assert_eq!(raw.len(), 16 + 10_000 * 784);

    let path = tmp.path().join("cut-raw-idx3-ubyte");
    std::fs::write(&path, &raw[..1000]).unwrap();
    let err = error(read_idx_images(&path));
    assert!(
        matches!(
            err,
            Error::Truncated {
                expected: 7_840_016,
                found: 1000,
                ..
            }
        ),
        "{err:?}"
    );
    assert_error!(err, Error::Truncated { .. }, "cut-raw-idx3-ubyte");

    let path = tmp.path().join("header-only");
    std::fs::write(&path, &raw[..10]).unwrap();
    assert_error!(
        error(read_idx_images(&path)),
        Error::Truncated {
            expected: 16,
            found: 10,
            ..
        },
        "header-only"
    );

    // A complete gzip stream of a short IDX payload.
    let path = tmp.path().join("short-payload.gz");
    std::fs::write(&path, gzip(&raw[..5000])).unwrap();
    assert_error!(
        error(read_idx_images(&path)),
        Error::Truncated { found: 5000, .. },
        "short-payload.gz"
    );

    // The official .gz file cut in half, and cut inside its 8-byte trailer.
    let gz = std::fs::read(mnist_file("t10k-images-idx3-ubyte.gz")).unwrap();
    let path = tmp.path().join("half.gz");
    std::fs::write(&path, &gz[..gz.len() / 2]).unwrap();
    assert_error!(
        error(read_idx_images(&path)),
        Error::Truncated { .. },
        "half.gz"
    );
    let path = tmp.path().join("no-trailer.gz");
    std::fs::write(&path, &gz[..gz.len() - 4]).unwrap();
    assert_error!(
        error(read_idx_images(&path)),
        Error::Truncated { .. },
        "no-trailer.gz"
    );

    let labels = gunzip(&mnist_file("t10k-labels-idx1-ubyte.gz"));
    let path = tmp.path().join("labels-cut");
    std::fs::write(&path, &labels[..labels.len() - 1]).unwrap();
    assert_error!(
        error(read_idx_labels(&path)),
        Error::Truncated {
            expected: 10_008,
            found: 10_007,
            ..
        },
        "labels-cut"
    );
}

#[test]
fn bad_idx_magic() {
    let tmp = tempfile::tempdir().unwrap();
    // A label file where images are expected, and the other way round.
    assert_error!(
        error(read_idx_images(mnist_file("t10k-labels-idx1-ubyte.gz"))),
        Error::Format { .. },
        "t10k-labels-idx1-ubyte.gz"
    );
    assert_error!(
        error(read_idx_labels(mnist_file("t10k-images-idx3-ubyte.gz"))),
        Error::Format { .. },
        "t10k-images-idx3-ubyte.gz"
    );
    let path = tmp.path().join("not-idx.bin");
    std::fs::write(&path, b"PK\x03\x04 definitely not an IDX file").unwrap();
    assert_error!(
        error(read_idx_images(&path)),
        Error::Format { .. },
        "not-idx.bin"
    );
}

#[test]
fn truncated_cifar_batch_file() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("cifar-10-batches-bin");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("data_batch_1.bin"), noise(3073 * 3 + 100)).unwrap();
    assert_error!(
        error(datasets::cifar10(Some(tmp.path()))),
        Error::Truncated {
            expected: 12_292,
            found: 9_319,
            ..
        },
        "data_batch_1.bin"
    );
}

#[test]
fn truncated_cifar_archive_member() {
    let tmp = tempfile::tempdir().unwrap();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let data = noise(3073 * 200);
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    builder
        .append_data(
            &mut header,
            "cifar-10-batches-bin/data_batch_1.bin",
            &data[..],
        )
        .unwrap();
    let gz = builder.into_inner().unwrap().finish().unwrap();
    let path = tmp.path().join("cifar-10-binary.tar.gz");
    std::fs::write(&path, &gz[..gz.len() * 3 / 5]).unwrap();
    let err = error(datasets::cifar10(Some(&path)));
    assert_error!(
        err,
        Error::Truncated {
            expected: 614_600,
            ..
        },
        "data_batch_1.bin"
    );
    assert!(err.to_string().contains("cifar-10-binary.tar.gz"), "{err}");
}

#[test]
fn missing_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-such-dataset");
    assert_error!(
        error(datasets::mnist(Some(&missing))),
        Error::DataNotFound { .. },
        "no-such-dataset"
    );
    assert_error!(
        error(datasets::fashion_mnist(Some(&missing))),
        Error::DataNotFound { .. },
        "no-such-dataset"
    );
    assert_error!(
        error(datasets::cifar10(Some(&missing))),
        Error::DataNotFound { .. },
        "no-such-dataset"
    );
    assert_error!(
        error(datasets::image_folder(&missing, None)),
        Error::DataNotFound { .. },
        "no-such-dataset"
    );
    assert_error!(
        error(datasets::digits_from(&missing)),
        Error::DataNotFound { .. },
        "no-such-dataset"
    );
    assert_error!(
        error(read_idx_images(&missing)),
        Error::DataNotFound { .. },
        "no-such-dataset"
    );
    // A folder without the expected files names the first one missing.
    assert_error!(
        error(datasets::mnist(Some(tmp.path()))),
        Error::DataNotFound { .. },
        "train-images-idx3-ubyte"
    );
    assert_error!(
        error(datasets::cifar10(Some(tmp.path()))),
        Error::DataNotFound { .. },
        "cifar-10-binary.tar.gz"
    );
}

#[test]
fn empty_image_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("photos");
    std::fs::create_dir(&dir).unwrap();
    assert_error!(
        error(datasets::image_folder(&dir, None)),
        Error::EmptyDataset(_),
        "photos"
    );
    std::fs::create_dir(dir.join("cats")).unwrap();
    std::fs::write(dir.join("cats").join("readme.txt"), "no images here").unwrap();
    assert_error!(
        error(datasets::image_folder(&dir, None)),
        Error::EmptyDataset(_),
        "photos"
    );
}

#[test]
fn image_folder_mixed_sizes_need_an_image_size() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a");
    std::fs::create_dir(&dir).unwrap();
    image::GrayImage::new(4, 4).save(dir.join("1.png")).unwrap();
    image::GrayImage::new(5, 4).save(dir.join("2.png")).unwrap();
    let err = error(datasets::image_folder(tmp.path(), None));
    assert_error!(err, Error::BadShape(_), "2.png");
    assert!(err.to_string().contains("image size"), "{err}");
    let ds = datasets::image_folder(tmp.path(), Some((4, 4))).unwrap();
    assert_eq!(ds.x.shape, [2, 4, 4, 1]);
}
