//! Reading arguments: operands, dims, tensor lists; Python objects the class hands back.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PySequence, PyTuple};

use super::{Obj, PyTensor};
use crate::autograd::Var;
use crate::bail;
use crate::error::Result;
use crate::ops::{self, scalar_like};
use crate::python::convert;
use crate::python::types::py_scalar;
use crate::tensor::{DType, Scalar, Tensor};

/// An object of a Python module, imported once.
pub(super) fn cached<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyAny>>,
    module: &str,
    name: &str,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(cell.import(py, module, name)?.clone())
}

static SIZE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `rustgrad.Size(shape)`.
pub fn size_object<'py>(py: Python<'py>, shape: &[usize]) -> PyResult<Bound<'py, PyAny>> {
    let size = cached(py, &SIZE, "rustgrad._size", "_from_ints")?;
    size.call1((PyTuple::new(py, shape)?,))
}

/// Reads a dim argument that may be an int, a sequence of ints, or None.
pub(super) fn dims_arg(dim: Option<&Obj<'_>>) -> PyResult<Option<Vec<i64>>> {
    let Some(d) = dim else { return Ok(None) };
    if d.is_none() {
        return Ok(None);
    }
    if let Ok(i) = d.extract::<i64>() {
        return Ok(Some(vec![i]));
    }
    let seq = d
        .cast::<PySequence>()
        .map_err(|_| PyTypeError::new_err("dim must be an int or a tuple of ints"))?;
    Ok(Some(
        (0..seq.len()?)
            .map(|i| seq.get_item(i)?.extract::<i64>())
            .collect::<PyResult<_>>()?,
    ))
}

/// `other`'s shape, for `view_as` and the like.
pub(super) fn shape_of(other: &Bound<'_, PyTensor>) -> Vec<i64> {
    other.get().var.shape().iter().map(|&d| d as i64).collect()
}

/// `other * alpha` for `me.add(other, alpha=...)`, with PyTorch's checks of alpha against
/// the result's dtype (a call into the core: run it under `gil::run`).
pub(super) fn scaled(me: &Var, other: &Var, alpha: Option<Scalar>) -> Result<Var> {
    let Some(alpha) = alpha else {
        return Ok(other.clone());
    };
    let result = me.tensor().promote_with(&other.tensor());
    if !matches!(alpha, Scalar::Float(_)) || result.is_float() {
        alpha.check_fits(result, 2)?; // (PyTorch converts alpha to the result's dtype)
    }
    match alpha {
        Scalar::Float(_) if !result.is_float() => bail!(
            Runtime,
            "For integral input tensors, argument alpha must not be a floating point number."
        ),
        Scalar::Bool(_) if result != DType::Bool => {
            bail!(Runtime, "Boolean alpha only supported for Boolean results.")
        }
        // Computed in the result's dtype, as PyTorch does (a bool result takes alpha as a bool).
        _ => ops::mul(other, &ops::constant(Tensor::from_scalar(alpha, result))),
    }
}

impl PyTensor {
    /// The other operand of a binary op: a tensor, or a Python scalar wrapped like PyTorch
    /// wraps numbers. `None` for anything else (so Python can try the reflected method).
    pub(super) fn operand(&self, other: &Obj<'_>) -> PyResult<Option<Var>> {
        if let Ok(t) = other.cast::<PyTensor>() {
            return Ok(Some(t.get().var.clone()));
        }
        if let Some(s) = py_scalar(other)? {
            return Ok(Some(scalar_like(s, self.var.dtype())));
        }
        if other.cast::<numpy::PyUntypedArray>().is_ok() {
            return Ok(Some(Var::new(
                convert::tensor_from_data(other, None)?,
                false,
            )));
        }
        Ok(None)
    }

    /// [`Self::operand`] for true division: an integer beside an integer tensor stays the
    /// number it is (PyTorch's wrapped number is cast to the float the division runs in, not
    /// first to the tensor's dtype: `uint8 / -3` divides by -3).
    pub(super) fn quotient_operand(&self, other: &Obj<'_>) -> PyResult<Option<Var>> {
        if !self.var.dtype().is_float() {
            if let Some(Scalar::Int(i)) = py_scalar(other)? {
                return Ok(Some(scalar_like(Scalar::Float(i as f64), self.var.dtype())));
            }
        }
        self.operand(other)
    }

    /// [`Self::operand`], a TypeError for anything else.
    pub(super) fn need_operand(&self, other: &Obj<'_>) -> PyResult<Var> {
        self.operand(other)?.ok_or_else(|| {
            PyTypeError::new_err(format!(
                "unsupported operand type: Tensor and '{}'",
                other
                    .get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })
    }
}

/// A tensor or a sequence of tensors, as a list of variables.
pub fn tensor_list(obj: &Obj<'_>) -> PyResult<Vec<Var>> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(vec![t.get().var.clone()]);
    }
    let seq = obj
        .cast::<PySequence>()
        .map_err(|_| PyTypeError::new_err("expected a tensor or a sequence of tensors"))?;
    (0..seq.len()?)
        .map(|i| {
            let item = seq.get_item(i)?;
            let t = item.cast::<PyTensor>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "expected Tensor as element {} in argument, but got {}",
                    i,
                    item.get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                ))
            })?;
            Ok(t.get().var.clone())
        })
        .collect()
}
