//! The CUDA side of `Tensor`'s methods: device checks, copies between host and device, and
//! the calls into `backend::cuda::ops`. Each `cuda_*` method mirrors the CPU branch of the
//! method of the same name in `mod.rs`.

use super::layout::{self, Layout};
use super::storage::Buffer;
use super::{
    ActivationBackward, BinaryOp, CompareOp, DType, Device, SumPlan, SumRead, Tensor, UnaryOp,
};
use crate::backend::cuda::{self, ops as k, CudaBuffer};
use crate::error::{Error, Result};

/// The op codes the kernels switch on (the `#define`s in `kernels/elementwise.cu`).
impl UnaryOp {
    pub fn cuda_code(self) -> i32 {
        match self {
            UnaryOp::Neg => 0,
            UnaryOp::Abs => 1,
            UnaryOp::Sign => 2,
            UnaryOp::Exp => 3,
            UnaryOp::Log => 4,
            UnaryOp::Sqrt => 5,
            UnaryOp::Tanh => 6,
            UnaryOp::Sigmoid => 7,
            UnaryOp::Relu => 8,
            UnaryOp::PowScalar(_) => 9,
            UnaryOp::Clamp(..) => 10,
        }
    }
}

impl BinaryOp {
    pub fn cuda_code(self) -> i32 {
        self as i32
    }
}

impl CompareOp {
    pub fn cuda_code(self) -> i32 {
        self as i32
    }
}

impl ActivationBackward {
    pub fn cuda_code(self) -> i32 {
        self as i32
    }
}

/// The one device of the non-scalar operands; 0-d CPU tensors go with any device, as in
/// PyTorch. Errors in PyTorch's words when two devices meet.
pub fn common_device(tensors: &[&Tensor]) -> Result<Device> {
    let mut found: Option<Device> = None;
    for t in tensors {
        let d = t.device();
        if d == Device::Cpu && t.ndim() == 0 {
            continue;
        }
        match found {
            None => found = Some(d),
            Some(f) if f == d => {}
            Some(f) => {
                let (a, b) = if f.is_cuda() { (f, d) } else { (d, f) };
                return Err(Error::Runtime(format!(
                    "Expected all tensors to be on the same device, but found at least two \
                     devices, {a} and {b}!"
                )));
            }
        }
    }
    Ok(found.unwrap_or(Device::Cpu))
}

/// A CUDA operand: the view broadcast to `shape`, or the value of a 0-d CPU tensor.
enum Arg {
    View(Layout),
    Scalar(k::HostScalar),
}

fn arg(t: &Tensor, shape: &[usize]) -> Result<Arg> {
    Ok(if t.is_cuda() {
        Arg::View(t.layout.expand(shape)?)
    } else {
        let float = t.to_f64_vec()?[0];
        let int = if t.dtype().is_float() {
            float as i64
        } else {
            t.to_vec::<i64>()?[0]
        };
        Arg::Scalar(k::HostScalar { float, int })
    })
}

impl Tensor {
    fn from_cuda(buf: CudaBuffer, shape: &[usize]) -> Tensor {
        Tensor::from_buffer(Buffer::Cuda(buf), shape)
    }

    /// Runs `f` on this tensor's device buffer (read-locked for the call).
    fn with_buf<R>(&self, f: impl FnOnce(&CudaBuffer) -> R) -> R {
        let guard = self.storage.read();
        let Buffer::Cuda(b) = &*guard else {
            unreachable!("a CUDA tensor's storage is device memory")
        };
        f(b)
    }

    // ----- moving between devices ---------------------------------------------------------

    /// A copy on `device` (this tensor itself when it is already there).
    pub fn to_device(&self, device: Device) -> Result<Tensor> {
        let here = self.device();
        if here == device {
            return Ok(self.clone());
        }
        match (here, device) {
            (Device::Cpu, Device::Cuda(i)) => self.upload(i),
            (Device::Cuda(_), Device::Cpu) => self.download(),
            (Device::Cuda(_), Device::Cuda(i)) => self.download()?.upload(i),
            (Device::Cpu, Device::Cpu) => unreachable!(),
        }
    }

    fn upload(&self, ordinal: usize) -> Result<Tensor> {
        let dev = cuda::device(ordinal)?;
        let c = self.contiguous()?;
        let n = c.numel();
        let guard = c.storage.read();
        let bytes = &guard.host_bytes(c.layout.offset)[..n * c.dtype.size_of()];
        let buf = CudaBuffer::from_host(&dev, c.dtype, n, bytes)?;
        if matches!(*guard, Buffer::Foreign(_)) {
            // NumPy's memory may be pinned, and a copy from pinned memory is still running when
            // the call returns: wait, so that later writes to the array do not leak in.
            dev.synchronize()?;
        }
        Ok(Tensor::from_cuda(buf, c.shape()))
    }

