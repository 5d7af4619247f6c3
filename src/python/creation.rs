//! Module-level functions: creation, grad mode, the engine entry points, device queries.

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3::wrap_pyfunction;

use super::convert;
use super::generator::PyGenerator;
use super::gil::{self, Work};
use super::tensor::{tensor_list, PyTensor};
use super::types::{check_device, number, parse_dtype, py_scalar, PyDType};
use crate::autograd::{self, Var};
use crate::backend::cpu::random;
use crate::backend::cuda;
use crate::base::dtype::default_float;
use crate::ops;
use crate::tensor::Device;
use crate::tensor::{DType, Layout, Scalar, Tensor};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};

/// Fails with a Python error (instead of aborting) when `n` elements of `bytes` each cannot
/// be allocated.
/// Refuses `n` staging values (float64) the machine cannot hold, by the one host rule.
fn check_alloc(n: usize, bytes: usize) -> PyResult<()> {
    debug_assert_eq!(bytes, 8);
    Ok(crate::base::buffer::check_host_alloc(DType::F64, n)?)
}

fn finish(t: Tensor, requires_grad: bool) -> PyResult<PyTensor> {
    let v = Var::new(t, false);
    v.set_requires_grad(requires_grad)?;
    Ok(PyTensor::wrap(v))
}

/// Like [`finish`], registering the Python object of a leaf that requires grad (so its
/// `AccumulateGrad` node hands back this very object).
fn finish_leaf(py: Python<'_>, t: Tensor, requires_grad: bool) -> PyResult<Bound<'_, PyTensor>> {
    finish_leaf_on(py, t, None, requires_grad)
}

/// [`finish_leaf`] after moving `t` to `device` (when one was given).
fn finish_leaf_on(
    py: Python<'_>,
    t: Tensor,
    device: Option<Device>,
    requires_grad: bool,
) -> PyResult<Bound<'_, PyTensor>> {
    let t = match device {
        Some(d) => gil::run(py, Work::default().tensor(&t).on(d), || t.to_device(d))?,
        None => t,
    };
    let obj = Bound::new(py, finish(t, requires_grad)?)?;
    if requires_grad {
        PyTensor::register(&obj)?;
    }
    Ok(obj)
}

/// A new leaf tensor copied from ``data``; its shape is the nesting of ``data``.
///
/// The dtype is inferred as PyTorch does (bool, then int64, then float32; NumPy arrays keep
/// their dtype) unless ``dtype`` is given.
#[pyfunction]
#[pyo3(signature = (data, dtype=None, device=None, requires_grad=false))]
fn tensor<'py>(
    py: Python<'py>,
    data: &Bound<'_, PyAny>,
    dtype: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Bound<'py, PyTensor>> {
    let device = device_arg(device)?;
    finish_leaf_on(
        py,
        convert::tensor_from_data(data, parse_dtype(dtype)?)?,
        device,
        requires_grad,
    )
}

/// A tensor of ``arr``'s shape and values.
///
/// It shares ``arr``'s memory when ``arr`` is C-contiguous, aligned and writeable with dtype
/// float32, float64, int64 or bool; otherwise it is a copy (other integer dtypes become int64,
/// other float dtypes float32).
#[pyfunction]
fn from_numpy<'py>(
    py: Python<'py>,
    arr: &Bound<'_, numpy::PyUntypedArray>,
) -> PyResult<Bound<'py, PyTensor>> {
    finish_leaf(py, convert::share_numpy(arr)?, false)
}

#[allow(clippy::too_many_arguments)]
fn filled<'py>(
    py: Python<'py>,
    shape: &Bound<'_, PyTuple>,
    size: Option<&Bound<'_, PyAny>>,
    value: f64,
    dtype: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Bound<'py, PyTensor>> {
    let device = device_arg(device)?;
    let shape = shape_arg(shape, size)?;
    let dtype = parse_dtype(dtype)?.unwrap_or(default_float());
    let device = device.unwrap_or(Device::Cpu);
    finish_leaf(
        py,
        full_on(py, &shape, value, dtype, device)?,
        requires_grad,
    )
}

/// How many elements `shape` holds (saturating: only compared with small counts).
fn element_count(shape: &[usize]) -> usize {
    shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .unwrap_or(usize::MAX)
}

/// `Tensor::full_on`, through [`gil::run`].
fn full_on(
    py: Python<'_>,
    shape: &[usize],
    value: impl Into<Scalar> + Send,
    dtype: DType,
    device: Device,
) -> PyResult<Tensor> {
    let work = Work::shape(shape).on(device);
    Ok(gil::run(py, work, || {
        Tensor::full_on(shape, value, dtype, device)
    })?)
}

