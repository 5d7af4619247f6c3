//! Operators and elementwise math: the bodies behind `+ - * / ** @`, comparisons, `& | ^ ~`
//! and the in-place forms.

use pyo3::exceptions::{PyNotImplementedError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyBool;

use super::args::scaled;
use super::{wrap, Obj, PyTensor};
use crate::autograd::Var;
use crate::bail;
use crate::base::dtype::default_float;
use crate::error::Result;
use crate::ops::{self, scalar_like};
use crate::python::gil::{self, Work};
use crate::python::types::{number, number_arg, py_scalar};
use crate::tensor::{CompareOp, DType, Tensor};

/// A result the operator protocol hands to Python: a new tensor or `NotImplemented`.
pub(super) type Returned = PyResult<Py<PyAny>>;

pub(super) fn returned(py: Python<'_>, t: PyResult<PyTensor>) -> Returned {
    Ok(Bound::new(py, t?)?.into_any().unbind())
}

/// `me op other` (or `other op me` when `reflected`), `NotImplemented` for operands we do
/// not know.
pub(super) fn binary(
    me: &PyTensor,
    py: Python<'_>,
    other: &Obj<'_>,
    reflected: bool,
    // Generic (a function item, not a pointer) so that the profiler can name the op.
    f: impl Fn(&Var, &Var) -> Result<Var> + Copy + Send + Sync,
) -> Returned {
    let Some(o) = me.operand(other)? else {
        return Ok(py.NotImplemented());
    };
    let r = me.op2(py, &o, |a, o| if reflected { f(o, a) } else { f(a, o) });
    returned(py, r)
}

/// `me <op> other` elementwise, as a bool tensor.
pub(super) fn compare(me: &PyTensor, py: Python<'_>, other: &Obj<'_>, op: CompareOp) -> Returned {
    let Some(o) = me.operand(other)? else {
        return Ok(py.NotImplemented());
    };
    returned(py, me.op2(py, &o, |a, b| ops::compare(a, b, op)))
}

/// `&`, `|`, `^` (`name`: and, or, xor) between bool tensors (or a bool tensor and a Python
/// bool). A floating result type (a float operand, or a NumPy bool, which PyTorch reads as a
/// float) is PyTorch's NotImplementedError for the bitwise kernel.
pub(super) fn logical(
    me: &PyTensor,
    py: Python<'_>,
    other: &Obj<'_>,
    name: &str,
    f: fn(&Tensor, &Tensor) -> Result<Tensor>,
) -> Returned {
    let b = if other.is_instance_of::<PyBool>() {
        Tensor::scalar(other.extract::<bool>()? as u8 as f64, DType::Bool)
    } else {
        match me.operand(other)? {
            Some(o) => o.tensor(),
            None => return Ok(py.NotImplemented()),
        }
    };
    let a = me.var.tensor();
    let result = a.promote_with(&b);
    if result.is_float() {
        let device = if a.is_cuda() || b.is_cuda() {
            "cuda"
        } else {
            "cpu"
        };
        return Err(PyNotImplementedError::new_err(format!(
            "\"bitwise_{name}_{device}\" not implemented for '{}'",
            result.scalar_name()
        )));
    }
    if a.dtype() != DType::Bool || b.dtype() != DType::Bool {
        return Err(PyTypeError::new_err(
            "logical operators (&, |, ^) are only supported between bool tensors in rustgrad",
        ));
    }
    let work = Work::default().tensor(&a).tensor(&b);
    let r = gil::run(py, work, || Ok(Var::new(f(&a, &b)?, false)));
    returned(py, wrap(r))
}

/// `~t`: bool tensors only.
pub(super) fn invert(me: &PyTensor, py: Python<'_>) -> PyResult<PyTensor> {
    if me.var.dtype() != DType::Bool {
        return Err(PyTypeError::new_err(
            "~ (bitwise_not) is only supported for bool tensors in rustgrad",
        ));
    }
    logical_not(me, py)
}

/// Elementwise `t == 0`, as a bool tensor without history.
pub(super) fn logical_not(me: &PyTensor, py: Python<'_>) -> PyResult<PyTensor> {
    me.op(py, |v| {
        let t = v.tensor();
        let flipped = t.compare(CompareOp::Eq, &Tensor::scalar(0.0, t.dtype()))?;
        Ok(Var::new(flipped, false))
    })
}

/// PyTorch refuses `-` with a bool operand: a Python bool (which would otherwise become a
/// number of `me`'s dtype) or a bool tensor, checked before `alpha` scales the operand into
/// another dtype.
pub(super) fn refuse_bool_sub(me: &PyTensor, other: &Obj<'_>) -> PyResult<()> {
    let other_bool = other.is_instance_of::<PyBool>()
        || other
            .cast::<PyTensor>()
            .is_ok_and(|t| t.get().var.dtype() == DType::Bool);
    if !other_bool && me.var.dtype() != DType::Bool {
        return Ok(());
    }
    if !other_bool && other.cast::<PyTensor>().is_err() {
        return Ok(()); // (a bool tensor minus a number: the op's own check words it)
    }
    let msg = if me.var.dtype() == DType::Bool && other_bool {
        crate::tensor::SUB_TWO_BOOLS
    } else {
        crate::tensor::SUB_ONE_BOOL
    };
    Err(pyo3::exceptions::PyRuntimeError::new_err(msg))
}

/// `other - me`: a Python number is subtracted from as PyTorch records it (`RsubBackward1`).
pub(super) fn rsub(me: &PyTensor, py: Python<'_>, other: &Obj<'_>) -> Returned {
    refuse_bool_sub(me, other)?;
    if other.cast::<PyTensor>().is_err() {
        if let Some(s) = me.operand(other)? {
            return returned(py, me.op2(py, &s, ops::rsub_scalar));
        }
    }
    binary(me, py, other, true, ops::sub)
}

/// `other / me`: a Python number divides as `number * (1 / me)`, as PyTorch records it.
pub(super) fn rtruediv(me: &PyTensor, py: Python<'_>, other: &Obj<'_>) -> Returned {
    if let Some(v) = py_scalar(other)? {
        let r = me.op(py, |x| {
            let r = ops::reciprocal(x)?;
            let s = scalar_like(v, r.dtype());
            ops::mul(&r, &s)
        });
        return returned(py, r);
    }
    binary(me, py, other, true, ops::div)
}

/// `me ** exponent`.
pub(super) fn pow(me: &PyTensor, py: Python<'_>, exponent: &Obj<'_>) -> Returned {
    if let Some(p) = py_scalar(exponent)? {
        let exponent_is_bool = exponent.is_instance_of::<PyBool>();
        let r = me.op(py, |x| {
            if exponent_is_bool && x.dtype() == DType::Bool {
                // bool ** bool stays bool, as PyTorch's: x ** True is x, x ** False is True.
                let t = x.tensor();
                let r = if p.to_f64() != 0.0 {
                    t.clone_data()?
                } else {
                    Tensor::full_on(t.shape(), 1.0, DType::Bool, t.device())?
                };
                return Ok(Var::new(r, false));
            }
            if p.is_float() && !x.dtype().is_float() {
                // An integer tensor to a float power computes in the default float type.
                return ops::pow_scalar(&ops::to_dtype(x, default_float())?, p.to_f64());
            }
            if !x.dtype().is_float() && p.to_f64() < 0.0 {
                bail!(
                    Runtime,
                    "Integers to negative integer powers are not allowed."
                );
            }
            // (the exponent is a scalar of the tensor's dtype in PyTorch's integer and half
            // kernels; float32's reads it as a double)
            if !matches!(x.dtype(), DType::F32 | DType::F64) {
                p.check_fits(x.dtype(), 2)?;
            }
            ops::pow_scalar_with(x, p.to_f64(), !exponent_is_bool)
        });
        return returned(py, r);
    }
    binary(me, py, exponent, false, ops::pow)
}

/// `base ** me`.
pub(super) fn rpow(me: &PyTensor, py: Python<'_>, base: &Obj<'_>) -> Returned {
    if let Some(b) = py_scalar(base)? {
        return returned(py, me.op(py, |x| ops::rpow_scalar(b, x)));
    }
    binary(me, py, base, true, ops::pow)
}

/// `me @ other` (or `other @ me` when `reflected`): tensors only.
pub(super) fn matmul(me: &PyTensor, py: Python<'_>, other: &Obj<'_>, reflected: bool) -> Returned {
    let Ok(t) = other.cast::<PyTensor>() else {
        return Ok(py.NotImplemented());
    };
    let o = &t.get().var;
    let r = me.op2(py, o, |a, o| {
        if reflected {
            ops::matmul(o, a)
        } else {
            ops::matmul(a, o)
        }
    });
    returned(py, r)
}

/// `me + alpha * other` or `me - alpha * other` (`f` is `ops::add` or `ops::sub`).
pub(super) fn with_alpha(
    me: &PyTensor,
    py: Python<'_>,
    other: &Obj<'_>,
    alpha: Option<&Obj<'_>>,
    f: fn(&Var, &Var) -> Result<Var>,
) -> PyResult<PyTensor> {
    let o = me.need_operand(other)?;
    let alpha = number_arg(alpha, "alpha")?;
    me.op2(py, &o, |a, o| f(a, &scaled(a, o, alpha)?))
}

/// `me += alpha * other` and the like (`f` is one of `ops::add_`, ...); `me` back.
pub(super) fn in_place<'py>(
    slf: &Bound<'py, PyTensor>,
    other: &Obj<'_>,
    alpha: Option<&Obj<'_>>,
    f: fn(&Var, &Var) -> Result<()>,
) -> PyResult<Bound<'py, PyTensor>> {
    let me = slf.get();
    let o = me.need_operand(other)?;
    let alpha = number_arg(alpha, "alpha")?;
    let v = &me.var;
    gil::run(slf.py(), Work::of([v, &o]), || f(v, &scaled(v, &o, alpha)?))?;
    Ok(slf.clone())
}

