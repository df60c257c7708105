//! Images sorted into one sub-folder per class (`dir/cat/001.png`, `dir/dog/x.jpg`, ...).

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, RgbImage};
use rayon::prelude::*;

use super::dataset::{ImageData, ImageDataset, Targets};
use crate::error::{Error, Result};

/// File extensions read, compared case-insensitively.
const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// The class names and the image files, each with its class index.
type Listing = (Vec<String>, Vec<(PathBuf, usize)>);

/// One decoded image: grey images stay one channel until a colour image forces RGB.
enum Decoded {
    Grey(GrayImage),
    Rgb(RgbImage),
}

impl Decoded {
    fn size(&self) -> (usize, usize) {
        let (w, h) = match self {
            Decoded::Grey(i) => i.dimensions(),
            Decoded::Rgb(i) => i.dimensions(),
        };
        (h as usize, w as usize)
    }
}

/// Loads the images under `dir`, one sub-folder per class; see
/// [`datasets::image_folder`](super::datasets::image_folder).
pub(crate) fn load(dir: &Path, image_size: Option<(usize, usize)>) -> Result<ImageDataset> {
    let target_size = image_size.map(check_size).transpose()?;
    let (class_names, files) = list(dir)?;
    let decoded: Vec<Result<Decoded>> = files
        .par_iter()
        .map(|(path, _)| decode(path, target_size))
        .collect();
    let images = decoded.into_iter().collect::<Result<Vec<_>>>()?;

    let (h, w) = images[0].size();
    if let Some(i) = images.iter().position(|im| im.size() != (h, w)) {
        let (h2, w2) = images[i].size();
        return Err(Error::BadShape(format!(
            "{} is {h2}x{w2} (height x width) but {} is {h}x{w}: the images differ in size; \
             pass an image size, e.g. image_folder(dir, Some(({h}, {w}))), to resize them all",
            files[i].0.display(),
            files[0].0.display()
        )));
    }
    let grey = images.iter().all(|im| matches!(im, Decoded::Grey(_)));
    let channels = if grey { 1 } else { 3 };
    let mut pixels = Vec::with_capacity(images.len() * h * w * channels);
    for im in &images {
        match im {
            Decoded::Grey(g) if grey => pixels.extend_from_slice(g.as_raw()),
            Decoded::Grey(g) => pixels.extend(g.as_raw().iter().flat_map(|&v| [v, v, v])),
            Decoded::Rgb(c) => pixels.extend_from_slice(c.as_raw()),
        }
    }
    let x = ImageData::from_u8(pixels, &[images.len(), h, w, channels])?;
    let y = Targets::Str(
        files
            .into_iter()
            .map(|(_, class)| class_names[class].clone())
            .collect(),
    );
    let mut ds = ImageDataset::new(x, y)?;
    ds.class_names = Some(class_names);
    Ok(ds)
}

/// Checks a requested `(height, width)` and turns it into `u32`s.
fn check_size((h, w): (usize, usize)) -> Result<(u32, u32)> {
    match (u32::try_from(h), u32::try_from(w)) {
        (Ok(h), Ok(w)) if h > 0 && w > 0 => Ok((h, w)),
        _ => Err(Error::BadShape(format!(
            "image_size must be a positive (height, width), got ({h}, {w})"
        ))),
    }
}

/// The class names (sorted sub-folder names holding at least one image) and the image files,
/// sorted, each with its class index.
fn list(dir: &Path) -> Result<Listing> {
    if !dir.is_dir() {
        return Err(Error::DataNotFound {
            what: "image folder".into(),
            path: dir.to_path_buf(),
            hint: "give a folder holding one sub-folder of images per class".into(),
        });
    }
    let mut classes: Vec<(String, PathBuf)> = Vec::new();
    for entry in read_dir(dir)? {
        if !entry.is_dir() {
            continue;
        }
        let Some(name) = entry.file_name().and_then(|n| n.to_str()) else {
            return Err(Error::Format {
                path: entry.clone(),
                format: "image folder",
                detail: "the class folder's name is not valid UTF-8; rename it".into(),
            });
        };
        if !name.starts_with('.') {
            classes.push((name.to_string(), entry.clone()));
        }
    }
    if classes.is_empty() {
        return Err(Error::EmptyDataset(format!(
            "{} has no class sub-folders: put the images of each class into a sub-folder named after the class",
            dir.display()
        )));
    }
    classes.sort();
    let mut names = Vec::new();
    let mut files = Vec::new();
    for (name, path) in classes {
        let mut images: Vec<PathBuf> = read_dir(&path)?
            .into_iter()
            .filter(|p| p.is_file() && is_image(p))
            .collect();
        if images.is_empty() {
            continue;
        }
        images.sort();
        files.extend(images.into_iter().map(|p| (p, names.len())));
        names.push(name);
    }
    if files.is_empty() {
        return Err(Error::EmptyDataset(format!(
            "the class sub-folders of {} hold no PNG or JPEG image (.png, .jpg, .jpeg)",
            dir.display()
        )));
    }
    Ok((names, files))
}

/// The paths of the entries of `dir`.
fn read_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    entries
        .map(|e| e.map(|e| e.path()).map_err(|err| Error::io(dir, err)))
        .collect()
}

/// Whether `path` has an image extension.
fn is_image(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(ext))
}

/// Decodes one image (its format guessed from its content), resized when `size` is given.
fn decode(path: &Path, size: Option<(u32, u32)>) -> Result<Decoded> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |detail: String| Error::Image {
        path: path.to_path_buf(),
        detail,
    };
    let img: DynamicImage = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| bad(e.to_string()))?
        .decode()
        .map_err(|e| bad(format!("{e}; only PNG and JPEG are supported")))?;
    let grey = !img.color().has_color();
    let img = match size {
        Some((h, w)) if img.height() != h || img.width() != w => {
            img.resize_exact(w, h, FilterType::Triangle)
        }
        _ => img,
    };
    Ok(if grey {
        Decoded::Grey(img.to_luma8())
    } else {
        Decoded::Rgb(img.to_rgb8())
    })
}
