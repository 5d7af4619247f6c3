//! Python data to tensors and back: nested sequences, scalars, NumPy arrays, index keys.

use numpy::ndarray::{ArrayViewD, IxDyn, ShapeBuilder};
use numpy::{
    PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyEllipsis, PyFloat, PyInt, PyList, PyNone, PyRange, PySequence, PySlice, PyTuple,
};

use super::gil::{self, Work};
use super::tensor::PyTensor;
use crate::base::layout::Layout;
use crate::ops::IndexItem;
use crate::tensor::storage::Buffer;
use crate::tensor::{Bool8, DType, Device, Scalar, Tensor};

/// What kind of number was seen (decides the inferred dtype, the highest wins): a NumPy
/// float64 scalar gives float64, a Python float the default float32.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Bool,
    Int,
    Float,
    Double,
}

/// A Python int as int64, or PyTorch's ValueError for one outside it.
fn int64_of(obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    obj.extract::<i64>()
        .map_err(|_| PyValueError::new_err("Overflow when unpacking long long"))
}

fn scalar_of(obj: &Bound<'_, PyAny>) -> PyResult<Option<(Scalar, Kind)>> {
    if obj.is_instance_of::<PyBool>() {
        return Ok(Some((Scalar::Bool(obj.extract::<bool>()?), Kind::Bool)));
    }
    if obj.is_instance_of::<PyInt>() {
        // (an int beyond int64 is kept as a float, which only a float or bool tensor
        // takes, as PyTorch's `tensor(2**63, dtype=float64)`; see `tensor_from_data`)
        let value = match obj.extract::<i64>() {
            Ok(i) => Scalar::Int(i),
            Err(_) => Scalar::Float(obj.extract::<f64>()?),
        };
        return Ok(Some((value, Kind::Int)));
    }
    // NumPy scalars and 0-d arrays keep their kind (np.float64 is also a Python float).
    if let Ok(a) = obj.cast::<PyUntypedArray>() {
        if a.ndim() == 0 {
            return Ok(Some(numpy_scalar(obj, &a.dtype().to_string())?));
        }
        return Ok(None);
    }
    let np_generic = obj.py().import("numpy")?.getattr("generic")?;
    if obj.is_instance(&np_generic)? {
        let dtype = obj.getattr("dtype")?.str()?.to_string();
        return Ok(Some(numpy_scalar(obj, &dtype)?));
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(Some((Scalar::Float(obj.extract::<f64>()?), Kind::Float)));
    }
    if let Ok(t) = obj.cast::<PyTensor>() {
        let t = t.get().var.tensor();
        if t.ndim() == 0 {
            let host = gil::run(obj.py(), Work::default().tensor(&t), || {
                t.to_device(Device::Cpu)
            })?;
            let kind = match t.dtype().kind() {
                crate::base::Kind::Bool => Kind::Bool,
                crate::base::Kind::Int => Kind::Int,
                _ if t.dtype() == DType::F64 => Kind::Double,
                crate::base::Kind::Float => Kind::Float,
            };
            return Ok(Some((host.scalar_value()?, kind)));
        }
        return Ok(None);
    }
    if obj.hasattr("__float__")? && !obj.hasattr("__len__")? {
        let name = obj.get_type().name()?.to_string();
        if name.contains("bool") {
            return Ok(Some((Scalar::Bool(obj.is_truthy()?), Kind::Bool)));
        }
        if name.contains("int") && obj.hasattr("__index__")? {
            return Ok(Some((
                Scalar::Int(int64_of(&obj.call_method0("__index__")?)?),
                Kind::Int,
            )));
        }
        let v = obj.call_method0("__float__")?.extract::<f64>()?;
        return Ok(Some((Scalar::Float(v), Kind::Float)));
    }
    Ok(None)
}

