//! Activation functions as module-level functions (PyTorch has them in
//! `torch.nn.functional`, not as `Tensor` methods): `rustgrad.nn.functional` wraps these.
//! With `inplace=True` the result is written into the input, which is returned.

use pyo3::prelude::*;
use pyo3::wrap_pyfunction;

use super::gil::{self, Work};
use super::tensor::PyTensor;
use crate::autograd::Var;
use crate::error::Result;
use crate::ops;

/// `f(input)`, or written into `input` when `inplace`.
fn apply<'py>(
    input: &Bound<'py, PyTensor>,
    inplace: bool,
    f: impl Fn(&Var) -> Result<Var> + Send + Sync,
) -> PyResult<Bound<'py, PyTensor>> {
    let py = input.py();
    let v = &input.get().var;
    if inplace {
        gil::run(py, Work::of([v]), || ops::rebase(v, &[], |p, _| f(p)))?;
        return Ok(input.clone());
    }
    let out = gil::run(py, Work::of([v]), || f(v))?;
    Bound::new(py, PyTensor::wrap(out))
}

/// GELU: ``x * Phi(x)`` (``approximate="none"``) or ``0.5 * x * (1 + tanh(sqrt(2 / pi) *
/// (x + 0.044715 * x ** 3)))`` (``approximate="tanh"``); floating tensors.
#[pyfunction]
#[pyo3(signature = (input, approximate="none"))]
fn gelu<'py>(input: &Bound<'py, PyTensor>, approximate: &str) -> PyResult<Bound<'py, PyTensor>> {
    let tanh = match approximate {
        "none" => false,
        "tanh" => true,
        _ => {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "approximate argument must be either none or tanh.",
            ))
        }
    };
    apply(input, false, move |v| ops::gelu(v, tanh))
}

/// SiLU (swish): ``x * sigmoid(x)``.
#[pyfunction]
#[pyo3(signature = (input, inplace=false))]
fn silu<'py>(input: &Bound<'py, PyTensor>, inplace: bool) -> PyResult<Bound<'py, PyTensor>> {
    apply(input, inplace, ops::silu)
}

/// Mish: ``x * tanh(softplus(x))``.
#[pyfunction]
#[pyo3(signature = (input, inplace=false))]
fn mish<'py>(input: &Bound<'py, PyTensor>, inplace: bool) -> PyResult<Bound<'py, PyTensor>> {
    apply(input, inplace, ops::mish)
}

/// Softplus: ``log(1 + exp(beta * x)) / beta``, and ``x`` where ``beta * x > threshold``.
#[pyfunction]
#[pyo3(signature = (input, beta=1.0, threshold=20.0))]
fn softplus<'py>(
    input: &Bound<'py, PyTensor>,
    beta: f64,
    threshold: f64,
) -> PyResult<Bound<'py, PyTensor>> {
    apply(input, false, move |v| ops::softplus(v, beta, threshold))
}

/// ELU: ``scale * x`` for ``x > 0``, else ``alpha * scale * (exp(input_scale * x) - 1)``
/// (``elu`` is ``scale = input_scale = 1``; ``selu`` fixes all three).
#[pyfunction]
#[pyo3(signature = (input, alpha=1.0, scale=1.0, input_scale=1.0, inplace=false))]
fn elu<'py>(
    input: &Bound<'py, PyTensor>,
    alpha: f64,
    scale: f64,
    input_scale: f64,
    inplace: bool,
) -> PyResult<Bound<'py, PyTensor>> {
    let node = if inplace {
        "EluBackward1"
    } else {
        "EluBackward0"
    };
    apply(input, inplace, move |v| {
        ops::elu(v, alpha, scale, (input_scale, input_scale), node)
    })
}

/// CELU: ``x`` for ``x > 0``, else ``alpha * (exp(x / alpha) - 1)`` (an ELU with
/// ``input_scale = 1 / alpha``, recorded as PyTorch's ``CeluBackward0``/``1``).
#[pyfunction]
#[pyo3(signature = (input, alpha=1.0, inplace=false))]
fn celu<'py>(
    input: &Bound<'py, PyTensor>,
    alpha: f64,
    inplace: bool,
) -> PyResult<Bound<'py, PyTensor>> {
    let node = if inplace {
        "CeluBackward1"
    } else {
        "CeluBackward0"
    };
    apply(input, inplace, move |v| {
        // PyTorch's CELU backward takes `1 / alpha` from a float32 alpha (`alpha.toFloat()`).
        let grad_input_scale = 1.0 / (alpha as f32 as f64);
        ops::elu(v, alpha, 1.0, (1.0 / alpha, grad_input_scale), node)
    })
}

/// Leaky ReLU: ``x`` for ``x > 0``, else ``negative_slope * x``.
#[pyfunction]
#[pyo3(signature = (input, negative_slope=0.01, inplace=false))]
fn leaky_relu<'py>(
    input: &Bound<'py, PyTensor>,
    negative_slope: f64,
    inplace: bool,
) -> PyResult<Bound<'py, PyTensor>> {
    apply(input, inplace, move |v| {
        ops::leaky_relu(v, negative_slope, inplace)
    })
}

/// Hardtanh: ``x`` clamped into ``[min_val, max_val]`` (``relu6`` is ``[0, 6]``); the
/// gradient is zero at and beyond the bounds.
#[pyfunction]
#[pyo3(signature = (input, min_val=-1.0, max_val=1.0, inplace=false))]
fn hardtanh<'py>(
    input: &Bound<'py, PyTensor>,
    min_val: f64,
    max_val: f64,
    inplace: bool,
) -> PyResult<Bound<'py, PyTensor>> {
    apply(input, inplace, move |v| ops::hardtanh(v, min_val, max_val))
}

/// ``log(sigmoid(x))``, computed without overflow.
#[pyfunction]
fn logsigmoid<'py>(input: &Bound<'py, PyTensor>) -> PyResult<Bound<'py, PyTensor>> {
    apply(input, false, ops::logsigmoid)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(gelu, m)?)?;
    m.add_function(wrap_pyfunction!(silu, m)?)?;
    m.add_function(wrap_pyfunction!(mish, m)?)?;
    m.add_function(wrap_pyfunction!(softplus, m)?)?;
    m.add_function(wrap_pyfunction!(elu, m)?)?;
    m.add_function(wrap_pyfunction!(celu, m)?)?;
    m.add_function(wrap_pyfunction!(leaky_relu, m)?)?;
    m.add_function(wrap_pyfunction!(hardtanh, m)?)?;
    m.add_function(wrap_pyfunction!(logsigmoid, m)?)?;
    Ok(())
}
