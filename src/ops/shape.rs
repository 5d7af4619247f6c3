//! Views (sharing storage) and other shape ops: their gradients undo the reshaping.

use std::sync::Arc;

use std::borrow::Cow;

use super::{constant, mark_view, nothing, record, record_node, reduce::sum_to, Grads};
pub use crate::autograd::LayoutFn;
use crate::autograd::{Backward, SavedVar, Var};
use crate::bail;
use crate::error::Result;
use crate::tensor::layout::{self, infer_shape, shape_str, wrap_dim, Layout};
use crate::tensor::{DType, Shape, Tensor};

/// A view through `f`; the gradient is scattered back into zeros of the input's shape.
pub fn strided_view(x: &Var, name: &'static str, f: LayoutFn) -> Var {
    let t = x.tensor();
    let out = t.with_layout(f(t.layout()));
    let v = record_node(out, &[x], nothing, || {
        Arc::new(StridedViewBackward {
            name,
            in_shape: x.shape(),
            view: f,
        })
    });
    mark_view(v, x)
}

/// The node of [`strided_view`], which tells the engine its region.
struct StridedViewBackward {
    name: &'static str,
    in_shape: Shape,
    view: LayoutFn,
}

impl Backward for StridedViewBackward {
    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed(self.name)
    }
    fn apply(&self, grad: &Var, _: &[Var], _: &[bool]) -> Result<Grads> {
        let scattered = view_scatter(grad, &self.in_shape, self.name, self.view.clone())?;
        Ok(vec![Some(scattered)])
    }
    fn view_region(&self) -> Option<(&[usize], &LayoutFn)> {
        Some((&self.in_shape, &self.view))
    }
}

/// Zeros of `shape` with `g` written into the view `f` selects: the adjoint of
/// [`strided_view`] (and differentiable, its own adjoint being the view again).
pub fn view_scatter(g: &Var, shape: &[usize], name: &'static str, f: LayoutFn) -> Result<Var> {
    let zeros = Tensor::zeros_on(shape, g.dtype(), g.tensor().device())?;
    let region = zeros.with_layout(f(zeros.layout()));
    region.add_into(&g.tensor())?;
    Ok(record(
        zeros,
        &[g],
        backward_name(name),
        nothing,
        move |gg, _, _| Ok(vec![Some(strided_view(gg, name, f.clone()))]),
    ))
}

