//! Reductions over the rows of a contiguous `[outer, n]` block (or over its leading axis).
//! Float sums and extremes use explicit vectors (`simd.rs`); the other loops are plain
//! arithmetic over slices, run from AVX2 copies ([`simd_twins`]); rows go to the pool.

use super::{pool, simd, simd_twins, PARALLEL_THRESHOLD};
use crate::backend::{Float, Num};

/// Independent accumulators per row: enough to keep four 8-wide vector additions in flight
/// (one chain of additions is bound by their latency, not by memory).
const LANES: usize = 32;

/// Elements summed by one set of running accumulators; longer rows are cut into blocks of
/// this many, whose sums are added pairwise (the error then grows with the log of the
/// length, not with the length, as PyTorch's cascade sum).
const SUM_BLOCK: usize = 4096;

/// Sum of one contiguous row: blocks summed pairwise, each block with explicit vectors for
/// floats (independent accumulators, which also round better than one running sum).
fn sum_slice<T: Num>(row: &[T]) -> T {
    if row.len() <= SUM_BLOCK {
        return sum_block(row);
    }
    // Halves at a block boundary.
    let half = row.len().div_ceil(2 * SUM_BLOCK) * SUM_BLOCK;
    sum_slice(&row[..half]) + sum_slice(&row[half..])
}

/// Sum of at most `SUM_BLOCK` elements.
fn sum_block<T: Num>(row: &[T]) -> T {
    if let Some(s) = simd::as_type::<T, f32>(row).and_then(simd::sum_f32) {
        return simd::cast_back(s);
    }
    if let Some(s) = simd::as_type::<T, f64>(row).and_then(simd::sum_f64) {
        return simd::cast_back(s);
    }
    let mut acc = [T::ZERO; LANES];
    let chunks = row.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..LANES {
            acc[k] = acc[k] + c[k];
        }
    }
    let mut total = T::ZERO;
    for v in rest {
        total = total + *v;
    }
    // Pairwise over the accumulators.
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for k in 0..width {
            acc[k] = acc[k] + acc[k + width];
        }
    }
    acc[0] + total
}

/// The rows of `x` (`n` each) in groups of about `PARALLEL_THRESHOLD / 8` elements, one group
/// per pool task, each row's result from `row`.
fn map_rows<T: Copy + Sync, U: Copy + Send + Default>(
    x: &[T],
    outer: usize,
    n: usize,
    row: impl Fn(&[T]) -> U + Sync,
) -> Vec<U> {
    let mut out = vec![U::default(); outer];
    if outer * n >= PARALLEL_THRESHOLD && outer > 1 {
        let rows = (PARALLEL_THRESHOLD / 8 / n.max(1)).max(1);
        pool::chunks_mut(&mut out, rows, |at, dst| {
            for (k, d) in dst.iter_mut().enumerate() {
                let i = at + k;
                *d = row(&x[i * n..(i + 1) * n]);
            }
        });
    } else {
        for (i, d) in out.iter_mut().enumerate() {
            *d = row(&x[i * n..(i + 1) * n]);
        }
    }
    out
}

/// `out[i] = sum_j x[i * n + j]`.
pub fn sum_rows<T: Num>(x: &[T], outer: usize, n: usize) -> Vec<T> {
    if n == 0 {
        return vec![T::ZERO; outer];
    }
    if outer == 1 && n >= PARALLEL_THRESHOLD {
        // One long row: partial sums of pieces, then their sum.
        let piece = PARALLEL_THRESHOLD / 4;
        let mut parts = vec![T::ZERO; n.div_ceil(piece)];
        pool::chunks_mut(&mut parts, 1, |at, d| {
            let row = &x[at * piece..n.min((at + 1) * piece)];
            d[0] = sum_slice(row);
        });
        return vec![sum_slice(&parts)];
    }
    map_rows(x, outer, n, sum_slice)
}

/// `out[j] = sum_i x[i * inner + j]`: the reduction a bias gradient needs, without a transpose.
pub fn sum_leading<T: Num>(x: &[T], outer: usize, inner: usize) -> Vec<T> {
    let mut out = vec![T::ZERO; inner];
    add_rows(&mut out, &x[..outer * inner]);
    out
}

simd_twins!(fn add_rows[T: Num](out: &mut [T], x: &[T]) => add_rows_loop);

/// `out += row` for each `out.len()`-long row of `x`.
#[inline(always)]
fn add_rows_loop<T: Num>(out: &mut [T], x: &[T]) {
    for row in x.chunks(out.len().max(1)) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o = *o + v;
        }
    }
}

