//! Gathers and scatters along one dimension of a contiguous `[outer, n, inner]` block.

use crate::backend::Num;

/// `out[o, k, i] = x[o, index[k], i]` (indices already wrapped and bounds-checked).
pub fn index_select<T: Copy>(
    x: &[T],
    outer: usize,
    n: usize,
    inner: usize,
    index: &[usize],
) -> Vec<T> {
    let mut out = Vec::with_capacity(outer * index.len() * inner);
    for o in 0..outer {
        let base = o * n * inner;
        for &k in index {
            out.extend_from_slice(&x[base + k * inner..base + (k + 1) * inner]);
        }
    }
    out
}

/// The adjoint of [`index_select`]: `out[o, index[k], i] += g[o, k, i]` into zeros of
/// `[outer, n, inner]`; repeated indices add up.
pub fn index_add<T: Num>(g: &[T], outer: usize, n: usize, inner: usize, index: &[usize]) -> Vec<T> {
    let mut out = vec![T::ZERO; outer * n * inner];
    let m = index.len();
    for o in 0..outer {
        for (k, &dst) in index.iter().enumerate() {
            let src = &g[(o * m + k) * inner..(o * m + k + 1) * inner];
            let d = &mut out[(o * n + dst) * inner..(o * n + dst + 1) * inner];
            for (a, &b) in d.iter_mut().zip(src) {
                *a = *a + b;
            }
        }
    }
    out
}

/// A `[outer, n, inner]` block that is one where `index[o, i] == j` (a one-hot along the
/// middle axis): how `max(dim)` routes its gradient.
pub fn one_hot<T: Num>(index: &[i64], outer: usize, n: usize, inner: usize) -> Vec<T> {
    let mut out = vec![T::ZERO; outer * n * inner];
    for o in 0..outer {
        for i in 0..inner {
            let j = index[o * inner + i] as usize;
            out[(o * n + j) * inner + i] = T::ONE;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_and_add_are_adjoint() {
        let x: Vec<f64> = (0..24).map(|v| v as f64).collect(); // [2, 4, 3]
        let idx = [3, 0, 3];
        let s = index_select(&x, 2, 4, 3, &idx);
        assert_eq!(&s[..3], &[9.0, 10.0, 11.0]);
        assert_eq!(&s[9..12], &[21.0, 22.0, 23.0]);
        let g = vec![1.0; 18];
        let a = index_add(&g, 2, 4, 3, &idx);
        assert_eq!(a[9], 2.0); // index 3 used twice
        assert_eq!(a[0], 1.0);
        assert_eq!(a[3], 0.0);
        // <select(x), g> == <x, add(g)>
        let g2: Vec<f64> = (0..18).map(|v| (v as f64) * 0.5 - 2.0).collect();
        let lhs: f64 = s.iter().zip(&g2).map(|(a, b)| a * b).sum();
        let rhs: f64 = x
            .iter()
            .zip(&index_add(&g2, 2, 4, 3, &idx))
            .map(|(a, b)| a * b)
            .sum();
        assert!((lhs - rhs).abs() < 1e-9);
    }

    #[test]
    fn one_hot_marks_indices() {
        let oh: Vec<f32> = one_hot(&[2, 0], 1, 3, 2);
        assert_eq!(oh, vec![0.0, 1.0, 0.0, 0.0, 1.0, 0.0]);
    }
}
