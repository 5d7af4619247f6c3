//! Every differentiable op, once: its forward (a kernel call through [`Tensor`]) and its
//! backward formula, written with these same ops so that `create_graph=True` records the
//! backward pass too. Node names are PyTorch's.

mod binary;
mod conv;
mod index;
mod inplace;
mod loss;
mod math;
mod matmul;
mod reduce;
mod shape;
mod unary;
mod view;

use std::borrow::Cow;
use std::sync::Arc;

pub use binary::*;
pub use conv::*;
pub use index::*;
pub use inplace::*;
pub use loss::{nll_loss, NllRows, Reduction};
pub use math::*;
pub use matmul::*;
pub use reduce::*;
pub use shape::*;
pub use unary::*;

use crate::autograd::arena::EdgeTarget;
use crate::autograd::{
    is_grad_enabled, Backward, Edges, GradModeGuard, NodeRef, SavedVar, Var, ViewCreation,
    ViewReplay,
};
use crate::error::Result;
use crate::tensor::{DType, Layout, Scalar, Tensor};

/// PyTorch's `NotImplementedError` for an op whose kernel lacks `dtype`, with PyTorch's CPU
/// kernel name in the message (`"abs_cpu" not implemented for 'Bool'`).
pub(crate) fn refuse_dtype(kernel: &str, dtype: DType) -> Result<()> {
    crate::bail!(
        NotImplemented,
        "\"{kernel}\" not implemented for '{}'",
        dtype.scalar_name()
    )
}

/// PyTorch's refusal of an op that would make a result requiring grad with an integer or
/// bool dtype (`x.sum(dtype=torch.int64)` of an `x` that requires grad); a plain cast such as
/// `x.long()` is allowed and its result simply does not require grad.
pub fn check_autograd_dtype(x: &Var, dtype: DType) -> Result<()> {
    if !dtype.is_float() && x.requires_grad() && is_grad_enabled() {
        crate::bail!(
            Runtime,
            "Autograd not support dtype: {}",
            dtype.scalar_name()
        );
    }
    Ok(())
}

/// Gradients for each input, as a backward formula returns them.
pub type Grads = Vec<Option<Var>>;

/// A backward node made of a name and a formula closure (which captures the op's
/// non-tensor arguments: shapes, dims, scalars).
pub struct Formula<F> {
    name: &'static str,
    f: F,
}

impl<F> Backward for Formula<F>
where
    F: Fn(&Var, &[Var], &[bool]) -> Result<Grads> + Send + Sync,
{
    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed(self.name)
    }
    fn apply(&self, grad: &Var, saved: &[Var], needs: &[bool]) -> Result<Grads> {
        (self.f)(grad, saved, needs)
    }
}

/// Wraps `out` as the result of an op on `inputs`. When grad mode is on and an input
/// requires grad, a node is recorded with the formula and the saved variables that
/// `backward` produces (it is only called then, so saving costs nothing otherwise).
pub fn record<F>(
    out: Tensor,
    inputs: &[&Var],
    name: &'static str,
    saved: impl FnOnce(&Tensor) -> Vec<SavedVar>,
    formula: F,
) -> Var
where
    F: Fn(&Var, &[Var], &[bool]) -> Result<Grads> + Send + Sync + 'static,
{
    record_node(out, inputs, saved, || {
        Arc::new(Formula { name, f: formula })
    })
}

/// [`record`] with a backward node of its own type (made only when one is recorded).
pub fn record_node(
    out: Tensor,
    inputs: &[&Var],
    saved: impl FnOnce(&Tensor) -> Vec<SavedVar>,
    node: impl FnOnce() -> Arc<dyn Backward>,
) -> Var {
    if !is_grad_enabled() {
        return Var::new(out, false);
    }
    // The edges say whether any input wants a gradient (one look at each input).
    let edges: Edges = inputs.iter().map(|v| v.edge()).collect();
    if edges.iter().all(|e| matches!(e.target, EdgeTarget::None)) {
        return Var::new(out, false);
    }
    let saved = saved(&out);
    let node = NodeRef::create(node(), edges, saved);
    Var::with_history(out, node)
}

