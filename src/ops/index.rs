//! Indexing: `x[...]` (basic indexing gives views, integer tensors gather) and `x[...] = v`.

use std::sync::Arc;

use super::shape::{reshape, select, slice, strided_view, unsqueeze, where_, LayoutFn};
use super::view::copy_slices;
use super::{constant, inplace::rebase_region, mul, nothing, record};
use crate::autograd::{SavedVar, Var};
use crate::bail;
use crate::error::{Error, Result};
use crate::tensor::layout::{numel, Layout};
use crate::tensor::{Bool8, DType, Tensor};

/// One element of an indexing expression, already converted from Python.
#[derive(Clone, Debug)]
pub enum IndexItem {
    Int(i64),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    NewAxis,
    Ellipsis,
    /// An int64 tensor (gather) or a bool tensor (mask).
    Tensor(Tensor),
}

/// The view op PyTorch's `x[items] = v` writes through, as its errors name it: that of the
/// last basic index that makes a view (`Select` for an int, `Slice`, `Unsqueeze` for None);
/// None where the write goes to `x` itself (only `...`, `:` and tensors).
fn view_made_by(items: &[IndexItem]) -> Option<&'static str> {
    items.iter().rev().find_map(|item| match item {
        IndexItem::Int(_) => Some("Select"),
        IndexItem::NewAxis => Some("Unsqueeze"),
        IndexItem::Slice(start, stop, step) => {
            let whole =
                matches!(start, None | Some(0)) && stop.is_none() && matches!(step, None | Some(1));
            (!whole).then_some("Slice")
        }
        IndexItem::Ellipsis | IndexItem::Tensor(_) => None,
    })
}

fn wrap_index(i: i64, dim: usize, size: usize) -> Result<usize> {
    let s = size as i64;
    if i < -s || i >= s {
        bail!(
            Index,
            "index {} is out of bounds for dimension {} with size {}",
            i,
            dim,
            size
        );
    }
    Ok(if i < 0 { (i + s) as usize } else { i as usize })
}

/// Python's slice bounds, clamped to `size`.
fn slice_bounds(
    start: Option<i64>,
    stop: Option<i64>,
    step: Option<i64>,
    size: usize,
) -> Result<(usize, usize, usize)> {
    let step = step.unwrap_or(1);
    if step == 0 {
        bail!(Value, "slice step cannot be zero");
    }
    if step < 0 {
        bail!(Value, "step must be greater than zero");
    }
    let s = size as i64;
    let clampi = |v: i64| -> i64 {
        let v = if v < 0 { v + s } else { v };
        v.clamp(0, s)
    };
    let a = start.map(clampi).unwrap_or(0);
    let b = stop.map(clampi).unwrap_or(s);
    Ok((a as usize, b.max(a) as usize, step as usize))
}

/// How many input dimensions an item consumes.
fn consumed(item: &IndexItem) -> usize {
    match item {
        IndexItem::Int(_) | IndexItem::Slice(..) => 1,
        IndexItem::Tensor(t) if t.dtype() == DType::Bool => t.ndim(),
        IndexItem::Tensor(_) => 1,
        IndexItem::NewAxis | IndexItem::Ellipsis => 0,
    }
}

/// Replaces the ellipsis (or pads the end) with full slices.
fn expand_ellipsis(items: &[IndexItem], ndim: usize) -> Result<Vec<IndexItem>> {
    let used: usize = items.iter().map(consumed).sum();
    if used > ndim {
        // (PyTorch's words for a 0-d tensor indexed by one number or one slice)
        match items {
            [IndexItem::Int(_)] if ndim == 0 => bail!(
                Index,
                "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or \
                 `tensor.item<T>()` in C++ to convert a 0-dim tensor to a number"
            ),
            [IndexItem::Slice(..)] if ndim == 0 => {
                bail!(Index, "slice() cannot be applied to a 0-dim tensor.")
            }
            _ => bail!(Index, "too many indices for tensor of dimension {}", ndim),
        }
    }
    let ellipses = items
        .iter()
        .filter(|i| matches!(i, IndexItem::Ellipsis))
        .count();
    if ellipses > 1 {
        bail!(Index, "an index can only have a single ellipsis ('...')");
    }
    let fill = || (0..ndim - used).map(|_| IndexItem::Slice(None, None, None));
    let mut out = Vec::with_capacity(items.len() + ndim);
    for it in items {
        if matches!(it, IndexItem::Ellipsis) {
            out.extend(fill());
        } else {
            out.push(it.clone());
        }
    }
    if ellipses == 0 {
        out.extend(fill());
    }
    Ok(out)
}

