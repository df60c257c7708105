//! The time loop of a recurrent layer as one candle custom op on the CPU (`f32`): the forward
//! pass runs the recursion with a matrix product per step and keeps nothing; the backward pass
//! runs it again to get the gates, then backpropagates through time. Autograd over per-step
//! candle operations would instead allocate a full-size gradient for every step's slice.
//!
//! Inputs: the input projections of every step `xw` (`[b, s, gates * units]`, input bias
//! included), the recurrent kernel `[units, gates * units]` and the recurrent bias
//! `[gates * units]` (GRU; zeros for LSTM). Output: the states `[b, s, units]` in time order.

use super::fast_math::{sigmoid, tanh};
use super::gemm::{matmul, Mat};
use super::RnnKind;
use candle_core::{bail, CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};

/// One direction of an LSTM or GRU layer.
pub(super) struct RecurrentOp {
    pub kind: RnnKind,
    pub reverse: bool,
}

#[derive(Clone, Copy)]
struct Dims {
    b: usize,
    s: usize,
    u: usize,
    g: usize,
}

impl Dims {
    /// The time index of processing step `k`.
    fn time(&self, k: usize, reverse: bool) -> usize {
        if reverse {
            self.s - 1 - k
        } else {
            k
        }
    }
}

fn contiguous<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> Result<&'a [f32]> {
    let CpuStorage::F32(v) = s else {
        bail!("recurrent op: {what} must be f32")
    };
    match l.contiguous_offsets() {
        Some((a, b)) if b <= v.len() => Ok(&v[a..b]),
        _ => bail!("recurrent op: {what} must be contiguous"),
    }
}

/// Per-step values the backward pass needs: LSTM `[i, f, c~, o]` activations and the cell
/// `c`; GRU `[z, r, n]` and the recurrent candidate projection `hu_n`.
struct Trace {
    /// `[s, b, gates * units]` by processing step.
    gates: Vec<f32>,
    /// `[s, b, units]` by processing step: LSTM cells, GRU `hu_n`.
    extra: Vec<f32>,
}

impl RecurrentOp {
    fn dims(&self, l1: &Layout, l2: &Layout) -> Result<Dims> {
        let (b, s, g) = l1.shape().dims3()?;
        let (u, g2) = l2.shape().dims2()?;
        let gates = match self.kind {
            RnnKind::Lstm => 4,
            RnnKind::Gru => 3,
        };
        if g != g2 || g != gates * u || s == 0 {
            bail!("recurrent op: inputs [{b}, {s}, {g}] and kernel [{u}, {g2}] do not match")
        }
        Ok(Dims { b, s, u, g })
    }