/// A NumPy scalar of dtype `name` (its `.item()` is a Python bool, int or float).
fn numpy_scalar(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<(Scalar, Kind)> {
    let item = obj.call_method0("item")?;
    Ok(match dtype_kind(name) {
        Kind::Bool => (Scalar::Bool(item.extract::<bool>()?), Kind::Bool),
        Kind::Int => (Scalar::Int(int64_of(&item)?), Kind::Int),
        kind => (Scalar::Float(item.extract::<f64>()?), kind),
    })
}

fn dtype_kind(name: &str) -> Kind {
    if name.starts_with("bool") {
        Kind::Bool
    } else if name.contains("int") {
        Kind::Int
    } else if name == "float64" {
        Kind::Double
    } else {
        Kind::Float
    }
}

/// Walks nested sequences, collecting values in row-major order and checking raggedness.
/// PyTorch's limit on the number of dimensions (also stops self-containing lists).
const MAX_DIMS: usize = 64;

fn walk(
    obj: &Bound<'_, PyAny>,
    depth: usize,
    shape: &mut Vec<usize>,
    out: &mut Vec<Scalar>,
    kind: &mut Kind,
    numpy_bool: &mut Option<String>,
) -> PyResult<()> {
    if depth > MAX_DIMS {
        return Err(PyValueError::new_err(format!(
            "too many dimensions '{}'",
            obj.get_type().name()?
        )));
    }
    if let Some((v, k)) = scalar_of(obj)? {
        if depth != shape.len() {
            return Err(PyValueError::new_err(format!(
                "expected sequence of length {} at dim {} (got a scalar)",
                shape[depth], depth
            )));
        }
        // PyTorch reads a NumPy bool in a list as an integer through `__index__`, which it
        // lacks: remembered for the error an integer result then raises.
        if k == Kind::Bool && numpy_bool.is_none() && !obj.is_instance_of::<PyBool>() {
            let ty = obj.get_type();
            if ty.module()? == "numpy" {
                *numpy_bool = Some(format!("numpy.{}", ty.name()?));
            }
        }
        out.push(v);
        *kind = (*kind).max(k);
        return Ok(());
    }
    if obj.is_instance_of::<pyo3::types::PyString>() || obj.is_instance_of::<pyo3::types::PyBytes>()
    {
        if depth > 0 && out.is_empty() {
            return Err(PyValueError::new_err(format!(
                "too many dimensions '{}'",
                obj.get_type().name()?
            )));
        }
        return Err(PyTypeError::new_err(format!(
            "new(): invalid data type '{}'",
            obj.get_type().name()?
        )));
    }
    if let Ok(t) = obj.cast::<PyTensor>() {
        // A tensor inside a list: take its values.
        let t = t.get().var.tensor();
        let list = tensor_to_nested(obj.py(), &t)?;
        return walk(&list, depth, shape, out, kind, numpy_bool);
    }
    if let Ok(arr) = obj.cast::<PyUntypedArray>() {
        // An array inside a list: its elements (NumPy scalars, which keep their dtype).
        if arr.ndim() > 0 {
            if depth == 1 && out.is_empty() {
                let warnings = obj.py().import("warnings")?;
                warnings.call_method1(
                    "warn",
                    (
                        "Creating a tensor from a list of numpy.ndarrays is extremely slow. \
                         Please consider converting the list to a single numpy.ndarray with \
                         numpy.array() before converting to a tensor.",
                        obj.py().get_type::<pyo3::exceptions::PyUserWarning>(),
                    ),
                )?;
            }
            let items = PyList::new(obj.py(), obj.try_iter()?.collect::<PyResult<Vec<_>>>()?)?;
            return walk(items.as_any(), depth, shape, out, kind, numpy_bool);
        }
    }
    let Ok(seq) = obj.cast::<PySequence>() else {
        return Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
            "Could not infer dtype of {}",
            obj.get_type().name()?
        )));
    };
    let len = seq.len()?;
    if depth == shape.len() {
        if !out.is_empty() {
            return Err(PyValueError::new_err(format!(
                "expected a scalar at dim {} (got a sequence of length {})",
                depth, len
            )));
        }
        shape.push(len);
    } else if shape[depth] != len {
        return Err(PyValueError::new_err(format!(
            "expected sequence of length {} at dim {} (got {})",
            shape[depth], depth, len
        )));
    }
    for i in 0..len {
        walk(&seq.get_item(i)?, depth + 1, shape, out, kind, numpy_bool)?;
    }
    Ok(())
}

