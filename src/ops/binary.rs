//! Arithmetic between two tensors (Python scalars arrive as 0-d constants).

use super::{constant, nothing, record, reduce::sum_to, scalar_like, Grads};
use crate::autograd::{SavedVar, Var};
use crate::error::Result;
use crate::tensor::{BinaryOp, CompareOp, Scalar, Shape, Tensor};

/// `Some(f())` when the input wants a gradient.
pub(crate) fn need(wanted: bool, f: impl FnOnce() -> Result<Var>) -> Result<Option<Var>> {
    if wanted {
        f().map(Some)
    } else {
        Ok(None)
    }
}

/// `a op b`, and the operands' shapes for the backward to reduce its gradients to (one
/// look at each variable: this is every binary op's per-call cost).
#[inline(always)] // (its tuple result is large: moved through memory when not inlined)
fn forward(op: BinaryOp, a: &Var, b: &Var) -> Result<(Tensor, Shape, Shape)> {
    let (ta, tb) = (a.tensor(), b.tensor());
    let out = ta.binary(op, &tb)?;
    Ok((
        out,
        Shape::from_slice(ta.shape()),
        Shape::from_slice(tb.shape()),
    ))
}

pub fn add(a: &Var, b: &Var) -> Result<Var> {
    let (out, sa, sb) = forward(BinaryOp::Add, a, b)?;
    Ok(record(
        out,
        &[a, b],
        "AddBackward0",
        nothing,
        move |g, _, n| -> Result<Grads> {
            Ok(vec![
                need(n[0], || sum_to(g, &sa))?,
                need(n[1], || sum_to(g, &sb))?,
            ])
        },
    ))
}

pub fn sub(a: &Var, b: &Var) -> Result<Var> {
    let (out, sa, sb) = forward(BinaryOp::Sub, a, b)?;
    Ok(record(
        out,
        &[a, b],
        "SubBackward0",
        nothing,
        move |g, _, n| -> Result<Grads> {
            Ok(vec![
                need(n[0], || sum_to(g, &sa))?,
                need(n[1], || sum_to(&neg(g)?, &sb))?,
            ])
        },
    ))
}

/// `scalar - x` (one edge, as PyTorch's `RsubBackward1`).
pub fn rsub_scalar(x: &Var, scalar: &Var) -> Result<Var> {
    let out = scalar.tensor().binary(BinaryOp::Sub, &x.tensor())?;
    Ok(record(out, &[x], "RsubBackward1", nothing, |g, _, _| {
        Ok(vec![Some(neg(g)?)])
    }))
}

pub fn mul(a: &Var, b: &Var) -> Result<Var> {
    let (out, sa, sb) = forward(BinaryOp::Mul, a, b)?;
    // Each input's gradient reads only the other (PyTorch saves no more: a later in-place
    // change of an input whose partner needs no gradient is no error).
    let saved = |_: &Tensor| {
        vec![
            SavedVar::input_if(b.requires_grad(), a),
            SavedVar::input_if(a.requires_grad(), b),
        ]
    };
    Ok(record(
        out,
        &[a, b],
        "MulBackward0",
        saved,
        move |g, s, n| -> Result<Grads> {
            Ok(vec![
                need(n[0], || sum_to(&mul(g, &s[1])?, &sa))?,
                need(n[1], || sum_to(&mul(g, &s[0])?, &sb))?,
            ])
        },
    ))
}

pub fn div(a: &Var, b: &Var) -> Result<Var> {
    let (out, sa, sb) = forward(BinaryOp::Div, a, b)?;
    let saved = |_: &Tensor| vec![SavedVar::input_if(b.requires_grad(), a), SavedVar::input(b)];
    Ok(record(
        out,
        &[a, b],
        "DivBackward0",
        saved,
        move |g, s, n| -> Result<Grads> {
            let (a, b) = (&s[0], &s[1]);
            Ok(vec![
                need(n[0], || sum_to(&div(g, b)?, &sa))?,
                // -g * ((a / b) / b), PyTorch's order: `b * b` would overflow (or vanish) at
                // half the exponent range and round differently.
                need(n[1], || sum_to(&neg(&mul(g, &div(&div(a, b)?, b)?)?)?, &sb))?,
            ])
        },
    ))
}

