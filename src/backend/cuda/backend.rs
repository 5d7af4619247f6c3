//! [`BackendStorage`] for device memory: each kernel of the trait as launches of the kernels in
//! `kernels/*.cu` (through `ops`), or cuBLAS for float products.

use std::sync::Arc;

use super::device::CudaDevice;
use super::ops::{self as k, View};
use super::CudaBuffer;
use crate::backend::{
    ActivationBackward, Along, AvgDivisor, BackendStorage, BinaryOp, CompareOp, Operand, OptimStep,
    SumPlan, SumRead, UnaryArgs, UnaryOp, Windows2d,
};
use crate::base::{Buffer, DType, Layout};
use crate::error::Result;

fn view<'a>(buf: &'a CudaBuffer, layout: &'a Layout) -> View<'a> {
    View { buf, layout }
}

impl BackendStorage for CudaBuffer {
    type Device = Arc<CudaDevice>;

    fn zeros(device: &Arc<CudaDevice>, dtype: DType, n: usize) -> Result<CudaBuffer> {
        CudaBuffer::zeros(device, dtype, n)
    }

    fn random(device: &Arc<CudaDevice>, n: usize, dtype: DType, normal: bool) -> Result<Self> {
        k::random(device, n, dtype, normal)
    }

    fn from_host(
        device: &Arc<CudaDevice>,
        host: &Buffer,
        offset: usize,
        n: usize,
    ) -> Result<CudaBuffer> {
        let bytes = &host.host_bytes(offset)[..n * host.dtype().size_of()];
        if super::is_pinned(host) {
            return CudaBuffer::from_pinned_host(device, host.dtype(), n, bytes);
        }
        let buf = CudaBuffer::from_host(device, host.dtype(), n, bytes)?;
        if matches!(host, Buffer::Foreign(_)) {
            // NumPy's memory may be pinned, and a copy from pinned memory is still running when
            // the call returns: wait, so that later writes to the array do not leak in.
            device.synchronize()?;
        }
        Ok(buf)
    }

    fn to_host(&self, offset: usize, n: usize) -> Result<Buffer> {
        let mut out = Buffer::zeros(self.dtype(), n)?;
        self.download(offset, out.host_bytes_mut())?;
        Ok(out)
    }

    fn dtype(&self) -> DType {
        CudaBuffer::dtype(self)
    }

    fn len(&self) -> usize {
        CudaBuffer::len(self)
    }

    fn gather(&self, l: &Layout) -> Result<CudaBuffer> {
        k::gather(view(self, l))
    }

    fn cast(&self, l: &Layout, to: DType) -> Result<CudaBuffer> {
        k::cast(view(self, l), to)
    }

    fn unary(&self, l: &Layout, op: UnaryOp, args: UnaryArgs) -> Result<CudaBuffer> {
        k::unary(view(self, l), op, args)
    }

    fn binary(
        op: BinaryOp,
        a: Operand<CudaBuffer>,
        b: Operand<CudaBuffer>,
        shape: &[usize],
        dtype: DType,
    ) -> Result<CudaBuffer> {
        k::two_operands("binary", op as i32, a, b, shape, dtype, dtype)
    }

    fn compare(
        op: CompareOp,
        a: Operand<CudaBuffer>,
        b: Operand<CudaBuffer>,
        shape: &[usize],
        dtype: DType,
    ) -> Result<CudaBuffer> {
        k::two_operands("compare", op as i32, a, b, shape, dtype, DType::Bool)
    }

    fn activation_backward(
        op: ActivationBackward,
        g: (&CudaBuffer, &Layout),
        y: (&CudaBuffer, &Layout),
        shape: &[usize],
    ) -> Result<CudaBuffer> {
        k::activation_backward(op as i32, view(g.0, g.1), view(y.0, y.1), shape)
    }