/// `rustgrad.tensor(data)`: scalars, nested sequences, NumPy arrays, tensors.
pub fn tensor_from_data(data: &Bound<'_, PyAny>, dtype: Option<DType>) -> PyResult<Tensor> {
    // A copy of a tensor (or an array's copy) in `dtype`.
    let copy = |t: Tensor, clone: bool| -> PyResult<Tensor> {
        let work = Work::default().tensor(&t);
        Ok(gil::run(data.py(), work, || {
            let t = if clone { t.clone_data()? } else { t };
            match dtype {
                Some(d) => t.cast(d),
                None => Ok(t),
            }
        })?)
    };
    if let Ok(t) = data.cast::<PyTensor>() {
        return copy(t.get().var.tensor(), true);
    }
    if let Ok(arr) = data.cast::<PyUntypedArray>() {
        return copy(from_numpy(arr)?, false);
    }
    // NumPy scalars (np.float64(2.5)) keep their dtype, as arrays do.
    let np = data.py().import("numpy")?;
    if data.is_instance(&np.getattr("generic")?)? {
        let arr = np.call_method1("asarray", (data,))?;
        return tensor_from_data(&arr, dtype);
    }
    // Another library's tensor (PyTorch's, say): its NumPy form, detached first as
    // `torch.tensor(t)` copies a tensor that requires grad.
    let is_data = data.is_instance_of::<PyList>() || data.is_instance_of::<PyTuple>();
    if !is_data && data.hasattr("__array__")? {
        let host = if data.hasattr("detach")? && data.hasattr("cpu")? {
            data.call_method0("detach")?.call_method0("cpu")?
        } else {
            data.clone()
        };
        let arr = np.call_method1("asarray", (host,))?;
        return tensor_from_data(&arr, dtype);
    }
    let mut shape = Vec::new();
    let mut values = Vec::new();
    let mut kind = Kind::Bool;
    let mut numpy_bool = None;
    walk(data, 0, &mut shape, &mut values, &mut kind, &mut numpy_bool)?;
    if values.is_empty() {
        kind = Kind::Float;
    }
    let inferred = match kind {
        Kind::Bool => DType::Bool,
        Kind::Int => DType::I64,
        Kind::Float => crate::base::dtype::default_float(),
        Kind::Double => DType::F64,
    };
    let dtype = dtype.unwrap_or(inferred);
    let wide_int = kind == Kind::Int && values.iter().any(|v| v.is_float());
    if wide_int && !(dtype.is_float() || dtype == DType::Bool) {
        return Err(PyValueError::new_err("Overflow when unpacking long long"));
    }
    if let Some(name) = numpy_bool.filter(|_| dtype != DType::Bool && !dtype.is_float()) {
        return Err(PyTypeError::new_err(format!(
            "'{name}' object cannot be interpreted as an integer"
        )));
    }
    Ok(Tensor::from_scalars(&values, &shape, dtype)?)
}

/// The array as a plain `ndarray` over the same memory. A subclass may override `flags`,
/// `strides`, `shape`, `view`, `astype`, `__array__`, ... at Python level and lie about its
/// layout; `numpy.asarray` of an ndarray subclass builds a base-class view in C
/// (`PyArray_View`, no Python-level method of the object is called), and everything read
/// afterwards (`shape()`, `strides()`, the data pointer, `flags`) comes from that view's C
/// struct or from base-class methods.
fn plain_array<'py>(arr: &Bound<'py, PyUntypedArray>) -> PyResult<Bound<'py, PyUntypedArray>> {
    let py = arr.py();
    let ndarray = <PyUntypedArray as pyo3::PyTypeInfo>::type_object(py);
    if arr.get_type().is(&ndarray) {
        return Ok(arr.clone());
    }
    let plain = py.import("numpy")?.call_method1("asarray", (arr,))?;
    if !plain.get_type().is(&ndarray) {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "expected a numpy.ndarray (could not read this ndarray subclass as one)",
        ));
    }
    Ok(plain.cast_into::<PyUntypedArray>()?)
}

