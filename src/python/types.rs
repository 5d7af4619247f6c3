//! `rustgrad.dtype` and `rustgrad.device`.

use pyo3::exceptions::{PyOverflowError, PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyFloat, PyInt};

use crate::backend::cuda;
use crate::tensor::{DType, Device, Scalar};

/// An element type; one object each: ``bool_``, ``uint8``, ``int8``, ``int16``, ``int32``,
/// ``int64``, ``float16``, ``bfloat16``, ``float32``, ``float64``.
///
/// Compare with ``is`` or ``==``; repr is ``rustgrad.float32``. Not constructible.
#[pyclass(
    name = "dtype",
    module = "rustgrad",
    frozen,
    eq,
    hash,
    skip_from_py_object
)]
#[derive(PartialEq, Eq, Hash, Clone, Copy)]
pub struct PyDType {
    pub dtype: DType,
}

#[pymethods]
impl PyDType {
    fn __repr__(&self) -> String {
        format!("rustgrad.{}", self.dtype.name())
    }

    /// True for the floating types (``float16``, ``bfloat16``, ``float32``, ``float64``).
    #[getter]
    fn is_floating_point(&self) -> bool {
        self.dtype.is_float()
    }

    /// Bytes per element (``float32``: 4).
    #[getter]
    fn itemsize(&self) -> usize {
        self.dtype.size_of()
    }

    /// True for every type but ``bool_`` and ``uint8``.
    #[getter]
    fn is_signed(&self) -> bool {
        self.dtype.is_signed()
    }
}

static DTYPES: PyOnceLock<Vec<Py<PyDType>>> = PyOnceLock::new();

/// The one Python object for each dtype (so `t.dtype is rustgrad.float32` holds).
pub fn dtype_object(py: Python<'_>, dtype: DType) -> Py<PyDType> {
    let all = DTYPES.get_or_init(py, || {
        DType::ALL
            .iter()
            .map(|&d| Py::new(py, PyDType { dtype: d }).expect("allocating a dtype object"))
            .collect()
    });
    all[dtype as usize].clone_ref(py)
}

pub fn register_dtypes(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    for &d in DType::ALL {
        let name = if d == DType::Bool { "bool_" } else { d.name() };
        m.add(name, dtype_object(py, d))?;
    }
    Ok(())
}

/// Reads a `dtype=` argument (a `rustgrad.dtype`, or a NumPy/Python type name).
pub fn parse_dtype(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<DType>> {
    let Some(obj) = obj else { return Ok(None) };
    if obj.is_none() {
        return Ok(None);
    }
    if let Ok(d) = obj.cast::<PyDType>() {
        return Ok(Some(d.get().dtype));
    }
    // Python's own types and NumPy's scalar types, as PyTorch accepts them (`float` is a
    // double there).
    let name: String = obj
        .getattr("__name__")
        .and_then(|n| n.extract())
        .unwrap_or_default();
    Ok(Some(match name.as_str() {
        "float32" => DType::F32,
        "float64" | "float" => DType::F64,
        "int64" | "int" => DType::I64,
        "int32" => DType::I32,
        "int16" => DType::I16,
        "int8" => DType::I8,
        "uint8" => DType::U8,
        "float16" => DType::F16,
        "bool" | "bool_" => DType::Bool,
        _ => {
            return Err(PyTypeError::new_err(format!(
                "dtype must be rustgrad.dtype, not {}",
                obj.get_type().name()?
            )))
        }
    }))
}

/// Where a tensor lives: ``device("cpu")``, ``device("cuda", 0)``, ``device("cuda:1")``.
///
/// ``device(0)`` means ``cuda:0``; a ``device`` argument is returned as a copy. Only the
/// ``cpu`` and ``cuda`` types are known (anything else raises RuntimeError).
#[pyclass(
    name = "device",
    module = "rustgrad",
    frozen,
    eq,
    hash,
    skip_from_py_object
)]
#[derive(PartialEq, Eq, Hash, Clone)]
pub struct PyDevice {
    kind: String,
    index: Option<i64>,
}

