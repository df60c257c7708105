//! The edit distance between architectures of AutoKeras 0.x's Bayesian search: a network is
//! described by its sequence of weighted layers (convolutions, dense layers) and its skip
//! connections; the distance is the layers' edit distance (insertions and deletions cost 1, a
//! substitution the relative difference of the widths) plus the cost of the best matching of
//! the skip connections.

use crate::graph::{Architecture, Layer, Node};

/// A weighted layer, as the distance sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerDesc {
    /// A convolution.
    Conv {
        /// Output channels.
        filters: usize,
        /// Kernel size.
        kernel: usize,
        /// Stride.
        stride: usize,
        /// Depthwise-separable.
        separable: bool,
    },
    /// A dense layer.
    Dense {
        /// Units.
        units: usize,
    },
}

/// A network as the distance sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Descriptor {
    /// Weighted layers in order (the main branches of residuals inline).
    pub layers: Vec<LayerDesc>,
    /// Skip connections, `(first, end)`: the residual adds its input (the output of layer
    /// `first - 1`) to the output of layer `end - 1`.
    pub skips: Vec<(usize, usize)>,
}

/// The descriptor of `arch`. Shortcut branches count as part of their skip connection.
pub fn descriptor(arch: &Architecture) -> Descriptor {
    let mut d = Descriptor::default();
    walk(&arch.nodes, &mut d);
    d
}

fn walk(nodes: &[Node], d: &mut Descriptor) {
    for n in nodes {
        match &n.layer {
            Layer::Conv2d {
                filters,
                kernel,
                stride,
                separable,
                ..
            } => d.layers.push(LayerDesc::Conv {
                filters: *filters,
                kernel: *kernel,
                stride: *stride,
                separable: *separable,
            }),
            Layer::Dense { units, .. } => d.layers.push(LayerDesc::Dense { units: *units }),
            Layer::Residual { main, .. } => {
                let first = d.layers.len();
                walk(main, d);
                d.skips.push((first, d.layers.len()));
            }
            _ => {}
        }
    }
}

fn relative(a: usize, b: usize) -> f64 {
    let m = a.max(b);
    if m == 0 {
        0.0
    } else {
        a.abs_diff(b) as f64 / m as f64
    }
}

/// Distance between two layers in `[0, 1]`: 1 between kinds, else the mean relative
/// difference of their attributes.
pub fn layer_distance(a: &LayerDesc, b: &LayerDesc) -> f64 {
    match (a, b) {
        (LayerDesc::Dense { units: x }, LayerDesc::Dense { units: y }) => relative(*x, *y),
        (
            LayerDesc::Conv {
                filters: f1,
                kernel: k1,
                stride: s1,
                separable: p1,
            },
            LayerDesc::Conv {
                filters: f2,
                kernel: k2,
                stride: s2,
                separable: p2,
            },
        ) if p1 == p2 => (relative(*f1, *f2) + relative(*k1, *k2) + relative(*s1, *s2)) / 3.0,
        _ => 1.0,
    }
}

/// Edit distance between layer sequences.
pub fn layers_distance(a: &[LayerDesc], b: &[LayerDesc]) -> f64 {
    let (n, m) = (a.len(), b.len());
    let mut prev: Vec<f64> = (0..=m).map(|j| j as f64).collect();
    for i in 1..=n {
        let mut row = vec![i as f64; m + 1];
        for j in 1..=m {
            row[j] = (row[j - 1] + 1.0)
                .min(prev[j] + 1.0)
                .min(prev[j - 1] + layer_distance(&a[i - 1], &b[j - 1]));
        }
        prev = row;
    }
    prev[m]
}

/// Distance between two skip connections in `[0, 1]`.
fn skip_distance(a: (usize, usize), b: (usize, usize)) -> f64 {
    let (la, lb) = (a.1.abs_diff(a.0), b.1.abs_diff(b.0));
    let den = a.0.max(b.0) + la.max(lb);
    if den == 0 {
        0.0
    } else {
        (a.0.abs_diff(b.0) + la.abs_diff(lb)) as f64 / den as f64
    }
}

/// Cost of the best matching of the skip connections, plus one per unmatched connection.
pub fn skips_distance(a: &[(usize, usize)], b: &[(usize, usize)]) -> f64 {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let unmatched = (large.len() - small.len()) as f64;
    if small.is_empty() {
        return unmatched;
    }
    let cost = |i: usize, j: usize| skip_distance(small[i], large[j]);
    if large.len() <= 12 {
        // Exact assignment: dp[mask] = best cost of matching the first popcount(mask) rows
        // to the columns in mask.
        let full = 1usize << large.len();
        let mut dp = vec![f64::INFINITY; full];
        dp[0] = 0.0;
        let mut best = f64::INFINITY;
        for mask in 0..full {
            let row = mask.count_ones() as usize;
            if !dp[mask].is_finite() {
                continue;
            }
            if row == small.len() {
                best = best.min(dp[mask]);
                continue;
            }
            for j in 0..large.len() {
                if mask & (1 << j) == 0 {
                    let next = mask | (1 << j);
                    dp[next] = dp[next].min(dp[mask] + cost(row, j));
                }
            }
        }
        best + unmatched
    } else {
        // Many connections: a greedy matching (an upper bound of the best).
        let mut used = vec![false; large.len()];
        let mut total = 0.0;
        for i in 0..small.len() {
            let pick = (0..large.len())
                .filter(|j| !used[*j])
                .min_by(|x, y| cost(i, *x).total_cmp(&cost(i, *y)));
            if let Some(j) = pick {
                used[j] = true;
                total += cost(i, j);
            }
        }
        total + unmatched
    }
}

/// The edit distance between two networks.
pub fn edit_distance(a: &Descriptor, b: &Descriptor) -> f64 {
    layers_distance(&a.layers, &b.layers) + skips_distance(&a.skips, &b.skips)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense(units: usize) -> LayerDesc {
        LayerDesc::Dense { units }
    }

    #[test]
    fn layer_edits_cost_one_and_widths_their_relative_change() {
        let a = [dense(64), dense(10)];
        assert_eq!(layers_distance(&a, &a), 0.0);
        assert_eq!(layers_distance(&a, &[dense(64), dense(64), dense(10)]), 1.0);
        assert_eq!(layers_distance(&a, &[dense(128), dense(10)]), 0.5);
        assert_eq!(layers_distance(&[], &a), 2.0);
        let conv = LayerDesc::Conv {
            filters: 32,
            kernel: 3,
            stride: 1,
            separable: false,
        };
        assert_eq!(layer_distance(&conv, &dense(32)), 1.0);
    }

    #[test]
    fn skip_matching_is_the_best_assignment() {
        assert_eq!(skips_distance(&[], &[]), 0.0);
        assert_eq!(skips_distance(&[(1, 2)], &[]), 1.0);
        // The crossed matching would cost more than the straight one.
        let a = [(0, 1), (4, 6)];
        let b = [(4, 6), (0, 1)];
        assert_eq!(skips_distance(&a, &b), 0.0);
        let d = skips_distance(&[(2, 3)], &[(2, 4), (0, 1)]);
        assert!((d - (1.0 / 4.0 + 1.0)).abs() < 1e-12, "{d}");
    }
}
