//! The `Tensor` class (also `rustgrad.autograd.Variable`): argument handling around the
//! ops in `crate::ops`. Large kernels run with the GIL released.

use pyo3::exceptions::{PyIndexError, PyRuntimeError, PyTypeError, PyUserWarning};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyDict, PyFloat, PyInt, PyList, PySequence, PyTuple, PyWeakrefReference,
};

use super::convert::{self, parse_size};
use super::node::PyNode;
use super::types::{self, PyDType, PyDevice};
use crate::autograd::{self, Var};
use crate::error::Result;
use crate::ops::{self, scalar_like};
use crate::tensor::layout::wrap_dim;
use crate::tensor::{BinaryOp, CompareOp, DType, Device, Tensor};

/// Work on at least this many elements releases the GIL while it runs.
const DETACH_NUMEL: usize = 1 << 16;

#[pyclass(name = "Tensor", module = "rustgrad", frozen, weakref)]
pub struct PyTensor {
    pub var: Var,
}

impl PyTensor {
    pub fn wrap(var: Var) -> PyTensor {
        PyTensor { var }
    }

    /// The Python object wrapping `var`: the registered one while it lives (so that
    /// `x.grad is x.grad` and `acc.variable is x` hold), else a new registered one.
    pub fn object(py: Python<'_>, var: Var) -> PyResult<Bound<'_, PyTensor>> {
        let known = var.with_handle(|h| {
            h.as_ref()
                .and_then(|b| b.downcast_ref::<Py<PyWeakrefReference>>())
                .map(|w| w.clone_ref(py))
        });
        if let Some(w) = known {
            if let Some(obj) = w.bind(py).upgrade() {
                if let Ok(t) = obj.cast_into::<PyTensor>() {
                    return Ok(t);
                }
            }
        }
        let obj = Bound::new(py, PyTensor { var })?;
        Self::register(&obj)?;
        Ok(obj)
    }

    /// Remembers `obj` as the Python object of its variable (a weak reference).
    pub fn register(obj: &Bound<'_, PyTensor>) -> PyResult<()> {
        let weak = PyWeakrefReference::new(obj)?.unbind();
        obj.get().var.with_handle(|h| *h = Some(Box::new(weak)));
        Ok(())
    }

    /// `slf` itself when an op handed back the same variable, else a new object.
    fn same_or_new<'py>(slf: &Bound<'py, Self>, r: Var) -> PyResult<Bound<'py, PyAny>> {
        if r.ptr_eq(&slf.get().var) {
            return Ok(slf.clone().into_any());
        }
        Ok(Bound::new(slf.py(), PyTensor::wrap(r))?.into_any())
    }
}

fn wrap(r: Result<Var>) -> PyResult<PyTensor> {
    Ok(PyTensor::wrap(r?))
}

/// Runs `f`, releasing the GIL when the work is large.
fn run<T: Send>(py: Python<'_>, heavy: bool, f: impl FnOnce() -> T + Send) -> T {
    if heavy {
        py.detach(f)
    } else {
        f()
    }
}

fn cached<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyAny>>,
    module: &str,
    name: &str,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(cell.import(py, module, name)?.clone())
}

static TENSOR_STR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static SIZE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static MAX_TYPE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static MIN_TYPE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

pub fn size_object<'py>(py: Python<'py>, shape: &[usize]) -> PyResult<Bound<'py, PyAny>> {
    let size = cached(py, &SIZE, "rustgrad._size", "Size")?;
    size.call1((PyTuple::new(py, shape)?,))
}

/// A Python scalar as (value, is_float), or `None` for anything else.
fn py_scalar(obj: &Bound<'_, PyAny>) -> Option<(f64, bool)> {
    if obj.is_instance_of::<PyBool>() || obj.is_instance_of::<PyInt>() {
        return obj.extract::<f64>().ok().map(|v| (v, false));
    }
    if obj.is_instance_of::<PyFloat>() {
        return obj.extract::<f64>().ok().map(|v| (v, true));
    }
    None
}

