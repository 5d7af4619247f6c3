//! PyO3 bindings: argument conversion, the `Tensor` class, graph nodes, exceptions. Only
//! this module imports PyO3; everything below it is plain Rust.

mod convert;
mod creation;
mod cuda;
mod function;
mod node;
pub mod tensor;
mod types;

use pyo3::exceptions::{PyIndexError, PyMemoryError, PyRuntimeError, PyTypeError, PyValueError};
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
            Error::Foreign(payload, m) => match payload.downcast_ref::<PyErr>() {
                Some(err) => Python::attach(|py| err.clone_ref(py)),
                None => PyRuntimeError::new_err(m),
            },
        }
    }
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<tensor::PyTensor>()?;
    m.add_class::<node::PyNode>()?;
    m.add_class::<node::PyAccumulateGrad>()?;
    m.add_class::<types::PyDType>()?;
    m.add_class::<types::PyDevice>()?;
    m.add_class::<convert::StorageOwner>()?;
    types::register_dtypes(m)?;
    creation::register(m)?;
    cuda::register(m)?;
    function::register(m)?;
    Ok(())
}