/// Marks `out`, which shares `of`'s storage, as a view of it (while grad mode is on, so
/// that in-place changes through the view reach `of`'s history, and changes through the
/// base or another view reach the view's: it is then remade from the base as
/// `AsStridedBackward0`, as in PyTorch).
pub(crate) fn mark_view(out: Var, of: &Var) -> Var {
    if is_grad_enabled() {
        let t = out.tensor();
        let (view, storage) = (t.layout().clone(), t.storage().clone());
        let replay: ViewReplay = Arc::new(move |base: &Var| {
            // The view's place in the storage, relative to a contiguous base (the usual
            // base: an op's result) that still holds that storage; another is not remade.
            let bt = base.tensor();
            let at = bt.layout().clone();
            if !Arc::ptr_eq(bt.storage(), &storage)
                || !at.is_contiguous()
                || view.offset < at.offset
            {
                return None;
            }
            let (view, base_offset) = (view.clone(), at.offset);
            let f: shape::LayoutFn = Arc::new(move |l: &Layout| {
                let mut v = view.clone();
                v.offset = v.offset - base_offset + l.offset;
                v
            });
            let _grad = GradModeGuard::new(true);
            Some(shape::strided_view(base, "AsStridedBackward0", f))
        });
        out.set_view_of(of, replay);
    } else {
        // No history links it to `of`, but an in-place write under grad mode is refused where
        // the base (PyTorch's `_base`: the first of a chain of views) requires grad.
        let of_no_grad_view = matches!(of.creation(), ViewCreation::NoGrad { .. });
        if of_no_grad_view || of.view_base().unwrap_or_else(|| of.clone()).requires_grad() {
            out.set_creation(ViewCreation::NoGrad {
                direct: !of_no_grad_view,
                inference: crate::tensor::storage::is_inference_mode(),
            });
        }
    }
    out
}

/// `g` where `keep` (a bool tensor broadcasting with `g`) holds, else 0: a masked gradient
/// selects rather than multiplies, so an inf or NaN where the mask is off does not leak
/// (`inf * 0` is NaN), as in PyTorch.
pub fn masked(g: &Var, keep: Tensor) -> Result<Var> {
    let zero = constant(Tensor::scalar(0.0, g.dtype()));
    where_(&constant(keep), g, &zero)
}

/// Zeros of `g`'s shape and dtype, as a constant: a gradient that is no function of anything
/// (so under `create_graph` it does not require grad, as in PyTorch).
pub(crate) fn zeros_like(g: &Var) -> Result<Var> {
    let t = g.tensor();
    Ok(constant(Tensor::full_on(
        t.shape(),
        0.0,
        t.dtype(),
        t.device(),
    )?))
}

/// `grad` (a backward's result) as the output of a node `name` over itself and `inputs`.
/// PyTorch's backward kernels take the forward's inputs (`convolution_backward(grad, input,
/// weight)`), so under `create_graph` their results require grad whenever one of those
/// does, even where the value does not depend on it. The slope in `inputs` is zero, or with
/// `undefined` PyTorch's undefined gradient (None from `autograd.grad`). Python's composites
/// have the same in `_native.input_dependent`.
pub fn input_dependent(name: &'static str, grad: &Var, inputs: &[&Var], undefined: bool) -> Var {
    let mut all = vec![grad];
    all.extend_from_slice(inputs);
    record(grad.tensor(), &all, name, nothing, move |gg, _, needs| {
        let mut grads = vec![Some(gg.clone())];
        for &need in &needs[1..] {
            grads.push(if need && !undefined {
                Some(zeros_like(gg)?)
            } else {
                None
            });
        }
        Ok(grads)
    })
}

/// No saved variables.
pub fn nothing(_: &Tensor) -> Vec<SavedVar> {
    Vec::new()
}

/// A constant (no history, no grad) holding `tensor`.
pub fn constant(tensor: Tensor) -> Var {
    Var::new(tensor, false)
}

/// A 0-d constant for a Python number next to a tensor of `like` (PyTorch's "wrapped
/// number" rule, [`Scalar::dtype_beside`]).
pub fn scalar_like(value: Scalar, like: DType) -> Var {
    let dtype = value.dtype_beside(like);
    // Beside a half type the number is kept in float32 (PyTorch's opmath type): promotion
    // still gives the half type, and mul/div read it unrounded as PyTorch's kernels do.
    let dtype = match dtype {
        DType::F16 | DType::BF16 => DType::F32,
        d => d,
    };
    constant(Tensor::from_scalar(value, dtype).into_wrapped_number())
}
