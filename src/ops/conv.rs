//! im2col and col2im (`F.unfold`/`F.fold`): each is the other's backward, so gradients of
//! any order follow.

use super::binary::add;
use super::matmul::matmul;
use super::reduce::sum_dims;
use super::shape::{reshape, transpose};
use super::{input_dependent, nothing, record};
use crate::autograd::{is_grad_enabled, GradModeGuard, SavedVar, Var};
use crate::bail;
use crate::base::{DType, Device};
use crate::error::Result;
use crate::tensor::{Tensor, Window};

/// The sliding blocks of `[n, c, h, w]` as columns `[n, c * kh * kw, blocks]`.
pub fn im2col(x: &Var, win: Window) -> Result<Var> {
    let out = x.tensor().im2col(&win)?;
    let shape = x.shape();
    let size = [shape[2], shape[3]];
    Ok(record(
        out,
        &[x],
        "Im2ColBackward0",
        nothing,
        move |g, _, _| Ok(vec![Some(col2im(g, size, win)?)]),
    ))
}

/// Columns `[n, c * kh * kw, blocks]` summed into `[n, c, size...]` images.
pub fn col2im(x: &Var, size: [usize; 2], win: Window) -> Result<Var> {
    let out = x.tensor().col2im(size, &win)?;
    Ok(record(
        out,
        &[x],
        "Col2ImBackward0",
        nothing,
        move |g, _, _| Ok(vec![Some(im2col(g, win)?)]),
    ))
}

/// PyTorch's `convolution` as one node (`ConvolutionBackward0`): images `[n, c, h, w]` with
/// `weight` `[o, c / groups, kh, kw]` (and `bias` `[o]`) through im2col and one (grouped)
/// product. Only the input and weight are saved: the backward takes the columns again from
/// the input, and is written with differentiable ops (im2col, col2im, matmul, sum), so
/// gradients of any order follow.
pub fn convolution(
    x: &Var,
    weight: &Var,
    bias: Option<&Var>,
    win: Window,
    groups: usize,
) -> Result<Var> {
    let out = {
        let _no_grad = GradModeGuard::new(false);
        convolution_forward(x, weight, bias, win, groups)?
    };
    let mut inputs = vec![x, weight];
    inputs.extend(bias);
    let size = [x.shape()[2], x.shape()[3]];
    let w_shape = weight.shape().to_vec();
    Ok(record(
        out.tensor(),
        &inputs,
        "ConvolutionBackward0",
        |_| vec![SavedVar::input(x), SavedVar::input(weight)],
        move |g, saved, needs| {
            let (x, w) = (&saved[0], &saved[1]);
            if !is_grad_enabled() && on_cpu_kernel(x, w) {
                // No graph to record: the CPU kernel, one pass per image.
                let (dx, dw) = Tensor::conv2d_backward(
                    &x.tensor(),
                    &w.tensor(),
                    &g.tensor(),
                    &win,
                    groups,
                    (needs[0], needs[1]),
                )?;
                let mut grads = vec![
                    dx.map(|t| Var::new(t, false)),
                    dw.map(|t| Var::new(t, false)),
                ];
                if needs.len() == 3 {
                    grads.push(
                        needs[2]
                            .then(|| sum_dims(g, &[0, 2, 3], false))
                            .transpose()?,
                    );
                }
                return Ok(grads);
            }
            let (n, o) = (g.shape()[0], g.shape()[1]);
            let blocks = g.shape()[2] * g.shape()[3];
            let k = w_shape[1] * w_shape[2] * w_shape[3];
            let per_group = [groups as i64, (o / groups) as i64, k as i64];
            // [n, groups, o / groups, blocks]: the output gradient as the product made it.
            let gm = reshape(g, &[n as i64, per_group[0], per_group[1], blocks as i64])?;
            let mut grads = vec![None; needs.len()];
            if needs[0] {
                let wm = reshape(w, &per_group)?;
                let cols = matmul(&transpose(&wm, -1, -2)?, &gm)?; // [n, groups, k, blocks]
                let cols = reshape(&cols, &[n as i64, (groups * k) as i64, blocks as i64])?;
                grads[0] = Some(col2im(&cols, size, win)?);
            }
            if needs[1] {
                let cols = im2col(x, win)?;
                let cols = reshape(&cols, &[n as i64, per_group[0], k as i64, blocks as i64])?;
                let gw = matmul(&gm, &transpose(&cols, -1, -2)?)?; // [n, groups, o / g, k]
                let gw = sum_dims(&gw, &[0], false)?;
                let shape: Vec<i64> = w_shape.iter().map(|&d| d as i64).collect();
                grads[1] = Some(reshape(&gw, &shape)?);
            }
            if needs.len() == 3 && needs[2] {
                grads[2] = Some(sum_dims(g, &[0, 2, 3], false)?);
            }
            // (PyTorch's backward kernel reads the input and weight; its double backward
            // leaves their slope undefined)
            for grad in grads.iter_mut().flatten() {
                *grad = input_dependent("ConvolutionBackwardBackward0", grad, &[x, w], true);
            }
            Ok(grads)
        },
    ))
}

