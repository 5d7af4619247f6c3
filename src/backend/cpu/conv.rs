//! im2col and col2im (`F.unfold`/`F.fold`) over contiguous `[planes, h, w]` images, one pool
//! task per plane. Each kernel row's valid output range is worked out once (checked by the
//! tensor layer's geometry), so the inner loops are slice copies and zips without per-element
//! bounds tests.

use super::PARALLEL_THRESHOLD;
use crate::backend::{Im2Col, Num};

/// The outputs `o` in `[lo, hi)` of `0..out` whose input `o * stride + k_off - pad` lies in
/// `0..size`, and the input of `lo`.
fn valid(
    out: usize,
    k_off: usize,
    pad: usize,
    stride: usize,
    size: usize,
) -> (usize, usize, usize) {
    // o * stride + k_off >= pad  <=>  o >= ceil((pad - k_off) / stride)
    let lo = pad.saturating_sub(k_off).div_ceil(stride);
    // o * stride + k_off - pad <= size - 1  <=>  o <= (size - 1 + pad - k_off) / stride
    let hi = match (size + pad).checked_sub(k_off + 1) {
        Some(top) => (top / stride + 1).min(out),
        None => 0,
    };
    let hi = hi.max(lo);
    let first = (lo * stride + k_off).saturating_sub(pad);
    (lo, hi, first)
}

/// Runs `f(plane, dst)` over the `chunk`-sized pieces of `dst`, in parallel when it is large.
fn per_plane<T: Send>(dst: &mut [T], chunk: usize, f: impl Fn(usize, &mut [T]) + Sync + Send) {
    if chunk == 0 {
        return;
    }
    if dst.len() >= PARALLEL_THRESHOLD && super::pool::threads() > 1 {
        // Our pool, not rayon's: waking rayon's sleeping workers costs more than a LeNet
        // layer's columns.
        super::pool::chunks_mut(dst, chunk, |start, d| f(start / chunk, d));
    } else {
        dst.chunks_mut(chunk).enumerate().for_each(|(p, d)| f(p, d));
    }
}

/// Columns `[planes, kh * kw, oh * ow]` of the images in `x` (from `g.offset`).
pub fn im2col<T: Num + Send + Sync>(x: &[T], g: &Im2Col) -> Vec<T> {
    let ([h, w], [kh, kw], [oh, ow]) = (g.size, g.kernel, g.out);
    let (plane, cols) = (h * w, kh * kw * oh * ow);
    let x = &x[g.offset..g.offset + g.planes * plane];
    let mut out = vec![T::ZERO; g.planes * cols];
    per_plane(&mut out, cols, |p, dst| {
        let img = &x[p * plane..(p + 1) * plane];
        for ki in 0..kh {
            let (y_lo, y_hi, y0) = valid(oh, ki * g.dilation[0], g.padding[0], g.stride[0], h);
            for kj in 0..kw {
                let (x_lo, x_hi, x0) = valid(ow, kj * g.dilation[1], g.padding[1], g.stride[1], w);
                if x_lo == x_hi {
                    continue; // x0 is only an input column when the range is not empty
                }
                let rows = &mut dst[(ki * kw + kj) * oh * ow..(ki * kw + kj + 1) * oh * ow];
                let len = x_hi - x_lo;
                for (oy, iy) in (y_lo..y_hi).zip((y0..).step_by(g.stride[0])) {
                    let dst = &mut rows[oy * ow + x_lo..oy * ow + x_hi];
                    if g.stride[1] == 1 {
                        // Unit stride: the row segment is one copy.
                        dst.copy_from_slice(&img[iy * w + x0..iy * w + x0 + len]);
                        continue;
                    }
                    let src = img[iy * w + x0..(iy + 1) * w].iter().step_by(g.stride[1]);
                    for (d, &s) in dst.iter_mut().zip(src) {
                        *d = s;
                    }
                }
            }
        }
    });
    out
}