    /// The state before processing step `k` as a strided `[b, u]` view of the output states,
    /// or `None` at the first step (zero state).
    fn prev<'a>(&self, d: Dims, out: &'a [f32], k: usize) -> Option<Mat<'a>> {
        (k > 0).then(|| Mat {
            data: &out[d.time(k - 1, self.reverse) * d.u..],
            rs: d.s * d.u,
            cs: 1,
        })
    }

    /// Runs the recursion; returns the states `[b, s, u]` (time order) and the trace.
    fn run(&self, d: Dims, xw: &[f32], rk: &[f32], rb: &[f32]) -> (Vec<f32>, Trace) {
        let Dims { b, s, u, g } = d;
        let mut out = vec![0f32; b * s * u];
        let mut trace = Trace {
            gates: vec![0f32; s * b * g],
            extra: vec![0f32; s * b * u],
        };
        let rkm = Mat {
            data: rk,
            rs: g,
            cs: 1,
        };
        let mut hu = vec![0f32; b * g];
        let mut h = vec![0f32; b * u];
        for k in 0..s {
            let t = d.time(k, self.reverse);
            match self.prev(d, &out, k) {
                Some(hp) => matmul(b, g, u, &mut hu, g, false, hp, rkm),
                None => hu.fill(0.0),
            }
            let (done, rest) = trace.extra.split_at_mut(k * b * u);
            let extra = &mut rest[..b * u];
            let cells_prev = (k > 0).then(|| &done[(k - 1) * b * u..]);
            let gates = &mut trace.gates[k * b * g..(k + 1) * b * g];
            for bi in 0..b {
                let x = &xw[(bi * s + t) * g..(bi * s + t + 1) * g];
                let r = &hu[bi * g..(bi + 1) * g];
                let ga = &mut gates[bi * g..(bi + 1) * g];
                for j in 0..u {
                    let hp = h[bi * u + j];
                    let new = match self.kind {
                        RnnKind::Lstm => {
                            let i = sigmoid(x[j] + r[j]);
                            let f = sigmoid(x[u + j] + r[u + j]);
                            let cc = tanh(x[2 * u + j] + r[2 * u + j]);
                            let o = sigmoid(x[3 * u + j] + r[3 * u + j]);
                            let cp = cells_prev.map_or(0.0, |c| c[bi * u + j]);
                            let c = f * cp + i * cc;
                            ga[j] = i;
                            ga[u + j] = f;
                            ga[2 * u + j] = cc;
                            ga[3 * u + j] = o;
                            extra[bi * u + j] = c;
                            o * tanh(c)
                        }
                        RnnKind::Gru => {
                            let hz = r[j] + rb[j];
                            let hr = r[u + j] + rb[u + j];
                            let hn = r[2 * u + j] + rb[2 * u + j];
                            let z = sigmoid(x[j] + hz);
                            let rr = sigmoid(x[u + j] + hr);
                            let n = tanh(x[2 * u + j] + rr * hn);
                            ga[j] = z;
                            ga[u + j] = rr;
                            ga[2 * u + j] = n;
                            extra[bi * u + j] = hn;
                            n + z * (hp - n)
                        }
                    };
                    h[bi * u + j] = new;
                    out[(bi * s + t) * u + j] = new;
                }
            }
        }
        (out, trace)
    }

    /// Backpropagation through time: gradients of the inputs, the recurrent kernel and the
    /// recurrent bias from the gradient of the states `dout` (`[b, s, u]`).
    fn backward(
        &self,
        d: Dims,
        xw: &[f32],
        rk: &[f32],
        rb: &[f32],
        dout: &[f32],
    ) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let Dims { b, s, u, g } = d;
        let (out, trace) = self.run(d, xw, rk, rb);
        let mut dxw = vec![0f32; b * s * g];
        let mut drk = vec![0f32; u * g];
        let mut drb = vec![0f32; g];
        let mut dh = vec![0f32; b * u];
        let mut dc = vec![0f32; b * u];
        let mut dpre = vec![0f32; b * g];
        // The recurrent kernel transposed, as a strided view: (i, j) = rk[j * g + i].
        let rkt = Mat {
            data: rk,
            rs: 1,
            cs: g,
        };
        for k in (0..s).rev() {
            let t = d.time(k, self.reverse);
            let gates = &trace.gates[k * b * g..(k + 1) * b * g];
            let extra = &trace.extra[k * b * u..(k + 1) * b * u];
            let cells_prev = (k > 0).then(|| &trace.extra[(k - 1) * b * u..k * b * u]);
            let tp = (k > 0).then(|| d.time(k - 1, self.reverse));
            for bi in 0..b {
                let ga = &gates[bi * g..(bi + 1) * g];
                let dp = &mut dpre[bi * g..(bi + 1) * g];
                let dx = &mut dxw[(bi * s + t) * g..(bi * s + t + 1) * g];
                for j in 0..u {
                    let dht = dout[(bi * s + t) * u + j] + dh[bi * u + j];
                    match self.kind {
                        RnnKind::Lstm => {
                            let (i, f, cc, o) = (ga[j], ga[u + j], ga[2 * u + j], ga[3 * u + j]);
                            let c = extra[bi * u + j];
                            let cp = cells_prev.map_or(0.0, |cs| cs[bi * u + j]);
                            let tc = tanh(c);
                            let dct = dc[bi * u + j] + dht * o * (1.0 - tc * tc);
                            dc[bi * u + j] = dct * f;
                            dp[j] = dct * cc * i * (1.0 - i);
                            dp[u + j] = dct * cp * f * (1.0 - f);
                            dp[2 * u + j] = dct * i * (1.0 - cc * cc);
                            dp[3 * u + j] = dht * tc * o * (1.0 - o);
                            dx[j] = dp[j];
                            dx[u + j] = dp[u + j];
                            dx[2 * u + j] = dp[2 * u + j];
                            dx[3 * u + j] = dp[3 * u + j];
                            dh[bi * u + j] = 0.0;
                        }
                        RnnKind::Gru => {
                            let (z, r, n) = (ga[j], ga[u + j], ga[2 * u + j]);
                            let hn = extra[bi * u + j];
                            let hp = tp.map_or(0.0, |tp| out[(bi * s + tp) * u + j]);
                            let dn = dht * (1.0 - z) * (1.0 - n * n);
                            let dz = dht * (hp - n) * z * (1.0 - z);
                            let dr = dn * hn * r * (1.0 - r);
                            dx[j] = dz;
                            dx[u + j] = dr;
                            dx[2 * u + j] = dn;
                            dp[j] = dz;
                            dp[u + j] = dr;
                            dp[2 * u + j] = dn * r;
                            // The direct path h_prev -> h; the recurrent path is added below.
                            dh[bi * u + j] = dht * z;
                        }
                    }
                }
            }
            if self.kind == RnnKind::Gru {
                for row in dpre.chunks(g) {
                    for (a, v) in drb.iter_mut().zip(row) {
                        *a += v;
                    }
                }
            }
            if let Some(hp) = self.prev(d, &out, k) {
                // drk += h_prev^T · dpre: h_prev^T is (u × b) with (j, bi) = hp[bi * rs + j].
                let hpt = Mat {
                    data: hp.data,
                    rs: hp.cs,
                    cs: hp.rs,
                };
                matmul(
                    u,
                    g,
                    b,
                    &mut drk,
                    g,
                    true,
                    hpt,
                    Mat {
                        data: &dpre,
                        rs: g,
                        cs: 1,
                    },
                );
                // dh_prev (+)= dpre · rk^T.
                let acc = self.kind == RnnKind::Gru;
                matmul(
                    b,
                    u,
                    g,
                    &mut dh,
                    u,
                    acc,
                    Mat {
                        data: &dpre,
                        rs: g,
                        cs: 1,
                    },
                    rkt,
                );
            }
        }
        (dxw, drk, drb)
    }
}