fn backward_name(name: &'static str) -> &'static str {
    match name {
        "SelectBackward0" => "SelectBackwardBackward0",
        "SliceBackward0" => "SliceBackwardBackward0",
        _ => "ViewScatterBackward0",
    }
}

pub fn view(x: &Var, shape: &[i64]) -> Result<Var> {
    let t = x.tensor();
    let target = infer_shape(shape, t.numel())?;
    let Some(l) = t.layout().view(&target) else {
        bail!(
            Runtime,
            "view size is not compatible with input tensor's size and stride (at least one \
             dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        );
    };
    Ok(view_with(x, t.with_layout(l), "ViewBackward0"))
}

/// Records a reshaping view whose gradient is reshaped back.
fn view_with(x: &Var, out: Tensor, name: &'static str) -> Var {
    let in_shape: Vec<i64> = x.shape().iter().map(|&d| d as i64).collect();
    let v = record(out, &[x], name, nothing, move |g, _, _| {
        Ok(vec![Some(reshape(g, &in_shape)?)])
    });
    mark_view(v, x)
}

/// A view when the strides allow it, else a copy.
pub fn reshape(x: &Var, shape: &[i64]) -> Result<Var> {
    let t = x.tensor();
    let target = infer_shape(shape, t.numel())?;
    if let Some(l) = t.layout().view(&target) {
        return Ok(view_with(x, t.with_layout(l), "ViewBackward0"));
    }
    let copy = clone(x)?;
    let ct = copy.tensor();
    Ok(view_with(
        &copy,
        ct.with_layout(Layout::contiguous(&target)),
        "UnsafeViewBackward0",
    ))
}

/// A same-shape view named as PyTorch names the reshape that ends `matmul`.
pub fn unsafe_view(x: &Var, shape: &[usize]) -> Result<Var> {
    let t = x.tensor().contiguous();
    Ok(view_with(
        x,
        t?.with_layout(Layout::contiguous(shape)),
        "UnsafeViewBackward0",
    ))
}

pub fn flatten(x: &Var, start: i64, end: i64) -> Result<Var> {
    let shape = x.shape();
    let (s, e) = (wrap_dim(start, shape.len())?, wrap_dim(end, shape.len())?);
    if shape.is_empty() {
        return reshape(x, &[1]);
    }
    if s > e {
        bail!(
            Runtime,
            "flatten() has invalid args: start_dim cannot come after end_dim"
        );
    }
    let mut target: Vec<i64> = shape[..s].iter().map(|&d| d as i64).collect();
    target.push(shape[s..=e].iter().product::<usize>() as i64);
    target.extend(shape[e + 1..].iter().map(|&d| d as i64));
    if target.len() == shape.len() {
        return Ok(x.clone());
    }
    reshape(x, &target)
}

/// Drops size-1 dims (all of them, or those in `dims`).
pub fn squeeze(x: &Var, dims: Option<&[i64]>) -> Result<Var> {
    let t = x.tensor();
    let nd = t.ndim();
    let (dims, name): (Vec<usize>, _) = match dims {
        None => ((0..nd).collect(), "SqueezeBackward0"),
        Some(ds) => {
            let wrapped = super::reduce::distinct_dims(ds, nd)?;
            (
                wrapped,
                if ds.len() == 1 {
                    "SqueezeBackward1"
                } else {
                    "SqueezeBackward2"
                },
            )
        }
    };
    let out = t.with_layout(t.layout().squeeze_dims(&dims));
    Ok(view_with(x, out, name))
}

/// `squeeze(dims)` recorded under another of PyTorch's squeeze node names.
pub fn squeeze_named(x: &Var, dims: &[usize], name: &'static str) -> Result<Var> {
    let t = x.tensor();
    let out = t.with_layout(t.layout().squeeze_dims(dims));
    Ok(view_with(x, out, name))
}

pub fn unsqueeze(x: &Var, dim: i64) -> Result<Var> {
    let t = x.tensor();
    let d = wrap_dim(dim, t.ndim() + 1)?;
    let out = t.with_layout(t.layout().unsqueeze(d));
    let v = record(out, &[x], "UnsqueezeBackward0", nothing, move |g, _, _| {
        Ok(vec![Some(squeeze(g, Some(&[d as i64]))?)])
    });
    Ok(mark_view(v, x))
}

pub fn transpose(x: &Var, d0: i64, d1: i64) -> Result<Var> {
    let t = x.tensor();
    let (a, b) = (wrap_dim(d0, t.ndim())?, wrap_dim(d1, t.ndim())?);
    if t.ndim() == 0 {
        // Still a view (PyTorch's `transpose(0, 0)` of a 0-d tensor aliases it).
        let v = record(t, &[x], "TransposeBackward0", nothing, |g, _, _| {
            Ok(vec![Some(g.clone())])
        });
        return Ok(mark_view(v, x));
    }
    let out = t.with_layout(t.layout().transpose(a, b));
    let v = record(out, &[x], "TransposeBackward0", nothing, move |g, _, _| {
        Ok(vec![Some(transpose(g, a as i64, b as i64)?)])
    });
    Ok(mark_view(v, x))
}

/// `x.t()`: the transpose of a matrix (0-d and 1-d tensors come back as they are).
pub fn t(x: &Var) -> Result<Var> {
    let t = x.tensor();
    if t.ndim() > 2 {
        bail!(
            Runtime,
            "t() expects a tensor with <= 2 dimensions, but self is {}D",
            t.ndim()
        );
    }
    let out = if t.ndim() == 2 {
        t.with_layout(t.layout().transpose(0, 1))
    } else {
        t
    };
    let v = record(out, &[x], "TBackward0", nothing, |g, _, _| {
        Ok(vec![Some(self::t(g)?)])
    });
    Ok(mark_view(v, x))
}

pub fn permute(x: &Var, dims: &[i64]) -> Result<Var> {
    let t = x.tensor();
    let nd = t.ndim();
    if dims.len() != nd {
        bail!(
            Runtime,
            "permute(sparse_coo): number of dimensions in the tensor input does not match the \
             length of the desired ordering of dimensions i.e. input.dim() = {} is not equal to \
             len(dims) = {}",
            nd,
            dims.len()
        );
    }
    let order = dims
        .iter()
        .map(|&d| wrap_dim(d, nd))
        .collect::<Result<Vec<_>>>()?;
    let mut seen = vec![false; nd];
    for &d in &order {
        if std::mem::replace(&mut seen[d], true) {
            bail!(Runtime, "permute(): duplicate dims are not allowed.");
        }
    }
    let out = t.with_layout(t.layout().permute(&order));
    let mut inverse = vec![0i64; nd];
    for (i, &d) in order.iter().enumerate() {
        inverse[d] = i as i64;
    }
    let v = record(out, &[x], "PermuteBackward0", nothing, move |g, _, _| {
        Ok(vec![Some(permute(g, &inverse)?)])
    });
    Ok(mark_view(v, x))
}

/// Broadcasts to `shape` without copying (`-1` keeps a dimension).
pub fn expand(x: &Var, shape: &[i64]) -> Result<Var> {
    let t = x.tensor();
    let lead = shape.len().saturating_sub(t.ndim());
    let target: Vec<usize> = shape
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            if d == -1 && i >= lead {
                Ok(t.shape()[i - lead])
            } else if d == -1 && t.ndim() > 0 {
                Err(crate::error::Error::Runtime(format!(
                    "The expanded size of the tensor (-1) isn't allowed in a leading, \
                     non-existing dimension {i}"
                )))
            } else if d < 0 {
                // PyTorch's words for a negative size other than -1.
                Err(crate::error::Error::Runtime(
                    "numel: integer multiplication overflow".into(),
                ))
            } else {
                Ok(d as usize)
            }
        })
        .collect::<Result<_>>()?;
    let out = t.with_layout(t.layout().expand(&target)?);
    let in_shape = t.shape().to_vec();
    let v = record(out, &[x], "ExpandBackward0", nothing, move |g, _, _| {
        Ok(vec![Some(sum_to(g, &in_shape)?)])
    });
    Ok(mark_view(v, x))
}