/// `1 / x`.
pub fn reciprocal(x: &Var) -> Result<Var> {
    let one = Tensor::scalar(1.0, x.dtype().to_float());
    let out = one.binary(BinaryOp::Div, &x.tensor())?;
    let saved = |o: &Tensor| vec![SavedVar::output(&constant(o.clone()))];
    Ok(record(
        out,
        &[x],
        "ReciprocalBackward0",
        saved,
        |g, s, _| {
            // -g * out^2
            Ok(vec![Some(neg(&mul(g, &mul(&s[0], &s[0])?)?)?)])
        },
    ))
}

/// `a ** b` for two tensors.
pub fn pow(a: &Var, b: &Var) -> Result<Var> {
    let (out, sa, sb) = forward(BinaryOp::Pow, a, b)?;
    // As PyTorch: the exponent's gradient reads the result, so writing the result in place
    // afterwards is caught at backward.
    let saved = |o: &Tensor| {
        vec![
            SavedVar::input(a),
            SavedVar::input(b),
            SavedVar::output(&constant(o.clone())),
        ]
    };
    Ok(record(
        out,
        &[a, b],
        "PowBackward1",
        saved,
        move |g, s, n| -> Result<Grads> {
            let (a, b, result) = (&s[0], &s[1], &s[2]);
            let ga = need(n[0], || {
                // g * (b * a^(b-1)), taken as 0 where b == 0 (PyTorch's limit): selected after
                // the product, so a NaN or inf gradient there gives 0 too, as PyTorch's.
                let one = constant(Tensor::scalar(1.0, b.dtype()));
                let zero = constant(Tensor::scalar(0.0, b.dtype()));
                let b_zero = constant(b.tensor().compare(CompareOp::Eq, &zero.tensor())?);
                let slope = mul(g, &mul(b, &pow(a, &sub(b, &one)?)?)?)?;
                let zero_g = constant(Tensor::scalar(0.0, slope.dtype()));
                sum_to(&where_(&b_zero, &zero_g, &slope)?, &sa)
            })?;
            let gb = need(n[1], || {
                // g * a^b * log(a), taken as 0 where a == 0 and b >= 0 (PyTorch's limit).
                let (at, bt) = (a.tensor(), b.tensor());
                let zero_a = at.compare(CompareOp::Eq, &Tensor::scalar(0.0, at.dtype()))?;
                let b_nonneg = bt.compare(CompareOp::Ge, &Tensor::scalar(0.0, bt.dtype()))?;
                let limit = zero_a.binary(BinaryOp::Minimum, &b_nonneg)?;
                let zero = constant(Tensor::scalar(0.0, g.dtype()));
                // log in the result's dtype (an int64 base under a float64 exponent is f64).
                let log_a = log(&super::to_dtype(a, result.dtype())?)?;
                let term = where_(&constant(limit), &zero, &mul(result, &log_a)?)?;
                sum_to(&mul(g, &term)?, &sb)
            })?;
            Ok(vec![ga, gb])
        },
    ))
}

pub fn pow_scalar(x: &Var, p: f64) -> Result<Var> {
    pow_scalar_with(x, p, true)
}

