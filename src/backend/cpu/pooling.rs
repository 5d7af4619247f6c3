//! 2-d pooling over contiguous `[planes, H, W]` memory: max pooling with the position of
//! each maximum (PyTorch's `max_pool2d_with_indices`), average pooling, and their backwards.

use super::pool::{self, SendPtr};
use crate::backend::{AvgDivisor, Float, Windows2d};

/// The input positions each window covers along dim `dim`: for every output position, the
/// first position inside the input and how many (every `dilation`-th) follow.
fn taps(win: &Windows2d, dim: usize) -> Vec<(usize, usize)> {
    let (k, s, p, d, n) = (
        win.kernel[dim],
        win.stride[dim],
        win.padding[dim],
        win.dilation[dim],
        win.size[dim],
    );
    (0..win.out[dim])
        .map(|o| {
            // Taps `i` with `0 <= o * s + i * d - p < n`.
            let start = o * s;
            let first = p.saturating_sub(start).div_ceil(d);
            let end = (n + p).saturating_sub(start).div_ceil(d).min(k);
            let count = end.saturating_sub(first);
            ((start + first * d).saturating_sub(p), count)
        })
        .collect()
}

/// The maxima and their flat `h * W + w` positions in each plane of `x` (which starts at the
/// first plane), as PyTorch's kernel scans a window: the first of tied maxima, the last NaN
/// (NaN wins), the first element of a window of `-inf`.
pub fn max_pool2d<T: ScanKey>(x: &[T], win: &Windows2d) -> (Vec<T>, Vec<i64>) {
    let ([ih, iw], [oh, ow]) = (win.size, win.out);
    let (plane_in, plane_out) = (ih * iw, oh * ow);
    let mut values = vec![T::ZERO; win.planes * plane_out];
    let mut indices = vec![0i64; win.planes * plane_out];
    if plane_out == 0 {
        return (values, indices);
    }
    let (rows, cols) = (taps(win, 0), taps(win, 1));
    let idx = SendPtr(indices.as_mut_ptr());
    pool::chunks_mut(
        &mut values,
        plane_out * planes_per_task(plane_in),
        |start, vals| {
            // SAFETY: `indices` has the length of `values`, and this task alone writes the
            // positions of its chunk.
            let ids = unsafe { std::slice::from_raw_parts_mut(idx.get().add(start), vals.len()) };
            let first = start / plane_out;
            let chunks = vals
                .chunks_exact_mut(plane_out)
                .zip(ids.chunks_exact_mut(plane_out));
            for (k, (vals, ids)) in chunks.enumerate() {
                let src = &x[(first + k) * plane_in..][..plane_in];
                let outputs = vals.chunks_exact_mut(ow).zip(ids.chunks_exact_mut(ow));
                for ((vals, ids), &(h0, nh)) in outputs.zip(&rows) {
                    pool_row(src, (h0, nh), &cols, win, vals, ids);
                }
            }
        },
    );
    (values, indices)
}

/// A float's place in the order of `>` as an integer (-0.0 and 0.0 tie; NaN has none and
/// is tested apart), so that the scan's choice compiles to conditional moves: a branch on a
/// float comparison is mispredicted half the time on random data, and float selects
/// compile to branches.
pub trait ScanKey: Float {
    type Key: Copy + Ord;
    fn key(self) -> Self::Key;
}

macro_rules! scan_key {
    ($t:ty, $i:ty, $bits:expr) => {
        impl ScanKey for $t {
            type Key = $i;
            #[inline(always)]
            fn key(self) -> $i {
                // `+ 0.0` makes -0.0 into 0.0; negative floats order backwards as integers.
                let b = (self + 0.0).to_bits() as $i;
                b ^ ((b >> ($bits - 1)) & <$i>::MAX)
            }
        }
    };
}
scan_key!(f32, i32, 32);
scan_key!(f64, i64, 64);

/// One row of outputs `vals`/`ids` from the input rows `h0, h0 + dh, ..` (`nh` of them),
/// as PyTorch scans each window: from `-inf` at the window's first position, taking any
/// greater value or NaN.
fn pool_row<T: ScanKey>(
    src: &[T],
    (h0, nh): (usize, usize),
    cols: &[(usize, usize)],
    win: &Windows2d,
    vals: &mut [T],
    ids: &mut [i64],
) {
    let iw = win.size[1];
    let [dh, dw] = win.dilation;
    let rows = src.get(h0 * iw..).unwrap_or_default(); // empty when no row is inside
    let lowest = T::NEG_INFINITY.key();
    for ((v, id), &(w0, nw)) in vals.iter_mut().zip(ids.iter_mut()).zip(cols) {
        let (mut best, mut at) = (lowest, h0 * iw + w0);
        for i in 0..nh {
            let row = &rows[i * dh * iw..][..iw];
            for j in 0..nw {
                let c = w0 + j * dw;
                let x = row[c];
                let take = (x.key() > best) | x.is_nan();
                best = std::hint::select_unpredictable(take, x.key(), best);
                at = std::hint::select_unpredictable(take, (h0 + i * dh) * iw + c, at);
            }
        }
        let inside = nh > 0 && nw > 0;
        *v = if inside { src[at] } else { T::NEG_INFINITY };
        *id = if inside { at as i64 } else { -1 };
    }
}

/// Planes per pool task: about 16k input elements each, so small planes do not cost a task
/// apiece.
fn planes_per_task(plane_in: usize) -> usize {
    ((1 << 14) / plane_in.max(1)).max(1)
}

