//! The `Tensor` class's Python surface: one `#[pymethods]` block (see `mod.rs` for why one),
//! each method with its doc, its signature and a body of a line or two (argument reading, then
//! a call into the core through `PyTensor::op` and friends, or into a topic module).
//!
//! The `///` docs here are the methods' `__doc__` and, through `scripts/sync_stubs.py`, the
//! docstrings of `_core.pyi`: edit them here, then run the script. Operator methods
//! (`__add__`, `__getitem__`, ...) fill type slots, whose `__doc__` is CPython's own, so they
//! carry `//` comments; the class doc in `mod.rs` describes them.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use super::arith::{self, Returned};
use super::{args, autograd, interop, math, reduce, shape, Obj, PyTensor};
use crate::autograd::Var;
use crate::ops;
use crate::python::convert::{self, parse_size};
use crate::python::gil::{self, Work};
use crate::python::node::PyNode;
use crate::python::types::{self, PyDType, PyDevice};
use crate::tensor::{BinaryOp, CompareOp, DType, Device};

static TENSOR_STR: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();

#[pymethods]
impl PyTensor {
    // `Tensor(list)`, `Tensor(ndarray)` or `Tensor(*sizes)`: float32, like `torch.Tensor`.
    #[new]
    #[pyo3(signature = (*args))]
    fn py_new(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        interop::construct(py, args)
    }

