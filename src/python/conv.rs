//! im2col and col2im as module-level functions (`torch._C._nn.im2col`/`col2im`):
//! `rustgrad.nn.functional.unfold`/`fold` wrap them after normalising their arguments; and
//! the convolution node `F.conv1d`/`conv2d` run after checking theirs.

use pyo3::prelude::*;
use pyo3::wrap_pyfunction;

use super::gil::{self, Work};
use super::tensor::PyTensor;
use crate::autograd::Var;
use crate::backend::AvgDivisor;
use crate::ops;
use crate::tensor::{Tensor, Window};

/// The sliding blocks of a float ``[n, c, h, w]`` tensor as columns ``[n, c * kh * kw,
/// blocks]``; each argument is a pair of non-negative ints.
#[pyfunction]
fn im2col<'py>(
    input: &Bound<'py, PyTensor>,
    kernel_size: [usize; 2],
    dilation: [usize; 2],
    padding: [usize; 2],
    stride: [usize; 2],
) -> PyResult<Bound<'py, PyTensor>> {
    let py = input.py();
    let v = &input.get().var;
    let win = Window {
        kernel: kernel_size,
        dilation,
        padding,
        stride,
    };
    let out = gil::run(py, Work::of([v]), || ops::im2col(v, win))?;
    Bound::new(py, PyTensor::wrap(out))
}

/// Float columns ``[n, c * kh * kw, blocks]`` summed into ``[n, c, *output_size]`` images
/// (the adjoint of ``im2col``); each argument is a pair of non-negative ints.
#[pyfunction]
fn col2im<'py>(
    input: &Bound<'py, PyTensor>,
    output_size: [usize; 2],
    kernel_size: [usize; 2],
    dilation: [usize; 2],
    padding: [usize; 2],
    stride: [usize; 2],
) -> PyResult<Bound<'py, PyTensor>> {
    let py = input.py();
    let v = &input.get().var;
    let win = Window {
        kernel: kernel_size,
        dilation,
        padding,
        stride,
    };
    let out = gil::run(py, Work::of([v]), || ops::col2im(v, output_size, win))?;
    Bound::new(py, PyTensor::wrap(out))
}

/// The 2-d convolution of float ``[n, c, h, w]`` images with ``weight`` ``[o, c / groups, kh,
/// kw]`` (and ``bias`` ``[o]``), recorded as one ``ConvolutionBackward0`` node; each geometry
/// argument is a pair of non-negative ints (checked by ``nn.functional``).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn _convolution<'py>(
    input: &Bound<'py, PyTensor>,
    weight: &Bound<'py, PyTensor>,
    bias: Option<&Bound<'py, PyTensor>>,
    kernel_size: [usize; 2],
    dilation: [usize; 2],
    padding: [usize; 2],
    stride: [usize; 2],
    groups: usize,
) -> PyResult<Bound<'py, PyTensor>> {
    let py = input.py();
    let (x, w) = (&input.get().var, &weight.get().var);
    let b = bias.map(|b| b.get().var.clone());
    let win = Window {
        kernel: kernel_size,
        dilation,
        padding,
        stride,
    };
    let out = gil::run(py, Work::of([x, w]), || {
        ops::convolution(x, w, b.as_ref(), win, groups)
    })?;
    Bound::new(py, PyTensor::wrap(out))
}

/// A pooling window: ``kernel_size``, ``stride``, ``padding`` and ``dilation`` pairs.
fn pool_window(
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
) -> Window {
    Window {
        kernel,
        dilation,
        padding,
        stride,
    }
}

/// PyTorch's ``count_include_pad`` and ``divisor_override`` as one rule.
fn avg_divisor(count_include_pad: bool, divisor_override: Option<i64>) -> AvgDivisor {
    match divisor_override {
        Some(d) => AvgDivisor::Fixed(d),
        None if count_include_pad => AvgDivisor::IncludePad,
        None => AvgDivisor::ExcludePad,
    }
}

