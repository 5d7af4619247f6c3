//! Reductions: sums and means over dims, max/min in their three forms, softmax.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use super::args::{cached, dims_arg};
use super::{Obj, PyTensor};
use crate::autograd::Var;
use crate::error::Result;
use crate::ops;
use crate::python::gil::{self, Work};
use crate::python::types;
use crate::tensor::DType;

static MAX_TYPE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static MIN_TYPE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `sum` (or `mean`) over `dim` (None: all dims), then cast to `dtype` when one is given.
pub(super) fn sum_or_mean(
    me: &PyTensor,
    py: Python<'_>,
    dim: Option<&Obj<'_>>,
    keepdim: bool,
    dtype: Option<&Obj<'_>>,
    mean: bool,
) -> PyResult<PyTensor> {
    let dims = dims_arg(dim)?;
    // As PyTorch: the input is cast to `dtype` first (so `sum(dtype=int64)` of floats sums
    // truncated values, and `mean(dtype=float64)` of ints is allowed).
    let dtype = types::parse_dtype(dtype)?;
    // Through a function named after the op, which the profiler records.
    if mean {
        self::mean(me, py, &dims, keepdim, dtype)
    } else {
        self::sum(me, py, &dims, keepdim, dtype)
    }
}

fn sum(
    me: &PyTensor,
    py: Python<'_>,
    dims: &Option<Vec<i64>>,
    keepdim: bool,
    dtype: Option<DType>,
) -> PyResult<PyTensor> {
    me.op(py, |v| reduce_to(v, dims, keepdim, dtype, false))
}

fn mean(
    me: &PyTensor,
    py: Python<'_>,
    dims: &Option<Vec<i64>>,
    keepdim: bool,
    dtype: Option<DType>,
) -> PyResult<PyTensor> {
    me.op(py, |v| reduce_to(v, dims, keepdim, dtype, true))
}

fn reduce_to(
    v: &Var,
    dims: &Option<Vec<i64>>,
    keepdim: bool,
    dtype: Option<DType>,
    mean: bool,
) -> Result<Var> {
    let cast;
    let v = match dtype {
        Some(d) => {
            ops::check_autograd_dtype(v, d)?;
            cast = ops::to_dtype(v, d)?;
            &cast
        }
        None => v,
    };
    // (`dim=None, keepdim=True` keeps every dim, each of size 1)
    let every: Option<Vec<i64>>;
    let dims = match dims {
        None if keepdim => {
            every = Some((0..v.shape().len() as i64).collect());
            &every
        }
        _ => dims,
    };
    let r = match dims {
        None if mean => ops::mean(v),
        None => ops::sum(v),
        Some(ds) => {
            let wrapped = ops::reduction_dims(Some(ds), v.shape().len())?;
            if mean {
                ops::mean_dims(v, &wrapped, keepdim)
            } else {
                ops::sum_dims(v, &wrapped, keepdim)
            }
        }
    }?;
    // A bool sum is counted in int64; `dtype=bool` wants it back as bool (any).
    match dtype {
        Some(d) if d != r.dtype() => ops::to_dtype(&r, d),
        _ => Ok(r),
    }
}

/// `max()` / `min()`: the extreme element; `max(other)`: elementwise with a tensor;
/// `max(dim, keepdim)`: `(values, indices)` as `rustgrad.return_types.max`.
pub(super) fn extreme(
    me: &PyTensor,
    py: Python<'_>,
    dim: Option<&Obj<'_>>,
    keepdim: bool,
    max: bool,
) -> PyResult<Py<PyAny>> {
    let new = |t: PyResult<PyTensor>| Ok(Bound::new(py, t?)?.into_any().unbind());
    match dim {
        None => new(me.op(py, |v| ops::extreme(v, max))),
        Some(d) if d.cast::<PyTensor>().is_ok() => {
            let o = d.cast::<PyTensor>()?.get().var.clone();
            let f = if max { ops::maximum } else { ops::minimum };
            new(me.op2(py, &o, f))
        }
        Some(d) => {
            let d: i64 = d.extract()?;
            let v = &me.var;
            let (values, indices) =
                gil::run(py, Work::of([v]), || ops::extreme_dim(v, d, keepdim, max))?;
            let ty = if max {
                cached(py, &MAX_TYPE, "rustgrad.return_types", "max")?
            } else {
                cached(py, &MIN_TYPE, "rustgrad.return_types", "min")?
            };
            let pair = (PyTensor::wrap(values), PyTensor::wrap(indices));
            Ok(ty.call1(pair)?.unbind())
        }
    }
}

/// `softmax` or `log_softmax` (`f`) along `dim`, after casting to `dtype` when given.
pub(super) fn softmax(
    me: &PyTensor,
    py: Python<'_>,
    dim: i64,
    dtype: Option<&Obj<'_>>,
    f: fn(&Var, i64) -> Result<Var>,
) -> PyResult<PyTensor> {
    let dtype: Option<DType> = types::parse_dtype(dtype)?;
    me.op(py, |v| match dtype {
        Some(d) => f(&ops::to_dtype(v, d)?, dim),
        None => f(v, dim),
    })
}

/// ``amax`` (``largest``) or ``amin`` of ``input`` over ``dims`` (distinct, wrapped; all of
/// them for a whole-tensor reduction), recorded as one ``AmaxBackward0``/``AminBackward0``
/// node. ``rustgrad.amax`` checks the arguments and gives PyTorch's errors first.
#[pyfunction]
fn _amax<'py>(
    input: &Bound<'py, PyTensor>,
    dims: Vec<usize>,
    keepdim: bool,
    largest: bool,
) -> PyResult<PyTensor> {
    input
        .get()
        .op(input.py(), |v| ops::amax(v, &dims, keepdim, largest))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_amax, m)?)
}
