//! `rustgrad.Generator`: a random number generator with its own state, and
//! `rustgrad.default_generator`, the process's default one (the state behind `rand`, `randn`
//! and `manual_seed`).

use std::sync::Arc;

use parking_lot::Mutex;
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt};

use super::tensor::PyTensor;
use super::types::{check_device, PyDevice};
use crate::autograd::Var;
use crate::backend::cpu::random::{Rng, DEFAULT, DEFAULT_SEED, STATE_BYTES};
use crate::tensor::{DType, Device, Tensor};

/// A random number generator with its own state: ``Generator(device='cpu')``.
///
/// Pass it as ``generator=`` to ``rand``, ``randn``, ``randint``, ``randperm``, ``normal``,
/// ``bernoulli``, ``multinomial`` and the in-place samplers; draws then come from (and
/// advance) this generator's state only. The same seed gives the same stream. Its draws are
/// made on the host (also for a CUDA generator, whose samples are then copied to its device);
/// a CPU generator's draws are PyTorch's, draw for draw (see `backend::cpu::random`).
#[pyclass(name = "Generator", module = "rustgrad", frozen)]
pub struct PyGenerator {
    pub rng: Arc<Mutex<Rng>>,
    pub device: Device,
}

/// A seed as PyTorch's `Generator.manual_seed` reads one: any int in ``[-2**63, 2**64)``,
/// negative ones wrapped, with its errors for anything else (`rustgrad.manual_seed` calls
/// `int()` on its argument first, as `torch.manual_seed` does).
fn seed_value(seed: &Bound<'_, PyAny>) -> PyResult<u64> {
    if !seed.is_instance_of::<PyInt>() || seed.is_instance_of::<PyBool>() {
        if !seed.is_instance_of::<PyBool>() && seed.hasattr("__index__")? {
            return Err(PyTypeError::new_err("an integer is required"));
        }
        return Err(PyRuntimeError::new_err(format!(
            "manual_seed expected a long, but got {}",
            seed.get_type().name()?
        )));
    }
    if let Ok(v) = seed.extract::<u64>() {
        return Ok(v);
    }
    match seed.extract::<i64>() {
        Ok(v) => Ok(v as u64),
        Err(_) => Err(pyo3::exceptions::PyValueError::new_err(
            "Overflow when unpacking long long",
        )),
    }
}

/// A seed that differs from run to run (the clock and the process's hash keys).
fn fresh_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    // PyTorch's `seed()` stays below 2**63 too, so the value round-trips through int64.
    h.finish() >> 1
}

impl PyGenerator {
    pub fn default_cpu() -> PyGenerator {
        PyGenerator {
            rng: DEFAULT.clone(),
            device: Device::Cpu,
        }
    }

    /// PyTorch's check that a generator serves the device it samples for.
    pub fn check_device(&self, device: Device) -> PyResult<()> {
        let kind = |d: Device| if d.is_cuda() { "cuda" } else { "cpu" };
        if kind(self.device) != kind(device) {
            return Err(PyRuntimeError::new_err(format!(
                "Expected a '{}' device type for generator but found '{}'",
                kind(device),
                kind(self.device)
            )));
        }
        Ok(())
    }
}

#[pymethods]
impl PyGenerator {
    #[new]
    #[pyo3(signature = (device=None))]
    fn py_new(device: Option<&Bound<'_, PyAny>>) -> PyResult<PyGenerator> {
        Ok(PyGenerator {
            rng: Arc::new(Mutex::new(Rng::seeded(DEFAULT_SEED))),
            device: check_device(device)?.unwrap_or(Device::Cpu),
        })
    }

    /// Restarts the stream from ``seed`` (an int); returns the generator.
    fn manual_seed<'py>(
        slf: &Bound<'py, Self>,
        seed: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, Self>> {
        *slf.get().rng.lock() = Rng::seeded(seed_value(seed)?);
        Ok(slf.clone())
    }

    /// Seeds the generator from a non-deterministic source; returns the seed.
    fn seed(&self) -> u64 {
        let s = fresh_seed();
        *self.rng.lock() = Rng::seeded(s);
        s
    }

