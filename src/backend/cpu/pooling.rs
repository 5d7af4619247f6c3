//! 2-d max pooling with the position of each maximum, and its backward (PyTorch's
//! `max_pool2d_with_indices` and its backward), over contiguous `[planes, H, W]` memory.

use super::pool::{self, SendPtr};
use crate::backend::Float;

/// A pooling window's geometry: kernel, stride, padding and dilation per spatial dim, and
/// the input and output sizes (the caller checks that every window holds an input element).
#[derive(Clone, Copy, Debug)]
pub struct PoolWindow {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub input: [usize; 2],
    pub output: [usize; 2],
}

impl PoolWindow {
    /// The input positions each window covers along dim `dim`: for every output position,
    /// the first position inside the input and how many (every `dilation`-th) follow.
    fn taps(&self, dim: usize) -> Vec<(usize, usize)> {
        let (k, s, p, d, n) = (
            self.kernel[dim],
            self.stride[dim],
            self.padding[dim],
            self.dilation[dim],
            self.input[dim],
        );
        (0..self.output[dim])
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
}

/// The maxima and their flat `h * W + w` positions in each plane, as PyTorch's kernel scans
/// a window: the first of tied maxima, the last NaN (NaN wins), the first element of a window
/// of `-inf`.
pub fn max_pool2d<T: ScanKey>(x: &[T], planes: usize, win: &PoolWindow) -> (Vec<T>, Vec<i64>) {
    let ([ih, iw], [oh, ow]) = (win.input, win.output);
    let (plane_in, plane_out) = (ih * iw, oh * ow);
    let mut values = vec![T::ZERO; planes * plane_out];
    let mut indices = vec![0i64; planes * plane_out];
    if plane_out == 0 {
        return (values, indices);
    }
    let (rows, cols) = (win.taps(0), win.taps(1));
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
    win: &PoolWindow,
    vals: &mut [T],
    ids: &mut [i64],
) {
    let iw = win.input[1];
    let [dh, dw] = win.dilation;
    let rows = &src[h0 * iw..];
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
pub fn max_pool2d_backward<T: Float>(
    g: &[T],
    indices: &[i64],
    planes: usize,
    plane_in: usize,
) -> Vec<T> {
    let plane_out = g.len().checked_div(planes).unwrap_or(0);
    let mut out = vec![T::ZERO; planes * plane_in];
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
