//! `grad_fn` objects: the nodes of the recorded graph, as Python sees them.

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use super::tensor::PyTensor;
use crate::autograd::arena::{self, EdgeTarget};
use crate::autograd::{NodeRef, Var};

/// A recorded op of the backward graph (``t.grad_fn``), e.g. ``AddBackward0``.
///
/// Not constructible. Two ``Node`` objects for the same graph node compare equal.
#[pyclass(name = "Node", module = "rustgrad.autograd", frozen)]
pub struct PyNode {
    pub node: NodeRef,
}

#[pymethods]
impl PyNode {
    /// The node's PyTorch name, e.g. ``"AddBackward0"``.
    fn name(&self) -> String {
        self.node.name()
    }

    fn __repr__(slf: &Bound<'_, Self>) -> String {
        format!(
            "<{} object at {:#x}>",
            slf.get().node.name(),
            slf.as_ptr() as usize
        )
    }

    /// One ``(node, 0)`` pair per input of the op, in input order.
    ///
    /// ``node`` is an ``AccumulateGrad`` for a leaf that requires grad, a ``Node`` for an
    /// intermediate result, and None for an input that needs no gradient.
    #[getter]
    fn next_functions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let items = arena::node_edges(self.node.id())
            .into_iter()
            .map(|e| -> PyResult<Bound<'py, PyTuple>> {
                let f: Bound<'py, PyAny> = match e.target {
                    EdgeTarget::None => py.None().into_bound(py),
                    EdgeTarget::Node(id) => Bound::new(
                        py,
                        PyNode {
                            node: NodeRef::share(id),
                        },
                    )?
                    .into_any(),
                    EdgeTarget::Leaf(v) => Bound::new(py, PyAccumulateGrad { var: v })?.into_any(),
                };
                PyTuple::new(py, [f, 0i64.into_pyobject(py)?.into_any()])
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyTuple::new(py, items)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyNode>()
            .map(|o| o.get().node == self.node)
            .unwrap_or(false)
    }

    fn __hash__(&self) -> u64 {
        let id = self.node.id();
        // A stable hash of the arena id.
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        id.hash(&mut h);
        h.finish()
    }
}

/// The graph node that accumulates into a leaf's ``.grad``. Not constructible.
#[pyclass(name = "AccumulateGrad", module = "rustgrad.autograd", frozen)]
pub struct PyAccumulateGrad {
    var: Var,
}

#[pymethods]
impl PyAccumulateGrad {
    /// Always ``"torch::autograd::AccumulateGrad"``.
    fn name(&self) -> &'static str {
        "torch::autograd::AccumulateGrad"
    }

    fn __repr__(slf: &Bound<'_, Self>) -> String {
        format!("<AccumulateGrad object at {:#x}>", slf.as_ptr() as usize)
    }

    /// The leaf tensor this node accumulates into (the very object, while it lives).
    #[getter]
    fn variable<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTensor>> {
        PyTensor::object(py, self.var.clone())
    }

    /// Always empty: a leaf has no inputs.
    #[getter]
    fn next_functions<'py>(&self, py: Python<'py>) -> Bound<'py, PyTuple> {
        PyTuple::empty(py)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyAccumulateGrad>()
            .map(|o| o.get().var.ptr_eq(&self.var))
            .unwrap_or(false)
    }

    fn __hash__(&self) -> u64 {
        self.var.key() as u64
    }
}
