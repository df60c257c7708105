//! In-memory image datasets, with the checks every loader and every user-supplied array goes through.

use crate::error::{Error, Result};

/// Pixel storage: raw bytes (0..=255) or floats in any scale.
#[derive(Debug, Clone, PartialEq)]
pub enum Pixels {
    /// Bytes, as decoded from image files; the network sees them as `f32` values 0..=255.
    U8(Vec<u8>),
    /// Floats, as the user supplied them.
    F32(Vec<f32>),
}

impl Pixels {
    /// Number of scalar values.
    pub fn len(&self) -> usize {
        match self {
            Pixels::U8(v) => v.len(),
            Pixels::F32(v) => v.len(),
        }
    }

    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at flat index `i` as `f32`.
    #[inline]
    pub fn get(&self, i: usize) -> f32 {
        match self {
            Pixels::U8(v) => v[i] as f32,
            Pixels::F32(v) => v[i],
        }
    }

    /// Copies the values `range` into `out` as `f32`.
    pub fn copy_range_into(&self, start: usize, out: &mut [f32]) {
        match self {
            Pixels::U8(v) => {
                let n = out.len();
                for (o, &p) in out.iter_mut().zip(&v[start..start + n]) {
                    *o = p as f32;
                }
            }
            Pixels::F32(v) => out.copy_from_slice(&v[start..start + out.len()]),
        }
    }
}

/// A batch of images in NHWC layout.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageData {
    /// The pixel values, `n * height * width * channels` of them, NHWC order.
    pub pixels: Pixels,
    /// `[n, height, width, channels]`.
    pub shape: [usize; 4],
}

impl ImageData {
    /// Images from bytes with shape `[n, h, w, c]` (or `[n, h, w]` for grey images).
    ///
    /// ```
    /// use autocandle::data::ImageData;
    /// let x = ImageData::from_u8(vec![0u8; 2 * 4 * 4], &[2, 4, 4]).unwrap();
    /// assert_eq!(x.shape, [2, 4, 4, 1]);
    /// ```
    pub fn from_u8(pixels: Vec<u8>, shape: &[usize]) -> Result<Self> {
        let shape = Self::check_shape(pixels.len(), shape)?;
        Ok(ImageData {
            pixels: Pixels::U8(pixels),
            shape,
        })
    }

    /// Images from floats with shape `[n, h, w, c]` (or `[n, h, w]` for grey images).
    /// Fails on NaN or infinity.
    pub fn from_f32(pixels: Vec<f32>, shape: &[usize]) -> Result<Self> {
        let shape = Self::check_shape(pixels.len(), shape)?;
        if let Some(index) = pixels.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite { what: "x", index });
        }
        Ok(ImageData {
            pixels: Pixels::F32(pixels),
            shape,
        })
    }

    /// Images from a candle tensor of rank 3 (`[n, h, w]`) or 4 (`[n, h, w, c]`), any float or
    /// `u8` dtype.
    pub fn from_tensor(t: &candle_core::Tensor) -> Result<Self> {
        let dims = t.dims().to_vec();
        if t.dtype() == candle_core::DType::U8 {
            let v = t.flatten_all()?.to_vec1::<u8>()?;
            return Self::from_u8(v, &dims);
        }
        let v = t
            .flatten_all()?
            .to_dtype(candle_core::DType::F32)?
            .to_vec1::<f32>()?;
        Self::from_f32(v, &dims)
    }

    fn check_shape(len: usize, shape: &[usize]) -> Result<[usize; 4]> {
        let shape = match shape {
            [n, h, w] => [*n, *h, *w, 1],
            [n, h, w, c] => [*n, *h, *w, *c],
            _ => {
                return Err(Error::BadShape(format!(
                    "images must have rank 3 [n, height, width] or 4 [n, height, width, channels], got rank {} {:?}",
                    shape.len(),
                    shape
                )))
            }
        };
        if shape[1] == 0 || shape[2] == 0 || shape[3] == 0 {
            return Err(Error::BadShape(format!(
                "image dimensions must be positive, got {shape:?}"
            )));
        }
        let expected: usize = shape.iter().product();
        if expected != len {
            return Err(Error::BadShape(format!(
                "shape {shape:?} needs {expected} values but {len} were given"
            )));
        }
        Ok(shape)
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.shape[0]
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.shape[0] == 0
    }

    /// Values per image (`h * w * c`).
    pub fn sample_size(&self) -> usize {
        self.shape[1] * self.shape[2] * self.shape[3]
    }

    /// `[h, w, c]`.
    pub fn image_shape(&self) -> [usize; 3] {
        [self.shape[1], self.shape[2], self.shape[3]]
    }

    /// A new `ImageData` holding the images at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> ImageData {
        let s = self.sample_size();
        let pixels = match &self.pixels {
            Pixels::U8(v) => {
                let mut out = Vec::with_capacity(indices.len() * s);
                for &i in indices {
                    out.extend_from_slice(&v[i * s..(i + 1) * s]);
                }
                Pixels::U8(out)
            }
            Pixels::F32(v) => {
                let mut out = Vec::with_capacity(indices.len() * s);
                for &i in indices {
                    out.extend_from_slice(&v[i * s..(i + 1) * s]);
                }
                Pixels::F32(out)
            }
        };
        ImageData {
            pixels,
            shape: [indices.len(), self.shape[1], self.shape[2], self.shape[3]],
        }
    }

    /// Concatenates two image sets of the same image shape.
    pub fn concat(&self, other: &ImageData) -> Result<ImageData> {
        if self.image_shape() != other.image_shape() {
            return Err(Error::BadShape(format!(
                "cannot join images of shape {:?} and {:?}",
                self.image_shape(),
                other.image_shape()
            )));
        }
        let pixels = match (&self.pixels, &other.pixels) {
            (Pixels::U8(a), Pixels::U8(b)) => Pixels::U8([a.as_slice(), b.as_slice()].concat()),
            (a, b) => {
                let mut out = Vec::with_capacity(a.len() + b.len());
                out.extend((0..a.len()).map(|i| a.get(i)));
                out.extend((0..b.len()).map(|i| b.get(i)));
                Pixels::F32(out)
            }
        };
        Ok(ImageData {
            pixels,
            shape: [
                self.len() + other.len(),
                self.shape[1],
                self.shape[2],
                self.shape[3],
            ],
        })
    }
}

