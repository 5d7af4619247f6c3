//! A whole LSTM layer in one call (`torch._VF`'s fused layer, which PyTorch runs through
//! oneDNN on the CPU): `nn.LSTM` wraps these in its `MkldnnRnnLayer` autograd function.

use pyo3::prelude::*;
use pyo3::wrap_pyfunction;

use super::gil::{self, Work};
use super::tensor::PyTensor;
use crate::autograd::Var;
use crate::tensor::Tensor;

type Py4<'py> = (
    Bound<'py, PyTensor>,
    Bound<'py, PyTensor>,
    Bound<'py, PyTensor>,
    Bound<'py, PyTensor>,
);

fn tensor(t: &Bound<'_, PyTensor>) -> Tensor {
    t.get().var.tensor().clone()
}

fn wrap_all(py: Python<'_>, ts: [Tensor; 4]) -> PyResult<Py4<'_>> {
    let [a, b, c, d] = ts.map(|t| PyTensor::wrap(Var::new(t, false)));
    Ok((
        Bound::new(py, a)?,
        Bound::new(py, b)?,
        Bound::new(py, c)?,
        Bound::new(py, d)?,
    ))
}

/// ``(out, c_n, cells, gates)`` of one LSTM layer over ``proj`` ``[T, B, 4H]`` (each step's
/// input projection plus both biases) from ``h0``, ``c0`` ``[B, H]`` with ``w_hh``
/// ``[4H, H]``, without history: float32 or float64 CPU tensors.
#[pyfunction]
fn _lstm_layer<'py>(
    proj: &Bound<'py, PyTensor>,
    h0: &Bound<'py, PyTensor>,
    c0: &Bound<'py, PyTensor>,
    w_hh: &Bound<'py, PyTensor>,
    reverse: bool,
) -> PyResult<Py4<'py>> {
    let py = proj.py();
    let (p, h, c, w) = (tensor(proj), tensor(h0), tensor(c0), tensor(w_hh));
    let work = Work::default().tensor(&p).tensor(&w);
    let l = gil::run(py, work, || Tensor::lstm_layer(&p, &h, &c, &w, reverse))?;
    wrap_all(py, [l.out, l.c_n, l.cells, l.gates])
}

/// ``(d_proj, d_h0, d_c0, d_w_hh)`` from the gradients of ``_lstm_layer``'s ``out`` and
/// ``c_n`` and what it returned.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn _lstm_layer_backward<'py>(
    d_out: &Bound<'py, PyTensor>,
    d_cn: &Bound<'py, PyTensor>,
    h0: &Bound<'py, PyTensor>,
    c0: &Bound<'py, PyTensor>,
    w_hh: &Bound<'py, PyTensor>,
    out: &Bound<'py, PyTensor>,
    cells: &Bound<'py, PyTensor>,
    gates: &Bound<'py, PyTensor>,
    reverse: bool,
) -> PyResult<Py4<'py>> {
    let py = d_out.py();
    let saved = (tensor(out), tensor(cells), tensor(gates));
    let (dy, dc, h, c, w) = (
        tensor(d_out),
        tensor(d_cn),
        tensor(h0),
        tensor(c0),
        tensor(w_hh),
    );
    let work = Work::default().tensor(&saved.2).tensor(&w);
    let g = gil::run(py, work, || {
        let (out, cells, gates) = &saved;
        Tensor::lstm_layer_backward(&dy, &dc, &h, &c, &w, (out, cells, gates), reverse)
    })?;
    wrap_all(py, [g.proj, g.h0, g.c0, g.w_hh])
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_lstm_layer, m)?)?;
    m.add_function(wrap_pyfunction!(_lstm_layer_backward, m)?)?;
    Ok(())
}