/// The input's gradient: each output's gradient added at its maximum's position.
pub fn max_pool2d_backward<T: Float>(g: &[T], indices: &[i64], win: &Windows2d) -> Vec<T> {
    let (plane_in, plane_out) = (win.size[0] * win.size[1], win.out[0] * win.out[1]);
    let mut out = vec![T::ZERO; win.planes * plane_in];
    if plane_in == 0 {
        return out;
    }
    pool::chunks_mut(
        &mut out,
        plane_in * planes_per_task(plane_in),
        |start, dst| {
            let first = start / plane_in;
            for (k, dst) in dst.chunks_exact_mut(plane_in).enumerate() {
                let plane = first + k;
                let (gs, ids) = (
                    &g[plane * plane_out..][..plane_out],
                    &indices[plane * plane_out..][..plane_out],
                );
                for (&v, &i) in gs.iter().zip(ids) {
                    // Positions come from `max_pool2d`; any other is skipped, never out of bounds.
                    if let Some(d) = usize::try_from(i).ok().and_then(|i| dst.get_mut(i)) {
                        *d = *d + v;
                    }
                }
            }
        },
    );
    out
}

/// Each window of an average pool along one dim: the pixels it covers inside the image
/// (`start..end`) and its length inside the padded image, as PyTorch clips it.
fn avg_spans(win: &Windows2d, dim: usize) -> Vec<(usize, usize, usize)> {
    let (k, s, p, n) = (
        win.kernel[dim] as i64,
        win.stride[dim] as i64,
        win.padding[dim] as i64,
        win.size[dim] as i64,
    );
    (0..win.out[dim] as i64)
        .map(|o| {
            let start = o * s - p;
            let end = (start + k).min(n + p);
            let padded = (end - start).max(0) as usize;
            let (lo, hi) = (start.max(0), end.min(n));
            (lo as usize, hi.max(lo) as usize, padded)
        })
        .collect()
}

/// Average pooling of each plane of `x` (which starts at the first plane): PyTorch's
/// kernel, summing each window row by row in `T` and dividing by its divisor (a window with
/// no pixel gives 0).
pub fn avg_pool2d<T: Float>(x: &[T], win: &Windows2d, divisor: AvgDivisor) -> Vec<T> {
    let (plane_in, plane_out) = (win.size[0] * win.size[1], win.out[0] * win.out[1]);
    let mut out = vec![T::ZERO; win.planes * plane_out];
    if plane_out == 0 {
        return out;
    }
    let (rows, cols, iw) = (avg_spans(win, 0), avg_spans(win, 1), win.size[1]);
    pool::chunks_mut(
        &mut out,
        plane_out * planes_per_task(plane_in),
        |start, dst| {
            let first = start / plane_out;
            for (k, dst) in dst.chunks_exact_mut(plane_out).enumerate() {
                let src = &x[(first + k) * plane_in..][..plane_in];
                let mut outputs = dst.iter_mut();
                for &(h0, h1, ph) in &rows {
                    for (&(w0, w1, pw), o) in cols.iter().zip(outputs.by_ref()) {
                        if h0 >= h1 || w0 >= w1 {
                            continue; // stays 0, as in PyTorch
                        }
                        let mut sum = T::ZERO;
                        for row in src[h0 * iw..h1 * iw].chunks_exact(iw) {
                            for &v in &row[w0..w1] {
                                sum = sum + v;
                            }
                        }
                        let d = divisor.of([ph, pw], [h1 - h0, w1 - w0]);
                        *o = sum / T::from_f64(d as f64);
                    }
                }
            }
        },
    );
    out
}

/// The input's gradient of [`avg_pool2d`]: each window's gradient divided by its divisor and
/// added to its pixels, windows in order (PyTorch's order, so equal sums round alike).
pub fn avg_pool2d_backward<T: Float>(g: &[T], win: &Windows2d, divisor: AvgDivisor) -> Vec<T> {
    let (plane_in, plane_out) = (win.size[0] * win.size[1], win.out[0] * win.out[1]);
    let mut out = vec![T::ZERO; win.planes * plane_in];
    if plane_in == 0 || plane_out == 0 {
        return out;
    }
    let (rows, cols, iw) = (avg_spans(win, 0), avg_spans(win, 1), win.size[1]);
    pool::chunks_mut(
        &mut out,
        plane_in * planes_per_task(plane_in),
        |start, dst| {
            let first = start / plane_in;
            for (k, dst) in dst.chunks_exact_mut(plane_in).enumerate() {
                let mut grads = g[(first + k) * plane_out..][..plane_out].iter();
                for &(h0, h1, ph) in &rows {
                    for (&(w0, w1, pw), &gv) in cols.iter().zip(grads.by_ref()) {
                        if h0 >= h1 || w0 >= w1 {
                            continue;
                        }
                        let d = divisor.of([ph, pw], [h1 - h0, w1 - w0]);
                        let share = gv / T::from_f64(d as f64);
                        for row in dst[h0 * iw..h1 * iw].chunks_exact_mut(iw) {
                            for v in &mut row[w0..w1] {
                                *v = *v + share;
                            }
                        }
                    }
                }
            }
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_keys_order_as_floats_do() {
        let values = [
            f64::NEG_INFINITY,
            -3.5,
            -1e-300,
            -0.0,
            0.0,
            1e-300,
            2.0,
            f64::INFINITY,
        ];
        for &a in &values {
            for &b in &values {
                assert_eq!(a.key() > b.key(), a > b, "{a} {b}");
                assert_eq!((a as f32).key() > (b as f32).key(), (a as f32) > (b as f32));
            }
        }
    }
}
