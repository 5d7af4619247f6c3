//! Moves between dtypes and devices, and conversions to Python scalars, lists and NumPy.

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyTuple};

use super::{Obj, PyTensor};
use crate::autograd::Var;
use crate::ops;
use crate::python::convert;
use crate::python::gil::{self, Work};
use crate::python::types::{self, PyDType};
use crate::tensor::{DType, Device, Layout, Scalar, Tensor};

/// `Tensor(list)`, `Tensor(ndarray)` or `Tensor(*sizes)`: the default float dtype, like
/// `torch.Tensor`.
pub(super) fn construct(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
    let shape = match args.get_item(0).ok() {
        None => vec![0],
        Some(f) if args.len() == 1 && !f.is_instance_of::<PyInt>() => {
            let t = convert::tensor_from_data(&f, Some(crate::base::dtype::default_float()))?;
            return Ok(PyTensor::wrap(Var::new(t, false)));
        }
        Some(_) => convert::sizes(args)?,
    };
    let zeros = gil::run(py, Work::shape(&shape), || {
        Tensor::zeros(&shape, crate::base::dtype::default_float())
    })?;
    Ok(PyTensor::wrap(Var::new(zeros, false)))
}

/// The value of a one-element tensor (any shape), read from the device if need be; int64
/// exact.
pub(super) fn scalar_value(me: &PyTensor, py: Python<'_>) -> PyResult<Scalar> {
    let t = me.var.tensor();
    if t.device() == Device::Meta && t.numel() == 1 {
        return Err(PyRuntimeError::new_err(
            "Tensor.item() cannot be called on meta tensors",
        ));
    }
    let work = Work::default().tensor(&t);
    Ok(gil::run(py, work, || t.scalar_value())?)
}

/// `float(t)` / `int(t)`: PyTorch raises ValueError for more than one element.
pub(super) fn python_scalar(me: &PyTensor, py: Python<'_>) -> PyResult<Scalar> {
    if me.var.numel() != 1 {
        return Err(PyValueError::new_err(
            "only one element tensors can be converted to Python scalars",
        ));
    }
    scalar_value(me, py)
}

/// `int(t)`: an int64 tensor exactly; a float one truncated as Python's `int(float)` does.
pub(super) fn python_int<'py>(me: &PyTensor, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
    match python_scalar(me, py)? {
        Scalar::Int(i) => Ok(i.into_pyobject(py)?.into_any()),
        Scalar::Bool(b) => Ok((b as i64).into_pyobject(py)?.into_any()),
        Scalar::Float(f) => py.get_type::<pyo3::types::PyInt>().call1((f,)),
    }
}

/// `bool(t)`.
pub(super) fn truth(me: &PyTensor, py: Python<'_>) -> PyResult<bool> {
    let n = me.var.numel();
    if n != 1 {
        return Err(PyRuntimeError::new_err(format!(
            "Boolean value of Tensor with {} is ambiguous",
            if n == 0 {
                "no values"
            } else {
                "more than one value"
            }
        )));
    }
    Ok(scalar_value(me, py)?.to_f64() != 0.0)
}

/// `operator.index(t)`: integer tensors of one element.
pub(super) fn index(me: &PyTensor, py: Python<'_>) -> PyResult<i64> {
    if me.var.dtype().is_float() || me.var.numel() != 1 {
        return Err(PyTypeError::new_err(
            "only integer tensors of a single element can be converted to an index",
        ));
    }
    Ok(match scalar_value(me, py)? {
        Scalar::Int(i) => i,
        other => other.to_f64() as i64,
    })
}

/// `t.item()`: the Python bool, int or float of a one-element tensor.
pub(super) fn item<'py>(me: &PyTensor, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
    scalar_value(me, py)?;
    let t = me.var.tensor();
    let one = t.with_layout(Layout {
        shape: Default::default(),
        strides: Default::default(),
        offset: t.layout().offset,
    });
    convert::tensor_to_nested(py, &one)
}

/// `t.numpy(force)`: a NumPy array sharing the tensor's memory (a host copy of a CUDA
/// tensor with `force`).
pub(super) fn numpy<'py>(
    me: &PyTensor,
    py: Python<'py>,
    force: bool,
) -> PyResult<Bound<'py, PyAny>> {
    if me.var.requires_grad() && !force {
        return Err(PyRuntimeError::new_err(
            "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.",
        ));
    }
    let t = me.var.tensor();
    if t.device() != Device::Cpu {
        if !force {
            return Err(PyTypeError::new_err(format!(
                "can't convert {} device type tensor to numpy. Use Tensor.cpu() to copy the \
                 tensor to host memory first.",
                t.device()
            )));
        }
        let work = Work::default().tensor(&t);
        let host = gil::run(py, work, || t.to_device(Device::Cpu))?;
        return convert::to_numpy(py, &host);
    }
    convert::to_numpy(py, &t)
}