/// Copies a NumPy array (any strides) into a tensor, keeping its dtype where we have it.
pub fn from_numpy(arr: &Bound<'_, PyUntypedArray>) -> PyResult<Tensor> {
    let arr = &plain_array(arr)?;
    // Read from the array's C-level descriptor.
    if arr.dtype().is_native_byteorder() == Some(false) {
        return Err(PyValueError::new_err(
            "given numpy array has byte order different from the native byte order. \
             Conversion between byte orders is currently not supported.",
        ));
    }
    crate::base::buffer::check_host_alloc(DType::F64, arr.len())?;
    let name = arr.dtype().to_string();
    let shape = arr.shape().to_vec();
    macro_rules! copy {
        ($t:ty) => {{
            let a = arr.cast::<PyArrayDyn<$t>>()?.readonly();
            let v: Vec<$t> = a.as_array().iter().copied().collect();
            v
        }};
    }
    let buffer = match name.as_str() {
        "float32" => Buffer::F32(copy!(f32)),
        "float64" => Buffer::F64(copy!(f64)),
        "int64" => Buffer::I64(copy!(i64)),
        // Read as bytes: NumPy bools may hold values other than 0 and 1.
        "bool" => {
            let bytes = arr.call_method1("view", ("uint8",))?;
            let a = bytes.cast::<PyArrayDyn<u8>>()?.readonly();
            Buffer::Bool(a.as_array().iter().map(|&b| Bool8::new(b != 0)).collect())
        }
        "int32" => Buffer::I32(copy!(i32)),
        "int16" => Buffer::I16(copy!(i16)),
        "int8" => Buffer::I8(copy!(i8)),
        "uint8" => Buffer::U8(copy!(u8)),
        "float16" => Buffer::F16(copy!(half::f16)),
        "uint16" => Buffer::I64(copy!(u16).into_iter().map(i64::from).collect()),
        "uint32" => Buffer::I64(copy!(u32).into_iter().map(i64::from).collect()),
        // (no uint64 dtype here: int64 holds the values below 2**63)
        "uint64" => Buffer::I64(
            copy!(u64)
                .into_iter()
                .map(|v| {
                    i64::try_from(v).map_err(|_| {
                        pyo3::exceptions::PyRuntimeError::new_err(
                            "value cannot be converted to type int64 without overflow",
                        )
                    })
                })
                .collect::<PyResult<_>>()?,
        ),
        _ if matches!(arr.dtype().kind(), b'c') => {
            return Err(pyo3::exceptions::PyNotImplementedError::new_err(format!(
                "rustgrad: complex dtypes are not implemented (numpy.{name} array)"
            )));
        }
        _ if !matches!(arr.dtype().kind(), b'f' | b'i' | b'u' | b'b') => {
            return Err(PyTypeError::new_err(format!(
                "can't convert np.ndarray of type numpy.{}. The only supported types are: \
                 float64, float32, float16, complex64, complex128, int64, int32, int16, int8, \
                 uint64, uint32, uint16, uint8, and bool.",
                arr.dtype().typeobj().name()?
            )));
        }
        _ => {
            // Anything else (float128, ...) goes through float64.
            let as64 = arr.call_method1("astype", ("float64",))?;
            let a = as64.cast::<PyArrayDyn<f64>>()?.readonly();
            let v: Vec<f32> = a.as_array().iter().map(|&x| x as f32).collect();
            Buffer::F32(v)
        }
    };
    Ok(Tensor::from_buffer(buffer, &shape))
}