fn tensor_f32(t: &Tensor) -> Result<Vec<f32>> {
    t.contiguous()?.flatten_all()?.to_vec1::<f32>()
}

impl CustomOp3 for RecurrentOp {
    fn name(&self) -> &'static str {
        "recurrent"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = self.dims(l1, l2)?;
        let xw = contiguous(s1, l1, "inputs")?;
        let rk = contiguous(s2, l2, "recurrent kernel")?;
        let rb = contiguous(s3, l3, "recurrent bias")?;
        if rb.len() != d.g {
            bail!(
                "recurrent op: the recurrent bias has {} values, not {}",
                rb.len(),
                d.g
            )
        }
        let (out, _) = self.run(d, xw, rk, rb);
        Ok((CpuStorage::F32(out), Shape::from((d.b, d.s, d.u))))
    }

    fn bwd(
        &self,
        xw: &Tensor,
        rk: &Tensor,
        rb: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (b, s, g) = xw.dims3()?;
        let (u, _) = rk.dims2()?;
        let d = Dims { b, s, u, g };
        let (dxw, drk, drb) = self.backward(
            d,
            &tensor_f32(xw)?,
            &tensor_f32(rk)?,
            &tensor_f32(rb)?,
            &tensor_f32(grad)?,
        );
        let dev = xw.device();
        let drb = match self.kind {
            RnnKind::Gru => Some(Tensor::from_vec(drb, g, dev)?),
            RnnKind::Lstm => None,
        };
        Ok((
            Some(Tensor::from_vec(dxw, (b, s, g), dev)?),
            Some(Tensor::from_vec(drk, (u, g), dev)?),
            drb,
        ))
    }
}