/// A meta leaf of `shape`: what `arange`, `linspace` and `eye` make on the meta device,
/// where there are no values to compute (and so no host memory to fill).
fn meta_leaf<'py>(
    py: Python<'py>,
    shape: &[usize],
    dtype: DType,
    requires_grad: bool,
) -> PyResult<Bound<'py, PyTensor>> {
    finish_leaf(
        py,
        full_on(py, shape, Scalar::Int(0), dtype, Device::Meta)?,
        requires_grad,
    )
}

/// Zeros of shape ``size`` (the default float dtype unless given): ``zeros(2, 3)``,
/// ``zeros((2, 3))`` or ``zeros(size=(2, 3))``.
#[pyfunction]
#[pyo3(signature = (*shape, size=None, dtype=None, device=None, requires_grad=false))]
fn zeros<'py>(
    py: Python<'py>,
    shape: &Bound<'_, PyTuple>,
    size: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Bound<'py, PyTensor>> {
    filled(py, shape, size, 0.0, dtype, device, requires_grad).map_err(|e| {
        // (PyTorch's zeros checks its sizes itself, in words of its own)
        let negative = e.value(py).to_string();
        if negative.starts_with("Trying to create tensor with negative dimension") {
            PyRuntimeError::new_err("zeros: Dimension size must be non-negative.")
        } else {
            e
        }
    })
}

/// A tensor of shape ``size`` whose elements lie ``stride`` apart in its memory (PyTorch's
/// ``empty_strided``; the memory, up to the farthest element, holds zeros here), e.g.
/// ``empty_strided((2, 3), (1, 2))``: column-major.
#[pyfunction]
#[pyo3(signature = (size, stride, *, dtype=None, device=None, requires_grad=false))]
fn empty_strided<'py>(
    py: Python<'py>,
    size: Vec<i64>,
    stride: Vec<i64>,
    dtype: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Bound<'py, PyTensor>> {
    let runtime = |m: String| PyErr::from(crate::error::Error::Runtime(m));
    if size.len() != stride.len() {
        return Err(runtime(format!(
            "dimensionality of sizes ({}) must match dimensionality of strides ({})",
            size.len(),
            stride.len()
        )));
    }
    convert::check_non_negative(&size)?;
    // One element past the farthest one (none when a dim is empty), in checked arithmetic.
    let overflow = || {
        runtime(format!(
            "Storage size calculation overflowed with sizes={size:?} and strides={stride:?}"
        ))
    };
    let extent = if size.contains(&0) {
        0
    } else {
        size.iter()
            .zip(&stride)
            .try_fold(1usize, |end, (&n, &st)| {
                let st = usize::try_from(st).ok()?;
                end.checked_add((n as usize - 1).checked_mul(st)?)
            })
            .filter(|&end| isize::try_from(end).is_ok())
            .ok_or_else(overflow)?
    };
    let dtype = parse_dtype(dtype)?.unwrap_or(default_float());
    let device = device_arg(device)?.unwrap_or(Device::Cpu);
    let memory = full_on(py, &[extent], 0.0, dtype, device)?;
    let layout = Layout {
        shape: size.iter().map(|&n| n as usize).collect(),
        strides: stride.iter().map(|&st| st as isize).collect(),
        offset: 0,
    };
    finish_leaf(py, memory.with_layout(layout), requires_grad)
}

/// Ones of shape ``size`` (the default float dtype unless given): ``ones(2, 3)``,
/// ``ones((2, 3))`` or ``ones(size=(2, 3))``.
#[pyfunction]
#[pyo3(signature = (*shape, size=None, dtype=None, device=None, requires_grad=false))]
fn ones<'py>(
    py: Python<'py>,
    shape: &Bound<'_, PyTuple>,
    size: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Bound<'py, PyTensor>> {
    filled(py, shape, size, 1.0, dtype, device, requires_grad)
}

/// ``fill_value`` in every element of shape ``size``; the dtype follows the value's type
/// (bool, int64, float32) unless given.
#[pyfunction]
#[pyo3(signature = (size, fill_value, dtype=None, device=None, requires_grad=false))]
fn full<'py>(
    py: Python<'py>,
    size: &Bound<'_, PyAny>,
    fill_value: &Bound<'_, PyAny>,
    dtype: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Bound<'py, PyTensor>> {
    let device = device_arg(device)?;
    let args = PyTuple::new(size.py(), [size])?;
    let shape = convert::sizes(&args)?;
    let value = number(fill_value, "fill_value")?;
    let dtype = parse_dtype(dtype)?.unwrap_or(value.default_dtype());
    let device = device.unwrap_or(Device::Cpu);
    value.check_fits(dtype, element_count(&shape))?;
    finish_leaf(
        py,
        full_on(py, &shape, value, dtype, device)?,
        requires_grad,
    )
}