/// A tensor sharing the memory of a NumPy array (`rustgrad.from_numpy`), when its layout
/// and dtype allow; otherwise a copy.
pub fn share_numpy(arr: &Bound<'_, PyUntypedArray>) -> PyResult<Tensor> {
    let arr = &plain_array(arr)?;
    // (checked first, as PyTorch: also for the dtypes copied below)
    if arr.strides().iter().any(|&s| s < 0) {
        return Err(PyValueError::new_err(
            "At least one stride in the given numpy array is negative, and tensors with \
             negative strides are not currently supported. (You can probably work around this \
             by making a copy of your array  with array.copy().) ",
        ));
    }
    let dtype = match arr.dtype().to_string().as_str() {
        "float32" => DType::F32,
        "float64" => DType::F64,
        "int64" => DType::I64,
        "int32" => DType::I32,
        "int16" => DType::I16,
        "int8" => DType::I8,
        "uint8" => DType::U8,
        "float16" => DType::F16,
        // Shared as bytes: any byte is a valid `Bool8` (nonzero reads as true).
        "bool" => DType::Bool,
        _ => return from_numpy(arr),
    };
    let item = dtype.size_of() as isize;
    if arr.strides().iter().any(|&s| s % item != 0) {
        return Err(PyValueError::new_err(
            "given numpy array strides not a multiple of the element byte size. Copy the numpy \
             array to reallocate the memory.",
        ));
    }
    // The flags from the array's C struct, never its Python-level `flags`.
    use numpy::npyffi::flags::{NPY_ARRAY_ALIGNED, NPY_ARRAY_WRITEABLE};
    // SAFETY: `arr` is a live ndarray; reading its flags field.
    let flags = unsafe { (*arr.as_array_ptr()).flags };
    let need = NPY_ARRAY_ALIGNED | NPY_ARRAY_WRITEABLE;
    if flags & need != need {
        return from_numpy(arr);
    }
    let shape = arr.shape().to_vec();
    // Any layout NumPy has is shared as PyTorch shares it: the strides, in elements, over the
    // span of memory they reach.
    let layout = Layout {
        shape: shape.iter().copied().collect(),
        strides: arr.strides().iter().map(|&s| s / item).collect(),
        offset: 0,
    };
    let len = layout
        .extent()
        .ok_or_else(|| PyValueError::new_err("numpy array strides overflow"))?;
    // SAFETY: an aligned array whose elements (of `dtype`) all lie in the `len` elements from
    // its data pointer (the strides are nonnegative, so `extent` is that reach); the array
    // object (owner) keeps the memory alive and NumPy never moves an array's data.
    let ptr = unsafe { (*arr.as_array_ptr()).data as *mut u8 };
    let owner: Py<PyAny> = arr.clone().into_any().unbind();
    let foreign = unsafe { crate::tensor::storage::Foreign::new(dtype, ptr, len, Box::new(owner)) };
    crate::compile::note_break(
        "a tensor shares memory with a NumPy array made inside the function",
    );
    Ok(Tensor::from_buffer(Buffer::Foreign(foreign), &[len]).with_layout(layout))
}

/// Keeps a tensor's storage alive for NumPy arrays that view it (the ``.base`` of
/// ``t.numpy()``). Internal; not constructible.
#[pyclass(frozen)]
pub struct StorageOwner {
    _tensor: Tensor,
}

