//! Property tests (`proptest`) of the index arithmetic under the kernels: broadcasting of
//! random shapes (size-0 and size-1 dims), binary ops over random strided views of one
//! storage, and index gathers/scatters with random (also out-of-range) indices. Every result
//! is compared with a naive computation over the views' element offsets; an error is expected
//! exactly where PyTorch raises; nothing may panic or read outside its storage.

use proptest::prelude::*;

use super::Tensor;
use crate::backend::BinaryOp;
use crate::base::layout::{broadcast_shapes, Layout};

/// Shapes of 0 to 4 dims with sizes from {0, 1, 2, 3}.
fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(prop::sample::select(vec![0usize, 1, 1, 2, 3]), 0..=4)
}

/// A 1-d storage of `n` distinct values (so a wrong offset shows in the result).
fn storage(n: usize) -> Tensor {
    let values: Vec<f64> = (0..n).map(|i| i as f64 * 0.5 - 3.0).collect();
    Tensor::from_vec(values, &[n])
}

/// A view of `base` (a contiguous tensor of `shape`) changed by one of a few view ops.
fn view_of(base: &Tensor, how: u8, pick: usize) -> Tensor {
    let l = base.layout().clone();
    let nd = l.ndim();
    let layout = match how % 4 {
        0 if nd >= 2 => {
            let mut dims: Vec<usize> = (0..nd).collect();
            dims.swap(pick % nd, (pick / 7) % nd);
            l.permute(&dims)
        }
        1 if nd >= 1 => {
            let d = pick % nd;
            let len = l.shape[d];
            let start = (pick / 3) % (len + 1);
            l.slice(d, start, len, 1 + pick % 2)
        }
        2 if nd >= 1 => l.unsqueeze(pick % (nd + 1)),
        _ => l,
    };
    base.with_layout(layout)
}

/// The values a view addresses, read through its offsets from the flat storage values.
fn read(view: &Tensor, flat: &[f64]) -> Vec<f64> {
    view.layout().offsets().iter().map(|&o| flat[o]).collect()
}

/// NumPy's broadcast of two shapes, or None when they do not broadcast.
fn naive_broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let get = |s: &[usize], i: usize| (i + s.len()).checked_sub(n).map_or(1, |j| s[j]);
    (0..n)
        .map(|i| match (get(a, i), get(b, i)) {
            (x, y) if x == y || y == 1 => Some(x),
            (1, y) => Some(y),
            _ => None,
        })
        .collect()
}

/// Row-major position -> index tuple of `shape`.
fn unravel(mut p: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        idx[d] = p % shape[d];
        p /= shape[d];
    }
    idx
}

/// The element of a row-major `values` of `shape` at the broadcast index `idx` (leading
/// dims dropped, size-1 dims pinned to 0).
fn at_broadcast(values: &[f64], shape: &[usize], idx: &[usize]) -> f64 {
    let lead = idx.len() - shape.len();
    let mut p = 0;
    for (d, &size) in shape.iter().enumerate() {
        p = p * size + if size == 1 { 0 } else { idx[lead + d] };
    }
    values[p]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn broadcast_matches_numpy_and_expands_in_bounds(a in shape(), b in shape()) {
        let ours = broadcast_shapes(&a, &b).ok().map(|s| s.to_vec());
        prop_assert_eq!(&ours, &naive_broadcast(&a, &b));
        if let Some(out) = ours {
            for s in [&a, &b] {
                let l = Layout::contiguous(s).expand(&out).unwrap();
                let n: usize = s.iter().product();
                prop_assert!(l.offsets().iter().all(|&o| o < n.max(1)));
                prop_assert!(l.fits_in(n));
            }
        }
    }

    #[test]
    fn binary_ops_over_random_views_match_naive(
        a in shape(), b in shape(), how in (0u8..4, 0u8..4), pick in (0usize..100, 0usize..100),
    ) {
        let (na, nb): (usize, usize) = (a.iter().product(), b.iter().product());
        let (sa, sb) = (storage(na), storage(nb));
        let x = view_of(&sa.reshape_view(&a), how.0, pick.0);
        let y = view_of(&sb.reshape_view(&b), how.1, pick.1);
        let (fa, fb) = (sa.to_f64_vec().unwrap(), sb.to_f64_vec().unwrap());
        let expected_shape = naive_broadcast(x.shape(), y.shape());
        match (x.binary(BinaryOp::Mul, &y), expected_shape) {
            (Ok(r), Some(shape)) => {
                prop_assert_eq!(r.shape(), &shape[..]);
                let (vx, vy) = (read(&x, &fa), read(&y, &fb));
                let got = r.to_f64_vec().unwrap();
                for (p, g) in got.iter().enumerate() {
                    let idx = unravel(p, &shape);
                    let want = at_broadcast(&vx, x.shape(), &idx) * at_broadcast(&vy, y.shape(), &idx);
                    prop_assert_eq!(*g, want);
                }
            }
            (Err(_), None) => {}
            (r, s) => prop_assert!(false, "result {:?} for shapes {:?} {:?} (expected {:?})",
                r.map(|t| t.shape().to_vec()), x.shape(), y.shape(), s),
        }
    }

    #[test]
    fn index_select_and_add_check_bounds_and_match_naive(
        s in prop::collection::vec(1usize..4, 1..=3),
        dim_pick in 0usize..3,
        index in prop::collection::vec(0usize..5, 0..6),
    ) {
        let dim = dim_pick % s.len();
        let n: usize = s.iter().product();
        let x = storage(n).reshape_view(&s);
        let flat = x.to_f64_vec().unwrap();
        let in_range = index.iter().all(|&i| i < s[dim]);
        let selected = x.index_select(dim, &index);
        prop_assert_eq!(selected.is_ok(), in_range);
        // x as the source of index_add: it fits only with one index per row of x's dim.
        let added = x.index_add_into_zeros(dim, &index, &s);
        prop_assert_eq!(added.is_ok(), in_range && index.len() == s[dim]);
        if let Ok(out) = selected {
            let mut shape = s.clone();
            shape[dim] = index.len();
            prop_assert_eq!(out.shape(), &shape[..]);
            let got = out.to_f64_vec().unwrap();
            for (p, g) in got.iter().enumerate() {
                let mut idx = unravel(p, &shape);
                idx[dim] = index[idx[dim]];
                prop_assert_eq!(*g, at_broadcast(&flat, &s, &idx));
            }
            // The adjoint: <select(x), g> == <x, add(g)> with g = the selection itself.
            let back = out.index_add_into_zeros(dim, &index, &s).unwrap().to_f64_vec().unwrap();
            let lhs: f64 = got.iter().map(|v| v * v).sum();
            let rhs: f64 = flat.iter().zip(&back).map(|(a, b)| a * b).sum();
            prop_assert!((lhs - rhs).abs() <= 1e-9 * (1.0 + lhs.abs()));
        }
    }
}

impl Tensor {
    /// The contiguous `[n]` tensor viewed as `shape` (test helper).
    fn reshape_view(&self, shape: &[usize]) -> Tensor {
        self.with_layout(Layout::contiguous(shape))
    }
}