/// The largest (or smallest) element of a nonempty row, NaN ignored, without its index:
/// lanes of selects, which vectorise.
#[inline(always)]
fn extreme_value<T: Num>(row: &[T], max: bool) -> T {
    if let Some((v, _)) = simd::as_type::<T, f32>(row).and_then(|r| simd::extreme_f32(r, max)) {
        return simd::cast_back(v);
    }
    if let Some((v, _)) = simd::as_type::<T, f64>(row).and_then(|r| simd::extreme_f64(r, max)) {
        return simd::cast_back(v);
    }
    let mut acc = [row[0]; LANES];
    let chunks = row.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..LANES {
            let better = if max { c[k] > acc[k] } else { c[k] < acc[k] };
            acc[k] = if better { c[k] } else { acc[k] };
        }
    }
    let mut best = acc[0];
    for &v in acc[1..].iter().chain(rest) {
        let better = if max { v > best } else { v < best };
        best = if better { v } else { best };
    }
    best
}

/// The row's extreme (NaN ignored) and whether it holds a NaN (an integer never does), in
/// one pass for floats.
#[inline(always)]
fn extreme_and_nan<T: Num>(row: &[T], max: bool) -> (T, bool) {
    if let Some((v, nan)) = simd::as_type::<T, f32>(row).and_then(|r| simd::extreme_f32(r, max)) {
        return (simd::cast_back(v), nan);
    }
    if let Some((v, nan)) = simd::as_type::<T, f64>(row).and_then(|r| simd::extreme_f64(r, max)) {
        return (simd::cast_back(v), nan);
    }
    #[allow(clippy::eq_op)]
    let nan = row.iter().any(|&v| v != v);
    (extreme_value(row, max), nan)
}

/// Maximum (or minimum) of each row and the index of its first occurrence; NaN wins (the
/// first NaN), as in PyTorch.
pub fn extreme_rows<T: Num>(x: &[T], outer: usize, n: usize, max: bool) -> (Vec<T>, Vec<i64>) {
    if outer == 1 && n >= PARALLEL_THRESHOLD {
        // One long row (`x.max()`): each piece's first extreme on the pool, then the first
        // piece with a NaN, or else the first piece holding the extreme (strictly better
        // wins, so ties keep the earliest index).
        let piece = PARALLEL_THRESHOLD / 4;
        let mut found = vec![0usize; n.div_ceil(piece)];
        pool::chunks_mut(&mut found, 1, |at, d| {
            let start = at * piece;
            d[0] = start + extreme_index(&x[start..n.min(start + piece)], max);
        });
        #[allow(clippy::eq_op)]
        let is_nan = |j: usize| x[j] != x[j];
        let at = found
            .iter()
            .copied()
            .find(|&j| is_nan(j))
            .unwrap_or_else(|| {
                found.iter().copied().fold(found[0], |best, j| {
                    let better = if max { x[j] > x[best] } else { x[j] < x[best] };
                    if better {
                        j
                    } else {
                        best
                    }
                })
            });
        return (vec![x[at]], vec![at as i64]);
    }
    let found = map_rows(x, outer, n, |row| extreme_index(row, max));
    let values = found
        .iter()
        .enumerate()
        .map(|(i, &j)| x[i * n + j])
        .collect();
    (values, found.into_iter().map(|j| j as i64).collect())
}

/// Maximum (or minimum) of each row, NaN winning, as [`extreme_rows`] without the search for
/// its index (`max()`, `amax`): one pass over the data instead of one and a half.
pub fn extreme_values_rows<T: Num>(x: &[T], outer: usize, n: usize, max: bool) -> Vec<T> {
    if outer == 1 && n >= PARALLEL_THRESHOLD {
        // Each piece's extreme on the pool, then the first NaN, or else the best of them.
        let piece = PARALLEL_THRESHOLD / 4;
        let mut found = vec![T::default(); n.div_ceil(piece)];
        pool::chunks_mut(&mut found, 1, |at, d| {
            let start = at * piece;
            d[0] = extreme_value_of(&x[start..n.min(start + piece)], max);
        });
        #[allow(clippy::eq_op)]
        let nan = found.iter().copied().find(|&v| v != v);
        let best = found.iter().copied().fold(found[0], |best, v| {
            let better = if max { v > best } else { v < best };
            if better {
                v
            } else {
                best
            }
        });
        return vec![nan.unwrap_or(best)];
    }
    map_rows(x, outer, n, |row| extreme_value_of(row, max))
}

simd_twins!(fn extreme_value_of[T: Num](row: &[T], max: bool) -> T => extreme_value_loop);

/// A nonempty row's extreme, or its first NaN if it has one.
#[inline(always)]
fn extreme_value_loop<T: Num>(row: &[T], max: bool) -> T {
    if row.len() <= SHORT_ROW {
        return row[extreme_index_loop(row, max)];
    }
    let (best, nan) = extreme_and_nan(row, max);
    if nan {
        first_nan(row)
    } else {
        best
    }
}