/// A NumPy array sharing the tensor's memory (as `Tensor.numpy()` does).
pub fn to_numpy<'py>(py: Python<'py>, t: &Tensor) -> PyResult<Bound<'py, PyAny>> {
    crate::compile::note_break("`.numpy()` shares a tensor's memory with NumPy");
    let owner = Bound::new(py, StorageOwner { _tensor: t.clone() })?.into_any();
    let l = t.layout();
    let shape = IxDyn(&l.shape);
    if l.strides.iter().any(|&s| s < 0) {
        return Err(PyValueError::new_err("negative strides are not supported"));
    }
    let strides = IxDyn(&l.strides.iter().map(|&s| s as usize).collect::<Vec<_>>());
    macro_rules! view {
        ($t:ty) => {
            view!($t as $t)
        };
        // Storage elements of `$s` shown to NumPy as `$t` (of the same size).
        ($s:ty as $t:ty) => {{
            let buf = t.storage().read();
            let base = <$s as crate::backend::Element>::slice(buf.host()?).as_ptr() as *const $t;
            // SAFETY: the buffer is never reallocated after creation (writes go element by
            // element), `owner` keeps the storage alive for as long as the array exists, and
            // the layout addresses only elements inside the buffer.
            unsafe {
                let ptr = base.add(l.offset);
                let view = ArrayViewD::from_shape_ptr(shape.strides(strides), ptr);
                PyArrayDyn::<$t>::borrow_from_array(&view, owner).into_any()
            }
        }};
    }
    Ok(match t.dtype() {
        DType::F32 => view!(f32),
        DType::F64 => view!(f64),
        DType::I64 => view!(i64),
        DType::I32 => view!(i32),
        DType::I16 => view!(i16),
        DType::I8 => view!(i8),
        DType::U8 => view!(u8),
        // NumPy's float16 is IEEE half, the same bits as `half::f16`.
        DType::F16 => view!(half::f16),
        // NumPy has no bfloat16: PyTorch's error.
        DType::BF16 => return Err(PyTypeError::new_err("Got unsupported ScalarType BFloat16")),
        // NumPy's bool is a byte too; the pointer is handed over, never read here as `bool`.
        DType::Bool => view!(Bool8 as bool),
    })
}

/// Nested lists (or a Python scalar for 0-d), as `Tensor.tolist()`.
pub fn tensor_to_nested<'py>(py: Python<'py>, t: &Tensor) -> PyResult<Bound<'py, PyAny>> {
    // One copy from a device (each read below would otherwise wait for it again); the
    // device finishing its queue counts as large work in `gil::run`.
    let (host, values) = gil::run(py, Work::default().tensor(t), || -> crate::Result<_> {
        let host = if t.is_cuda() {
            t.to_device(crate::tensor::Device::Cpu)?
        } else {
            t.clone()
        };
        let values = host.to_f64_vec()?;
        Ok((host, values))
    })?;
    let t = &host;
    let dtype = t.dtype();
    let to_py = |v: f64| -> PyResult<Bound<'py, PyAny>> {
        Ok(match dtype {
            DType::Bool => PyBool::new(py, v != 0.0).to_owned().into_any(),
            d if d.is_float() => PyFloat::new(py, v).into_any(),
            _ => (v as i64).into_pyobject(py)?.into_any(),
        })
    };
    if t.ndim() == 0 {
        if dtype == DType::I64 {
            // Exact (f64 loses precision past 2^53).
            return Ok(t.to_vec::<i64>()?[0].into_pyobject(py)?.into_any());
        }
        return to_py(values[0]);
    }
    // An empty tensor with huge outer dims would still need that many Python lists.
    let lists = t.shape()[..t.ndim() - 1]
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d));
    if lists.is_none_or(|n| n > 1 << 32) {
        return Err(pyo3::exceptions::PyMemoryError::new_err(
            "tolist(): the result would need too many Python lists",
        ));
    }
    // Exact int64 values (f64 loses precision past 2^53).
    let ints: Option<Vec<i64>> = (dtype == DType::I64)
        .then(|| t.to_vec::<i64>())
        .transpose()?;
    fn build<'py>(
        py: Python<'py>,
        shape: &[usize],
        at: &mut usize,
        values: &[f64],
        ints: &Option<Vec<i64>>,
        to_py: &dyn Fn(f64) -> PyResult<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let list = PyList::empty(py);
        for _ in 0..shape[0] {
            if shape.len() == 1 {
                let item = match ints {
                    Some(iv) => iv[*at].into_pyobject(py)?.into_any(),
                    None => to_py(values[*at])?,
                };
                list.append(item)?;
                *at += 1;
            } else {
                list.append(build(py, &shape[1..], at, values, ints, to_py)?)?;
            }
        }
        Ok(list.into_any())
    }
    let mut at = 0;
    build(py, t.shape(), &mut at, &values, &ints, &to_py)
}