fn no_history(py: Python<'_>, t: Tensor) -> PyResult<Bound<'_, PyTensor>> {
    Bound::new(py, PyTensor::wrap(Var::new(t, false)))
}

/// ``(values, indices)`` of 2-d max pooling of a float ``[(n,) c, h, w]`` tensor to
/// ``output_size``, without history (``F.max_pool2d``'s kernel; it checks the arguments and
/// computes ``output_size``); ``indices`` are the int64 flat ``h * w`` positions of the
/// maxima.
#[pyfunction]
fn _max_pool2d<'py>(
    input: &Bound<'py, PyTensor>,
    kernel_size: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    output_size: [usize; 2],
) -> PyResult<(Bound<'py, PyTensor>, Bound<'py, PyTensor>)> {
    let py = input.py();
    let x = input.get().var.tensor().clone();
    let win = pool_window(kernel_size, stride, padding, dilation);
    let (values, indices) = gil::run(py, Work::default().tensor(&x), || {
        x.max_pool2d(&win, output_size)
    })?;
    Ok((no_history(py, values)?, no_history(py, indices)?))
}

/// The input gradient ``[(n,) c, *input_size]`` of ``_max_pool2d`` from the output's
/// gradient and the indices it returned, without history.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn _max_pool2d_backward<'py>(
    grad: &Bound<'py, PyTensor>,
    indices: &Bound<'py, PyTensor>,
    input_size: [usize; 2],
    kernel_size: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
) -> PyResult<Bound<'py, PyTensor>> {
    let py = grad.py();
    let (g, i) = (
        grad.get().var.tensor().clone(),
        indices.get().var.tensor().clone(),
    );
    let win = pool_window(kernel_size, stride, padding, dilation);
    let out = gil::run(py, Work::default().tensor(&g), || {
        Tensor::max_pool2d_backward(&g, &i, input_size, &win)
    })?;
    no_history(py, out)
}

/// 2-d average pooling of a float ``[(n,) c, h, w]`` tensor to ``output_size``, without
/// history (``F.avg_pool2d``'s kernel; it checks the arguments and computes
/// ``output_size``).
#[pyfunction]
fn _avg_pool2d<'py>(
    input: &Bound<'py, PyTensor>,
    kernel_size: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    output_size: [usize; 2],
    count_include_pad: bool,
    divisor_override: Option<i64>,
) -> PyResult<Bound<'py, PyTensor>> {
    let py = input.py();
    let x = input.get().var.tensor().clone();
    let win = pool_window(kernel_size, stride, padding, [1, 1]);
    let divisor = avg_divisor(count_include_pad, divisor_override);
    let out = gil::run(py, Work::default().tensor(&x), || {
        x.avg_pool2d(&win, output_size, divisor)
    })?;
    no_history(py, out)
}

/// The input gradient ``[(n,) c, *input_size]`` of ``_avg_pool2d`` from the output's
/// gradient, without history.
#[pyfunction]
fn _avg_pool2d_backward<'py>(
    grad: &Bound<'py, PyTensor>,
    input_size: [usize; 2],
    kernel_size: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    count_include_pad: bool,
    divisor_override: Option<i64>,
) -> PyResult<Bound<'py, PyTensor>> {
    let py = grad.py();
    let g = grad.get().var.tensor().clone();
    let win = pool_window(kernel_size, stride, padding, [1, 1]);
    let divisor = avg_divisor(count_include_pad, divisor_override);
    let out = gil::run(py, Work::default().tensor(&g), || {
        Tensor::avg_pool2d_backward(&g, input_size, &win, divisor)
    })?;
    no_history(py, out)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_convolution, m)?)?;
    m.add_function(wrap_pyfunction!(im2col, m)?)?;
    m.add_function(wrap_pyfunction!(col2im, m)?)?;
    m.add_function(wrap_pyfunction!(_max_pool2d, m)?)?;
    m.add_function(wrap_pyfunction!(_max_pool2d_backward, m)?)?;
    m.add_function(wrap_pyfunction!(_avg_pool2d, m)?)?;
    m.add_function(wrap_pyfunction!(_avg_pool2d_backward, m)?)?;
    Ok(())
}