/// ``fill_value`` in ``input``'s shape, dtype and device (unless given).
#[pyfunction]
#[pyo3(signature = (input, fill_value, dtype=None, device=None, requires_grad=false))]
fn full_like<'py>(
    py: Python<'py>,
    input: &Bound<'_, PyTensor>,
    fill_value: &Bound<'_, PyAny>,
    dtype: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Bound<'py, PyTensor>> {
    let src = input.get().var.tensor();
    let dtype = parse_dtype(dtype)?.unwrap_or(src.dtype());
    let device = check_device(device)?.unwrap_or(src.device());
    // (`zeros_like` and `ones_like` are this in Python.)
    let value = number(fill_value, "fill_value")?;
    value.check_fits(dtype, src.numel())?;
    let t = full_on(py, src.shape(), value, dtype, device)?;
    finish_leaf(py, t, requires_grad)
}

/// ``[start, end)`` in steps of ``step``, shape ``(ceil((end - start) / step),)``.
///
/// ``arange(n)`` is ``0..n``. int64 when all bounds are ints, else float32.
#[pyfunction]
#[pyo3(signature = (start=None, end=None, step=None, dtype=None, device=None, requires_grad=false))]
#[allow(clippy::too_many_arguments)]
fn arange<'py>(
    py: Python<'py>,
    start: Option<&Bound<'_, PyAny>>,
    end: Option<&Bound<'_, PyAny>>,
    step: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Bound<'py, PyTensor>> {
    let device = device_arg(device)?;
    // `arange(end)`, `arange(end=end)` or `arange(start, end[, step])`
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (number(s, "start")?, number(e, "end")?),
        (Some(e), None) | (None, Some(e)) if step.is_none() => (Scalar::Int(0), number(e, "end")?),
        _ => {
            return Err(PyTypeError::new_err(
                "arange() received an invalid combination of arguments: expected (Number end) \
                 or (Number start, Number end, Number step)",
            ))
        }
    };
    let step = match step {
        Some(v) => number(v, "step")?,
        None => Scalar::Int(1),
    };
    let any_float = start.is_float() || end.is_float() || step.is_float();
    let dtype = parse_dtype(dtype)?.unwrap_or(if any_float {
        default_float()
    } else {
        DType::I64
    });
    if dtype == DType::Bool {
        return Err(pyo3::exceptions::PyNotImplementedError::new_err(
            "\"arange_cpu\" not implemented for 'Bool'",
        ));
    }
    let step_f = step.to_f64();
    if step_f == 0.0 || step_f.is_nan() {
        // (a NaN step too, as PyTorch)
        return Err(pyo3::exceptions::PyRuntimeError::new_err(
            "step must be nonzero",
        ));
    }
    if !start.to_f64().is_finite() || !end.to_f64().is_finite() {
        return Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
            "unsupported range: {} -> {}",
            c_number(start),
            c_number(end)
        )));
    }
    if (end.to_f64() - start.to_f64()) * step.to_f64() < 0.0 {
        return Err(pyo3::exceptions::PyRuntimeError::new_err(
            "upper bound and lower bound inconsistent with step sign",
        ));
    }
    if dtype == DType::Bool {
        return Err(pyo3::exceptions::PyNotImplementedError::new_err(
            "\"arange_cpu\" not implemented for 'Bool'",
        ));
    }
    if dtype.is_integral() {
        // As PyTorch: the bounds and step are taken as int64 first and the values computed
        // from them. For int64 the count is computed in integers too (arange(2.5) has 2
        // elements, a step of 0.25 is ValueError); for the narrower types it is counted from
        // the float bounds (arange(2.5) has 3, a step of 0.25 repeats the start).
        let int = |v: Scalar| match v {
            Scalar::Int(i) => Ok(i),
            other => crate::tensor::float_to_int64(other.to_f64().trunc()),
        };
        let (s, e, st) = (int(start)?, int(end)?, int(step)?);
        let n = if dtype == DType::I64 {
            if st == 0 {
                return Err(pyo3::exceptions::PyValueError::new_err(
                    "step must be nonzero",
                ));
            }
            let span = (e as i128 - s as i128 + st as i128 - st.signum() as i128) / st as i128;
            usize::try_from(span.max(0)).unwrap_or(usize::MAX)
        } else {
            ((end.to_f64() - start.to_f64()) / step.to_f64())
                .ceil()
                .max(0.0) as usize
        };
        if device == Some(Device::Meta) {
            return meta_leaf(py, &[n], dtype, requires_grad);
        }
        check_alloc(n, 8)?;
        let t = gil::run(py, Work::elements(n), || -> PyResult<Tensor> {
            let values: Vec<i64> = (0..n as i128)
                .map(|i| (s as i128 + i * st as i128) as i64)
                .collect();
            Ok(Tensor::from_vec(values, &[n]).cast(dtype)?)
        })?;
        return finish_leaf_on(py, t, device, requires_grad);
    }
    let (s, e, st) = (start.to_f64(), end.to_f64(), step.to_f64());
    let n = ((e - s) / st).ceil().max(0.0) as usize;
    if device == Some(Device::Meta) {
        return meta_leaf(py, &[n], dtype, requires_grad);
    }
    check_alloc(n, 8)?;
    let t = gil::run(py, Work::elements(n), || -> PyResult<Tensor> {
        let values: Vec<f64> = (0..n).map(|i| s + i as f64 * st).collect();
        Ok(Tensor::from_f64s(&values, &[n], dtype))
    })?;
    finish_leaf_on(py, t, device, requires_grad)
}

