//! Module-level functions for ops with a node of their own: the fused products `addmm` and
//! `baddbmm` (`torch.addmm`, `torch.baddbmm`; the Tensor methods and
//! `nn.functional.linear` call them) and `embedding` (`nn.functional.embedding`).

use pyo3::prelude::*;
use pyo3::wrap_pyfunction;

use super::gil::{self, Work};
use super::tensor::PyTensor;
use super::types::number;
use crate::ops;

/// ``beta * input + alpha * (mat1 @ mat2)`` of two matrices, ``input`` broadcast to the
/// product's shape (``beta=0`` ignores it, NaN included), in one pass.
#[pyfunction]
#[pyo3(signature = (input, mat1, mat2, *, beta, alpha))]
fn addmm<'py>(
    input: &Bound<'py, PyTensor>,
    mat1: &Bound<'py, PyTensor>,
    mat2: &Bound<'py, PyTensor>,
    beta: &Bound<'py, PyAny>,
    alpha: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyTensor>> {
    let py = input.py();
    let (beta, alpha) = (number(beta, "beta")?, number(alpha, "alpha")?);
    let (i, a, b) = (&input.get().var, &mat1.get().var, &mat2.get().var);
    let out = gil::run(py, Work::of([i, a, b]), || ops::addmm(i, a, b, beta, alpha))?;
    Bound::new(py, PyTensor::wrap(out))
}

/// ``beta * input + alpha * bmm(batch1, batch2)`` of two ``[b, m, k]``, ``[b, k, n]``
/// batches, ``input`` broadcast to the product's shape, in one pass.
#[pyfunction]
#[pyo3(signature = (input, batch1, batch2, *, beta, alpha))]
fn baddbmm<'py>(
    input: &Bound<'py, PyTensor>,
    batch1: &Bound<'py, PyTensor>,
    batch2: &Bound<'py, PyTensor>,
    beta: &Bound<'py, PyAny>,
    alpha: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyTensor>> {
    let py = input.py();
    let (beta, alpha) = (number(beta, "beta")?, number(alpha, "alpha")?);
    let (i, a, b) = (&input.get().var, &batch1.get().var, &batch2.get().var);
    let out = gil::run(py, Work::of([i, a, b]), || {
        ops::baddbmm(i, a, b, beta, alpha)
    })?;
    Bound::new(py, PyTensor::wrap(out))
}

/// The rows of the 2-D ``weight`` picked by the integer ``indices``: ``[*indices, dim]``
/// (``EmbeddingBackward0``); the rows picked as ``padding_idx`` get no gradient, and
/// ``scale_grad_by_freq`` divides each row's gradient by its index's count.
#[pyfunction]
#[pyo3(signature = (weight, indices, padding_idx, scale_grad_by_freq))]
fn embedding<'py>(
    weight: &Bound<'py, PyTensor>,
    indices: &Bound<'py, PyTensor>,
    padding_idx: Option<usize>,
    scale_grad_by_freq: bool,
) -> PyResult<Bound<'py, PyTensor>> {
    let py = weight.py();
    let (w, i) = (&weight.get().var, &indices.get().var);
    let out = gil::run(py, Work::of([w, i]), || {
        ops::embedding(w, &i.tensor(), padding_idx, scale_grad_by_freq)
    })?;
    Bound::new(py, PyTensor::wrap(out))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(embedding, m)?)?;
    m.add_function(wrap_pyfunction!(addmm, m)?)?;
    m.add_function(wrap_pyfunction!(baddbmm, m)?)?;
    Ok(())
}
