//! The `Tensor` class (also `rustgrad.autograd.Variable`): argument handling around the ops
//! in `crate::ops`.
//!
//! Layout:
//! - `methods.rs`: the one `#[pymethods]` block, i.e. the class's whole Python surface, by
//!   topic. Each entry is the method's doc (its `__doc__`, which `scripts/sync_stubs.py`
//!   copies into `_core.pyi`), its signature and a body of a line or two.
//! - `args.rs`: reading arguments (operands, dims, tensor lists) and cached Python objects.
//! - `arith.rs`: operators and elementwise math, comparisons, logical and in-place ops.
//! - `math.rs`: the further elementwise math (`%`, `//`, `atan2`, `lerp`, ...) and in-place
//!   forms of unary ops.
//! - `reduce.rs`: sums, means, max/min, softmax.
//! - `shape.rs`: views, indexing, iteration.
//! - `interop.rs`: dtype and device moves, Python scalars, lists and NumPy arrays.
//! - `autograd.rs`: `.grad`, `.data`, `requires_grad`, `backward`, copies.
//!
//! Why one `#[pymethods]` block rather than one per topic: several blocks need PyO3's
//! `multiple-pymethods` feature, which registers each block at load time through the
//! `inventory` crate (a new dependency, life-before-main linker sections, not supported on
//! every target) and a change to `Cargo.toml`, outside the bindings. One block of short
//! bodies states every method once, with its doc and signature side by side, and keeps the
//! longer bodies in the topic modules above.
//!
//! Every call into the core goes through [`super::gil::run`] (via [`PyTensor::op`] and
//! friends), which decides whether the GIL is released.

mod args;
mod arith;
mod autograd;
mod interop;
mod math;
mod methods;
pub(crate) mod reduce;
mod shape;

use pyo3::prelude::*;
use pyo3::types::PyWeakrefReference;

use super::gil::{self, Work};
use crate::autograd::Var;
use crate::error::Result;

pub use args::{size_object, tensor_list};

/// Any Python object given as an argument.
type Obj<'py> = Bound<'py, PyAny>;

/// An n-dimensional array with autograd support (also ``rustgrad.autograd.Variable``).
///
/// ``Tensor(2, 3)`` is a float32 tensor of shape ``(2, 3)`` filled with zeros (``Tensor()``
/// has shape ``(0,)``); ``Tensor(data)`` copies a list, tuple or NumPy array into float32,
/// like ``torch.Tensor``. Prefer :func:`tensor`, which infers the dtype.
///
/// Operators broadcast like NumPy: ``+ - * / **`` take tensors, Python numbers (which take
/// the tensor's dtype kind) or NumPy arrays, ``@`` is ``matmul``, ``+=`` and the like work in
/// place. ``== != < <= > >=`` give bool tensors of the broadcast shape (no gradient);
/// ``& | ^ ~`` work on bool tensors only.
///
/// ``t[key]`` takes ints, slices, None (new axis), ``...``, integer or bool tensors and lists
/// of indices: basic indexing gives views, tensor / list / mask indexing gives copies, as in
/// PyTorch. ``t[key] = value`` writes ``value`` (broadcast) into the indexed elements.
///
/// ``len(t)`` is the size of dim 0 and ``iter(t)`` yields ``t[0], t[1], ...`` (TypeError for
/// a 0-d tensor); ``float(t)``, ``int(t)`` and ``bool(t)`` need exactly one element. Tensors
/// hash by identity, so they work as dict keys although ``==`` is elementwise.
#[pyclass(name = "Tensor", module = "rustgrad", frozen, weakref, subclass)]
pub struct PyTensor {
    pub var: Var,
}

fn wrap(r: Result<Var>) -> PyResult<PyTensor> {
    Ok(PyTensor::wrap(r?))
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

    /// [`Self::register`], unless its variable already has a live Python object.
    pub fn register_if_unknown(obj: &Bound<'_, PyTensor>) -> PyResult<()> {
        let py = obj.py();
        let live = obj.get().var.with_handle(|h| {
            h.as_ref()
                .and_then(|b| b.downcast_ref::<Py<PyWeakrefReference>>())
                .is_some_and(|w| w.bind(py).upgrade().is_some())
        });
        if live {
            return Ok(());
        }
        Self::register(obj)
    }

    /// `slf` itself when an op handed back the same variable, else a new object.
    fn same_or_new<'py>(slf: &Bound<'py, Self>, r: Var) -> PyResult<Bound<'py, PyAny>> {
        if r.ptr_eq(&slf.get().var) {
            return Ok(slf.clone().into_any());
        }
        Ok(Bound::new(slf.py(), PyTensor::wrap(r))?.into_any())
    }

    /// `f(self)`, a call into the core (through [`gil::run`]), as a new tensor.
    fn op(&self, py: Python<'_>, f: impl FnOnce(&Var) -> Result<Var> + Send) -> PyResult<Self> {
        let v = &self.var;
        wrap(gil::run(py, Work::of([v]), || f(v)))
    }

    /// `f(self, other)`, a call into the core (through [`gil::run`]), as a new tensor.
    fn op2(
        &self,
        py: Python<'_>,
        other: &Var,
        f: impl FnOnce(&Var, &Var) -> Result<Var> + Send,
    ) -> PyResult<Self> {
        let v = &self.var;
        wrap(gil::run(py, Work::of([v, other]), || f(v, other)))
    }

    /// `f(self)` for an in-place op (through [`gil::run`]); `self` back.
    fn in_place<'py>(
        slf: &Bound<'py, Self>,
        f: impl FnOnce(&Var) -> Result<()> + Send,
    ) -> PyResult<Bound<'py, Self>> {
        let v = &slf.get().var;
        gil::run(slf.py(), Work::of([v]), || f(v))?;
        Ok(slf.clone())
    }

    /// `f(self)` for an op that may hand back this very variable (casts, moves,
    /// `contiguous`): then this object, else a new one.
    fn op_or_self<'py>(
        slf: &Bound<'py, Self>,
        f: impl FnOnce(&Var) -> Result<Var> + Send,
    ) -> PyResult<Bound<'py, PyAny>> {
        let v = &slf.get().var;
        let r = gil::run(slf.py(), Work::of([v]), || f(v))?;
        Self::same_or_new(slf, r)
    }
}