/// Reads a dim argument that may be an int, a sequence of ints, or None.
fn dims_arg(dim: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<i64>>> {
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

impl PyTensor {
    fn tensor(&self) -> Tensor {
        self.var.tensor()
    }

    fn heavy(&self) -> bool {
        self.var.numel() >= DETACH_NUMEL
    }

    /// The other operand of a binary op: a tensor, or a Python scalar wrapped like PyTorch
    /// wraps numbers. `None` for anything else (so Python can try the reflected method).
    fn operand(&self, other: &Bound<'_, PyAny>) -> PyResult<Option<Var>> {
        if let Ok(t) = other.cast::<PyTensor>() {
            return Ok(Some(t.get().var.clone()));
        }
        if let Some((v, is_float)) = py_scalar(other) {
            return Ok(Some(scalar_like(v, is_float, self.var.dtype())));
        }
        if other.cast::<numpy::PyUntypedArray>().is_ok() {
            return Ok(Some(Var::new(
                convert::tensor_from_data(other, None)?,
                false,
            )));
        }
        Ok(None)
    }

    fn need_operand(&self, other: &Bound<'_, PyAny>) -> PyResult<Var> {
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

    /// `self op other` (or `other op self` when `reflected`), `NotImplemented` for
    /// operands we do not know.
    fn binary(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        reflected: bool,
        f: fn(&Var, &Var) -> Result<Var>,
    ) -> PyResult<Py<PyAny>> {
        let Some(o) = self.operand(other)? else {
            return Ok(py.NotImplemented());
        };
        let heavy = self.heavy();
        let a = self.var.clone();
        let r = run(
            py,
            heavy,
            move || if reflected { f(&o, &a) } else { f(&a, &o) },
        )?;
        Ok(Bound::new(py, PyTensor::wrap(r))?.into_any().unbind())
    }

    fn compare_op(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        let Some(o) = self.operand(other)? else {
            return Ok(py.NotImplemented());
        };
        Ok(
            Bound::new(py, PyTensor::wrap(ops::compare(&self.var, &o, op)?))?
                .into_any()
                .unbind(),
        )
    }

    fn inplace(
        slf: &Bound<'_, Self>,
        other: &Bound<'_, PyAny>,
        f: fn(&Var, &Var) -> Result<()>,
    ) -> PyResult<()> {
        let me = slf.get();
        let o = me.need_operand(other)?;
        let heavy = me.heavy();
        let v = me.var.clone();
        run(slf.py(), heavy, move || f(&v, &o))?;
        Ok(())
    }

    /// `float(t)` / `int(t)`: PyTorch raises ValueError for more than one element.
    fn python_scalar(&self) -> PyResult<f64> {
        if self.tensor().numel() != 1 {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "only one element tensors can be converted to Python scalars",
            ));
        }
        self.scalar_value()
    }

    fn scalar_value(&self) -> PyResult<f64> {
        let t = self.tensor();
        if t.numel() != 1 {
            return Err(PyRuntimeError::new_err(format!(
                "a Tensor with {} elements cannot be converted to Scalar",
                t.numel()
            )));
        }
        Ok(t.to_f64_vec()?[0])
    }

    fn extreme(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        max: bool,
    ) -> PyResult<Py<PyAny>> {
        match dim {
            None => Ok(
                Bound::new(py, PyTensor::wrap(ops::extreme(&self.var, max)?))?
                    .into_any()
                    .unbind(),
            ),
            Some(d) if d.cast::<PyTensor>().is_ok() => {
                let o = d.cast::<PyTensor>()?.get().var.clone();
                let r = if max {
                    ops::maximum(&self.var, &o)
                } else {
                    ops::minimum(&self.var, &o)
                }?;
                Ok(Bound::new(py, PyTensor::wrap(r))?.into_any().unbind())
            }
            Some(d) => {
                let d: i64 = d.extract()?;
                let (v, i) = ops::extreme_dim(&self.var, d, keepdim, max)?;
                let ty = if max {
                    cached(py, &MAX_TYPE, "rustgrad.return_types", "max")?
                } else {
                    cached(py, &MIN_TYPE, "rustgrad.return_types", "min")?
                };
                Ok(ty.call1((PyTensor::wrap(v), PyTensor::wrap(i)))?.unbind())
            }
        }
    }

    fn reduce(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        mean: bool,
    ) -> PyResult<PyTensor> {
        let dims = dims_arg(dim)?;
        let heavy = self.heavy();
        let v = self.var.clone();
        let r = run(py, heavy, move || -> Result<Var> {
            match dims {
                None => {
                    if mean {
                        ops::mean(&v)
                    } else {
                        ops::sum(&v)
                    }
                }
                Some(ds) => {
                    let wrapped = ops::reduction_dims(Some(&ds), v.shape().len())?;
                    if mean {
                        ops::mean_dims(&v, &wrapped, keepdim)
                    } else {
                        ops::sum_dims(&v, &wrapped, keepdim)
                    }
                }
            }
        })?;
        Ok(PyTensor::wrap(r))
    }
}

/// `t` on `device`: this very object when it is already there (as in PyTorch).
fn moved<'py>(slf: &Bound<'py, PyTensor>, device: Device) -> PyResult<Bound<'py, PyAny>> {
    let me = &slf.get().var;
    if me.tensor().device() == device {
        return Ok(slf.clone().into_any());
    }
    Ok(Bound::new(slf.py(), wrap(ops::to_device(me, device))?)?.into_any())
}

#[pymethods]
impl PyTensor {
    /// `Tensor(list)`, `Tensor(ndarray)` or `Tensor(*sizes)`: float32, like `torch.Tensor`.
    #[new]
    #[pyo3(signature = (*args))]
    fn py_new(args: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        if args.is_empty() {
            return Ok(PyTensor::wrap(Var::new(
                Tensor::zeros(&[0], DType::F32)?,
                false,
            )));
        }
        let first = args.get_item(0)?;
        if args.len() == 1 && !first.is_instance_of::<PyInt>() {
            let t = convert::tensor_from_data(&first, Some(DType::F32))?;
            return Ok(PyTensor::wrap(Var::new(t, false)));
        }
        let shape = convert::sizes(args)?;
        Ok(PyTensor::wrap(Var::new(
            Tensor::zeros(&shape, DType::F32)?,
            false,
        )))
    }