/// `x ** p`; `zero_is_exact`: an exponent 0 has PyTorch's constant zero gradient (a number
/// 0), or the general formula `g * (0 * x^-1)`, NaN at 0 and recorded on `x` (PyTorch's for
/// the Python bool `False`, which its zero check does not catch).
pub fn pow_scalar_with(x: &Var, p: f64, zero_is_exact: bool) -> Result<Var> {
    let out = x.tensor().pow_scalar(p);
    let saved = |_: &Tensor| vec![SavedVar::input(x)];
    Ok(record(out?, &[x], "PowBackward0", saved, move |g, s, _| {
        if p == 0.0 && zero_is_exact {
            // PyTorch's zeros_like: 0 whatever the gradient (NaN and inf included)
            return Ok(vec![Some(super::zeros_like(g)?)]);
        }
        // PyTorch's order, `grad * (p * x^(p-1))`, with `p` a wrapped number.
        let coef = scalar_like(Scalar::Float(p), s[0].dtype().to_float());
        Ok(vec![Some(mul(
            g,
            &mul(&pow_scalar(&s[0], p - 1.0)?, &coef)?,
        )?)])
    }))
}

/// `base ** x` for a scalar base (an int base with an integer tensor stays int64).
pub fn rpow_scalar(base: Scalar, x: &Var) -> Result<Var> {
    let b = Tensor::from_scalar(base, base.dtype_beside(x.dtype()));
    let base = base.to_f64();
    let out = b.binary(BinaryOp::Pow, &x.tensor())?;
    // (PyTorch also saves the exponent, which its formula takes: version-checked)
    let saved = |o: &Tensor| vec![SavedVar::output(&constant(o.clone())), SavedVar::input(x)];
    Ok(record(out, &[x], "PowBackward2", saved, move |g, s, _| {
        let ln_base = constant(Tensor::scalar(base.ln(), s[0].dtype()));
        let grad = mul(&mul(g, &s[0])?, &ln_base)?;
        if base != 0.0 {
            return Ok(vec![Some(grad)]);
        }
        // 0 ** x: PyTorch takes the gradient as 0 where x >= 0 (not 1 * -inf or 0 * -inf);
        // x < 0 is where the output 0 ** x is inf.
        let y = s[0].tensor();
        let negative_x = y.compare(CompareOp::Gt, &Tensor::scalar(1.0, y.dtype()))?;
        Ok(vec![Some(super::masked(&grad, negative_x)?)])
    }))
}

pub fn maximum(a: &Var, b: &Var) -> Result<Var> {
    select_by(a, b, BinaryOp::Maximum, CompareOp::Gt, "MaximumBackward0")
}

pub fn minimum(a: &Var, b: &Var) -> Result<Var> {
    select_by(a, b, BinaryOp::Minimum, CompareOp::Lt, "MinimumBackward0")
}

/// Elementwise max/min: the gradient goes to the chosen side, split evenly on ties.
fn select_by(a: &Var, b: &Var, op: BinaryOp, cmp: CompareOp, name: &'static str) -> Result<Var> {
    let (out, sa, sb) = forward(op, a, b)?;
    let saved = |_: &Tensor| vec![SavedVar::input(a), SavedVar::input(b)];
    Ok(record(
        out,
        &[a, b],
        name,
        saved,
        move |g, s, _| -> Result<Grads> {
            // PyTorch's rule: ties split the gradient, the loser gets 0 (selected), and at a
            // NaN, which compares neither way, both sides get it.
            let (at, bt) = (s[0].tensor(), s[1].tensor());
            let half = mul(g, &constant(Tensor::scalar(0.5, g.dtype())))?;
            let shared = where_(&constant(at.compare(CompareOp::Eq, &bt)?), &half, g)?;
            let (a_wins, b_wins) = (at.compare(cmp, &bt)?, bt.compare(cmp, &at)?);
            let a_loses = b_wins;
            let b_loses = a_wins;
            let zero = constant(Tensor::scalar(0.0, g.dtype()));
            Ok(vec![
                Some(sum_to(&where_(&constant(a_loses), &zero, &shared)?, &sa)?),
                Some(sum_to(&where_(&constant(b_loses), &zero, &shared)?, &sb)?),
            ])
        },
    ))
}

/// Comparison: a bool tensor, never differentiable.
pub fn compare(a: &Var, b: &Var, op: CompareOp) -> Result<Var> {
    Ok(constant(a.tensor().compare(op, &b.tensor())?))
}

use super::unary::{log, neg};
use super::where_;
