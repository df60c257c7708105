//! Fast `exp`, `sigmoid` and `tanh` for the recurrent and attention kernels: a degree-6
//! polynomial for `e^r` on `[-ln 2 / 2, ln 2 / 2]` scaled by a power of two (relative error
//! about 2e-7, at a fraction of the cost of libm's `expf`, `expm1f` and `tanhf`).

const LOG2E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// `e^x` for `x` clamped to `[-87, 88]` (so never 0 nor infinite). Branch-free integer and
/// float arithmetic only, so that loops over slices vectorise.
#[inline(always)]
pub(super) fn exp(x: f32) -> f32 {
    // Adding 1.5 * 2^23 rounds to the nearest integer, which then sits in the low mantissa
    // bits: t = ROUND + k has the bits ROUND_BITS + k.
    const ROUND: f32 = 12_582_912.0;
    const ROUND_BITS: i32 = 0x4B40_0000;
    // Not `clamp`: its NaN handling keeps loops from vectorising.
    #[allow(clippy::manual_clamp)]
    let x = if x < -87.0 {
        -87.0
    } else if x > 88.0 {
        88.0
    } else {
        x
    };
    let t = x * LOG2E + ROUND;
    let k = t - ROUND;
    let r = x - k * LN2_HI - k * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    let ki = (t.to_bits() as i32).wrapping_sub(ROUND_BITS);
    p * f32::from_bits((ki.wrapping_add(127) as u32) << 23)
}

/// `v <- e^((v - max(v)) * scale)`, normalised to sum to 1: a softmax of `scale * v`.
pub(super) fn softmax_in_place(v: &mut [f32], scale: f32) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports the features the function is compiled for.
            return unsafe { softmax_avx2(v, scale) };
        }
    }
    softmax_plain(v, scale)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn softmax_avx2(v: &mut [f32], scale: f32) {
    softmax_plain(v, scale)
}

#[inline(always)]
fn softmax_plain(v: &mut [f32], scale: f32) {
    let m = max(v);
    for x in v.iter_mut() {
        *x = exp((*x - m) * scale);
    }
    let inv = 1.0 / sum(v);
    v.iter_mut().for_each(|x| *x *= inv);
}

/// The largest element (negative infinity for an empty slice), eight lanes at a time.
#[inline(always)]
pub(super) fn max(v: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; 8];
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        for (a, x) in acc.iter_mut().zip(c) {
            *a = if *x > *a { *x } else { *a };
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |a, &x| a.max(x));
    acc.iter().fold(tail, |a, &x| a.max(x))
}

/// The sum of the elements, eight lanes at a time.
#[inline(always)]
pub(super) fn sum(v: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        for (a, x) in acc.iter_mut().zip(c) {
            *a += x;
        }
    }
    acc.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

/// `1 / (1 + e^-x)`.
#[inline]
pub(super) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh(x) = 2 sigmoid(2x) - 1` (absolute error about 2e-7).
#[inline]
pub(super) fn tanh(x: f32) -> f32 {
    2.0 / (1.0 + exp(-2.0 * x)) - 1.0
}

#[cfg(test)]
mod tests {
    #[test]
    fn close_to_libm() {
        let mut worst = (0f32, 0f32, 0f32);
        for i in -20000..=20000 {
            let x = i as f32 * 0.004;
            let e = (super::exp(x) - x.exp()).abs() / x.exp();
            let s = (super::sigmoid(x) - 1.0 / (1.0 + (-x).exp())).abs();
            let t = (super::tanh(x) - x.tanh()).abs();
            worst = (worst.0.max(e), worst.1.max(s), worst.2.max(t));
        }
        assert!(
            worst.0 < 1e-6 && worst.1 < 1e-6 && worst.2 < 1e-6,
            "{worst:?}"
        );
        assert!(super::exp(-100.0) < 1e-37);
        assert!(super::exp(100.0).is_finite());
        assert!(super::sigmoid(-100.0) < 1e-30);
        assert_eq!(super::tanh(100.0), 1.0);
        let v: Vec<f32> = (0..21).map(|i| ((i * 7) % 11) as f32 - 3.0).collect();
        assert_eq!(super::max(&v), 7.0);
        assert_eq!(super::sum(&v), v.iter().sum::<f32>());
        assert_eq!(super::max(&[]), f32::NEG_INFINITY);
    }
}

#[cfg(test)]
mod softmax_tests {
    #[test]
    fn softmax_sums_to_one_and_matches_the_formula() {
        let mut v: Vec<f32> = (0..19).map(|i| (i as f32 * 0.37).sin() * 4.0).collect();
        let want: Vec<f32> = {
            let m = v.iter().fold(f32::NEG_INFINITY, |a, &x| a.max(x));
            let e: Vec<f32> = v.iter().map(|x| ((x - m) * 0.5).exp()).collect();
            let s: f32 = e.iter().sum();
            e.iter().map(|x| x / s).collect()
        };
        super::softmax_in_place(&mut v, 0.5);
        for (a, b) in v.iter().zip(&want) {
            assert!((a - b).abs() < 1e-6, "{v:?} vs {want:?}");
        }
    }
}