    fn download(&self) -> Result<Tensor> {
        let c = self.contiguous()?;
        let mut out = Buffer::zeros(c.dtype, c.numel())?;
        c.with_buf(|b| b.download(c.layout.offset, out.host_bytes_mut()))?;
        Ok(Tensor::from_buffer(out, c.shape()))
    }

    pub(super) fn cuda_full(
        shape: &[usize],
        value: Option<f64>,
        dtype: DType,
        ordinal: usize,
    ) -> Result<Tensor> {
        let dev = cuda::device(ordinal)?;
        let n = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        let Some(n) = n else {
            return Err(Error::Runtime(format!(
                "Trying to create tensor with a number of elements that overflows: {}",
                layout::shape_str(shape)
            )));
        };
        let buf = match value {
            None | Some(0.0) => CudaBuffer::zeros(&dev, dtype, n)?,
            Some(v) => {
                let b = CudaBuffer::alloc(&dev, dtype, n)?;
                k::fill(&b, &Layout::contiguous(&[n]), v)?;
                b
            }
        };
        Ok(Tensor::from_cuda(buf, shape))
    }

    /// `n` random draws (uniform in [0, 1) or standard normal) on a CUDA device.
    pub fn cuda_random(
        shape: &[usize],
        dtype: DType,
        ordinal: usize,
        normal: bool,
    ) -> Result<Tensor> {
        let dev = cuda::device(ordinal)?;
        let calc = if dtype == DType::F64 {
            DType::F64
        } else {
            DType::F32
        };
        let buf = k::random(&dev, layout::numel(shape), calc, normal)?;
        Tensor::from_cuda(buf, shape).cast(dtype)
    }

    // ----- elementwise --------------------------------------------------------------------

    pub(super) fn cuda_clone_data(&self) -> Result<Tensor> {
        let buf = self.with_buf(|b| {
            k::gather(k::View {
                buf: b,
                layout: &self.layout,
            })
        })?;
        Ok(Tensor::from_cuda(buf, self.shape()))
    }

    pub(super) fn cuda_cast(&self, dtype: DType) -> Result<Tensor> {
        let buf = self.with_buf(|b| {
            k::cast(
                k::View {
                    buf: b,
                    layout: &self.layout,
                },
                dtype,
            )
        })?;
        Ok(Tensor::from_cuda(buf, self.shape()))
    }

    pub(super) fn cuda_unary(&self, op: UnaryOp) -> Result<Tensor> {
        let (p, lo, hi) = match op {
            UnaryOp::PowScalar(p) => (p, None, None),
            UnaryOp::Clamp(lo, hi) => (0.0, lo, hi),
            _ => (0.0, None, None),
        };
        let buf = self.with_buf(|b| {
            let v = k::View {
                buf: b,
                layout: &self.layout,
            };
            k::unary(v, op.cuda_code(), p, lo, hi)
        })?;
        Ok(Tensor::from_cuda(buf, self.shape()))
    }

    /// Runs `f` with the two operands as kernel operands (views locked for the call).
    fn with_operands<R>(
        a: &Tensor,
        b: &Tensor,
        shape: &[usize],
        f: impl FnOnce(k::Operand, k::Operand) -> Result<R>,
    ) -> Result<R> {
        common_device(&[a, b])?;
        let (aa, ab) = (arg(a, shape)?, arg(b, shape)?);
        let (ga, gb) = (a.storage.read(), b.storage.read());
        let oa = match (&aa, &*ga) {
            (Arg::View(l), Buffer::Cuda(buf)) => k::Operand::View(k::View { buf, layout: l }),
            (Arg::Scalar(s), _) => k::Operand::Scalar(*s),
            _ => unreachable!("CUDA operands hold device memory"),
        };
        let ob = match (&ab, &*gb) {
            (Arg::View(l), Buffer::Cuda(buf)) => k::Operand::View(k::View { buf, layout: l }),
            (Arg::Scalar(s), _) => k::Operand::Scalar(*s),
            _ => unreachable!("CUDA operands hold device memory"),
        };
        f(oa, ob)
    }

    pub(super) fn cuda_binary(
        op: BinaryOp,
        a: &Tensor,
        b: &Tensor,
        shape: &[usize],
        calc: DType,
    ) -> Result<Tensor> {
        let buf = Tensor::with_operands(a, b, shape, |x, y| {
            k::binary(op.cuda_code(), x, y, shape, calc)
        })?;
        Ok(Tensor::from_cuda(buf, shape))
    }