    // ----- printing -----------------------------------------------------------------------

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let f = cached(slf.py(), &TENSOR_STR, "rustgrad._tensor_str", "_str")?;
        f.call1((slf,))?.extract()
    }

    fn __str__(slf: &Bound<'_, Self>) -> PyResult<String> {
        Self::__repr__(slf)
    }

    fn __hash__(slf: &Bound<'_, Self>) -> isize {
        slf.as_ptr() as isize
    }

    // ----- autograd attributes ------------------------------------------------------------

    /// The same data without history (shares storage); assigning replaces the data.
    #[getter]
    fn get_data(&self) -> PyTensor {
        PyTensor::wrap(self.var.detach())
    }

    #[setter]
    fn set_data(&self, value: &Bound<'_, PyTensor>) {
        self.var.set_tensor(value.get().var.tensor());
    }

    #[getter]
    fn get_grad<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTensor>>> {
        if !self.var.is_leaf() && !self.var.retains_grad() {
            PyErr::warn(
                py,
                &py.get_type::<PyUserWarning>(),
                c"The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its \
                  .grad attribute won't be populated during autograd.backward(). If you indeed \
                  want the .grad field to be populated for a non-leaf Tensor, use .retain_grad() \
                  on the non-leaf Tensor.",
                1,
            )?;
        }
        self.var.grad().map(|g| PyTensor::object(py, g)).transpose()
    }

    #[setter]
    fn set_grad(&self, value: Option<&Bound<'_, PyTensor>>) -> PyResult<()> {
        match value {
            None => self.var.set_grad(None),
            Some(g) => {
                let g = g.get().var.clone();
                if g.ptr_eq(&self.var) {
                    return Err(PyRuntimeError::new_err(
                        "can't assign Variable as its own grad",
                    ));
                }
                if g.dtype() != self.var.dtype() {
                    return Err(PyRuntimeError::new_err(
                        "assigned grad has data of a different type",
                    ));
                }
                if g.shape() != self.var.shape() {
                    return Err(PyRuntimeError::new_err(
                        "assigned grad has data of a different size",
                    ));
                }
                if g.tensor().device() != self.var.tensor().device() {
                    return Err(PyRuntimeError::new_err(
                        "assigned grad has data located on a different device",
                    ));
                }
                self.var.set_grad(Some(g));
            }
        }
        Ok(())
    }

    #[getter]
    fn grad_fn(&self) -> Option<PyNode> {
        self.var.grad_fn().map(|node| PyNode { node })
    }

    #[getter]
    fn get_requires_grad(&self) -> bool {
        self.var.requires_grad()
    }

    #[setter]
    fn set_requires_grad(slf: &Bound<'_, Self>, value: bool) -> PyResult<()> {
        slf.get().var.set_requires_grad(value)?;
        if value {
            Self::register(slf)?;
        }
        Ok(())
    }

    #[pyo3(signature = (requires_grad=true))]
    fn requires_grad_<'py>(
        slf: &Bound<'py, Self>,
        requires_grad: bool,
    ) -> PyResult<Bound<'py, Self>> {
        Self::set_requires_grad(slf, requires_grad)?;
        Ok(slf.clone())
    }

    #[getter]
    fn is_leaf(&self) -> bool {
        self.var.is_leaf()
    }

    #[getter]
    fn retains_grad(&self) -> bool {
        self.var.retains_grad()
    }

    fn retain_grad(&self) -> PyResult<()> {
        Ok(self.var.retain_grad()?)
    }

    /// Registers `hook(grad) -> Tensor | None` on this tensor's gradient.
    fn register_hook(&self, hook: Py<PyAny>) -> PyResult<super::function::PyRemovableHandle> {
        super::function::register_hook(&self.var, hook)
    }

    fn detach(&self) -> PyTensor {
        PyTensor::wrap(self.var.detach())
    }

    fn detach_<'py>(slf: &Bound<'py, Self>) -> Bound<'py, Self> {
        let v = &slf.get().var;
        v.set_grad_fn(None);
        let _ = v.set_requires_grad(false);
        slf.clone()
    }

    #[getter]
    fn _version(&self) -> u64 {
        self.var.tensor().version()
    }

    #[pyo3(signature = (gradient=None, retain_graph=None, create_graph=false, inputs=None))]
    fn backward(
        &self,
        py: Python<'_>,
        gradient: Option<&Bound<'_, PyTensor>>,
        retain_graph: Option<bool>,
        create_graph: bool,
        inputs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let grad = gradient.map(|g| g.get().var.clone());
        let inputs = inputs.map(tensor_list).transpose()?;
        let root = self.var.clone();
        let retain = retain_graph.unwrap_or(create_graph);
        py.detach(move || {
            autograd::backward(&[root], &[grad], retain, create_graph, inputs.as_deref())
        })?;
        Ok(())
    }

    // ----- metadata -----------------------------------------------------------------------

    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        size_object(py, &self.var.shape())
    }

    #[pyo3(signature = (dim=None))]
    fn size<'py>(&self, py: Python<'py>, dim: Option<i64>) -> PyResult<Bound<'py, PyAny>> {
        let shape = self.var.shape();
        match dim {
            None => size_object(py, &shape),
            Some(d) => {
                if shape.is_empty() {
                    wrap_dim(d, 0)?;
                    return Err(PyIndexError::new_err(
                        "dimension specified as 0 but tensor has no dimensions",
                    ));
                }
                Ok(shape[wrap_dim(d, shape.len())?]
                    .into_pyobject(py)?
                    .into_any())
            }
        }
    }

    fn dim(&self) -> usize {
        self.var.shape().len()
    }

    #[getter]
    fn ndim(&self) -> usize {
        self.var.shape().len()
    }

    fn numel(&self) -> usize {
        self.tensor().numel()
    }

    fn nelement(&self) -> usize {
        self.tensor().numel()
    }

    #[getter]
    fn dtype(&self, py: Python<'_>) -> Py<PyDType> {
        types::dtype_object(py, self.var.dtype())
    }

    #[getter]
    fn device(&self) -> PyDevice {
        PyDevice::from_device(self.tensor().device())
    }

    #[getter]
    fn is_cuda(&self) -> bool {
        self.tensor().is_cuda()
    }

    fn is_floating_point(&self) -> bool {
        self.var.dtype().is_float()
    }

    fn is_contiguous(&self) -> bool {
        self.tensor().is_contiguous()
    }

    fn element_size(&self) -> usize {
        self.var.dtype().size_of()
    }

    fn data_ptr(&self) -> usize {
        let t = self.tensor();
        let base = t.storage().read().as_ptr();
        base + t.layout().offset * t.dtype().size_of()
    }

    fn stride<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.tensor().layout().strides.iter())
    }

    // ----- conversion ---------------------------------------------------------------------

    fn item<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.scalar_value()?;
        let t = self.tensor();
        let one = t.with_layout(crate::tensor::Layout {
            shape: Default::default(),
            strides: Default::default(),
            offset: t.layout().offset,
        });
        convert::tensor_to_nested(py, &one)
    }

    fn tolist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::tensor_to_nested(py, &self.tensor())
    }

    #[pyo3(signature = (force=false))]
    fn numpy<'py>(&self, py: Python<'py>, force: bool) -> PyResult<Bound<'py, PyAny>> {
        if self.var.requires_grad() && !force {
            return Err(PyRuntimeError::new_err(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.",
            ));
        }
        let t = self.tensor();
        if t.is_cuda() {
            if !force {
                return Err(PyTypeError::new_err(format!(
                    "can't convert {} device type tensor to numpy. Use Tensor.cpu() to copy the \
                     tensor to host memory first.",
                    t.device()
                )));
            }
            return convert::to_numpy(py, &t.to_device(crate::tensor::Device::Cpu)?);
        }
        convert::to_numpy(py, &t)
    }

    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<&Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let arr = self.numpy(py, false)?;
        let arr = match dtype {
            Some(d) if !d.is_none() => arr.call_method1("astype", (d,))?,
            _ => arr,
        };
        if copy == Some(true) {
            return arr.call_method0("copy");
        }
        Ok(arr)
    }

    fn __len__(&self) -> PyResult<usize> {
        let shape = self.var.shape();
        if shape.is_empty() {
            return Err(PyTypeError::new_err("len() of a 0-d tensor"));
        }
        Ok(shape[0])
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let shape = self.var.shape();
        if shape.is_empty() {
            return Err(PyTypeError::new_err("iteration over a 0-d tensor"));
        }
        let items = (0..shape[0])
            .map(|i| wrap(ops::select(&self.var, 0, i)))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)?.call_method0("__iter__")
    }

    fn __bool__(&self) -> PyResult<bool> {
        let t = self.tensor();
        if t.numel() != 1 {
            return Err(PyRuntimeError::new_err(format!(
                "Boolean value of Tensor with {} values is ambiguous",
                if t.numel() == 0 {
                    "no"
                } else {
                    "more than one"
                }
            )));
        }
        Ok(t.to_f64_vec()?[0] != 0.0)
    }

    fn __float__(&self) -> PyResult<f64> {
        self.python_scalar()
    }

    fn __int__(&self) -> PyResult<i64> {
        Ok(self.python_scalar()? as i64)
    }

    fn __index__(&self) -> PyResult<i64> {
        if self.var.dtype().is_float() || self.tensor().numel() != 1 {
            return Err(PyTypeError::new_err(
                "only integer tensors of a single element can be converted to an index",
            ));
        }
        Ok(self.scalar_value()? as i64)
    }

    fn float<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Self::same_or_new(slf, ops::to_dtype(&slf.get().var, DType::F32)?)
    }

    fn double<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Self::same_or_new(slf, ops::to_dtype(&slf.get().var, DType::F64)?)
    }

    fn long<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Self::same_or_new(slf, ops::to_dtype(&slf.get().var, DType::I64)?)
    }

    #[pyo3(name = "bool")]
    fn to_bool<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Self::same_or_new(slf, ops::to_dtype(&slf.get().var, DType::Bool)?)
    }

    /// `.to(dtype)`, `.to(device)`, `.to(other)`, `.to(device, dtype)`, keywords too.
    #[pyo3(signature = (*args, **kwargs))]
    fn to<'py>(
        slf: &Bound<'py, Self>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut dtype = None;
        let mut device = None;
        let mut check = |a: &Bound<'py, PyAny>| -> PyResult<()> {
            if let Ok(d) = a.cast::<PyDType>() {
                dtype = Some(d.get().dtype);
            } else if let Ok(t) = a.cast::<PyTensor>() {
                dtype = Some(t.get().var.dtype());
                device = Some(t.get().tensor().device());
            } else if a.is_instance_of::<PyBool>() {
                // `non_blocking` / `copy` given by position: copies are queued either way.
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
        }
        let me = &slf.get().var;
        let mut out = me.clone();
        if let Some(d) = dtype.filter(|&d| d != me.dtype()) {
            out = ops::to_dtype(&out, d)?;
        }
        if let Some(d) = device.filter(|&d| d != me.tensor().device()) {
            out = ops::to_device(&out, d)?;
        }
        if out.ptr_eq(me) {
            return Ok(slf.clone().into_any());
        }
        Ok(Bound::new(slf.py(), wrap(Ok(out))?)?.into_any())
    }

    /// A copy on a CUDA device (`device` 0 unless given); this tensor when already there.
    #[pyo3(signature = (device=None, non_blocking=false))]
    fn cuda<'py>(
        slf: &Bound<'py, Self>,
        device: Option<&Bound<'py, PyAny>>,
        non_blocking: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = non_blocking; // copies are queued on the device's stream either way
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

    fn cpu<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        moved(slf, Device::Cpu)
    }

    // ----- arithmetic ---------------------------------------------------------------------

    fn __add__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, false, ops::add)
    }
    fn __radd__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        // Addition commutes; PyTorch records the tensor as the first input.
        self.binary(py, o, false, ops::add)
    }
    fn __sub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, false, ops::sub)
    }
    fn __rsub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if o.cast::<PyTensor>().is_err() {
            if let Some(s) = self.operand(o)? {
                return Ok(Bound::new(py, wrap(ops::rsub_scalar(&self.var, &s))?)?
                    .into_any()
                    .unbind());
            }
        }
        self.binary(py, o, true, ops::sub)
    }
    fn __mul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, false, ops::mul)
    }
    fn __rmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, false, ops::mul)
    }
    fn __truediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, false, ops::div)
    }
    fn __rtruediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if let Some((v, is_float)) = py_scalar(o) {
            // scalar / x = scalar * (1 / x), as PyTorch records it.
            let r = ops::reciprocal(&self.var)?;
            let s = scalar_like(v, is_float, r.dtype());
            return Ok(Bound::new(py, wrap(ops::mul(&r, &s))?)?.into_any().unbind());
        }
        self.binary(py, o, true, ops::div)
    }
    fn __pow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let _ = modulo;
        if let Some((p, is_float)) = py_scalar(o) {
            if is_float && !self.var.dtype().is_float() {
                // An integer tensor to a float power computes in the default float type.
                let x = ops::to_dtype(&self.var, DType::F32)?;
                return Ok(Bound::new(py, wrap(ops::pow_scalar(&x, p))?)?
                    .into_any()
                    .unbind());
            }
            return Ok(Bound::new(py, wrap(ops::pow_scalar(&self.var, p))?)?
                .into_any()
                .unbind());
        }
        self.binary(py, o, false, ops::pow)
    }
    fn __rpow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let _ = modulo;
        if let Some((b, _)) = py_scalar(o) {
            return Ok(Bound::new(py, wrap(ops::rpow_scalar(b, &self.var))?)?
                .into_any()
                .unbind());
        }
        self.binary(py, o, true, ops::pow)
    }
    fn __matmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let Ok(t) = o.cast::<PyTensor>() else {
            return Ok(py.NotImplemented());
        };
        let (a, b) = (self.var.clone(), t.get().var.clone());
        Ok(
            Bound::new(py, wrap(py.detach(move || ops::matmul(&a, &b)))?)?
                .into_any()
                .unbind(),
        )
    }
    fn __rmatmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let Ok(t) = o.cast::<PyTensor>() else {
            return Ok(py.NotImplemented());
        };
        let (a, b) = (t.get().var.clone(), self.var.clone());
        Ok(
            Bound::new(py, wrap(py.detach(move || ops::matmul(&a, &b)))?)?
                .into_any()
                .unbind(),
        )
    }
    fn __neg__(&self) -> PyResult<PyTensor> {
        wrap(ops::neg(&self.var))
    }
    fn __pos__<'py>(slf: &Bound<'py, Self>) -> Bound<'py, Self> {
        slf.clone()
    }
    fn __abs__(&self) -> PyResult<PyTensor> {
        wrap(ops::abs(&self.var))
    }

    #[pyo3(signature = (other, alpha=None))]
    fn add(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        alpha: Option<f64>,
    ) -> PyResult<PyTensor> {
        let o = self.with_alpha(other, alpha)?;
        wrap(run(py, self.heavy(), || ops::add(&self.var, &o)))
    }
    #[pyo3(signature = (other, alpha=None))]
    fn sub(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        alpha: Option<f64>,
    ) -> PyResult<PyTensor> {
        let o = self.with_alpha(other, alpha)?;
        wrap(run(py, self.heavy(), || ops::sub(&self.var, &o)))
    }
    fn mul(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        let o = self.need_operand(other)?;
        wrap(run(py, self.heavy(), || ops::mul(&self.var, &o)))
    }
    fn div(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        let o = self.need_operand(other)?;
        wrap(run(py, self.heavy(), || ops::div(&self.var, &o)))
    }
    fn pow(&self, py: Python<'_>, exponent: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.__pow__(py, exponent, None)
    }
    fn matmul(&self, py: Python<'_>, other: &Bound<'_, PyTensor>) -> PyResult<PyTensor> {
        let (a, b) = (self.var.clone(), other.get().var.clone());
        wrap(py.detach(move || ops::matmul(&a, &b)))
    }
    fn mm(&self, py: Python<'_>, other: &Bound<'_, PyTensor>) -> PyResult<PyTensor> {
        let (a, b) = (self.var.clone(), other.get().var.clone());
        wrap(py.detach(move || ops::mm(&a, &b)))
    }
    fn dot(&self, other: &Bound<'_, PyTensor>) -> PyResult<PyTensor> {
        wrap(ops::dot(&self.var, &other.get().var))
    }
    fn maximum(&self, other: &Bound<'_, PyTensor>) -> PyResult<PyTensor> {
        wrap(ops::maximum(&self.var, &other.get().var))
    }
    fn minimum(&self, other: &Bound<'_, PyTensor>) -> PyResult<PyTensor> {
        wrap(ops::minimum(&self.var, &other.get().var))
    }

    fn neg(&self) -> PyResult<PyTensor> {
        wrap(ops::neg(&self.var))
    }
    fn abs(&self, py: Python<'_>) -> PyResult<PyTensor> {
        wrap(run(py, self.heavy(), || ops::abs(&self.var)))
    }
    fn exp(&self, py: Python<'_>) -> PyResult<PyTensor> {
        wrap(run(py, self.heavy(), || ops::exp(&self.var)))
    }
    fn log(&self, py: Python<'_>) -> PyResult<PyTensor> {
        wrap(run(py, self.heavy(), || ops::log(&self.var)))
    }
    fn sqrt(&self, py: Python<'_>) -> PyResult<PyTensor> {
        wrap(run(py, self.heavy(), || ops::sqrt(&self.var)))
    }
    fn tanh(&self, py: Python<'_>) -> PyResult<PyTensor> {
        wrap(run(py, self.heavy(), || ops::tanh(&self.var)))
    }
    fn sigmoid(&self, py: Python<'_>) -> PyResult<PyTensor> {
        wrap(run(py, self.heavy(), || ops::sigmoid(&self.var)))
    }
    fn relu(&self, py: Python<'_>) -> PyResult<PyTensor> {
        wrap(run(py, self.heavy(), || ops::relu(&self.var)))
    }
    #[pyo3(signature = (min=None, max=None))]
    fn clamp(&self, min: Option<f64>, max: Option<f64>) -> PyResult<PyTensor> {
        wrap(ops::clamp(&self.var, min, max))
    }
    #[pyo3(signature = (min=None, max=None))]
    fn clip(&self, min: Option<f64>, max: Option<f64>) -> PyResult<PyTensor> {
        wrap(ops::clamp(&self.var, min, max))
    }

    // ----- logical operators on bool tensors ----------------------------------------------

    fn __and__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.logical(py, o, |a, b| a.binary(BinaryOp::Minimum, b))
    }
    fn __or__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.logical(py, o, |a, b| a.binary(BinaryOp::Maximum, b))
    }
    fn __xor__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.logical(py, o, |a, b| a.compare(CompareOp::Ne, b))
    }
    fn __rand__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.__and__(py, o)
    }
    fn __ror__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.__or__(py, o)
    }
    fn __rxor__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.__xor__(py, o)
    }
    fn __invert__(&self) -> PyResult<PyTensor> {
        let t = self.tensor();
        if t.dtype() != DType::Bool {
            return Err(PyTypeError::new_err(
                "~ (bitwise_not) is only supported for bool tensors in rustgrad",
            ));
        }
        let flipped = t.compare(CompareOp::Eq, &Tensor::scalar(0.0, DType::Bool))?;
        Ok(PyTensor::wrap(Var::new(flipped, false)))
    }
    fn logical_not(&self) -> PyResult<PyTensor> {
        let t = self.tensor();
        let flipped = t.compare(CompareOp::Eq, &Tensor::scalar(0.0, t.dtype()))?;
        Ok(PyTensor::wrap(Var::new(flipped, false)))
    }

    /// A copy with its own storage, keeping `requires_grad` and a copy of `.grad`
    /// (`copy.deepcopy(model)` works).
    fn __deepcopy__(&self, _memo: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        if !self.var.is_leaf() {
            return Err(PyRuntimeError::new_err(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy \
                 protocol at the moment.",
            ));
        }
        let copy = Var::new(self.tensor().clone_data()?, false);
        copy.set_requires_grad(self.var.requires_grad())?;
        if let Some(g) = self.var.grad() {
            copy.set_grad(Some(Var::new(g.tensor().clone_data()?, false)));
        }
        Ok(PyTensor::wrap(copy))
    }

    // ----- comparisons (bool results, no gradient) ---------------------------------------

    fn __eq__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.compare_op(py, o, CompareOp::Eq)
    }
    fn __ne__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.compare_op(py, o, CompareOp::Ne)
    }
    fn __lt__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.compare_op(py, o, CompareOp::Lt)
    }
    fn __le__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.compare_op(py, o, CompareOp::Le)
    }
    fn __gt__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.compare_op(py, o, CompareOp::Gt)
    }
    fn __ge__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.compare_op(py, o, CompareOp::Ge)
    }
    fn eq(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.compare_op(py, o, CompareOp::Eq)
    }
    fn ne(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.compare_op(py, o, CompareOp::Ne)
    }
    fn lt(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.compare_op(py, o, CompareOp::Lt)
    }
    fn le(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.compare_op(py, o, CompareOp::Le)
    }
    fn gt(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.compare_op(py, o, CompareOp::Gt)
    }
    fn ge(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.compare_op(py, o, CompareOp::Ge)
    }

    // ----- reductions ---------------------------------------------------------------------

    #[pyo3(signature = (dim=None, keepdim=false, dtype=None))]
    fn sum(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        dtype: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyTensor> {
        let r = self.reduce(py, dim, keepdim, false)?;
        match types::parse_dtype(dtype)? {
            Some(d) => wrap(ops::to_dtype(&r.var, d)),
            None => Ok(r),
        }
    }

    #[pyo3(signature = (dim=None, keepdim=false))]
    fn mean(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
    ) -> PyResult<PyTensor> {
        self.reduce(py, dim, keepdim, true)
    }

    #[pyo3(signature = (dim=None, keepdim=false))]
    fn max(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
    ) -> PyResult<Py<PyAny>> {
        self.extreme(py, dim, keepdim, true)
    }

    #[pyo3(signature = (dim=None, keepdim=false))]
    fn min(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
    ) -> PyResult<Py<PyAny>> {
        self.extreme(py, dim, keepdim, false)
    }

    #[pyo3(signature = (dim=None, keepdim=false))]
    fn argmax(&self, dim: Option<i64>, keepdim: bool) -> PyResult<PyTensor> {
        wrap(ops::arg_extreme(&self.var, dim, keepdim, true))
    }

    #[pyo3(signature = (dim=None, keepdim=false))]
    fn argmin(&self, dim: Option<i64>, keepdim: bool) -> PyResult<PyTensor> {
        wrap(ops::arg_extreme(&self.var, dim, keepdim, false))
    }

    #[pyo3(signature = (dim, dtype=None))]
    fn softmax(
        &self,
        py: Python<'_>,
        dim: i64,
        dtype: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyTensor> {
        let x = match types::parse_dtype(dtype)? {
            Some(d) => ops::to_dtype(&self.var, d)?,
            None => self.var.clone(),
        };
        wrap(run(py, self.heavy(), || ops::softmax(&x, dim)))
    }

    #[pyo3(signature = (dim, dtype=None))]
    fn log_softmax(
        &self,
        py: Python<'_>,
        dim: i64,
        dtype: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyTensor> {
        let x = match types::parse_dtype(dtype)? {
            Some(d) => ops::to_dtype(&self.var, d)?,
            None => self.var.clone(),
        };
        wrap(run(py, self.heavy(), || ops::log_softmax(&x, dim)))
    }

    // ----- views and shape ----------------------------------------------------------------

    #[pyo3(signature = (*shape))]
    fn view(&self, shape: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        wrap(ops::view(&self.var, &parse_size(shape)?))
    }

    fn view_as(&self, other: &Bound<'_, PyTensor>) -> PyResult<PyTensor> {
        let s: Vec<i64> = other.get().var.shape().iter().map(|&d| d as i64).collect();
        wrap(ops::view(&self.var, &s))
    }

    #[pyo3(signature = (*shape))]
    fn reshape(&self, shape: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        wrap(ops::reshape(&self.var, &parse_size(shape)?))
    }

    fn reshape_as(&self, other: &Bound<'_, PyTensor>) -> PyResult<PyTensor> {
        let s: Vec<i64> = other.get().var.shape().iter().map(|&d| d as i64).collect();
        wrap(ops::reshape(&self.var, &s))
    }

    #[pyo3(signature = (start_dim=0, end_dim=-1))]
    fn flatten(&self, start_dim: i64, end_dim: i64) -> PyResult<PyTensor> {
        wrap(ops::flatten(&self.var, start_dim, end_dim))
    }

    #[pyo3(signature = (dim=None))]
    fn squeeze(&self, dim: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        let dims = dims_arg(dim)?;
        wrap(ops::squeeze(&self.var, dims.as_deref()))
    }

    fn unsqueeze(&self, dim: i64) -> PyResult<PyTensor> {
        wrap(ops::unsqueeze(&self.var, dim))
    }

    fn t(&self) -> PyResult<PyTensor> {
        wrap(ops::t(&self.var))
    }

    #[getter(T)]
    fn get_t(&self) -> PyResult<PyTensor> {
        let nd = self.var.shape().len() as i64;
        let dims: Vec<i64> = (0..nd).rev().collect();
        wrap(ops::permute(&self.var, &dims))
    }

    fn transpose(&self, dim0: i64, dim1: i64) -> PyResult<PyTensor> {
        wrap(ops::transpose(&self.var, dim0, dim1))
    }

    #[pyo3(signature = (*dims))]
    fn permute(&self, dims: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        wrap(ops::permute(&self.var, &parse_size(dims)?))
    }

    #[pyo3(signature = (*sizes))]
    fn expand(&self, sizes: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        wrap(ops::expand(&self.var, &parse_size(sizes)?))
    }

    fn expand_as(&self, other: &Bound<'_, PyTensor>) -> PyResult<PyTensor> {
        let s: Vec<i64> = other.get().var.shape().iter().map(|&d| d as i64).collect();
        wrap(ops::expand(&self.var, &s))
    }

    fn contiguous<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Self::same_or_new(slf, ops::contiguous(&slf.get().var)?)
    }

    fn clone(&self) -> PyResult<PyTensor> {
        wrap(ops::clone(&self.var))
    }

    // ----- indexing -----------------------------------------------------------------------

    fn __getitem__(&self, key: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        let items = convert::index_key(key)?;
        wrap(ops::getitem(&self.var, &items))
    }

    fn __setitem__(&self, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let items = convert::index_key(key)?;
        let v = match self.operand(value)? {
            Some(v) => v,
            None => Var::new(
                convert::tensor_from_data(value, Some(self.var.dtype()))?,
                false,
            ),
        };
        Ok(ops::setitem(&self.var, &items, &v)?)
    }

    // ----- in-place -----------------------------------------------------------------------

    #[pyo3(signature = (other, alpha=None))]
    fn add_<'py>(
        slf: &Bound<'py, Self>,
        other: &Bound<'py, PyAny>,
        alpha: Option<f64>,
    ) -> PyResult<Bound<'py, Self>> {
        let o = slf.get().with_alpha(other, alpha)?;
        ops::add_(&slf.get().var, &o)?;
        Ok(slf.clone())
    }
    #[pyo3(signature = (other, alpha=None))]
    fn sub_<'py>(
        slf: &Bound<'py, Self>,
        other: &Bound<'py, PyAny>,
        alpha: Option<f64>,
    ) -> PyResult<Bound<'py, Self>> {
        let o = slf.get().with_alpha(other, alpha)?;
        ops::sub_(&slf.get().var, &o)?;
        Ok(slf.clone())
    }
    fn mul_<'py>(slf: &Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        Self::inplace(slf, other, ops::mul_)?;
        Ok(slf.clone())
    }
    fn div_<'py>(slf: &Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        Self::inplace(slf, other, ops::div_)?;
        Ok(slf.clone())
    }
    fn zero_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        ops::zero_(&slf.get().var)?;
        Ok(slf.clone())
    }
    fn fill_<'py>(slf: &Bound<'py, Self>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        let v: f64 = match value.cast::<PyTensor>() {
            Ok(t) => t.get().scalar_value()?,
            Err(_) => value.extract()?,
        };
        ops::fill_(&slf.get().var, v)?;
        Ok(slf.clone())
    }
    #[pyo3(signature = (src, non_blocking=false))]
    fn copy_<'py>(
        slf: &Bound<'py, Self>,
        src: &Bound<'py, PyTensor>,
        non_blocking: bool,
    ) -> PyResult<Bound<'py, Self>> {
        let _ = non_blocking;
        ops::copy_(&slf.get().var, &src.get().var)?;
        Ok(slf.clone())
    }
    #[pyo3(signature = (min=None, max=None))]
    fn clamp_<'py>(
        slf: &Bound<'py, Self>,
        min: Option<f64>,
        max: Option<f64>,
    ) -> PyResult<Bound<'py, Self>> {
        ops::clamp_(&slf.get().var, min, max)?;
        Ok(slf.clone())
    }
    fn __iadd__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<()> {
        Self::inplace(slf, other, ops::add_)
    }
    fn __isub__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<()> {
        Self::inplace(slf, other, ops::sub_)
    }
    fn __imul__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<()> {
        Self::inplace(slf, other, ops::mul_)
    }
    fn __itruediv__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<()> {
        Self::inplace(slf, other, ops::div_)
    }
}

