//! Initial values of sequence-layer parameters.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// `n` values uniform in `[-limit, limit]`.
pub(super) fn uniform(n: usize, limit: f64, rng: &mut ChaCha8Rng) -> Vec<f32> {
    (0..n)
        .map(|_| ((rng.random::<f64>() * 2.0 - 1.0) * limit) as f32)
        .collect()
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// A `rows x cols` matrix (row-major) with orthonormal rows when `rows <= cols`, else
/// orthonormal columns (Keras's `Orthogonal` initialiser): Gram–Schmidt on Gaussian vectors.
pub(super) fn orthogonal(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let (k, len) = if rows <= cols {
        (rows, cols)
    } else {
        (cols, rows)
    };
    let mut vecs: Vec<Vec<f64>> = Vec::with_capacity(k);
    while vecs.len() < k {
        let mut v: Vec<f64> = (0..len).map(|_| normal(rng)).collect();
        for u in &vecs {
            let dot: f64 = v.iter().zip(u).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(u).for_each(|(a, b)| *a -= dot * b);
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm > 1e-6 {
            v.iter_mut().for_each(|a| *a /= norm);
            vecs.push(v);
        }
    }
    let mut out = vec![0f32; rows * cols];
    for (i, v) in vecs.iter().enumerate() {
        for (j, a) in v.iter().enumerate() {
            // Row i of a wide matrix, or column i of a tall one.
            let idx = if rows <= cols {
                i * cols + j
            } else {
                j * cols + i
            };
            out[idx] = *a as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn orthogonal_rows_are_orthonormal() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for (r, c) in [(4, 16), (8, 8), (12, 5)] {
            let m = orthogonal(r, c, &mut rng);
            let (k, by_row) = if r <= c { (r, true) } else { (c, false) };
            let get = |v: usize, j: usize| {
                if by_row {
                    m[v * c + j]
                } else {
                    m[j * c + v]
                }
            };
            let len = if by_row { c } else { r };
            for a in 0..k {
                for b in 0..k {
                    let dot: f32 = (0..len).map(|j| get(a, j) * get(b, j)).sum();
                    let want = if a == b { 1.0 } else { 0.0 };
                    assert!((dot - want).abs() < 1e-4, "{r}x{c} ({a},{b}) {dot}");
                }
            }
        }
    }
}
