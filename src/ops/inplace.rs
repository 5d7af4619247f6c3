//! In-place ops. Each computes its result with the ordinary differentiable op, writes it
//! into the tensor's storage (bumping the version, so saved copies of the old value are
//! caught at backward), and moves the tensor's history onto the new node.

use std::sync::Arc;

use super::view::{copy_slices, view_positions};
use super::{constant, nothing, record, reduce::sum_to, zeros_like};
use crate::autograd::arena::op_of_node;
use crate::autograd::{is_grad_enabled, GradModeGuard, Var, ViewCreation};
use crate::bail;
use crate::error::Result;
use crate::tensor::layout::shape_str;
use crate::tensor::{BinaryOp, DType, Scalar, Tensor};

/// Runs `compute(prev, others)`, where `prev` stands for `x`'s current value and history,
/// and makes its result `x`'s new value and history. When `x` is a view, its base's history
/// is rebased too (a `CopySlices` node), so gradients through the base see the change.
pub fn rebase(
    x: &Var,
    others: &[&Var],
    compute: impl FnOnce(&Var, &[Var]) -> Result<Var>,
) -> Result<()> {
    refuse_write(x, None, others.iter().any(|o| o.requires_grad()))?;
    if !x.tensor().layout().has_internal_overlap() {
        let inputs: Vec<Tensor> = others.iter().map(|o| o.tensor()).collect();
        refuse_partial_overlap(&x.tensor(), &inputs)?;
    }
    rebase_region(x, others, compute)
}

/// PyTorch's error for an input that partly overlaps the tensor an op writes (`written`).
pub fn refuse_partial_overlap(written: &Tensor, inputs: &[Tensor]) -> Result<()> {
    if inputs.iter().any(|o| written.partially_overlaps(o)) {
        bail!(
            Runtime,
            "unsupported operation: some elements of the input tensor and the written-to tensor \
             refer to a single memory location. Please clone() the tensor before performing the \
             operation."
        );
    }
    Ok(())
}

/// PyTorch's refusal to write in place into a leaf that requires grad, or a view of one,
/// while grad mode is on. PyTorch checks it before the op's own arguments, so in-place ops
/// whose arguments are checked before [`rebase`] call this first.
pub fn refuse_leaf_write(x: &Var) -> Result<()> {
    refuse_write(x, None, false)
}

/// PyTorch's `check_inplace` for a write into `x` while grad mode is on (`others_need_grad`:
/// whether a value written needs a gradient). `through`: the view op a write by indexing
/// (`x[0] = v`) first makes, e.g. `Select`, which PyTorch's words name.
pub fn refuse_write(x: &Var, through: Option<&str>, others_need_grad: bool) -> Result<()> {
    // (an integer or bool tensor records nothing, whatever is written into it)
    if !is_grad_enabled() || !x.dtype().is_float() {
        return Ok(());
    }
    refuse_view_creation(x, through, others_need_grad)?;
    if let Some(b) = x.view_base() {
        if x.requires_grad() && b.is_leaf() {
            bail!(
                Runtime,
                "a view of a leaf Variable that requires grad is being used in an in-place \
                 operation."
            );
        }
    }
    if x.is_leaf() && x.requires_grad() {
        // (a write by indexing writes through the view the indexing made)
        let view = if through.is_some() { "a view of " } else { "" };
        bail!(
            Runtime,
            "{view}a leaf Variable that requires grad is being used in an in-place operation."
        );
    }
    Ok(())
}

/// PyTorch's `handle_view_on_rebase`: no in-place write under grad mode through a view made
/// in no_grad mode of a base that requires grad, or through one of several views one call
/// returned (no history could say what the write does to the other views' gradients).
fn refuse_view_creation(x: &Var, through: Option<&str>, others_need_grad: bool) -> Result<()> {
    let creation = x.creation();
    let no_grad_view = matches!(creation, ViewCreation::NoGrad { .. });
    if creation == ViewCreation::Default || !(x.requires_grad() || no_grad_view || others_need_grad)
    {
        return Ok(());
    }
    // The view PyTorch names (its `grad_fn` and output number): the one indexing makes, else
    // the call that made this one, else this one's own op; none where it has no history.
    let (named, has_history) = match (through, creation) {
        (Some(op), ViewCreation::NoGrad { .. }) => (Some((op.to_string(), 0)), true),
        (Some(op), _) => (Some((op.to_string(), 0)), x.requires_grad()),
        (None, ViewCreation::NoGrad { direct, .. }) => {
            (x.grad_fn_name().map(|n| (op_of_node(&n), 0)), !direct)
        }
        (None, ViewCreation::MultiOutput { op: Some((op, k)) }) => {
            (Some((op.to_string(), k)), x.requires_grad())
        }
        (None, _) => (
            x.grad_fn_name().map(|n| (op_of_node(&n), 0)),
            x.requires_grad(),
        ),
    };
    let named = named.filter(|_| has_history);
    Err(crate::error::Error::Runtime(
        creation.rebase_refusal(named, false),
    ))
}