/// A copy into fresh contiguous storage (`clone(memory_format=torch.contiguous_format)`).
pub fn clone(x: &Var) -> Result<Var> {
    Ok(cloned(x, x.tensor().clone_data()?))
}

/// PyTorch's `clone()`: a copy that keeps the layout (see `Tensor::clone_preserving`).
pub fn clone_preserving(x: &Var) -> Result<Var> {
    Ok(cloned(x, x.tensor().clone_preserving()?))
}

fn cloned(x: &Var, copy: Tensor) -> Var {
    record(copy, &[x], "CloneBackward0", nothing, |g, _, _| {
        Ok(vec![Some(g.clone())])
    })
}

pub fn contiguous(x: &Var) -> Result<Var> {
    if x.tensor().is_contiguous() {
        return Ok(x.clone());
    }
    clone(x)
}

/// `cond ? a : b`, broadcasting all three.
pub fn where_(cond: &Var, a: &Var, b: &Var) -> Result<Var> {
    let c = cond.tensor();
    if c.dtype() != DType::Bool {
        bail!(
            Runtime,
            "where expected condition to be a boolean tensor, but got a tensor with dtype {}",
            c.dtype().scalar_name()
        );
    }
    let out = Tensor::where_(&c, &a.tensor(), &b.tensor())?;
    let (sa, sb) = (a.shape(), b.shape());
    let saved = |_: &Tensor| vec![SavedVar::input(cond)];
    Ok(record(
        out,
        &[a, b],
        "WhereBackward0",
        saved,
        move |g, s, n| -> Result<Grads> {
            let zero = constant(Tensor::scalar(0.0, g.dtype()));
            Ok(vec![
                super::need(n[0], || sum_to(&where_(&s[0], g, &zero)?, &sa))?,
                super::need(n[1], || sum_to(&where_(&s[0], &zero, g)?, &sb))?,
            ])
        },
    ))
}