/// `fill_(value)`: a number or a one-element tensor.
pub(super) fn fill<'py>(
    slf: &Bound<'py, PyTensor>,
    value: &Obj<'_>,
) -> PyResult<Bound<'py, PyTensor>> {
    match value.cast::<PyTensor>() {
        // A tensor is an input of the node (it gets the sum of the filled tensor's gradient:
        // FillBackward3), moved to the filled tensor's device first (a CPU 0-d value may fill
        // a CUDA tensor).
        Ok(t) => {
            let v = t.get().var.clone();
            PyTensor::in_place(slf, |x| {
                let device = x.tensor().device();
                let v = if v.tensor().device() == device {
                    v
                } else {
                    ops::to_device(&v, device)?
                };
                ops::fill_tensor_(x, &v)
            })
        }
        Err(_) => {
            let v = number(value, "value")?;
            {
                let x = &slf.get().var;
                v.check_fits(x.dtype(), x.numel())?;
            }
            PyTensor::in_place(slf, |x| ops::fill_(x, v))
        }
    }
}

/// `clamp(min, max)`: an integer tensor with a float bound is clamped as float32, as in
/// PyTorch (the bounds are not truncated).
pub(super) fn clamp(
    me: &PyTensor,
    py: Python<'_>,
    min: Option<&Obj<'_>>,
    max: Option<&Obj<'_>>,
) -> PyResult<PyTensor> {
    let (lo, hi) = (number_arg(min, "min")?, number_arg(max, "max")?);
    let float_bound = lo.is_some_and(|b| b.is_float()) || hi.is_some_and(|b| b.is_float());
    let (lo, hi) = (lo.map(|b| b.to_f64()), hi.map(|b| b.to_f64()));
    me.op(py, |x| {
        if float_bound && !x.dtype().is_float() {
            return ops::clamp(&ops::to_dtype(x, default_float())?, lo, hi);
        }
        ops::clamp(x, lo, hi)
    })
}

/// `clamp_(min, max)`: the result type must fit the tensor (PyTorch's words name the C++
/// type: a float bound into an integer type, any number bound into bool).
pub(super) fn clamp_<'py>(
    slf: &Bound<'py, PyTensor>,
    min: Option<&Obj<'_>>,
    max: Option<&Obj<'_>>,
) -> PyResult<Bound<'py, PyTensor>> {
    let (lo, hi) = (number_arg(min, "min")?, number_arg(max, "max")?);
    let dtype = slf.get().var.dtype();
    let float_bound = lo.is_some_and(|b| b.is_float()) || hi.is_some_and(|b| b.is_float());
    let result = match dtype {
        DType::Bool if float_bound => Some("Float"),
        DType::Bool if lo.is_some() || hi.is_some() => Some("Long"),
        _ if float_bound && dtype.is_integral() => Some("Float"),
        _ => None,
    };
    if let Some(result) = result {
        return Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
            "result type {result} can't be cast to the desired output type {}",
            dtype.c_name()
        )));
    }
    let (lo, hi) = (lo.map(|b| b.to_f64()), hi.map(|b| b.to_f64()));
    PyTensor::in_place(slf, |v| ops::clamp_(v, lo, hi))
}