/// The first NaN of a row that holds one.
fn first_nan<T: Copy + PartialEq>(row: &[T]) -> T {
    #[allow(clippy::eq_op)]
    let at = first_where(row, |v| v != v);
    row[at.unwrap_or(0)]
}

/// Rows up to this long are searched by one scalar pass.
const SHORT_ROW: usize = 16;

simd_twins!(fn extreme_index[T: Num](row: &[T], max: bool) -> usize => extreme_index_loop);

/// Where a nonempty row's first extreme is (its first NaN if it has one).
#[inline(always)]
fn extreme_index_loop<T: Num>(row: &[T], max: bool) -> usize {
    if row.len() <= SHORT_ROW {
        // A pooling window: one scalar pass beats the vector setup. The first extreme is
        // kept (strict comparisons), and the first NaN ends the search.
        let mut at = 0;
        for (i, &v) in row.iter().enumerate().skip(1) {
            let best = row[at];
            #[allow(clippy::eq_op)]
            if best != best {
                break;
            }
            #[allow(clippy::eq_op)]
            if v != v || (max && v > best) || (!max && v < best) {
                at = i;
            }
        }
        return at;
    }
    let (best, nan) = extreme_and_nan(row, max);
    // `== best` matches -0.0 and 0.0 alike: the value is read back from the row.
    #[allow(clippy::eq_op)]
    let at = if nan {
        first_where(row, |v| v != v)
    } else {
        first_where(row, |v| v == best)
    };
    at.unwrap_or(0)
}

/// The first index where `hit` holds: whole 32-element blocks are tested without an early
/// exit (so the test vectorises), then the block that hits is searched.
#[inline(always)]
fn first_where<T: Copy>(row: &[T], hit: impl Fn(T) -> bool) -> Option<usize> {
    for (b, block) in row.chunks(32).enumerate() {
        if block.iter().fold(false, |any, &v| any | hit(v)) {
            return block.iter().position(|&v| hit(v)).map(|k| b * 32 + k);
        }
    }
    None
}

/// Softmax (or log-softmax) of one row into `dst`, shifted by the row maximum for stability:
/// separate passes (max, exp, sum, scale) so that each one vectorises.
#[inline(always)]
fn softmax_row<T: Float>(row: &[T], dst: &mut [T], log: bool) {
    let mut m = extreme_value(row, true);
    if m == T::NEG_INFINITY {
        // All -inf: exp(-inf - 0) = 0, then 0/0 = NaN, as PyTorch (a NaN propagates anyway).
        m = T::ZERO;
    }
    for (d, &v) in dst.iter_mut().zip(row) {
        *d = (v - m).exp();
    }
    let total = sum_slice(dst);
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
}

simd_twins!(fn softmax_block[T: Float](x: &[T], first: usize, dst: &mut [T], n: usize, log: bool) => softmax_block_loop);

/// Softmax (or log-softmax) of the rows from `first` on into `dst` (whole rows).
#[inline(always)]
fn softmax_block_loop<T: Float>(x: &[T], first: usize, dst: &mut [T], n: usize, log: bool) {
    for (k, d) in dst.chunks_mut(n).enumerate() {
        let i = first + k;
        softmax_row(&x[i * n..(i + 1) * n], d, log);
    }
}