/// Sizes given as `f(2, 3)`, `f((2, 3))`, `f([2, 3])` or `f(Size)`.
pub fn parse_size(args: &Bound<'_, PyTuple>) -> PyResult<Vec<i64>> {
    if args.len() == 1 {
        let first = args.get_item(0)?;
        if !first.is_instance_of::<PyInt>() {
            if let Ok(seq) = first.cast::<PySequence>() {
                return (0..seq.len()?)
                    .map(|i| int_arg(&seq.get_item(i)?))
                    .collect();
            }
        }
    }
    args.iter().map(|a| int_arg(&a)).collect()
}

/// An int argument `name` (at `position`) of `function`, refusing bools and floats with
/// PyTorch's words.
pub fn strict_int(
    obj: &Bound<'_, PyAny>,
    function: &str,
    name: &str,
    position: usize,
) -> PyResult<i64> {
    let refused = || {
        let type_name = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default();
        PyTypeError::new_err(format!(
            "{function}(): argument '{name}' (position {position}) must be int, not {type_name}"
        ))
    };
    if obj.is_instance_of::<pyo3::types::PyBool>() || obj.is_instance_of::<PyFloat>() {
        return Err(refused());
    }
    obj.extract::<i64>().map_err(|_| refused())
}

fn int_arg(obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    if obj.is_instance_of::<PyFloat>() {
        return Err(PyTypeError::new_err(format!(
            "'float' object cannot be interpreted as an integer (got {})",
            obj.repr()?
        )));
    }
    obj.extract::<i64>().map_err(|_| {
        PyTypeError::new_err(format!(
            "expected a sequence of integers or a single integer, got '{}'",
            obj.repr().map(|r| r.to_string()).unwrap_or_default()
        ))
    })
}

/// Non-negative sizes for creation functions.
pub fn sizes(args: &Bound<'_, PyTuple>) -> PyResult<Vec<usize>> {
    let size = parse_size(args)?;
    check_non_negative(&size)?;
    Ok(size.into_iter().map(|d| d as usize).collect())
}

/// PyTorch's RuntimeError for the first negative size of a shape being created.
pub fn check_non_negative(size: &[i64]) -> PyResult<()> {
    match size.iter().find(|&&d| d < 0) {
        Some(d) => Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
            "Trying to create tensor with negative dimension {d}: {size:?}"
        ))),
        None => Ok(()),
    }
}

