//! The one place that decides whether a binding releases the GIL while the core works.
//!
//! Every binding that calls into the core for tensor work (an op, a view, a copy, a cast, a
//! move between devices, an optimizer step, a backward pass) does it through [`run`], saying
//! which tensors the call involves ([`Work`]); no binding calls `py.detach` itself, so the
//! rule below holds everywhere. (`grep -rn 'py.detach' src/python` finds only `run`.)

use pyo3::prelude::*;

use crate::autograd::Var;
use crate::tensor::{Device, Tensor};

/// Calls touching at least this many elements run with the GIL released.
///
/// Releasing the GIL is cheap, taking it back is not always: while another Python thread
/// runs, a thread coming back from Rust waits up to that thread's switch interval (5 ms by
/// default, `sys.getswitchinterval()`) before it gets the GIL again. A kernel over 64K
/// elements takes some tens of microseconds, about what waking another thread costs, so
/// below this size releasing would give other threads nothing and could cost the caller
/// milliseconds; above it the kernel's own time dominates and other threads run meanwhile.
/// (The CPU kernels themselves go parallel from 32K elements.)
pub const RELEASE_NUMEL: usize = 1 << 16;

/// Dims of the broadcast shape tracked (from the right); sizes of further dims are left out
/// of it, which only underestimates the rare tensor of more dims.
const BROADCAST_DIMS: usize = 8;

/// What a call into the core works on, as far as the bindings can tell before making it.
/// Cheap to build: it is on every op's path.
#[derive(Clone, Copy)]
pub struct Work {
    /// Elements of all the tensors involved.
    elements: usize,
    /// The broadcast of their shapes, last dim first (each dim's largest size): an
    /// elementwise op writes that many elements, more than it reads for `a[:, None] - b`.
    broadcast: [usize; BROADCAST_DIMS],
    /// A tensor lives on a CUDA device: launching may first compile the kernel with NVRTC
    /// (seconds, once per process) and reading waits for the device's queue, neither bounded
    /// by the size, so such calls always release the GIL.
    cuda: bool,
    /// The size is not bounded by the arguments (a backward pass, a device synchronisation).
    unbounded: bool,
}

impl Default for Work {
    fn default() -> Work {
        Work {
            elements: 0,
            broadcast: [1; BROADCAST_DIMS],
            cuda: false,
            unbounded: false,
        }
    }
}

impl Work {
    /// Work on these variables' tensors (read in place: no clone on the per-op path).
    pub fn of<'a>(vars: impl IntoIterator<Item = &'a Var>) -> Work {
        vars.into_iter()
            .fold(Work::default(), |w, v| v.with_tensor(|t| w.tensor(t)))
    }

    /// Work whose cost the arguments do not bound: always released.
    pub fn unbounded() -> Work {
        Work {
            unbounded: true,
            ..Work::default()
        }
    }

    /// Work on `n` elements not held in a tensor yet (a tensor being created).
    pub fn elements(n: usize) -> Work {
        Work {
            elements: n,
            ..Work::default()
        }
    }

    /// Work filling a new tensor of this shape.
    pub fn shape(shape: &[usize]) -> Work {
        let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        Work::elements(n.unwrap_or(usize::MAX))
    }

    /// This work, done on `device` (a copy to it, a tensor created there).
    pub fn on(mut self, device: Device) -> Work {
        self.cuda |= device.is_cuda();
        self
    }

    /// This work and `t` too.
    pub fn tensor(mut self, t: &Tensor) -> Work {
        self.cuda |= t.is_cuda();
        self.dims(t.shape())
    }

    /// This work and a host tensor of this shape too.
    fn dims(mut self, shape: &[usize]) -> Work {
        let numel = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        self.elements = self.elements.saturating_add(numel.unwrap_or(usize::MAX));
        for (b, &d) in self.broadcast.iter_mut().zip(shape.iter().rev()) {
            *b = (*b).max(d);
        }
        self
    }

    fn releases_gil(&self) -> bool {
        let broadcast = self
            .broadcast
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .unwrap_or(usize::MAX);
        self.unbounded || self.cuda || self.elements.max(broadcast) >= RELEASE_NUMEL
    }
}

