//! Elementwise math beyond the basics: the trigonometric, hyperbolic, error-function and
//! logarithm families, rounding, and two-operand math (fmod, remainder, floor division,
//! atan2, hypot, logaddexp, lerp). Backward formulas are PyTorch's (`derivatives.yaml`),
//! written with differentiable ops so that they work at second order.

use super::{constant, need, record, reduce::sum_to, zeros_like, Grads};
use crate::autograd::{SavedVar, Var};
use crate::backend::UnaryArgs;
use crate::bail;
use crate::error::Result;
use crate::ops::{add, div, exp, mul, neg, pow_scalar, sub, where_};
use crate::tensor::{BinaryOp, CompareOp, DType, Shape, Tensor, UnaryOp};

/// A 0-d constant `v` in `like`'s dtype.
fn k(v: f64, like: &Var) -> Var {
    constant(Tensor::scalar(v, like.dtype()))
}

/// What a pointwise op's backward reads: its input or its output.
#[derive(Clone, Copy)]
enum Save {
    Input,
    Output,
}

/// `op(x)` recorded as `name`, with gradient `d(g, saved)`.
fn pointwise(
    x: &Var,
    op: UnaryOp,
    name: &'static str,
    save: Save,
    d: fn(&Var, &Var) -> Result<Var>,
) -> Result<Var> {
    let out = x.tensor().unary(op)?;
    let saved = move |o: &Tensor| match save {
        Save::Input => vec![SavedVar::input(x)],
        Save::Output => vec![SavedVar::output(&constant(o.clone()))],
    };
    Ok(record(out, &[x], name, saved, move |g, s, _| {
        Ok(vec![Some(d(g, &s[0])?)])
    }))
}

/// `1 - x^2`, `x^2 + 1` and the like: `a * x^2 + b`.
fn quad(x: &Var, a: f64, b: f64) -> Result<Var> {
    add(&mul(&mul(x, x)?, &k(a, x))?, &k(b, x))
}

pub fn tan(x: &Var) -> Result<Var> {
    // g * (1 + tan^2)
    pointwise(x, UnaryOp::Tan, "TanBackward0", Save::Output, |g, y| {
        mul(g, &quad(y, 1.0, 1.0)?)
    })
}

pub fn asin(x: &Var) -> Result<Var> {
    pointwise(x, UnaryOp::Asin, "AsinBackward0", Save::Input, |g, x| {
        mul(g, &rsqrt(&quad(x, -1.0, 1.0)?)?)
    })
}

pub fn acos(x: &Var) -> Result<Var> {
    pointwise(x, UnaryOp::Acos, "AcosBackward0", Save::Input, |g, x| {
        mul(g, &neg(&rsqrt(&quad(x, -1.0, 1.0)?)?)?)
    })
}

pub fn atan(x: &Var) -> Result<Var> {
    pointwise(x, UnaryOp::Atan, "AtanBackward0", Save::Input, |g, x| {
        div(g, &quad(x, 1.0, 1.0)?)
    })
}

pub fn sinh(x: &Var) -> Result<Var> {
    pointwise(x, UnaryOp::Sinh, "SinhBackward0", Save::Input, |g, x| {
        mul(g, &cosh(x)?)
    })
}

pub fn cosh(x: &Var) -> Result<Var> {
    pointwise(x, UnaryOp::Cosh, "CoshBackward0", Save::Input, |g, x| {
        mul(g, &sinh(x)?)
    })
}

pub fn asinh(x: &Var) -> Result<Var> {
    pointwise(x, UnaryOp::Asinh, "AsinhBackward0", Save::Input, |g, x| {
        mul(g, &rsqrt(&quad(x, 1.0, 1.0)?)?)
    })
}

pub fn acosh(x: &Var) -> Result<Var> {
    pointwise(x, UnaryOp::Acosh, "AcoshBackward0", Save::Input, |g, x| {
        mul(g, &rsqrt(&quad(x, 1.0, -1.0)?)?)
    })
}

pub fn atanh(x: &Var) -> Result<Var> {
    pointwise(x, UnaryOp::Atanh, "AtanhBackward0", Save::Input, |g, x| {
        div(g, &quad(x, -1.0, 1.0)?)
    })
}

/// `2 / sqrt(pi)`, erf's slope at 0.
const TWO_OVER_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;

/// `2 / sqrt(pi) * exp(-x^2)`.
fn erf_slope(x: &Var) -> Result<Var> {
    mul(&exp(&neg(&mul(x, x)?)?)?, &k(TWO_OVER_SQRT_PI, x))
}

