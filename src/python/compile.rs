//! The capture and replay entry points behind `rustgrad.compile` (the Python side, in
//! `rustgrad/compiler/`, walks the function's state and decides when to replay).

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyList;

use super::tensor::PyTensor;
use crate::autograd::Var;
use crate::compile::{self, Program};

/// The variables of `tensors`, each followed by its `.grad` when it has one: the externals
/// of a recording, in the order a replay binds them.
fn externals(tensors: &Bound<'_, PyList>) -> PyResult<Vec<Var>> {
    let mut out = Vec::with_capacity(tensors.len() * 2);
    for t in tensors.iter() {
        let var = t.cast::<PyTensor>()?.get().var.clone();
        let grad = var.grad();
        out.push(var);
        out.extend(grad);
    }
    Ok(out)
}

/// A recorded step (see `rustgrad.compiler`).
#[pyclass(name = "_CompiledProgram", module = "rustgrad._core", frozen)]
pub struct PyProgram {
    program: Arc<Program>,
}

#[pymethods]
impl PyProgram {
    /// Runs the step on `tensors` (the same walk as at capture) and returns its outputs, or
    /// None when a guard failed before anything visible happened (then run it eagerly).
    fn replay<'py>(
        &self,
        py: Python<'py>,
        tensors: &Bound<'py, PyList>,
    ) -> PyResult<Option<Vec<Bound<'py, PyTensor>>>> {
        let ext = externals(tensors)?;
        match self.program.replay(&ext)? {
            None => Ok(None),
            Some(outs) => Ok(Some(
                outs.into_iter()
                    .map(|v| PyTensor::object(py, v))
                    .collect::<PyResult<_>>()?,
            )),
        }
    }

    /// Whether `other` recorded the same program.
    fn same_as(&self, other: &PyProgram) -> bool {
        self.program.same_as(&other.program)
    }

    fn __len__(&self) -> usize {
        self.program.len()
    }

    fn __repr__(&self) -> String {
        format!("<compiled program: {} instructions>", self.program.len())
    }
}

/// Starts recording this thread's kernels; `tensors` are what the function can reach.
#[pyfunction]
fn _compile_begin(tensors: &Bound<'_, PyList>) -> PyResult<()> {
    compile::begin(&externals(tensors)?);
    Ok(())
}

/// Ends the recording: `(program, [])`, or `(None, reasons)` when it cannot be replayed.
#[pyfunction]
fn _compile_end(outputs: &Bound<'_, PyList>) -> PyResult<(Option<PyProgram>, Vec<String>)> {
    let outs = outputs
        .iter()
        .map(|t| Ok(t.cast::<PyTensor>()?.get().var.clone()))
        .collect::<PyResult<Vec<Var>>>()?;
    Ok(match compile::end(&outs) {
        Ok(p) => (
            Some(PyProgram {
                program: Arc::new(p),
            }),
            Vec::new(),
        ),
        Err(reasons) => (None, reasons),
    })
}

/// Drops the recording in progress (the function raised).
#[pyfunction]
fn _compile_abort() {
    compile::abort();
}

/// Whether this thread is recording.
#[pyfunction]
fn _compile_recording() -> bool {
    compile::recording()
}

/// Refuses the recording in progress with `reason` (Python-level effects).
#[pyfunction]
fn _compile_break(reason: &str) {
    compile::note_break(reason);
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyProgram>()?;
    m.add_function(wrap_pyfunction!(_compile_begin, m)?)?;
    m.add_function(wrap_pyfunction!(_compile_end, m)?)?;
    m.add_function(wrap_pyfunction!(_compile_abort, m)?)?;
    m.add_function(wrap_pyfunction!(_compile_recording, m)?)?;
    m.add_function(wrap_pyfunction!(_compile_break, m)?)?;
    Ok(())
}