/// A number as PyTorch's C++ messages print it (`nan`, `inf`, `2` for 2.0).
fn c_number(v: Scalar) -> String {
    match v {
        Scalar::Float(f) if f.is_nan() => "nan".into(),
        Scalar::Float(f) if f.is_infinite() => if f > 0.0 { "inf" } else { "-inf" }.into(),
        Scalar::Float(f) => format!("{f}"),
        Scalar::Int(i) => format!("{i}"),
        Scalar::Bool(b) => format!("{}", b as u8),
    }
}

/// ``steps`` evenly spaced values from ``start`` to ``end`` inclusive, shape ``(steps,)``
/// (float32 by default).
#[pyfunction]
#[pyo3(signature = (start, end, steps, dtype=None, device=None, requires_grad=false))]
fn linspace<'py>(
    py: Python<'py>,
    start: f64,
    end: f64,
    steps: i64,
    dtype: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Bound<'py, PyTensor>> {
    let device = device_arg(device)?;
    if steps < 0 {
        return Err(pyo3::exceptions::PyRuntimeError::new_err(
            "number of steps must be non-negative",
        ));
    }
    let n = steps as usize;
    let dtype = parse_dtype(dtype)?.unwrap_or(default_float());
    if dtype == DType::Bool {
        return Err(pyo3::exceptions::PyNotImplementedError::new_err(
            "\"linspace_cpu\" not implemented for 'Bool'",
        ));
    }
    if device == Some(Device::Meta) {
        return meta_leaf(py, &[n], dtype, requires_grad);
    }
    // (an integer dtype takes the bounds converted to it first, as PyTorch's kernel: -1 is
    // 255 in uint8; the steps between are computed in double)
    let (start, end) = if dtype.is_integral() {
        (wrapped_int(start, dtype), wrapped_int(end, dtype))
    } else {
        (start, end)
    };
    check_alloc(n, 8)?;
    let t = gil::run(py, Work::elements(n), || -> PyResult<Tensor> {
        Ok(Tensor::from_f64s(
            &linspace_values(start, end, n, dtype),
            &[n],
            dtype,
        ))
    })?;
    finish_leaf_on(py, t, device, requires_grad)
}

/// `v` truncated and converted to the integer `dtype` as C++ converts it (wrapping).
fn wrapped_int(v: f64, dtype: DType) -> f64 {
    let i = v.trunc() as i64;
    match dtype {
        DType::U8 => i as u8 as f64,
        DType::I8 => i as i8 as f64,
        DType::I16 => i as i16 as f64,
        DType::I32 => i as i32 as f64,
        _ => i as f64,
    }
}

/// `linspace`'s `n` values.
fn linspace_values(start: f64, end: f64, n: usize, dtype: DType) -> Vec<f64> {
    // Both halves step in from their own end with fused multiply-adds, in the result's
    // precision, as PyTorch's kernel does (so values match it bit for bit).
    let half = if n == 1 { 1 } else { n / 2 };
    if dtype == DType::F32 {
        let (s, e) = (start as f32, end as f32);
        let step = if n > 1 { (e - s) / (n - 1) as f32 } else { 0.0 };
        (0..n).map(|i| if i < half { step.mul_add(i as f32, s) } else { (-step).mul_add((n - 1 - i) as f32, e) } as f64).collect()
    } else {
        let step = if n > 1 {
            (end - start) / (n - 1) as f64
        } else {
            0.0
        };
        (0..n)
            .map(|i| {
                if i < half {
                    step.mul_add(i as f64, start)
                } else {
                    (-step).mul_add((n - 1 - i) as f64, end)
                }
            })
            .collect()
    }
}