/// `f(x)` written into `x` by an op whose in-place form PyTorch does not differentiate
/// (`asinh_`, `acosh_`, `atanh_`): recorded by PyTorch's node `node`, whose backward raises
/// PyTorch's error.
fn underivable_(
    x: &Var,
    f: fn(&Var) -> Result<Var>,
    name: &'static str,
    node: &'static str,
) -> Result<()> {
    super::rebase(x, &[], |p, _| {
        let out = {
            let _off = crate::autograd::GradModeGuard::new(false);
            f(p)?.tensor()
        };
        Ok(record(out, &[p], node, super::nothing, move |_, _, _| {
            bail!(
                NotImplemented,
                "the derivative for 'inplace version of {name}' is not implemented."
            )
        }))
    })
}

pub fn asinh_(x: &Var) -> Result<()> {
    underivable_(x, asinh, "asinh", "AsinhBackward1")
}

pub fn acosh_(x: &Var) -> Result<()> {
    underivable_(x, acosh, "acosh", "AcoshBackward1")
}

pub fn atanh_(x: &Var) -> Result<()> {
    underivable_(x, atanh, "atanh", "AtanhBackward1")
}

pub fn erf(x: &Var) -> Result<Var> {
    pointwise(x, UnaryOp::Erf, "ErfBackward0", Save::Input, |g, x| {
        mul(g, &erf_slope(x)?)
    })
}

pub fn erfc(x: &Var) -> Result<Var> {
    pointwise(x, UnaryOp::Erfc, "ErfcBackward0", Save::Input, |g, x| {
        mul(g, &neg(&erf_slope(x)?)?)
    })
}

pub fn erfinv(x: &Var) -> Result<Var> {
    // PyTorch's `0.5 * sqrt(pi) * exp(erfinv(x)^2) * g`, from the saved input (not the
    // result: writing the result in place before backward is no error there).
    pointwise(
        x,
        UnaryOp::Erfinv,
        "ErfinvBackward0",
        Save::Input,
        |g, x| {
            let y = erfinv(x)?;
            mul(
                &mul(&k(1.0 / TWO_OVER_SQRT_PI, &y), &exp(&mul(&y, &y)?)?)?,
                g,
            )
        },
    )
}

pub fn lgamma(x: &Var) -> Result<Var> {
    pointwise(
        x,
        UnaryOp::Lgamma,
        "LgammaBackward0",
        Save::Input,
        |g, x| mul(g, &digamma(x)?),
    )
}

pub fn digamma(x: &Var) -> Result<Var> {
    pointwise(
        x,
        UnaryOp::Digamma,
        "DigammaBackward0",
        Save::Input,
        |g, x| mul(g, &polygamma(1, x)?),
    )
}

/// `ψ⁽ⁿ⁾(x)`, the n-th derivative of `digamma` (`PolygammaBackward0`: the next order).
pub fn polygamma(n: i64, x: &Var) -> Result<Var> {
    polygamma_node(n, x, "PolygammaBackward0")
}

/// [`polygamma`] for the in-place form, whose node PyTorch names `PolygammaBackward1`.
pub fn polygamma_in_place(n: i64, x: &Var) -> Result<Var> {
    polygamma_node(n, x, "PolygammaBackward1")
}

fn polygamma_node(n: i64, x: &Var, name: &'static str) -> Result<Var> {
    if n < 0 {
        bail!(Runtime, "polygamma(n, x) does not support negative n.");
    }
    let args = UnaryArgs {
        power: n as f64,
        ..UnaryArgs::default()
    };
    let out = x.tensor().unary_with(UnaryOp::Polygamma, args)?;
    Ok(record(
        out,
        &[x],
        name,
        |_| vec![SavedVar::input(x)],
        move |g, s, _| Ok(vec![Some(mul(g, &polygamma(n + 1, &s[0])?)?)]),
    ))
}

pub fn log2(x: &Var) -> Result<Var> {
    pointwise(x, UnaryOp::Log2, "Log2Backward0", Save::Input, |g, x| {
        div(g, &mul(x, &k(std::f64::consts::LN_2, x))?)
    })
}

pub fn log10(x: &Var) -> Result<Var> {
    pointwise(x, UnaryOp::Log10, "Log10Backward0", Save::Input, |g, x| {
        div(g, &mul(x, &k(std::f64::consts::LN_10, x))?)
    })
}

pub fn log1p(x: &Var) -> Result<Var> {
    pointwise(x, UnaryOp::Log1p, "Log1PBackward0", Save::Input, |g, x| {
        div(g, &add(x, &k(1.0, x))?)
    })
}

pub fn expm1(x: &Var) -> Result<Var> {
    pointwise(x, UnaryOp::Expm1, "Expm1Backward0", Save::Output, |g, y| {
        mul(g, &add(y, &k(1.0, y))?)
    })
}