#[pymethods]
impl PyDevice {
    #[new]
    #[pyo3(signature = (kind, index=None))]
    fn py_new(kind: &Bound<'_, PyAny>, index: Option<i64>) -> PyResult<PyDevice> {
        if let Ok(d) = kind.cast::<PyDevice>() {
            return Ok(d.get().clone());
        }
        if let Ok(i) = kind.extract::<i64>() {
            return Ok(PyDevice {
                kind: "cuda".into(),
                index: Some(i),
            });
        }
        let s: String = kind.extract()?;
        parse_device(&s, index)
    }

    /// ``"cpu"``, ``"cuda"`` or ``"meta"``.
    #[getter]
    fn r#type(&self) -> &str {
        &self.kind
    }

    /// ``with rustgrad.device("meta"):`` makes this the device of creation calls without
    /// ``device=`` (so of new modules' parameters too) until the block ends.
    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        let device = resolve_device(slf.as_any())?;
        crate::python::creation::enter_default_device(device);
        Ok(slf)
    }

    /// Restores the default device from before the block.
    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        crate::python::creation::exit_default_device();
        false
    }

    /// The device ordinal, or None when unspecified.
    #[getter]
    fn index(&self) -> Option<i64> {
        self.index
    }

    fn __repr__(&self) -> String {
        match self.index {
            Some(i) => format!("device(type='{}', index={})", self.kind, i),
            None => format!("device(type='{}')", self.kind),
        }
    }

    fn __str__(&self) -> String {
        match self.index {
            Some(i) => format!("{}:{}", self.kind, i),
            None => self.kind.clone(),
        }
    }
}

pub fn parse_device(s: &str, index: Option<i64>) -> PyResult<PyDevice> {
    // PyTorch's pattern: letters and underscores, then optionally `:` and an index without
    // leading zeros.
    let (name, number) = s.split_once(':').unwrap_or((s, "0"));
    let well_formed = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphabetic() || c == '_')
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
        && (number == "0" || !number.starts_with('0'));
    if !well_formed {
        return Err(PyRuntimeError::new_err(format!(
            "Invalid device string: '{s}'"
        )));
    }
    let (kind, idx) =
        match s.split_once(':') {
            Some((k, i)) => (
                k,
                Some(i.parse::<i64>().map_err(|_| {
                    PyRuntimeError::new_err(format!("Invalid device string: '{s}'"))
                })?),
            ),
            None => (s, index),
        };
    match kind {
        "cpu" | "cuda" | "meta" => Ok(PyDevice {
            kind: kind.into(),
            index: idx,
        }),
        _ => Err(PyRuntimeError::new_err(format!(
            "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, \
             maia, xla, lazy, vulkan, mps, meta, hpu, mtia, privateuseone device type at start \
             of device string: {s}"
        ))),
    }
}

pub fn cpu_device() -> PyDevice {
    PyDevice {
        kind: "cpu".into(),
        index: None,
    }
}

impl PyDevice {
    pub fn from_device(d: Device) -> PyDevice {
        match d {
            Device::Cpu => cpu_device(),
            Device::Cuda(i) => PyDevice {
                kind: "cuda".into(),
                index: Some(i as i64),
            },
            Device::Meta => PyDevice {
                kind: "meta".into(),
                index: None,
            },
        }
    }
}

/// The error `.cuda()` and `device='cuda'` give where CUDA cannot be used, saying why.
pub fn cuda_unavailable(why: &str) -> PyErr {
    PyRuntimeError::new_err(why.to_string())
}