/// Joins tensors along an existing dimension.
pub fn cat(xs: &[Var], dim: i64) -> Result<Var> {
    if xs.is_empty() {
        bail!(Value, "torch.cat(): expected a non-empty list of Tensors");
    }
    let ts: Vec<Tensor> = xs.iter().map(|v| v.tensor()).collect();
    if let Some(i) = ts.iter().position(|t| t.ndim() == 0) {
        bail!(
            Runtime,
            "zero-dimensional tensor (at position {}) cannot be concatenated",
            i
        );
    }
    // PyTorch's legacy rule: a 1-D empty tensor (shape [0]) is skipped next to others.
    let legacy_empty = |t: &Tensor| t.shape() == [0];
    let first = ts.iter().find(|t| !legacy_empty(t)).unwrap_or(&ts[0]);
    let skipped = |t: &Tensor| legacy_empty(t) && !legacy_empty(first);
    // Only legacy empty tensors: any dim is accepted (PyTorch never checks it then).
    let d = if legacy_empty(first) {
        0
    } else {
        wrap_dim(dim, first.ndim())?
    };
    let dtype = ts
        .iter()
        .fold(first.dtype(), |acc, t| acc.promote(t.dtype()));
    let mut total: u128 = 0;
    for (i, t) in ts.iter().enumerate() {
        if skipped(t) {
            continue;
        }
        if t.ndim() != first.ndim() {
            bail!(
                Runtime,
                "Tensors must have same number of dimensions: got {} and {}",
                first.ndim(),
                t.ndim()
            );
        }
        for k in 0..t.ndim() {
            if k != d && t.shape()[k] != first.shape()[k] {
                bail!(
                    Runtime,
                    "Sizes of tensors must match except in dimension {}. Expected size {} but got \
                     size {} for tensor number {} in the list.",
                    d,
                    first.shape()[k],
                    t.shape()[k],
                    i
                );
            }
        }
        total += t.shape()[d] as u128; // (u128: a sum of usizes cannot overflow it here)
    }
    let mut shape = first.shape().to_vec();
    shape[d] = match usize::try_from(total) {
        Ok(total) => total,
        Err(_) => {
            let sizes: Vec<String> = (0..shape.len())
                .map(|k| {
                    if k == d {
                        total.to_string()
                    } else {
                        shape[k].to_string()
                    }
                })
                .collect();
            bail!(
                Runtime,
                "Storage size calculation overflowed with sizes=[{}]",
                sizes.join(", ")
            );
        }
    };
    let device = crate::tensor::common_device(&ts.iter().collect::<Vec<_>>())?;
    let out = Tensor::zeros_on(&shape, dtype, device)?;
    // Each input's extent along `d`, None for a legacy empty one (skipped, or of no extent
    // anyway: PyTorch's backward gives it a constant `zeros(0)`).
    let mut sizes = Vec::with_capacity(ts.len());
    let mut start = 0;
    for t in &ts {
        if skipped(t) || legacy_empty(t) {
            sizes.push(None);
            continue;
        }
        let len = t.shape()[d];
        // (a fresh result starts at version 0, as PyTorch's)
        out.with_layout(out.layout().slice(d, start, start + len, 1))
            .copy_from_unversioned(t)?;
        sizes.push(Some(len));
        start += len;
    }
    let refs: Vec<&Var> = xs.iter().collect();
    Ok(record(
        out,
        &refs,
        "CatBackward0",
        nothing,
        move |g, _, n| -> Result<Grads> {
            let mut start = 0;
            let mut grads = Vec::with_capacity(sizes.len());
            for (i, &len) in sizes.iter().enumerate() {
                let s = start;
                grads.push(match len {
                    Some(len) => {
                        start += len;
                        super::need(n[i], || slice(g, d, s, s + len, 1))?
                    }
                    None => super::need(n[i], || {
                        Ok(constant(Tensor::zeros_on(
                            &[0],
                            g.dtype(),
                            g.tensor().device(),
                        )?))
                    })?,
                });
            }
            Ok(grads)
        },
    ))
}

/// Joins tensors along a new dimension.
pub fn stack(xs: &[Var], dim: i64) -> Result<Var> {
    if xs.is_empty() {
        bail!(Runtime, "stack expects a non-empty TensorList");
    }
    let shape0 = xs[0].shape();
    for (i, x) in xs.iter().enumerate() {
        if x.shape() != shape0 {
            bail!(
                Runtime,
                "stack expects each tensor to be equal size, but got {} at entry 0 and {} at entry {}",
                shape_str(&shape0),
                shape_str(&x.shape()),
                i
            );
        }
    }
    let d = wrap_dim(dim, shape0.len() + 1)?;
    let parts: Vec<Var> = {
        let _off = crate::autograd::GradModeGuard::new(false);
        xs.iter()
            .map(|x| unsqueeze(&x.detach(), d as i64))
            .collect::<Result<_>>()?
    };
    let joined = {
        let _off = crate::autograd::GradModeGuard::new(false);
        cat(&parts, d as i64)?
    };
    let refs: Vec<&Var> = xs.iter().collect();
    let count = xs.len();
    Ok(record(
        joined.tensor(),
        &refs,
        "StackBackward0",
        nothing,
        move |g, _, n| -> Result<Grads> {
            (0..count)
                .map(|i| super::need(n[i], || select(g, d, i)))
                .collect()
        },
    ))
}