pub fn exp2(x: &Var) -> Result<Var> {
    pointwise(x, UnaryOp::Exp2, "Exp2Backward0", Save::Output, |g, y| {
        mul(g, &mul(y, &k(std::f64::consts::LN_2, y))?)
    })
}

pub fn rsqrt(x: &Var) -> Result<Var> {
    // -0.5 * g * y^3
    pointwise(x, UnaryOp::Rsqrt, "RsqrtBackward0", Save::Output, |g, y| {
        mul(&mul(g, &pow_scalar(y, 3.0)?)?, &k(-0.5, y))
    })
}

/// `x * x`, recorded as PyTorch does (`PowBackward0`); bool squares to int64.
pub fn square(x: &Var) -> Result<Var> {
    pow_scalar(x, 2.0)
}

/// The `NotImplementedError` PyTorch raises for an op on a dtype its kernel lacks.
fn refuse(kernel: &str, x: &Var) -> Result<()> {
    super::refuse_dtype(kernel, x.dtype())
}

pub fn frac(x: &Var) -> Result<Var> {
    if !x.dtype().is_float() {
        refuse("frac_cpu", x)?;
    }
    // (the gradient passes through: nothing saved, as PyTorch)
    let out = x.tensor().unary(UnaryOp::Frac)?;
    Ok(record(
        out,
        &[x],
        "FracBackward0",
        super::nothing,
        |g, _, _| Ok(vec![Some(g.clone())]),
    ))
}

/// A piecewise-constant op: its gradient is zero (recorded, as PyTorch does).
fn stepwise(x: &Var, out: Tensor, name: &'static str) -> Var {
    record(out, &[x], name, super::nothing, |g, _, _| {
        Ok(vec![Some(zeros_like(g)?)])
    })
}

/// floor, ceil, round and trunc: integers come back as they are (a copy), bool is refused.
fn rounding(x: &Var, op: UnaryOp, name: &'static str) -> Result<Var> {
    if x.dtype() == DType::Bool {
        refuse(&format!("{}_vml_cpu", op.name()), x)?;
    }
    let out = x.tensor().unary(op)?;
    Ok(stepwise(x, out, name))
}

pub fn floor(x: &Var) -> Result<Var> {
    rounding(x, UnaryOp::Floor, "FloorBackward0")
}

pub fn ceil(x: &Var) -> Result<Var> {
    rounding(x, UnaryOp::Ceil, "CeilBackward0")
}

pub fn trunc(x: &Var) -> Result<Var> {
    rounding(x, UnaryOp::Trunc, "TruncBackward0")
}

/// `round(x)` (ties to even), or to `decimals` places (floats only, as in PyTorch).
pub fn round(x: &Var, decimals: i64) -> Result<Var> {
    if decimals == 0 {
        return rounding(x, UnaryOp::Round, "RoundBackward0");
    }
    if !x.dtype().is_float() {
        refuse("round_cpu", x)?;
    }
    let args = UnaryArgs {
        power: decimals as f64,
        ..UnaryArgs::default()
    };
    let out = x.tensor().unary_with(UnaryOp::RoundDecimals, args)?;
    Ok(stepwise(x, out, "RoundBackward1"))
}

/// -1, 0 or 1 (0 at NaN; bool stays bool, as in PyTorch).
pub fn sign(x: &Var) -> Result<Var> {
    if x.dtype() == DType::Bool {
        return Ok(constant(x.tensor().clone_preserving()?));
    }
    let out = x.tensor().unary(UnaryOp::Sign)?;
    Ok(stepwise(x, out, "SignBackward0"))
}

// ----- two operands ----------------------------------------------------------------------

/// `a op b` and the operands' shapes (for the backward to reduce its gradients to).
fn forward2(op: BinaryOp, a: &Var, b: &Var) -> Result<(Tensor, Shape, Shape)> {
    let (ta, tb) = (a.tensor(), b.tensor());
    let out = ta.binary(op, &tb)?;
    Ok((
        out,
        Shape::from_slice(ta.shape()),
        Shape::from_slice(tb.shape()),
    ))
}

fn saved_both<'a>(a: &'a Var, b: &'a Var) -> impl FnOnce(&Tensor) -> Vec<SavedVar> + 'a {
    move |_| vec![SavedVar::input(a), SavedVar::input(b)]
}