/// `x[items]`.
pub fn getitem(x: &Var, items: &[IndexItem]) -> Result<Var> {
    // `x[:]` alone is a slice even when it keeps everything (PyTorch's SliceBackward0).
    let bare_slice = matches!(items, [IndexItem::Slice(..)]);
    let items = expand_ellipsis(items, x.shape().len())?;
    let tensors = items
        .iter()
        .filter(|i| matches!(i, IndexItem::Tensor(_)))
        .count();
    let saved = index_tensors(&items);
    // A uint8 index is a mask, as PyTorch reads it (it warns that this is deprecated).
    let items = items
        .into_iter()
        .map(|i| match i {
            IndexItem::Tensor(t) if t.dtype() == DType::U8 => {
                Ok(IndexItem::Tensor(t.cast(DType::Bool)?))
            }
            other => Ok(other),
        })
        .collect::<Result<Vec<_>>>()?;
    if items.iter().any(is_bool_scalar) {
        return index_through_bool_scalars(x, &items);
    }
    if tensors > 1 {
        let items = masks_as_indices(&items, &x.shape())?;
        return index_by_several(x, &items, &saved);
    }
    let mut out = x.clone();
    let mut dim = 0usize;
    // The input dimension an item refers to (error messages name it).
    let mut source_dim = 0usize;
    for (position, item) in items.iter().enumerate() {
        let shape = out.shape();
        source_dim += consumed(item);
        let src = source_dim.saturating_sub(1);
        match item {
            IndexItem::Int(i) => {
                let i = wrap_index(*i, src, shape[dim])?;
                out = select(&out, dim, i)?;
            }
            IndexItem::Slice(a, b, s) => {
                let (a, b, s) = slice_bounds(*a, *b, *s, shape[dim])?;
                if (bare_slice && position == 0) || !(a == 0 && b == shape[dim] && s == 1) {
                    out = slice(&out, dim, a, b, s)?;
                }
                dim += 1;
            }
            IndexItem::NewAxis => {
                out = unsqueeze(&out, dim as i64)?;
                dim += 1;
            }
            IndexItem::Ellipsis => unreachable!("expanded above"),
            IndexItem::Tensor(t) => {
                let (flat_dims, positions, idx_shape) = tensor_index(t, &shape, dim, src)?;
                // Merge the masked dims (a bool mask may span several) into one, then gather.
                if flat_dims > 1 {
                    let mut merged: Vec<i64> = shape[..dim].iter().map(|&d| d as i64).collect();
                    merged.push(shape[dim..dim + flat_dims].iter().product::<usize>() as i64);
                    merged.extend(shape[dim + flat_dims..].iter().map(|&d| d as i64));
                    out = reshape(&out, &merged)?;
                }
                let target = (idx_shape.len() != 1).then(|| {
                    let s = out.shape();
                    let mut target = s[..dim].to_vec();
                    target.extend(idx_shape.iter().copied());
                    target.extend(s[dim + 1..].iter().copied());
                    target
                });
                out = index_select_saving(&out, dim, positions, &saved, target.as_deref())?;
                dim += idx_shape.len();
            }
        }
    }
    if out.ptr_eq(x) {
        // Nothing selected (`x[...]`, `x[:, :]`): a new view all the same, as in PyTorch.
        let same: LayoutFn = Arc::new(|l: &Layout| l.clone());
        return Ok(strided_view(x, "AliasBackward0", same));
    }
    Ok(out)
}

