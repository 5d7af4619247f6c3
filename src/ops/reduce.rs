//! Reductions and the softmax family.

use super::shape::{expand, reshape, unsqueeze};
use super::{constant, nothing, record, Grads};
use crate::autograd::{SavedVar, Var};
use crate::bail;
use crate::error::Result;
use crate::ops::{div, mul, sub};
use crate::tensor::layout::wrap_dim;
use crate::tensor::{BinaryOp, CompareOp, DType, Tensor};

/// Sums a broadcast gradient back down to `shape` (undoes NumPy broadcasting).
pub fn sum_to(g: &Var, shape: &[usize]) -> Result<Var> {
    let gs = g.shape();
    if gs.as_slice() == shape {
        return Ok(g.clone());
    }
    let lead = gs.len() - shape.len();
    let dims: Vec<usize> = (0..gs.len())
        .filter(|&i| i < lead || (shape[i - lead] == 1 && gs[i] != 1))
        .collect();
    let summed = if dims.is_empty() {
        g.clone()
    } else {
        sum_dims(g, &dims, true)?
    };
    if summed.shape().as_slice() == shape {
        return Ok(summed);
    }
    reshape(
        &summed,
        &shape.iter().map(|&d| d as i64).collect::<Vec<_>>(),
    )
}

/// Wraps and de-duplicates reduction dims (`None` or empty means all).
pub fn reduction_dims(dims: Option<&[i64]>, ndim: usize) -> Result<Vec<usize>> {
    // No dims, or an empty list, reduces over all of them (as PyTorch).
    let Some(dims) = dims.filter(|d| !d.is_empty()) else {
        return Ok((0..ndim).collect());
    };
    let out = distinct_dims(dims, ndim)?;
    // (a 0-d tensor's dim 0 or -1 names the tensor itself: nothing to reduce over)
    Ok(if ndim > 0 { out } else { Vec::new() })
}

/// `dims` wrapped, each once: PyTorch's `dim_list_to_bitset` error for a repeated one.
pub fn distinct_dims(dims: &[i64], ndim: usize) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(dims.len());
    for &d in dims {
        let w = wrap_dim(d, ndim)?;
        if out.contains(&w) {
            bail!(
                Runtime,
                "dim {} appears multiple times in the list of dims",
                w
            );
        }
        out.push(w);
    }
    Ok(out)
}

/// A gradient of the reduced shape spread back over `in_shape`.
fn expand_back(g: &Var, in_shape: &[usize], dims: &[usize], keepdim: bool) -> Result<Var> {
    let mut g = g.clone();
    if !keepdim {
        let mut sorted = dims.to_vec();
        sorted.sort_unstable();
        for &d in &sorted {
            g = unsqueeze(&g, d as i64)?;
        }
    }
    expand(&g, &in_shape.iter().map(|&d| d as i64).collect::<Vec<_>>())
}

pub fn sum(x: &Var) -> Result<Var> {
    let t = x.tensor();
    let dims: Vec<usize> = (0..t.ndim()).collect();
    let out = t.sum_dims(&dims, false);
    let in_shape = x.shape();
    Ok(record(
        out?,
        &[x],
        "SumBackward0",
        nothing,
        move |g, _, _| Ok(vec![Some(expand_back(g, &in_shape, &dims, false)?)]),
    ))
}

pub fn sum_dims(x: &Var, dims: &[usize], keepdim: bool) -> Result<Var> {
    let out = x.tensor().sum_dims(dims, keepdim);
    let (in_shape, dims) = (x.shape(), dims.to_vec());
    Ok(record(
        out?,
        &[x],
        "SumBackward1",
        nothing,
        move |g, _, _| Ok(vec![Some(expand_back(g, &in_shape, &dims, keepdim)?)]),
    ))
}

fn check_mean_dtype(x: &Var) -> Result<()> {
    let d = x.dtype();
    if !d.is_float() {
        bail!(
            Runtime,
            "mean(): could not infer output dtype. Input dtype must be either a floating point or \
             complex dtype. Got: {}",
            d.scalar_name()
        );
    }
    Ok(())
}

