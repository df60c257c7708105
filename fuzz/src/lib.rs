//! Helpers shared by the fuzz targets: an allocator that refuses allocations over 2 GiB (so
//! that an input making a loader trust a size from its header is a finding even when the
//! system would overcommit), and a per-process scratch folder in `/dev/shm` for loaders that
//! only take a path.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};

/// Largest single allocation allowed: 2 GiB.
pub const MAX_ALLOCATION: usize = 2 << 30;

/// The system allocator, aborting on any allocation larger than [`MAX_ALLOCATION`].
pub struct LimitedAlloc;

unsafe impl GlobalAlloc for LimitedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        check(new_size);
        System.realloc(ptr, layout, new_size)
    }
}

fn check(size: usize) {
    if size > MAX_ALLOCATION {
        // No allocation may happen here: write the message by hand and abort (a crash for
        // libFuzzer, with the input saved).
        let msg = b"autocandle-fuzz: allocation over 2 GiB\n";
        unsafe {
            libc_write(msg);
        }
        std::process::abort();
    }
}

unsafe fn libc_write(msg: &[u8]) {
    extern "C" {
        fn write(fd: i32, buf: *const u8, count: usize) -> isize;
    }
    write(2, msg.as_ptr(), msg.len());
}

#[global_allocator]
static GLOBAL: LimitedAlloc = LimitedAlloc;

/// A scratch folder of this process, `/dev/shm/autocandle-fuzz-<pid>/<name>` (the system's
/// temp folder when `/dev/shm` is missing), created empty.
pub fn scratch(name: &str) -> PathBuf {
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base
        .join(format!("autocandle-fuzz-{}", std::process::id()))
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// Writes `bytes` to `path` (the harness's own file: a failure is the machine's, not a finding).
pub fn put(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("scratch file");
}

/// Splits `data` at each `sep` into at most `n` parts (the last one takes the rest), padding
/// with empty parts.
pub fn split_parts<'a>(data: &'a [u8], sep: &[u8], n: usize) -> Vec<&'a [u8]> {
    let mut parts = Vec::with_capacity(n);
    let mut rest = data;
    while parts.len() + 1 < n {
        match rest.windows(sep.len()).position(|w| w == sep) {
            Some(i) => {
                parts.push(&rest[..i]);
                rest = &rest[i + sep.len()..];
            }
            None => break,
        }
    }
    parts.push(rest);
    while parts.len() < n {
        parts.push(&[]);
    }
    parts
}
