//! im2col and col2im (`F.unfold`/`F.fold`) over contiguous `[planes, h, w]` images, one pool
//! task per plane. Each kernel row's valid output range is worked out once (checked by the
//! tensor layer's geometry), so the inner loops are slice copies and zips without per-element
//! bounds tests.

use super::matmul::{gemm_slices, Matrix};
use super::pool::{self, SendPtr};
use super::PARALLEL_THRESHOLD;
use crate::backend::{Num, Windows2d};

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
pub fn im2col<T: Num + Send + Sync>(x: &[T], g: &Windows2d) -> Vec<T> {
    let (plane, cols) = (g.size[0] * g.size[1], cols_per_plane(g));
    let x = &x[g.offset..g.offset + g.planes * plane];
    let mut out = vec![T::ZERO; g.planes * cols];
    per_plane(&mut out, cols, |p, dst| {
        plane_to_cols(&x[p * plane..(p + 1) * plane], g, dst)
    });
    out
}

/// Images `[planes, h, w]` that sum the columns in `c` (from `g.offset`) back where
/// [`im2col`] took them from: its adjoint.
pub fn col2im<T: Num + Send + Sync>(c: &[T], g: &Windows2d) -> Vec<T> {
    let (plane, cols) = (g.size[0] * g.size[1], cols_per_plane(g));
    let c = &c[g.offset..g.offset + g.planes * cols];
    let mut out = vec![T::ZERO; g.planes * plane];
    per_plane(&mut out, plane, |p, img| {
        cols_to_plane(&c[p * cols..(p + 1) * cols], g, img)
    });
    out
}

/// How many column elements one plane gives: `kh * kw * oh * ow`.
fn cols_per_plane(g: &Windows2d) -> usize {
    g.kernel[0] * g.kernel[1] * g.out[0] * g.out[1]
}

/// One plane `img` `[h, w]` as its columns `dst` `[kh * kw, oh * ow]`. Only the elements that
/// read the image are written: those of the padding keep what `dst` held (zeros).
fn plane_to_cols<T: Num>(img: &[T], g: &Windows2d, dst: &mut [T]) {
    let ([h, w], [kh, kw], [oh, ow]) = (g.size, g.kernel, g.out);
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
                    copy_short(dst, &img[iy * w + x0..iy * w + x0 + len]);
                    continue;
                }
                let src = img[iy * w + x0..(iy + 1) * w].iter().step_by(g.stride[1]);
                for (d, &s) in dst.iter_mut().zip(src) {
                    *d = s;
                }
            }
        }
    }
}

/// `dst.copy_from_slice(src)` for the short rows of small images: in blocks of 8 copies of
/// constant size, which compile to moves, where a call of `memmove` per row cost more than
/// the copy (a LeNet layer's rows are 8 to 24 elements).
#[inline(always)]
fn copy_short<T: Copy>(dst: &mut [T], src: &[T]) {
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (d, s) in (&mut d).zip(&mut s) {
        let s: &[T; 8] = s.try_into().expect("a block of 8");
        d.copy_from_slice(s);
    }
    for (d, &s) in d.into_remainder().iter_mut().zip(s.remainder()) {
        *d = s;
    }
}

/// The columns `src` `[kh * kw, oh * ow]` of one plane added into `img` `[h, w]` where
/// [`plane_to_cols`] took them from.
fn cols_to_plane<T: Num>(src: &[T], g: &Windows2d, img: &mut [T]) {
    let ([h, w], [kh, kw], [oh, ow]) = (g.size, g.kernel, g.out);
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
}

/// A 2-d convolution's sizes: `images` of `channels` planes each (the sliding window and
/// plane sizes in `window`, whose `offset` and `planes` are unused), filtered by
/// `out_channels` filters of `channels / groups` planes each. The caller checks that
/// `groups` divides both channel counts and that the products of sizes fit.
#[derive(Clone, Copy, Debug)]
pub struct ConvShape {
    pub images: usize,
    pub channels: usize,
    pub out_channels: usize,
    pub groups: usize,
    pub window: Windows2d,
}

impl ConvShape {
    /// Output positions per plane.
    fn blocks(&self) -> usize {
        self.window.out[0] * self.window.out[1]
    }

    fn plane(&self) -> usize {
        self.window.size[0] * self.window.size[1]
    }

    /// Rows of one group's columns (and columns of its weight matrix): `c / groups * kh * kw`.
    fn group_rows(&self) -> usize {
        self.channels / self.groups * self.window.kernel[0] * self.window.kernel[1]
    }

    /// Images per pool task: a few tasks per thread (the columns buffer is made once per
    /// task), all of them in one task when there are fewer images than threads.
    fn images_per_task(&self) -> usize {
        let threads = pool::threads();
        if self.images < 2 * threads {
            return self.images.max(1);
        }
        self.images.div_ceil(4 * threads)
    }

    /// Whether the products may use the whole pool (when one task does every image).
    fn threaded_products(&self) -> bool {
        self.images_per_task() >= self.images
    }