pub fn atan2(a: &Var, b: &Var) -> Result<Var> {
    let (out, sa, sb) = forward2(BinaryOp::Atan2, a, b)?;
    Ok(record(
        out,
        &[a, b],
        "Atan2Backward0",
        saved_both(a, b),
        move |g, s, n| -> Result<Grads> {
            let (a, b) = (&s[0], &s[1]);
            // d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2), with PyTorch's reciprocal
            // filled with 0 where it is infinite: the gradient at the origin is 0, not NaN
            let recip = crate::ops::reciprocal(&add(&mul(a, a)?, &mul(b, b)?)?)?;
            let inf = Tensor::scalar(f64::INFINITY, recip.dtype());
            let recip = super::masked(&recip, recip.tensor().compare(CompareOp::Ne, &inf)?)?;
            Ok(vec![
                need(n[0], || sum_to(&mul(&mul(g, b)?, &recip)?, &sa))?,
                // (negated after the product: `a` may be a bool tensor, which has no negation)
                need(n[1], || sum_to(&neg(&mul(&mul(g, a)?, &recip)?)?, &sb))?,
            ])
        },
    ))
}

pub fn hypot(a: &Var, b: &Var) -> Result<Var> {
    let (out, sa, sb) = forward2(BinaryOp::Hypot, a, b)?;
    // (each operand's formula reads that operand: saved only when it needs a gradient, as
    // PyTorch saves it)
    let saved = |o: &Tensor| {
        vec![
            SavedVar::input_if(a.requires_grad(), a),
            SavedVar::input_if(b.requires_grad(), b),
            SavedVar::output(&constant(o.clone())),
        ]
    };
    Ok(record(
        out,
        &[a, b],
        "HypotBackward0",
        saved,
        move |g, s, n| -> Result<Grads> {
            let r = div(g, &s[2])?;
            Ok(vec![
                need(n[0], || sum_to(&mul(&r, &s[0])?, &sa))?,
                need(n[1], || sum_to(&mul(&r, &s[1])?, &sb))?,
            ])
        },
    ))
}

pub fn logaddexp(a: &Var, b: &Var) -> Result<Var> {
    let (out, sa, sb) = forward2(BinaryOp::Logaddexp, a, b)?;
    Ok(record(
        out,
        &[a, b],
        "LogaddexpBackward0",
        saved_both(a, b),
        move |g, s, n| -> Result<Grads> {
            let (a, b) = (&s[0], &s[1]);
            // g / (1 + exp(other - self)) for each side
            let share = |x: &Var, y: &Var| div(g, &add(&exp(&sub(y, x)?)?, &k(1.0, x))?);
            Ok(vec![
                need(n[0], || sum_to(&share(a, b)?, &sa))?,
                need(n[1], || sum_to(&share(b, a)?, &sb))?,
            ])
        },
    ))
}

/// A node whose backward raises PyTorch's error (ops PyTorch does not differentiate).
fn underivable(out: Tensor, inputs: &[&Var], aten: &'static str) -> Var {
    record(
        out,
        inputs,
        "torch::autograd::NotImplemented",
        super::nothing,
        move |_, _, _| bail!(Runtime, "derivative for aten::{aten} is not implemented"),
    )
}

/// `a % b` or `fmod(a, b)` (`op`): the gradient is `g` for `a` and `-g * q` for a tensor `b`,
/// with `q` the quotient rounded as the op rounds it (`trunc` for fmod, `floor` for
/// remainder). `scalar_b`: `b` is a Python number (PyTorch's `...Backward0`, one input).
fn modulo(a: &Var, b: &Var, op: BinaryOp, scalar_b: bool) -> Result<Var> {
    let (out, sa, sb) = forward2(op, a, b)?;
    let (name0, name1) = match op {
        BinaryOp::Fmod => ("FmodBackward0", "FmodBackward1"),
        _ => ("RemainderBackward0", "RemainderBackward1"),
    };
    if scalar_b {
        return Ok(record(out, &[a], name0, super::nothing, move |g, _, _| {
            Ok(vec![Some(sum_to(g, &sa)?)])
        }));
    }
    Ok(record(
        out,
        &[a, b],
        name1,
        // Only `b`'s gradient reads them (as PyTorch saves them).
        |_: &Tensor| {
            let need_b = b.requires_grad();
            vec![SavedVar::input_if(need_b, a), SavedVar::input_if(need_b, b)]
        },
        move |g, s, n| -> Result<Grads> {
            let (a, b) = (&s[0], &s[1]);
            Ok(vec![
                need(n[0], || sum_to(g, &sa))?,
                need(n[1], || {
                    let q = div(a, b)?;
                    let q = match op {
                        BinaryOp::Fmod => trunc(&q)?,
                        _ => floor(&q)?,
                    };
                    sum_to(&neg(&mul(g, &q)?)?, &sb)
                })?,
            ])
        },
    ))
}

/// `fmod(a, b)`: the remainder with `a`'s sign.
pub fn fmod(a: &Var, b: &Var, scalar_b: bool) -> Result<Var> {
    modulo(a, b, BinaryOp::Fmod, scalar_b)
}

