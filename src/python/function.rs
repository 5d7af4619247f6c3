//! The Python-facing autograd extensions: gradient hooks, custom `Function`s, anomaly mode
//! and the optimizers' one-pass updates.

use std::borrow::Cow;
use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PySequence;
use pyo3::wrap_pyfunction;

use super::gil::{self, Work};
use super::tensor::{tensor_list, PyTensor};
use crate::autograd::{self, anomaly, Backward, GradHook, HookHandle, NodeRef, SavedVar, Var};
use crate::error::{Error, Result};
use crate::optim;

/// Carries a Python exception through the core unchanged.
pub fn foreign(err: PyErr) -> Error {
    let msg = err.to_string();
    Error::Foreign(Arc::new(err), msg)
}

/// A tensor (or `None`) returned by Python code called from the core.
fn optional_var(py: Python<'_>, obj: &Py<PyAny>, what: &str) -> Result<Option<Var>> {
    let obj = obj.bind(py);
    if obj.is_none() {
        return Ok(None);
    }
    let t = obj.cast::<PyTensor>().map_err(|_| {
        let type_name = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default();
        // (PyTorch's words: a hook's TypeError, a Function backward's RuntimeError)
        foreign(match what {
            "a hook" => PyTypeError::new_err(format!(
                "expected Variable, but hook returned '{type_name}'"
            )),
            _ => pyo3::exceptions::PyRuntimeError::new_err(format!(
                "expected Variable or None (got {type_name})"
            )),
        })
    })?;
    Ok(Some(t.get().var.clone()))
}

/// A Python callable as a gradient hook.
pub fn python_hook(f: Py<PyAny>) -> GradHook {
    Arc::new(move |g: &Var| -> Result<Option<Var>> {
        crate::compile::note_break("a gradient hook ran");
        Python::attach(|py| {
            let r = f.call1(py, (PyTensor::wrap(g.clone()),)).map_err(foreign)?;
            let replacement = optional_var(py, &r, "a hook")?;
            if let Some(new) = &replacement {
                if new.shape() != g.shape() {
                    let name = hook_name(py, &f);
                    return Err(Error::Runtime(format!(
                        "hook '{name}' has changed the size of value"
                    )));
                }
                if new.dtype() != g.dtype() || new.tensor().device() != g.tensor().device() {
                    let type_of = |v: &Var| {
                        let described = v.tensor().type_description();
                        described.split(' ').next().unwrap_or_default().to_string()
                    };
                    return Err(Error::Runtime(format!(
                        "hook '{}' has changed the type of value (was {} got {})",
                        hook_name(py, &f),
                        type_of(g),
                        type_of(new)
                    )));
                }
            }
            Ok(replacement)
        })
    })
}

fn hook_name(py: Python<'_>, f: &Py<PyAny>) -> String {
    f.bind(py)
        .getattr("__name__")
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "hook".into())
}

/// Returned by ``Tensor.register_hook``; ``remove()`` (or leaving a ``with`` block)
/// unregisters the hook.
#[pyclass(name = "RemovableHandle", module = "rustgrad.utils.hooks", frozen)]
pub struct PyRemovableHandle {
    handle: HookHandle,
}

#[pymethods]
impl PyRemovableHandle {
    /// Unregister the hook (again is a no-op).
    fn remove(&self) {
        self.handle.remove();
    }

    /// ``with t.register_hook(fn):`` keeps the hook for the block; returns the handle.
    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// Leaving the ``with`` block unregisters the hook.
    fn __exit__(&self, _t: &Bound<'_, PyAny>, _v: &Bound<'_, PyAny>, _tb: &Bound<'_, PyAny>) {
        self.handle.remove();
    }
}

pub fn register_hook(var: &Var, f: Py<PyAny>) -> PyResult<PyRemovableHandle> {
    Ok(PyRemovableHandle {
        handle: var.register_hook(python_hook(f))?,
    })
}

/// `var.register_post_accumulate_grad_hook(f)`: `f` runs with the leaf after backward
/// accumulated its `.grad` (what it returns is the caller's to check).
pub fn register_post_accumulate_grad_hook(var: &Var, f: Py<PyAny>) -> PyResult<PyRemovableHandle> {
    let hook: GradHook = Arc::new(move |leaf: &Var| -> Result<Option<Var>> {
        crate::compile::note_break("a post-accumulate-grad hook ran");
        Python::attach(|py| {
            f.call1(py, (PyTensor::wrap(leaf.clone()),))
                .map_err(foreign)?;
            Ok(None)
        })
    });
    Ok(PyRemovableHandle {
        handle: var.register_post_accumulate_grad_hook(hook)?,
    })
}

/// The node of a custom `Function`: its backward is the user's Python `backward`.
struct PythonFunctionBackward {
    name: String,
    /// `backward(saved_tensors, grad) -> tuple of gradients, one per tensor input`.
    backward: Py<PyAny>,
    inputs: usize,
}