    // ----- printing and hashing -----------------------------------------------------------

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let f = args::cached(slf.py(), &TENSOR_STR, "rustgrad._tensor_str", "_str")?;
        f.call1((slf,))?.extract()
    }
    fn __str__(slf: &Bound<'_, Self>) -> PyResult<String> {
        Self::__repr__(slf)
    }
    // Identity: tensors are usable as dict keys (`==` is elementwise).
    fn __hash__(slf: &Bound<'_, Self>) -> isize {
        slf.as_ptr() as isize
    }

    // ----- autograd attributes ------------------------------------------------------------

    /// The same data without history (shares storage). Assigning a tensor replaces this
    /// tensor's data (its shape and dtype may change).
    #[getter]
    fn get_data(&self) -> PyTensor {
        PyTensor::wrap(self.var.detach())
    }
    #[setter]
    fn set_data(&self, value: &Bound<'_, PyTensor>) -> PyResult<()> {
        let data = value.get().var.tensor();
        if self.var.requires_grad() && !data.dtype().is_float() {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "data set to a tensor that requires gradients must be floating point or complex \
                 dtype",
            ));
        }
        self.var.set_tensor(data);
        Ok(())
    }

    /// The accumulated gradient, same shape as ``self``; None until a backward reaches it.
    ///
    /// Reading it on a non-leaf that does not ``retain_grad()`` warns (UserWarning). Assign
    /// None to clear it, or a tensor of the same shape (else RuntimeError).
    #[getter]
    fn get_grad<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTensor>>> {
        autograd::grad(self, py)
    }
    #[setter]
    fn set_grad(&self, value: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let value = value
            .map(|v| {
                v.cast::<PyTensor>().map_err(|_| {
                    pyo3::exceptions::PyTypeError::new_err(format!(
                        "assigned grad expected to be a Tensor or None but got grad of type {}",
                        v.get_type()
                            .name()
                            .map(|n| n.to_string())
                            .unwrap_or_default()
                    ))
                })
            })
            .transpose()?;
        autograd::set_grad(self, value)
    }

    /// The node that made this tensor; None for leaves.
    #[getter]
    fn grad_fn<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let node = self.var.grad_fn();
        // (a view whose history PyTorch refuses to remake raises here, as its `grad_fn`)
        if let Some(e) = crate::autograd::arena::take_save_error() {
            return Err(e.into());
        }
        node.map(|node| PyNode::object(py, node)).transpose()
    }

    /// Whether gradients flow to this tensor. Only leaves may be set (non-leaves raise
    /// RuntimeError); only floating tensors may require grad.
    #[getter]
    fn get_requires_grad(&self) -> bool {
        let requires = self.var.requires_grad();
        // (PyTorch's flag does not read the view's history, so nothing is refused here)
        drop(crate::autograd::arena::take_save_error());
        requires
    }
    #[setter]
    fn set_requires_grad(slf: &Bound<'_, Self>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        if !value.is_instance_of::<pyo3::types::PyBool>() {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "requires_grad must be a bool",
            ));
        }
        let value = value.is_truthy()?;
        // (the attribute refuses a non-leaf either way; `requires_grad_(True)` lets it be)
        if value && !slf.get().var.is_leaf() {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "you can only change requires_grad flags of leaf variables.",
            ));
        }
        if value && !slf.get().var.dtype().is_float() {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "only Tensors of floating point and complex dtype can require gradients",
            ));
        }
        autograd::set_requires_grad(slf, value)
    }

    /// Set ``requires_grad`` in place; returns ``self``.
    #[pyo3(signature = (requires_grad=None))]
    fn requires_grad_<'py>(
        slf: &Bound<'py, Self>,
        requires_grad: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, Self>> {
        // (None stands for the default, True; PyTorch takes a bool only, not an int)
        let requires_grad = match requires_grad {
            None => true,
            Some(v) if v.is_instance_of::<pyo3::types::PyBool>() => v.is_truthy()?,
            Some(v) => {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "requires_grad_(): argument 'requires_grad' (position 1) must be bool, not {}",
                    v.get_type().name()?
                )))
            }
        };
        if requires_grad && !slf.get().var.dtype().is_float() {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "only Tensors of floating point dtype can require gradients",
            ));
        }
        autograd::set_requires_grad(slf, requires_grad).map(|()| slf.clone())
    }

    /// True for tensors not produced by a recorded op (including all that do not require
    /// grad).
    #[getter]
    fn is_leaf(&self) -> PyResult<bool> {
        let leaf = self.var.is_leaf();
        match crate::autograd::arena::take_save_error() {
            Some(e) => Err(e.into()),
            None => Ok(leaf),
        }
    }

    /// True for a view of another tensor made while grad mode was on (whose in-place
    /// changes reach its base's history).
    fn _is_view(&self) -> bool {
        self.var.view_base().is_some()
    }

    /// The tensor this view views (None for a tensor that is not a view): PyTorch's
    /// ``_base``.
    #[getter]
    fn _base<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTensor>>> {
        self.var
            .view_base()
            .map(|base| PyTensor::object(py, base))
            .transpose()
    }

    /// True for a non-leaf after ``retain_grad()``.
    #[getter]
    fn retains_grad(&self) -> bool {
        self.var.retains_grad()
    }

    /// Make backward populate ``.grad`` of this non-leaf tensor too.
    fn retain_grad(&self) -> PyResult<()> {
        Ok(self.var.retain_grad()?)
    }

    /// Call ``hook(grad)`` when this tensor's gradient is computed (once, on the summed
    /// gradient); a returned tensor (same shape) replaces the gradient.
    fn register_hook(
        &self,
        hook: Py<PyAny>,
    ) -> PyResult<crate::python::function::PyRemovableHandle> {
        crate::python::function::register_hook(&self.var, hook)
    }

    /// Private: ``hook(leaf)`` after backward accumulated this leaf's ``.grad`` (the
    /// public ``register_post_accumulate_grad_hook`` passes the Python tensor itself).
    fn _register_post_accumulate_grad_hook(
        &self,
        hook: Py<PyAny>,
    ) -> PyResult<crate::python::function::PyRemovableHandle> {
        crate::python::function::register_post_accumulate_grad_hook(&self.var, hook)
    }

    /// Same data (shared storage), no history, ``requires_grad=False``.
    fn detach(&self) -> PyTensor {
        PyTensor::wrap(self.var.detach())
    }

    /// Drop this tensor's history in place: makes it a leaf that does not require grad.
    fn detach_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        autograd::detach_(slf)
    }

    /// Counter of in-place writes to the storage (checked by backward).
    #[getter]
    fn _version(&self) -> u64 {
        crate::compile::note_break("`_version` was read (a replay moves versions without Python)");
        self.var.tensor().version()
    }

    /// Start ``_version`` again at 0 when this tensor is the only handle on its storage:
    /// for Python composites whose fresh result was built by writing into it (PyTorch's
    /// comes from one kernel). Private.
    fn _forget_writes(&self) -> bool {
        // Read in place: a cloned handle would itself count as another holder.
        self.var.with_tensor(|t| t.storage().forget_writes())
    }

    /// The dims, outermost first, in the order PyTorch's elementwise kernels lay out a result
    /// of this tensor alone (TensorIterator's order: by stride, broadcast dims and ties kept
    /// in place). Private: for results that take this tensor's layout.
    fn _memory_order(&self) -> Vec<usize> {
        let tensor = self.var.tensor();
        let layout = tensor.layout();
        crate::tensor::layout::elementwise_order(&layout.shape, &[layout])
            .map(|order| order.to_vec())
            .unwrap_or_else(|| (0..layout.shape.len()).collect())
    }

    /// Copy ``src`` into this tensor without moving ``_version``, as PyTorch's batch norm
    /// kernels update the running statistics (so batch norm nodes that saved them stay
    /// valid). Private: for ``F.batch_norm``.
    fn _copy_unversioned_(&self, src: PyRef<'_, PyTensor>) -> PyResult<()> {
        Ok(self.var.tensor().copy_from_unversioned(&src.var.tensor())?)
    }

    /// Accumulate d(self)/d(leaf) into each leaf's ``.grad``.
    ///
    /// ``gradient`` (same shape as ``self``) may be left out only for a one-element tensor.
    /// ``retain_graph`` defaults to ``create_graph``; ``inputs`` limits accumulation to those
    /// tensors.
    #[pyo3(signature = (gradient=None, retain_graph=None, create_graph=false, inputs=None))]
    fn backward(
        &self,
        py: Python<'_>,
        gradient: Option<&Bound<'_, PyTensor>>,
        retain_graph: Option<bool>,
        create_graph: bool,
        inputs: Option<&Obj<'_>>,
    ) -> PyResult<()> {
        autograd::backward(self, py, gradient, retain_graph, create_graph, inputs)
    }

    /// A leaf copy with its own storage, keeping ``requires_grad`` and a copy of ``.grad``
    /// (so ``copy.deepcopy(model)`` works). RuntimeError for a non-leaf.
    fn __deepcopy__(&self, py: Python<'_>, _memo: &Obj<'_>) -> PyResult<PyTensor> {
        autograd::deepcopy(self, py)
    }

    // ----- metadata -----------------------------------------------------------------------

    /// The sizes, e.g. ``rustgrad.Size([2, 3])``.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        args::size_object(py, &self.var.shape())
    }

    /// ``size()``: the sizes, as ``shape``. ``size(dim)``: the size of dimension ``dim``
    /// (negative counts from the end).
    #[pyo3(signature = (dim=None))]
    fn size<'py>(&self, py: Python<'py>, dim: Option<i64>) -> PyResult<Bound<'py, PyAny>> {
        shape::size(self, py, dim)
    }

    /// Number of dimensions (0 for a scalar).
    fn dim(&self) -> usize {
        self.var.shape().len()
    }

    /// Number of dimensions, as ``dim()``.
    #[getter]
    fn ndim(&self) -> usize {
        self.var.shape().len()
    }

    /// Number of elements (product of the sizes).
    fn numel(&self) -> usize {
        self.var.numel()
    }

    /// Alias of ``numel()``.
    fn nelement(&self) -> usize {
        self.var.numel()
    }

    /// The element type.
    #[getter]
    fn dtype(&self, py: Python<'_>) -> Py<PyDType> {
        types::dtype_object(py, self.var.dtype())
    }

    /// Where the data lives: ``device(type='cpu')`` or ``device(type='cuda', index=0)``
    /// (``str()`` gives ``"cpu"`` / ``"cuda:0"``).
    #[getter]
    fn device(&self) -> PyDevice {
        PyDevice::from_device(self.var.tensor().device())
    }

    /// True when the data lives on a CUDA device.
    #[getter]
    fn is_cuda(&self) -> bool {
        self.var.tensor().is_cuda()
    }

    /// True for a tensor on the meta device (a shape and dtype, no data).
    #[getter]
    fn is_meta(&self) -> bool {
        self.var.tensor().device() == Device::Meta
    }

    /// True for float32 and float64 tensors.
    fn is_floating_point(&self) -> bool {
        self.var.dtype().is_float()
    }

    /// True when the elements are laid out without gaps in ``memory_format`` (row-major by
    /// default; ``channels_last`` and ``channels_last_3d`` too).
    #[pyo3(signature = (memory_format=None))]
    fn is_contiguous<'py>(
        slf: &Bound<'py, Self>,
        memory_format: Option<&Obj<'py>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Some(format) = memory_format {
            return memory_formats(slf.py(), "_is_contiguous", (slf, format), None);
        }
        let contiguous = slf.get().var.with_tensor(|t| t.is_contiguous());
        Ok(pyo3::types::PyBool::new(slf.py(), contiguous)
            .to_owned()
            .into_any())
    }

    /// Bytes per element.
    fn element_size(&self) -> usize {
        self.var.dtype().size_of()
    }

    /// Address of the first element.
    fn data_ptr(&self) -> usize {
        crate::compile::note_break("`data_ptr()` reads a buffer's address");
        let t = self.var.tensor();
        let base = t.storage().read().as_ptr();
        base + t.layout().offset * t.dtype().size_of()
    }

    /// Elements from the start of the storage to the first element.
    fn storage_offset(&self) -> usize {
        self.var.with_tensor(|t| t.layout().offset)
    }

    /// The whole storage as a flat tensor sharing it, without history (what ``save`` writes
    /// once for all the tensors that share it).
    fn _storage_elements(&self) -> PyTensor {
        let t = self.var.tensor();
        let len = t.storage().read().len();
        let flat = t.with_layout(crate::tensor::Layout::contiguous(&[len]));
        PyTensor::wrap(Var::new(flat, false))
    }

    /// An identity of the storage, equal for the tensors that share it (while they live).
    fn _storage_id(&self) -> usize {
        self.var
            .with_tensor(|t| std::sync::Arc::as_ptr(t.storage()) as usize)
    }

    /// Elements to step in storage per index step, one entry per dimension; ``stride(dim)``:
    /// that dimension's (negative counts from the end).
    #[pyo3(signature = (dim=None))]
    fn stride<'py>(&self, py: Python<'py>, dim: Option<i64>) -> PyResult<Bound<'py, PyAny>> {
        shape::stride(self, py, dim)
    }

    // ----- conversion ---------------------------------------------------------------------

    /// The value of a one-element tensor (any shape) as a Python bool, int or float.
    fn item<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        interop::item(self, py)
    }

    /// Nested lists of Python numbers; a bare number for a 0-d tensor.
    fn tolist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::tensor_to_nested(py, &self.var.tensor())
    }

    /// A NumPy array sharing this tensor's memory (same shape and strides).
    ///
    /// Raises RuntimeError for a tensor that requires grad unless ``force``, and TypeError for
    /// a CUDA tensor (copy it to the host with ``cpu()`` first; ``force`` copies it).
    #[pyo3(signature = (force=false))]
    fn numpy<'py>(&self, py: Python<'py>, force: bool) -> PyResult<Bound<'py, PyAny>> {
        interop::numpy(self, py, force)
    }

    /// ``numpy.asarray(t, dtype)``: ``numpy()``, cast to ``dtype`` when given, copied when
    /// ``copy`` is True.
    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<&Obj<'py>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        interop::array(self, py, dtype, copy)
    }

    /// Above NumPy's arrays and scalars (1000, as PyTorch), so that ``np.float32(2) + t``
    /// asks the tensor (a tensor result, PyTorch's promotion) rather than making an array.
    #[classattr]
    fn __array_priority__() -> i64 {
        1000
    }

    fn __len__(&self) -> PyResult<usize> {
        shape::leading_size(self, "len() of a 0-d tensor")
    }
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        shape::iter(self, py)
    }
    fn __bool__(&self, py: Python<'_>) -> PyResult<bool> {
        interop::truth(self, py)
    }
    fn __float__(&self, py: Python<'_>) -> PyResult<f64> {
        Ok(interop::python_scalar(self, py)?.to_f64())
    }
    fn __int__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        interop::python_int(self, py)
    }
    fn __index__(&self, py: Python<'_>) -> PyResult<i64> {
        interop::index(self, py)
    }

    /// As float32 (``self`` when it already is).
    fn float<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Self::op_or_self(slf, |v| ops::to_dtype(v, DType::F32))
    }

    /// As float64 (``self`` when it already is).
    fn double<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Self::op_or_self(slf, |v| ops::to_dtype(v, DType::F64))
    }

    /// As int64 (``self`` when it already is).
    fn long<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Self::op_or_self(slf, |v| ops::to_dtype(v, DType::I64))
    }

    /// As bool (``self`` when it already is).
    #[pyo3(name = "bool")]
    fn to_bool<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Self::op_or_self(slf, |v| ops::to_dtype(v, DType::Bool))
    }

    /// ``to(dtype)``, ``to(device)``, ``to(device, dtype)`` (either by keyword too) or
    /// ``to(other)`` (``other``'s dtype and device): ``self`` when nothing changes. A copy to
    /// another device is differentiable (gradients flow back to the source's device).
    #[pyo3(signature = (*args, **kwargs))]
    fn to<'py>(
        slf: &Bound<'py, Self>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Some(kw) = kwargs {
            if kw.contains("memory_format")? {
                let mut all = vec![slf.clone().into_any()];
                all.extend(args.iter());
                return memory_formats(slf.py(), "_to", PyTuple::new(slf.py(), all)?, Some(kw));
            }
        }
        interop::to(slf, args, kwargs)
    }

    /// A copy on the CUDA device (device 0 unless given; ``self`` when already there).
    /// RuntimeError, saying why, where CUDA cannot be used.
    #[pyo3(signature = (device=None, non_blocking=false))]
    fn cuda<'py>(
        slf: &Bound<'py, Self>,
        device: Option<&Obj<'py>>,
        non_blocking: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = non_blocking; // copies are queued on the device's stream either way
        interop::cuda(slf, device)
    }

    /// A copy in host memory (``self`` when already there).
    fn cpu<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        interop::moved(slf, Device::Cpu)
    }

    // ----- arithmetic (broadcasting; Python numbers take the tensor's dtype kind) ---------

    fn __add__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::binary(self, py, o, false, ops::add)
    }
    // Addition commutes; PyTorch records the tensor as the first input.
    fn __radd__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::binary(self, py, o, false, ops::add)
    }
    fn __sub__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::refuse_bool_sub(self, o)?;
        arith::binary(self, py, o, false, ops::sub)
    }
    fn __rsub__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::rsub(self, py, o)
    }
    fn __mul__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::binary(self, py, o, false, ops::mul)
    }
    fn __rmul__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::binary(self, py, o, false, ops::mul)
    }
    fn __truediv__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        match self.quotient_operand(o)? {
            Some(q) => arith::returned(py, self.op2(py, &q, ops::div)),
            None => Ok(py.NotImplemented()),
        }
    }
    fn __rtruediv__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::rtruediv(self, py, o)
    }
    fn __pow__(&self, py: Python<'_>, o: &Obj<'_>, _modulo: Option<&Obj<'_>>) -> Returned {
        arith::pow(self, py, o)
    }
    fn __rpow__(&self, py: Python<'_>, o: &Obj<'_>, _modulo: Option<&Obj<'_>>) -> Returned {
        arith::rpow(self, py, o)
    }
    fn __matmul__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::matmul(self, py, o, false)
    }
    fn __rmatmul__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::matmul(self, py, o, true)
    }
    fn __neg__(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::neg)
    }
    fn __pos__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        if slf.get().var.dtype() == DType::Bool {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "The `+` operator, on a bool tensor is not supported.",
            ));
        }
        Ok(slf.clone())
    }
    fn __abs__(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::abs)
    }

    /// ``self + alpha * other`` (broadcast shape).
    #[pyo3(signature = (other, alpha=None))]
    fn add(&self, py: Python<'_>, other: &Obj<'_>, alpha: Option<&Obj<'_>>) -> PyResult<PyTensor> {
        arith::with_alpha(self, py, other, alpha, ops::add)
    }

    /// ``self - alpha * other`` (broadcast shape).
    #[pyo3(signature = (other, alpha=None))]
    fn sub(&self, py: Python<'_>, other: &Obj<'_>, alpha: Option<&Obj<'_>>) -> PyResult<PyTensor> {
        arith::refuse_bool_sub(self, other)?;
        arith::with_alpha(self, py, other, alpha, ops::sub)
    }

    /// ``self * other`` (broadcast shape).
    fn mul(&self, py: Python<'_>, other: &Obj<'_>) -> PyResult<PyTensor> {
        self.op2(py, &self.need_operand(other)?, ops::mul)
    }

    /// ``self / other`` (broadcast shape; true division).
    fn div(&self, py: Python<'_>, other: &Obj<'_>) -> PyResult<PyTensor> {
        let Some(o) = self.quotient_operand(other)? else {
            return Err(self.need_operand(other).err().unwrap_or_else(|| {
                pyo3::exceptions::PyTypeError::new_err("unsupported operand type")
            }));
        };
        self.op2(py, &o, ops::div)
    }

    /// ``self ** exponent`` (broadcast shape).
    fn pow(&self, py: Python<'_>, exponent: &Obj<'_>) -> Returned {
        arith::pow(self, py, exponent)
    }

    /// ``self @ other`` with NumPy's rules: ``(n, k) @ (k, m) -> (n, m)``; 1-d operands are
    /// promoted and squeezed back (``(k,) @ (k,) -> ()``); batch dims ``(*b, n, k)``
    /// broadcast.
    fn matmul(&self, py: Python<'_>, other: &Bound<'_, PyTensor>) -> PyResult<PyTensor> {
        self.op2(py, &other.get().var, ops::matmul)
    }

    /// ``(n, k) @ (k, m) -> (n, m)``, 2-d operands only.
    fn mm(&self, py: Python<'_>, other: &Bound<'_, PyTensor>) -> PyResult<PyTensor> {
        self.op2(py, &other.get().var, ops::mm)
    }

    /// ``(k,) . (k,) -> ()``, 1-d operands only.
    fn dot(&self, py: Python<'_>, other: &Bound<'_, PyTensor>) -> PyResult<PyTensor> {
        self.op2(py, &other.get().var, ops::dot)
    }

    /// Elementwise maximum (broadcast shape).
    fn maximum(&self, py: Python<'_>, other: &Bound<'_, PyTensor>) -> PyResult<PyTensor> {
        self.op2(py, &other.get().var, ops::maximum)
    }

    /// Elementwise minimum (broadcast shape).
    fn minimum(&self, py: Python<'_>, other: &Bound<'_, PyTensor>) -> PyResult<PyTensor> {
        self.op2(py, &other.get().var, ops::minimum)
    }

    /// ``-self`` (same shape).
    fn neg(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::neg)
    }

    /// ``|self|`` (same shape).
    fn abs(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::abs)
    }

    /// Elementwise ``e ** self`` (same shape).
    fn exp(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::exp)
    }

    /// Elementwise natural logarithm (same shape).
    fn log(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::log)
    }

    /// Elementwise square root (same shape).
    fn sqrt(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::sqrt)
    }

    /// Elementwise hyperbolic tangent (same shape).
    fn tanh(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::tanh)
    }

    /// Elementwise sine, in radians (same shape).
    fn sin(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::sin)
    }

    /// Elementwise cosine, in radians (same shape).
    fn cos(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::cos)
    }

    /// Elementwise ``1 / (1 + exp(-self))`` (same shape).
    fn sigmoid(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::sigmoid)
    }

    /// Elementwise ``max(self, 0)`` (same shape).
    fn relu(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::relu)
    }

    /// Elementwise clip into ``[min, max]`` (same shape); either bound may be None.
    #[pyo3(signature = (min=None, max=None))]
    fn clamp(
        &self,
        py: Python<'_>,
        min: Option<&Obj<'_>>,
        max: Option<&Obj<'_>>,
    ) -> PyResult<PyTensor> {
        arith::clamp(self, py, min, max)
    }

    /// Alias of ``clamp``.
    #[pyo3(signature = (min=None, max=None))]
    fn clip(
        &self,
        py: Python<'_>,
        min: Option<&Obj<'_>>,
        max: Option<&Obj<'_>>,
    ) -> PyResult<PyTensor> {
        arith::clamp(self, py, min, max)
    }

    // ----- logical operators on bool tensors ----------------------------------------------

    fn __and__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::logical(self, py, o, "and", |a, b| a.binary(BinaryOp::Minimum, b))
    }
    fn __or__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::logical(self, py, o, "or", |a, b| a.binary(BinaryOp::Maximum, b))
    }
    fn __xor__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::logical(self, py, o, "xor", |a, b| a.compare(CompareOp::Ne, b))
    }
    fn __rand__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        self.__and__(py, o)
    }
    fn __ror__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        self.__or__(py, o)
    }
    fn __rxor__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        self.__xor__(py, o)
    }
    fn __invert__(&self, py: Python<'_>) -> PyResult<PyTensor> {
        arith::invert(self, py)
    }

    /// Elementwise ``self == 0`` as a bool tensor (same shape, no gradient).
    fn logical_not(&self, py: Python<'_>) -> PyResult<PyTensor> {
        arith::logical_not(self, py)
    }

    // ----- comparisons (bool results of the broadcast shape, no gradient) -----------------

    fn __eq__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::compare(self, py, o, CompareOp::Eq)
    }
    fn __ne__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::compare(self, py, o, CompareOp::Ne)
    }
    fn __lt__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::compare(self, py, o, CompareOp::Lt)
    }
    fn __le__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::compare(self, py, o, CompareOp::Le)
    }
    fn __gt__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::compare(self, py, o, CompareOp::Gt)
    }
    fn __ge__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::compare(self, py, o, CompareOp::Ge)
    }

    /// ``self == o`` elementwise.
    fn eq(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::compare(self, py, o, CompareOp::Eq)
    }

    /// ``self != o`` elementwise.
    fn ne(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::compare(self, py, o, CompareOp::Ne)
    }

    /// ``self < o`` elementwise.
    fn lt(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::compare(self, py, o, CompareOp::Lt)
    }

    /// ``self <= o`` elementwise.
    fn le(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::compare(self, py, o, CompareOp::Le)
    }

    /// ``self > o`` elementwise.
    fn gt(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::compare(self, py, o, CompareOp::Gt)
    }

    /// ``self >= o`` elementwise.
    fn ge(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        arith::compare(self, py, o, CompareOp::Ge)
    }

    // ----- reductions ---------------------------------------------------------------------

    /// Sum over ``dim`` (int or tuple; all dims when None -> shape ``()``).
    ///
    /// Reduced dims are dropped, or kept with size 1 when ``keepdim``. ``dtype`` casts the
    /// input first.
    #[pyo3(signature = (dim=None, keepdim=false, dtype=None))]
    fn sum(
        &self,
        py: Python<'_>,
        dim: Option<&Obj<'_>>,
        keepdim: bool,
        dtype: Option<&Obj<'_>>,
    ) -> PyResult<PyTensor> {
        reduce::sum_or_mean(self, py, dim, keepdim, dtype, false)
    }

    /// Mean over ``dim`` (int or tuple; all dims when None -> shape ``()``); floating
    /// tensors only (``dtype`` casts the input first, so integers can be averaged).
    #[pyo3(signature = (dim=None, keepdim=false, dtype=None))]
    fn mean(
        &self,
        py: Python<'_>,
        dim: Option<&Obj<'_>>,
        keepdim: bool,
        dtype: Option<&Obj<'_>>,
    ) -> PyResult<PyTensor> {
        reduce::sum_or_mean(self, py, dim, keepdim, dtype, true)
    }

    /// ``max()``: the largest element, shape ``()``. ``max(dim, keepdim=False)``: the named
    /// tuple ``(values, indices)`` along ``dim``, that dim dropped (size 1 with ``keepdim``),
    /// ``indices`` int64. ``max(other)``: the elementwise maximum with a tensor, as
    /// ``maximum``.
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn max(&self, py: Python<'_>, dim: Option<&Obj<'_>>, keepdim: bool) -> PyResult<Py<PyAny>> {
        reduce::extreme(self, py, dim, keepdim, true)
    }

    /// ``min()``: the smallest element, shape ``()``. ``min(dim, keepdim=False)``: the named
    /// tuple ``(values, indices)`` along ``dim``, that dim dropped (size 1 with ``keepdim``),
    /// ``indices`` int64. ``min(other)``: the elementwise minimum with a tensor, as
    /// ``minimum``.
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn min(&self, py: Python<'_>, dim: Option<&Obj<'_>>, keepdim: bool) -> PyResult<Py<PyAny>> {
        reduce::extreme(self, py, dim, keepdim, false)
    }

    /// int64 index of the largest element along ``dim`` (of the flattened tensor when None,
    /// shape ``()``).
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn argmax(&self, py: Python<'_>, dim: Option<i64>, keepdim: bool) -> PyResult<PyTensor> {
        self.op(py, |v| ops::arg_extreme(v, dim, keepdim, true))
    }

    /// int64 index of the smallest element along ``dim`` (of the flattened tensor when None,
    /// shape ``()``).
    #[pyo3(signature = (dim=None, keepdim=false))]
    fn argmin(&self, py: Python<'_>, dim: Option<i64>, keepdim: bool) -> PyResult<PyTensor> {
        self.op(py, |v| ops::arg_extreme(v, dim, keepdim, false))
    }

    /// ``exp(x) / sum(exp(x))`` along ``dim`` (same shape); ``dtype`` casts the input.
    #[pyo3(signature = (dim, dtype=None))]
    fn softmax(&self, py: Python<'_>, dim: i64, dtype: Option<&Obj<'_>>) -> PyResult<PyTensor> {
        reduce::softmax(self, py, dim, dtype, ops::softmax)
    }

    /// ``log(softmax(x))`` along ``dim``, computed stably (same shape); ``dtype`` casts the
    /// input.
    #[pyo3(signature = (dim, dtype=None))]
    fn log_softmax(&self, py: Python<'_>, dim: i64, dtype: Option<&Obj<'_>>) -> PyResult<PyTensor> {
        reduce::softmax(self, py, dim, dtype, ops::log_softmax)
    }

    // ----- views and shape ----------------------------------------------------------------

    /// The same storage with a new shape (one size may be -1); needs compatible strides.
    /// ``view(2, 3)`` or ``view((2, 3))``.
    #[pyo3(signature = (*shape))]
    fn view(&self, py: Python<'_>, shape: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        let shape = parse_size(shape)?;
        self.op(py, |v| ops::view(v, &shape))
    }

    /// ``view(other.shape)``.
    fn view_as(&self, py: Python<'_>, other: &Bound<'_, PyTensor>) -> PyResult<PyTensor> {
        let shape = args::shape_of(other);
        self.op(py, |v| ops::view(v, &shape))
    }

    /// A tensor of the new shape (one size may be -1): a view when possible, else a copy.
    /// ``reshape(2, 3)`` or ``reshape((2, 3))``.
    #[pyo3(signature = (*shape))]
    fn reshape(&self, py: Python<'_>, shape: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        let shape = parse_size(shape)?;
        self.op(py, |v| ops::reshape(v, &shape))
    }

    /// ``reshape(other.shape)``.
    fn reshape_as(&self, py: Python<'_>, other: &Bound<'_, PyTensor>) -> PyResult<PyTensor> {
        let shape = args::shape_of(other);
        self.op(py, |v| ops::reshape(v, &shape))
    }

    /// Merge dims ``start_dim..=end_dim`` into one: ``(2, 3, 4).flatten() -> (24,)``.
    #[pyo3(signature = (start_dim=0, end_dim=-1))]
    #[pyo3(text_signature = "($self, start_dim=0, end_dim=-1)")]
    fn flatten(&self, py: Python<'_>, start_dim: i64, end_dim: i64) -> PyResult<PyTensor> {
        self.op(py, |v| ops::flatten(v, start_dim, end_dim))
    }

    /// Drop size-1 dims (all of them, or those in ``dim`` that have size 1).
    #[pyo3(signature = (dim=None))]
    fn squeeze(&self, py: Python<'_>, dim: Option<&Obj<'_>>) -> PyResult<PyTensor> {
        let dims = args::dims_arg(dim)?;
        self.op(py, |v| ops::squeeze(v, dims.as_deref()))
    }

    /// Insert a size-1 dim at ``dim``: ``(2, 3).unsqueeze(0) -> (1, 2, 3)``.
    fn unsqueeze(&self, py: Python<'_>, dim: i64) -> PyResult<PyTensor> {
        self.op(py, |v| ops::unsqueeze(v, dim))
    }

    /// The diagonal (``offset`` above the main one) of the planes of ``dim1`` and ``dim2``,
    /// as the last dim of a view: writes through it reach this tensor.
    #[pyo3(signature = (offset=0, dim1=0, dim2=1))]
    fn diagonal(&self, py: Python<'_>, offset: i64, dim1: i64, dim2: i64) -> PyResult<PyTensor> {
        self.op(py, |v| ops::diagonal(v, offset, dim1, dim2))
    }

    /// A view of the windows of ``size`` elements every ``step`` along ``dimension``, as a
    /// new last dim: ``arange(7.).unfold(0, 3, 2)`` is ``[[0, 1, 2], [2, 3, 4], [4, 5, 6]]``.
    fn unfold(&self, py: Python<'_>, dimension: i64, size: i64, step: i64) -> PyResult<PyTensor> {
        self.op(py, |v| ops::unfold(v, dimension, size, step))
    }

    /// Transpose of a tensor with at most 2 dims: ``(n, m) -> (m, n)``.
    fn t(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::t)
    }

    /// All dims reversed: ``(a, b, c) -> (c, b, a)``.
    #[getter(T)]
    fn get_t(&self, py: Python<'_>) -> PyResult<PyTensor> {
        let reversed: Vec<i64> = (0..self.var.shape().len() as i64).rev().collect();
        self.op(py, |v| ops::permute(v, &reversed))
    }

    /// A view with dims ``dim0`` and ``dim1`` swapped.
    fn transpose(&self, py: Python<'_>, dim0: i64, dim1: i64) -> PyResult<PyTensor> {
        self.op(py, |v| ops::transpose(v, dim0, dim1))
    }

    /// A view with the dims reordered: ``(a, b, c).permute(2, 0, 1) -> (c, a, b)``.
    #[pyo3(signature = (*dims))]
    fn permute(&self, py: Python<'_>, dims: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        let dims = parse_size(dims)?;
        self.op(py, |v| ops::permute(v, &dims))
    }

    /// A broadcast view: size-1 dims stretched, new leading dims added (-1 keeps a size).
    /// ``(3, 1).expand(2, 3, 4) -> (2, 3, 4)``.
    #[pyo3(signature = (*sizes))]
    fn expand(&self, py: Python<'_>, sizes: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        if sizes.is_empty() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "expand() missing 1 required positional arguments: \"size\"",
            ));
        }
        let sizes = parse_size(sizes)?;
        self.op(py, |v| ops::expand(v, &sizes))
    }

    /// ``expand(other.shape)``.
    fn expand_as(&self, py: Python<'_>, other: &Bound<'_, PyTensor>) -> PyResult<PyTensor> {
        let shape = args::shape_of(other);
        self.op(py, |v| ops::expand(v, &shape))
    }

    /// A dense copy in ``memory_format`` (row-major by default; ``self`` when it already is).
    #[pyo3(signature = (memory_format=None))]
    fn contiguous<'py>(
        slf: &Bound<'py, Self>,
        memory_format: Option<&Obj<'py>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Some(format) = memory_format {
            return memory_formats(slf.py(), "_contiguous", (slf, format), None);
        }
        Self::op_or_self(slf, ops::contiguous)
    }

    /// A copy with its own storage (records ``CloneBackward0``); ``preserve_format`` (the
    /// default) keeps a channels-last layout.
    #[pyo3(signature = (*, memory_format=None))]
    fn clone<'py>(
        slf: &Bound<'py, Self>,
        memory_format: Option<&Obj<'py>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        if let Some(format) = memory_format {
            return memory_formats(py, "_clone", (slf, format), None);
        }
        let out = Bound::new(py, slf.get().op(py, ops::clone_preserving)?)?.into_any();
        match slf.get().var.with_tensor(channels_last_format) {
            Some(format) => memory_formats(py, "_into_named", (out, format), None),
            None => Ok(out),
        }
    }

    // ----- indexing -----------------------------------------------------------------------

    fn __getitem__(&self, py: Python<'_>, key: &Obj<'_>) -> PyResult<PyTensor> {
        shape::getitem(self, py, key)
    }
    fn __setitem__(&self, py: Python<'_>, key: &Obj<'_>, value: &Obj<'_>) -> PyResult<()> {
        shape::setitem(self, py, key, value)
    }

    // ----- in-place -----------------------------------------------------------------------

    /// ``self += alpha * other``; ``other`` broadcasts to ``self``'s shape.
    #[pyo3(signature = (other, alpha=None))]
    fn add_<'py>(
        slf: &Bound<'py, Self>,
        other: &Obj<'py>,
        alpha: Option<&Obj<'py>>,
    ) -> PyResult<Bound<'py, Self>> {
        arith::in_place(slf, other, alpha, ops::add_)
    }

    /// ``self -= alpha * other``; ``other`` broadcasts to ``self``'s shape.
    #[pyo3(signature = (other, alpha=None))]
    fn sub_<'py>(
        slf: &Bound<'py, Self>,
        other: &Obj<'py>,
        alpha: Option<&Obj<'py>>,
    ) -> PyResult<Bound<'py, Self>> {
        arith::refuse_bool_sub(slf.get(), other)?;
        arith::in_place(slf, other, alpha, ops::sub_)
    }

    /// ``self *= other``; ``other`` broadcasts to ``self``'s shape.
    fn mul_<'py>(slf: &Bound<'py, Self>, other: &Obj<'py>) -> PyResult<Bound<'py, Self>> {
        arith::in_place(slf, other, None, ops::mul_)
    }

    /// ``self /= other``; ``other`` broadcasts to ``self``'s shape.
    fn div_<'py>(slf: &Bound<'py, Self>, other: &Obj<'py>) -> PyResult<Bound<'py, Self>> {
        arith::in_place(slf, other, None, ops::div_)
    }

    /// Fill with zeros.
    fn zero_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        Self::in_place(slf, ops::zero_)
    }

    /// Fill with ``value`` (a number or a one-element tensor).
    fn fill_<'py>(slf: &Bound<'py, Self>, value: &Obj<'py>) -> PyResult<Bound<'py, Self>> {
        arith::fill(slf, value)
    }

    /// Copy ``src`` (broadcast to ``self``'s shape, cast to its dtype) into ``self``.
    #[pyo3(signature = (src, non_blocking=false))]
    fn copy_<'py>(
        slf: &Bound<'py, Self>,
        src: &Bound<'py, PyTensor>,
        non_blocking: bool,
    ) -> PyResult<Bound<'py, Self>> {
        let _ = non_blocking; // copies are queued on the device's stream either way
        let (v, src) = (&slf.get().var, &src.get().var);
        gil::run(slf.py(), Work::of([v, src]), || ops::copy_(v, src))?;
        Ok(slf.clone())
    }

    /// Clip into ``[min, max]`` in place.
    #[pyo3(signature = (min=None, max=None))]
    fn clamp_<'py>(
        slf: &Bound<'py, Self>,
        min: Option<&Obj<'py>>,
        max: Option<&Obj<'py>>,
    ) -> PyResult<Bound<'py, Self>> {
        arith::clamp_(slf, min, max)
    }

    fn __iadd__(slf: &Bound<'_, Self>, other: &Obj<'_>) -> PyResult<()> {
        arith::in_place(slf, other, None, ops::add_).map(drop)
    }
    fn __isub__(slf: &Bound<'_, Self>, other: &Obj<'_>) -> PyResult<()> {
        arith::refuse_bool_sub(slf.get(), other)?;
        arith::in_place(slf, other, None, ops::sub_).map(drop)
    }
    fn __imul__(slf: &Bound<'_, Self>, other: &Obj<'_>) -> PyResult<()> {
        arith::in_place(slf, other, None, ops::mul_).map(drop)
    }
    fn __itruediv__(slf: &Bound<'_, Self>, other: &Obj<'_>) -> PyResult<()> {
        arith::in_place(slf, other, None, ops::div_).map(drop)
    }

    // ----- autograd extras (inference mode) ---------------------------------------------

    /// True for a tensor made inside ``inference_mode`` (or a view of one).
    fn is_inference(&self) -> bool {
        self.var.tensor().storage().is_inference()
    }

    // ----- elementwise math of issue 11 (bodies in `math.rs`) ------------------------------

    /// Elementwise tangent, in radians (same shape).
    fn tan(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::tan)
    }

    /// Elementwise arcsine (same shape; NaN outside ``[-1, 1]``).
    fn asin(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::asin)
    }

    /// Elementwise arccosine (same shape; NaN outside ``[-1, 1]``).
    fn acos(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::acos)
    }

    /// Elementwise arctangent (same shape).
    fn atan(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::atan)
    }

    /// Elementwise hyperbolic sine (same shape).
    fn sinh(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::sinh)
    }

    /// Elementwise hyperbolic cosine (same shape).
    fn cosh(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::cosh)
    }

    /// Elementwise inverse hyperbolic sine (same shape).
    fn asinh(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::asinh)
    }

    /// Elementwise inverse hyperbolic cosine (same shape; NaN below 1).
    fn acosh(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::acosh)
    }

    /// Elementwise inverse hyperbolic tangent (same shape; NaN outside ``[-1, 1]``).
    fn atanh(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::atanh)
    }

    /// Elementwise error function (same shape).
    fn erf(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::erf)
    }

    /// Elementwise complementary error function ``1 - erf(self)`` (same shape).
    fn erfc(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::erfc)
    }

    /// Elementwise inverse error function (same shape; NaN outside ``[-1, 1]``).
    fn erfinv(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::erfinv)
    }

    /// Elementwise ``ln |Γ(self)|`` (same shape).
    fn lgamma(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::lgamma)
    }

    /// Elementwise digamma ``ψ(self)``, the derivative of ``lgamma`` (same shape).
    fn digamma(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::digamma)
    }

    /// Elementwise ``ψ⁽ⁿ⁾(self)``, the ``n``-th derivative of ``digamma`` (``n >= 0``).
    fn polygamma(&self, py: Python<'_>, n: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        let n = convert::strict_int(n, "polygamma", "n", 1)?;
        self.op(py, |v| ops::polygamma(n, v))
    }

    /// Elementwise base-2 logarithm (same shape).
    fn log2(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::log2)
    }

    /// Elementwise base-10 logarithm (same shape).
    fn log10(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::log10)
    }

    /// Elementwise ``log(1 + self)``, accurate near 0 (same shape).
    fn log1p(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::log1p)
    }

    /// Elementwise ``exp(self) - 1``, accurate near 0 (same shape).
    fn expm1(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::expm1)
    }

    /// Elementwise ``2 ** self`` (same shape).
    fn exp2(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::exp2)
    }

    /// Elementwise ``1 / sqrt(self)`` (same shape).
    fn rsqrt(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::rsqrt)
    }

    /// Elementwise ``1 / self`` (same shape; integers give floats).
    fn reciprocal(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::reciprocal)
    }

    /// Elementwise ``self * self`` (same shape; bool gives int64).
    fn square(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::square)
    }

    /// Elementwise sign: -1, 0 or 1 (same shape and dtype; 0 at NaN, as PyTorch).
    fn sign(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::sign)
    }

    /// Elementwise largest whole number ``<= self`` (same shape and dtype).
    fn floor(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::floor)
    }

    /// Elementwise smallest whole number ``>= self`` (same shape and dtype).
    fn ceil(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::ceil)
    }

    /// Elementwise whole part, rounded toward zero (same shape and dtype).
    fn trunc(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::trunc)
    }

    /// Elementwise fractional part ``self - trunc(self)`` (same shape; floats).
    fn frac(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.op(py, ops::frac)
    }

    /// Elementwise rounding to the nearest whole number, ties to even (same shape and dtype);
    /// ``decimals`` rounds to that many decimal places (negative: tens, hundreds, ...).
    #[pyo3(signature = (decimals=0))]
    fn round(&self, py: Python<'_>, decimals: i64) -> PyResult<PyTensor> {
        self.op(py, |v| ops::round(v, decimals))
    }

    /// ``round(decimals)`` in place.
    #[pyo3(signature = (decimals=0))]
    fn round_<'py>(slf: &Bound<'py, Self>, decimals: i64) -> PyResult<Bound<'py, Self>> {
        Self::in_place(slf, |v| ops::rebase(v, &[], |p, _| ops::round(p, decimals)))
    }

    /// ``tan()`` in place.
    fn tan_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::tan)
    }

    /// ``asin()`` in place.
    fn asin_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::asin)
    }

    /// ``acos()`` in place.
    fn acos_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::acos)
    }

    /// ``atan()`` in place.
    fn atan_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::atan)
    }

    /// ``sinh()`` in place.
    fn sinh_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::sinh)
    }

    /// ``cosh()`` in place.
    fn cosh_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::cosh)
    }

    /// ``asinh()`` in place.
    fn asinh_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        Self::in_place(slf, ops::asinh_)
    }

    /// ``acosh()`` in place.
    fn acosh_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        Self::in_place(slf, ops::acosh_)
    }

    /// ``atanh()`` in place.
    fn atanh_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        Self::in_place(slf, ops::atanh_)
    }

    /// ``erf()`` in place.
    fn erf_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::erf)
    }

    /// ``erfc()`` in place.
    fn erfc_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::erfc)
    }

    /// ``erfinv()`` in place.
    fn erfinv_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::erfinv)
    }

    /// ``lgamma()`` in place.
    fn lgamma_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::lgamma)
    }

    /// ``digamma()`` in place.
    fn digamma_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::digamma)
    }

    /// ``polygamma(n)`` in place.
    fn polygamma_<'py>(slf: &Bound<'py, Self>, n: &Bound<'_, PyAny>) -> PyResult<Bound<'py, Self>> {
        let n = convert::strict_int(n, "polygamma_", "n", 1)?;
        Self::in_place(slf, |v| {
            ops::rebase(v, &[], |p, _| ops::polygamma_in_place(n, p))
        })
    }

    /// ``log2()`` in place.
    fn log2_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::log2)
    }

    /// ``log10()`` in place.
    fn log10_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::log10)
    }

    /// ``log1p()`` in place.
    fn log1p_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::log1p)
    }

    /// ``expm1()`` in place.
    fn expm1_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::expm1)
    }

    /// ``exp2()`` in place.
    fn exp2_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::exp2)
    }

    /// ``rsqrt()`` in place.
    fn rsqrt_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::rsqrt)
    }

    /// ``reciprocal()`` in place.
    fn reciprocal_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::reciprocal)
    }

    /// ``square()`` in place.
    fn square_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::square)
    }

    /// ``sign()`` in place.
    fn sign_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::sign)
    }

    /// ``floor()`` in place.
    fn floor_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::floor)
    }

    /// ``ceil()`` in place.
    fn ceil_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::ceil)
    }

    /// ``trunc()`` in place.
    fn trunc_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::trunc)
    }

    /// ``frac()`` in place.
    fn frac_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::frac)
    }

    /// ``neg()`` in place.
    fn neg_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::neg)
    }

    /// ``abs()`` in place.
    fn abs_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::abs)
    }

    /// ``exp()`` in place.
    fn exp_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::exp)
    }

    /// ``log()`` in place.
    fn log_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::log)
    }

    /// ``sqrt()`` in place.
    fn sqrt_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::sqrt)
    }

    /// ``tanh()`` in place.
    fn tanh_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::tanh)
    }

    /// ``sin()`` in place.
    fn sin_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::sin)
    }

    /// ``cos()`` in place.
    fn cos_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::cos)
    }

    /// ``sigmoid()`` in place.
    fn sigmoid_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::sigmoid)
    }

    /// ``relu()`` in place.
    fn relu_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        math::unary_(slf, ops::relu)
    }

    /// Elementwise arctangent of ``self / other`` in the correct quadrant (broadcast shape).
    fn atan2(&self, py: Python<'_>, other: &Obj<'_>) -> PyResult<PyTensor> {
        math::binary(self, py, other, math::atan2)
    }

    /// ``atan2(other)`` in place; ``other`` broadcasts to ``self``'s shape.
    fn atan2_<'py>(slf: &Bound<'py, Self>, other: &Obj<'py>) -> PyResult<Bound<'py, Self>> {
        math::binary_(slf, other, math::atan2)
    }

    /// Elementwise remainder of ``self / other`` with ``self``'s sign (C's ``fmod``; broadcast shape).
    fn fmod(&self, py: Python<'_>, other: &Obj<'_>) -> PyResult<PyTensor> {
        math::binary(self, py, other, math::fmod)
    }

    /// ``fmod(other)`` in place; ``other`` broadcasts to ``self``'s shape.
    fn fmod_<'py>(slf: &Bound<'py, Self>, other: &Obj<'py>) -> PyResult<Bound<'py, Self>> {
        math::binary_(slf, other, math::fmod)
    }

    /// Elementwise remainder of ``self / other`` with ``other``'s sign (Python's ``%``; broadcast shape).
    fn remainder(&self, py: Python<'_>, other: &Obj<'_>) -> PyResult<PyTensor> {
        math::binary(self, py, other, math::remainder)
    }

    /// ``remainder(other)`` in place; ``other`` broadcasts to ``self``'s shape.
    fn remainder_<'py>(slf: &Bound<'py, Self>, other: &Obj<'py>) -> PyResult<Bound<'py, Self>> {
        math::binary_(slf, other, math::remainder)
    }

    /// Elementwise ``floor(self / other)`` (Python's ``//``; broadcast shape). Integer division by zero raises RuntimeError.
    fn floor_divide(&self, py: Python<'_>, other: &Obj<'_>) -> PyResult<PyTensor> {
        math::binary(self, py, other, math::floor_divide)
    }

    /// ``floor_divide(other)`` in place; ``other`` broadcasts to ``self``'s shape.
    fn floor_divide_<'py>(slf: &Bound<'py, Self>, other: &Obj<'py>) -> PyResult<Bound<'py, Self>> {
        math::binary_(slf, other, math::floor_divide)
    }

    /// Elementwise ``sqrt(self ** 2 + other ** 2)`` (broadcast shape).
    fn hypot(&self, py: Python<'_>, other: &Obj<'_>) -> PyResult<PyTensor> {
        math::binary(self, py, other, math::hypot)
    }

    /// ``hypot(other)`` in place; ``other`` broadcasts to ``self``'s shape.
    fn hypot_<'py>(slf: &Bound<'py, Self>, other: &Obj<'py>) -> PyResult<Bound<'py, Self>> {
        math::binary_(slf, other, math::hypot)
    }

    /// ``pow(exponent)`` in place with a tensor ``exponent`` (broadcast to ``self``'s shape):
    /// PyTorch's ``PowBackward1``, reading a copy of the old values, saving the written
    /// tensor.
    fn pow_<'py>(
        slf: &Bound<'py, Self>,
        exponent: &Bound<'py, Self>,
    ) -> PyResult<Bound<'py, Self>> {
        math::binary_(slf, exponent.as_any(), |x, e, _| ops::pow(x, e))
    }

    /// Elementwise ``log(exp(self) + exp(other))`` without overflow (broadcast shape).
    fn logaddexp(&self, py: Python<'_>, other: &Obj<'_>) -> PyResult<PyTensor> {
        math::binary(self, py, other, |a: &Var, b: &Var, _| ops::logaddexp(a, b))
    }

    /// ``self + weight * (end - self)`` (broadcast shape); ``weight`` a tensor or a number.
    fn lerp(
        &self,
        py: Python<'_>,
        end: &Bound<'_, PyTensor>,
        weight: &Obj<'_>,
    ) -> PyResult<PyTensor> {
        math::lerp(self, py, end, weight)
    }

    /// ``lerp(end, weight)`` in place.
    fn lerp_<'py>(
        slf: &Bound<'py, Self>,
        end: &Bound<'py, PyTensor>,
        weight: &Obj<'py>,
    ) -> PyResult<Bound<'py, Self>> {
        math::lerp_(slf, end, weight)
    }

    fn __mod__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        math::operator(self, py, o, false, math::remainder)
    }
    fn __rmod__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        math::operator(self, py, o, true, math::rremainder)
    }
    fn __floordiv__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        math::operator(self, py, o, false, math::floor_divide)
    }
    fn __rfloordiv__(&self, py: Python<'_>, o: &Obj<'_>) -> Returned {
        math::operator(self, py, o, true, math::floor_divide)
    }
    fn __imod__(slf: &Bound<'_, Self>, other: &Obj<'_>) -> PyResult<()> {
        math::binary_(slf, other, math::remainder).map(drop)
    }
    fn __ifloordiv__(slf: &Bound<'_, Self>, other: &Obj<'_>) -> PyResult<()> {
        math::binary_(slf, other, math::floor_divide).map(drop)
    }
}