    /// Image `i` of `x` as its columns `[channels * kh * kw, blocks]` in `cols`.
    fn image_to_cols<T: Num>(&self, x: &[T], i: usize, cols: &mut [T]) {
        let (plane, per) = (self.plane(), cols_per_plane(&self.window));
        let img = &x[i * self.channels * plane..(i + 1) * self.channels * plane];
        for (src, dst) in img.chunks_exact(plane).zip(cols.chunks_exact_mut(per)) {
            plane_to_cols(src, &self.window, dst);
        }
    }
}

/// The convolution `[images, out_channels, oh, ow]` of `x` `[images, channels, h, w]` with
/// `weight` `[out_channels, channels / groups, kh, kw]` (and `bias` `[out_channels]`): per
/// image, its columns into a buffer of the task's and one product per group, so the
/// columns of the whole batch are never made (they are several times the images' size).
pub fn conv2d<T: Num>(x: &[T], weight: &[T], bias: Option<&[T]>, s: &ConvShape) -> Vec<T> {
    let (l, o, kg) = (s.blocks(), s.out_channels, s.group_rows());
    let og = o / s.groups;
    let mut out = vec![T::ZERO; s.images * o * l];
    if out.is_empty() {
        return out;
    }
    let threaded = s.threaded_products();
    pool::chunks_mut(&mut out, s.images_per_task() * o * l, |start, dst| {
        let mut cols = vec![T::ZERO; s.channels * cols_per_plane(&s.window)];
        for (i, dst) in dst.chunks_exact_mut(o * l).enumerate() {
            s.image_to_cols(x, start / (o * l) + i, &mut cols);
            if let Some(b) = bias {
                for (row, &v) in dst.chunks_exact_mut(l).zip(b) {
                    row.fill(v);
                }
            }
            for gi in 0..s.groups {
                gemm_slices(
                    &mut dst[gi * og * l..(gi + 1) * og * l],
                    (og, kg, l),
                    bias.map(|_| T::ONE),
                    Matrix::new(&weight[gi * og * kg..], kg as isize, 1),
                    Matrix::new(&cols[gi * kg * l..], l as isize, 1),
                    threaded,
                );
            }
        }
    });
    out
}