/// Images `[planes, h, w]` that sum the columns in `c` (from `g.offset`) back where
/// [`im2col`] took them from: its adjoint.
pub fn col2im<T: Num + Send + Sync>(c: &[T], g: &Im2Col) -> Vec<T> {
    let ([h, w], [kh, kw], [oh, ow]) = (g.size, g.kernel, g.out);
    let (plane, cols) = (h * w, kh * kw * oh * ow);
    let c = &c[g.offset..g.offset + g.planes * cols];
    let mut out = vec![T::ZERO; g.planes * plane];
    per_plane(&mut out, plane, |p, img| {
        let src = &c[p * cols..(p + 1) * cols];
        for ki in 0..kh {
            let (y_lo, y_hi, y0) = valid(oh, ki * g.dilation[0], g.padding[0], g.stride[0], h);
            for kj in 0..kw {
                let (x_lo, x_hi, x0) = valid(ow, kj * g.dilation[1], g.padding[1], g.stride[1], w);
                if x_lo == x_hi {
                    continue; // x0 is only an input column when the range is not empty
                }
                let rows = &src[(ki * kw + kj) * oh * ow..(ki * kw + kj + 1) * oh * ow];
                let len = x_hi - x_lo;
                for (oy, iy) in (y_lo..y_hi).zip((y0..).step_by(g.stride[0])) {
                    let src = &rows[oy * ow + x_lo..oy * ow + x_hi];
                    if g.stride[1] == 1 {
                        let dst = &mut img[iy * w + x0..iy * w + x0 + len];
                        dst.iter_mut().zip(src).for_each(|(d, &s)| *d = *d + s);
                        continue;
                    }
                    let dst = img[iy * w + x0..(iy + 1) * w]
                        .iter_mut()
                        .step_by(g.stride[1]);
                    for (d, &s) in dst.zip(src) {
                        *d = *d + s;
                    }
                }
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The naive definition, one element at a time.
    fn naive(x: &[f64], g: &Im2Col) -> Vec<f64> {
        let ([h, w], [kh, kw], [oh, ow]) = (g.size, g.kernel, g.out);
        let mut out = Vec::new();
        for p in 0..g.planes {
            for ki in 0..kh {
                for kj in 0..kw {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let iy = (oy * g.stride[0] + ki * g.dilation[0]) as isize
                                - g.padding[0] as isize;
                            let ix = (ox * g.stride[1] + kj * g.dilation[1]) as isize
                                - g.padding[1] as isize;
                            let inside =
                                iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w;
                            out.push(if inside {
                                x[p * h * w + iy as usize * w + ix as usize]
                            } else {
                                0.0
                            });
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn im2col_matches_naive_and_col2im_is_its_adjoint() {
        for (size, kernel, dilation, padding, stride) in [
            ([5, 6], [3, 2], [1, 1], [1, 0], [1, 1]),
            ([7, 4], [2, 3], [2, 1], [2, 1], [3, 2]),
            ([3, 3], [3, 3], [1, 1], [0, 0], [1, 1]),
            ([2, 9], [1, 4], [1, 2], [3, 0], [2, 3]),
        ] {
            let outsz = |i: usize| {
                (size[i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) / stride[i] + 1
            };
            let g = Im2Col {
                offset: 1,
                planes: 3,
                size,
                kernel,
                dilation,
                padding,
                stride,
                out: [outsz(0), outsz(1)],
            };
            let x: Vec<f64> = (0..1 + 3 * size[0] * size[1])
                .map(|v| (v as f64) * 0.37 - 2.0)
                .collect();
            let cols = im2col(&x, &g);
            assert_eq!(cols, naive(&x[1..], &g));
            let gc: Vec<f64> = (0..cols.len() + 1).map(|v| (v as f64).sin()).collect();
            let back = col2im(&gc, &g);
            let lhs: f64 = cols.iter().zip(&gc[1..]).map(|(a, b)| a * b).sum();
            let rhs: f64 = x[1..].iter().zip(&back).map(|(a, b)| a * b).sum();
            assert!((lhs - rhs).abs() < 1e-9, "{lhs} vs {rhs}");
        }
    }
}
