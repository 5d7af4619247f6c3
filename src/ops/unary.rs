//! Pointwise functions of one tensor.

use super::{constant, nothing, record, Grads};
use crate::autograd::{SavedVar, Var};
use crate::error::Result;
use crate::ops::{mul, sub};
use crate::tensor::{ActivationBackward, CompareOp, DType, Device, Tensor, UnaryOp};

fn saved_input(x: &Var) -> impl FnOnce(&Tensor) -> Vec<SavedVar> + '_ {
    move |_| vec![SavedVar::input(x)]
}

fn saved_output(o: &Tensor) -> Vec<SavedVar> {
    vec![SavedVar::output(&constant(o.clone()))]
}

fn scalar(v: f64, like: &Var) -> Var {
    constant(Tensor::scalar(v, like.dtype()))
}

pub fn neg(x: &Var) -> Result<Var> {
    if x.dtype() == DType::Bool {
        crate::bail!(
            Runtime,
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying \
             to invert a mask, use the `~` or `logical_not()` operator instead."
        );
    }
    let out = x.tensor().unary(UnaryOp::Neg);
    Ok(record(out?, &[x], "NegBackward0", nothing, |g, _, _| {
        Ok(vec![Some(neg(g)?)])
    }))
}

pub fn abs(x: &Var) -> Result<Var> {
    if x.dtype() == DType::Bool {
        super::refuse_dtype("abs_cpu", DType::Bool)?;
    }
    let out = x.tensor().unary(UnaryOp::Abs);
    Ok(record(
        out?,
        &[x],
        "AbsBackward0",
        saved_input(x),
        |g, s, _| Ok(vec![Some(mul(g, &sgn(&s[0])?)?)]),
    ))
}

/// `x.sgn()` for abs's backward: -1, 0 or 1 (0 at NaN, as PyTorch's), recorded (`SgnBackward0`, a
/// zero gradient) so that a gradient taken with `create_graph` stays part of the graph, as
/// in PyTorch.
fn sgn(x: &Var) -> Result<Var> {
    let out = x.tensor().unary(UnaryOp::Sign)?;
    Ok(record(
        out,
        &[x],
        "SgnBackward0",
        super::nothing,
        |g, _, _| Ok(vec![Some(super::zeros_like(g)?)]),
    ))
}

pub fn exp(x: &Var) -> Result<Var> {
    let out = x.tensor().unary(UnaryOp::Exp);
    Ok(record(
        out?,
        &[x],
        "ExpBackward0",
        saved_output,
        |g, s, _| Ok(vec![Some(mul(g, &s[0])?)]),
    ))
}

pub fn log(x: &Var) -> Result<Var> {
    let out = x.tensor().unary(UnaryOp::Log);
    Ok(record(
        out?,
        &[x],
        "LogBackward0",
        saved_input(x),
        |g, s, _| Ok(vec![Some(super::div(g, &s[0])?)]),
    ))
}

pub fn sqrt(x: &Var) -> Result<Var> {
    let out = x.tensor().unary(UnaryOp::Sqrt);
    Ok(record(
        out?,
        &[x],
        "SqrtBackward0",
        saved_output,
        |g, s, _| {
            Ok(vec![Some(super::div(
                g,
                &mul(&s[0], &scalar(2.0, &s[0]))?,
            )?)])
        },
    ))
}

pub fn tanh(x: &Var) -> Result<Var> {
    let out = x.tensor().unary(UnaryOp::Tanh);
    Ok(record(
        out?,
        &[x],
        "TanhBackward0",
        saved_output,
        |g, s, _| Ok(vec![Some(tanh_backward(g, &s[0])?)]),
    ))
}

pub fn sin(x: &Var) -> Result<Var> {
    let out = x.tensor().unary(UnaryOp::Sin);
    Ok(record(
        out?,
        &[x],
        "SinBackward0",
        saved_input(x),
        |g, s, _| Ok(vec![Some(mul(g, &cos(&s[0])?)?)]),
    ))
}

pub fn cos(x: &Var) -> Result<Var> {
    let out = x.tensor().unary(UnaryOp::Cos);
    Ok(record(
        out?,
        &[x],
        "CosBackward0",
        saved_input(x),
        |g, s, _| Ok(vec![Some(mul(g, &neg(&sin(&s[0])?)?)?)]),
    ))
}

pub fn sigmoid(x: &Var) -> Result<Var> {
    let out = x.tensor().unary(UnaryOp::Sigmoid);
    Ok(record(
        out?,
        &[x],
        "SigmoidBackward0",
        saved_output,
        |g, s, _| Ok(vec![Some(sigmoid_backward(g, &s[0])?)]),
    ))
}

pub fn relu(x: &Var) -> Result<Var> {
    if x.dtype() == DType::Bool {
        crate::bail!(Runtime, "Boolean inputs not supported for relu");
    }
    let out = x.tensor().unary(UnaryOp::Relu);
    Ok(record(
        out?,
        &[x],
        "ReluBackward0",
        saved_output,
        |g, s, _| Ok(vec![Some(threshold_backward(g, &s[0])?)]),
    ))
}