pub fn mean(x: &Var) -> Result<Var> {
    check_mean_dtype(x)?;
    let t = x.tensor();
    let dims: Vec<usize> = (0..t.ndim()).collect();
    let n = t.numel() as f64;
    let out = t
        .sum_dims(&dims, false)?
        .binary(crate::tensor::BinaryOp::Div, &Tensor::scalar(n, t.dtype()))?;
    let in_shape = x.shape();
    Ok(record(
        out,
        &[x],
        "MeanBackward0",
        nothing,
        move |g, _, _| {
            let spread = expand_back(g, &in_shape, &dims, false)?;
            Ok(vec![Some(div(
                &spread,
                &constant(Tensor::scalar(n, g.dtype())),
            )?)])
        },
    ))
}

pub fn mean_dims(x: &Var, dims: &[usize], keepdim: bool) -> Result<Var> {
    check_mean_dtype(x)?;
    let t = x.tensor();
    let n: usize = dims.iter().map(|&d| t.shape()[d]).product();
    let n = n as f64;
    let out = t
        .sum_dims(dims, keepdim)?
        .binary(crate::tensor::BinaryOp::Div, &Tensor::scalar(n, t.dtype()))?;
    let (in_shape, dims) = (x.shape(), dims.to_vec());
    Ok(record(
        out,
        &[x],
        "MeanBackward1",
        nothing,
        move |g, _, _| {
            let spread = expand_back(g, &in_shape, &dims, keepdim)?;
            Ok(vec![Some(div(
                &spread,
                &constant(Tensor::scalar(n, g.dtype())),
            )?)])
        },
    ))
}

/// `max()`/`min()` over all elements; the gradient is shared evenly between ties.
pub fn extreme(x: &Var, max: bool) -> Result<Var> {
    let t = x.tensor();
    if t.numel() == 0 {
        bail!(
            Runtime,
            "{}(): Expected reduction dim to be specified for input.numel() == 0. Specify the \
             reduction dim with the 'dim' argument.",
            if max { "max" } else { "min" }
        );
    }
    let all: Vec<usize> = (0..t.ndim()).collect();
    let values = t.extreme_dims(&all, false, max)?;
    let name = if max { "MaxBackward1" } else { "MinBackward1" };
    let saved = |o: &Tensor| vec![SavedVar::input(x), SavedVar::output(&constant(o.clone()))];
    let in_shape = x.shape();
    Ok(record(
        values,
        &[x],
        name,
        saved,
        move |g, s, _| -> Result<Grads> {
            // PyTorch's evenly_distribute_backward: the elements equal to the result share
            // the gradient (NaN counts as equal to a NaN result); the others get 0, selected.
            let (x, r) = (s[0].tensor(), s[1].tensor());
            let both_nan = x
                .compare(CompareOp::Ne, &x)?
                .binary(BinaryOp::Minimum, &r.compare(CompareOp::Ne, &r)?)?;
            let hits = x
                .compare(CompareOp::Eq, &r)?
                .binary(BinaryOp::Maximum, &both_nan)?;
            let count = hits
                .cast(g.dtype())?
                .sum_dims(&(0..hits.ndim()).collect::<Vec<_>>(), false)?;
            let share = div(g, &constant(count))?;
            let spread = expand(
                &share,
                &in_shape.iter().map(|&d| d as i64).collect::<Vec<_>>(),
            )?;
            Ok(vec![Some(super::masked(&spread, hits)?)])
        },
    ))
}