/// `a % b`: the remainder with `b`'s sign (Python's).
pub fn remainder(a: &Var, b: &Var, scalar_b: bool) -> Result<Var> {
    modulo(a, b, BinaryOp::Remainder, scalar_b)
}

/// `number % x`: PyTorch does not differentiate it.
pub fn rremainder(x: &Var, number: &Var) -> Result<Var> {
    let out = number.tensor().binary(BinaryOp::Remainder, &x.tensor())?;
    Ok(underivable(out, &[x], "remainder"))
}

/// `a // b` (floor division, Python's; PyTorch does not differentiate it).
pub fn floor_divide(a: &Var, b: &Var) -> Result<Var> {
    let out = a.tensor().binary(BinaryOp::FloorDivide, &b.tensor())?;
    Ok(underivable(out, &[a, b], "floor_divide"))
}

/// `start + weight * (end - start)`, computed as PyTorch does (from `end` for weights of
/// magnitude 0.5 and more, so `weight == 1` gives `end` exactly). `weight`: a tensor
/// (`LerpBackward1`, three inputs) or a Python number (`LerpBackward0`).
pub fn lerp(start: &Var, end: &Var, weight: &Var, scalar_weight: bool) -> Result<Var> {
    let (s, e, w) = (start.tensor(), end.tensor(), weight.tensor());
    let dtype = s.dtype();
    // PyTorch's lerp does not promote: every tensor has `start`'s dtype.
    for (name, t) in [("end", &e), ("weight", &w)] {
        // (a 0-d weight is read as a scalar of the computation's dtype, as PyTorch's)
        if t.dtype() != dtype && !(name == "weight" && (scalar_weight || t.ndim() == 0)) {
            bail!(
                Runtime,
                "expected dtype {} for `{name}` but got dtype {}",
                dtype.c_name(),
                t.dtype().c_name()
            );
        }
    }
    if !dtype.is_float() {
        bail!(
            NotImplemented,
            "\"lerp_kernel_{}\" not implemented for '{}'",
            if scalar_weight { "scalar" } else { "tensor" },
            dtype.scalar_name()
        );
    }
    let out = {
        let diff = e.binary(BinaryOp::Sub, &s)?;
        let one = Tensor::scalar(1.0, dtype);
        let from_start = s.binary(BinaryOp::Add, &w.binary(BinaryOp::Mul, &diff)?)?;
        let from_end = e.binary(
            BinaryOp::Sub,
            &diff.binary(BinaryOp::Mul, &one.binary(BinaryOp::Sub, &w)?)?,
        )?;
        let small = w
            .unary(UnaryOp::Abs)?
            .compare(CompareOp::Lt, &Tensor::scalar(0.5, dtype))?;
        Tensor::where_(&small, &from_start, &from_end)?
    };
    let shapes = [start, end, weight].map(|v| Shape::from_slice(v.tensor().shape()));
    // (as PyTorch: the start and end only for the weight's gradient, the weight for theirs)
    let weight_grad = !scalar_weight && weight.requires_grad();
    let saved = |_: &Tensor| {
        vec![
            SavedVar::input_if(weight_grad, start),
            SavedVar::input_if(weight_grad, end),
            SavedVar::input_if(start.requires_grad() || end.requires_grad(), weight),
        ]
    };
    let formula = move |g: &Var, sv: &[Var], n: &[bool]| -> Result<Grads> {
        let (s, e, w) = (&sv[0], &sv[1], &sv[2]);
        let mut grads = vec![
            need(n[0], || sum_to(&mul(g, &sub(&k(1.0, w), w)?)?, &shapes[0]))?,
            need(n[1], || sum_to(&mul(g, w)?, &shapes[1]))?,
        ];
        if n.len() > 2 {
            grads.push(need(n[2], || sum_to(&mul(g, &sub(e, s)?)?, &shapes[2]))?);
        }
        Ok(grads)
    };
    if scalar_weight {
        return Ok(record(out, &[start, end], "LerpBackward0", saved, formula));
    }
    Ok(record(
        out,
        &[start, end, weight],
        "LerpBackward1",
        saved,
        formula,
    ))
}

// ----- activations -------------------------------------------------------------------------

/// A parametrised activation kernel `op(x; p, lo, hi)` (float inputs only, as PyTorch's).
fn activation_forward(x: &Var, op: UnaryOp, kernel: &str, args: UnaryArgs) -> Result<Tensor> {
    if !x.dtype().is_float() {
        refuse(kernel, x)?;
    }
    x.tensor().unary_with(op, args)
}

fn params(p: f64, lo: f64, hi: f64) -> UnaryArgs {
    UnaryArgs {
        power: p,
        min: lo,
        max: hi,
    }
}

