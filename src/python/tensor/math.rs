//! The bodies behind the elementwise math methods of issue 11 (`tan`, `floor`, `%`, `//`,
//! `atan2`, `lerp`, ...) and their in-place forms.

use pyo3::prelude::*;

use super::arith::Returned;
use super::{Obj, PyTensor};
use crate::autograd::Var;
use crate::error::Result;
use crate::ops;
use crate::python::gil::{self, Work};
use crate::python::types::py_scalar;

/// `f(self)` written into `self` (PyTorch's `x.op_()`): `self` back.
pub(super) fn unary_<'py>(
    slf: &Bound<'py, PyTensor>,
    f: fn(&Var) -> Result<Var>,
) -> PyResult<Bound<'py, PyTensor>> {
    PyTensor::in_place(slf, |v| ops::rebase(v, &[], |p, _| f(p)))
}

/// `f(self, other)` for an operand that may be a Python number (`scalar` tells `f` which).
pub(super) fn binary(
    me: &PyTensor,
    py: Python<'_>,
    other: &Obj<'_>,
    f: impl FnOnce(&Var, &Var, bool) -> Result<Var> + Send,
) -> PyResult<PyTensor> {
    let scalar = py_scalar(other)?.is_some();
    let o = me.need_operand(other)?;
    me.op2(py, &o, |a, b| f(a, b, scalar))
}

/// `f(self, other)` written into `self`.
pub(super) fn binary_<'py>(
    slf: &Bound<'py, PyTensor>,
    other: &Obj<'_>,
    f: fn(&Var, &Var, bool) -> Result<Var>,
) -> PyResult<Bound<'py, PyTensor>> {
    let me = slf.get();
    let scalar = py_scalar(other)?.is_some();
    let o = me.need_operand(other)?;
    let v = &me.var;
    gil::run(slf.py(), Work::of([v, &o]), || {
        ops::rebase(v, &[&o], |p, o| f(p, &o[0], scalar))
    })?;
    Ok(slf.clone())
}

/// An operator (`%`, `//`): `NotImplemented` for operands we do not know; `reflected` for
/// `other op self`.
pub(super) fn operator(
    me: &PyTensor,
    py: Python<'_>,
    other: &Obj<'_>,
    reflected: bool,
    f: fn(&Var, &Var, bool) -> Result<Var>,
) -> Returned {
    let scalar = py_scalar(other)?.is_some();
    let Some(o) = me.operand(other)? else {
        return Ok(py.NotImplemented());
    };
    let r = me.op2(py, &o, |a, o| {
        if reflected {
            f(o, a, false)
        } else {
            f(a, o, scalar)
        }
    })?;
    Ok(Bound::new(py, r)?.into_any().unbind())
}

/// `self % other` (the scalar flag picks PyTorch's node).
pub(super) fn remainder(a: &Var, b: &Var, scalar: bool) -> Result<Var> {
    ops::remainder(a, b, scalar)
}

/// `number % self` (the reflected operator): PyTorch does not differentiate it.
pub(super) fn rremainder(number: &Var, x: &Var, _: bool) -> Result<Var> {
    ops::rremainder(x, number)
}

pub(super) fn floor_divide(a: &Var, b: &Var, _: bool) -> Result<Var> {
    ops::floor_divide(a, b)
}

pub(super) fn fmod(a: &Var, b: &Var, scalar: bool) -> Result<Var> {
    ops::fmod(a, b, scalar)
}

pub(super) fn atan2(a: &Var, b: &Var, _: bool) -> Result<Var> {
    ops::atan2(a, b)
}

pub(super) fn hypot(a: &Var, b: &Var, _: bool) -> Result<Var> {
    ops::hypot(a, b)
}

/// `lerp(end, weight)`: `weight` a tensor or a Python number.
pub(super) fn lerp(
    me: &PyTensor,
    py: Python<'_>,
    end: &Bound<'_, PyTensor>,
    weight: &Obj<'_>,
) -> PyResult<PyTensor> {
    let scalar = py_scalar(weight)?.is_some();
    let w = me.need_operand(weight)?;
    let e = end.get().var.clone();
    let v = &me.var;
    super::wrap(gil::run(py, Work::of([v, &e, &w]), || {
        ops::lerp(v, &e, &w, scalar)
    }))
}

/// `lerp_(end, weight)`.
pub(super) fn lerp_<'py>(
    slf: &Bound<'py, PyTensor>,
    end: &Bound<'_, PyTensor>,
    weight: &Obj<'_>,
) -> PyResult<Bound<'py, PyTensor>> {
    let me = slf.get();
    let scalar = py_scalar(weight)?.is_some();
    let w = me.need_operand(weight)?;
    let e = end.get().var.clone();
    let v = &me.var;
    gil::run(slf.py(), Work::of([v, &e, &w]), || {
        ops::rebase(v, &[&e, &w], |p, o| ops::lerp(p, &o[0], &o[1], scalar))
    })?;
    Ok(slf.clone())
}
