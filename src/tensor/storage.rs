//! Shared, versioned storage: the memory behind a tensor and all of its views, and the one
//! place that picks a backend by where that memory lives.

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::backend::cuda::{self, CudaBuffer};
use crate::backend::meta::{self, MetaBuffer};
use crate::backend::Element;
use crate::backend::{AvgDivisor, BackendStorage, HostScalar, Operand, OptimStep, Windows2d};
pub use crate::base::buffer::{Buffer, Foreign};
use crate::base::{DType, Device, Layout};
use crate::error::{Error, Result};

/// Why a recording stops at a random draw (replaying it would repeat the same numbers).
pub const RANDOM_BREAK: &str = "random numbers are drawn (a replay would repeat the same ones)";

/// A tensor's memory: host memory for the CPU backend, device memory for CUDA, a length
/// without data for meta tensors.
#[derive(Debug)]
pub enum Memory {
    Cpu(Buffer),
    Cuda(CudaBuffer),
    Meta(MetaBuffer),
}

/// `$body` with `$m` bound to the backend memory inside each `Memory` (all on one backend),
/// its result wrapped back into `Memory`. Memory on two backends is PyTorch's device error
/// (the tensor layer moves operands to one device first, so this is a safety net).
macro_rules! on_backend {
    (($($mem:expr),+) => |$($m:ident),+| $body:expr) => {
        match ($($mem,)+) {
            ($(Memory::Cpu($m),)+) => Memory::Cpu($body?),
            ($(Memory::Cuda($m),)+) => Memory::Cuda($body?),
            ($(Memory::Meta($m),)+) => Memory::Meta($body?),
            #[allow(unreachable_patterns)]
            _ => return Err(two_devices()),
        }
    };
}

/// `on_backend!` for kernels that write in place (nothing to wrap).
macro_rules! on_backend_mut {
    (($($mem:expr),+) => |$($m:ident),+| $body:expr) => {
        match ($($mem,)+) {
            ($(Memory::Cpu($m),)+) => $body,
            ($(Memory::Cuda($m),)+) => $body,
            ($(Memory::Meta($m),)+) => $body,
            #[allow(unreachable_patterns)]
            _ => Err(two_devices()),
        }
    };
}

/// `$body` (a kernel call), recorded as `$instr` when a compiled function is being captured
/// and this is the outermost `Memory` call (see [`crate::compile`]).
macro_rules! recorded {
    ($body:block => |$rec:ident, $out:pat_param| $instr:expr) => {{
        let entered = crate::compile::enter();
        #[allow(clippy::redundant_closure_call)]
        let result: Result<_> = (|| $body)();
        match entered {
            None => result,
            Some(e) => e.finish(result, |$rec, $out| $instr),
        }
    }};
}

fn two_devices() -> Error {
    Error::Runtime(
        "Expected all tensors to be on the same device, but found at least two devices, \
         cuda:0 and cpu!"
            .into(),
    )
}

/// The value at a 0-d host view, exactly for integers.
fn host_scalar(b: &Buffer, l: &Layout) -> HostScalar {
    crate::backend::cpu::dispatch!(b.dtype(), T => {
        let v = T::slice(b)[l.offset];
        HostScalar {
            float: v.to_f64(),
            int: v.to_i64(),
        }
    })
}

impl Memory {
    /// Whether two host memories share bytes: two storages may borrow overlapping NumPy
    /// arrays (`from_numpy`). Device memory is only ever shared through one storage.
    pub fn overlaps(&self, other: &Memory) -> bool {
        match (self, other) {
            (Memory::Cpu(a), Memory::Cpu(b)) => {
                let bytes = |m: &Buffer| m.len() * m.dtype().size_of();
                let (a0, b0) = (a.as_ptr(), b.as_ptr());
                a0 < b0 + bytes(b) && b0 < a0 + bytes(a)
            }
            _ => false,
        }
    }

