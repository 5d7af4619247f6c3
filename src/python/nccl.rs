//! `rustgrad.distributed`'s NCCL backend in the core: unique ids and communicators. The
//! Python side (`distributed_c10d`) exchanges the unique id over MPI and routes CUDA tensors
//! here.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::cuda::device_at;
use super::gil::{self, Work};
use super::tensor::PyTensor;
use crate::backend::cuda::nccl::{nccl, Communicator, ReduceOp};

/// NCCL's version code (``22703`` for 2.27.3); RuntimeError saying how to install NCCL when
/// it cannot be loaded.
#[pyfunction]
fn _nccl_version() -> PyResult<i32> {
    let api = nccl().map_err(pyo3::exceptions::PyRuntimeError::new_err)?;
    Ok(api.version()?)
}

/// The file NCCL was loaded from (loads it), or None when it cannot be loaded.
#[pyfunction]
fn _nccl_library() -> Option<String> {
    nccl().ok().map(|n| n.path.display().to_string())
}

/// A fresh NCCL unique id (128 bytes), made by one rank and passed to every rank's
/// ``NcclCommunicator``.
#[pyfunction]
fn _nccl_unique_id(py: Python<'_>) -> PyResult<Bound<'_, PyBytes>> {
    let api = nccl().map_err(pyo3::exceptions::PyRuntimeError::new_err)?;
    let id = api.unique_id()?;
    Ok(PyBytes::new(py, &id))
}

/// One NCCL communicator: ``NcclCommunicator(unique_id, size, rank, device)`` joins the group
/// (blocking until every rank has). Collectives take contiguous CUDA tensors on ``device``
/// and are queued on its stream; ``op`` is ``ReduceOp``'s value (``"sum"``, ``"avg"``, ...).
#[pyclass(name = "NcclCommunicator", module = "rustgrad._core", frozen)]
pub struct PyNcclCommunicator {
    inner: Communicator,
}

#[pymethods]
impl PyNcclCommunicator {
    #[new]
    fn new(py: Python<'_>, unique_id: &[u8], size: i32, rank: i32, device: i64) -> PyResult<Self> {
        let dev = device_at(Some(device))?;
        let id = unique_id.to_vec();
        let inner = gil::run(py, Work::unbounded(), move || {
            Communicator::new(&id, size, rank, dev)
        })?;
        Ok(PyNcclCommunicator { inner })
    }

    /// This process's rank in the communicator.
    #[getter]
    fn rank(&self) -> i32 {
        self.inner.rank
    }

    /// Number of ranks.
    #[getter]
    fn size(&self) -> i32 {
        self.inner.size
    }

    /// Reduces ``tensor`` across the group in place (``op``: ``"sum"``, ``"avg"``, ...).
    fn all_reduce(&self, py: Python<'_>, tensor: &Bound<'_, PyTensor>, op: &str) -> PyResult<()> {
        let (t, op) = (tensor.get().var.tensor(), ReduceOp::parse(op)?);
        Ok(gil::run(py, Work::unbounded(), || {
            self.inner.all_reduce(&t, op)
        })?)
    }

    /// Copies rank ``root``'s ``tensor`` into ``tensor`` on every rank.
    fn broadcast(&self, py: Python<'_>, tensor: &Bound<'_, PyTensor>, root: i32) -> PyResult<()> {
        let t = tensor.get().var.tensor();
        Ok(gil::run(py, Work::unbounded(), || {
            self.inner.broadcast(&t, root)
        })?)
    }

    /// Reduces ``tensor`` across the group into ``tensor`` on rank ``root``.
    fn reduce(
        &self,
        py: Python<'_>,
        tensor: &Bound<'_, PyTensor>,
        root: i32,
        op: &str,
    ) -> PyResult<()> {
        let (t, op) = (tensor.get().var.tensor(), ReduceOp::parse(op)?);
        Ok(gil::run(py, Work::unbounded(), || {
            self.inner.reduce(&t, root, op)
        })?)
    }

    /// Concatenates every rank's ``input`` into ``output`` (rank order).
    fn all_gather(
        &self,
        py: Python<'_>,
        output: &Bound<'_, PyTensor>,
        input: &Bound<'_, PyTensor>,
    ) -> PyResult<()> {
        let (o, i) = (output.get().var.tensor(), input.get().var.tensor());
        Ok(gil::run(py, Work::unbounded(), || {
            self.inner.all_gather(&o, &i)
        })?)
    }

    /// Reduces ``input`` across the group; rank ``r`` gets the ``r``-th chunk in ``output``.
    fn reduce_scatter(
        &self,
        py: Python<'_>,
        output: &Bound<'_, PyTensor>,
        input: &Bound<'_, PyTensor>,
        op: &str,
    ) -> PyResult<()> {
        let (o, i) = (output.get().var.tensor(), input.get().var.tensor());
        let op = ReduceOp::parse(op)?;
        Ok(gil::run(py, Work::unbounded(), || {
            self.inner.reduce_scatter(&o, &i, op)
        })?)
    }

    /// Sends ``tensor`` to rank ``peer`` (matched by a ``recv`` there).
    fn send(&self, py: Python<'_>, tensor: &Bound<'_, PyTensor>, peer: i32) -> PyResult<()> {
        let t = tensor.get().var.tensor();
        Ok(gil::run(py, Work::unbounded(), || {
            self.inner.send(&t, peer)
        })?)
    }

    /// Receives into ``tensor`` from rank ``peer``.
    fn recv(&self, py: Python<'_>, tensor: &Bound<'_, PyTensor>, peer: i32) -> PyResult<()> {
        let t = tensor.get().var.tensor();
        Ok(gil::run(py, Work::unbounded(), || {
            self.inner.recv(&t, peer)
        })?)
    }

    /// Starts a group of sends and receives that NCCL runs together.
    fn group_start(&self) -> PyResult<()> {
        Ok(self.inner.group_start()?)
    }

    /// Ends the group (queues its calls).
    fn group_end(&self, py: Python<'_>) -> PyResult<()> {
        Ok(gil::run(py, Work::unbounded(), || self.inner.group_end())?)
    }

    /// The error NCCL met in queued work (a peer gone), or None.
    fn async_error(&self) -> PyResult<Option<String>> {
        Ok(self.inner.async_error()?)
    }

    /// Frees the communicator once its queued work has run; ``abort=True``: at once,
    /// abandoning queued work (what a timeout does). Later calls raise.
    #[pyo3(signature = (abort=false))]
    fn close(&self, py: Python<'_>, abort: bool) -> PyResult<()> {
        Ok(gil::run(py, Work::unbounded(), || self.inner.close(abort))?)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyNcclCommunicator>()?;
    m.add_function(wrap_pyfunction!(_nccl_version, m)?)?;
    m.add_function(wrap_pyfunction!(_nccl_library, m)?)?;
    m.add_function(wrap_pyfunction!(_nccl_unique_id, m)?)?;
    Ok(())
}