/// Whether the CPU convolution kernels take these operands: float32/float64 host tensors of
/// one dtype (other dtypes and devices take the composite of im2col and matmul).
fn on_cpu_kernel(x: &Var, weight: &Var) -> bool {
    let (device, dtype) = x.with_tensor(|t| (t.device(), t.dtype()));
    device == Device::Cpu
        && matches!(dtype, DType::F32 | DType::F64)
        && weight.with_tensor(|t| (t.device(), t.dtype())) == (device, dtype)
}

/// The convolution's value: the CPU kernel, or the differentiable ops (run without
/// recording).
fn convolution_forward(
    x: &Var,
    weight: &Var,
    bias: Option<&Var>,
    win: Window,
    groups: usize,
) -> Result<Var> {
    let Ok([o, c_per_group, kh, kw]) = <[usize; 4]>::try_from(&weight.shape()[..]) else {
        bail!(Runtime, "convolution: expected a 4-d weight");
    };
    let Ok([n, c, _, _]) = <[usize; 4]>::try_from(&x.shape()[..]) else {
        bail!(Runtime, "convolution: expected a 4-d input");
    };
    if groups == 0 || o % groups != 0 || c_per_group.checked_mul(groups) != Some(c) {
        bail!(
            Runtime,
            "convolution: groups={} does not divide the {} input and {} output channels",
            groups,
            c,
            o
        );
    }
    if let Some(b) = bias {
        if b.shape().as_slice() != [o] {
            bail!(
                Runtime,
                "Given weight of size {:?}, expected bias to be 1-dimensional with {} elements, \
                 but got bias of size {:?} instead",
                weight.shape().as_slice(),
                o,
                b.shape().as_slice()
            );
        }
    }
    if on_cpu_kernel(x, weight) && bias.is_none_or(|b| b.dtype() == x.dtype()) {
        let out = x.tensor().conv2d(
            &weight.tensor(),
            bias.map(|b| b.tensor()).as_ref(),
            &win,
            groups,
        )?;
        return Ok(Var::new(out, false));
    }
    let k = (c_per_group * kh * kw) as i64;
    let cols = im2col(x, win)?; // [n, c * kh * kw, blocks]
    let blocks = cols.shape()[2];
    let out = if groups == 1 {
        matmul(&reshape(weight, &[o as i64, k])?, &cols)?
    } else {
        let g = groups as i64;
        let cols = reshape(&cols, &[n as i64, g, k, blocks as i64])?;
        matmul(&reshape(weight, &[g, (o / groups) as i64, k])?, &cols)?
    };
    let [oh, ow] = win.blocks([x.shape()[2], x.shape()[3]])?;
    let out = reshape(&out, &[n as i64, o as i64, oh, ow])?;
    match bias {
        Some(b) => add(&out, &reshape(b, &[1, o as i64, 1, 1])?),
        None => Ok(out),
    }
}