/// A bool mask indexing `shape` from `dim` must have the sizes of the dims it covers
/// (PyTorch's error names the first differing dim of the mask and of the tensor).
fn check_mask_shape(mask: &Tensor, shape: &[usize], dim: usize) -> Result<()> {
    let covered = &shape[dim..(dim + mask.ndim()).min(shape.len())];
    if let Some(j) = (0..mask.ndim()).find(|&j| covered.get(j) != Some(&mask.shape()[j])) {
        bail!(
            Index,
            "The shape of the mask {} at index {} does not match the shape of the indexed tensor \
             {} at index {}",
            crate::tensor::layout::shape_str(mask.shape()),
            j,
            crate::tensor::layout::shape_str(shape),
            dim + j
        );
    }
    Ok(())
}

/// Beside other tensor indices, a bool mask of `k` dims stands for its `k` columns of
/// `nonzero()` coordinates (as PyTorch reads `x[mask, idx]`), after checking that it matches
/// the dims it covers.
fn masks_as_indices(items: &[IndexItem], shape: &[usize]) -> Result<Vec<IndexItem>> {
    let mut out = Vec::with_capacity(items.len());
    let mut dim = 0usize;
    for item in items {
        match item {
            IndexItem::Tensor(t) if t.dtype() == DType::Bool && t.ndim() > 0 => {
                let k = t.ndim();
                check_mask_shape(t, shape, dim)?;
                let covered = &shape[dim..dim + k];
                let mut columns = vec![Vec::new(); k];
                for (p, m) in t.to_vec::<Bool8>()?.into_iter().enumerate() {
                    if m.get() {
                        let mut rest = p;
                        for d in (0..k).rev() {
                            columns[d].push((rest % covered[d]) as i64);
                            rest /= covered[d];
                        }
                    }
                }
                for column in columns {
                    let n = column.len();
                    out.push(IndexItem::Tensor(Tensor::from_vec(column, &[n])));
                }
            }
            other => out.push(other.clone()),
        }
        dim += consumed(item);
    }
    Ok(out)
}

fn is_bool_scalar(item: &IndexItem) -> bool {
    matches!(item, IndexItem::Tensor(t) if t.dtype() == DType::Bool && t.ndim() == 0)
}

/// `x[True]`, `x[0, False]`: PyTorch reads a 0-d bool as a new axis indexed by `[0]` (True)
/// or `[]` (False), which makes the whole key advanced indexing (a copy, `IndexBackward0`):
/// the basic items first (a view with the new axes), then the tensors.
fn index_through_bool_scalars(x: &Var, items: &[IndexItem]) -> Result<Var> {
    let full = || IndexItem::Slice(None, None, None);
    let mut basic = Vec::with_capacity(items.len());
    let mut advanced = Vec::with_capacity(items.len());
    for item in items {
        match item {
            IndexItem::Tensor(t) if is_bool_scalar(item) => {
                basic.push(IndexItem::NewAxis);
                let at: Vec<i64> = if t.to_vec::<Bool8>()?[0].get() {
                    vec![0]
                } else {
                    vec![]
                };
                let n = at.len();
                advanced.push(IndexItem::Tensor(Tensor::from_vec(at, &[n])));
            }
            IndexItem::Tensor(_) => {
                basic.extend((0..consumed(item)).map(|_| full()));
                advanced.push(item.clone());
            }
            IndexItem::Int(_) => basic.push(item.clone()),
            _ => {
                basic.push(item.clone());
                advanced.push(full());
            }
        }
    }
    getitem(&getitem(x, &basic)?, &advanced)
}