/// Identity matrix of shape ``(n, m)`` (``m`` defaults to ``n``; float32 by default).
#[pyfunction]
#[pyo3(signature = (n, m=None, dtype=None, device=None, requires_grad=false))]
fn eye<'py>(
    py: Python<'py>,
    n: i64,
    m: Option<i64>,
    dtype: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Bound<'py, PyTensor>> {
    let device = device_arg(device)?;
    let m = m.unwrap_or(n);
    for (name, v) in [("n", n), ("m", m)] {
        if v < 0 {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
                "{name} must be greater or equal to 0, got {v}"
            )));
        }
    }
    let (n, m) = (n as usize, m as usize);
    let nm = crate::base::layout::checked_numel(&[n, m])?;
    let dtype = parse_dtype(dtype)?.unwrap_or(default_float());
    if device == Some(Device::Meta) {
        return meta_leaf(py, &[n, m], dtype, requires_grad);
    }
    check_alloc(nm, 8)?;
    let t = gil::run(py, Work::elements(nm), || -> PyResult<Tensor> {
        let mut values = vec![0.0; nm];
        for i in 0..n.min(m) {
            values[i * m + i] = 1.0;
        }
        Ok(Tensor::from_f64s(&values, &[n, m], dtype))
    })?;
    finish_leaf_on(py, t, device, requires_grad)
}

/// The shape of a creation call: its sizes (`rand(2, 3)`, `rand((2, 3))`) or `size=`.
fn shape_arg(shape: &Bound<'_, PyTuple>, size: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<usize>> {
    match size {
        Some(s) if !shape.is_empty() => Err(PyTypeError::new_err(format!(
            "size given both as positional arguments {:?} and as size={}",
            shape.str()?.to_string(),
            s.str()?
        ))),
        Some(s) => convert::sizes(&PyTuple::new(s.py(), [s])?),
        None => convert::sizes(shape),
    }
}

#[allow(clippy::too_many_arguments)]
fn random_tensor<'py>(
    py: Python<'py>,
    shape: &Bound<'_, PyTuple>,
    size: Option<&Bound<'_, PyAny>>,
    generator: Option<&Bound<'_, PyGenerator>>,
    dtype: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
    normal: bool,
) -> PyResult<Bound<'py, PyTensor>> {
    crate::compile::note_break(crate::tensor::storage::RANDOM_BREAK);
    let device = device_arg(device)?;
    let shape = shape_arg(shape, size)?;
    let n = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .unwrap_or(usize::MAX);
    let device = device.unwrap_or(Device::Cpu);
    if device != Device::Meta {
        check_alloc(n, 8)?; // (meta tensors hold no values, so nothing is drawn for them)
    }
    let dtype = parse_dtype(dtype)?.unwrap_or(default_float());
    if !dtype.is_float() {
        return Err(pyo3::exceptions::PyNotImplementedError::new_err(format!(
            "\"{}\" not implemented for '{}'",
            if normal {
                "normal_kernel_cpu"
            } else {
                "check_uniform_bounds"
            },
            dtype.scalar_name()
        )));
    }
    let generator = generator.map(|g| g.get());
    if let Some(g) = generator {
        g.check_device(device)?;
    }
    let work = Work::elements(n).on(device);
    let t = gil::run(py, work, || match (device, generator) {
        (Device::Cuda(_), None) | (Device::Meta, _) => {
            Tensor::random(&shape, dtype, device, normal)
        }
        (_, g) => {
            // PyTorch's CPU draws for `dtype` (see `backend::cpu::random`).
            let rng = g.map_or_else(|| random::DEFAULT.clone(), |g| g.rng.clone());
            let values = if normal {
                rng.lock().normal_fill(n, dtype, 0.0, 1.0, false)
            } else {
                rng.lock().uniform_fill(n, dtype, 0.0, 1.0)
            };
            Tensor::from_f64s(&values, &shape, dtype).to_device(device)
        }
    })?;
    finish_leaf(py, t, requires_grad)
}

/// Uniform samples in ``[0, 1)`` of shape ``size`` (the default float dtype unless given):
/// ``rand(2, 3)``, ``rand((2, 3))`` or ``rand(size=(2, 3))``; ``generator=`` draws from that
/// generator instead of the default one.
#[pyfunction]
#[pyo3(signature = (*shape, size=None, generator=None, dtype=None, device=None, requires_grad=false))]
fn rand<'py>(
    py: Python<'py>,
    shape: &Bound<'_, PyTuple>,
    size: Option<&Bound<'_, PyAny>>,
    generator: Option<&Bound<'_, PyGenerator>>,
    dtype: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Bound<'py, PyTensor>> {
    random_tensor(
        py,
        shape,
        size,
        generator,
        dtype,
        device,
        requires_grad,
        false,
    )
}