/// `g` where `y > 0`, else 0: ReLU's backward in one pass over memory (PyTorch's
/// `threshold_backward`). Differentiable in `g`; `y` only selects, so its gradient is zero
/// (recorded, as PyTorch does, so that `create_graph` results stay in the graph).
pub fn threshold_backward(g: &Var, y: &Var) -> Result<Var> {
    let out = g
        .tensor()
        .activation_backward(ActivationBackward::Threshold, &y.tensor())?;
    let saved = |_: &Tensor| vec![SavedVar::input(y)];
    Ok(record(
        out,
        &[g, y],
        "ThresholdBackwardBackward0",
        saved,
        |gg, s, n| {
            Ok(vec![
                super::need(n[0], || threshold_backward(gg, &s[0]))?,
                super::need(n[1], || super::zeros_like(gg))?,
            ])
        },
    ))
}

/// `g * (1 - y^2)`: tanh's backward in one pass. Its own gradients (for double backward):
/// `gg * (1 - y^2)` for `g`, and `-2 * gg * g * y` for `y`.
pub fn tanh_backward(g: &Var, y: &Var) -> Result<Var> {
    let out = g
        .tensor()
        .activation_backward(ActivationBackward::Tanh, &y.tensor())?;
    let saved = |_: &Tensor| vec![SavedVar::input(g), SavedVar::input(y)];
    Ok(record(
        out,
        &[g, y],
        "TanhBackwardBackward0",
        saved,
        |gg, s, n| {
            let (g, y) = (&s[0], &s[1]);
            Ok(vec![
                super::need(n[0], || tanh_backward(gg, y))?,
                super::need(n[1], || mul(&mul(gg, g)?, &mul(y, &scalar(-2.0, y))?))?,
            ])
        },
    ))
}

/// `g * y * (1 - y)`: sigmoid's backward in one pass. Its own gradients: `gg * y * (1 - y)`
/// for `g`, and `gg * g * (1 - 2y)` for `y`.
pub fn sigmoid_backward(g: &Var, y: &Var) -> Result<Var> {
    let out = g
        .tensor()
        .activation_backward(ActivationBackward::Sigmoid, &y.tensor())?;
    let saved = |_: &Tensor| vec![SavedVar::input(g), SavedVar::input(y)];
    Ok(record(
        out,
        &[g, y],
        "SigmoidBackwardBackward0",
        saved,
        |gg, s, n| {
            let (g, y) = (&s[0], &s[1]);
            Ok(vec![
                super::need(n[0], || sigmoid_backward(gg, y))?,
                super::need(n[1], || {
                    let one_minus_2y = sub(&scalar(1.0, y), &mul(y, &scalar(2.0, y))?)?;
                    mul(&mul(gg, g)?, &one_minus_2y)
                })?,
            ])
        },
    ))
}

/// Clamps into `[min, max]`; the gradient passes where the input was inside the bounds.
pub fn clamp(x: &Var, min: Option<f64>, max: Option<f64>) -> Result<Var> {
    if min.is_none() && max.is_none() {
        crate::bail!(
            Runtime,
            "torch.clamp: At least one of 'min' or 'max' must not be None"
        );
    }
    let out = x.tensor().clamp(min, max);
    Ok(record(
        out?,
        &[x],
        "ClampBackward1",
        saved_input(x),
        move |g, s, _| -> Result<Grads> {
            let t = s[0].tensor();
            let mut mask = Tensor::full_on(t.shape(), 1.0, DType::Bool, t.device())?;
            if let Some(lo) = min {
                let ok = t.compare(CompareOp::Ge, &Tensor::scalar(lo, t.dtype()))?;
                mask = Tensor::where_(&ok, &mask, &Tensor::scalar(0.0, DType::Bool))?;
            }
            if let Some(hi) = max {
                let ok = t.compare(CompareOp::Le, &Tensor::scalar(hi, t.dtype()))?;
                mask = Tensor::where_(&ok, &mask, &Tensor::scalar(0.0, DType::Bool))?;
            }
            Ok(vec![Some(super::masked(g, mask)?)])
        },
    ))
}

/// A copy in another dtype (`.to(dtype)`, `.float()`, `.double()`).
pub fn to_dtype(x: &Var, dtype: DType) -> Result<Var> {
    if x.dtype() == dtype {
        return Ok(x.clone());
    }
    let src = x.dtype();
    let out = x.tensor().cast(dtype)?;
    if !dtype.is_float() {
        return Ok(constant(out)); // integer results carry no gradient
    }
    Ok(record(
        out,
        &[x],
        "ToCopyBackward0",
        nothing,
        move |g, _, _| Ok(vec![Some(to_dtype(g, src)?)]),
    ))
}

/// A copy on another device; the gradient is copied back to the source's device.
pub fn to_device(x: &Var, device: Device) -> Result<Var> {
    let src = x.tensor().device();
    if src == device {
        return Ok(x.clone());
    }
    let out = x.tensor().to_device(device)?;
    Ok(record(
        out,
        &[x],
        "ToCopyBackward0",
        nothing,
        move |g, _, _| Ok(vec![Some(to_device(g, src)?)]),
    ))
}