/// Targets of a supervised task.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// Integer class labels (any integers; they are encoded to 0..k internally).
    Int(Vec<i64>),
    /// String class labels.
    Str(Vec<String>),
    /// Real-valued targets, `dim` per sample (row-major).
    Float { values: Vec<f32>, dim: usize },
}

impl Targets {
    /// Number of samples.
    pub fn len(&self) -> usize {
        match self {
            Targets::Int(v) => v.len(),
            Targets::Str(v) => v.len(),
            Targets::Float { values, dim } => values.len() / (*dim).max(1),
        }
    }

    /// True when there are no targets.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The targets at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Targets {
        match self {
            Targets::Int(v) => Targets::Int(indices.iter().map(|&i| v[i]).collect()),
            Targets::Str(v) => Targets::Str(indices.iter().map(|&i| v[i].clone()).collect()),
            Targets::Float { values, dim } => Targets::Float {
                values: indices
                    .iter()
                    .flat_map(|&i| values[i * dim..(i + 1) * dim].iter().copied())
                    .collect(),
                dim: *dim,
            },
        }
    }

    /// Concatenates two target lists of the same kind.
    pub fn concat(&self, other: &Targets) -> Result<Targets> {
        Ok(match (self, other) {
            (Targets::Int(a), Targets::Int(b)) => {
                Targets::Int([a.as_slice(), b.as_slice()].concat())
            }
            (Targets::Str(a), Targets::Str(b)) => {
                Targets::Str([a.as_slice(), b.as_slice()].concat())
            }
            (Targets::Float { values: a, dim: da }, Targets::Float { values: b, dim: db })
                if da == db =>
            {
                Targets::Float {
                    values: [a.as_slice(), b.as_slice()].concat(),
                    dim: *da,
                }
            }
            _ => {
                return Err(Error::Config(
                    "cannot join targets of different kinds".into(),
                ))
            }
        })
    }
}

impl From<Vec<i64>> for Targets {
    fn from(v: Vec<i64>) -> Self {
        Targets::Int(v)
    }
}
impl From<Vec<u8>> for Targets {
    fn from(v: Vec<u8>) -> Self {
        Targets::Int(v.into_iter().map(i64::from).collect())
    }
}
impl From<Vec<String>> for Targets {
    fn from(v: Vec<String>) -> Self {
        Targets::Str(v)
    }
}
impl From<Vec<&str>> for Targets {
    fn from(v: Vec<&str>) -> Self {
        Targets::Str(v.into_iter().map(String::from).collect())
    }
}
impl From<Vec<f32>> for Targets {
    fn from(v: Vec<f32>) -> Self {
        Targets::Float { values: v, dim: 1 }
    }
}

/// Images with their targets.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageDataset {
    /// The images.
    pub x: ImageData,
    /// One target per image.
    pub y: Targets,
    /// Names of the classes, indexed by integer label, when the source defines them
    /// (CIFAR-10's `batches.meta.txt`, an image folder's sub-folders).
    pub class_names: Option<Vec<String>>,
}

impl ImageDataset {
    /// Pairs images with targets, checking that the counts agree and that there is data.
    pub fn new(x: ImageData, y: impl Into<Targets>) -> Result<Self> {
        let y = y.into();
        if x.len() != y.len() {
            return Err(Error::LengthMismatch {
                x: x.len(),
                y: y.len(),
            });
        }
        if x.is_empty() {
            return Err(Error::EmptyDataset("no images were given".into()));
        }
        if let Targets::Float { values, .. } = &y {
            if let Some(index) = values.iter().position(|v| !v.is_finite()) {
                return Err(Error::NonFinite { what: "y", index });
            }
        }
        Ok(ImageDataset {
            x,
            y,
            class_names: None,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// The samples at `indices`.
    pub fn select(&self, indices: &[usize]) -> ImageDataset {
        ImageDataset {
            x: self.x.select(indices),
            y: self.y.select(indices),
            class_names: self.class_names.clone(),
        }
    }

    /// The first `n` samples (all of them when `n >= len`).
    pub fn take(&self, n: usize) -> ImageDataset {
        let idx: Vec<usize> = (0..n.min(self.len())).collect();
        self.select(&idx)
    }
}

/// A dataset's official train and test parts.
#[derive(Debug, Clone)]
pub struct Split {
    /// Training part.
    pub train: ImageDataset,
    /// Test part.
    pub test: ImageDataset,
}