/// `x[items]` with several integer tensors among ints, slices and new axes, as PyTorch reads
/// it: the basic items first (a view), then the tensors, broadcast together, gather along the
/// dims they fall on. Their dims take the first one's place when adjacent, else (`x[i, :, j]`)
/// go to the front.
fn index_by_several(x: &Var, items: &[IndexItem], saved: &[Tensor]) -> Result<Var> {
    let full = || IndexItem::Slice(None, None, None);
    let mut basic = Vec::with_capacity(items.len());
    let mut indexed = Vec::new(); // (dim of the view, index)
    let mut dim = 0usize;
    for item in items {
        match item {
            IndexItem::Tensor(t) => {
                indexed.push((dim, t.clone()));
                basic.push(full());
                dim += 1;
            }
            IndexItem::Int(_) => basic.push(item.clone()),
            other => {
                basic.push(other.clone());
                dim += 1;
            }
        }
    }
    let view = if basic
        .iter()
        .all(|i| matches!(i, IndexItem::Slice(None, None, None)))
    {
        x.clone()
    } else {
        getitem(x, &basic)?
    };
    let ndim = view.shape().len();
    let adjacent = indexed.windows(2).all(|w| w[1].0 == w[0].0 + 1);
    let (view, first) = if adjacent {
        (view, indexed[0].0)
    } else {
        let first: Vec<i64> = indexed.iter().map(|(d, _)| *d as i64).collect();
        let rest = (0..ndim as i64).filter(|d| !first.contains(d));
        let order: Vec<i64> = first.iter().copied().chain(rest).collect();
        (super::shape::permute(&view, &order)?, 0)
    };
    let mut gather_items: Vec<IndexItem> = (0..ndim).map(|_| full()).collect();
    for (j, (_, t)) in indexed.into_iter().enumerate() {
        gather_items[first + j] = IndexItem::Tensor(t);
    }
    gather_by_several(&view, &gather_items, saved)
}

/// `x[i, j]`, `x[:, i, j]`: several integer tensors on adjacent dimensions, broadcast together
/// (the only other items may be full slices). The indexed dims are merged into one, gathered
/// at the combined positions, and the result takes the broadcast index shape in their place.
fn gather_by_several(x: &Var, items: &[IndexItem], saved: &[Tensor]) -> Result<Var> {
    let unsupported = || {
        Error::Index(
            "rustgrad supports several tensor indices only on adjacent dimensions, with full \
             slices (:) elsewhere"
                .into(),
        )
    };
    let first = items
        .iter()
        .position(|i| matches!(i, IndexItem::Tensor(_)))
        .ok_or_else(unsupported)?;
    let indices: Vec<&Tensor> = items[first..]
        .iter()
        .map_while(|i| match i {
            IndexItem::Tensor(t) if t.dtype() != DType::Bool => Some(t),
            _ => None,
        })
        .collect();
    let k = indices.len();
    let rest_are_full_slices = items
        .iter()
        .enumerate()
        .filter(|(i, _)| *i < first || *i >= first + k)
        .all(|(_, it)| matches!(it, IndexItem::Slice(None, None, None)));
    if !rest_are_full_slices {
        return Err(unsupported());
    }
    let shape = x.shape();
    let mut index_shape = crate::tensor::layout::Shape::new();
    for t in &indices {
        index_shape = crate::tensor::layout::broadcast_shapes(&index_shape, t.shape()).map_err(|_| {
            Error::Index(format!(
                "shape mismatch: indexing tensors could not be broadcast together with shapes {}",
                indices.iter().map(|t| crate::tensor::layout::shape_str(t.shape())).collect::<Vec<_>>().join(", ")
            ))
        })?;
    }
    // Row-major position within the merged dims, from each index broadcast to `index_shape`.
    let n = numel(&index_shape);
    let mut positions = vec![0usize; n];
    let others: usize = shape[..first].iter().chain(&shape[first + k..]).product();
    if checks_indices(&shape[first..first + k], n, others)? {
        for (j, t) in indices.iter().enumerate() {
            let dim = first + j;
            let size = shape[dim];
            let expanded = t.with_layout(t.layout().expand(&index_shape)?);
            let later: usize = shape[dim + 1..first + k].iter().product();
            for (p, i) in positions.iter_mut().zip(expanded.index_values()?) {
                *p += wrap_index(i, dim, size)? * later;
            }
        }
    }
    let mut merged: Vec<i64> = shape[..first].iter().map(|&d| d as i64).collect();
    merged.push(shape[first..first + k].iter().product::<usize>() as i64);
    merged.extend(shape[first + k..].iter().map(|&d| d as i64));
    let mut target = shape[..first].to_vec();
    target.extend(index_shape.iter().copied());
    target.extend(shape[first + k..].iter().copied());
    index_select_saving(
        &reshape(x, &merged)?,
        first,
        positions,
        saved,
        Some(&target),
    )
}