/// GELU, exact (`tanh == false`: `x * Phi(x)`) or its tanh approximation.
pub fn gelu(x: &Var, tanh: bool) -> Result<Var> {
    let op = if tanh {
        UnaryOp::GeluTanh
    } else {
        UnaryOp::Gelu
    };
    let out = activation_forward(x, op, "GeluKernelImpl", UnaryArgs::default())?;
    Ok(record(
        out,
        &[x],
        "GeluBackward0",
        |_: &Tensor| vec![SavedVar::input(x)],
        move |g, s, _| Ok(vec![Some(gelu_backward(g, &s[0], tanh)?)]),
    ))
}

/// `g * gelu'(x)` in one pass. Its own gradients: `gg * gelu'(x)` for `g`, `gg * g *
/// gelu''(x)` for `x`.
fn gelu_backward(g: &Var, x: &Var, tanh: bool) -> Result<Var> {
    use crate::tensor::ActivationBackward as A;
    let op = if tanh { A::GeluTanh } else { A::Gelu };
    let out = g.tensor().activation_backward(op, &x.tensor())?;
    Ok(record(
        out,
        &[g, x],
        "GeluBackwardBackward0",
        |_: &Tensor| vec![SavedVar::input(g), SavedVar::input(x)],
        move |gg, s, n| {
            let (g, x) = (&s[0], &s[1]);
            Ok(vec![
                need(n[0], || gelu_backward(gg, x, tanh))?,
                need(n[1], || mul(&mul(gg, g)?, &gelu_second(x, tanh)?))?,
            ])
        },
    ))
}

/// GELU's second derivative (differentiable, for third order too).
fn gelu_second(x: &Var, tanh: bool) -> Result<Var> {
    if !tanh {
        // phi(x) * (2 - x^2), phi the standard normal density
        let phi = mul(
            &exp(&mul(&mul(x, x)?, &k(-0.5, x))?)?,
            &k(0.5 * TWO_OVER_SQRT_PI * std::f64::consts::FRAC_1_SQRT_2, x),
        )?;
        return mul(&phi, &quad(x, -1.0, 2.0)?);
    }
    // u = beta (x + kappa x^3), t = tanh(u): (1 - t^2) (u' - x t u'^2 + x u'' / 2)
    let (beta, kappa) = (0.797_884_560_802_865_4, 0.044715);
    let u = mul(
        &add(x, &mul(&pow_scalar(x, 3.0)?, &k(kappa, x))?)?,
        &k(beta, x),
    )?;
    let t = super::tanh(&u)?;
    let du = mul(&quad(x, 3.0 * kappa, 1.0)?, &k(beta, x))?;
    let d2u = mul(x, &k(6.0 * beta * kappa, x))?;
    let inner = add(
        &sub(&du, &mul(&mul(x, &t)?, &mul(&du, &du)?)?)?,
        &mul(&mul(x, &d2u)?, &k(0.5, x))?,
    )?;
    mul(&quad(&t, -1.0, 1.0)?, &inner)
}

/// `x * sigmoid(x)`.
pub fn silu(x: &Var) -> Result<Var> {
    let out = activation_forward(x, UnaryOp::Silu, "silu_cpu", UnaryArgs::default())?;
    Ok(record(
        out,
        &[x],
        "SiluBackward0",
        |_: &Tensor| vec![SavedVar::input(x)],
        |g, s, _| Ok(vec![Some(silu_backward(g, &s[0])?)]),
    ))
}

/// `g * s * (1 + x (1 - s))`, `s = sigmoid(x)`, in one pass. Its own gradients: `gg * silu'`
/// for `g`, `gg * g * s (1 - s) (2 + x (1 - 2 s))` for `x`.
fn silu_backward(g: &Var, x: &Var) -> Result<Var> {
    let out = g
        .tensor()
        .activation_backward(crate::tensor::ActivationBackward::Silu, &x.tensor())?;
    Ok(record(
        out,
        &[g, x],
        "SiluBackwardBackward0",
        |_: &Tensor| vec![SavedVar::input(g), SavedVar::input(x)],
        |gg, s, n| {
            let (g, x) = (&s[0], &s[1]);
            Ok(vec![
                need(n[0], || silu_backward(gg, x))?,
                need(n[1], || {
                    let sg = super::sigmoid(x)?;
                    let ds = mul(&sg, &sub(&k(1.0, x), &sg)?)?;
                    let rest = add(
                        &k(2.0, x),
                        &mul(x, &sub(&k(1.0, x), &mul(&sg, &k(2.0, x))?)?)?,
                    )?;
                    mul(&mul(gg, g)?, &mul(&ds, &rest)?)
                })?,
            ])
        },
    ))
}