/// [`rebase`] without the overlap check, for a caller that writes a region of `x` and has
/// checked the region itself (`x[i] = v`).
pub fn rebase_region(
    x: &Var,
    others: &[&Var],
    compute: impl FnOnce(&Var, &[Var]) -> Result<Var>,
) -> Result<()> {
    write_back(x, others, compute, true)
}

/// `x` overwritten with one value everywhere (`fill_`, `zero_`): PyTorch allows it on a tensor
/// whose elements share memory (an expanded one), which gets the value either way.
fn rebase_fill(x: &Var, compute: impl FnOnce(&Var, &[Var]) -> Result<Var>) -> Result<()> {
    write_back(x, &[], compute, false)
}

fn write_back(
    x: &Var,
    others: &[&Var],
    compute: impl FnOnce(&Var, &[Var]) -> Result<Var>,
    refuse_overlap: bool,
) -> Result<()> {
    let grad_mode = is_grad_enabled();
    let base = if grad_mode { x.view_base() } else { None };
    refuse_write(x, None, others.iter().any(|o| o.requires_grad()))?;
    let others: Vec<Var> = others.iter().map(|v| (*v).clone()).collect();
    // An integer or bool tensor never has a gradient (copying a float that needs one into
    // it, as PyTorch allows, records nothing).
    let recording = grad_mode
        && x.dtype().is_float()
        && (x.requires_grad() || others.iter().any(|o| o.requires_grad()));
    let target = x.tensor();
    if refuse_overlap && target.layout().has_internal_overlap() {
        bail!(
            Runtime,
            "unsupported operation: more than one element of the written-to tensor refers to a \
             single memory location. Please clone() the tensor before performing the operation."
        );
    }
    // Snapshots of the old values with the old histories: the new nodes' inputs.
    let snapshot = |v: &Var| -> Result<Var> {
        let t = v.tensor().clone_data()?;
        Ok(match v.grad_fn() {
            Some(node) => Var::with_history(t, node),
            None => constant(t),
        })
    };
    let base_prev = if recording {
        base.as_ref().map(snapshot).transpose()?
    } else {
        None
    };
    let result = if recording {
        // A view's old value is read through a fresh view of its base's old history (as
        // PyTorch's CopySlices reads the written region), not through the view's own node:
        // hooks registered on that node belong to the old value and no longer run.
        let prev = match base.as_ref().and_then(|_| x.remade_from_base()) {
            Some(node) => Var::with_history(x.tensor().clone_data()?, node),
            None => snapshot(x)?,
        };
        compute(&prev, &others)?
    } else {
        let _off = GradModeGuard::new(false);
        compute(&x.detach(), &others)?
    };
    let rt = result.tensor();
    if rt.shape() != target.shape() {
        bail!(
            Runtime,
            "output with shape {} doesn't match the broadcast shape {}",
            shape_str(target.shape()),
            shape_str(rt.shape())
        );
    }
    if rt.dtype().is_float() && !target.dtype().is_float()
        || rt.dtype().kind() == crate::base::Kind::Int && target.dtype() == DType::Bool
    {
        bail!(
            Runtime,
            "result type {} can't be cast to the desired output type {}",
            rt.dtype().scalar_name(),
            target.dtype().scalar_name()
        );
    }
    target.copy_from(&rt)?;
    if recording && result.requires_grad() {
        if let Some(node) = result.grad_fn() {
            crate::autograd::arena::retarget_saved_output(node.id(), &rt, &target);
        }
        if let (Some(b), Some(prev)) = (base, base_prev) {
            let bt = b.tensor();
            let positions = Arc::new(view_positions(&bt, &target));
            let node = copy_slices(bt, &prev, &result, positions, target.shape().to_vec());
            b.set_grad_fn(node.grad_fn());
            // As PyTorch, the written view reads its new history through its base's
            // (`AsStridedBackward0` of `CopySlices`), not straight from the write's node.
            x.set_grad_fn(x.remade_from_base().or_else(|| result.grad_fn()));
        } else {
            x.set_grad_fn(result.grad_fn());
        }
    }
    Ok(())
}