/// `x[..., i, ...]` along `dim` (index already wrapped and checked).
pub fn select(x: &Var, dim: usize, index: usize) -> Result<Var> {
    Ok(strided_view(
        x,
        "SelectBackward0",
        Arc::new(move |l: &Layout| l.select(dim, index)),
    ))
}

/// `x[..., start:end:step, ...]` along `dim` (bounds already clamped).
pub fn slice(x: &Var, dim: usize, start: usize, end: usize, step: usize) -> Result<Var> {
    Ok(strided_view(
        x,
        "SliceBackward0",
        Arc::new(move |l: &Layout| l.slice(dim, start, end, step)),
    ))
}

/// Checks a requested size list (`view(2, 3)`), for error messages that name the shape.
pub fn numel_of(shape: &[usize]) -> usize {
    layout::numel(shape)
}

/// `x.unfold(dim, size, step)`: the windows of `size` elements every `step` along `dim`, as a
/// new last dim of that size (a view: windows may overlap, and their gradients add up).
pub fn unfold(x: &Var, dim: i64, size: i64, step: i64) -> Result<Var> {
    let shape = x.shape();
    let d = wrap_dim(dim, shape.len())?;
    let len = shape.get(d).copied().unwrap_or(1);
    if size < 0 {
        bail!(Runtime, "size is {size} but must be >= 0");
    }
    if step <= 0 {
        bail!(Runtime, "step is {step} but must be > 0");
    }
    let (size, step) = (size as usize, step as usize);
    if size > len {
        bail!(
            Runtime,
            "maximum size for tensor at dimension {d} is {len} but size is {size}"
        );
    }
    let windows = (len - size) / step + 1;
    Ok(strided_view(
        x,
        "UnfoldBackward0",
        Arc::new(move |l: &Layout| {
            let mut out = l.clone();
            if l.ndim() == 0 {
                out.shape.push(size);
                out.strides.push(1);
                return out;
            }
            let along = l.strides[d];
            out.shape[d] = windows;
            out.strides[d] = along * step as isize;
            out.shape.push(size);
            out.strides.push(along);
            out
        }),
    ))
}

/// `x.diagonal(offset, dim1, dim2)`: the diagonal `offset` above the main one of the planes
/// of `dim1` and `dim2`, as the last dim of a view (writes through it reach `x`).
pub fn diagonal(x: &Var, offset: i64, dim1: i64, dim2: i64) -> Result<Var> {
    let shape = x.shape();
    let n = shape.len();
    // PyTorch's order: the dims are wrapped first (the default dims of a 1-D tensor are an
    // IndexError), then compared, then the rank is checked.
    let (a, b) = (wrap_dim(dim1, n)?, wrap_dim(dim2, n)?);
    if a == b {
        bail!(
            Runtime,
            "diagonal dimensions cannot be identical {dim1}, {dim2}"
        );
    }
    if n < 2 {
        bail!(
            Runtime,
            "diagonal dimensions requires ndim larger than 1, got {n}"
        );
    }
    let (rows, cols) = (shape[a] as i64, shape[b] as i64);
    let length = if offset >= 0 {
        rows.min(cols.saturating_sub(offset))
    } else {
        (rows.saturating_add(offset)).min(cols)
    }
    .max(0) as usize;
    Ok(strided_view(
        x,
        "DiagonalBackward0",
        Arc::new(move |l: &Layout| {
            let mut out = l.clone();
            if length > 0 {
                let (shift, dim) = if offset >= 0 {
                    (offset, b)
                } else {
                    (-offset, a)
                };
                out.offset = (l.offset as isize + l.strides[dim] * shift as isize) as usize;
            }
            let along = l.strides[a] + l.strides[b];
            let (hi, lo) = (a.max(b), a.min(b));
            out.shape.remove(hi);
            out.shape.remove(lo);
            out.strides.remove(hi);
            out.strides.remove(lo);
            out.shape.push(length);
            out.strides.push(along);
            out
        }),
    ))
}
