//! `grad_fn` objects: the nodes of the recorded graph, as Python sees them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType, PyWeakrefMethods, PyWeakrefReference};

use super::tensor::PyTensor;
use crate::autograd::arena::{self, EdgeTarget};
use crate::autograd::{NodeRef, Var};
use pyo3::exceptions::PyAttributeError;

use super::autograd_extras::PySavedTensor;

/// The tensors each node saves, by PyTorch's names (`grad_fn._saved_<name>`), in the order
/// the op saves them (`src/ops/`).
const SAVED_NAMES: &[(&str, &[&str])] = &[
    ("AbsBackward0", &["self"]),
    ("AddmmBackward0", &["mat1", "mat2"]),
    ("AmaxBackward0", &["self", "result"]),
    ("AminBackward0", &["self", "result"]),
    ("BaddbmmBackward0", &["batch1", "batch2"]),
    ("BmmBackward0", &["self", "mat2"]),
    ("ClampBackward1", &["self"]),
    ("CosBackward0", &["self"]),
    ("DivBackward0", &["self", "other"]),
    ("DotBackward0", &["self", "tensor"]),
    ("ExpBackward0", &["result"]),
    ("LogBackward0", &["self"]),
    ("LogSoftmaxBackward0", &["result"]),
    ("MaxBackward0", &["indices"]),
    ("MaxBackward1", &["self", "result"]),
    ("MaximumBackward0", &["self", "other"]),
    ("MinBackward0", &["indices"]),
    ("MinBackward1", &["self", "result"]),
    ("MinimumBackward0", &["self", "other"]),
    ("MmBackward0", &["self", "mat2"]),
    ("MulBackward0", &["self", "other"]),
    ("MvBackward0", &["self", "vec"]),
    ("PowBackward0", &["self"]),
    ("PowBackward1", &["self", "exponent", "result"]),
    ("PowBackward2", &["result"]),
    ("ReciprocalBackward0", &["result"]),
    ("NllLossBackward0", &["self", "target"]),
    ("ReluBackward0", &["result"]),
    ("SigmoidBackward0", &["result"]),
    ("SigmoidBackwardBackward0", &["grad_output", "output"]),
    ("SinBackward0", &["self"]),
    ("SoftmaxBackward0", &["result"]),
    ("SqrtBackward0", &["result"]),
    ("TanhBackward0", &["result"]),
    ("TanhBackwardBackward0", &["grad_output", "output"]),
    ("ThresholdBackwardBackward0", &["self"]),
    ("WhereBackward0", &["condition"]),
];

fn saved_names(node: &str) -> &'static [&'static str] {
    SAVED_NAMES
        .iter()
        .find(|(n, _)| *n == node)
        .map(|(_, names)| *names)
        .unwrap_or(&[])
}

/// A recorded op of the backward graph (``t.grad_fn``), e.g. ``AddBackward0``.
///
/// Each node is an instance of a subclass named after it (``type(t.grad_fn).__name__`` is
/// ``"AddBackward0"``, as in PyTorch). Not constructible. Two ``Node`` objects for the same
/// graph node compare equal.
#[pyclass(name = "Node", module = "rustgrad.autograd", frozen, subclass, weakref)]
pub struct PyNode {
    pub node: NodeRef,
}

thread_local! {
    /// The node `PyNode::object` hands to `__new__`: Python constructs the subclass, so the
    /// Rust value cannot travel as an argument a user could also pass.
    static PENDING: RefCell<Option<NodeRef>> = const { RefCell::new(None) };
}

/// One class per node name, made on first sight (`MulBackward0`, a custom `MyFnBackward`).
static NODE_TYPES: PyOnceLock<Py<PyDict>> = PyOnceLock::new();

/// A graph node as Python sees it: one object per node while that object lives, so that
/// `y.grad_fn is y.grad_fn`, as in PyTorch (traversals deduplicate by `id()`).
#[derive(Hash, PartialEq, Eq)]
enum Seen {
    Node(arena::NodeId),
    /// An `AccumulateGrad`, by its leaf's address (alive while the object is).
    Leaf(usize),
}

/// The live objects of [`Seen`] nodes (weak: a node's object goes when Python drops it), and
/// the size at which dead entries are next swept out.
struct Objects(HashMap<Seen, Py<PyWeakrefReference>>, usize);

static SEEN: LazyLock<Mutex<Objects>> = LazyLock::new(|| Mutex::new(Objects(HashMap::new(), 1024)));