/// For a write already made into `x` whose new value and history is `result` (a custom
/// `Function`'s `mark_dirty` output): when `x` is a view, its base's history is rebased on a
/// `CopySlices` node and `x` reads its history through the base, as [`write_back`] does.
/// False when `x` is no view (the caller gives `x` the result's history itself).
pub fn rebase_written_view(x: &Var, result: &Var) -> bool {
    let Some(base) = x.view_base().filter(|_| is_grad_enabled()) else {
        return false;
    };
    let (bt, target) = (base.tensor(), x.tensor());
    // (CopySlices reads only the old value's history, not its data, now overwritten)
    let prev = match base.grad_fn() {
        Some(node) => Var::with_history(bt.clone(), node),
        None if base.requires_grad() => base.clone(),
        None => constant(bt.clone()),
    };
    let positions = Arc::new(view_positions(&bt, &target));
    let node = copy_slices(bt, &prev, result, positions, target.shape().to_vec());
    base.set_grad_fn(node.grad_fn());
    x.set_grad_fn(x.remade_from_base().or_else(|| result.grad_fn()));
    true
}

/// Whether `x` is a view whose in-place writes [`refuse_view_creation`] may refuse: the
/// shortcuts below leave such writes to the general path, which checks.
fn refused_view(x: &Var) -> bool {
    x.creation() != ViewCreation::Default
}

/// `x op= other` straight into `x`'s memory when nothing is recorded (an optimizer update
/// under `no_grad`, `p -= lr * g`): one pass, no temporary, the same values as the general
/// path. False when the general path must run (recording, casts, aliasing, errors).
fn assign_in_place(x: &Var, other: &Var, op: BinaryOp) -> Result<bool> {
    let recording =
        is_grad_enabled() && (x.requires_grad() || other.requires_grad() || refused_view(x));
    if recording {
        return Ok(false);
    }
    x.tensor().binary_assign(op, &other.tensor())
}

pub fn add_(x: &Var, other: &Var) -> Result<()> {
    if assign_in_place(x, other, BinaryOp::Add)? {
        return Ok(());
    }
    rebase(x, &[other], |p, o| super::add(p, &o[0]))
}

pub fn sub_(x: &Var, other: &Var) -> Result<()> {
    if assign_in_place(x, other, BinaryOp::Sub)? {
        return Ok(());
    }
    rebase(x, &[other], |p, o| super::sub(p, &o[0]))
}

pub fn mul_(x: &Var, other: &Var) -> Result<()> {
    if assign_in_place(x, other, BinaryOp::Mul)? {
        return Ok(());
    }
    rebase(x, &[other], |p, o| super::mul(p, &o[0]))
}

pub fn div_(x: &Var, other: &Var) -> Result<()> {
    if assign_in_place(x, other, BinaryOp::Div)? {
        return Ok(());
    }
    rebase(x, &[other], |p, o| super::div(p, &o[0]))
}

pub fn clamp_(x: &Var, min: Option<f64>, max: Option<f64>) -> Result<()> {
    rebase(x, &[], |p, _| super::clamp(p, min, max))
}

/// A constant result whose node passes zero gradient to the old value.
fn overwrite(prev: &Var, out: Tensor, name: &'static str) -> Var {
    record(out, &[prev], name, nothing, |g, _, _| {
        Ok(vec![Some(zeros_like(g)?)])
    })
}

/// `x.fill_(value)` straight into `x`'s memory when nothing is recorded (no temporary of
/// `x`'s size and no copy: a 1M-element `fill_` took 8x PyTorch's time that way).
fn fill_in_place(x: &Var, value: Scalar) -> Result<bool> {
    let recording =
        is_grad_enabled() && ((x.dtype().is_float() && x.requires_grad()) || refused_view(x));
    if recording {
        return Ok(false);
    }
    x.tensor().fill_(value)?;
    Ok(true)
}

pub fn fill_(x: &Var, value: Scalar) -> Result<()> {
    if fill_in_place(x, value)? {
        return Ok(());
    }
    rebase_fill(x, |p, _| {
        let t = p.tensor();
        Ok(overwrite(
            p,
            Tensor::full_on(t.shape(), value, t.dtype(), t.device())?,
            "FillBackward2",
        ))
    })
}