/// `x * tanh(softplus(x))`.
pub fn mish(x: &Var) -> Result<Var> {
    let out = activation_forward(x, UnaryOp::Mish, "mish_cpu", UnaryArgs::default())?;
    Ok(record(
        out,
        &[x],
        "MishBackward0",
        |_: &Tensor| vec![SavedVar::input(x)],
        |g, s, _| {
            // tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)^2)
            let x = &s[0];
            let t = super::tanh(&softplus(x, 1.0, 20.0)?)?;
            let slope = add(
                &t,
                &mul(&mul(x, &super::sigmoid(x)?)?, &quad(&t, -1.0, 1.0)?)?,
            )?;
            Ok(vec![Some(mul(g, &slope)?)])
        },
    ))
}

/// `log(1 + exp(beta x)) / beta`, or `x` where `beta x > threshold`.
pub fn softplus(x: &Var, beta: f64, threshold: f64) -> Result<Var> {
    let args = params(beta, 0.0, threshold);
    let out = activation_forward(x, UnaryOp::Softplus, "softplus_cpu", args)?;
    Ok(record(
        out,
        &[x],
        "SoftplusBackward0",
        |_: &Tensor| vec![SavedVar::input(x)],
        move |g, s, _| {
            let bx = mul(&s[0], &k(beta, &s[0]))?;
            let above = bx
                .tensor()
                .compare(CompareOp::Gt, &Tensor::scalar(threshold, bx.dtype()))?;
            let scaled = mul(g, &super::sigmoid(&bx)?)?;
            Ok(vec![Some(where_(&constant(above), g, &scaled)?)])
        },
    ))
}

/// ELU with PyTorch's three coefficients: `x * scale` for `x > 0`, else `alpha * scale *
/// (exp(x * input_scale) - 1)` (SELU is an ELU with fixed ones, CELU one with
/// `input_scale = 1 / alpha`), recorded as `node` (PyTorch's `EluBackward0`, `EluBackward1`
/// in place, `CeluBackward0`/`1` for CELU).
/// The backward scales by `grad_input_scale` (CELU's is PyTorch's float32 reciprocal).
pub fn elu(
    x: &Var,
    alpha: f64,
    scale: f64,
    (input_scale, grad_input_scale): (f64, f64),
    node: &'static str,
) -> Result<Var> {
    let args = params(alpha, scale, input_scale);
    let out = activation_forward(x, UnaryOp::Elu, "elu_cpu", args)?;
    // PyTorch's in-place nodes save the result (a later write to it is a version error) and
    // differentiate from it: `input_scale * (y + alpha * scale)` below zero.
    let from_result = node.ends_with("Backward1");
    Ok(record(
        out,
        &[x],
        node,
        move |o: &Tensor| {
            if from_result {
                vec![SavedVar::output(&constant(o.clone()))]
            } else {
                vec![SavedVar::input(x)]
            }
        },
        move |g, s, _| {
            // A negative alpha leaves the result's sign ambiguous: PyTorch's backward refuses.
            if from_result && alpha < 0.0 {
                bail!(
                    Runtime,
                    "In-place elu backward calculation is triggered with a negative slope which \
                     is not supported. This is caused by calling in-place forward function with \
                     a negative slope, please call out-of-place version instead."
                );
            }
            let v = &s[0];
            let t = v.tensor();
            let zero = Tensor::scalar(0.0, t.dtype());
            let input_scale = grad_input_scale;
            let neg_slope = if from_result {
                mul(&add(v, &k(alpha * scale, v))?, &k(input_scale, v))?
            } else {
                mul(
                    &exp(&mul(v, &k(input_scale, v))?)?,
                    &k(input_scale * alpha * scale, v),
                )?
            };
            // At zero the slope is the negative piece's, but, as PyTorch's double backward
            // (masked by `x < 0`), with no derivative of its own.
            let at_zero = t.compare(CompareOp::Eq, &zero)?;
            let rest = where_(
                &constant(at_zero),
                &k(input_scale * alpha * scale, v),
                &k(scale, v),
            )?;
            let negative = t.compare(CompareOp::Lt, &zero)?;
            let slope = where_(&constant(negative), &neg_slope, &rest)?;
            Ok(vec![Some(mul(g, &slope)?)])
        },
    ))
}