/// A call with a ``memory_format`` argument: ``rustgrad._memory_format.<name>`` does the
/// layout work (channels-last strides) in Python. The calls without one, nearly all, stay
/// here with no Python frame.
fn memory_formats<'py>(
    py: Python<'py>,
    name: &str,
    args: impl pyo3::call::PyCallArgs<'py>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    py.import("rustgrad._memory_format")?
        .getattr(name)?
        .call(args, kwargs)
}

/// The channels-last format `t` is laid out in, if any: a strided 4-d (5-d) tensor whose
/// strides are the dense NHWC (NDHWC) ones, dims of size 1 aside (PyTorch's check). `clone`
/// keeps such a layout (PyTorch's `preserve_format`).
fn channels_last_format(t: &crate::tensor::Tensor) -> Option<&'static str> {
    let (shape, strides) = (t.shape(), &t.layout().strides);
    let (order, name): (&[usize], _) = match shape.len() {
        4 => (&[0, 2, 3, 1], "channels_last"),
        5 => (&[0, 2, 3, 4, 1], "channels_last_3d"),
        _ => return None,
    };
    if t.is_contiguous() {
        return None;
    }
    let mut step = 1usize;
    for &d in order.iter().rev() {
        if shape[d] != 1 && strides[d] != step as isize {
            return None;
        }
        step = step.checked_mul(shape[d].max(1))?;
    }
    Some(name)
}
