//! The meta backend (PyTorch's `device='meta'`): memory that has a dtype and a length but no
//! bytes. Every kernel only works out how long its result is, so a model runs on meta tensors
//! to learn its shapes without computing or allocating anything. Reading the values (to the
//! host, `item()`, printing them) is PyTorch's error.

use super::{
    ActivationBackward, Along, AvgDivisor, BackendStorage, BinaryOp, CompareOp, Operand, OptimStep,
    SumPlan, UnaryArgs, UnaryOp, Windows2d,
};
use crate::base::layout::numel;
use crate::base::{Buffer, DType, Layout};
use crate::error::{Error, Result};

/// A meta tensor's memory: how many elements of which dtype it would hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetaBuffer {
    dtype: DType,
    len: usize,
}

impl MetaBuffer {
    pub fn new(dtype: DType, len: usize) -> MetaBuffer {
        MetaBuffer { dtype, len }
    }
}

/// PyTorch's error for reading the values of a meta tensor.
pub fn no_data() -> Error {
    Error::NotImplemented("Cannot copy out of meta tensor; no data!".into())
}

/// The product of sizes, or PyTorch's overflow error (no allocation guards meta sizes).
fn count(sizes: &[usize]) -> Result<usize> {
    sizes.iter().try_fold(1usize, |acc, &s| {
        acc.checked_mul(s)
            .ok_or_else(|| Error::Runtime("numel: integer multiplication overflow".into()))
    })
}

impl BackendStorage for MetaBuffer {
    type Device = ();

    fn zeros(_: &(), dtype: DType, n: usize) -> Result<Self> {
        Ok(MetaBuffer::new(dtype, n))
    }
    fn random(_: &(), n: usize, dtype: DType, _normal: bool) -> Result<Self> {
        Ok(MetaBuffer::new(dtype, n))
    }
    fn from_host(_: &(), host: &Buffer, _offset: usize, n: usize) -> Result<Self> {
        Ok(MetaBuffer::new(host.dtype(), n))
    }
    fn to_host(&self, _offset: usize, _n: usize) -> Result<Buffer> {
        Err(no_data())
    }

    fn dtype(&self) -> DType {
        self.dtype
    }
    fn len(&self) -> usize {
        self.len
    }

    fn gather(&self, layout: &Layout) -> Result<Self> {
        Ok(MetaBuffer::new(self.dtype, layout.numel()))
    }
    fn cast(&self, layout: &Layout, to: DType) -> Result<Self> {
        Ok(MetaBuffer::new(to, layout.numel()))
    }
    fn unary(&self, layout: &Layout, _: UnaryOp, _: UnaryArgs) -> Result<Self> {
        Ok(MetaBuffer::new(self.dtype, layout.numel()))
    }
    fn binary(
        _: BinaryOp,
        _: Operand<Self>,
        _: Operand<Self>,
        shape: &[usize],
        dtype: DType,
    ) -> Result<Self> {
        Ok(MetaBuffer::new(dtype, numel(shape)))
    }
    fn compare(
        _: CompareOp,
        _: Operand<Self>,
        _: Operand<Self>,
        shape: &[usize],
        _: DType,
    ) -> Result<Self> {
        Ok(MetaBuffer::new(DType::Bool, numel(shape)))
    }
    fn activation_backward(
        _: ActivationBackward,
        g: (&Self, &Layout),
        _: (&Self, &Layout),
        shape: &[usize],
    ) -> Result<Self> {
        Ok(MetaBuffer::new(g.0.dtype, numel(shape)))
    }
    fn where_(
        _: (&Self, &Layout),
        a: (&Self, &Layout),
        _: (&Self, &Layout),
        shape: &[usize],
    ) -> Result<Self> {
        Ok(MetaBuffer::new(a.0.dtype, numel(shape)))
    }