    fn where_(
        c: (&CudaBuffer, &Layout),
        a: (&CudaBuffer, &Layout),
        b: (&CudaBuffer, &Layout),
        shape: &[usize],
    ) -> Result<CudaBuffer> {
        k::where_(view(c.0, c.1), view(a.0, a.1), view(b.0, b.1), shape)
    }

    fn sum(&self, l: &Layout, plan: &SumPlan) -> Result<CudaBuffer> {
        let (n_out, n_red) = (plan.n_out, plan.n_red);
        match &plan.read {
            SumRead::Rows => k::sum_rows(self, l.offset, n_out, n_red),
            SumRead::Columns => k::sum_cols(self, l.offset, n_red, n_out),
            SumRead::Permuted(order) => {
                let rows = k::gather(view(self, &l.permute(order)))?;
                k::sum_rows(&rows, 0, n_out, n_red)
            }
        }
    }

    fn extreme_rows(
        &self,
        offset: usize,
        n_out: usize,
        n: usize,
        max: bool,
    ) -> Result<(CudaBuffer, CudaBuffer)> {
        if offset == 0 {
            return k::extreme_rows(self, n_out, n, max);
        }
        let rows = k::gather(view(self, &offset_layout(n_out * n, offset)))?;
        k::extreme_rows(&rows, n_out, n, max)
    }

    fn softmax_rows(&self, offset: usize, n_out: usize, n: usize, log: bool) -> Result<Self> {
        if offset == 0 {
            return k::softmax_rows(self, n_out, n, log);
        }
        let rows = k::gather(view(self, &offset_layout(n_out * n, offset)))?;
        k::softmax_rows(&rows, n_out, n, log)
    }

    fn one_hot(&self, rows: Along, dtype: DType) -> Result<CudaBuffer> {
        k::one_hot(self, rows.offset, rows.outer, rows.n, rows.inner, dtype)
    }

    fn index_select(&self, rows: Along, index: &[usize]) -> Result<CudaBuffer> {
        k::index_select(self, rows.offset, rows.outer, rows.n, rows.inner, index)
    }

    fn index_add(&self, rows: Along, index: &[usize]) -> Result<CudaBuffer> {
        k::index_add(self, rows.offset, rows.outer, rows.n, rows.inner, index)
    }

    fn im2col(&self, geom: &Windows2d) -> Result<CudaBuffer> {
        super::conv::im2col(self, geom)
    }

    fn col2im(&self, geom: &Windows2d) -> Result<CudaBuffer> {
        super::conv::col2im(self, geom)
    }

    fn max_pool2d(&self, geom: &Windows2d) -> Result<(CudaBuffer, CudaBuffer)> {
        super::conv::max_pool2d(self, geom)
    }

    fn max_pool2d_backward(&self, indices: (&Self, usize), geom: &Windows2d) -> Result<Self> {
        super::conv::max_pool2d_backward(self, indices, geom)
    }

    fn avg_pool2d(&self, geom: &Windows2d, divisor: AvgDivisor) -> Result<CudaBuffer> {
        super::conv::avg_pool2d(self, geom, divisor)
    }

    fn avg_pool2d_backward(&self, geom: &Windows2d, divisor: AvgDivisor) -> Result<CudaBuffer> {
        super::conv::avg_pool2d_backward(self, geom, divisor)
    }

    fn batched_matmul(a: (&CudaBuffer, &Layout), b: (&CudaBuffer, &Layout)) -> Result<Self> {
        let nd = a.1.ndim();
        let (m, kk, n) = (a.1.shape[nd - 2], a.1.shape[nd - 1], b.1.shape[nd - 1]);
        let batch: usize = a.1.shape[..nd - 2].iter().product();
        let (la, lb) = (merged_3d(a.1, batch, m, kk), merged_3d(b.1, batch, kk, n));
        let (ca, la) = contiguous_unless(a.0, a.1, la)?;
        let (cb, lb) = contiguous_unless(b.0, b.1, lb)?;
        let (ba, bb) = (ca.as_ref().unwrap_or(a.0), cb.as_ref().unwrap_or(b.0));
        k::batched_matmul(view(ba, &la), view(bb, &lb), batch, m, kk, n)
    }

