//! The programs' allocator set-up (`autocandle::allocator`), in a process of its own: it changes
//! a process-wide option and measures the process's resident memory.
#![cfg(target_os = "linux")]

use autocandle::allocator::{purge_delay_ms, set_up_for_training};
use std::time::Duration;

/// Resident memory of this process, in MB.
fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmRSS in /proc/self/status");
    kb / 1024.0
}

/// Resident memory (MB) once a block of `mb` MB from mimalloc has been written, freed, and
/// mimalloc has had the time and a forced collection to give it back.
fn resident_after_freeing(mb: usize) -> f64 {
    let bytes = mb << 20;
    // SAFETY: a fresh block of `bytes`, written within its bounds, then freed once.
    unsafe {
        let p = libmimalloc_sys::mi_malloc(bytes) as *mut u8;
        assert!(!p.is_null(), "mimalloc could not allocate {mb} MB");
        std::ptr::write_bytes(p, 1, bytes);
        libmimalloc_sys::mi_free(p.cast());
    }
    // mimalloc purges freed memory after a delay (1 s by default): the wait and a forced
    // collection give it the chance to.
    std::thread::sleep(Duration::from_millis(1_200));
    // SAFETY: a collection of this thread's heap.
    unsafe { libmimalloc_sys::mi_collect(true) };
    rss_mb()
}

#[test]
fn after_set_up_freed_memory_stays_with_the_process_for_the_next_network() {
    if let Some(v) = std::env::var_os("MIMALLOC_PURGE_DELAY") {
        // The environment's setting wins over the set-up.
        let before = purge_delay_ms();
        set_up_for_training();
        assert_eq!(
            purge_delay_ms(),
            before,
            "MIMALLOC_PURGE_DELAY={v:?} was overridden"
        );
        return;
    }
    // The option's index names the purge delay: mimalloc 3's default for it is 1000 ms.
    assert_eq!(
        purge_delay_ms(),
        1000,
        "the option index is not the purge delay"
    );

    let base = rss_mb();
    let returned = resident_after_freeing(512);
    assert!(
        returned < base + 128.0,
        "by default mimalloc returns freed memory: {base:.0} MB before, {returned:.0} MB after"
    );

    set_up_for_training();
    assert_eq!(purge_delay_ms(), -1);
    let base = rss_mb();
    let kept = resident_after_freeing(512);
    assert!(
        kept > base + 384.0,
        "after the set-up the 512 MB freed should stay resident: {base:.0} MB before, {kept:.0} MB after"
    );
}
