//! PyO3 bindings: argument conversion, the `Tensor` class, graph nodes, exceptions. Only
//! this module imports PyO3; everything below it is plain Rust.
//!
//! - `tensor/`: the `Tensor` class (see its `mod.rs` for the layout by topic).
//! - `creation.rs`: module-level functions: creation, `where`/`cat`/`stack`, the engine.
//! - `function.rs`: hooks, custom `Function`s, anomaly mode, optimizer steps.
//! - `node.rs`: `grad_fn` objects. `types.rs`: `dtype` and `device`. `cuda.rs`: the
//!   `rustgrad.cuda` entry points. `convert.rs`: Python data to tensors and back.
//! - `generator.rs`: `Generator` and `default_generator`.
//! - `gil.rs`: the one place that decides whether a call releases the GIL.
//!
//! The `///` docs of everything exported are its Python `__doc__` and, through
//! `scripts/sync_stubs.py`, the docstrings of `python/rustgrad/_core.pyi`.

mod activation;
mod autograd_extras;
mod compile;
mod conv;
mod convert;
mod creation;
mod cuda;
mod function;
mod generator;
mod gil;
mod loss;
mod nccl;
mod node;
mod products;
mod rnn;
pub mod tensor;
mod types;

use pyo3::exceptions::{
    PyIndexError, PyMemoryError, PyNotImplementedError, PyRuntimeError, PyTypeError, PyValueError,
};
use pyo3::prelude::*;

use crate::error::Error;

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        match e {
            Error::Runtime(m) => PyRuntimeError::new_err(m),
            Error::Index(m) => PyIndexError::new_err(m),
            Error::Type(m) => PyTypeError::new_err(m),
            Error::Value(m) => PyValueError::new_err(m),
            Error::Memory(m) => PyMemoryError::new_err(m),
            Error::NotImplemented(m) => PyNotImplementedError::new_err(m),
            Error::Foreign(payload, m) => match payload.downcast_ref::<PyErr>() {
                Some(err) => Python::attach(|py| err.clone_ref(py)),
                None => PyRuntimeError::new_err(m),
            },
        }
    }
}

/// The compiled core of rustgrad (a PyO3 extension; sources in ``src/python/``): tensors,
/// kernels, the graph and the backward engine. The ``rustgrad`` package arranges it into
/// torch-shaped namespaces.
///
/// Shapes are written as tuples: ``(n, m)`` is a 2-d tensor, ``(*, n)`` any leading dims.
/// Every op that returns a new tensor records a ``grad_fn`` when an input requires grad and
/// grad mode is on; ops that end in ``_`` work in place and return ``self``.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // The crate's version is the one source: maturin writes it into the wheel's metadata too.
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<tensor::PyTensor>()?;
    m.add_class::<node::PyNode>()?;
    m.add_class::<node::PyAccumulateGrad>()?;
    m.add_class::<types::PyDType>()?;
    m.add_class::<types::PyDevice>()?;
    m.add_class::<convert::StorageOwner>()?;
    types::register_dtypes(m)?;
    creation::register(m)?;
    generator::register(m)?;
    cuda::register(m)?;
    nccl::register(m)?;
    function::register(m)?;
    autograd_extras::register(m)?;
    compile::register(m)?;
    activation::register(m)?;
    conv::register(m)?;
    tensor::reduce::register(m)?;
    loss::register(m)?;
    products::register(m)?;
    rnn::register(m)?;
    Ok(())
}
