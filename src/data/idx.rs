//! IDX files, the format of MNIST and Fashion-MNIST, raw or gzip-compressed.
//!
//! An IDX file is a big-endian header (magic number `0x0000TTDD`: `TT` the value type, `DD` the
//! number of dimensions; then one `u32` per dimension) followed by the values.

use std::io::{self, Read};
use std::path::Path;

use super::dataset::ImageData;
use super::read::{at_end, fill, open_maybe_gzip, read_error, truncated_trailer};
use crate::error::{Error, Result};

/// Magic number of an IDX file of `u8` images: `[n, rows, cols]`.
pub const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of `u8` labels: `[n]`.
pub const IDX_LABELS_MAGIC: u32 = 0x0000_0801;

/// Reads an IDX file of `u8` images (magic `0x00000803`), raw or gzip, as
/// [`ImageData`] of shape `[n, rows, cols, 1]`.
///
/// Errors: [`Error::Format`] for another magic number, [`Error::Truncated`] when the file (or its
/// gzip stream) holds fewer bytes than its header announces, [`Error::DataNotFound`] when it does
/// not exist.
///
/// ```no_run
/// let x = autocandle::data::read_idx_images("mnist/train-images-idx3-ubyte.gz")?;
/// assert_eq!(x.shape, [60_000, 28, 28, 1]);
/// # Ok::<(), autocandle::Error>(())
/// ```
pub fn read_idx_images(path: impl AsRef<Path>) -> Result<ImageData> {
    let path = path.as_ref();
    let (dims, values) = read_idx(path, IDX_IMAGES_MAGIC)?;
    if dims[1] == 0 || dims[2] == 0 {
        return Err(Error::Format {
            path: path.to_path_buf(),
            format: "IDX",
            detail: format!(
                "the header announces images of {} x {} pixels",
                dims[1], dims[2]
            ),
        });
    }
    ImageData::from_u8(values, &[dims[0], dims[1], dims[2], 1])
}

/// Reads an IDX file of `u8` labels (magic `0x00000801`), raw or gzip.
///
/// Errors as for [`read_idx_images`].
pub fn read_idx_labels(path: impl AsRef<Path>) -> Result<Vec<i64>> {
    let (_, values) = read_idx(path.as_ref(), IDX_LABELS_MAGIC)?;
    Ok(values.into_iter().map(i64::from).collect())
}

/// What a magic number means, for error messages.
fn describe(magic: u32) -> String {
    match magic {
        IDX_IMAGES_MAGIC => "an IDX file of u8 images".into(),
        IDX_LABELS_MAGIC => "an IDX file of u8 labels".into(),
        m if m >> 16 == 0 => format!(
            "an IDX file of value type 0x{:02x} with {} dimensions",
            (m >> 8) & 0xff,
            m & 0xff
        ),
        _ => "not an IDX file at all".into(),
    }
}

/// Reads the header and values of an IDX file with the given magic number.
fn read_idx(path: &Path, magic: u32) -> Result<(Vec<usize>, Vec<u8>)> {
    let mut src = open_maybe_gzip(path, "IDX file")?;
    let ndims = (magic & 0xff) as usize;
    let header_len = 4 + 4 * ndims;
    let mut header = vec![0u8; header_len];
    let n = fill(&mut src.reader, &mut header).map_err(|e| read_error(path, src.gzip, e))?;
    let truncated = |found: usize, expected: usize| Error::Truncated {
        path: path.to_path_buf(),
        expected: expected as u64,
        found: found as u64,
    };
    if n < 4 {
        return Err(truncated(n, header_len));
    }
    let found_magic = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    if found_magic != magic {
        return Err(Error::Format {
            path: path.to_path_buf(),
            format: "IDX",
            detail: format!(
                "magic number 0x{found_magic:08x} ({}), expected 0x{magic:08x} ({})",
                describe(found_magic),
                describe(magic)
            ),
        });
    }
    if n < header_len {
        return Err(truncated(n, header_len));
    }
    let dims: Vec<usize> = header[4..]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let total = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::Format {
            path: path.to_path_buf(),
            format: "IDX",
            detail: format!("the header announces impossible dimensions {dims:?}"),
        })?;

    // Grow the buffer as bytes arrive rather than trusting the header with one huge allocation.
    let mut values = Vec::with_capacity(total.min(1 << 28));
    match (&mut src.reader)
        .take(total as u64)
        .read_to_end(&mut values)
    {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {}
        Err(e) => return Err(read_error(path, src.gzip, e)),
    }
    if values.len() < total {
        return Err(truncated(header_len + values.len(), header_len + total));
    }
    match at_end(&mut src.reader) {
        Ok(true) => Ok((dims, values)),
        Ok(false) => Err(Error::Format {
            path: path.to_path_buf(),
            format: "IDX",
            detail: format!(
                "the file holds more than the {} bytes its header announces (dimensions {dims:?})",
                header_len + total
            ),
        }),
        Err(None) => Err(truncated_trailer(path)),
        Err(Some(e)) => Err(read_error(path, src.gzip, e)),
    }
}
