//! The memory allocator of autocandle's programs: mimalloc, set up for training.
//!
//! The `autocandle` command and the examples use mimalloc as their global allocator (candle
//! allocates a fresh buffer for every operation, and mimalloc serves those from memory it already
//! holds). Two of its defaults are changed, both measured in BENCHMARKS.md ("Search overhead on
//! CIFAR-10"):
//!
//! - **No transparent huge pages are asked for** (mimalloc's `no_thp` feature, set in
//!   `Cargo.toml`, so it covers the memory mimalloc reserves before `main` too). On a virtual
//!   machine that hands free memory back to its host, fresh 2 MB pages cost about five times
//!   what fresh 4 KB pages do: building a 151 M-parameter network took about 1 s instead of
//!   0.4 s.
//! - **Freed memory is kept for reuse** ([`set_up_for_training`]: mimalloc's purge delay -1),
//!   instead of being returned to the system some time after it is freed. Training allocates the
//!   same large buffers batch after batch; kept memory needs no new page faults, which is what
//!   makes small pages as fast as huge ones for training (and a little faster).
//!
//! Setting `MIMALLOC_PURGE_DELAY` in the environment overrides the second; the feature also
//! applies to a program of yours that links autocandle and uses mimalloc.

/// mimalloc's `mi_option_purge_delay` (its index in `mi_option_e`, the same in mimalloc 2 and 3;
/// `libmimalloc-sys` does not export the option constants).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps the memory that mimalloc frees for reuse instead of returning it to the system. Call it
/// first thing in `main` of a program whose global allocator is mimalloc (before threads start:
/// mimalloc's options are not thread-safe to set). Does nothing when `MIMALLOC_PURGE_DELAY` is
/// set, which then wins.
///
/// ```
/// #[global_allocator]
/// static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
///
/// fn main() {
///     autocandle::allocator::set_up_for_training();
///     // ... search, train, predict
/// }
/// ```
pub fn set_up_for_training() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one integer option; it takes any value (negative: never purge).
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) }
    }
}

/// mimalloc's purge delay now, in milliseconds (-1: freed memory is never returned).
// `c_long` is 64 bits here but 32 on Windows.
#[allow(clippy::useless_conversion)]
pub fn purge_delay_ms() -> i64 {
    // SAFETY: reads one integer option.
    i64::from(unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) })
}