pub fn zero_(x: &Var) -> Result<()> {
    if fill_in_place(x, Scalar::Int(0))? {
        return Ok(());
    }
    rebase_fill(x, |p, _| {
        let t = p.tensor();
        Ok(overwrite(
            p,
            Tensor::zeros_on(t.shape(), t.dtype(), t.device())?,
            "ZeroBackward0",
        ))
    })
}

/// `x.copy_(src)`: `src` broadcast to `x`'s shape and cast to its dtype.
pub fn copy_(x: &Var, src: &Var) -> Result<()> {
    overwrite_from(x, src, "CopyBackwards")
}

/// `x.fill_(value)` with a 0-d tensor `value` (which then gets the sum of `x`'s gradient).
pub fn fill_tensor_(x: &Var, value: &Var) -> Result<()> {
    if value.tensor().ndim() != 0 {
        crate::bail!(
            Runtime,
            "fill_ only supports 0-dimension value tensor but got tensor with {} dimensions.",
            value.tensor().ndim()
        );
    }
    // PyTorch fills from a copy of a value that aliases the filled tensor (`x.fill_(x[0])`).
    if x.tensor().shares_memory(&value.tensor()) {
        return overwrite_from(x, &super::clone(value)?, "FillBackward3");
    }
    overwrite_from(x, value, "FillBackward3")
}

/// `x`'s elements replaced by `src` broadcast to its shape and cast to its dtype, recorded as
/// `name`: no gradient to `x`'s old values, `src`'s summed back to its shape.
fn overwrite_from(x: &Var, src: &Var, name: &'static str) -> Result<()> {
    let (shape, dtype) = (x.shape(), x.dtype());
    rebase(x, &[src], move |p, o| {
        let s = o[0].tensor();
        let c = s.cast(dtype)?;
        // A view, not a copy: `rebase` copies it into `x` once (copying first if it aliases).
        let out = Ok::<_, crate::error::Error>(c.with_layout(c.layout().expand(&shape)?));
        let src_shape = s.shape().to_vec();
        Ok(record(out?, &[p, &o[0]], name, nothing, move |g, _, n| {
            Ok(vec![
                super::need(n[0], || zeros_like(g))?,
                super::need(n[1], || sum_to(g, &src_shape))?,
            ])
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(values: &[f32], shape: &[usize]) -> Tensor {
        Tensor::from_vec(values.to_vec(), shape)
    }

    /// The one-pass update runs where it gives the general path's result, and declines
    /// (for the general path's casts, errors and aliasing rules) everywhere else.
    #[test]
    fn binary_assign_runs_only_where_it_matches_the_general_path() {
        let p = floats(&[1.0, 2.0, 3.0, 4.0], &[2, 2]);
        let row = floats(&[10.0, 20.0], &[2]);
        assert!(p.binary_assign(BinaryOp::Sub, &row).unwrap());
        assert_eq!(p.to_vec::<f32>().unwrap(), vec![-9.0, -18.0, -7.0, -16.0]);
        let version = p.storage().version();
        assert!(p
            .binary_assign(BinaryOp::Mul, &Tensor::from_vec(vec![2.0f64], &[]))
            .unwrap());
        assert!(p.storage().version() > version);
        assert_eq!(p.to_vec::<f32>().unwrap(), vec![-18.0, -36.0, -14.0, -32.0]);
        // A result of another dtype, a target smaller than the broadcast, the same memory,
        // an expanded target: the general path's business.
        let ints = Tensor::from_vec(vec![1i64, 2], &[2]);
        assert!(!ints.binary_assign(BinaryOp::Add, &row).unwrap());
        assert!(!ints
            .binary_assign(BinaryOp::Div, &ints.clone_data().unwrap())
            .unwrap());
        assert!(!row.binary_assign(BinaryOp::Add, &p).unwrap());
        assert!(!p.binary_assign(BinaryOp::Add, &p).unwrap());
        let expanded = row.with_layout(row.layout().expand(&[3, 2]).unwrap());
        assert!(!expanded
            .binary_assign(BinaryOp::Add, &floats(&[0.0; 6], &[3, 2]))
            .unwrap());
        assert_eq!(row.to_vec::<f32>().unwrap(), vec![10.0, 20.0]);
    }
}