    pub(super) fn cuda_compare(
        op: CompareOp,
        a: &Tensor,
        b: &Tensor,
        shape: &[usize],
        dtype: DType,
    ) -> Result<Tensor> {
        let buf = Tensor::with_operands(a, b, shape, |x, y| {
            k::compare(op.cuda_code(), x, y, shape, dtype)
        })?;
        Ok(Tensor::from_cuda(buf, shape))
    }

    pub(super) fn cuda_activation_backward(
        op: ActivationBackward,
        g: &Tensor,
        y: &Tensor,
        shape: &[usize],
    ) -> Result<Tensor> {
        let dev = common_device(&[g, y])?;
        let (g, y) = (g.to_device(dev)?, y.to_device(dev)?);
        let (lg, ly) = (g.layout.expand(shape)?, y.layout.expand(shape)?);
        let buf = g.with_buf(|bg| {
            y.with_buf(|by| {
                k::activation_backward(
                    op.cuda_code(),
                    k::View {
                        buf: bg,
                        layout: &lg,
                    },
                    k::View {
                        buf: by,
                        layout: &ly,
                    },
                    shape,
                )
            })
        })?;
        Ok(Tensor::from_cuda(buf, shape))
    }

    pub(super) fn cuda_where(
        c: &Tensor,
        a: &Tensor,
        b: &Tensor,
        shape: &[usize],
    ) -> Result<Tensor> {
        let dev = common_device(&[c, a, b])?;
        let (c, a, b) = (c.to_device(dev)?, a.to_device(dev)?, b.to_device(dev)?);
        let (lc, la, lb) = (
            c.layout.expand(shape)?,
            a.layout.expand(shape)?,
            b.layout.expand(shape)?,
        );
        let buf = c.with_buf(|bc| {
            a.with_buf(|ba| {
                b.with_buf(|bb| {
                    k::where_(
                        k::View {
                            buf: bc,
                            layout: &lc,
                        },
                        k::View {
                            buf: ba,
                            layout: &la,
                        },
                        k::View {
                            buf: bb,
                            layout: &lb,
                        },
                        shape,
                    )
                })
            })
        })?;
        Ok(Tensor::from_cuda(buf, shape))
    }

    // ----- reductions ---------------------------------------------------------------------

    pub(super) fn cuda_sum(&self, plan: &SumPlan) -> Result<Tensor> {
        let (n_out, n_red) = (plan.n_out, plan.n_red);
        let buf = match &plan.read {
            SumRead::Rows => self.with_buf(|b| k::sum_rows(b, self.layout.offset, n_out, n_red))?,
            SumRead::Columns => {
                self.with_buf(|b| k::sum_cols(b, self.layout.offset, n_red, n_out))?
            }
            SumRead::Permuted(order) => {
                let rows = self.with_layout(self.layout.permute(order)).clone_data()?;
                rows.with_buf(|b| k::sum_rows(b, 0, n_out, n_red))?
            }
        };
        Ok(Tensor::from_cuda(buf, &plan.out_shape))
    }

    /// Max/min of each row of this contiguous `[n_out, n]` tensor, values in `dtype`.
    pub(super) fn cuda_extreme_rows(
        &self,
        n_out: usize,
        n: usize,
        max: bool,
        dtype: DType,
        out_shape: &[usize],
    ) -> Result<(Tensor, Tensor)> {
        let rows = if self.dtype == DType::Bool {
            self.cast(DType::I64)?.contiguous()?
        } else {
            self.contiguous()?
        };
        let (v, i) = rows.with_buf(|b| k::extreme_rows(b, n_out, n, max))?;
        let values = Tensor::from_cuda(v, out_shape).cast(dtype)?;
        Ok((values, Tensor::from_cuda(i, out_shape)))
    }

    pub(super) fn cuda_softmax_rows(
        &self,
        n_out: usize,
        n: usize,
        log: bool,
        row_shape: &[usize],
    ) -> Result<Tensor> {
        let buf = self.with_buf(|b| k::softmax_rows(b, n_out, n, log))?;
        Ok(Tensor::from_cuda(buf, row_shape))
    }

    pub(super) fn cuda_one_hot(
        &self,
        outer: usize,
        n: usize,
        inner: usize,
        dtype: DType,
        out_shape: &[usize],
    ) -> Result<Tensor> {
        let idx = self.cast(DType::I64)?.contiguous()?;
        let calc = if dtype == DType::Bool {
            DType::I64
        } else {
            dtype
        };
        let buf = idx.with_buf(|b| k::one_hot(b, idx.layout.offset, outer, n, inner, calc))?;
        Tensor::from_cuda(buf, out_shape).cast(dtype)
    }