/// Standard normal samples of shape ``size`` (the default float dtype unless given):
/// ``randn(2, 3)``, ``randn((2, 3))`` or ``randn(size=(2, 3))``; ``generator=`` draws from
/// that generator instead of the default one.
#[pyfunction]
#[pyo3(signature = (*shape, size=None, generator=None, dtype=None, device=None, requires_grad=false))]
fn randn<'py>(
    py: Python<'py>,
    shape: &Bound<'_, PyTuple>,
    size: Option<&Bound<'_, PyAny>>,
    generator: Option<&Bound<'_, PyGenerator>>,
    dtype: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Bound<'py, PyTensor>> {
    random_tensor(
        py,
        shape,
        size,
        generator,
        dtype,
        device,
        requires_grad,
        true,
    )
}

// ----- defaults for creation (`set_default_dtype`, `set_default_device`) -----------------

thread_local! {
    /// The device of creation calls without `device=` (`set_default_device`); None is the
    /// CPU. Per thread, as PyTorch's: another thread's default or `with device:` block
    /// does not reach this one.
    static DEFAULT_DEVICE: std::cell::Cell<Option<Device>> = const { std::cell::Cell::new(None) };

    /// The defaults that `with device:` blocks replaced, innermost last (restored on exit).
    static ENTERED_DEVICES: std::cell::RefCell<Vec<Option<Device>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// This thread's default device (None: the CPU).
fn default_device() -> Option<Device> {
    DEFAULT_DEVICE.with(|d| d.get())
}

/// `with rustgrad.device(d):` makes `d` the default device until the block ends.
pub(crate) fn enter_default_device(device: Device) {
    let previous = DEFAULT_DEVICE.with(|d| d.replace((device != Device::Cpu).then_some(device)));
    ENTERED_DEVICES.with(|stack| stack.borrow_mut().push(previous));
}

/// The end of the innermost `with device:` block: the default before it again.
pub(crate) fn exit_default_device() {
    if let Some(previous) = ENTERED_DEVICES.with(|stack| stack.borrow_mut().pop()) {
        DEFAULT_DEVICE.with(|d| d.set(previous));
    }
}

/// A creation call's `device=`, or the default device when absent.
fn device_arg(device: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Device>> {
    Ok(check_device(device)?.or(default_device()))
}

/// Makes ``dtype`` (``float32`` or ``float64``) the dtype of Python floats and of float
/// tensors created without ``dtype=`` (``tensor(1.5)``, ``ones(2)``, ``rand(3)``).
#[pyfunction]
fn set_default_dtype(d: &Bound<'_, PyAny>) -> PyResult<()> {
    let dtype = parse_dtype(Some(d))?.unwrap_or(DType::F32);
    if !dtype.is_float() {
        return Err(PyTypeError::new_err(
            "only floating-point types are supported as the default type",
        ));
    }
    crate::base::dtype::set_default_float(dtype);
    Ok(())
}

/// The default floating dtype (``float32`` unless ``set_default_dtype`` changed it).
#[pyfunction]
fn get_default_dtype(py: Python<'_>) -> Py<PyDType> {
    super::types::dtype_object(py, default_float())
}

/// Sets (None: clears) the device of creation calls without ``device=``.
#[pyfunction]
#[pyo3(signature = (device))]
fn _set_default_device(device: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    let d = check_device(device)?.filter(|d| *d != Device::Cpu);
    DEFAULT_DEVICE.with(|default| default.set(d));
    Ok(())
}

/// The device of creation calls without ``device=``.
#[pyfunction]
fn _get_default_device() -> super::types::PyDevice {
    super::types::PyDevice::from_device(default_device().unwrap_or(Device::Cpu))
}

/// Lets at most ``n`` threads work on each CPU kernel (``torch.set_num_threads``; the
/// Python layer checks ``n``).
#[pyfunction]
fn _set_num_threads(n: usize) {
    crate::backend::cpu::pool::set_threads(n);
}

/// The threads that work on each CPU kernel (``torch.get_num_threads``).
#[pyfunction]
fn _get_num_threads() -> usize {
    crate::backend::cpu::pool::threads()
}

/// Seed the CPU's generator behind ``rand`` and ``randn`` and every CUDA device's
/// generator.
#[pyfunction]
fn manual_seed(seed: i64) {
    random::manual_seed(seed as u64);
    cuda::device::manual_seed_all(seed as u64);
}

/// ``input`` where ``condition`` (a bool tensor) holds, else ``other``; all three broadcast
/// together. ``input`` and ``other`` may be Python numbers.
#[pyfunction]
#[pyo3(name = "where")]
fn where_(
    py: Python<'_>,
    condition: &Bound<'_, PyTensor>,
    input: &Bound<'_, PyAny>,
    other: &Bound<'_, PyAny>,
) -> PyResult<PyTensor> {
    let as_var = |o: &Bound<'_, PyAny>, like: Option<DType>| -> PyResult<Var> {
        if let Ok(t) = o.cast::<PyTensor>() {
            return Ok(t.get().var.clone());
        }
        let Some(s) = py_scalar(o)? else {
            return Err(PyTypeError::new_err(format!(
                "where(): argument 'other' must be Tensor or Number, not {}",
                o.get_type().name()?
            )));
        };
        Ok(match like {
            Some(like) => {
                // (PyTorch's scalar overload converts it where it takes the tensor's dtype, a
                // number of the same or a lower kind, except into a half type; a float beside
                // an integer tensor promotes the result instead)
                let takes_dtype = match s {
                    Scalar::Float(_) => like.is_float(),
                    Scalar::Int(_) => like != DType::Bool,
                    Scalar::Bool(_) => true,
                };
                if takes_dtype && !matches!(like, DType::F16 | DType::BF16) {
                    s.check_fits(like, 2)?;
                }
                ops::scalar_like(s, like)
            }
            None => ops::constant(Tensor::from_scalar(s, s.default_dtype())),
        })
    };
    let a_like = other.cast::<PyTensor>().ok().map(|t| t.get().var.dtype());
    let a = as_var(input, a_like)?;
    let b = as_var(other, Some(a.dtype()))?;
    let mut c = condition.get().var.clone();
    if c.dtype() == DType::U8 {
        // (PyTorch still reads a uint8 condition as a mask, with this warning)
        PyErr::warn(
            py,
            &py.get_type::<pyo3::exceptions::PyUserWarning>(),
            c"where received a uint8 condition tensor. This behavior is deprecated and will be \
              removed in a future version of PyTorch. Use a boolean condition instead.",
            1,
        )?;
        let mask = gil::run(py, Work::of([&c]), || c.tensor().cast(DType::Bool))?;
        c = Var::new(mask, false);
    }
    let c = &c;
    let r = gil::run(py, Work::of([c, &a, &b]), || ops::where_(c, &a, &b));
    Ok(PyTensor::wrap(r?))
}

/// Join tensors along an existing dim: ``(2, 3) + (4, 3) -> (6, 3)`` with ``dim=0``.
#[pyfunction]
#[pyo3(signature = (tensors, dim=0))]
fn cat(py: Python<'_>, tensors: &Bound<'_, PyAny>, dim: i64) -> PyResult<PyTensor> {
    let xs = tensor_list(tensors)?;
    Ok(PyTensor::wrap(gil::run(py, Work::of(&xs), || {
        ops::cat(&xs, dim)
    })?))
}

/// Join equal-shaped tensors along a new dim: k tensors ``(2, 3) -> (k, 2, 3)`` with
/// ``dim=0``.
#[pyfunction]
#[pyo3(signature = (tensors, dim=0))]
fn stack(py: Python<'_>, tensors: &Bound<'_, PyAny>, dim: i64) -> PyResult<PyTensor> {
    let xs = tensor_list(tensors)?;
    Ok(PyTensor::wrap(gil::run(py, Work::of(&xs), || {
        ops::stack(&xs, dim)
    })?))
}

/// Whether ops record the graph on this thread.
#[pyfunction]
fn is_grad_enabled() -> bool {
    autograd::grad_mode_flag()
}

/// ``value``, a Python number, as the 0-d tensor PyTorch makes of a number passed where a
/// tensor goes (``torch.add(3, t)``): a wrapped number, typed as it would be beside ``like``.
/// None for anything that is not a number. Private: for the functions written in Python.
#[pyfunction]
fn _number_beside(
    value: &Bound<'_, PyAny>,
    like: &Bound<'_, PyTensor>,
) -> PyResult<Option<PyTensor>> {
    let Some(v) = py_scalar(value)? else {
        return Ok(None);
    };
    let device = like.get().var.tensor().device();
    let number = ops::scalar_like(v, like.get().var.dtype());
    if device == Device::Cpu {
        return Ok(Some(PyTensor::wrap(number)));
    }
    // (a wrapped number is a CPU scalar in PyTorch; here it follows its tensor's device)
    let t = number.tensor().to_device(device)?.into_wrapped_number();
    Ok(Some(PyTensor::wrap(Var::new(t, false))))
}

/// Switch graph recording on this thread (``no_grad`` and friends call this).
#[pyfunction]
fn _set_grad_enabled(enabled: bool) {
    autograd::set_grad_enabled(enabled);
}

fn optional_list(obj: &Bound<'_, PyAny>) -> PyResult<Vec<Option<Var>>> {
    let seq = obj.cast::<pyo3::types::PySequence>()?;
    (0..seq.len()?)
        .map(|i| {
            let item = seq.get_item(i)?;
            if item.is_none() {
                Ok(None)
            } else {
                Ok(Some(item.cast::<PyTensor>()?.get().var.clone()))
            }
        })
        .collect()
}

/// The engine behind ``rustgrad.autograd.backward``: one gradient (or None for a
/// one-element root) per root tensor.
#[pyfunction]
#[pyo3(signature = (tensors, grad_tensors, retain_graph, create_graph, inputs=None))]
fn _run_backward(
    py: Python<'_>,
    tensors: &Bound<'_, PyAny>,
    grad_tensors: &Bound<'_, PyAny>,
    retain_graph: bool,
    create_graph: bool,
    inputs: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let roots = tensor_list(tensors)?;
    let grads = optional_list(grad_tensors)?;
    let inputs = inputs
        .filter(|i| !i.is_none())
        .map(tensor_list)
        .transpose()?;
    gil::run(py, Work::unbounded(), move || {
        autograd::backward(
            &roots,
            &grads,
            retain_graph,
            create_graph,
            inputs.as_deref(),
        )
    })?;
    Ok(())
}

/// The engine behind ``rustgrad.autograd.grad``: one gradient per input, same shape as that
/// input (None for an unused input when ``allow_unused``).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn _grad(
    py: Python<'_>,
    outputs: &Bound<'_, PyAny>,
    inputs: &Bound<'_, PyAny>,
    grad_outputs: &Bound<'_, PyAny>,
    retain_graph: bool,
    create_graph: bool,
    allow_unused: bool,
) -> PyResult<Vec<Option<PyTensor>>> {
    let outs = tensor_list(outputs)?;
    let ins = tensor_list(inputs)?;
    let grads = optional_list(grad_outputs)?;
    let r = gil::run(py, Work::unbounded(), move || {
        autograd::grad(
            &outs,
            &ins,
            &grads,
            retain_graph,
            create_graph,
            allow_unused,
        )
    })?;
    Ok(r.into_iter().map(|g| g.map(PyTensor::wrap)).collect())
}

