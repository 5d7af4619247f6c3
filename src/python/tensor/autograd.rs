//! Autograd attributes (`.grad`, `requires_grad`), `backward`, and copies.

use pyo3::exceptions::{PyRuntimeError, PyUserWarning};
use pyo3::prelude::*;

use super::args::tensor_list;
use super::{Obj, PyTensor};
use crate::autograd::{self, Var};
use crate::python::gil::{self, Work};

/// `t.grad`, warning (as PyTorch does) when read on a non-leaf that does not retain it.
pub(super) fn grad<'py>(me: &PyTensor, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTensor>>> {
    if !me.var.is_leaf() && !me.var.retains_grad() {
        PyErr::warn(
            py,
            &py.get_type::<PyUserWarning>(),
            c"The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its \
              .grad attribute won't be populated during autograd.backward(). If you indeed \
              want the .grad field to be populated for a non-leaf Tensor, use .retain_grad() \
              on the non-leaf Tensor.",
            1,
        )?;
    }
    me.var.grad().map(|g| PyTensor::object(py, g)).transpose()
}

/// `t.grad = value`: None, or a tensor like `t` (same dtype, shape and device).
pub(super) fn set_grad(me: &PyTensor, value: Option<&Bound<'_, PyTensor>>) -> PyResult<()> {
    let Some(g) = value else {
        me.var.set_grad(None);
        return Ok(());
    };
    let object = g;
    let g = g.get().var.clone();
    let problem = if g.ptr_eq(&me.var) {
        Some("can't assign Variable as its own grad".to_string())
    } else if g.dtype() != me.var.dtype() {
        Some(format!(
            "attempting to assign a gradient with dtype '{}' to a tensor with grad_dtype '{}'. \
             The gradient must match the tensor's grad_dtype (defaults to the tensor's dtype). \
             You can set the tensor's grad_dtype attribute with a specific dtype, or None to \
             allow any dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor \
             and its gradient may break downstream systems that assume they match.",
            g.dtype().c_name(),
            me.var.dtype().scalar_name()
        ))
    } else if g.shape() != me.var.shape() {
        Some(format!(
            "attempting to assign a gradient of size '{:?}' to a tensor of size '{:?}'. Please \
             ensure that the gradient and the tensor are the same size",
            g.shape(),
            me.var.shape()
        ))
    } else if g.tensor().device() != me.var.tensor().device() {
        Some("assigned grad has data located on a different device".to_string())
    } else {
        None
    };
    if let Some(message) = problem {
        return Err(PyRuntimeError::new_err(message));
    }
    me.var.set_grad(Some(g));
    // (so that `t.grad is value`, as in PyTorch)
    PyTensor::register_if_unknown(object)
}

/// `t.requires_grad = value`; a leaf that now requires grad is registered (so that its
/// `AccumulateGrad` node hands back this very object).
pub(super) fn set_requires_grad(slf: &Bound<'_, PyTensor>, value: bool) -> PyResult<()> {
    slf.get().var.set_requires_grad(value)?;
    if value {
        PyTensor::register(slf)?;
    }
    Ok(())
}

/// `t.detach_()`.
pub(super) fn detach_<'py>(slf: &Bound<'py, PyTensor>) -> PyResult<Bound<'py, PyTensor>> {
    let v = &slf.get().var;
    if v.view_base().is_some() {
        return Err(PyRuntimeError::new_err(
            "Can't detach views in-place. Use detach() instead. If you are using \
             DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as \
             True, gradients are views of DDP buckets, and hence detach_() cannot be called on \
             these gradients. To fix this error, please refer to the Optimizer.zero_grad() \
             function in torch/optim/optimizer.py as the solution.",
        ));
    }
    crate::compile::note_break("`detach_()` changed a tensor's history");
    v.set_grad_fn(None);
    let _ = v.set_requires_grad(false);
    Ok(slf.clone())
}

/// `t.backward(...)`: the whole backward pass runs without the GIL (hooks and custom
/// functions take it back for their Python code).
pub(super) fn backward(
    me: &PyTensor,
    py: Python<'_>,
    gradient: Option<&Bound<'_, PyTensor>>,
    retain_graph: Option<bool>,
    create_graph: bool,
    inputs: Option<&Obj<'_>>,
) -> PyResult<()> {
    let grad = gradient.map(|g| g.get().var.clone());
    let inputs = inputs.map(tensor_list).transpose()?;
    let root = me.var.clone();
    let retain = retain_graph.unwrap_or(create_graph);
    gil::run(py, Work::unbounded(), move || {
        autograd::backward(&[root], &[grad], retain, create_graph, inputs.as_deref())
    })?;
    Ok(())
}

/// `copy.deepcopy(t)`: a leaf copy with its own storage, keeping `requires_grad` and a copy
/// of `.grad`.
pub(super) fn deepcopy(me: &PyTensor, py: Python<'_>) -> PyResult<PyTensor> {
    if !me.var.is_leaf() {
        return Err(PyRuntimeError::new_err(
            "Only Tensors created explicitly by the user (graph leaves) support the deepcopy \
             protocol at the moment.",
        ));
    }
    let grad = me.var.grad();
    let work = Work::of([&me.var].into_iter().chain(grad.as_ref()));
    let (data, grad) = gil::run(py, work, || -> crate::error::Result<_> {
        let data = me.var.tensor().clone_data()?;
        let grad = grad.map(|g| g.tensor().clone_data()).transpose()?;
        Ok((data, grad))
    })?;
    let copy = Var::new(data, false);
    copy.set_requires_grad(me.var.requires_grad())?;
    if let Some(g) = grad {
        copy.set_grad(Some(Var::new(g, false)));
    }
    Ok(PyTensor::wrap(copy))
}
