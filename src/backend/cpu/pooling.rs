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
    /// The input positions (row or column) each window covers along dim `dim`, computed once
    /// per call: `out` lists of at most `kernel` positions.
    fn taps(&self, dim: usize) -> Vec<Vec<usize>> {
        let (k, s, p, d, n) = (
            self.kernel[dim],
            self.stride[dim],
            self.padding[dim],
            self.dilation[dim],
            self.input[dim],
        );
        (0..self.output[dim])
            .map(|o| {
                (0..k)
                    .filter_map(|i| {
                        o.checked_mul(s)?
                            .checked_add(i.checked_mul(d)?)?
                            .checked_sub(p)
                            .filter(|&x| x < n)
                    })
                    .collect()
            })
            .collect()
    }
}

/// The maxima and their flat `h * W + w` positions in each plane, as PyTorch's kernel scans
/// a window: the first of tied maxima, the last NaN (NaN wins), the first element of a window
/// of `-inf`.
pub fn max_pool2d<T: Float>(x: &[T], planes: usize, win: &PoolWindow) -> (Vec<T>, Vec<i64>) {
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
                for y in 0..oh {
                    for x_ in 0..ow {
                        let mut best = T::NEG_INFINITY;
                        let mut at = None;
                        for &h in &rows[y] {
                            for &w in &cols[x_] {
                                let v = src[h * iw + w];
                                if at.is_none() || v > best || v.is_nan() {
                                    best = v;
                                    at = Some(h * iw + w);
                                }
                            }
                        }
                        vals[y * ow + x_] = best;
                        ids[y * ow + x_] = at.map_or(-1, |a| a as i64);
                    }
                }
            }
        },
    );
    (values, indices)
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
