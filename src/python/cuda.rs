//! `rustgrad.cuda`'s entry points into the core: availability, synchronisation, seeds,
//! memory statistics, and the kernel compiler check CI runs without a GPU.

use std::path::PathBuf;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::gil::{self, Work};
use crate::backend::cuda::compile::{
    compile_cubin, embedded_cubin, embedded_cubins, nvrtc_versions, Source,
};
use crate::backend::cuda::{self, device as registry, CudaDevice};

/// The device an optional index names (device 0 by default), set up if need be.
pub(super) fn device_at(index: Option<i64>) -> PyResult<std::sync::Arc<CudaDevice>> {
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

/// True when the driver, a GPU, NVRTC and cuBLAS can all be used.
#[pyfunction]
fn _cuda_is_available() -> bool {
    cuda::unavailable_reason().is_none()
}

/// Number of usable GPUs (0 without a driver or GPU).
#[pyfunction]
fn _cuda_device_count() -> usize {
    cuda::device_count()
}

/// Why CUDA cannot be used, as a sentence (no driver, no GPU, which library is missing);
/// ``""`` when it can.
#[pyfunction]
fn _cuda_unavailable_reason() -> String {
    cuda::unavailable_reason().unwrap_or_default()
}

/// Notes about the CUDA libraries chosen (a pip library displaced by a system one, naming
/// both files), for ``rustgrad.cuda`` to raise as warnings.
#[pyfunction]
fn _cuda_library_notes() -> Vec<String> {
    cuda::libs::notes()
}

/// Folders searched for libnvrtc, libcublas and libcublasLt before the system's search
/// path. Takes effect only before first CUDA use (``rustgrad.cuda`` calls it at import).
#[pyfunction]
fn _cuda_set_library_dirs(dirs: Vec<PathBuf>) {
    cuda::libs::set_library_dirs(dirs);
}

/// A page-locked copy of a CPU tensor (``Tensor.pin_memory()``, which checks the tensor and
/// that CUDA is available first), without history.
#[pyfunction]
fn _pin_memory<'py>(
    tensor: &Bound<'py, super::tensor::PyTensor>,
) -> PyResult<Bound<'py, super::tensor::PyTensor>> {
    let py = tensor.py();
    let t = tensor.get().var.tensor().clone();
    let pinned = gil::run(py, Work::default().tensor(&t), || t.pin_memory())?;
    Bound::new(
        py,
        super::tensor::PyTensor::wrap(crate::autograd::Var::new(pinned, false)),
    )
}

/// Whether a tensor's memory is page-locked (``Tensor.is_pinned()``).
#[pyfunction]
fn _is_pinned(tensor: &Bound<'_, super::tensor::PyTensor>) -> bool {
    tensor.get().var.tensor().is_pinned()
}

/// Wait for the device's queued work. RuntimeError without CUDA.
#[pyfunction]
#[pyo3(signature = (index=None))]
fn _cuda_synchronize(py: Python<'_>, index: Option<i64>) -> PyResult<()> {
    let d = device_at(index)?;
    gil::run(py, Work::unbounded(), || d.synchronize())?;
    Ok(())
}

/// Seed every device's generator; never raises.
#[pyfunction]
fn _cuda_manual_seed(seed: i64) {
    registry::manual_seed_all(seed as u64);
}

/// The device's generator state, (seed, offset). RuntimeError without CUDA.
#[pyfunction]
#[pyo3(signature = (index=None))]
fn _cuda_get_rng_state(index: Option<i64>) -> PyResult<(u64, u64)> {
    Ok(device_at(index)?.rng_state())
}

/// Restores a state from `_cuda_get_rng_state`. RuntimeError without CUDA.
#[pyfunction]
#[pyo3(signature = (seed, offset, index=None))]
fn _cuda_set_rng_state(seed: u64, offset: u64, index: Option<i64>) -> PyResult<()> {
    device_at(index)?.set_rng_state(seed, offset);
    Ok(())
}

/// Bytes held by live tensors. RuntimeError without CUDA.
#[pyfunction]
#[pyo3(signature = (index=None))]
fn _cuda_memory_allocated(index: Option<i64>) -> PyResult<usize> {
    Ok(device_at(index)?.memory_allocated())
}

/// Peak of ``_cuda_memory_allocated`` since the last reset. RuntimeError without CUDA.
#[pyfunction]
#[pyo3(signature = (index=None))]
fn _cuda_max_memory_allocated(index: Option<i64>) -> PyResult<usize> {
    Ok(device_at(index)?.max_memory_allocated())
}