impl Backward for PythonFunctionBackward {
    fn name(&self) -> Cow<'static, str> {
        Cow::Owned(self.name.clone())
    }

    fn apply(&self, grad: &Var, saved: &[Var], _needs: &[bool]) -> Result<Vec<Option<Var>>> {
        Python::attach(|py| {
            let saved: Vec<PyTensor> = saved.iter().cloned().map(PyTensor::wrap).collect();
            let r = self
                .backward
                .call1(py, (saved, PyTensor::wrap(grad.clone())))
                .map_err(foreign)?;
            let seq = r.bind(py).cast::<PySequence>().map_err(|_| {
                foreign(PyTypeError::new_err(
                    "backward must return a tuple of gradients",
                ))
            })?;
            let n = seq.len().map_err(foreign)?;
            if n != self.inputs {
                return Err(foreign(PyTypeError::new_err(format!(
                    "function {} returned an incorrect number of gradients (expected {}, got {})",
                    self.name, self.inputs, n
                ))));
            }
            (0..n)
                .map(|i| {
                    let item = seq.get_item(i).map_err(foreign)?.unbind();
                    optional_var(py, &item, "backward")
                })
                .collect()
        })
    }
}

/// Record a custom function's ``output`` as made by a node called ``name`` whose backward
/// calls ``backward(saved_tensors, grad)`` (one gradient per tensor in ``inputs``); the
/// ``saved`` tensors are kept, and version-checked, for it. With ``dirty`` the output is an
/// input the function changed in place (``ctx.mark_dirty``): that very tensor is returned,
/// its history moved onto the new node.
#[pyfunction]
#[pyo3(signature = (name, backward, inputs, output, saved, dirty=false))]
fn _function_apply<'py>(
    name: String,
    backward: Py<PyAny>,
    inputs: &Bound<'py, PyAny>,
    output: &Bound<'py, PyTensor>,
    saved: &Bound<'py, PyAny>,
    dirty: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let py = output.py();
    let inputs = tensor_list(inputs)?;
    let saved = tensor_list(saved)?;
    let out = output.get().var.tensor();
    if !autograd::is_grad_enabled() || !inputs.iter().any(|v| v.requires_grad()) {
        if dirty {
            return Ok(output.clone().into_any());
        }
        return Ok(Bound::new(py, PyTensor::wrap(Var::new(out, false)))?.into_any());
    }
    let edges = inputs.iter().map(|v| v.edge()).collect();
    // The output itself is saved without its history (no cycle) and re-attached to this
    // node when unpacked, so a backward written with it can be differentiated again.
    let raw_output = &output.get().var;
    let saved = saved
        .iter()
        .map(|s| {
            if s.ptr_eq(raw_output) {
                SavedVar::output(s)
            } else {
                SavedVar::input(s)
            }
        })
        .collect();
    let op = PythonFunctionBackward {
        name,
        backward,
        inputs: inputs.len(),
    };
    if let Some(e) = autograd::arena::take_save_error() {
        return Err(e.into());
    }
    let node = NodeRef::create(Arc::new(op), edges, saved);
    if dirty {
        let result = Var::with_history(out, node.clone());
        if !crate::ops::rebase_written_view(raw_output, &result) {
            raw_output.set_grad_fn(Some(node));
        }
        return Ok(output.clone().into_any());
    }
    Ok(Bound::new(py, PyTensor::wrap(Var::with_history(out, node)))?.into_any())
}

/// PyTorch's version error when ``t`` was written in place since ``version`` was read.
#[pyfunction]
fn _check_saved_version(t: &Bound<'_, PyTensor>, version: u64) -> PyResult<()> {
    Ok(autograd::arena::check_saved_version(&t.get().var, version)?)
}

/// Count one more in-place write of ``t`` (PyTorch counts a custom Function's
/// ``ctx.mark_dirty`` as a write of its own).
#[pyfunction]
fn _bump_version(t: &Bound<'_, PyTensor>) {
    t.get().var.tensor().storage().bump_version();
}

/// Turn anomaly mode on or off (process-wide); ``check_nan``: whether backward's results
/// are checked for NaN while it is on.
#[pyfunction]
#[pyo3(signature = (enabled, check_nan=true))]
fn _set_anomaly_enabled(enabled: bool, check_nan: bool) {
    anomaly::set_enabled(enabled);
    anomaly::set_check_nan(check_nan);
}

/// Whether anomaly mode is on.
#[pyfunction]
fn _is_anomaly_enabled() -> bool {
    anomaly::is_enabled()
}

/// Whether anomaly mode checks backward's results for NaN.
#[pyfunction]
fn _is_anomaly_check_nan_enabled() -> bool {
    anomaly::is_check_nan_enabled()
}

