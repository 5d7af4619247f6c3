//! rustgrad: a reverse-mode automatic-differentiation engine.
//!
//! Layers, top to bottom (see `ARCHITECTURE.md` in the shared folder and `docs/` here):
//! - [`python`]: PyO3 bindings only.
//! - [`autograd`]: the graph arena, the backward engine, grad mode.
//! - [`ops`]: every differentiable op, forward and backward formula side by side.
//! - [`tensor`]: storage (shared, versioned) and layout (shape, strides, offset).
//! - [`backend`]: kernels; they know nothing of gradients.

pub mod error;

pub mod autograd;
pub mod backend;
pub mod base;
pub mod compile;
pub mod ops;
pub mod optim;
pub mod python;
pub mod tensor;

pub use autograd::Var;
pub use error::{Error, Result};
pub use tensor::{DType, Tensor};

/// mimalloc keeps freed large buffers mapped for reuse: with the system allocator every
/// fresh multi-megabyte tensor paid thousands of page faults (measured in BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