/// Whether integer indices of `count` elements into dims of these `sizes` are to be checked
/// (and used): PyTorch checks them in the gather kernel, per element of the result, so a result
/// with no elements (`others`, the product of the dims not indexed, is 0) checks none and
/// `ones(2, 0)[[5]]` is empty, not an error. Its one check up front: an indexed dim of size 0
/// with a non-empty index.
fn checks_indices(sizes: &[usize], count: usize, others: usize) -> Result<bool> {
    if count > 0 && sizes.contains(&0) {
        bail!(Index, "index is out of bounds for dimension with size 0");
    }
    Ok(count > 0 && others > 0)
}

/// Positions selected along `dim` by an index tensor: (dims consumed, positions, result
/// shape of the index).
fn tensor_index(
    t: &Tensor,
    shape: &[usize],
    dim: usize,
    src: usize,
) -> Result<(usize, Vec<usize>, Vec<usize>)> {
    match t.dtype() {
        DType::Bool => {
            let k = t.ndim().max(1);
            check_mask_shape(t, shape, dim)?;
            let mask = t.to_vec::<Bool8>()?;
            let pos: Vec<usize> = mask
                .iter()
                .enumerate()
                .filter(|(_, m)| m.get())
                .map(|(i, _)| i)
                .collect();
            let n = pos.len();
            Ok((k, pos, vec![n]))
        }
        DType::I64 | DType::I32 => {
            let size = shape[dim];
            let values = t.index_values()?;
            let others: usize = (shape[..dim].iter().chain(&shape[dim + 1..])).product();
            let pos = if checks_indices(&shape[dim..=dim], values.len(), others)? {
                values
                    .into_iter()
                    .map(|i| wrap_index(i, src, size))
                    .collect::<Result<Vec<_>>>()?
            } else {
                vec![0; values.len()]
            };
            Ok((1, pos, t.shape().to_vec()))
        }
        _ => bail!(
            Index,
            "tensors used as indices must be long, int, byte or bool tensors"
        ),
    }
}

/// The rows of `weight` (`[num, dim]`) that the integer `indices` pick, shaped
/// `[*indices, dim]` (`F.embedding`). The gradient adds each picked row's gradient into its
/// row, skipping the rows picked as `padding_idx` and, with `scale_grad_by_freq`, dividing
/// by how often each index occurs (as PyTorch's `embedding_dense_backward`).
pub fn embedding(
    weight: &Var,
    indices: &Tensor,
    padding_idx: Option<usize>,
    scale_grad_by_freq: bool,
) -> Result<Var> {
    let wt = weight.tensor();
    if wt.ndim() != 2 {
        bail!(Runtime, "'weight' must be 2-D");
    }
    let (num, dim) = (wt.shape()[0], wt.shape()[1]);
    let positions = indices
        .cast(DType::I64)?
        .index_values()?
        .into_iter()
        .map(|i| match usize::try_from(i) {
            Ok(i) if i < num => Ok(i),
            _ => Err(Error::Index("index out of range in self".into())),
        })
        .collect::<Result<Vec<usize>>>()?;
    let mut shape = indices.shape().to_vec();
    shape.push(dim);
    let n = positions.len();
    let out = wt.index_select(0, &positions)?;
    let out = out.with_layout(Layout::contiguous(&shape));
    // Per picked row: whether it gets a gradient (not padding) and its scale.
    let keep: Option<Vec<bool>> = padding_idx.map(|p| positions.iter().map(|&i| i != p).collect());
    let scale: Option<Vec<f64>> = scale_grad_by_freq.then(|| {
        let mut count = std::collections::HashMap::new();
        for &i in &positions {
            *count.entry(i).or_insert(0usize) += 1;
        }
        positions.iter().map(|i| 1.0 / count[i] as f64).collect()
    });
    let positions = Arc::new(positions);
    // (the indices are saved as PyTorch saves them: writing them before backward is refused)
    let indices = constant(indices.clone());
    Ok(record(
        out,
        &[weight],
        "EmbeddingBackward0",
        |_: &Tensor| vec![SavedVar::input(&indices)],
        move |g, _, _| {
            let mut rows = reshape(g, &[n as i64, dim as i64])?;
            let device = g.tensor().device();
            if let Some(keep) = &keep {
                let bools: Vec<Bool8> = keep.iter().map(|&k| Bool8::from(k)).collect();
                let mask = Tensor::from_vec(bools, &[n, 1]).to_device(device)?;
                let zero = constant(Tensor::scalar(0.0, g.dtype()).to_device(device)?);
                rows = where_(&constant(mask), &rows, &zero)?;
            }
            if let Some(scale) = &scale {
                let s = Tensor::from_f64s(scale, &[n, 1], g.dtype()).to_device(device)?;
                rows = mul(&rows, &constant(s))?;
            }
            Ok(vec![Some(index_add(
                &rows,
                0,
                positions.clone(),
                &[num, dim],
            )?)])
        },
    ))
}