    // ----- products -----------------------------------------------------------------------

    pub(super) fn cuda_batched_matmul(a: &Tensor, b: &Tensor, shape: &[usize]) -> Result<Tensor> {
        let dev = common_device(&[a, b])?;
        let (a, b) = (a.to_device(dev)?, b.to_device(dev)?);
        let nd = a.ndim();
        let (m, kk, n) = (a.shape()[nd - 2], a.shape()[nd - 1], b.shape()[nd - 1]);
        let batch: usize = a.shape()[..nd - 2].iter().product();
        // Merge the batch dims into one; operands whose batch dims do not merge are copied.
        let as_3d = |t: &Tensor, rows: usize, cols: usize| -> Result<Tensor> {
            let target = [batch, rows, cols];
            match t.layout.view(&target) {
                Some(l) => Ok(t.with_layout(l)),
                None => Ok(t.contiguous()?.with_layout(Layout::contiguous(&target))),
            }
        };
        let (a3, b3) = (as_3d(&a, m, kk)?, as_3d(&b, kk, n)?);
        let buf = a3.with_buf(|ba| {
            b3.with_buf(|bb| {
                k::batched_matmul(
                    k::View {
                        buf: ba,
                        layout: &a3.layout,
                    },
                    k::View {
                        buf: bb,
                        layout: &b3.layout,
                    },
                    batch,
                    m,
                    kk,
                    n,
                )
            })
        })?;
        Ok(Tensor::from_cuda(buf, shape))
    }

    // ----- gathers and scatters -----------------------------------------------------------

    pub(super) fn cuda_index_select(
        &self,
        outer: usize,
        n: usize,
        inner: usize,
        index: &[usize],
        out_shape: &[usize],
    ) -> Result<Tensor> {
        let buf =
            self.with_buf(|b| k::index_select(b, self.layout.offset, outer, n, inner, index))?;
        Ok(Tensor::from_cuda(buf, out_shape))
    }

    pub(super) fn cuda_index_add(
        &self,
        outer: usize,
        n: usize,
        inner: usize,
        index: &[usize],
        shape: &[usize],
    ) -> Result<Tensor> {
        let calc = if self.dtype == DType::Bool {
            DType::I64
        } else {
            self.dtype
        };
        let g = self.cast(calc)?.contiguous()?;
        let buf = g.with_buf(|b| k::index_add(b, g.layout.offset, outer, n, inner, index))?;
        Tensor::from_cuda(buf, shape).cast(self.dtype)
    }

    // ----- in-place writes ----------------------------------------------------------------

    /// `self[...] = src` where `src` is a fresh contiguous tensor of this dtype.
    pub(super) fn cuda_copy_from(&self, src: &Tensor) -> Result<()> {
        let ls = src.layout.expand(self.shape())?;
        self.storage.bump_version();
        // `src` is a private copy (see `copy_from`), so reading it never meets this write.
        src.with_buf(|sb| {
            self.with_buf(|dst| {
                k::copy(
                    k::View {
                        buf: sb,
                        layout: &ls,
                    },
                    dst,
                    &self.layout,
                )
            })
        })
    }

    pub(super) fn cuda_put(&self, positions: &[usize], values: &Tensor) -> Result<()> {
        // `contiguous` leaves the values in order from element 0 of their own buffer.
        let v = values.to_device(self.device())?.contiguous()?;
        self.storage.bump_version();
        v.with_buf(|vb| self.with_buf(|dst| k::put(dst, self.layout.offset, positions, vb)))
    }

    pub(super) fn cuda_fill(&self, value: f64) -> Result<()> {
        self.storage.bump_version();
        self.with_buf(|dst| k::fill(dst, &self.layout, value))
    }

    pub(super) fn cuda_add_into(&self, src: &Tensor) -> Result<()> {
        // `contiguous` leaves the values in order from element 0 of their own buffer.
        let src = src.to_device(self.device())?.contiguous()?;
        self.storage.bump_version();
        src.with_buf(|sb| self.with_buf(|dst| k::add_into(dst, &self.layout, sb)))
    }

    /// The CUDA device buffer's pointer and this view's element offset, for the optimizer.
    pub fn cuda_parts<R>(&self, f: impl FnOnce(&CudaBuffer, usize) -> R) -> R {
        self.with_buf(|b| f(b, self.layout.offset))
    }
}