    /// The seed the current stream started from.
    fn initial_seed(&self) -> u64 {
        self.rng.lock().initial_seed()
    }

    /// The whole state as PyTorch keeps it: a uint8 tensor of 5056 bytes (PyTorch's
    /// ``CPUGeneratorImplState``: the seed, mt19937's words and position, the cached normal
    /// sample), so states pass between rustgrad and PyTorch; ``set_state`` takes it back.
    fn get_state(&self) -> PyTensor {
        let bytes = self.rng.lock().state_bytes();
        let t = Tensor::from_vec(bytes, &[STATE_BYTES]);
        PyTensor::wrap(Var::new(t, false))
    }

    /// Restores a state from ``get_state`` (of this or any CPU generator, or PyTorch's
    /// ``get_rng_state()``); returns the generator.
    fn set_state<'py>(
        slf: &Bound<'py, Self>,
        new_state: &Bound<'_, PyTensor>,
    ) -> PyResult<Bound<'py, Self>> {
        let t = new_state.get().var.tensor();
        if t.dtype() != DType::U8 {
            return Err(PyTypeError::new_err("RNG state must be a torch.ByteTensor"));
        }
        if t.numel() != STATE_BYTES {
            return Err(PyRuntimeError::new_err(format!(
                "Expected a CPUGeneratorImplState of size {STATE_BYTES} but found the input \
                 RNG state size to be {}",
                t.numel()
            )));
        }
        let bytes: Vec<u8> = t.to_vec::<u8>()?;
        *slf.get().rng.lock() = Rng::from_state_bytes(&bytes)
            .ok_or_else(|| PyRuntimeError::new_err("Invalid mt19937 state"))?;
        Ok(slf.clone())
    }

    /// The device this generator samples for.
    #[getter]
    fn device(&self) -> PyDevice {
        PyDevice::from_device(self.device)
    }
}

// ----- the draws behind rustgrad.random's samplers ------------------------------------------

/// The state a draw for `device` comes from: `generator`'s (checked against `device`) or the
/// default CPU generator's.
fn source(generator: Option<&Bound<'_, PyGenerator>>, device: Device) -> PyResult<Arc<Mutex<Rng>>> {
    crate::compile::note_break(crate::tensor::storage::RANDOM_BREAK);
    match generator {
        Some(g) => {
            g.get().check_device(device)?;
            Ok(g.get().rng.clone())
        }
        None => Ok(DEFAULT.clone()),
    }
}

/// The element count of `shape`, refused where it overflows or cannot be held.
fn draw_count(shape: &[usize]) -> PyResult<usize> {
    let n = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .unwrap_or(usize::MAX);
    crate::base::buffer::check_host_alloc(DType::F64, n)?;
    Ok(n)
}

/// A new CPU tensor that `fill` draws (given the element count of `shape`) from the
/// generator for `device`: `generator`'s or the default one; the GIL is released meanwhile.
fn drawn(
    py: Python<'_>,
    shape: &[usize],
    device: &Bound<'_, PyAny>,
    generator: Option<&Bound<'_, PyGenerator>>,
    fill: impl FnOnce(&mut Rng, usize) -> Tensor + Send,
) -> PyResult<PyTensor> {
    let rng = source(
        generator,
        check_device(Some(device))?.unwrap_or(Device::Cpu),
    )?;
    let n = draw_count(shape)?;
    let t = py.detach(|| fill(&mut rng.lock(), n));
    Ok(PyTensor::wrap(Var::new(t, false)))
}

fn float_dtype(dtype: &Bound<'_, PyAny>) -> PyResult<DType> {
    Ok(super::types::parse_dtype(Some(dtype))?.unwrap_or(DType::F32))
}

