//! Reading helpers shared by the loaders: opening a file with an error that names it,
//! transparent gzip (detected by the magic bytes `1f 8b`), and reads that tell a file cut short
//! apart from other I/O errors.

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read};
use std::path::Path;

use crate::error::{Error, Result};

/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// True when `bytes` starts like a gzip stream.
pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// Opens `path` for reading; a missing file is [`Error::DataNotFound`] describing `what` it
/// should have held.
pub(crate) fn open(path: &Path, what: &str) -> Result<File> {
    File::open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            Error::DataNotFound {
                what: what.to_string(),
                path: path.to_path_buf(),
                hint: "check the path (the file does not exist)".into(),
            }
        } else {
            Error::io(path, e)
        }
    })
}

/// The whole content of `path` as it is on disk; a missing file is [`Error::DataNotFound`].
pub(crate) fn read_file(path: &Path, what: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open(path, what)?
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    Ok(bytes)
}

/// The length of the file at `path` in bytes.
pub(crate) fn file_len(path: &Path) -> Result<u64> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| Error::io(path, e))
}

/// A file opened for reading, decompressed on the fly when it is gzip.
pub(crate) struct Source {
    /// The (decompressed) byte stream.
    pub reader: Box<dyn Read + Send>,
    /// Whether the file is gzip-compressed.
    pub gzip: bool,
}

/// Opens `path`, looking at its first two bytes to decide whether it is gzip.
pub(crate) fn open_maybe_gzip(path: &Path, what: &str) -> Result<Source> {
    let mut file = open(path, what)?;
    let mut head = [0u8; 2];
    let n = fill(&mut file, &mut head).map_err(|e| Error::io(path, e))?;
    let raw = BufReader::with_capacity(1 << 16, Cursor::new(head[..n].to_vec()).chain(file));
    let gzip = is_gzip(&head[..n]);
    let reader: Box<dyn Read + Send> = if gzip {
        Box::new(flate2::read::GzDecoder::new(raw))
    } else {
        Box::new(raw)
    };
    Ok(Source { reader, gzip })
}

/// Reads into `buf` until it is full or the stream ends; returns the number of bytes read.
///
/// An [`io::ErrorKind::UnexpectedEof`] (what a gzip stream cut short reports) counts as the end
/// of the stream, so that callers see a short count and report truncation.
pub(crate) fn fill(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match r.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Whether the stream has no byte left. For a gzip stream this also reads (and so checks) its
/// trailer: `Ok(true)` only once the trailer was read and its checksum matched.
///
/// Returns `Err(None)` when a gzip stream ends inside its trailer (the file was cut short) and
/// `Err(Some(e))` on any other error.
pub(crate) fn at_end(r: &mut dyn Read) -> std::result::Result<bool, Option<io::Error>> {
    let mut one = [0u8; 1];
    loop {
        match r.read(&mut one) {
            Ok(n) => return Ok(n == 0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Err(None),
            Err(e) => return Err(Some(e)),
        }
    }
}

/// Maps an error met while reading `path`: corrupt compressed data becomes [`Error::Format`],
/// anything else [`Error::Io`].
pub(crate) fn read_error(path: &Path, gzip: bool, e: io::Error) -> Error {
    let corrupt = matches!(
        e.kind(),
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData
    );
    if gzip && corrupt {
        Error::Format {
            path: path.to_path_buf(),
            format: "gzip",
            detail: format!("{e}; the file is damaged, download it again"),
        }
    } else {
        Error::io(path, e)
    }
}

/// The error for a gzip stream whose data is complete but whose trailer is cut off: the
/// compressed file is at least one byte too short.
pub(crate) fn truncated_trailer(path: &Path) -> Error {
    match file_len(path) {
        Ok(len) => Error::Truncated {
            path: path.to_path_buf(),
            expected: len + 1,
            found: len,
        },
        Err(e) => e,
    }
}

/// Decompresses `bytes` when they are gzip (else returns them as they are); `path` names them
/// in errors.
pub(crate) fn gunzip_bytes(bytes: &[u8], path: &Path) -> Result<Vec<u8>> {
    if !is_gzip(bytes) {
        return Ok(bytes.to_vec());
    }
    let mut out = Vec::new();
    match flate2::read::GzDecoder::new(bytes).read_to_end(&mut out) {
        Ok(_) => Ok(out),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(Error::Truncated {
            path: path.to_path_buf(),
            expected: bytes.len() as u64 + 1,
            found: bytes.len() as u64,
        }),
        Err(e) => Err(read_error(path, true, e)),
    }
}

/// The sha256 of `bytes`, as lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(bytes))
}

/// The sha256 of the file at `path`, as lowercase hex, reading it in pieces.
pub(crate) fn sha256_file(path: &Path) -> Result<String> {
    use sha2::Digest;
    let mut file = open(path, "file to checksum")?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    Ok(hex(&hasher.finalize()))
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
