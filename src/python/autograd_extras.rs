//! Bindings for the autograd extras: inference mode, saved-tensor hooks (global and per saved
//! tensor) and the profiler's event record.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use parking_lot::Mutex;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::wrap_pyfunction;

use super::function::foreign;
use super::tensor::PyTensor;
use crate::autograd::arena::{self, PackedVar, SavedHooks};
use crate::autograd::{NodeRef, Var};
use crate::error::Result;
use crate::tensor::storage;

/// Whether ``inference_mode`` is on in this thread.
#[pyfunction]
fn is_inference_mode_enabled() -> bool {
    storage::is_inference_mode()
}

/// Switch inference mode on this thread (``inference_mode`` calls this; it also switches
/// grad mode off).
#[pyfunction]
fn _set_inference_mode(enabled: bool) {
    storage::set_inference_mode(enabled);
}

// ----- saved-tensor hooks -------------------------------------------------------------------

/// A Python `(pack, unpack)` pair.
struct PyHooks {
    pack: Py<PyAny>,
    unpack: Py<PyAny>,
    /// Registered on one saved tensor (`register_hooks`), not by a context manager.
    own: bool,
}

struct PyPacked {
    value: Py<PyAny>,
    unpack: Py<PyAny>,
    own: bool,
}

impl PyHooks {
    fn pack_var(&self, var: &Var) -> Result<Arc<dyn PackedVar>> {
        crate::compile::note_break("a saved-tensor hook ran");
        Python::attach(|py| {
            let value = self
                .pack
                .call1(py, (PyTensor::wrap(var.clone()),))
                .map_err(foreign)?;
            Ok(Arc::new(PyPacked {
                value,
                unpack: self.unpack.clone_ref(py),
                own: self.own,
            }) as Arc<dyn PackedVar>)
        })
    }
}

impl SavedHooks for PyHooks {
    fn pack(&self, var: &Var) -> Result<Arc<dyn PackedVar>> {
        self.pack_var(var)
    }
}

impl PackedVar for PyPacked {
    fn unpack(&self) -> Result<Var> {
        Python::attach(|py| {
            let r = self
                .unpack
                .call1(py, (self.value.clone_ref(py),))
                .map_err(foreign)?;
            let r = r.bind(py);
            match r.cast::<PyTensor>() {
                Ok(t) => Ok(t.get().var.clone()),
                Err(_) => {
                    Err(foreign(PyTypeError::new_err(format!(
                    "Output of saved tensor unpack_hook expected to be a Tensor but got result \
                     of type {}",
                    r.get_type().name().map(|n| n.to_string()).unwrap_or_default()
                ))))
                }
            }
        })
    }

    fn own_hooks(&self) -> bool {
        self.own
    }
}

/// Start packing every tensor saved for backward on this thread with ``pack`` (and unpacking
/// it with ``unpack``) until the matching ``_pop_saved_tensors_hooks``.
#[pyfunction]
fn _push_saved_tensors_hooks(pack: Py<PyAny>, unpack: Py<PyAny>) {
    arena::push_saved_hooks(Arc::new(PyHooks {
        pack,
        unpack,
        own: false,
    }));
}

/// End the innermost ``_push_saved_tensors_hooks``.
#[pyfunction]
fn _pop_saved_tensors_hooks() {
    arena::pop_saved_hooks();
}

/// One tensor a graph node saved for backward (``grad_fn._raw_saved_self``). Not
/// constructible.
#[pyclass(name = "SavedTensor", module = "rustgrad.autograd", frozen)]
pub struct PySavedTensor {
    pub node: NodeRef,
    pub index: usize,
}

#[pymethods]
impl PySavedTensor {
    /// Pack this saved tensor with ``pack`` now, and unpack it with ``unpack`` whenever it is
    /// used (once per saved tensor).
    fn register_hooks(&self, pack: Py<PyAny>, unpack: Py<PyAny>) -> PyResult<()> {
        Python::attach(|py| -> PyResult<()> {
            if !pack.bind(py).is_callable() || !unpack.bind(py).is_callable() {
                return Err(PyTypeError::new_err(
                    "register_hooks(): incompatible function arguments: pack and unpack must be \
                     callable",
                ));
            }
            Ok(())
        })?;
        let hooks = PyHooks {
            pack,
            unpack,
            own: true,
        };
        arena::register_saved_hooks(self.node.id(), self.index, |v| hooks.pack_var(v))?;
        Ok(())
    }

    /// The saved tensor, unpacked (hooks run), or None.
    fn unpack(&self) -> PyResult<Option<PyTensor>> {
        Ok(arena::saved_at(self.node.id(), self.index)?.map(PyTensor::wrap))
    }
}

// ----- profiler -----------------------------------------------------------------------------

/// Whether a profiler is recording (one relaxed load per op when it is not).
pub static PROFILING: AtomicBool = AtomicBool::new(false);

/// `(name, start ns, duration ns, thread)` of each op run while profiling.
type Event = (&'static str, u64, u64, u64);
static EVENTS: Mutex<Vec<Event>> = Mutex::new(Vec::new());

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn thread_id() -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::thread::current().id().hash(&mut h);
    h.finish()
}

/// Runs `f`, recording it as op `name` when a profiler is on.
#[inline(always)]
pub fn profiled<T>(name: fn() -> &'static str, f: impl FnOnce() -> T) -> T {
    if !PROFILING.load(Ordering::Relaxed) {
        return f();
    }
    let start = epoch().elapsed().as_nanos() as u64;
    let out = f();
    let end = epoch().elapsed().as_nanos() as u64;
    EVENTS
        .lock()
        .push((name(), start, end - start, thread_id()));
    out
}

/// Start (or stop) recording ops; starting clears the record.
#[pyfunction]
fn _profiler_enable(enabled: bool) {
    if enabled {
        EVENTS.lock().clear();
        epoch();
    }
    PROFILING.store(enabled, Ordering::Relaxed);
}

/// Nanoseconds on the profiler's clock (for events recorded from Python).
#[pyfunction]
fn _profiler_now() -> u64 {
    epoch().elapsed().as_nanos() as u64
}

/// The recorded ops, ``(name, start_ns, duration_ns, thread)`` each, and clears the record.
#[pyfunction]
fn _profiler_events() -> Vec<(String, u64, u64, u64)> {
    std::mem::take(&mut *EVENTS.lock())
        .into_iter()
        .map(|(n, s, d, t)| (n.to_string(), s, d, t))
        .collect()
}

/// This thread's id as the profiler records it.
#[pyfunction]
fn _profiler_thread() -> u64 {
    thread_id()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySavedTensor>()?;
    m.add_function(wrap_pyfunction!(is_inference_mode_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_set_inference_mode, m)?)?;
    m.add_function(wrap_pyfunction!(_push_saved_tensors_hooks, m)?)?;
    m.add_function(wrap_pyfunction!(_pop_saved_tensors_hooks, m)?)?;
    m.add_function(wrap_pyfunction!(_profiler_enable, m)?)?;
    m.add_function(wrap_pyfunction!(_profiler_now, m)?)?;
    m.add_function(wrap_pyfunction!(_profiler_events, m)?)?;
    m.add_function(wrap_pyfunction!(_profiler_thread, m)?)?;
    Ok(())
}
