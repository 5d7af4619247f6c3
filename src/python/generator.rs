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
use crate::backend::cpu::random::{Rng, DEFAULT, DEFAULT_SEED};
use crate::tensor::{DType, Device, Scalar, Tensor};

/// A random number generator with its own state: ``Generator(device='cpu')``.
///
/// Pass it as ``generator=`` to ``rand``, ``randn``, ``randint``, ``randperm``, ``normal``,
/// ``bernoulli``, ``multinomial`` and the in-place samplers; draws then come from (and
/// advance) this generator's state only. The same seed gives the same stream. Its draws are
/// made on the host (also for a CUDA generator, whose samples are then copied to its device);
/// they are not PyTorch's stream.
#[pyclass(name = "Generator", module = "rustgrad", frozen)]
pub struct PyGenerator {
    pub rng: Arc<Mutex<Rng>>,
    pub device: Device,
}

/// A seed as PyTorch reads one: any int in ``[-2**63, 2**64)``, negative ones wrapped.
fn seed_value(seed: &Bound<'_, PyAny>) -> PyResult<u64> {
    if !seed.is_instance_of::<PyInt>() || seed.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "manual_seed expected a long, but got {}",
            seed.get_type().name()?
        )));
    }
    if let Ok(v) = seed.extract::<u64>() {
        return Ok(v);
    }
    match seed.extract::<i64>() {
        Ok(v) => Ok(v as u64),
        Err(_) => Err(PyRuntimeError::new_err("Overflow when unpacking long")),
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

    /// `n` draws from U[0, 1) (or N(0, 1)) of this generator.
    pub fn draw(&self, n: usize, normal: bool) -> Vec<f64> {
        let mut rng = self.rng.lock();
        if normal {
            rng.normal(n)
        } else {
            rng.uniform(n)
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

    /// The whole state, as an int64 tensor of 5 elements (the seed, then xoshiro256**'s four
    /// words, bit for bit); ``set_state`` takes it back.
    fn get_state(&self) -> PyTensor {
        let values: Vec<Scalar> = self
            .rng
            .lock()
            .state()
            .iter()
            .map(|&v| Scalar::Int(v as i64))
            .collect();
        let t = Tensor::from_scalars(&values, &[5], DType::I64)
            .expect("five int64 values make a tensor");
        PyTensor::wrap(Var::new(t, false))
    }

    /// Restores a state from ``get_state`` (of this or any CPU generator); returns the
    /// generator.
    fn set_state<'py>(
        slf: &Bound<'py, Self>,
        new_state: &Bound<'_, PyTensor>,
    ) -> PyResult<Bound<'py, Self>> {
        let t = new_state.get().var.tensor();
        let bad = || {
            PyRuntimeError::new_err(
                "Generator.set_state: expected an int64 tensor of 5 elements from \
                 Generator.get_state()",
            )
        };
        if t.dtype() != DType::I64 || t.shape() != [5] {
            return Err(bad());
        }
        let words: Vec<i64> = new_state.call_method0("tolist")?.extract()?;
        let state = [0, 1, 2, 3, 4].map(|i| words[i] as u64);
        *slf.get().rng.lock() = Rng::from_state(state).ok_or_else(bad)?;
        Ok(slf.clone())
    }

    /// The device this generator samples for.
    #[getter]
    fn device(&self) -> PyDevice {
        PyDevice::from_device(self.device)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGenerator>()?;
    m.add("default_generator", PyGenerator::default_cpu())?;
    Ok(())
}