/// The Python stack where a node is being created (anomaly mode).
fn python_stack() -> Option<String> {
    Python::attach(|py| {
        let tb = py.import("traceback").ok()?;
        let lines: Vec<String> = tb.call_method0("format_stack").ok()?.extract().ok()?;
        Some(lines.concat())
    })
}

/// One optimizer step on ``param`` with ``grad``, ``states`` (PyTorch's state tensors of the
/// rule, in its order) updated in place; ``scalars`` are the step's constants computed in
/// Python (see ``rustgrad.optim``). With ``step`` (Adam: its counter, a one-element float32
/// CPU tensor), ``scalars[3]`` is the learning rate and the step size and bias correction
/// come from the counter's value when the kernel runs.
#[pyfunction]
#[pyo3(signature = (rule, param, grad, states, scalars, weight_decay=0.0, decay=1.0, maximize=false, nesterov=false, first=false, momentum=false, centered=false, amsgrad=false, step=None))]
#[allow(clippy::too_many_arguments)]
fn _optimizer_step(
    py: Python<'_>,
    rule: &str,
    param: &Bound<'_, PyTensor>,
    grad: &Bound<'_, PyTensor>,
    states: &Bound<'_, PyAny>,
    scalars: Vec<f64>,
    weight_decay: f64,
    decay: f64,
    maximize: bool,
    nesterov: bool,
    first: bool,
    momentum: bool,
    centered: bool,
    amsgrad: bool,
    step: Option<&Bound<'_, PyTensor>>,
) -> PyResult<()> {
    let rule = optim::UpdateRule::from_name(rule)
        .ok_or_else(|| PyValueError::new_err(format!("unknown optimizer update rule {rule:?}")))?;
    if scalars.len() > 7 {
        return Err(PyValueError::new_err("at most 7 scalars"));
    }
    let mut s = [0.0; 7];
    s[..scalars.len()].copy_from_slice(&scalars);
    let h = optim::OptimStep {
        rule,
        s,
        weight_decay,
        decay,
        maximize,
        nesterov,
        first,
        momentum,
        centered,
        amsgrad,
        from_step: step.is_some(),
    };
    if step.is_some() && rule != optim::UpdateRule::Adam {
        return Err(PyValueError::new_err("step= is for the adam rule"));
    }
    let counter = step.map(|t| t.get().var.tensor());
    if counter
        .as_ref()
        .is_some_and(|c| c.numel() != 1 || c.device() != crate::base::Device::Cpu)
    {
        return Err(PyValueError::new_err(
            "step= takes a one-element CPU tensor",
        ));
    }
    let (p, g) = (param.get().var.clone(), grad.get().var.clone());
    let states = tensor_list(states)?;
    let work = Work::of([&p, &g].into_iter().chain(&states));
    gil::run(py, work, move || -> Result<()> {
        let st: Vec<_> = states.iter().map(|t| t.tensor()).collect();
        optim::step(&p.tensor(), &g.tensor(), &st, counter.as_ref(), &h)
    })?;
    Ok(())
}

/// PyTorch's refusal to write in place into ``t`` when it is a leaf that requires grad (or
/// a view of one) and grad mode is on; the in-place forms written in Python call it before
/// checking their own arguments, as PyTorch does.
#[pyfunction]
fn _refuse_leaf_write(t: &Bound<'_, PyTensor>) -> PyResult<()> {
    Ok(crate::ops::refuse_leaf_write(&t.get().var)?)
}

/// Marks ``views``, all returned by one call of ``op`` (``"Unbind"``, ``"Split"`` or
/// ``"SplitWithSizes"``), as PyTorch's multi-output views: while grad mode is on, writing
/// one of them (or a view of one) in place raises PyTorch's error.
#[pyfunction]
fn _mark_multi_output_views(views: Vec<PyRef<'_, PyTensor>>, op: &str) -> PyResult<()> {
    let op: &'static str = match op {
        "Unbind" => "Unbind",
        "Split" => "Split",
        "SplitWithSizes" => "SplitWithSizes",
        _ => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "unknown op {op}"
            )))
        }
    };
    if crate::autograd::is_grad_enabled() {
        for (output, view) in views.iter().enumerate() {
            view.var
                .set_creation(crate::autograd::ViewCreation::MultiOutput {
                    op: Some((op, output)),
                });
        }
    }
    Ok(())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_refuse_leaf_write, m)?)?;
    m.add_function(wrap_pyfunction!(_mark_multi_output_views, m)?)?;
    anomaly::set_trace_provider(Box::new(python_stack));
    m.add_class::<PyRemovableHandle>()?;
    m.add_function(wrap_pyfunction!(_function_apply, m)?)?;
    m.add_function(wrap_pyfunction!(_set_anomaly_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_is_anomaly_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_bump_version, m)?)?;
    m.add_function(wrap_pyfunction!(_check_saved_version, m)?)?;
    m.add_function(wrap_pyfunction!(_is_anomaly_check_nan_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_optimizer_step, m)?)?;
    Ok(())
}
