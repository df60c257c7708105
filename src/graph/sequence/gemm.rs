//! The matrix product of the sequence kernels: the CPU kernels' checked `gemm` wrapper, spread
//! over rayon's threads for large products.

pub(super) use crate::kernels::Mat;

/// `dst (m×n, row stride dst_rs) = [dst +] lhs (m×k) · rhs (k×n)`; products of more than
/// 2^22 multiply-adds are spread over rayon's threads.
#[allow(clippy::too_many_arguments)]
pub(super) fn matmul(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    dst_rs: usize,
    accumulate: bool,
    lhs: Mat,
    rhs: Mat,
) {
    let par = if m * n * k >= 1 << 22 && rayon::current_num_threads() > 1 {
        gemm::Parallelism::Rayon(rayon::current_num_threads())
    } else {
        gemm::Parallelism::None
    };
    crate::kernels::matmul(m, n, k, dst, dst_rs, accumulate, lhs, rhs, par)
}