/// `np.asarray(t, dtype, copy=...)`.
pub(super) fn array<'py>(
    me: &PyTensor,
    py: Python<'py>,
    dtype: Option<&Bound<'py, PyAny>>,
    copy: Option<bool>,
) -> PyResult<Bound<'py, PyAny>> {
    let arr = numpy(me, py, false)?;
    let arr = match dtype {
        Some(d) if !d.is_none() => arr.call_method1("astype", (d,))?,
        _ => arr,
    };
    if copy == Some(true) {
        return arr.call_method0("copy");
    }
    Ok(arr)
}

/// `t` on `device`: this very object when it is already there (as in PyTorch).
pub(super) fn moved<'py>(
    slf: &Bound<'py, PyTensor>,
    device: Device,
) -> PyResult<Bound<'py, PyAny>> {
    if slf.get().var.tensor().device() == device {
        return Ok(slf.clone().into_any());
    }
    PyTensor::op_or_self(slf, |v| ops::to_device(v, device))
}

/// `.to(dtype)`, `.to(device)`, `.to(other)`, `.to(device, dtype)`, keywords too.
pub(super) fn to<'py>(
    slf: &Bound<'py, PyTensor>,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut dtype = None;
    let mut device = None;
    // `non_blocking` then `copy`, when given by position
    let mut flags = 0;
    let mut copy = false;
    let mut check = |a: &Obj<'py>| -> PyResult<()> {
        let py = a.py();
        if let Ok(d) = a.cast::<PyDType>() {
            dtype = Some(d.get().dtype);
        } else if a.is(py.get_type::<pyo3::types::PyFloat>()) {
            // (Python's own types, as PyTorch takes them: `float` is a double)
            dtype = Some(DType::F64);
        } else if a.is(py.get_type::<PyInt>()) {
            dtype = Some(DType::I64);
        } else if a.is(py.get_type::<PyBool>()) {
            dtype = Some(DType::Bool);
        } else if let Ok(t) = a.cast::<PyTensor>() {
            let t: Tensor = t.get().var.tensor();
            dtype = Some(t.dtype());
            device = Some(t.device());
        } else if a.is_instance_of::<PyBool>() {
            // (`non_blocking`: copies are queued either way)
            if flags == 1 {
                copy = a.is_truthy()?;
            }
            flags += 1;
        } else if !a.is_none() {
            device = Some(types::resolve_device(a)?);
        }
        Ok(())
    };
    for a in args.iter() {
        check(&a)?;
    }
    if let Some(kw) = kwargs {
        if let Some(d) = kw.get_item("dtype")? {
            check(&d)?;
        }
        if let Some(d) = kw.get_item("device")? {
            check(&d)?;
        }
        if let Some(c) = kw.get_item("copy")? {
            copy = c.is_truthy()?;
        }
    }
    PyTensor::op_or_self(slf, |me| {
        let mut out = me.clone();
        // `copy=True` copies even when nothing changes (in the input's format, as `clone()`)
        if copy
            && dtype.is_none_or(|d| d == me.dtype())
            && device.is_none_or(|d| d == me.tensor().device())
        {
            return ops::clone_preserving(me);
        }
        if let Some(d) = dtype.filter(|&d| d != me.dtype()) {
            out = ops::to_dtype(&out, d)?;
        }
        if let Some(d) = device.filter(|&d| d != me.tensor().device()) {
            out = ops::to_device(&out, d)?;
        }
        Ok(out)
    })
}

/// `.cuda(device)`: device 0 unless given; RuntimeError for a CPU device.
pub(super) fn cuda<'py>(
    slf: &Bound<'py, PyTensor>,
    device: Option<&Obj<'py>>,
) -> PyResult<Bound<'py, PyAny>> {
    let target = match device {
        Some(d) if !d.is_none() => match types::resolve_device(d)? {
            Device::Cpu => {
                return Err(PyRuntimeError::new_err(
                    "Invalid device, must be cuda device",
                ))
            }
            cuda => cuda,
        },
        _ => types::resolve_device(&"cuda".into_pyobject(slf.py())?.into_any())?,
    };
    moved(slf, target)
}