/// Number of graph nodes alive (for leak tests).
#[pyfunction]
fn _live_nodes() -> usize {
    autograd::arena::live_nodes()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(tensor, m)?)?;
    m.add_function(wrap_pyfunction!(from_numpy, m)?)?;
    m.add_function(wrap_pyfunction!(crate::python::gil::debug_panic, m)?)?;
    m.add_function(wrap_pyfunction!(zeros, m)?)?;
    m.add_function(wrap_pyfunction!(empty_strided, m)?)?;
    m.add_function(wrap_pyfunction!(ones, m)?)?;
    m.add_function(wrap_pyfunction!(full, m)?)?;
    m.add_function(wrap_pyfunction!(full_like, m)?)?;
    m.add_function(wrap_pyfunction!(arange, m)?)?;
    m.add_function(wrap_pyfunction!(linspace, m)?)?;
    m.add_function(wrap_pyfunction!(eye, m)?)?;
    m.add_function(wrap_pyfunction!(rand, m)?)?;
    m.add_function(wrap_pyfunction!(randn, m)?)?;
    m.add_function(wrap_pyfunction!(manual_seed, m)?)?;
    m.add_function(wrap_pyfunction!(set_default_dtype, m)?)?;
    m.add_function(wrap_pyfunction!(get_default_dtype, m)?)?;
    m.add_function(wrap_pyfunction!(_set_default_device, m)?)?;
    m.add_function(wrap_pyfunction!(_set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(_get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(_get_default_device, m)?)?;
    m.add_function(wrap_pyfunction!(where_, m)?)?;
    m.add_function(wrap_pyfunction!(cat, m)?)?;
    m.add_function(wrap_pyfunction!(stack, m)?)?;
    m.add_function(wrap_pyfunction!(is_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_number_beside, m)?)?;
    m.add_function(wrap_pyfunction!(_set_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_run_backward, m)?)?;
    m.add_function(wrap_pyfunction!(_grad, m)?)?;
    m.add_function(wrap_pyfunction!(_live_nodes, m)?)?;
    Ok(())
}