    fn sum(&self, _: &Layout, plan: &SumPlan) -> Result<Self> {
        Ok(MetaBuffer::new(self.dtype, plan.n_out))
    }
    fn extreme_rows(&self, _: usize, n_out: usize, _: usize, _: bool) -> Result<(Self, Self)> {
        Ok((
            MetaBuffer::new(self.dtype, n_out),
            MetaBuffer::new(DType::I64, n_out),
        ))
    }
    fn softmax_rows(&self, _: usize, n_out: usize, n: usize, _: bool) -> Result<Self> {
        Ok(MetaBuffer::new(self.dtype, count(&[n_out, n])?))
    }

    fn one_hot(&self, rows: Along, dtype: DType) -> Result<Self> {
        Ok(MetaBuffer::new(
            dtype,
            count(&[rows.outer, rows.n, rows.inner])?,
        ))
    }
    fn index_select(&self, rows: Along, index: &[usize]) -> Result<Self> {
        Ok(MetaBuffer::new(
            self.dtype,
            count(&[rows.outer, index.len(), rows.inner])?,
        ))
    }
    fn index_add(&self, rows: Along, _: &[usize]) -> Result<Self> {
        Ok(MetaBuffer::new(
            self.dtype,
            count(&[rows.outer, rows.n, rows.inner])?,
        ))
    }

    fn im2col(&self, g: &Windows2d) -> Result<Self> {
        let sizes = [g.planes, g.kernel[0], g.kernel[1], g.out[0], g.out[1]];
        Ok(MetaBuffer::new(self.dtype, count(&sizes)?))
    }
    fn col2im(&self, g: &Windows2d) -> Result<Self> {
        Ok(MetaBuffer::new(
            self.dtype,
            count(&[g.planes, g.size[0], g.size[1]])?,
        ))
    }
    fn max_pool2d(&self, g: &Windows2d) -> Result<(Self, Self)> {
        let n = count(&[g.planes, g.out[0], g.out[1]])?;
        Ok((
            MetaBuffer::new(self.dtype, n),
            MetaBuffer::new(DType::I64, n),
        ))
    }
    fn max_pool2d_backward(&self, _: (&Self, usize), g: &Windows2d) -> Result<Self> {
        self.col2im(g)
    }
    fn avg_pool2d(&self, g: &Windows2d, _: AvgDivisor) -> Result<Self> {
        Ok(MetaBuffer::new(
            self.dtype,
            count(&[g.planes, g.out[0], g.out[1]])?,
        ))
    }
    fn avg_pool2d_backward(&self, g: &Windows2d, _: AvgDivisor) -> Result<Self> {
        self.col2im(g)
    }

    fn batched_matmul(a: (&Self, &Layout), b: (&Self, &Layout)) -> Result<Self> {
        let (la, lb) = (a.1, b.1);
        let (nd, m) = (la.ndim(), la.shape[la.ndim() - 2]);
        let n = lb.shape[lb.ndim() - 1];
        let batch = count(&la.shape[..nd - 2])?;
        Ok(MetaBuffer::new(a.0.dtype, count(&[batch, m, n])?))
    }
    fn batched_addmm(
        c: (&Self, &Layout),
        a: (&Self, &Layout),
        _: (&Self, &Layout),
        _: f64,
        _: f64,
    ) -> Result<Self> {
        Ok(MetaBuffer::new(a.0.dtype, c.1.numel()))
    }

    // In-place kernels have nothing to write.
    fn copy_into(&mut self, _: &Layout, _: (&Self, &Layout)) -> Result<()> {
        Ok(())
    }
    fn binary_assign(&mut self, _: BinaryOp, _: &Layout, _: (&Self, &Layout)) -> Result<()> {
        Ok(())
    }
    fn put(&mut self, _: usize, _: &[usize], _: &Self) -> Result<()> {
        Ok(())
    }
    fn fill(&mut self, _: &Layout, _: f64) -> Result<()> {
        Ok(())
    }
    fn add_into(&mut self, _: &Layout, _: &Self) -> Result<()> {
        Ok(())
    }
    fn optimizer_step(
        &mut self,
        _: usize,
        _: usize,
        _: (&Self, usize),
        _: &mut [(&mut Self, usize)],
        _: &OptimStep,
    ) -> Result<()> {
        Ok(())
    }
}