/// Rows `positions` along `dim` (a copy; repeated positions repeat).
pub fn index_select(x: &Var, dim: usize, positions: Vec<usize>) -> Result<Var> {
    index_select_saving(x, dim, positions, &[], None)
}

/// [`index_select`] for `x[indices]`: the node saves the index tensors as PyTorch's
/// `IndexBackward0` does, so writing one before backward is its version error. With
/// `shape`, the rows come out in that shape (the index's dims in place of `dim`): one
/// `IndexBackward0` node, as PyTorch's, not a view of the rows.
fn index_select_saving(
    x: &Var,
    dim: usize,
    positions: Vec<usize>,
    indices: &[Tensor],
    shape: Option<&[usize]>,
) -> Result<Var> {
    let rows = x.tensor().index_select(dim, &positions)?;
    let rows_shape: Vec<i64> = rows.shape().iter().map(|&d| d as i64).collect();
    let out = match shape {
        Some(shape) => rows.contiguous()?.with_layout(Layout::contiguous(shape)),
        None => rows,
    };
    let reshaped = shape.is_some();
    let in_shape = x.shape();
    let positions = Arc::new(positions);
    let indices: Vec<Var> = indices.iter().map(|t| constant(t.clone())).collect();
    Ok(record(
        out,
        &[x],
        "IndexBackward0",
        |_: &Tensor| indices.iter().map(SavedVar::input).collect(),
        move |g, _, _| {
            let g = if reshaped {
                reshape(g, &rows_shape)?
            } else {
                g.clone()
            };
            Ok(vec![Some(index_add(
                &g,
                dim,
                positions.clone(),
                &in_shape,
            )?)])
        },
    ))
}