/// Softmax (or log-softmax) of each row.
pub fn softmax_rows<T: Float>(x: &[T], outer: usize, n: usize, log: bool) -> Vec<T> {
    let mut out = vec![T::ZERO; outer * n];
    if n == 0 {
        return out;
    }
    let rows_per_task = (PARALLEL_THRESHOLD / 8 / n).max(1);
    let run = |at: usize, dst: &mut [T]| softmax_block(x, at / n, dst, n, log);
    if outer * n >= PARALLEL_THRESHOLD && outer > 1 {
        pool::chunks_mut(&mut out, rows_per_task * n, run);
    } else {
        run(0, &mut out);
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

    /// Pooling windows (short rows, one scalar pass): the first NaN wherever it is, the first
    /// of equal extremes (-0.0 and 0.0 are equal), for max and min.
    #[test]
    fn short_rows_keep_pytorchs_ties_and_nans() {
        let nan = f32::NAN;
        let cases: [(&[f32], usize, usize); 6] = [
            (&[nan, 1.0, 2.0, 3.0], 0, 0),
            (&[1.0, 2.0, 3.0, nan], 3, 3),
            (&[4.0, nan, 9.0, nan], 1, 1),
            (&[-0.0, 0.0, -1.0, 2.0], 3, 2),
            (&[0.0, -0.0, 5.0, 5.0], 2, 0),
            (&[2.0, 2.0, 2.0, 2.0], 0, 0),
        ];
        for (row, at_max, at_min) in cases {
            assert_eq!(extreme_index(row, true), at_max, "{row:?}");
            assert_eq!(extreme_index(row, false), at_min, "{row:?}");
        }
    }

    /// Long rows (vector blocks, tails, the pool): the first extreme's index, the first NaN,
    /// -0.0 against 0.0 (the first one is returned, as PyTorch), integers.
    #[test]
    fn one_long_row_splits_over_the_pool_keeping_the_first_extreme() {
        let n = PARALLEL_THRESHOLD * 2 + 5;
        let mut x: Vec<f32> = (0..n).map(|i| ((i * 7919) % 997) as f32).collect();
        // Ties in several pieces: the earliest index wins.
        let (far, near) = (n - 3, PARALLEL_THRESHOLD + 1);
        x[far] = 5000.0;
        x[near] = 5000.0;
        x[7] = -5000.0;
        x[n - 1] = -5000.0;
        assert_eq!(
            extreme_rows(&x, 1, n, true),
            (vec![5000.0], vec![near as i64])
        );
        assert_eq!(extreme_rows(&x, 1, n, false), (vec![-5000.0], vec![7]));
        // A NaN in a later piece beats every number; the first NaN is reported.
        x[far] = f32::NAN;
        x[n - 1] = f32::NAN;
        for max in [true, false] {
            let (v, i) = extreme_rows(&x, 1, n, max);
            assert!(v[0].is_nan());
            assert_eq!(i[0], far as i64);
        }
    }

    #[test]
    fn extremes_of_long_rows_match_a_scalar_scan() {
        for n in [1usize, 15, 16, 33, 100, 1000, 70_000] {
            let rows = 3;
            let x: Vec<f32> = (0..rows * n)
                .map(|i| ((i * 7919) % 997) as f32 - 400.0)
                .collect();
            for max in [true, false] {
                let (v, idx) = extreme_rows(&x, rows, n, max);
                for r in 0..rows {
                    let row = &x[r * n..(r + 1) * n];
                    let mut at = 0;
                    for (j, &e) in row.iter().enumerate() {
                        if (max && e > row[at]) || (!max && e < row[at]) {
                            at = j;
                        }
                    }
                    assert_eq!((v[r], idx[r]), (row[at], at as i64), "n={n} max={max}");
                }
            }
            if n > 2 {
                let mut y = x.clone();
                y[n + n / 2] = f32::NAN;
                y[n + n - 1] = f32::NAN;
                let (v, idx) = extreme_rows(&y, rows, n, true);
                assert!(v[1].is_nan());
                assert_eq!(idx[1], (n / 2) as i64);
            }
        }
        let zeros = [0.0f64, -0.0, 0.0, -0.0];
        let (v, i) = extreme_rows(&zeros[1..], 1, 3, true);
        assert_eq!((v[0].to_bits(), i[0]), ((-0.0f64).to_bits(), 0));
        let ints: Vec<i64> = (0..5000).map(|i| (i * 31) % 1009).collect();
        let (v, i) = extreme_rows(&ints, 1, 5000, false);
        assert_eq!((v[0], i[0]), (0, 0));
    }

    #[test]
    fn long_sums_match_a_float64_sum() {
        for n in [31usize, 32, 1000, 4099, PARALLEL_THRESHOLD * 2 + 3] {
            let x: Vec<f32> = (0..n).map(|i| ((i % 17) as f32) * 0.125 - 1.0).collect();
            let want: f64 = x.iter().map(|&v| v as f64).sum();
            let got = sum_rows(&x, 1, n)[0] as f64;
            assert!(
                (got - want).abs() <= 1e-6 * n as f64,
                "n={n}: {got} vs {want}"
            );
            let rows = sum_rows(&x[..n / 2 * 2], 2, n / 2);
            let first: f64 = x[..n / 2].iter().map(|&v| v as f64).sum();
            assert!((rows[0] as f64 - first).abs() <= 1e-6 * n as f64);
        }
    }

    /// Long rows keep float32 sums accurate (blocks added pairwise): 2^22 copies of 0.1,
    /// one row and two rows (the pooled path), within 1e-5 of the float64 sum; a single
    /// set of running accumulators was off by about 1e-3.
    #[test]
    fn long_float32_rows_sum_accurately() {
        let n = 1 << 22;
        let x = vec![0.1f32; 2 * n];
        let want = n as f64 * 0.1f32 as f64;
        for got in [sum_rows(&x, 1, n)[0], sum_rows(&x, 2, n)[1]] {
            let rel = ((got as f64 - want) / want).abs();
            assert!(rel < 1e-5, "relative error {rel}");
        }
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
