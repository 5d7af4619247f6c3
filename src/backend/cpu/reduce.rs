//! Reductions over the rows of a contiguous `[outer, n]` block (or over its leading axis).

use rayon::prelude::*;

use super::PARALLEL_THRESHOLD;
use crate::backend::{Float, Num};

/// Sum of one contiguous row with eight independent accumulators (vectorises, and rounds
/// better than one running sum).
#[inline]
fn sum_slice<T: Num>(row: &[T]) -> T {
    let mut acc = [T::ZERO; 8];
    let chunks = row.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            acc[k] = acc[k] + c[k];
        }
    }
    let mut total = T::ZERO;
    for v in rest {
        total = total + *v;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + total
}

/// `out[i] = sum_j x[i * n + j]`.
pub fn sum_rows<T: Num>(x: &[T], outer: usize, n: usize) -> Vec<T> {
    if n == 0 {
        return vec![T::ZERO; outer];
    }
    if outer == 1 && n >= PARALLEL_THRESHOLD {
        let parts: Vec<T> = x[..n]
            .par_chunks(PARALLEL_THRESHOLD)
            .map(sum_slice)
            .collect();
        return vec![sum_slice(&parts)];
    }
    if outer * n >= PARALLEL_THRESHOLD && outer > 1 {
        return x[..outer * n].par_chunks(n).map(sum_slice).collect();
    }
    x[..outer * n].chunks(n).map(sum_slice).collect()
}

/// `out[j] = sum_i x[i * inner + j]`: the reduction a bias gradient needs, without a transpose.
pub fn sum_leading<T: Num>(x: &[T], outer: usize, inner: usize) -> Vec<T> {
    let mut out = vec![T::ZERO; inner];
    for row in x[..outer * inner].chunks(inner.max(1)) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o = *o + v;
        }
    }
    out
}

/// Maximum (or minimum) of each row and the index of its first occurrence; NaN wins, as in
/// PyTorch.
pub fn extreme_rows<T: Num>(x: &[T], outer: usize, n: usize, max: bool) -> (Vec<T>, Vec<i64>) {
    let mut values = Vec::with_capacity(outer);
    let mut indices = Vec::with_capacity(outer);
    for row in x[..outer * n].chunks(n) {
        let mut best = row[0];
        let mut at = 0usize;
        for (j, &v) in row.iter().enumerate().skip(1) {
            #[allow(clippy::eq_op)]
            let best_is_nan = best != best;
            if best_is_nan {
                break;
            }
            #[allow(clippy::eq_op)]
            let better = v != v || if max { v > best } else { v < best };
            if better {
                best = v;
                at = j;
            }
        }
        values.push(best);
        indices.push(at as i64);
    }
    (values, indices)
}

/// Softmax (or log-softmax) of each row, shifted by the row maximum for stability.
pub fn softmax_rows<T: Float>(x: &[T], outer: usize, n: usize, log: bool) -> Vec<T> {
    let mut out = vec![T::ZERO; outer * n];
    let one_row = |(row, dst): (&[T], &mut [T])| {
        let mut m = T::NEG_INFINITY;
        for &v in row {
            if v > m {
                m = v;
            }
        }
        if m == T::NEG_INFINITY {
            m = T::ZERO;
        }
        let mut total = T::ZERO;
        for (d, &v) in dst.iter_mut().zip(row) {
            *d = (v - m).exp();
            total = total + *d;
        }
        if log {
            let lse = total.ln();
            for (d, &v) in dst.iter_mut().zip(row) {
                *d = v - m - lse;
            }
        } else {
            for d in dst.iter_mut() {
                *d = *d / total;
            }
        }
    };
    if n == 0 {
        return out;
    }
    if outer * n >= PARALLEL_THRESHOLD {
        x[..outer * n]
            .par_chunks(n)
            .zip(out.par_chunks_mut(n))
            .for_each(one_row);
    } else {
        x[..outer * n]
            .chunks(n)
            .zip(out.chunks_mut(n))
            .for_each(one_row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_match_naive() {
        let x: Vec<f64> = (0..37).map(|v| (v as f64).sin()).collect();
        let naive: f64 = x.iter().sum();
        assert!((sum_rows(&x, 1, 37)[0] - naive).abs() < 1e-12);
        let rows = sum_rows(&x[..36], 4, 9);
        for i in 0..4 {
            let r: f64 = x[i * 9..i * 9 + 9].iter().sum();
            assert!((rows[i] - r).abs() < 1e-12);
        }
        let cols = sum_leading(&x[..36], 4, 9);
        for j in 0..9 {
            let c: f64 = (0..4).map(|i| x[i * 9 + j]).sum();
            assert!((cols[j] - c).abs() < 1e-12);
        }
        let big = vec![1.0f32; PARALLEL_THRESHOLD * 3 + 5];
        assert_eq!(sum_rows(&big, 1, big.len())[0], big.len() as f32);
    }

    #[test]
    fn extremes_pick_first_and_propagate_nan() {
        let x = vec![1.0, 3.0, 3.0, -2.0, f64::NAN, 5.0];
        let (v, i) = extreme_rows(&x, 2, 3, true);
        assert_eq!(v[0], 3.0);
        assert_eq!(i[0], 1);
        assert!(v[1].is_nan());
        assert_eq!(i[1], 1);
        let (v, i) = extreme_rows(&x[..3], 1, 3, false);
        assert_eq!((v[0], i[0]), (1.0, 0));
    }

    #[test]
    fn softmax_is_stable_and_normalised() {
        let x = vec![1000.0f64, 1001.0, 1002.0];
        let s = softmax_rows(&x, 1, 3, false);
        let naive: Vec<f64> = {
            let e: Vec<f64> = [0.0f64, 1.0, 2.0].iter().map(|v| v.exp()).collect();
            let t: f64 = e.iter().sum();
            e.iter().map(|v| v / t).collect()
        };
        for (a, b) in s.iter().zip(&naive) {
            assert!((a - b).abs() < 1e-12);
        }
        let l = softmax_rows(&x, 1, 3, true);
        for (a, b) in l.iter().zip(&naive) {
            assert!((a - b.ln()).abs() < 1e-12);
        }
    }
}