/// `amax`/`amin` over `dims` (distinct, wrapped; every dim for a whole-tensor reduction):
/// PyTorch's formula for the gradient, `grad / count * mask` with `mask` the elements equal to
/// the result and `count` their number per reduced group, multiplied rather than selected (a
/// NaN gradient, or a NaN result that no element equals, reaches every element).
pub fn amax(x: &Var, dims: &[usize], keepdim: bool, max: bool) -> Result<Var> {
    let nd = x.shape().len();
    for (k, &d) in dims.iter().enumerate() {
        if d >= nd.max(1) || dims[..k].contains(&d) {
            bail!(
                Index,
                "amax(): dims {dims:?} are not distinct dims of a {nd}-d tensor"
            );
        }
    }
    let dims: &[usize] = if nd == 0 { &[] } else { dims };
    let values = x.tensor().extreme_dims(dims, keepdim, max)?;
    let name = if max {
        "AmaxBackward0"
    } else {
        "AminBackward0"
    };
    let saved = |o: &Tensor| vec![SavedVar::input(x), SavedVar::output(&constant(o.clone()))];
    let dims = dims.to_vec();
    Ok(record(
        values,
        &[x],
        name,
        saved,
        move |g, s, _| -> Result<Grads> {
            let (x, r) = (s[0].tensor(), s[1].tensor());
            let kept_shape = crate::backend::reduced_shape(x.shape(), &dims, true);
            // The result with its reduced dims back as size 1 (a contiguous view of it).
            let r = r.contiguous()?;
            let mut kept = crate::tensor::Layout::contiguous(&kept_shape);
            kept.offset = r.layout().offset;
            let r = r.with_layout(kept);
            let mask = x.compare(CompareOp::Eq, &r)?.cast(g.dtype())?;
            let count = mask.sum_dims(&dims, true)?;
            let g = reshape(g, &kept_shape.iter().map(|&d| d as i64).collect::<Vec<_>>())?;
            let share = div(&g, &constant(count))?;
            Ok(vec![Some(mul(&share, &constant(mask))?)])
        },
    ))
}

/// `max(dim)`/`min(dim)`: values (differentiable) and indices.
pub fn extreme_dim(x: &Var, dim: i64, keepdim: bool, max: bool) -> Result<(Var, Var)> {
    let t = x.tensor();
    let d = wrap_dim(dim, t.ndim())?;
    let name = if max { "MaxBackward0" } else { "MinBackward0" };
    if t.ndim() == 0 {
        // The value itself, as a new tensor with the op's node (not `x`), and index 0.
        let values = record(t.clone_data()?, &[x], name, nothing, |g, _, _| {
            Ok(vec![Some(g.clone())])
        });
        let zero = constant(Tensor::scalar_on(0.0, DType::I64, t.device())?);
        return Ok((values, zero));
    }
    check_reduced_dim(&t, d, if max { "max" } else { "min" })?;
    let (values, indices) = t.extreme_dim(d, keepdim, max)?;
    let n = t.shape()[d];
    // The indices handed back to the caller are saved version-checked: an in-place write to
    // them (`i.add_(5)`) makes backward raise PyTorch's error instead of scattering the
    // gradient to wrong (or out-of-range) places.
    let indices = constant(indices);
    let saved = |_: &Tensor| vec![SavedVar::input(&indices)];
    let out = record(values, &[x], name, saved, move |g, s, _| -> Result<Grads> {
        let idx = s[0].tensor();
        let idx = if keepdim {
            idx.with_layout(idx.layout().squeeze_dims(&[d]))
        } else {
            idx
        };
        let chosen = Tensor::one_hot_along(&idx, d, n, DType::Bool)?;
        let g = if keepdim {
            g.clone()
        } else {
            unsqueeze(g, d as i64)?
        };
        let full: Vec<i64> = chosen.shape().iter().map(|&d| d as i64).collect();
        Ok(vec![Some(super::masked(&expand(&g, &full)?, chosen)?)])
    });
    Ok((out, indices))
}