/// The gradients of [`conv2d`]'s input (when `need_input`) and weight (when `need_weight`)
/// from the output's `grad`. Per image: the weight's gradient gathers `grad @ columnsᵀ` into
/// a sum of the task's, and the input's is `weightᵀ @ grad` summed back into the image.
pub fn conv2d_backward<T: Num>(
    x: &[T],
    weight: &[T],
    grad: &[T],
    s: &ConvShape,
    (need_input, need_weight): (bool, bool),
) -> (Option<Vec<T>>, Option<Vec<T>>) {
    let (l, o, kg, plane) = (s.blocks(), s.out_channels, s.group_rows(), s.plane());
    let (og, image_in) = (o / s.groups, s.channels * plane);
    let per_task = s.images_per_task();
    let tasks = s.images.div_ceil(per_task);
    let mut dx = need_input.then(|| vec![T::ZERO; s.images * image_in]);
    let mut partial = need_weight.then(|| vec![T::ZERO; tasks.max(1) * o * kg]);
    let dx_at = dx.as_mut().map(|v| SendPtr(v.as_mut_ptr()));
    let partial_at = partial.as_mut().map(|v| SendPtr(v.as_mut_ptr()));
    let threaded = s.threaded_products();
    let cols_len = s.channels * cols_per_plane(&s.window);
    pool::for_each_chunk(tasks, &|t| {
        let mut cols = vec![T::ZERO; if need_weight { cols_len } else { 0 }];
        let mut grad_cols = vec![T::ZERO; if need_input { cols_len } else { 0 }];
        for i in t * per_task..((t + 1) * per_task).min(s.images) {
            let g = &grad[i * o * l..(i + 1) * o * l];
            if let Some(at) = partial_at {
                s.image_to_cols(x, i, &mut cols);
                // SAFETY: task `t` alone writes its `o * kg` sum inside `partial`.
                let sum =
                    unsafe { std::slice::from_raw_parts_mut(at.get().add(t * o * kg), o * kg) };
                for gi in 0..s.groups {
                    gemm_slices(
                        &mut sum[gi * og * kg..(gi + 1) * og * kg],
                        (og, l, kg),
                        Some(T::ONE),
                        Matrix::new(&g[gi * og * l..], l as isize, 1),
                        Matrix::new(&cols[gi * kg * l..], 1, l as isize),
                        threaded,
                    );
                }
            }
            if let Some(at) = dx_at {
                for gi in 0..s.groups {
                    gemm_slices(
                        &mut grad_cols[gi * kg * l..(gi + 1) * kg * l],
                        (kg, og, l),
                        None,
                        Matrix::new(&weight[gi * og * kg..], 1, kg as isize),
                        Matrix::new(&g[gi * og * l..], l as isize, 1),
                        threaded,
                    );
                }
                // SAFETY: image `i`'s gradient, which only this task (the one holding image
                // `i`) writes.
                let img =
                    unsafe { std::slice::from_raw_parts_mut(at.get().add(i * image_in), image_in) };
                let per = cols_per_plane(&s.window);
                for (src, dst) in grad_cols.chunks_exact(per).zip(img.chunks_exact_mut(plane)) {
                    cols_to_plane(src, &s.window, dst);
                }
            }
        }
    });
    let dw = partial.map(|p| {
        let mut sums = p.chunks_exact(o * kg);
        let mut dw = sums
            .next()
            .map_or_else(|| vec![T::ZERO; o * kg], <[T]>::to_vec);
        for sum in sums {
            dw.iter_mut().zip(sum).for_each(|(d, &v)| *d = *d + v);
        }
        dw
    });
    (dx, dw)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The naive definition, one element at a time.
    fn naive(x: &[f64], g: &Windows2d) -> Vec<f64> {
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
            let g = Windows2d {
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

    /// The definition: every output a sum over its group's channels and taps.
    fn direct(x: &[f64], w: &[f64], b: &[f64], s: &ConvShape) -> Vec<f64> {
        let g = &s.window;
        let (c, o, groups) = (s.channels, s.out_channels, s.groups);
        let ([h, wd], [kh, kw], [oh, ow]) = (g.size, g.kernel, g.out);
        let (cg, og) = (c / groups, o / groups);
        let mut out = Vec::new();
        for n in 0..s.images {
            for oc in 0..o {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = b[oc];
                        for ci in 0..cg {
                            let ic = oc / og * cg + ci;
                            for ki in 0..kh {
                                for kj in 0..kw {
                                    let iy = (oy * g.stride[0] + ki * g.dilation[0]) as isize
                                        - g.padding[0] as isize;
                                    let ix = (ox * g.stride[1] + kj * g.dilation[1]) as isize
                                        - g.padding[1] as isize;
                                    if iy < 0 || ix < 0 || iy as usize >= h || ix as usize >= wd {
                                        continue;
                                    }
                                    let xv = x[((n * c + ic) * h + iy as usize) * wd + ix as usize];
                                    acc += w[((oc * cg + ci) * kh + ki) * kw + kj] * xv;
                                }
                            }
                        }
                        out.push(acc);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn conv2d_matches_the_definition_and_its_backward_is_the_adjoint() {
        // (images, channels, out channels, groups, size, kernel, dilation, padding, stride)
        for (images, c, o, groups, size, kernel, dilation, padding, stride) in [
            (9, 4, 6, 2, [5, 6], [3, 2], [1, 2], [1, 1], [2, 1]),
            (1, 3, 2, 1, [4, 4], [2, 2], [1, 1], [0, 0], [1, 1]),
            (20, 2, 2, 2, [3, 7], [1, 3], [1, 1], [0, 2], [1, 3]),
        ] {
            let outsz = |i: usize| {
                (size[i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) / stride[i] + 1
            };
            let window = Windows2d {
                offset: 0,
                planes: c,
                size,
                kernel,
                dilation,
                padding,
                stride,
                out: [outsz(0), outsz(1)],
            };
            let s = ConvShape {
                images,
                channels: c,
                out_channels: o,
                groups,
                window,
            };
            let wave = |len: usize, f: f64| -> Vec<f64> {
                (0..len).map(|v| (v as f64 * f).sin()).collect()
            };
            let x = wave(images * c * size[0] * size[1], 0.37);
            let w = wave(o * (c / groups) * kernel[0] * kernel[1], 0.91);
            let b = wave(o, 1.3);
            let out = conv2d(&x, &w, Some(&b), &s);
            let want = direct(&x, &w, &b, &s);
            assert_eq!(out.len(), want.len());
            for (a, e) in out.iter().zip(&want) {
                assert!((a - e).abs() < 1e-12, "{a} vs {e}");
            }
            // <g, conv(x, w)> is linear in x and in w: its gradients are the backward's.
            let g = wave(out.len(), 0.53);
            let (dx, dw) = conv2d_backward(&x, &w, &g, &s, (true, true));
            let (dx, dw) = (dx.unwrap(), dw.unwrap());
            let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(a, b)| a * b).sum::<f64>();
            let no_bias = vec![0.0; o];
            let value = dot(&g, &conv2d(&x, &w, Some(&no_bias), &s));
            assert!((dot(&dx, &x) - value).abs() < 1e-9 * value.abs().max(1.0));
            assert!((dot(&dw, &w) - value).abs() < 1e-9 * value.abs().max(1.0));
            // and each alone is the same
            let (only_dx, none) = conv2d_backward(&x, &w, &g, &s, (true, false));
            assert_eq!((only_dx.as_deref(), none), (Some(dx.as_slice()), None));
        }
    }
}