/// The live object of `key`, else `make()`'s, remembered.
fn remembered<'py>(
    py: Python<'py>,
    key: Seen,
    make: impl FnOnce() -> PyResult<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let lock = || SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(live) = lock().0.get(&key).and_then(|w| w.bind(py).upgrade()) {
        return Ok(live);
    }
    let made = make()?; // (unlocked: it runs Python)
    let weak = PyWeakrefReference::new(&made)?.unbind();
    let mut seen = lock();
    seen.0.insert(key, weak);
    if seen.0.len() >= seen.1 {
        seen.0.retain(|_, w| w.bind(py).upgrade().is_some());
        seen.1 = (2 * seen.0.len()).max(1024);
    }
    Ok(made)
}

impl PyNode {
    /// `node` as Python sees it: an instance of the subclass of `Node` named after it (the
    /// same object while it lives).
    pub fn object(py: Python<'_>, node: NodeRef) -> PyResult<Bound<'_, PyAny>> {
        remembered(py, Seen::Node(node.id()), || PyNode::made(py, node))
    }

    fn made(py: Python<'_>, node: NodeRef) -> PyResult<Bound<'_, PyAny>> {
        let name = node.name();
        let types = NODE_TYPES
            .get_or_init(py, || PyDict::new(py).unbind())
            .bind(py);
        let class = match types.get_item(&name)? {
            Some(class) => class,
            None => {
                let namespace = PyDict::new(py);
                // No `__dict__`: instances keep `Node`'s layout. PyTorch's classes show as
                // `<class 'MulBackward0'>`, with no module.
                namespace.set_item("__slots__", PyTuple::empty(py))?;
                namespace.set_item("__module__", "builtins")?;
                let class = py.get_type::<PyType>().call1((
                    &name,
                    (py.get_type::<PyNode>(),),
                    namespace,
                ))?;
                types.set_item(&name, &class)?;
                class
            }
        };
        PENDING.with(|p| *p.borrow_mut() = Some(node));
        let made = class.call0();
        PENDING.with(|p| p.borrow_mut().take());
        made
    }
}

#[pymethods]
impl PyNode {
    #[new]
    #[classmethod]
    fn new(cls: &Bound<'_, PyType>) -> PyResult<Self> {
        match PENDING.with(|p| p.borrow_mut().take()) {
            Some(node) => Ok(PyNode { node }),
            None => Err(PyTypeError::new_err(format!(
                "cannot create '{}' instances",
                cls.name()?
            ))),
        }
    }

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
                    EdgeTarget::Node(id) => PyNode::object(py, NodeRef::share(id))?,
                    EdgeTarget::Leaf(v) => remembered(py, Seen::Leaf(v.key()), || {
                        Ok(Bound::new(py, PyAccumulateGrad { var: v })?.into_any())
                    })?,
                };
                PyTuple::new(py, [f, 0i64.into_pyobject(py)?.into_any()])
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyTuple::new(py, items)
    }

    /// ``_saved_<name>`` (the saved tensor, or None where none was saved) and
    /// ``_raw_saved_<name>`` (a ``SavedTensor``) for the tensors this node saved, by
    /// PyTorch's names.
    fn __getattr__(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
        let node = self.node.name();
        let names = saved_names(&node);
        let find = |field: &str| names.iter().position(|n| *n == field);
        if let Some(index) = name.strip_prefix("_raw_saved_").and_then(find) {
            let raw = PySavedTensor {
                node: self.node.clone(),
                index,
            };
            return Ok(Bound::new(py, raw)?.into_any().unbind());
        }
        if let Some(index) = name.strip_prefix("_saved_").and_then(find) {
            let saved = arena::saved_at(self.node.id(), index)?;
            return Ok(match saved {
                Some(v) => PyTensor::object(py, v)?.into_any().unbind(),
                None => py.None(),
            });
        }
        Err(PyAttributeError::new_err(format!(
            "'{node}' object has no attribute '{name}'"
        )))
    }

    /// The node's attributes, with its saved tensors' names.
    fn __dir__(slf: &Bound<'_, Self>) -> PyResult<Vec<String>> {
        let mut names: Vec<String> = slf
            .get_type()
            .dir()?
            .iter()
            .map(|n| n.to_string())
            .collect();
        for field in saved_names(&slf.get().node.name()) {
            names.push(format!("_saved_{field}"));
            names.push(format!("_raw_saved_{field}"));
        }
        names.sort();
        Ok(names)
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
#[pyclass(name = "AccumulateGrad", module = "rustgrad.autograd", frozen, weakref)]
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