/// `argmax`/`argmin`, over all elements (flattened) or along `dim`.
pub fn arg_extreme(x: &Var, dim: Option<i64>, keepdim: bool, max: bool) -> Result<Var> {
    let t = x.tensor();
    if t.dtype() == DType::Bool {
        let name = if max { "argmax" } else { "argmin" };
        bail!(Runtime, "{name}(): does not support bool input");
    }
    match dim {
        None => {
            let flat = t
                .contiguous()?
                .with_layout(crate::tensor::Layout::contiguous(&[t.numel()]));
            if t.numel() == 0 {
                bail!(
                    Index,
                    "{}(): Expected reduction dim to be specified for input.numel() == 0.",
                    if max { "argmax" } else { "argmin" }
                );
            }
            let (_, i) = flat.extreme_dim(0, false, max)?;
            if keepdim {
                let ones = vec![1; t.ndim()];
                return Ok(constant(
                    i.with_layout(crate::tensor::Layout::contiguous(&ones)),
                ));
            }
            Ok(constant(i))
        }
        Some(dim) => {
            if t.ndim() == 0 {
                wrap_dim(dim, 0)?;
                return Ok(constant(Tensor::scalar_on(0.0, DType::I64, t.device())?));
            }
            let d = wrap_dim(dim, t.ndim())?;
            check_reduced_dim(&t, d, if max { "argmax" } else { "argmin" })?;
            Ok(constant(t.extreme_dim(d, keepdim, max)?.1))
        }
    }
}

/// PyTorch's `zero_numel_check_dims`: an empty dim has no extreme (`d` wrapped, as these
/// ops name it; `amax`/`amin` name it as given).
fn check_reduced_dim(t: &Tensor, d: usize, op: &str) -> Result<()> {
    if t.shape()[d] == 0 {
        bail!(
            Index,
            "{op}(): Expected reduction dim {d} to have non-zero size."
        );
    }
    Ok(())
}

/// PyTorch has (log_)softmax kernels for floating types only; its message names the kernel
/// it would have used (the last-dim one for the last dim or a 0-d tensor). An empty input
/// never reaches a kernel: it comes back as an empty tensor of its own dtype.
fn non_float_softmax(name: &str, t: &Tensor, d: usize) -> Result<Option<Var>> {
    if t.dtype().is_float() {
        return Ok(None);
    }
    if t.numel() == 0 {
        // (a new tensor, as PyTorch's: not one sharing the input's version counter)
        return Ok(Some(constant(t.clone_data()?)));
    }
    let lastdim = if d + 1 >= t.ndim() { "_lastdim" } else { "" };
    super::refuse_dtype(&format!("{name}{lastdim}_kernel_impl"), t.dtype())?;
    Ok(None)
}

pub fn softmax(x: &Var, dim: i64) -> Result<Var> {
    let t = x.tensor();
    let d = wrap_dim(dim, t.ndim())?;
    if let Some(empty) = non_float_softmax("softmax", &t, d)? {
        return Ok(empty);
    }
    let out = t.softmax(d, false);
    let saved = |o: &Tensor| vec![SavedVar::output(&constant(o.clone()))];
    Ok(record(
        out?,
        &[x],
        "SoftmaxBackward0",
        saved,
        move |g, s, _| {
            // y * (g - sum(g * y, dim))
            let y = &s[0];
            let dot = sum_dims(&mul(g, y)?, &dims_of(y, d), true)?;
            Ok(vec![Some(mul(y, &sub(g, &dot)?)?)])
        },
    ))
}

pub fn log_softmax(x: &Var, dim: i64) -> Result<Var> {
    let t = x.tensor();
    let d = wrap_dim(dim, t.ndim())?;
    if let Some(empty) = non_float_softmax("log_softmax", &t, d)? {
        return Ok(empty);
    }
    let out = t.softmax(d, true);
    let saved = |o: &Tensor| vec![SavedVar::output(&constant(o.clone()))];
    Ok(record(
        out?,
        &[x],
        "LogSoftmaxBackward0",
        saved,
        move |g, s, _| {
            // g - exp(y) * sum(g, dim)
            let total = sum_dims(g, &dims_of(g, d), true)?;
            Ok(vec![Some(sub(g, &mul(&super::exp(&s[0])?, &total)?)?)])
        },
    ))
}

fn dims_of(v: &Var, d: usize) -> Vec<usize> {
    if v.shape().is_empty() {
        vec![]
    } else {
        vec![d]
    }
}

/// Reshape helper used by composite ops.
pub fn reshape_to(x: &Var, shape: &[usize]) -> Result<Var> {
    reshape(x, &shape.iter().map(|&d| d as i64).collect::<Vec<_>>())
}
