//! Bindings for the autograd extras: inference mode.

use pyo3::prelude::*;
use pyo3::wrap_pyfunction;

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

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(is_inference_mode_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_set_inference_mode, m)?)?;
    Ok(())
}
