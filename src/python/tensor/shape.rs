//! Views, indexing and iteration.

use pyo3::exceptions::{PyIndexError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use pyo3::BoundObject;

use super::{wrap, Obj, PyTensor};
use crate::autograd::Var;
use crate::ops::{self, IndexItem};
use crate::python::convert;
use crate::python::gil::{self, Work};
use crate::tensor::layout::wrap_dim;
use crate::tensor::{DType, Tensor};

/// The tensors an index key brings into the work.
fn with_index(work: Work, items: &[IndexItem]) -> Work {
    items.iter().fold(work, |w, item| match item {
        IndexItem::Tensor(t) => w.tensor(t),
        _ => w,
    })
}

/// `me[key]`.
pub(super) fn getitem(me: &PyTensor, py: Python<'_>, key: &Obj<'_>) -> PyResult<PyTensor> {
    let items = convert::index_key(key)?;
    let v = &me.var;
    let work = with_index(Work::of([v]), &items);
    wrap(gil::run(py, work, || ops::getitem(v, &items)))
}

/// `me[key] = value`: a tensor, a number or data `tensor()` reads.
pub(super) fn setitem(
    me: &PyTensor,
    py: Python<'_>,
    key: &Obj<'_>,
    value: &Obj<'_>,
) -> PyResult<()> {
    let items = convert::index_key(key)?;
    // PyTorch assigns Python numbers and NumPy integers but refuses NumPy floats other than
    // float64 (which is a Python float).
    if !value.is_instance_of::<pyo3::types::PyFloat>() && is_numpy_float(value)? {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "can't assign a numpy.{} to a torch.{}",
            value.get_type().name()?,
            me.var.dtype().legacy_name()
        )));
    }
    let given_tensor = value.cast::<PyTensor>().is_ok();
    let dtype = me.var.dtype();
    let scalar = if given_tensor {
        None
    } else {
        crate::python::types::py_scalar(value)?
    };
    match scalar {
        // (a number is written as PyTorch's `fill_`, checked; a half type's check depends on
        // how many elements the region holds, which is not known here)
        Some(n) if !matches!(dtype, DType::F16 | DType::BF16) => n.check_fits(dtype, 2)?,
        // PyTorch assigns tensors and numbers only, not data (lists, tuples, arrays) nor None.
        None if !given_tensor => {
            let ty = value.get_type();
            let (module, name) = (ty.module()?.to_string(), ty.name()?.to_string());
            let name = if module == "builtins" {
                name
            } else {
                format!("{module}.{name}")
            };
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "can't assign a {name} to a torch.{}",
                dtype.legacy_name()
            )));
        }
        _ => {}
    }
    let value = match me.operand(value)? {
        Some(v) => v,
        None => Var::new(
            convert::tensor_from_data(value, Some(me.var.dtype()))?,
            false,
        ),
    };
    let v = &me.var;
    let work = with_index(Work::of([v, &value]), &items);
    Ok(gil::run(py, work, || {
        ops::setitem_checked(v, &items, &value, || {
            if given_tensor {
                check_index_put_dtype(v, &items, &value)?;
            }
            Ok(())
        })
    })?)
}

/// PyTorch writes a tensor through tensor indices with `index_put_`, which refuses another
/// dtype (basic indexing copies and casts; a one-element value under a lone bool mask is a
/// `masked_fill_`, which casts too).
fn check_index_put_dtype(x: &Var, items: &[IndexItem], value: &Var) -> crate::error::Result<()> {
    let tensors: Vec<&Tensor> = items
        .iter()
        .filter_map(|i| match i {
            IndexItem::Tensor(t) => Some(t),
            _ => None,
        })
        .collect();
    let masked_fill = matches!(tensors.as_slice(), [t] if t.dtype() == DType::Bool)
        && value.tensor().numel() == 1;
    if masked_fill && value.dtype() != x.dtype() && !matches!(x.dtype(), DType::F16 | DType::BF16) {
        // (`masked_fill_` fills with `value.item()`, converted with its overflow check)
        let host = value.tensor().to_device(crate::tensor::Device::Cpu)?;
        host.scalar_value()?.check_fits(x.dtype(), 2)?;
    }
    if tensors.is_empty() || masked_fill || value.dtype() == x.dtype() {
        return Ok(());
    }
    crate::bail!(
        Runtime,
        "Index put requires the source and destination dtypes match, got {} for the \
         destination and {} for the source.",
        x.dtype().scalar_name(),
        value.dtype().scalar_name()
    )
}

fn is_numpy_float(obj: &Obj<'_>) -> PyResult<bool> {
    let floating = obj.py().import("numpy")?.getattr("floating")?;
    obj.is_instance(&floating)
}

/// `iter(me)`: the sub-tensors along dim 0.
pub(super) fn iter<'py>(me: &PyTensor, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
    let n = leading_size(me, "iteration over a 0-d tensor")?;
    let v = &me.var;
    let rows = gil::run(py, Work::of([v]), || {
        (0..n)
            .map(|i| ops::select(v, 0, i))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let items = rows.into_iter().map(PyTensor::wrap);
    PyList::new(py, items)?.call_method0("__iter__")
}

/// The size of dim 0; TypeError (`message`) for a 0-d tensor.
pub(super) fn leading_size(me: &PyTensor, message: &'static str) -> PyResult<usize> {
    match me.var.shape().first() {
        Some(&n) => Ok(n),
        None => Err(PyTypeError::new_err(message)),
    }
}

/// `stride()`: the strides; `stride(dim)`: one dim's stride.
pub(super) fn stride<'py>(
    me: &PyTensor,
    py: Python<'py>,
    dim: Option<i64>,
) -> PyResult<Bound<'py, PyAny>> {
    let tensor = me.var.tensor();
    let strides = &tensor.layout().strides;
    match dim {
        None => Ok(PyTuple::new(py, strides.iter())?.into_any()),
        // PyTorch capitalises this message for `stride` only.
        Some(d) => one_dim(py, strides, d),
    }
}

/// `size()`: the shape; `size(dim)`: one dim's size.
pub(super) fn size<'py>(
    me: &PyTensor,
    py: Python<'py>,
    dim: Option<i64>,
) -> PyResult<Bound<'py, PyAny>> {
    let shape = me.var.shape();
    match dim {
        None => super::size_object(py, &shape),
        Some(d) => one_dim(py, &shape, d),
    }
}

/// The entry of `per_dim` for `dim` (wrapped), with PyTorch's errors for a 0-d tensor.
fn one_dim<'py, T: Copy + IntoPyObject<'py>>(
    py: Python<'py>,
    per_dim: &[T],
    dim: i64,
) -> PyResult<Bound<'py, PyAny>> {
    if per_dim.is_empty() {
        return Err(PyIndexError::new_err(format!(
            "Dimension specified as {dim} but tensor has no dimensions"
        )));
    }
    let value = per_dim[wrap_dim(dim, per_dim.len())?];
    Ok(value
        .into_pyobject(py)
        .map_err(Into::<PyErr>::into)?
        .into_any()
        .into_bound())
}