/// Resolves a device argument (`"cuda"`, `"cuda:1"`, `rustgrad.device`, an int) and checks
/// that it can be used: `"cuda"` means device 0, which must exist.
pub fn resolve_device(obj: &Bound<'_, PyAny>) -> PyResult<Device> {
    let dev = if let Ok(d) = obj.cast::<PyDevice>() {
        d.get().clone()
    } else if obj.is_instance_of::<pyo3::types::PyBool>() {
        return Err(PyTypeError::new_err(
            "device must be a string, an int or rustgrad.device, not bool",
        ));
    } else if let Ok(i) = obj.extract::<i64>() {
        PyDevice {
            kind: "cuda".into(),
            index: Some(i),
        }
    } else if let Ok(s) = obj.extract::<String>() {
        parse_device(&s, None)?
    } else {
        return Err(PyTypeError::new_err(
            "device must be a string, an int or rustgrad.device",
        ));
    };
    match dev.kind.as_str() {
        "cpu" => return Ok(Device::Cpu),
        "meta" => return Ok(Device::Meta),
        _ => {}
    }
    if let Some(why) = cuda::unavailable_reason() {
        return Err(cuda_unavailable(&why));
    }
    let index = dev.index.unwrap_or(0);
    let count = cuda::device_count();
    if index < 0 || index as usize >= count {
        return Err(PyRuntimeError::new_err(format!(
            "CUDA error: invalid device ordinal (cuda:{index} requested, {count} device(s) \
             available)"
        )));
    }
    Ok(Device::Cuda(index as usize))
}

/// An optional `device=` argument: `None` when absent.
pub fn check_device(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Device>> {
    match obj {
        Some(o) if !o.is_none() => resolve_device(o).map(Some),
        _ => Ok(None),
    }
}

/// A Python number (bool, int or float; NumPy's float64 is a float) as a [`Scalar`], `None`
/// for anything else. An int outside int64 raises OverflowError, as PyTorch does, rather
/// than wrapping or rounding.
pub fn py_scalar(obj: &Bound<'_, PyAny>) -> PyResult<Option<Scalar>> {
    if obj.is_instance_of::<PyBool>() {
        return Ok(Some(Scalar::Bool(obj.extract::<bool>()?)));
    }
    if obj.is_instance_of::<PyInt>() {
        return match obj.extract::<i64>() {
            Ok(i) => Ok(Some(Scalar::Int(i))),
            Err(_) => Err(PyOverflowError::new_err("int too big to convert")),
        };
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(Some(Scalar::Float(obj.extract::<f64>()?)));
    }
    numpy_scalar(obj)
}

/// A NumPy scalar (`np.int64(3)`, `np.float32(1.5)`) as the Python number PyTorch takes it
/// for: integers as ints, floats as floats, and `np.bool_` as a float (PyTorch reads it
/// through `__float__`: `bool_tensor + np.bool_(True)` is float32).
fn numpy_scalar(obj: &Bound<'_, PyAny>) -> PyResult<Option<Scalar>> {
    static GENERIC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let Ok(generic) = GENERIC.import(obj.py(), "numpy", "generic") else {
        return Ok(None);
    };
    if !obj.is_instance(generic)? {
        return Ok(None);
    }
    let kind: String = obj.getattr("dtype")?.getattr("kind")?.extract()?;
    let item = obj.call_method0("item")?;
    Ok(match kind.as_str() {
        "i" | "u" => {
            Some(Scalar::Int(item.extract::<i64>().map_err(|_| {
                PyOverflowError::new_err("int too big to convert")
            })?))
        }
        "b" => Some(Scalar::Float(item.extract::<bool>()? as u8 as f64)),
        "f" => Some(Scalar::Float(item.extract::<f64>()?)),
        _ => None,
    })
}

/// A number argument (`alpha=`, clamp's bounds): `None` when absent or None, TypeError for
/// anything but a bool, int or float.
pub fn number_arg(obj: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Option<Scalar>> {
    match obj.filter(|o| !o.is_none()) {
        Some(obj) => number(obj, name).map(Some),
        None => Ok(None),
    }
}

/// A required number argument (`fill_value`): TypeError for anything but a bool, int or
/// float.
pub fn number(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Scalar> {
    // (as PyTorch's argument parser, a 0-d tensor stands for its value)
    if let Ok(t) = obj.cast::<super::tensor::PyTensor>() {
        if t.get().var.shape().is_empty() {
            return number(&obj.call_method0("item")?, name);
        }
    }
    py_scalar(obj)?.ok_or_else(|| match obj.get_type().name() {
        Ok(t) => PyTypeError::new_err(format!("{name} must be a number, not {t}")),
        Err(e) => e,
    })
}