    fn batched_addmm(
        c: (&CudaBuffer, &Layout),
        a: (&CudaBuffer, &Layout),
        b: (&CudaBuffer, &Layout),
        beta: f64,
        alpha: f64,
    ) -> Result<Self> {
        let nd = a.1.ndim();
        let (m, kk, n) = (a.1.shape[nd - 2], a.1.shape[nd - 1], b.1.shape[nd - 1]);
        let batch: usize = a.1.shape[..nd - 2].iter().product();
        let fused = a.0.dtype().is_float()
            && kk > 0
            && [batch, m, kk, n].iter().all(|&d| d <= i32::MAX as usize);
        if !fused || batch * m * n == 0 {
            return crate::backend::addmm_composed(c, a, b, beta, alpha);
        }
        let (la, lb) = (merged_3d(a.1, batch, m, kk), merged_3d(b.1, batch, kk, n));
        let (ca, la) = contiguous_unless(a.0, a.1, la)?;
        let (cb, lb) = contiguous_unless(b.0, b.1, lb)?;
        let (ba, bb) = (ca.as_ref().unwrap_or(a.0), cb.as_ref().unwrap_or(b.0));
        let acc = if beta == 0.0 {
            CudaBuffer::alloc(a.0.device(), a.0.dtype(), batch * m * n)?
        } else {
            k::gather(view(c.0, c.1))?
        };
        k::float_gemm(
            view(ba, &la),
            view(bb, &lb),
            (batch, m, kk, n),
            acc,
            beta,
            alpha,
        )
    }

    fn copy_into(&mut self, dst: &Layout, src: (&CudaBuffer, &Layout)) -> Result<()> {
        k::copy(view(src.0, src.1), self, dst)
    }

    fn put(&mut self, offset: usize, positions: &[usize], values: &CudaBuffer) -> Result<()> {
        k::put(self, offset, positions, values)
    }

    fn fill(&mut self, layout: &Layout, value: f64) -> Result<()> {
        k::fill(self, layout, value)
    }

    fn add_into(&mut self, layout: &Layout, src: &CudaBuffer) -> Result<()> {
        k::add_into(self, layout, src)
    }

    fn optimizer_step(
        &mut self,
        offset: usize,
        n: usize,
        grad: (&CudaBuffer, usize),
        states: &mut [(&mut CudaBuffer, usize)],
        step: &OptimStep,
    ) -> Result<()> {
        let st: Vec<(&CudaBuffer, usize)> = states.iter().map(|(b, o)| (&**b, *o)).collect();
        k::optimizer_step((self, offset), grad, &st, n, step)
    }
}

fn offset_layout(n: usize, offset: usize) -> Layout {
    let mut l = Layout::contiguous(&[n]);
    l.offset = offset;
    l
}

/// The view as `[batch, rows, cols]` with its batch dims merged into one, where the strides
/// allow it.
fn merged_3d(l: &Layout, batch: usize, rows: usize, cols: usize) -> Option<Layout> {
    l.view(&[batch, rows, cols])
}

/// The buffer and its 3-d layout, or (where the batch dims do not merge) a contiguous copy.
fn contiguous_unless(
    buf: &CudaBuffer,
    l: &Layout,
    merged: Option<Layout>,
) -> Result<(Option<CudaBuffer>, Layout)> {
    match merged {
        Some(l3) => Ok((None, l3)),
        None => {
            let nd = l.ndim();
            let target = [
                l.shape[..nd - 2].iter().product(),
                l.shape[nd - 2],
                l.shape[nd - 1],
            ];
            k::gather(view(buf, l)).map(|c| (Some(c), Layout::contiguous(&target)))
        }
    }
}
