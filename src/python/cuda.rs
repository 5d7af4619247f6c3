//! `rustgrad.cuda`'s entry points into the core: availability, synchronisation, seeds,
//! memory statistics, and the kernel compiler check CI runs without a GPU.

use std::path::PathBuf;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::backend::cuda::compile::{compile_cubin, Source};
use crate::backend::cuda::{self, device as registry, CudaDevice};

/// The device an optional index names (device 0 by default), set up if need be.
fn device_at(index: Option<i64>) -> PyResult<std::sync::Arc<CudaDevice>> {
    if let Some(why) = cuda::unavailable_reason() {
        return Err(PyRuntimeError::new_err(why));
    }
    let i = index.unwrap_or(0);
    if i < 0 {
        return Err(PyRuntimeError::new_err(format!(
            "CUDA error: invalid device ordinal ({i})"
        )));
    }
    Ok(cuda::device(i as usize)?)
}

#[pyfunction]
fn _cuda_is_available() -> bool {
    cuda::unavailable_reason().is_none()
}

#[pyfunction]
fn _cuda_device_count() -> usize {
    cuda::device_count()
}

#[pyfunction]
fn _cuda_unavailable_reason() -> String {
    cuda::unavailable_reason().unwrap_or_default()
}

#[pyfunction]
fn _cuda_set_library_dirs(dirs: Vec<PathBuf>) {
    cuda::libs::set_library_dirs(dirs);
}

#[pyfunction]
#[pyo3(signature = (index=None))]
fn _cuda_synchronize(py: Python<'_>, index: Option<i64>) -> PyResult<()> {
    let d = device_at(index)?;
    py.detach(|| d.synchronize())?;
    Ok(())
}

#[pyfunction]
fn _cuda_manual_seed(seed: i64) {
    registry::manual_seed_all(seed as u64);
}

#[pyfunction]
#[pyo3(signature = (index=None))]
fn _cuda_memory_allocated(index: Option<i64>) -> PyResult<usize> {
    Ok(device_at(index)?.memory_allocated())
}

#[pyfunction]
#[pyo3(signature = (index=None))]
fn _cuda_max_memory_allocated(index: Option<i64>) -> PyResult<usize> {
    Ok(device_at(index)?.max_memory_allocated())
}

#[pyfunction]
#[pyo3(signature = (index=None))]
fn _cuda_memory_reserved(index: Option<i64>) -> PyResult<usize> {
    Ok(device_at(index)?.memory_reserved())
}

#[pyfunction]
#[pyo3(signature = (index=None))]
fn _cuda_reset_peak_memory_stats(index: Option<i64>) -> PyResult<()> {
    device_at(index)?.reset_peak_memory_stats();
    Ok(())
}

/// Frees cached blocks of every device set up so far (nothing when CUDA was never used).
#[pyfunction]
fn _cuda_empty_cache() -> PyResult<()> {
    for d in registry::initialized_devices() {
        d.empty_cache()?;
    }
    Ok(())
}

#[pyfunction]
#[pyo3(signature = (index=None))]
fn _cuda_get_device_name(index: Option<i64>) -> PyResult<String> {
    Ok(device_at(index)?.name.clone())
}

/// Always 0: rustgrad has no per-thread current device; `"cuda"` means device 0.
#[pyfunction]
fn _cuda_current_device() -> usize {
    0
}

#[pyfunction]
fn _cuda_kernel_sources() -> Vec<&'static str> {
    Source::ALL.iter().map(|s| s.file_name()).collect()
}

/// Compiles every kernel source to a CUBIN for `arch`: (file name, CUBIN size in bytes).
#[pyfunction]
fn _cuda_compile_kernels(py: Python<'_>, arch: String) -> PyResult<Vec<(&'static str, usize)>> {
    py.detach(|| {
        Source::ALL
            .iter()
            .map(|&s| Ok((s.file_name(), compile_cubin(s, &arch)?.len())))
            .collect::<crate::error::Result<Vec<_>>>()
    })
    .map_err(PyErr::from)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_cuda_is_available, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_device_count, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_unavailable_reason, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_set_library_dirs, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_synchronize, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_manual_seed, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_memory_allocated, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_max_memory_allocated, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_memory_reserved, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_reset_peak_memory_stats, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_empty_cache, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_get_device_name, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_current_device, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_kernel_sources, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_compile_kernels, m)?)?;
    Ok(())
}
