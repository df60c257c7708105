//! Shared CPU helpers for the fast kernels: borrowing f32 storage, a checked wrapper around the
//! `gemm` crate, and the policy that decides how work is split across rayon threads.

use candle_core::{bail, CpuStorage, Layout, Result, Storage, Tensor};
use gemm::Parallelism;

/// Below this many floating-point operations a product runs on the calling thread.
const PAR_FLOPS: usize = 1 << 22;

/// Number of threads in the current rayon pool.
pub(super) fn threads() -> usize {
    rayon::current_num_threads().max(1)
}

/// Whether work of `flops` operations is worth spreading over threads.
pub(super) fn worth_parallel(flops: usize) -> bool {
    threads() > 1 && flops >= PAR_FLOPS
}

/// The parallelism to give one product of `flops` operations that runs alone.
pub(super) fn gemm_parallelism(flops: usize) -> Parallelism {
    if worth_parallel(flops) {
        Parallelism::Rayon(threads())
    } else {
        Parallelism::None
    }
}

/// The contiguous f32 data of a CPU storage, as seen through `layout`.
pub(super) fn f32_slice<'a>(s: &'a CpuStorage, layout: &Layout, what: &str) -> Result<&'a [f32]> {
    let CpuStorage::F32(v) = s else {
        bail!("{what}: expected f32 storage")
    };
    match layout.contiguous_offsets() {
        Some((a, b)) if b <= v.len() => Ok(&v[a..b]),
        _ => bail!("{what}: expected a contiguous tensor"),
    }
}

/// A read lock on a contiguous f32 CPU tensor's data.
pub(super) struct CpuF32<'a> {
    guard: candle_core::StorageRef<'a>,
    start: usize,
    end: usize,
}

impl<'a> CpuF32<'a> {
    /// Locks `t` for reading; fails unless it is a contiguous f32 CPU tensor.
    pub(super) fn new(t: &'a Tensor, what: &str) -> Result<Self> {
        let (guard, layout) = t.storage_and_layout();
        let Some((start, end)) = layout.contiguous_offsets() else {
            bail!("{what}: expected a contiguous tensor")
        };
        match &*guard {
            Storage::Cpu(CpuStorage::F32(v)) if end <= v.len() => {}
            _ => bail!("{what}: expected an f32 tensor on the CPU"),
        }
        Ok(CpuF32 { guard, start, end })
    }

    /// The tensor's elements in row-major order.
    pub(super) fn as_slice(&self) -> &[f32] {
        match &*self.guard {
            Storage::Cpu(CpuStorage::F32(v)) => &v[self.start..self.end],
            // Checked in `new`.
            _ => &[],
        }
    }
}

/// A strided read-only matrix: element `(i, j)` is `data[i * rs + j * cs]`.
#[derive(Clone, Copy)]
pub(crate) struct Mat<'a> {
    pub data: &'a [f32],
    pub rs: usize,
    pub cs: usize,
}

fn span(rows: usize, cols: usize, rs: usize, cs: usize) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * rs + (cols - 1) * cs + 1
    }
}

/// `dst (m×n, row stride dst_rs, unit column stride) = [dst +] lhs (m×k) · rhs (k×n)`.
///
/// Panics if a slice is too short for the given shape and strides (an internal bug, never a
/// user error: callers derive every size from validated tensor shapes).
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    dst_rs: usize,
    accumulate: bool,
    lhs: Mat<'_>,
    rhs: Mat<'_>,
    par: Parallelism,
) {
    assert!(dst.len() >= span(m, n, dst_rs, 1), "matmul: dst too short");
    assert!(
        lhs.data.len() >= span(m, k, lhs.rs, lhs.cs),
        "matmul: lhs too short"
    );
    assert!(
        rhs.data.len() >= span(k, n, rhs.rs, rhs.cs),
        "matmul: rhs too short"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                dst[i * dst_rs..i * dst_rs + n].fill(0.0);
            }
        }
        return;
    }
    // SAFETY: the asserts above guarantee that every element addressed through the given
    // shapes and strides lies inside its slice; `dst` is borrowed mutably, so it aliases
    // neither operand.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.cs as isize,
            lhs.rs as isize,
            rhs.data.as_ptr(),
            rhs.cs as isize,
            rhs.rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        )
    }
}

/// Splits `0..n` into `parts` contiguous ranges of near-equal size (the first ones one larger).
pub(super) fn split_even(n: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    let parts = parts.clamp(1, n.max(1));
    let (q, r) = (n / parts, n % parts);
    let mut out = Vec::with_capacity(parts);
    let mut start = 0;
    for i in 0..parts {
        let len = q + usize::from(i < r);
        out.push(start..start + len);
        start += len;
    }
    out
}

/// Splits `data` into consecutive mutable pieces of `unit * range.len()` elements each.
pub(super) fn split_by_ranges<'a>(
    mut data: &'a mut [f32],
    ranges: &[std::ops::Range<usize>],
    unit: usize,
) -> Vec<&'a mut [f32]> {
    let mut out = Vec::with_capacity(ranges.len());
    for r in ranges {
        let (head, tail) = data.split_at_mut(r.len() * unit);
        out.push(head);
        data = tail;
    }
    out
}

/// `acc[i] += x[i]` over equal-length slices.
#[inline]
pub(super) fn add_assign(acc: &mut [f32], x: &[f32]) {
    for (a, v) in acc.iter_mut().zip(x) {
        *a += *v;
    }
}

/// Sums equally sized partial results in order (deterministic).
pub(super) fn reduce_partials(parts: Vec<Vec<f32>>, len: usize) -> Vec<f32> {
    let mut it = parts.into_iter();
    let mut acc = it.next().unwrap_or_else(|| vec![0.0; len]);
    for p in it {
        add_assign(&mut acc, &p);
    }
    acc
}