/// The tensors of an index that PyTorch's `IndexBackward0` saves (all but 0-d bools, which
/// only add a dimension).
fn index_tensors(items: &[IndexItem]) -> Vec<Tensor> {
    items
        .iter()
        .filter_map(|i| match i {
            IndexItem::Tensor(t) if !(t.dtype() == DType::Bool && t.ndim() == 0) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

/// Zeros of `shape` with `g` added at `positions` along `dim`: the adjoint of
/// [`index_select`] (repeated positions add up).
fn index_add(g: &Var, dim: usize, positions: Arc<Vec<usize>>, shape: &[usize]) -> Result<Var> {
    let out = g.tensor().index_add_into_zeros(dim, &positions, shape);
    Ok(record(
        out?,
        &[g],
        "IndexBackwardBackward0",
        nothing,
        move |gg, _, _| Ok(vec![Some(index_select(gg, dim, positions.to_vec())?)]),
    ))
}

/// `x[items] = value`: writes in place and, when recording, rebases `x`'s history on a
/// `CopySlices` node (gradient to the old `x` outside the region, to `value` inside it).
pub fn setitem(x: &Var, items: &[IndexItem], value: &Var) -> Result<()> {
    setitem_checked(x, items, value, || Ok(()))
}

/// Whether two of these memory offsets are the same (a tensor whose elements share memory).
fn repeats(offsets: &[usize]) -> bool {
    let len = offsets.iter().max().map_or(0, |m| m + 1);
    let mut seen = vec![false; len];
    offsets
        .iter()
        .any(|&o| std::mem::replace(&mut seen[o], true))
}

/// `items` with each index tensor replaced by full slices over the dims it consumes (a 0-d
/// mask by the dim it adds): the basic indexing PyTorch applies first, as a view.
fn basic_part(items: &[IndexItem]) -> Vec<IndexItem> {
    let full = || IndexItem::Slice(None, None, None);
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            IndexItem::Tensor(t) if t.dtype() == DType::Bool && t.ndim() == 0 => {
                out.push(IndexItem::NewAxis)
            }
            IndexItem::Tensor(t) if t.dtype() == DType::Bool => {
                out.extend((0..t.ndim()).map(|_| full()))
            }
            IndexItem::Tensor(_) => out.push(full()),
            other => out.push(other.clone()),
        }
    }
    out
}

/// Whether `items` are only `...` and slices that keep every element of their dims in order
/// (no ints, new axes or tensors): the tensor itself, as PyTorch's setitem sees it.
fn addresses_all(items: &[IndexItem], shape: &[usize]) -> bool {
    let Ok(items) = expand_ellipsis(items, shape.len()) else {
        return false;
    };
    items.len() == shape.len()
        && items.iter().zip(shape).all(|(item, &n)| match item {
            IndexItem::Slice(a, b, s) => {
                matches!(slice_bounds(*a, *b, *s, n), Ok((0, end, 1)) if end == n)
            }
            _ => false,
        })
}

/// [`setitem`], with `check` (the caller's own check of the value) run in PyTorch's order:
/// after the leaf check and the indices' own checks, before the value's shape is checked.
pub fn setitem_checked(
    x: &Var,
    items: &[IndexItem],
    value: &Var,
    check: impl FnOnce() -> Result<()>,
) -> Result<()> {
    if addresses_all(items, &x.shape()) {
        // PyTorch writes `x[...] = v` (and `x[()]`, `x[:]`, any slices that keep every
        // element: its slicing skips them) as `x.fill_(v)` (a 0-d value) or `x.copy_(v)`: the
        // tensor itself, not a view of it (its old values get no gradient)
        // (PyTorch's `copy_to`: equal sizes copy, then a 0-d CPU value fills, else the value
        // is expanded and copied)
        if value.shape() == x.shape() {
            return super::inplace::copy_(x, value);
        }
        if value.shape().is_empty() && value.tensor().device() == crate::base::Device::Cpu {
            return super::inplace::fill_tensor_(x, value);
        }
        // (as PyTorch's `copy_to`, the value loses its leading size-1 dims and is expanded
        // to `x`'s shape: the overlap check then compares those strides, so
        // `x[...] = x.squeeze(0)` is allowed and `x.unsqueeze(0)[...] = x` refused)
        let mut value = value.clone();
        let ones = value.shape().iter().take_while(|&&d| d == 1).count();
        if ones > 0 {
            let rest: Vec<i64> = value.shape()[ones..].iter().map(|&d| d as i64).collect();
            value = reshape(&value, &rest)?;
        }
        let shape: Vec<i64> = x.shape().iter().map(|&d| d as i64).collect();
        if value.shape() != x.shape() {
            value = super::shape::expand(&value, &shape)?;
        }
        return super::inplace::copy_(x, &value);
    }
    // Which elements the expression addresses: index a tensor of element numbers.
    let shape = x.shape();
    let n = numel(&shape);
    let numbers = Var::new(
        Tensor::from_vec((0..n as i64).collect::<Vec<i64>>(), &shape),
        false,
    );
    // PyTorch's order: the basic indexing (a view: too many indices, ints out of range), the
    // in-place write's leaf check, then the index tensors' own checks.
    let index = |items: &[IndexItem]| {
        let _off = crate::autograd::GradModeGuard::new(false);
        getitem(&numbers, items)
    };
    let advanced = items.iter().any(|i| matches!(i, IndexItem::Tensor(_)));
    let through = view_made_by(items);
    let picked = if advanced {
        index(&basic_part(items))?;
        super::inplace::refuse_write(x, through, value.requires_grad())?;
        index(items)?
    } else {
        let picked = index(items)?;
        super::inplace::refuse_write(x, through, value.requires_grad())?;
        picked
    };
    check()?;
    let region_shape = picked.shape();
    let positions: Arc<Vec<usize>> = Arc::new(
        picked
            .tensor()
            .index_values()?
            .into_iter()
            .map(|p| p as usize)
            .collect(),
    );
    // A value with more dims than the region loses its leading size-1 dims (PyTorch writes
    // a [1, N] row into an [N] one).
    let mut value = value.clone();
    while value.shape().len() > region_shape.len() && value.shape()[0] == 1 {
        value = super::shape::squeeze_named(&value, &[0], "SqueezeBackward1")?;
    }
    let value = &value;
    let vt = value.tensor();
    if crate::tensor::layout::broadcast_shapes(&region_shape, vt.shape())
        .map(|s| s.as_slice() != region_shape.as_slice())
        .unwrap_or(true)
    {
        bail!(
            Runtime,
            "shape mismatch: value tensor of shape {} cannot be broadcast to indexing result of \
             shape {}",
            crate::tensor::layout::shape_str(vt.shape()),
            crate::tensor::layout::shape_str(&region_shape)
        );
    }
    let vt = value.tensor();
    if vt.ndim() > 0 && Arc::ptr_eq(x.tensor().storage(), vt.storage()) {
        // PyTorch judges the value, broadcast to the region, against the region written: a
        // view of `x` for basic indexing. (A 0-d value is a fill, from a copy; the region of
        // advanced indexing is a copy here, where PyTorch's `index_put_` would also refuse
        // an overlap: not checked.)
        let region = {
            let _off = crate::autograd::GradModeGuard::new(false);
            getitem(x, items)?
        };
        let rt = region.tensor();
        if !rt.layout().has_internal_overlap() {
            // (a value of another shape without its leading size-1 dims, expanded:
            // PyTorch's `copy_to`)
            let l = vt.layout();
            let ones = if vt.shape() == region_shape.as_slice() {
                0
            } else {
                l.shape.iter().take_while(|&&d| d == 1).count()
            };
            let stripped = Layout {
                shape: l.shape[ones..].into(),
                strides: l.strides[ones..].into(),
                offset: l.offset,
            };
            let expanded = vt.with_layout(stripped.expand(&region_shape)?);
            super::inplace::refuse_partial_overlap(&rt, &[expanded])?;
        }
    }
    let xt = x.tensor();
    let recording =
        crate::autograd::is_grad_enabled() && (x.requires_grad() || value.requires_grad());
    // (a dense layout cannot repeat memory: only others are looked at element by element)
    let offsets = if recording || xt.layout().is_non_overlapping_and_dense() {
        Vec::new()
    } else {
        xt.layout().offsets()
    };
    if !recording && repeats(&offsets) {
        // An expanded (or unfolded) tensor: PyTorch writes the addressed elements where they
        // sit in memory (`index_put_` on one only warns), refusing a basic-indexing region
        // that itself repeats memory along a dim of stride 0; writing the whole tensor back
        // would put stale copies over the written ones.
        if !advanced {
            let region = {
                let _off = crate::autograd::GradModeGuard::new(false);
                getitem(x, items)?
            };
            if region.tensor().layout().has_internal_overlap() {
                bail!(
                    Runtime,
                    "unsupported operation: more than one element of the written-to tensor \
                     refers to a single memory location. Please clone() the tensor before \
                     performing the operation."
                );
            }
        }
        let addresses: Vec<usize> = positions.iter().map(|&p| offsets[p]).collect();
        let len = offsets.iter().max().map_or(0, |m| m + 1);
        let memory = xt.with_layout(Layout::contiguous(&[len]));
        let vt = value.tensor();
        return memory.put_(
            &addresses,
            &vt.with_layout(vt.layout().expand(&region_shape)?),
        );
    }
    rebase_region(x, &[value], move |prev, others| {
        let value = &others[0];
        let out = prev.tensor().clone_data()?;
        let flat = out.with_layout(Layout::contiguous(&[n]));
        let vt = value.tensor().cast(out.dtype())?;
        flat.put_(
            &positions,
            &vt.with_layout(vt.layout().expand(&region_shape)?),
        )?;
        Ok(copy_slices(
            out,
            prev,
            value,
            positions,
            region_shape.to_vec(),
        ))
    })
}