/// `x` for `x > 0`, else `negative_slope * x`. `in_place`: the node of `leaky_relu_`
/// (PyTorch's `LeakyReluBackward1`).
pub fn leaky_relu(x: &Var, negative_slope: f64, in_place: bool) -> Result<Var> {
    let args = params(negative_slope, 0.0, 0.0);
    let out = activation_forward(x, UnaryOp::LeakyRelu, "leaky_relu_cpu", args)?;
    Ok(record(
        out,
        &[x],
        if in_place {
            "LeakyReluBackward1"
        } else {
            "LeakyReluBackward0"
        },
        // PyTorch's in-place form saves its result (whose sign is the input's for a slope
        // that is not negative); a later write to it is a version error.
        move |o: &Tensor| {
            if in_place {
                vec![SavedVar::output(&constant(o.clone()))]
            } else {
                vec![SavedVar::input(x)]
            }
        },
        move |g, s, _| {
            // PyTorch's in-place form saves its result, whose sign no longer says which piece
            // a negative slope took: its backward refuses.
            if in_place && negative_slope < 0.0 {
                bail!(
                    Runtime,
                    "In-place leakyReLu backward calculation is triggered with a negative slope \
                     which is not supported. This is caused by calling in-place forward function \
                     with a negative slope, please call out-of-place version instead. File an \
                     issue at https://github.com/pytorch/pytorch if you do require supporting \
                     in-place leakRelu backward calculation with negative slope"
                );
            }
            Ok(vec![Some(leaky_relu_backward(g, &s[0], negative_slope)?)])
        },
    ))
}

/// `g` where `x > 0`, else `negative_slope * g` (PyTorch's `leaky_relu_backward`).
pub fn leaky_relu_backward(g: &Var, x: &Var, negative_slope: f64) -> Result<Var> {
    selected_by_input(g, x, "LeakyReluBackwardBackward0", move |gt, t| {
        let positive = t.compare(CompareOp::Gt, &Tensor::scalar(0.0, t.dtype()))?;
        let scaled = gt.binary(BinaryOp::Mul, &Tensor::scalar(negative_slope, gt.dtype()))?;
        Tensor::where_(&positive, gt, &scaled)
    })
}

/// The gradient of a piecewise-linear activation: `select(g, x)` is linear in `g`, and `x`
/// only chooses the piece. Recorded with `x` as an input, as PyTorch does, so that under
/// `create_graph` the gradient is part of the graph whenever `x` is; `x`'s own gradient is
/// zero.
fn selected_by_input<F>(g: &Var, x: &Var, name: &'static str, select: F) -> Result<Var>
where
    F: Fn(&Tensor, &Tensor) -> Result<Tensor> + Clone + Send + Sync + 'static,
{
    let out = select(&g.tensor(), &x.tensor())?;
    Ok(record(
        out,
        &[g, x],
        name,
        |_: &Tensor| vec![SavedVar::input(x)],
        move |gg, s, n| {
            Ok(vec![
                super::need(n[0], || selected_by_input(gg, &s[0], name, select.clone()))?,
                super::need(n[1], || super::zeros_like(gg))?,
            ])
        },
    ))
}

/// `log(sigmoid(x))`, computed without overflow.
pub fn logsigmoid(x: &Var) -> Result<Var> {
    let out = activation_forward(
        x,
        UnaryOp::LogSigmoid,
        "log_sigmoid_cpu",
        UnaryArgs::default(),
    )?
    // PyTorch writes it into a fresh row-major buffer, not in the input's memory order.
    .contiguous()?;
    Ok(record(
        out,
        &[x],
        "LogSigmoidBackward0",
        |_: &Tensor| vec![SavedVar::input(x)],
        |g, s, _| Ok(vec![Some(mul(g, &super::sigmoid(&neg(&s[0])?)?)?)]),
    ))
}

/// `x` clamped into `[min_val, max_val]`; the gradient passes strictly inside (PyTorch's
/// `HardtanhBackward0`, unlike clamp's, is zero at the bounds). Integers keep their dtype.
pub fn hardtanh(x: &Var, min_val: f64, max_val: f64) -> Result<Var> {
    if x.dtype() == DType::Bool {
        refuse("clamp_scalar_cpu", x)?;
    }
    let out = x.tensor().clamp(Some(min_val), Some(max_val))?;
    Ok(record(
        out,
        &[x],
        "HardtanhBackward0",
        |_: &Tensor| vec![SavedVar::input(x)],
        move |g, s, _| Ok(vec![Some(hardtanh_backward(g, &s[0], min_val, max_val)?)]),
    ))
}

/// `g` where `min_val < x < max_val`, else 0 (PyTorch's `hardtanh_backward`; a NaN input
/// gets 0, as in its vectorised kernel, which its scalar tail contradicts).
pub fn hardtanh_backward(g: &Var, x: &Var, min_val: f64, max_val: f64) -> Result<Var> {
    selected_by_input(g, x, "HardtanhBackwardBackward0", move |gt, t| {
        let above = t.compare(CompareOp::Gt, &Tensor::scalar(min_val, t.dtype()))?;
        let below = t.compare(CompareOp::Lt, &Tensor::scalar(max_val, t.dtype()))?;
        let inside = above.binary(BinaryOp::Minimum, &below)?;
        Tensor::where_(&inside, gt, &Tensor::scalar(0.0, gt.dtype()))
    })
}
