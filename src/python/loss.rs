//! Losses with a node of their own in the core (the rest are Python composites).

use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::gil::{self, Work};
use super::tensor::PyTensor;
use crate::ops::{self, NllRows, Reduction};

/// ``nll_loss`` of float32/float64 CPU log-probabilities ``[N, C]`` (or ``[C]``) at int64/uint8
/// class indices ``[N]`` (or ``()``), without class weights, recorded as one
/// ``NllLossBackward0`` node; ``reduction`` is ``"none"``, ``"mean"`` or ``"sum"``. None when
/// a target equals ``ignore_index`` or for other shapes, dtypes and devices:
/// ``nn.functional.nll_loss`` then takes its general path (which checks them).
#[pyfunction]
fn _nll_loss<'py>(
    input: &Bound<'py, PyTensor>,
    target: &Bound<'py, PyTensor>,
    ignore_index: i64,
    reduction: &str,
) -> PyResult<Option<Bound<'py, PyTensor>>> {
    let py = input.py();
    let reduction = match reduction {
        "none" => Reduction::None,
        "mean" => Reduction::Mean,
        "sum" => Reduction::Sum,
        other => {
            return Err(PyValueError::new_err(format!(
                "{other} is not a valid value for reduction"
            )))
        }
    };
    let (x, t) = (&input.get().var, target.get().var.tensor());
    let float = matches!(
        x.dtype(),
        crate::tensor::DType::F32 | crate::tensor::DType::F64
    );
    if !float || x.tensor().device() != crate::tensor::Device::Cpu || x.tensor().numel() >= 1 << 24
    {
        return Ok(None);
    }
    let out = gil::run(py, Work::of([x]), || -> crate::error::Result<Option<_>> {
        match NllRows::new(&x.shape(), &t, ignore_index)? {
            Some(rows) => Ok(Some(ops::nll_loss(x, Arc::new(rows), reduction)?)),
            None => Ok(None),
        }
    })?;
    out.map(|v| Bound::new(py, PyTensor::wrap(v))).transpose()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_nll_loss, m)?)
}