/// A contiguous CPU tensor of `shape` and float `dtype` filled as PyTorch's ``uniform_(low,
/// high)`` fills one (``rand`` is ``[0, 1)``).
#[pyfunction]
#[pyo3(signature = (shape, low, high, dtype, device, generator=None))]
fn _uniform(
    py: Python<'_>,
    shape: Vec<usize>,
    low: f64,
    high: f64,
    dtype: &Bound<'_, PyAny>,
    device: &Bound<'_, PyAny>,
    generator: Option<&Bound<'_, PyGenerator>>,
) -> PyResult<PyTensor> {
    let dtype = float_dtype(dtype)?;
    drawn(py, &shape, device, generator, |rng, n| {
        Tensor::from_f64s(&rng.uniform_fill(n, dtype, low, high), &shape, dtype)
    })
}

/// A contiguous CPU tensor of `shape` and float `dtype` filled as PyTorch's ``normal_(mean,
/// std)`` fills one; `serial` for a non-contiguous target (drawn one sample at a time).
#[pyfunction]
#[pyo3(signature = (shape, mean, std, dtype, device, serial=false, generator=None))]
#[allow(clippy::too_many_arguments)]
fn _normal(
    py: Python<'_>,
    shape: Vec<usize>,
    mean: f64,
    std: f64,
    dtype: &Bound<'_, PyAny>,
    device: &Bound<'_, PyAny>,
    serial: bool,
    generator: Option<&Bound<'_, PyGenerator>>,
) -> PyResult<PyTensor> {
    let dtype = float_dtype(dtype)?;
    drawn(py, &shape, device, generator, |rng, n| {
        Tensor::from_f64s(&rng.normal_fill(n, dtype, mean, std, serial), &shape, dtype)
    })
}

/// A contiguous CPU tensor of `shape` and float `dtype` filled as PyTorch's CPU
/// ``exponential_(lambd)`` fills one.
#[pyfunction]
#[pyo3(signature = (shape, lambd, dtype, device, generator=None))]
fn _exponential(
    py: Python<'_>,
    shape: Vec<usize>,
    lambd: f64,
    dtype: &Bound<'_, PyAny>,
    device: &Bound<'_, PyAny>,
    generator: Option<&Bound<'_, PyGenerator>>,
) -> PyResult<PyTensor> {
    let dtype = float_dtype(dtype)?;
    drawn(py, &shape, device, generator, |rng, n| {
        Tensor::from_f64s(&rng.exponential_fill(n, lambd), &shape, dtype)
    })
}

/// A contiguous int64 CPU tensor of `shape` of integers ``word % range + base`` as PyTorch's
/// ``random_`` draws them (64-bit words when `wide`).
#[pyfunction]
#[pyo3(signature = (shape, range, base, wide, device, generator=None))]
fn _random_ints(
    py: Python<'_>,
    shape: Vec<usize>,
    range: u64,
    base: i64,
    wide: bool,
    device: &Bound<'_, PyAny>,
    generator: Option<&Bound<'_, PyGenerator>>,
) -> PyResult<PyTensor> {
    if range == 0 {
        return Err(PyRuntimeError::new_err(
            "random_: the range must be positive",
        ));
    }
    drawn(py, &shape, device, generator, |rng, n| {
        Tensor::from_vec(rng.random_ints(n, range, base, wide), &shape)
    })
}

/// A random permutation of ``0..n`` (int64, on the CPU) by PyTorch's CPU shuffle.
#[pyfunction]
#[pyo3(signature = (n, device, generator=None))]
fn _randperm(
    py: Python<'_>,
    n: usize,
    device: &Bound<'_, PyAny>,
    generator: Option<&Bound<'_, PyGenerator>>,
) -> PyResult<PyTensor> {
    drawn(py, &[n], device, generator, |rng, n| {
        Tensor::from_vec(rng.randperm(n), &[n])
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGenerator>()?;
    m.add("default_generator", PyGenerator::default_cpu())?;
    m.add_function(wrap_pyfunction!(_uniform, m)?)?;
    m.add_function(wrap_pyfunction!(_normal, m)?)?;
    m.add_function(wrap_pyfunction!(_random_ints, m)?)?;
    m.add_function(wrap_pyfunction!(_exponential, m)?)?;
    m.add_function(wrap_pyfunction!(_randperm, m)?)?;
    Ok(())
}