    pub fn dtype(&self) -> DType {
        match self {
            Memory::Cpu(b) => b.dtype(),
            Memory::Cuda(b) => b.dtype(),
            Memory::Meta(b) => b.dtype(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Memory::Cpu(b) => b.len(),
            Memory::Cuda(b) => b.len(),
            Memory::Meta(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn device(&self) -> Device {
        match self {
            Memory::Cpu(_) => Device::Cpu,
            Memory::Cuda(b) => Device::Cuda(b.device().ordinal),
            Memory::Meta(_) => Device::Meta,
        }
    }

    /// The address of the first element (host or device).
    pub fn as_ptr(&self) -> usize {
        match self {
            Memory::Cpu(b) => b.as_ptr(),
            Memory::Cuda(b) => b.ptr() as usize,
            Memory::Meta(_) => 0,
        }
    }

    /// The host buffer of CPU memory.
    pub fn host(&self) -> Result<&Buffer> {
        match self {
            Memory::Cpu(b) => Ok(b),
            Memory::Cuda(_) => Err(Error::Runtime(
                "expected a CPU tensor, got a CUDA tensor".into(),
            )),
            Memory::Meta(_) => Err(meta::no_data()),
        }
    }

    pub fn host_mut(&mut self) -> Result<&mut Buffer> {
        match self {
            Memory::Cpu(b) => Ok(b),
            Memory::Cuda(_) => Err(Error::Runtime(
                "expected a CPU tensor, got a CUDA tensor".into(),
            )),
            Memory::Meta(_) => Err(meta::no_data()),
        }
    }

    // ----- creation and moves ------------------------------------------------------------

    pub fn zeros(device: Device, dtype: DType, n: usize) -> Result<Memory> {
        recorded!({
            Ok(match device {
                Device::Cpu => Memory::Cpu(Buffer::zeros(dtype, n)?),
                Device::Cuda(i) => Memory::Cuda(CudaBuffer::zeros(&cuda::device(i)?, dtype, n)?),
                Device::Meta => Memory::Meta(MetaBuffer::new(dtype, n)),
            })
        } => |rec, out| crate::compile::Instr::Zeros { device, dtype, n, out: rec.output(out) })
    }

    /// `n` copies of `value`, converted to `dtype` as `fill` converts it.
    pub fn full(device: Device, dtype: DType, n: usize, value: f64) -> Result<Memory> {
        recorded!({
            Ok(match device {
                Device::Cpu => Memory::Cpu(Buffer::full(&(), dtype, n, value)?),
                Device::Cuda(i) => Memory::Cuda(CudaBuffer::full(&cuda::device(i)?, dtype, n, value)?),
                Device::Meta => Memory::Meta(MetaBuffer::new(dtype, n)),
            })
        } => |rec, out| crate::compile::Instr::Full { device, dtype, n, value, out: rec.output(out) })
    }

    pub fn random(device: Device, n: usize, dtype: DType, normal: bool) -> Result<Memory> {
        crate::compile::note_break(RANDOM_BREAK);
        Ok(match device {
            Device::Cpu => Memory::Cpu(Buffer::random(&(), n, dtype, normal)?),
            Device::Cuda(i) => {
                Memory::Cuda(CudaBuffer::random(&cuda::device(i)?, n, dtype, normal)?)
            }
            Device::Meta => Memory::Meta(MetaBuffer::new(dtype, n)),
        })
    }

    /// `n` contiguous elements from element `offset`, copied to `device` (another one).
    pub fn to_device(&self, offset: usize, n: usize, device: Device) -> Result<Memory> {
        recorded!({
            if device == Device::Meta {
                return Ok(Memory::Meta(MetaBuffer::new(self.dtype(), n)));
            }
            let staged;
            let (host, offset) = match self {
                Memory::Cpu(b) => (b, offset),
                Memory::Cuda(b) => {
                    staged = b.to_host(offset, n)?;
                    (&staged, 0)
                }
                Memory::Meta(_) => return Err(meta::no_data()),
            };
            Ok(match device {
                Device::Cpu => Memory::Cpu(host.to_host(offset, n)?),
                Device::Cuda(i) => Memory::Cuda(<CudaBuffer as BackendStorage>::from_host(
                    &cuda::device(i)?,
                    host,
                    offset,
                    n,
                )?),
                Device::Meta => unreachable!("handled above"),
            })
        } => |rec, out| crate::compile::Instr::ToDevice { x: rec.input(self), offset, n, device, out: rec.output(out) })
    }

    // ----- kernels ----------------------------------------------------------------------

    /// Every element of `l` inside this memory: the bound the kernels index by, checked once
    /// per call (O(ndim)) so no layout bug can make a kernel read or write outside it.
    fn check_view(&self, l: &Layout) -> Result<()> {
        if l.fits_in(self.len()) {
            Ok(())
        } else {
            Err(Error::Runtime(format!(
                "view out of bounds: shape {:?}, strides {:?}, offset {} over {} elements",
                l.shape.as_slice(),
                l.strides.as_slice(),
                l.offset,
                self.len()
            )))
        }
    }

    /// Refuses a host result of `n` elements the machine cannot hold, before a kernel
    /// starts filling it (see `base::buffer::host_alloc_limit`).
    fn check_out(&self, dtype: DType, n: usize) -> Result<()> {
        match self {
            Memory::Cpu(_) => crate::base::buffer::check_host_alloc(dtype, n),
            Memory::Cuda(_) | Memory::Meta(_) => Ok(()),
        }
    }

    /// `l`'s elements cast to the type kernels compute in (`DType::compute`: int64 for the
    /// small integers, float32 for the half floats), with their contiguous layout; `None` when
    /// this memory's dtype is already one.
    fn widen(&self, l: &Layout) -> Result<Option<(Memory, Layout)>> {
        let wide = self.dtype().compute();
        if wide == self.dtype() {
            return Ok(None);
        }
        Ok(Some((self.cast(l, wide)?, Layout::contiguous(&l.shape))))
    }

    /// The `count` elements from `offset` on, widened (for the row kernels), from offset 0.
    fn widen_rows(&self, offset: usize, count: usize) -> Result<Option<Memory>> {
        let mut l = Layout::contiguous(&[count]);
        l.offset = offset;
        Ok(self.widen(&l)?.map(|(m, _)| m))
    }

    /// A kernel's wide result rounded back to the storage type `to` (wrapping for integers).
    fn narrow(self, to: DType) -> Result<Memory> {
        if self.dtype() == to {
            return Ok(self);
        }
        let n = self.len();
        self.cast(&Layout::contiguous(&[n]), to)
    }

    pub fn gather(&self, l: &Layout) -> Result<Memory> {
        recorded!({
            self.check_view(l)?;
            self.check_out(self.dtype(), l.numel())?;
            Ok(on_backend!((self) => |m| m.gather(l)))
        } => |rec, out| crate::compile::Instr::Gather { x: rec.input(self), l: l.clone(), out: rec.output(out) })
    }

    pub fn cast(&self, l: &Layout, to: DType) -> Result<Memory> {
        recorded!({
            self.check_view(l)?;
            self.check_out(to, l.numel())?;
            Ok(on_backend!((self) => |m| m.cast(l, to)))
        } => |rec, out| crate::compile::Instr::Cast { x: rec.input(self), l: l.clone(), to, out: rec.output(out) })
    }

    pub fn unary(
        &self,
        l: &Layout,
        op: crate::backend::UnaryOp,
        args: crate::backend::UnaryArgs,
    ) -> Result<Memory> {
        recorded!({
            self.check_view(l)?;
            self.check_out(self.dtype(), l.numel())?;
            if let Some((w, wl)) = self.widen(l)? {
                return w.unary(&wl, op, args)?.narrow(self.dtype());
            }
            Ok(on_backend!((self) => |m| m.unary(l, op, args)))
        } => |rec, out| crate::compile::Instr::Unary { x: rec.input(self), l: l.clone(), op, args, out: rec.output(out) })
    }

    /// Two operands of a binary kernel: device memory may meet a 0-d host scalar, which is
    /// passed by value instead of being copied to the device.
    fn two_operands(
        a: (&Memory, &Layout),
        b: (&Memory, &Layout),
        cpu: impl FnOnce(Operand<Buffer>, Operand<Buffer>) -> Result<Buffer>,
        dev: impl FnOnce(Operand<CudaBuffer>, Operand<CudaBuffer>) -> Result<CudaBuffer>,
        meta: impl FnOnce(Operand<MetaBuffer>, Operand<MetaBuffer>) -> Result<MetaBuffer>,
    ) -> Result<Memory> {
        use Operand::{Scalar, View};
        a.0.check_view(a.1)?;
        b.0.check_view(b.1)?;
        Ok(match (a.0, b.0) {
            (Memory::Cpu(x), Memory::Cpu(y)) => Memory::Cpu(cpu(View(x, a.1), View(y, b.1))?),
            (Memory::Cuda(x), Memory::Cuda(y)) => Memory::Cuda(dev(View(x, a.1), View(y, b.1))?),
            (Memory::Cuda(x), Memory::Cpu(y)) => {
                Memory::Cuda(dev(View(x, a.1), Scalar(host_scalar(y, b.1)))?)
            }
            (Memory::Cpu(x), Memory::Cuda(y)) => {
                Memory::Cuda(dev(Scalar(host_scalar(x, a.1)), View(y, b.1))?)
            }
            (Memory::Meta(x), Memory::Meta(y)) => Memory::Meta(meta(View(x, a.1), View(y, b.1))?),
            (Memory::Meta(x), Memory::Cpu(y)) => {
                Memory::Meta(meta(View(x, a.1), Scalar(host_scalar(y, b.1)))?)
            }
            (Memory::Cpu(x), Memory::Meta(y)) => {
                Memory::Meta(meta(Scalar(host_scalar(x, a.1)), View(y, b.1))?)
            }
            _ => return Err(two_devices()),
        })
    }

    pub fn binary(
        op: crate::backend::BinaryOp,
        a: (&Memory, &Layout),
        b: (&Memory, &Layout),
        shape: &[usize],
        dtype: DType,
    ) -> Result<Memory> {
        recorded!({
            a.0.check_out(dtype, crate::base::layout::numel(shape))?;
            if dtype.compute() != dtype {
                a.0.check_view(a.1)?;
                b.0.check_view(b.1)?;
                let wide = |m: &Memory, l: &Layout| -> Result<(Memory, Layout)> {
                    Ok((m.cast(l, dtype.compute())?, Layout::contiguous(&l.shape)))
                };
                let (wa, wb) = (wide(a.0, a.1)?, wide(b.0, b.1)?);
                return Memory::binary(op, (&wa.0, &wa.1), (&wb.0, &wb.1), shape, dtype.compute())?
                    .narrow(dtype);
            }
            Memory::two_operands(
                a,
                b,
                |x, y| Buffer::binary(op, x, y, shape, dtype),
                |x, y| CudaBuffer::binary(op, x, y, shape, dtype),
                |x, y| MetaBuffer::binary(op, x, y, shape, dtype),
            )
        } => |rec, out| crate::compile::Instr::Binary { op, a: (rec.input(a.0), a.1.clone()), b: (rec.input(b.0), b.1.clone()), shape: shape.to_vec(), dtype, out: rec.output(out) })
    }

    pub fn compare(
        op: crate::backend::CompareOp,
        a: (&Memory, &Layout),
        b: (&Memory, &Layout),
        shape: &[usize],
        dtype: DType,
    ) -> Result<Memory> {
        recorded!({
            a.0.check_out(dtype, crate::base::layout::numel(shape))?;
            Memory::two_operands(
                a,
                b,
                |x, y| Buffer::compare(op, x, y, shape, dtype),
                |x, y| CudaBuffer::compare(op, x, y, shape, dtype),
                |x, y| MetaBuffer::compare(op, x, y, shape, dtype),
            )
        } => |rec, out| crate::compile::Instr::Compare { op, a: (rec.input(a.0), a.1.clone()), b: (rec.input(b.0), b.1.clone()), shape: shape.to_vec(), dtype, out: rec.output(out) })
    }

    pub fn activation_backward(
        op: crate::backend::ActivationBackward,
        g: (&Memory, &Layout),
        y: (&Memory, &Layout),
        shape: &[usize],
    ) -> Result<Memory> {
        recorded!({
            g.0.check_out(g.0.dtype(), crate::base::layout::numel(shape))?;
            if let (Some(wg), Some(wy)) = (g.0.widen(g.1)?, y.0.widen(y.1)?) {
                return Memory::activation_backward(op, (&wg.0, &wg.1), (&wy.0, &wy.1), shape)?
                    .narrow(g.0.dtype());
            }
            Ok(
                on_backend!((g.0, y.0) => |gm, ym| BackendStorage::activation_backward(
                    op,
                    (gm, g.1),
                    (ym, y.1),
                    shape
                )),
            )
        } => |rec, out| crate::compile::Instr::ActivationBackward { op, g: (rec.input(g.0), g.1.clone()), y: (rec.input(y.0), y.1.clone()), shape: shape.to_vec(), out: rec.output(out) })
    }

    pub fn where_(
        c: (&Memory, &Layout),
        a: (&Memory, &Layout),
        b: (&Memory, &Layout),
        shape: &[usize],
    ) -> Result<Memory> {
        recorded!({
            a.0.check_out(a.0.dtype(), crate::base::layout::numel(shape))?;
            Ok(
                on_backend!((c.0, a.0, b.0) => |cm, am, bm| BackendStorage::where_(
                    (cm, c.1),
                    (am, a.1),
                    (bm, b.1),
                    shape
                )),
            )
        } => |rec, out| crate::compile::Instr::Where { c: (rec.input(c.0), c.1.clone()), a: (rec.input(a.0), a.1.clone()), b: (rec.input(b.0), b.1.clone()), shape: shape.to_vec(), out: rec.output(out) })
    }

    pub fn sum(&self, l: &Layout, plan: &crate::backend::SumPlan) -> Result<Memory> {
        recorded!({
            self.check_view(l)?;
            self.check_out(self.dtype(), plan.n_out)?;
            if self.dtype().compute() != self.dtype() {
                // The plan reads `l` as it is: widen the whole strided extent in place, so every
                // offset and stride the plan uses still holds.
                let w = self.cast(&Layout::contiguous(&[self.len()]), self.dtype().compute())?;
                return w.sum(l, plan)?.narrow(self.dtype());
            }
            Ok(on_backend!((self) => |m| m.sum(l, plan)))
        } => |rec, out| crate::compile::Instr::Sum { x: rec.input(self), l: l.clone(), plan: plan.clone(), out: rec.output(out) })
    }

    pub fn extreme_rows(
        &self,
        offset: usize,
        n_out: usize,
        n: usize,
        max: bool,
    ) -> Result<(Memory, Memory)> {
        recorded!({
            if let Some(w) = self.widen_rows(offset, n_out * n)? {
                let (v, i) = w.extreme_rows(0, n_out, n, max)?;
                return Ok((v.narrow(self.dtype())?, i));
            }
            Ok(match self {
                Memory::Cpu(m) => {
                    let (v, i) = m.extreme_rows(offset, n_out, n, max)?;
                    (Memory::Cpu(v), Memory::Cpu(i))
                }
                Memory::Cuda(m) => {
                    let (v, i) = m.extreme_rows(offset, n_out, n, max)?;
                    (Memory::Cuda(v), Memory::Cuda(i))
                }
                Memory::Meta(m) => {
                    let (v, i) = m.extreme_rows(offset, n_out, n, max)?;
                    (Memory::Meta(v), Memory::Meta(i))
                }
            })
        } => |rec, out| crate::compile::Instr::ExtremeRows { x: rec.input(self), offset, n_out, n, max, out: rec.output(&out.0), index: rec.output(&out.1) })
    }

    pub fn extreme_values_rows(
        &self,
        offset: usize,
        n_out: usize,
        n: usize,
        max: bool,
    ) -> Result<Memory> {
        recorded!({
            if let Some(w) = self.widen_rows(offset, n_out * n)? {
                return w
                    .extreme_values_rows(0, n_out, n, max)?
                    .narrow(self.dtype());
            }
            Ok(on_backend!((self) => |m| m.extreme_values_rows(offset, n_out, n, max)))
        } => |rec, out| crate::compile::Instr::ExtremeValuesRows { x: rec.input(self), offset, n_out, n, max, out: rec.output(out) })
    }

    pub fn softmax_rows(&self, offset: usize, n_out: usize, n: usize, log: bool) -> Result<Memory> {
        recorded!({
            if let Some(w) = self.widen_rows(offset, n_out * n)? {
                return w.softmax_rows(0, n_out, n, log)?.narrow(self.dtype());
            }
            Ok(on_backend!((self) => |m| m.softmax_rows(offset, n_out, n, log)))
        } => |rec, out| crate::compile::Instr::SoftmaxRows { x: rec.input(self), offset, n_out, n, log, out: rec.output(out) })
    }

    pub fn one_hot(&self, rows: crate::backend::Along, dtype: DType) -> Result<Memory> {
        recorded!({
            if dtype.compute() != dtype {
                return self.one_hot(rows, dtype.compute())?.narrow(dtype);
            }
            Ok(on_backend!((self) => |m| m.one_hot(rows, dtype)))
        } => |rec, out| crate::compile::Instr::OneHot { x: rec.input(self), rows, dtype, out: rec.output(out) })
    }

    pub fn index_select(&self, rows: crate::backend::Along, index: &[usize]) -> Result<Memory> {
        recorded!({
            Ok(on_backend!((self) => |m| m.index_select(rows, index)))
        } => |rec, out| crate::compile::Instr::IndexSelect { x: rec.input(self), rows, index: index.to_vec(), out: rec.output(out) })
    }

    pub fn index_add(&self, rows: crate::backend::Along, index: &[usize]) -> Result<Memory> {
        recorded!({
            // The source holds `index.len()` rows (`rows.n` is the result's length along the dim).
            let count = rows.outer * index.len() * rows.inner;
            if let Some(w) = self.widen_rows(rows.offset, count)? {
                let rows = crate::backend::Along { offset: 0, ..rows };
                return w.index_add(rows, index)?.narrow(self.dtype());
            }
            Ok(on_backend!((self) => |m| m.index_add(rows, index)))
        } => |rec, out| crate::compile::Instr::IndexAdd { x: rec.input(self), rows, index: index.to_vec(), out: rec.output(out) })
    }

    pub fn im2col(&self, geom: &Windows2d) -> Result<Memory> {
        recorded!({
            let count = geom.planes * geom.size[0] * geom.size[1];
            if let Some(w) = self.widen_rows(geom.offset, count)? {
                let geom = Windows2d { offset: 0, ..*geom };
                return w.im2col(&geom)?.narrow(self.dtype());
            }
            Ok(on_backend!((self) => |m| m.im2col(geom)))
        } => |rec, out| crate::compile::Instr::Im2col { x: rec.input(self), geom: *geom, out: rec.output(out) })
    }

    pub fn col2im(&self, geom: &Windows2d) -> Result<Memory> {
        recorded!({
            // Overlapping windows add up: in the wide type, rounded once.
            let count = geom.planes * geom.kernel[0] * geom.kernel[1] * geom.out[0] * geom.out[1];
            if let Some(w) = self.widen_rows(geom.offset, count)? {
                let geom = Windows2d { offset: 0, ..*geom };
                return w.col2im(&geom)?.narrow(self.dtype());
            }
            Ok(on_backend!((self) => |m| m.col2im(geom)))
        } => |rec, out| crate::compile::Instr::Col2im { x: rec.input(self), geom: *geom, out: rec.output(out) })
    }

    pub fn max_pool2d(&self, geom: &Windows2d) -> Result<(Memory, Memory)> {
        recorded!({
            let count = geom.planes * geom.size[0] * geom.size[1];
            if let Some(w) = self.widen_rows(geom.offset, count)? {
                let (v, i) = w.max_pool2d(&Windows2d { offset: 0, ..*geom })?;
                return Ok((v.narrow(self.dtype())?, i));
            }
            Ok(match self {
                Memory::Cpu(m) => {
                    let (v, i) = m.max_pool2d(geom)?;
                    (Memory::Cpu(v), Memory::Cpu(i))
                }
                Memory::Cuda(m) => {
                    let (v, i) = m.max_pool2d(geom)?;
                    (Memory::Cuda(v), Memory::Cuda(i))
                }
                Memory::Meta(m) => {
                    let (v, i) = m.max_pool2d(geom)?;
                    (Memory::Meta(v), Memory::Meta(i))
                }
            })
        } => |rec, out| crate::compile::Instr::MaxPool2d { x: rec.input(self), geom: *geom, out: rec.output(&out.0), index: rec.output(&out.1) })
    }

    pub fn max_pool2d_backward(
        &self,
        indices: (&Memory, usize),
        geom: &Windows2d,
    ) -> Result<Memory> {
        recorded!({
            let count = geom.planes * geom.out[0] * geom.out[1];
            if let Some(w) = self.widen_rows(geom.offset, count)? {
                let geom = Windows2d { offset: 0, ..*geom };
                return w.max_pool2d_backward(indices, &geom)?.narrow(self.dtype());
            }
            Ok(on_backend!((self, indices.0) => |m, i| m.max_pool2d_backward((i, indices.1), geom)))
        } => |rec, out| crate::compile::Instr::MaxPool2dBackward { x: rec.input(self), index: (rec.input(indices.0), indices.1), geom: *geom, out: rec.output(out) })
    }

    pub fn avg_pool2d(&self, geom: &Windows2d, divisor: AvgDivisor) -> Result<Memory> {
        recorded!({
            let count = geom.planes * geom.size[0] * geom.size[1];
            if let Some(w) = self.widen_rows(geom.offset, count)? {
                let geom = Windows2d { offset: 0, ..*geom };
                return w.avg_pool2d(&geom, divisor)?.narrow(self.dtype());
            }
            Ok(on_backend!((self) => |m| m.avg_pool2d(geom, divisor)))
        } => |rec, out| crate::compile::Instr::AvgPool2d { x: rec.input(self), geom: *geom, divisor, out: rec.output(out) })
    }

    pub fn avg_pool2d_backward(&self, geom: &Windows2d, divisor: AvgDivisor) -> Result<Memory> {
        recorded!({
            let count = geom.planes * geom.out[0] * geom.out[1];
            if let Some(w) = self.widen_rows(geom.offset, count)? {
                let geom = Windows2d { offset: 0, ..*geom };
                return w.avg_pool2d_backward(&geom, divisor)?.narrow(self.dtype());
            }
            Ok(on_backend!((self) => |m| m.avg_pool2d_backward(geom, divisor)))
        } => |rec, out| crate::compile::Instr::AvgPool2dBackward { x: rec.input(self), geom: *geom, divisor, out: rec.output(out) })
    }

    pub fn batched_matmul(a: (&Memory, &Layout), b: (&Memory, &Layout)) -> Result<Memory> {
        recorded!({
            if let (Some(wa), Some(wb)) = (a.0.widen(a.1)?, b.0.widen(b.1)?) {
                return Memory::batched_matmul((&wa.0, &wa.1), (&wb.0, &wb.1))?.narrow(a.0.dtype());
            }
            Ok(
                on_backend!((a.0, b.0) => |am, bm| BackendStorage::batched_matmul(
                    (am, a.1),
                    (bm, b.1)
                )),
            )
        } => |rec, out| crate::compile::Instr::BatchedMatmul { a: (rec.input(a.0), a.1.clone()), b: (rec.input(b.0), b.1.clone()), out: rec.output(out) })
    }

    pub fn batched_addmm(
        c: (&Memory, &Layout),
        a: (&Memory, &Layout),
        b: (&Memory, &Layout),
        beta: f64,
        alpha: f64,
    ) -> Result<Memory> {
        recorded!({
            if let (Some(wc), Some(wa), Some(wb)) = (c.0.widen(c.1)?, a.0.widen(a.1)?, b.0.widen(b.1)?)
            {
                let wide =
                    Memory::batched_addmm((&wc.0, &wc.1), (&wa.0, &wa.1), (&wb.0, &wb.1), beta, alpha)?;
                return wide.narrow(a.0.dtype());
            }
            Ok(
                on_backend!((c.0, a.0, b.0) => |cm, am, bm| BackendStorage::batched_addmm(
                    (cm, c.1),
                    (am, a.1),
                    (bm, b.1),
                    beta,
                    alpha
                )),
            )
        } => |rec, out| crate::compile::Instr::BatchedAddmm { c: (rec.input(c.0), c.1.clone()), a: (rec.input(a.0), a.1.clone()), b: (rec.input(b.0), b.1.clone()), beta, alpha, out: rec.output(out) })
    }

    pub fn copy_into(&mut self, dst: &Layout, src: (&Memory, &Layout)) -> Result<()> {
        recorded!({
            self.check_view(dst)?;
            src.0.check_view(src.1)?;
            on_backend_mut!((&mut *self, src.0) => |d, s| d.copy_into(dst, (s, src.1)))
        } => |rec, _| crate::compile::Instr::CopyInto { dst: rec.input(self), l: dst.clone(), src: (rec.input(src.0), src.1.clone()) })
    }

    pub fn binary_assign(
        &mut self,
        op: crate::backend::BinaryOp,
        dst: &Layout,
        other: (&Memory, &Layout),
    ) -> Result<()> {
        recorded!({
            self.check_view(dst)?;
            other.0.check_view(other.1)?;
            let dtype = self.dtype();
            if dtype == DType::Bool || dtype.compute() != dtype || other.0.dtype() != dtype {
                return Err(Error::Runtime(format!(
                    "binary_assign: no in-place kernel for {dtype:?} and {:?}",
                    other.0.dtype()
                )));
            }
            on_backend_mut!((&mut *self, other.0) => |d, s| d.binary_assign(op, dst, (s, other.1)))
        } => |rec, _| crate::compile::Instr::BinaryAssign { dst: rec.input(self), op, l: dst.clone(), other: (rec.input(other.0), other.1.clone()) })
    }

    pub fn put(&mut self, offset: usize, positions: &[usize], values: &Memory) -> Result<()> {
        recorded!({
            // `put` addresses `offset + p` (p checked below the view's numel by the caller).
            if offset > self.len() {
                return Err(Error::Runtime("put_(): offset out of bounds".into()));
            }
            on_backend_mut!((&mut *self, values) => |d, v| d.put(offset, positions, v))
        } => |rec, _| crate::compile::Instr::Put { dst: rec.input(self), offset, positions: positions.to_vec(), values: rec.input(values) })
    }

    pub fn fill(&mut self, l: &Layout, value: f64) -> Result<()> {
        recorded!({
            self.check_view(l)?;
            on_backend_mut!((&mut *self) => |d| d.fill(l, value))
        } => |rec, _| crate::compile::Instr::Fill { dst: rec.input(self), l: l.clone(), value })
    }

    pub fn add_into(&mut self, l: &Layout, src: &Memory) -> Result<()> {
        recorded!({
            self.check_view(l)?;
            let dtype = self.dtype();
            if dtype.compute() != dtype {
                // Narrow memory: the sum in the wide type, rounded back into place.
                if !l.is_non_overlapping() {
                    // Elements reached twice (overlapping windows) take their additions one after
                    // another, in the view's order, as PyTorch's kernels do: one outer index at a
                    // time, until the rest has a slot per element.
                    let flat = Layout::contiguous(&l.shape);
                    for i in 0..l.shape[0] {
                        let src_part = src.gather(&flat.select(0, i))?;
                        self.add_into(&l.select(0, i), &src_part)?;
                    }
                    return Ok(());
                }
                let flat = Layout::contiguous(&l.shape);
                let sum = Memory::binary(
                    crate::backend::BinaryOp::Add,
                    (self, l),
                    (src, &flat),
                    &l.shape,
                    dtype,
                )?;
                return self.copy_into(l, (&sum, &flat));
            }
            on_backend_mut!((&mut *self, src) => |d, s| d.add_into(l, s))
        } => |rec, _| crate::compile::Instr::AddInto { dst: rec.input(self), l: l.clone(), src: rec.input(src) })
    }

    /// One optimizer step on `n` elements at `offset`, the gradient and the state buffers as
    /// (memory, offset), all on this memory's backend; `step`: the step counter (a float32
    /// host element) the constants of `h` come from when `h.from_step`.
    pub fn optimizer_step(
        &mut self,
        offset: usize,
        n: usize,
        grad: (&Memory, usize),
        states: Vec<(&mut Memory, usize)>,
        step: Option<(&Memory, usize)>,
        h: &OptimStep,
    ) -> Result<()> {
        use crate::compile::MemKey;
        let resolved = match step {
            Some((m, at)) if h.from_step && !matches!(m, Memory::Meta(_)) => {
                let b = m.host()?;
                if at >= b.len() {
                    return Err(Error::Runtime(
                        "optimizer step counter out of bounds".into(),
                    ));
                }
                let t = crate::backend::cpu::dispatch!(b.dtype(), T => T::slice(b)[at].to_f64());
                h.at_step(t)
            }
            _ => *h,
        };
        let Some(entered) = crate::compile::enter() else {
            return self.optimizer_step_kernel(offset, n, grad, states, &resolved);
        };
        let step_key = step.map(|(m, at)| (MemKey::of(m), at));
        // The buffers' identities, taken before the kernel borrows the states.
        let keys: Vec<_> = states.iter().map(|(m, o)| (MemKey::of(m), *o)).collect();
        let (dst, grad_key) = (MemKey::of(self), MemKey::of(grad.0));
        let result = self.optimizer_step_kernel(offset, n, grad, states, &resolved);
        entered.finish(result, |rec, _| crate::compile::Instr::OptimizerStep {
            dst: rec.input_at(dst),
            offset,
            n,
            grad: (rec.input_at(grad_key), grad.1),
            step: step_key.map(|(k, at)| (rec.input_at(k), at)),
            states: keys
                .into_iter()
                .map(|(k, o)| (rec.input_at(k), o))
                .collect(),
            h: *h,
        })
    }

    fn optimizer_step_kernel(
        &mut self,
        offset: usize,
        n: usize,
        grad: (&Memory, usize),
        states: Vec<(&mut Memory, usize)>,
        h: &OptimStep,
    ) -> Result<()> {
        match (self, grad.0) {
            (Memory::Cpu(p), Memory::Cpu(g)) => {
                let mut st = Vec::with_capacity(states.len());
                for (m, o) in states {
                    match m {
                        Memory::Cpu(b) => st.push((b, o)),
                        _ => return Err(two_devices()),
                    }
                }
                p.optimizer_step(offset, n, (g, grad.1), &mut st, h)
            }
            (Memory::Cuda(p), Memory::Cuda(g)) => {
                let mut st = Vec::with_capacity(states.len());
                for (m, o) in states {
                    match m {
                        Memory::Cuda(b) => st.push((b, o)),
                        _ => return Err(two_devices()),
                    }
                }
                p.optimizer_step(offset, n, (g, grad.1), &mut st, h)
            }
            (Memory::Meta(_), Memory::Meta(_)) => Ok(()), // no data to update
            _ => Err(two_devices()),
        }
    }
}

/// The storage shared by a tensor and its views. The version counter is bumped by every
/// in-place write so that saved tensors can detect that they were modified.
#[derive(Debug)]
pub struct Storage {
    memory: RwLock<Memory>,
    version: AtomicU64,
    device: Device,
    /// Made inside `inference_mode` (PyTorch's inference tensors; their views are too).
    inference: bool,
}

thread_local! {
    /// Whether `inference_mode` is on in this thread (as PyTorch's, per thread).
    static INFERENCE_MODE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether `inference_mode` is on in this thread.
pub fn is_inference_mode() -> bool {
    INFERENCE_MODE.with(|m| m.get())
}

pub fn set_inference_mode(enabled: bool) {
    INFERENCE_MODE.with(|m| m.set(enabled));
}

impl Storage {
    pub fn new(memory: Memory) -> Storage {
        Storage {
            device: memory.device(),
            memory: RwLock::new(memory),
            version: AtomicU64::new(0),
            inference: is_inference_mode(),
        }
    }

    /// Whether this memory was made in inference mode.
    pub fn is_inference(&self) -> bool {
        self.inference
    }

    /// PyTorch's error for an in-place write to an inference tensor outside inference mode
    /// (checked before the write, so the data is left as it was).
    pub fn check_writable(&self) -> Result<()> {
        if self.inference && !is_inference_mode() {
            return Err(Error::Runtime(
                "Inplace update to inference tensor outside InferenceMode is not allowed.You \
                 can make a clone to get a normal tensor before doing inplace update.See \
                 https://github.com/pytorch/rfcs/pull/17 for more details."
                    .into(),
            ));
        }
        Ok(())
    }

    /// Read access. Recursive, so that one op may read the same storage twice (`x + x`)
    /// even while another thread waits to write it.
    pub fn read(&self) -> RwLockReadGuard<'_, Memory> {
        self.memory.read_recursive()
    }

    /// Write access; the caller is making an in-place change, so the version moves on.
    pub fn write(&self) -> RwLockWriteGuard<'_, Memory> {
        self.version.fetch_add(1, Ordering::Relaxed);
        self.memory.write()
    }

    /// Write access that leaves the version where it is, for the one write autograd must not
    /// see: batch norm's update of its running statistics (as PyTorch's kernels write them).
    pub fn write_unversioned(&self) -> RwLockWriteGuard<'_, Memory> {
        self.memory.write()
    }

    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    /// Puts the version back to 0: for a composite's fresh result whose own writes built
    /// it (PyTorch's result of one kernel starts at 0). Only where nothing else holds this
    /// storage, strongly or weakly (no saved copy could then see the change).
    pub fn forget_writes(self: &std::sync::Arc<Self>) -> bool {
        let unshared =
            std::sync::Arc::strong_count(self) == 1 && std::sync::Arc::weak_count(self) == 0;
        if unshared {
            self.version.store(0, Ordering::Relaxed);
        }
        unshared
    }

    pub fn bump_version(&self) {
        self.version.fetch_add(1, Ordering::Relaxed);
    }

    pub fn dtype(&self) -> DType {
        self.memory.read_recursive().dtype()
    }

    pub fn device(&self) -> Device {
        self.device
    }
}