/// Bytes held by the caching allocator (in use and cached). RuntimeError without CUDA.
#[pyfunction]
#[pyo3(signature = (index=None))]
fn _cuda_memory_reserved(index: Option<i64>) -> PyResult<usize> {
    Ok(device_at(index)?.memory_reserved())
}

/// Restart the peak from the current usage. RuntimeError without CUDA.
#[pyfunction]
#[pyo3(signature = (index=None))]
fn _cuda_reset_peak_memory_stats(index: Option<i64>) -> PyResult<()> {
    device_at(index)?.reset_peak_memory_stats();
    Ok(())
}

/// Free the allocator's cached blocks of every device set up so far; a no-op when CUDA was
/// never used.
#[pyfunction]
fn _cuda_empty_cache() -> PyResult<()> {
    for d in registry::initialized_devices() {
        d.empty_cache()?;
    }
    Ok(())
}

/// The device's name, e.g. ``"NVIDIA H100 80GB HBM3"``. RuntimeError without CUDA.
#[pyfunction]
#[pyo3(signature = (index=None))]
fn _cuda_get_device_name(index: Option<i64>) -> PyResult<String> {
    Ok(device_at(index)?.name.clone())
}

/// Always 0: rustgrad has no per-thread current device; ``"cuda"`` means device 0.
#[pyfunction]
fn _cuda_current_device() -> usize {
    0
}

/// File names of the CUDA C sources compiled into the wheel, e.g. ``"elementwise.cu"``.
#[pyfunction]
fn _cuda_kernel_sources() -> Vec<&'static str> {
    Source::ALL.iter().map(|s| s.file_name()).collect()
}

/// Compile every kernel source with NVRTC to CUBIN for ``arch`` (``"sm_90"``, ``"sm_80"``;
/// needs libnvrtc, not a GPU): ``(source name, cubin bytes)`` per source. RuntimeError with
/// NVRTC's log on a compile error, or mentioning nvrtc when libnvrtc cannot be loaded.
#[pyfunction]
fn _cuda_compile_kernels(py: Python<'_>, arch: String) -> PyResult<Vec<(&'static str, usize)>> {
    gil::run(py, Work::unbounded(), || {
        Source::ALL
            .iter()
            .map(|&s| Ok((s.file_name(), compile_cubin(s, &arch)?.len())))
            .collect::<crate::error::Result<Vec<_>>>()
    })
    .map_err(PyErr::from)
}

/// The CUBINs built into the extension: ``(source name, arch, image bytes)`` each (empty when
/// it was built without NVRTC, in debug, or for the emulator).
#[pyfunction]
fn _cuda_embedded_cubins(py: Python<'_>) -> Vec<(&'static str, &'static str, Bound<'_, PyBytes>)> {
    embedded_cubins()
        .iter()
        .map(|&(file, arch, image)| (file, arch, PyBytes::new(py, image)))
        .collect()
}

/// ``((major, minor) of the NVRTC that compiled the embedded CUBINs, (0, 0) when none;
/// (major, minor) of the NVRTC loaded now, or None)``.
#[pyfunction]
fn _cuda_nvrtc_versions() -> ((i32, i32), Option<(i32, i32)>) {
    nvrtc_versions()
}

/// The architecture of the embedded CUBIN that a device of ``arch`` (``"sm_87"``) would load
/// for ``source``, or None when NVRTC would compile it at run time.
#[pyfunction]
fn _cuda_embedded_arch_for(source: &str, arch: &str) -> PyResult<Option<&'static str>> {
    let s = Source::ALL
        .into_iter()
        .find(|s| s.file_name() == source)
        .ok_or_else(|| PyRuntimeError::new_err(format!("no kernel source {source}")))?;
    Ok(embedded_cubin(s, arch).map(|(a, _)| a))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_cuda_is_available, m)?)?;
    m.add_function(wrap_pyfunction!(_pin_memory, m)?)?;
    m.add_function(wrap_pyfunction!(_is_pinned, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_device_count, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_unavailable_reason, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_set_library_dirs, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_library_notes, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_synchronize, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_manual_seed, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_get_rng_state, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_set_rng_state, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_memory_allocated, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_max_memory_allocated, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_memory_reserved, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_reset_peak_memory_stats, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_empty_cache, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_get_device_name, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_current_device, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_kernel_sources, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_compile_kernels, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_embedded_cubins, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_nvrtc_versions, m)?)?;
    m.add_function(wrap_pyfunction!(_cuda_embedded_arch_for, m)?)?;
    Ok(())
}