impl PyTensor {
    /// `&`, `|`, `^` between bool tensors (or a bool tensor and a Python bool).
    fn logical(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        f: fn(&Tensor, &Tensor) -> Result<Tensor>,
    ) -> PyResult<Py<PyAny>> {
        let b = if other.is_instance_of::<PyBool>() {
            Tensor::scalar(other.extract::<bool>()? as u8 as f64, DType::Bool)
        } else {
            match self.operand(other)? {
                Some(o) => o.tensor(),
                None => return Ok(py.NotImplemented()),
            }
        };
        let a = self.tensor();
        if a.dtype() != DType::Bool || b.dtype() != DType::Bool {
            return Err(PyTypeError::new_err(
                "logical operators (&, |, ^) are only supported between bool tensors in rustgrad",
            ));
        }
        Ok(Bound::new(py, PyTensor::wrap(Var::new(f(&a, &b)?, false)))?
            .into_any()
            .unbind())
    }

    /// `other * alpha` for `add(other, alpha=...)`.
    fn with_alpha(&self, other: &Bound<'_, PyAny>, alpha: Option<f64>) -> PyResult<Var> {
        let o = self.need_operand(other)?;
        match alpha {
            None => Ok(o),
            Some(a) => {
                let s = scalar_like(a, true, o.dtype());
                Ok(ops::mul(&o, &s)?)
            }
        }
    }
}

/// A tensor or a sequence of tensors, as a list of variables.
pub fn tensor_list(obj: &Bound<'_, PyAny>) -> PyResult<Vec<Var>> {
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