/// Converts one element of an indexing key.
fn index_item(obj: &Bound<'_, PyAny>) -> PyResult<IndexItem> {
    if obj.is_instance_of::<PyNone>() {
        return Ok(IndexItem::NewAxis);
    }
    if obj.is_instance_of::<PyEllipsis>() {
        return Ok(IndexItem::Ellipsis);
    }
    if obj.is_instance_of::<PyBool>() {
        let b = obj.extract::<bool>()?;
        return Ok(IndexItem::Tensor(Tensor::from_vec(
            vec![Bool8::new(b)],
            &[],
        )));
    }
    if obj.is_instance_of::<PyInt>() {
        return Ok(IndexItem::Int(int64_of(obj)?));
    }
    if obj.is_instance_of::<pyo3::types::PyString>() {
        return Err(PyTypeError::new_err("new(): invalid data type 'str'"));
    }
    if let Ok(s) = obj.cast::<PySlice>() {
        let get = |name: &str| -> PyResult<Option<i64>> {
            let v = s.getattr(name)?;
            if v.is_none() {
                Ok(None)
            } else if let Ok(i) = v.extract::<i64>() {
                Ok(Some(i))
            } else if v.is_instance_of::<PyInt>() {
                // (a bound beyond int64 is clamped to the dim, as Python's and PyTorch's are)
                Ok(Some(if v.gt(0)? { i64::MAX } else { i64::MIN }))
            } else {
                Ok(Some(v.extract::<i64>()?))
            }
        };
        return Ok(IndexItem::Slice(get("start")?, get("stop")?, get("step")?));
    }
    if let Ok(t) = obj.cast::<PyTensor>() {
        let t = t.get().var.tensor();
        if t.dtype() != DType::Bool && t.ndim() == 0 {
            if t.dtype().is_float() {
                return Err(pyo3::exceptions::PyIndexError::new_err(
                    "tensors used as indices must be long, int, byte or bool tensors",
                ));
            }
            let work = Work::default().tensor(&t);
            return Ok(IndexItem::Int(
                gil::run(obj.py(), work, || t.to_vec::<i64>())?[0],
            ));
        }
        return Ok(IndexItem::Tensor(t));
    }
    // A sequence inside the key (a list, a tuple or a range, as PyTorch takes any
    // sequence there) or an array is an index tensor.
    let listed;
    let obj = if obj.is_instance_of::<PyTuple>() || obj.is_instance_of::<PyRange>() {
        listed = PyList::new(obj.py(), obj.try_iter()?.collect::<PyResult<Vec<_>>>()?)?;
        listed.as_any()
    } else {
        obj
    };
    if obj.is_instance_of::<PyList>() || obj.cast::<PyUntypedArray>().is_ok() {
        let t = tensor_from_data(obj, None)?;
        let t = if t.numel() == 0 {
            t.cast(DType::I64)?
        } else {
            t
        };
        if t.dtype().is_float() {
            return Err(pyo3::exceptions::PyIndexError::new_err(
                "tensors used as indices must be long, int, byte or bool tensors",
            ));
        }
        return Ok(IndexItem::Tensor(t));
    }
    if let Ok(i) = obj.call_method0("__index__") {
        return Ok(IndexItem::Int(i.extract()?));
    }
    Err(pyo3::exceptions::PyIndexError::new_err(format!(
        "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid \
         indices (got {})",
        obj.get_type().name()?
    )))
}

/// Converts an indexing key (`x[key]`) into items.
pub fn index_key(key: &Bound<'_, PyAny>) -> PyResult<Vec<IndexItem>> {
    if let Ok(tuple) = key.cast::<PyTuple>() {
        return tuple.iter().map(|k| index_item(&k)).collect();
    }
    if let Ok(list) = key.cast::<PyList>() {
        if list_as_tuple(list) {
            PyErr::warn(
                key.py(),
                &key.py().get_type::<pyo3::exceptions::PyUserWarning>(),
                c"Using a non-tuple sequence for multidimensional indexing is deprecated and \
                  will be changed in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In \
                  pytorch 2.9 this will be interpreted as tensor index, x[torch.tensor(seq)], \
                  which will result either in an error or a different result",
                1,
            )?;
            return list.iter().map(|k| index_item(&k)).collect();
        }
    }
    Ok(vec![index_item(key)?])
}

/// NumPy's old rule, which PyTorch keeps (with a warning): a list key of fewer than 32 items
/// holding a tensor, a sequence, a slice, `...` or `None` means the tuple of its items.
fn list_as_tuple(list: &Bound<'_, PyList>) -> bool {
    list.len() < 32
        && list.iter().any(|item| {
            item.is_instance_of::<PyTensor>()
                || item.is_instance_of::<PySlice>()
                || item.is_instance_of::<PyEllipsis>()
                || item.is_none()
                // (C's sequence check, which NumPy arrays pass)
                || unsafe { pyo3::ffi::PySequence_Check(item.as_ptr()) } == 1
        })
}