/// Runs `f`, the call into the core, with the GIL released when `work` is large (see
/// [`RELEASE_NUMEL`]) and with it held otherwise.
///
/// A panic inside the core never reaches Python as PyO3's `PanicException` (a
/// `BaseException`): it is caught here, where every binding enters the core, and becomes a
/// `RuntimeError` naming the binding (read from the closure's type, so no call site names it).
pub fn run<T: Send + FromPanic, F: FnOnce() -> T + Send>(py: Python<'_>, work: Work, f: F) -> T {
    let guarded = || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
            T::from_panic(panic_message(op_name::<F>(), payload.as_ref()))
        })
    };
    let out = super::autograd_extras::profiled(profile_name::<F>, || {
        if work.releases_gil() {
            py.detach(guarded)
        } else {
            guarded()
        }
    });
    // An op that saved an inference tensor for backward fails as in PyTorch.
    match crate::autograd::arena::take_save_error() {
        Some(e) => T::from_core_error(e),
        None => out,
    }
}

/// What a call into the core returns, able to carry a caught panic as an error.
pub trait FromPanic {
    fn from_core_error(e: crate::error::Error) -> Self;

    fn from_panic(message: String) -> Self
    where
        Self: Sized,
    {
        Self::from_core_error(crate::error::Error::Runtime(message))
    }
}

impl<T> FromPanic for crate::error::Result<T> {
    fn from_core_error(e: crate::error::Error) -> Self {
        Err(e)
    }
}

impl<T> FromPanic for PyResult<T> {
    fn from_core_error(e: crate::error::Error) -> Self {
        Err(e.into())
    }
}

/// The op a call into the core runs, for the profiler: the `ops` function named in the
/// closure's type when there is one (`op1<rustgrad::ops::unary::exp>` gives `exp`), else the
/// binding it was written in.
fn profile_name<F>() -> &'static str {
    let full = std::any::type_name::<F>();
    if let Some(at) = full.rfind("rustgrad::ops::") {
        let rest = &full[at + "rustgrad::ops::".len()..];
        let item = rest.split(['<', '>', ',', ' ']).next().unwrap_or(rest);
        if let Some(name) = item.rsplit("::").next().filter(|n| !n.is_empty()) {
            return name;
        }
    }
    let name = op_name::<F>();
    name.split('<').next().unwrap_or(name)
}

/// The binding a closure was written in: `...::PyTensor>::max::{{closure}}` gives `max`.
fn op_name<F>() -> &'static str {
    let full = std::any::type_name::<F>();
    full.rsplit("::")
        .find(|part| !part.starts_with("{{") && !part.is_empty())
        .map(|p| p.trim_start_matches("py_"))
        .unwrap_or(full)
}

fn panic_message(op: &str, payload: &(dyn std::any::Any + Send)) -> String {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("{op}: internal error (a Rust panic, please report it): {detail}")
}

// Compiled in always so the test runs against the shipped extension. (The `///` below is the
// function's `__doc__`, synced into `_core.pyi`.)
/// A test hook: a call into the core that panics inside ``gil::run``, as an internal bug
/// would; it raises ``RuntimeError`` naming ``debug_panic`` (no panic reaches Python).
#[pyfunction]
#[pyo3(name = "_debug_panic")]
pub fn debug_panic(py: Python<'_>, message: String) -> PyResult<()> {
    run(py, Work::default(), || -> PyResult<()> {
        panic!("{message}");
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::DType;

    fn t(shape: &[usize]) -> Tensor {
        Tensor::zeros(shape, DType::F32).unwrap()
    }

    #[test]
    fn small_work_keeps_the_gil() {
        assert!(!Work::default().tensor(&t(&[16, 16])).releases_gil());
        assert!(!Work::elements(RELEASE_NUMEL - 1).releases_gil());
    }

    #[test]
    fn large_or_unbounded_work_releases_it() {
        assert!(Work::default().tensor(&t(&[256, 256])).releases_gil());
        assert!(Work::default()
            .tensor(&t(&[128, 256]))
            .tensor(&t(&[128, 256]))
            .releases_gil());
        assert!(Work::elements(RELEASE_NUMEL).releases_gil());
        assert!(Work::elements(1).on(Device::Cuda(0)).releases_gil());
        assert!(Work::unbounded().releases_gil());
    }

    #[test]
    fn variables_count_by_their_shapes() {
        let a = Var::new(t(&[300, 1]), false);
        let b = Var::new(t(&[300]), false);
        assert!(!Work::of([&a]).releases_gil());
        // (300, 1) + (300,) writes 90000 elements.
        assert!(Work::of([&a, &b]).releases_gil());
    }

    #[test]
    fn broadcast_counts_what_is_written() {
        // (1000, 1) - (1000,) writes a million elements from two thousand.
        let w = Work::default().tensor(&t(&[1000, 1])).tensor(&t(&[1000]));
        assert_eq!(w.elements, 2000);
        assert_eq!(w.broadcast[..3], [1000, 1000, 1]);
        assert!(w.releases_gil());
    }
}
