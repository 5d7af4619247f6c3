//! `Tensor`: a layout over shared storage, with the non-differentiable operations the ops
//! layer builds on. Methods here do PyTorch's dtype promotion, broadcasting and views; the
//! kernels themselves run on the tensor's backend through `storage::Memory`.

mod conv;
mod host;
pub mod rnn;
pub mod storage;
pub use conv::Window;

#[cfg(test)]
mod proptests;

use std::cmp::Ordering;
use std::sync::Arc;

use crate::backend::cpu::dispatch;
use crate::backend::{reduced_shape, split_at_dim, Along, Element, SumPlan};
pub use crate::backend::{ActivationBackward, BinaryOp, CompareOp, UnaryArgs, UnaryOp};
use crate::bail;
use crate::base::layout::shape_str;
pub use crate::base::{device, dtype, layout};
pub use crate::base::{Bool8, DType, Device, Layout, Scalar, Shape};
use crate::error::{Error, Result};
use storage::{Buffer, Memory, Storage};

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
            Some(f) if f == Device::Meta || d == Device::Meta => {
                // (PyTorch's meta check: the first tensor's device is the one expected.)
                return Err(Error::Runtime(format!(
                    "Tensor on device {d} is not on the expected device {f}!"
                )));
            }
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

/// `f` truncated to int64, or PyTorch's error when int64 cannot hold it.
pub fn float_to_int64(f: f64) -> Result<i64> {
    // 2^63 is exact in f64; every finite value in [-2^63, 2^63) truncates into range.
    if f.is_nan() || !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        bail!(
            Runtime,
            "value cannot be converted to type int64 without overflow"
        );
    }
    Ok(f as i64)
}

/// PyTorch's check that a Python number fits a narrow integer dtype (`tensor([300],
/// dtype=uint8)` raises); negative integers down to -max wrap into an unsigned type (`-1` is
/// 255), as its `checked_convert` allows.
fn fits_narrow_int(v: Scalar, i: i64, dtype: DType) -> Result<()> {
    let (lo, hi) = match dtype {
        DType::U8 => (0, u8::MAX as i64),
        DType::I8 => (i8::MIN as i64, i8::MAX as i64),
        DType::I16 => (i16::MIN as i64, i16::MAX as i64),
        DType::I32 => (i32::MIN as i64, i32::MAX as i64),
        _ => return Ok(()),
    };
    let ok = match v {
        Scalar::Float(f) => f >= lo as f64 && f < hi as f64 + 1.0,
        _ if lo == 0 => i >= -hi && i <= hi,
        _ => i >= lo && i <= hi,
    };
    if !ok {
        bail!(
            Runtime,
            "value cannot be converted to type {} without overflow",
            dtype.name()
        );
    }
    Ok(())
}

/// `a == b` for two shapes, inline (a slice comparison calls `memcmp`).
#[inline]
fn same_shape(a: &[usize], b: &[usize]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// The dtype integer-only kernels compute a bool tensor in.
fn numeric(d: DType) -> DType {
    if d == DType::Bool {
        DType::I64
    } else {
        d
    }
}

#[derive(Clone, Debug)]
pub struct Tensor {
    storage: Arc<Storage>,
    layout: Layout,
    dtype: DType,
    /// A Python number made a 0-d tensor (PyTorch's "wrapped number"): it ranks below 0-d
    /// tensors in type promotion, and mul/div of a half type read it unrounded.
    wrapped_number: bool,
}

/// PyTorch's refusals of `-` with bool operands (tensors or Python bools).
pub const SUB_TWO_BOOLS: &str = "Subtraction, the `-` operator, with two bool tensors is not \
     supported. Use the `^` or `logical_xor()` operator instead.";
pub const SUB_ONE_BOOL: &str = "Subtraction, the `-` operator, with a bool tensor is not \
     supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator \
     instead.";

impl Tensor {
    // ----- construction -------------------------------------------------------------------

    fn from_memory(memory: Memory, shape: &[usize]) -> Tensor {
        debug_assert_eq!(memory.len(), layout::numel(shape));
        let dtype = memory.dtype();
        let storage = if crate::compile::recording() {
            let storage = Arc::new(Storage::new(memory));
            crate::compile::on_new_storage(&storage, &storage.read());
            storage
        } else {
            Arc::new(Storage::new(memory))
        };
        Tensor {
            storage,
            layout: Layout::contiguous(shape),
            dtype,
            wrapped_number: false,
        }
    }

    /// A view of `storage` (a compiled replay's result over one of its buffers).
    pub fn from_storage(storage: Arc<Storage>, layout: Layout, dtype: DType) -> Tensor {
        Tensor {
            storage,
            layout,
            dtype,
            wrapped_number: false,
        }
    }

    pub fn from_buffer(buffer: Buffer, shape: &[usize]) -> Tensor {
        Tensor::from_memory(Memory::Cpu(buffer), shape)
    }

    pub fn from_vec<T: Element>(v: Vec<T>, shape: &[usize]) -> Tensor {
        Tensor::from_buffer(T::into_buffer(v), shape)
    }

    /// Zeros on the CPU.
    pub fn zeros(shape: &[usize], dtype: DType) -> Result<Tensor> {
        Tensor::zeros_on(shape, dtype, Device::Cpu)
    }

    pub fn full(shape: &[usize], value: f64, dtype: DType) -> Result<Tensor> {
        Tensor::full_on(shape, value, dtype, Device::Cpu)
    }

    /// Zeros on `device`.
    pub fn zeros_on(shape: &[usize], dtype: DType, device: Device) -> Result<Tensor> {
        let n = checked_storage(shape, dtype)?;
        Ok(Tensor::from_memory(Memory::zeros(device, dtype, n)?, shape))
    }

    /// `value` everywhere, on `device`.
    pub fn full_on(
        shape: &[usize],
        value: impl Into<Scalar>,
        dtype: DType,
        device: Device,
    ) -> Result<Tensor> {
        let value = value.into();
        // (by bits: -0.0 is written, not taken for zeros)
        if value.to_f64().to_bits() == 0 {
            return Tensor::zeros_on(shape, dtype, device);
        }
        if let Some(number) = fill_number(value, dtype) {
            let n = checked_storage(shape, dtype)?;
            return Ok(Tensor::from_memory(
                Memory::full(device, dtype, n, number)?,
                shape,
            ));
        }
        let t = Tensor::zeros_on(shape, dtype, device)?;
        t.fill_versioned(value, false)?;
        Ok(t)
    }

    /// Draws from U[0, 1) (or N(0, 1) when `normal`) on `device`, converted to `dtype`.
    pub fn random(shape: &[usize], dtype: DType, device: Device, normal: bool) -> Result<Tensor> {
        let n = checked_storage(shape, dtype)?;
        let calc = if dtype == DType::F64 {
            DType::F64
        } else {
            DType::F32
        };
        Tensor::from_memory(Memory::random(device, n, calc, normal)?, shape).cast(dtype)
    }

    /// A 0-d tensor on `device`.
    pub fn scalar_on(value: f64, dtype: DType, device: Device) -> Result<Tensor> {
        Tensor::scalar(value, dtype).to_device(device)
    }

    pub fn scalar(value: f64, dtype: DType) -> Tensor {
        // Integers wrap (uint8 - 1 adds 255, as PyTorch's wrapped numbers).
        dispatch!(dtype, T => Tensor::from_vec(vec![if dtype.is_float() {
            T::from_f64(value)
        } else {
            T::from_i64(value as i64)
        }], &[]))
    }

    /// A 0-d tensor of `dtype` holding a Python number (an integer stored as int64 exactly).
    pub fn from_scalar(value: Scalar, dtype: DType) -> Tensor {
        match (value, dtype) {
            (Scalar::Int(i), DType::I64) => Tensor::from_vec(vec![i], &[]),
            (Scalar::Int(i), DType::Bool) => Tensor::from_vec(vec![Bool8::new(i != 0)], &[]),
            _ => Tensor::scalar(value.to_f64(), dtype),
        }
    }

    /// Values given as `f64` (as Python hands them over), stored as `dtype`.
    pub fn from_f64s(values: &[f64], shape: &[usize], dtype: DType) -> Tensor {
        dispatch!(dtype, T => Tensor::from_vec(values.iter().map(|&v| T::from_f64(v)).collect::<Vec<T>>(), shape))
    }

    // ----- metadata -----------------------------------------------------------------------

    pub fn shape(&self) -> &[usize] {
        &self.layout.shape
    }
    pub fn layout(&self) -> &Layout {
        &self.layout
    }
    pub fn dtype(&self) -> DType {
        self.dtype
    }
    pub fn numel(&self) -> usize {
        self.layout.numel()
    }
    pub fn ndim(&self) -> usize {
        self.layout.ndim()
    }
    pub fn device(&self) -> Device {
        self.storage.device()
    }
    pub fn is_cuda(&self) -> bool {
        self.device().is_cuda()
    }
    pub fn storage(&self) -> &Arc<Storage> {
        &self.storage
    }
    pub fn version(&self) -> u64 {
        self.storage.version()
    }
    pub fn is_contiguous(&self) -> bool {
        self.layout.is_contiguous()
    }
    pub fn shares_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.storage, &other.storage)
    }

    /// A view with another layout over the same storage.
    pub fn with_layout(&self, mut layout: Layout) -> Tensor {
        // A view with no elements addresses nothing: its offset (which may lie past the end of
        // an empty storage, as `zeros(2, 0, 4)[1]`) is reset so kernels' `s[offset..]` is valid.
        if layout.shape.contains(&0) {
            layout.offset = 0;
        }
        debug_assert!(layout.extent().is_some());
        Tensor {
            storage: self.storage.clone(),
            layout,
            dtype: self.dtype,
            wrapped_number: false,
        }
    }

    /// The `legacy[shape]` description used in autograd error messages.
    pub fn type_description(&self) -> String {
        let cuda = matches!(self.device(), Device::Cuda(_));
        // PyTorch names the types without a legacy tensor class by dispatch key and dtype.
        let kind = match self.dtype {
            DType::Bool | DType::BF16 => format!(
                "{}{}Type",
                if cuda { "CUDA" } else { "CPU" },
                self.dtype.scalar_name()
            ),
            _ => format!(
                "torch.{}{}",
                if cuda { "cuda." } else { "" },
                self.dtype.legacy_name()
            ),
        };
        format!("{kind} {}", shape_str(self.shape()))
    }

    /// This tensor, or a copy of it when it shares storage with `other` (a kernel that
    /// writes `other` must not read its own memory through a second lock).
    fn private_from(&self, other: &Tensor) -> Result<Tensor> {
        if self.shares_storage(other) {
            self.clone_data()
        } else {
            Ok(self.clone())
        }
    }

    // ----- reading ------------------------------------------------------------------------

    /// The elements in row-major order.
    /// (Reading a CUDA tensor waits for its device: errors from queued kernels surface here.)
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        let t = self.to_device(Device::Cpu)?.cast(T::DTYPE)?.contiguous()?;
        let mem = t.storage.read();
        let start = t.layout.offset;
        crate::compile::on_host_read(&mem, start, t.numel());
        Ok(T::slice(mem.host()?)[start..start + t.numel()].to_vec())
    }

    /// An integer index tensor's values as int64 — zeros for a meta tensor, which has no
    /// values: ops indexing by it then compute their results' shapes (which never depend on
    /// an index's values) and the meta backend ignores the positions.
    pub fn index_values(&self) -> Result<Vec<i64>> {
        if self.device() == Device::Meta {
            return Ok(vec![0; self.numel()]);
        }
        self.to_vec::<i64>()
    }

    /// Whether any element is NaN (anomaly mode's check).
    pub fn has_nan(&self) -> Result<bool> {
        Ok(match self.dtype {
            DType::F32 | DType::F64 => self.to_f64_vec()?.iter().any(|v| v.is_nan()),
            _ => false,
        })
    }

    /// The value of a one-element tensor (of any shape), exact for int64.
    pub fn scalar_value(&self) -> Result<Scalar> {
        if self.numel() != 1 {
            bail!(
                Runtime,
                "a Tensor with {} elements cannot be converted to Scalar",
                self.numel()
            );
        }
        Ok(match self.dtype {
            DType::Bool => Scalar::Bool(self.to_vec::<i64>()?[0] != 0),
            d if d.is_float() => Scalar::Float(self.to_f64_vec()?[0]),
            _ => Scalar::Int(self.to_vec::<i64>()?[0]),
        })
    }

    /// A tensor of `dtype` from Python numbers: integers exact; a float that int64 cannot
    /// hold (NaN, inf, out of range) is PyTorch's error, not a saturated value.
    pub fn from_scalars(values: &[Scalar], shape: &[usize], dtype: DType) -> Result<Tensor> {
        if dtype.kind() != crate::base::Kind::Int {
            let v: Vec<f64> = values.iter().map(|v| v.to_f64()).collect();
            return Ok(Tensor::from_f64s(&v, shape, dtype));
        }
        let ints = values
            .iter()
            .map(|&v| {
                let i = match v {
                    Scalar::Int(i) => i,
                    Scalar::Bool(b) => b as i64,
                    Scalar::Float(f) => float_to_int64(f)?,
                };
                fits_narrow_int(v, i, dtype)?;
                Ok(i)
            })
            .collect::<Result<Vec<i64>>>()?;
        // Narrower integers wrap, as PyTorch's (`tensor([-1], dtype=uint8)` is 255).
        Tensor::from_vec(ints, shape).into_dtype(dtype)
    }

    pub fn to_f64_vec(&self) -> Result<Vec<f64>> {
        let t = self.to_device(Device::Cpu)?.contiguous()?;
        let mem = t.storage.read();
        let (start, n) = (t.layout.offset, t.numel());
        crate::compile::on_host_read(&mem, start, n);
        Ok(
            dispatch!(t.dtype, T => T::slice(mem.host()?)[start..start + n].iter().map(|v| v.to_f64()).collect()),
        )
    }

    /// A contiguous copy (or this tensor when it already is contiguous).
    pub fn contiguous(&self) -> Result<Tensor> {
        if self.is_contiguous()
            && self.layout.offset == 0
            && self.storage.read().len() == self.numel()
        {
            return Ok(self.clone());
        }
        self.clone_data()
    }

    /// A contiguous copy in fresh storage.
    pub fn clone_data(&self) -> Result<Tensor> {
        let out = self.storage.read().gather(&self.layout)?;
        Ok(Tensor::from_memory(out, self.shape()))
    }

    pub fn cast(&self, dtype: DType) -> Result<Tensor> {
        if dtype == self.dtype {
            return Ok(self.clone());
        }
        let mem = self.storage.read();
        let result = layout::preserved_layout(&self.layout);
        Tensor::laid_out(self.shape(), [&self.layout], result, |[l], _| {
            mem.cast(l, dtype)
        })
    }

    /// A copy in fresh storage laid out as PyTorch's `clone()` (`preserve_format`): with
    /// this tensor's strides where it is dense, else dense in the order of its strides.
    pub fn clone_preserving(&self) -> Result<Tensor> {
        let mem = self.storage.read();
        let result = layout::preserved_layout(&self.layout);
        Tensor::laid_out(self.shape(), [&self.layout], result, |[l], _| mem.gather(l))
    }

    /// This tensor converted to `dtype` (itself, without a copy, when it already is).
    fn into_dtype(self, dtype: DType) -> Result<Tensor> {
        if dtype == self.dtype {
            Ok(self)
        } else {
            self.cast(dtype)
        }
    }

    /// A copy on `device` (this tensor itself when it is already there).
    pub fn to_device(&self, device: Device) -> Result<Tensor> {
        if self.device() == device {
            return Ok(self.clone());
        }
        // Bool bytes leave the host as 0 or 1: device kernels read them as raw bytes, and
        // host memory may hold any byte Python wrote (a bool cast normalises, see `Bool8`).
        let c = if self.dtype == DType::Bool {
            let bytes = self.storage.read().cast(&self.layout, DType::Bool)?;
            Tensor::from_memory(bytes, self.shape())
        } else {
            self.contiguous()?
        };
        let out = c
            .storage
            .read()
            .to_device(c.layout.offset, c.numel(), device)?;
        Ok(Tensor::from_memory(out, c.shape()))
    }

    /// A contiguous copy of a CPU tensor in page-locked host memory (`Tensor.pin_memory()`),
    /// which devices read in place; needs a CUDA device.
    pub fn pin_memory(&self) -> Result<Tensor> {
        crate::compile::note_break("pin_memory() makes memory outside the recorded kernels");
        if self.device() != Device::Cpu {
            bail!(Runtime, "only dense CPU tensors can be pinned");
        }
        let c = self.contiguous()?;
        let mem = c.storage.read();
        let Memory::Cpu(host) = &*mem else {
            bail!(Runtime, "only dense CPU tensors can be pinned");
        };
        let bytes = &host.host_bytes(c.layout.offset)[..c.numel() * c.dtype.size_of()];
        let pinned = crate::backend::cuda::pinned_copy(c.dtype, c.numel(), bytes)?;
        Ok(Tensor::from_memory(Memory::Cpu(pinned), c.shape()))
    }

    /// Whether the tensor's memory is page-locked (made by [`Tensor::pin_memory`]).
    pub fn is_pinned(&self) -> bool {
        matches!(&*self.storage.read(), Memory::Cpu(b) if crate::backend::cuda::is_pinned(b))
    }

    // ----- elementwise --------------------------------------------------------------------

    /// `kernel(layouts, shape)`'s result, laid out as PyTorch lays out an elementwise result
    /// (see [`layout::elementwise_layout`]): where the operands order the dims otherwise than
    /// row-major, the kernel runs over them permuted to that order and the result is
    /// permuted back, a dense tensor with the operands' strides.
    fn elementwise<const N: usize>(
        shape: &[usize],
        layouts: [&Layout; N],
        kernel: impl FnOnce([&Layout; N], &[usize]) -> Result<Memory>,
    ) -> Result<Tensor> {
        let result = layout::elementwise_layout(shape, &layouts);
        Tensor::laid_out(shape, layouts, result, kernel)
    }

    /// `kernel(layouts, shape)`'s result, computed in the order of `result` and laid out as it
    /// says.
    fn laid_out<const N: usize>(
        shape: &[usize],
        layouts: [&Layout; N],
        result: layout::ResultLayout,
        kernel: impl FnOnce([&Layout; N], &[usize]) -> Result<Memory>,
    ) -> Result<Tensor> {
        let (order, exact) = match result {
            layout::ResultLayout::RowMajor => {
                return Ok(Tensor::from_memory(kernel(layouts, shape)?, shape));
            }
            layout::ResultLayout::Ordered(order) => (order, None),
            layout::ResultLayout::Strided(strides) => {
                (layout::order_of_strides(&strides), Some(strides))
            }
        };
        let mut permuted = Vec::with_capacity(N);
        for l in layouts {
            permuted.push(l.expand(shape)?.permute(&order));
        }
        let inner_shape: Shape = order.iter().map(|&d| shape[d]).collect();
        let out = kernel(std::array::from_fn(|i| &permuted[i]), &inner_shape)?;
        let out = Tensor::from_memory(out, &inner_shape);
        let mut back: Shape = order.clone();
        for (k, &d) in order.iter().enumerate() {
            back[d] = k;
        }
        let mut restored = out.layout.permute(&back);
        if let Some(strides) = exact {
            // (the same addresses: only size-1 dims' strides differ from the order's)
            debug_assert!(
                shape.contains(&0)
                    || restored
                        .strides
                        .iter()
                        .zip(&strides)
                        .zip(shape)
                        .all(|((a, b), &n)| n < 2 || a == b)
            );
            restored.strides = strides;
        }
        Ok(out.with_layout(restored))
    }

    pub fn unary(&self, op: UnaryOp) -> Result<Tensor> {
        self.unary_with(op, UnaryArgs::default())
    }

    /// `self ** power` for a scalar power.
    pub fn pow_scalar(&self, power: f64) -> Result<Tensor> {
        // PyTorch's half-type kernels take the power as the half type (rounded through float).
        let power = match self.dtype {
            DType::F16 => half::f16::from_f32(power as f32).to_f64(),
            DType::BF16 => half::bf16::from_f32(power as f32).to_f64(),
            _ => power,
        };
        let args = UnaryArgs {
            power,
            ..UnaryArgs::default()
        };
        self.unary_with(UnaryOp::PowScalar, args)
    }

    /// Elements clamped into `[min, max]` (either bound optional).
    pub fn clamp(&self, min: Option<f64>, max: Option<f64>) -> Result<Tensor> {
        if self.dtype.is_float() && min.into_iter().chain(max).any(f64::is_nan) {
            // A NaN bound makes every element NaN, as PyTorch's min(max(x, lo), hi).
            return Tensor::full_on(self.shape(), f64::NAN, self.dtype, self.device());
        }
        let args = UnaryArgs {
            min: min.unwrap_or(f64::NEG_INFINITY),
            max: max.unwrap_or(f64::INFINITY),
            ..UnaryArgs::default()
        };
        self.unary_with(UnaryOp::Clamp, args)
    }

    /// A parametrised unary op (`args` as its kernel reads them).
    pub fn unary_with(&self, op: UnaryOp, args: UnaryArgs) -> Result<Tensor> {
        // Float-only ops compute integers as float32; the others compute bool as int64.
        let calc = if op.needs_float() {
            self.dtype.to_float()
        } else {
            numeric(self.dtype)
        };
        let x = self.cast(calc)?;
        let mem = x.storage.read();
        Tensor::elementwise(x.shape(), [&x.layout], |[l], _| mem.unary(l, op, args))
    }

    /// PyTorch's promotion of two tensors: a 0-d tensor only changes the result's dtype when
    /// it is of a higher category (bool < integer < floating) than the other operand.
    pub fn promote_with(&self, other: &Tensor) -> DType {
        let category = |d: DType| d.kind();
        // PyTorch's priority classes: tensors with dimensions, then 0-d tensors, then wrapped
        // numbers. The higher class's dtype wins unless the lower one is of a higher category.
        let priority = |t: &Tensor| match (t.wrapped_number, t.ndim() == 0) {
            (true, _) => 0,
            (false, true) => 1,
            (false, false) => 2,
        };
        // A Python float counts as the default floating dtype (it may be held in float32
        // beside a half type, for the kernels' sake).
        let dtype = |t: &Tensor| match t.wrapped_number && t.dtype.is_float() {
            true => crate::base::dtype::default_float(),
            false => t.dtype,
        };
        match priority(self).cmp(&priority(other)) {
            Ordering::Less if category(self.dtype) <= category(other.dtype) => other.dtype,
            Ordering::Greater if category(other.dtype) <= category(self.dtype) => self.dtype,
            _ => dtype(self).promote(dtype(other)),
        }
    }

    /// This 0-d tensor marked as a Python number (see `wrapped_number`).
    pub fn into_wrapped_number(mut self) -> Tensor {
        debug_assert_eq!(self.ndim(), 0);
        self.wrapped_number = true;
        self
    }

    /// The dtype of `self op other`, with PyTorch's rules for bool operands: `+`, `*`,
    /// maximum and minimum of two bools stay bool (or, and, or, and), `/` is float, `-` and
    /// `**` have no bool kernel.
    pub fn result_dtype(&self, op: BinaryOp, other: &Tensor) -> Result<DType> {
        let t = self.promote_with(other);
        Ok(match (op, t) {
            (BinaryOp::Div, t) if t.is_integral() => crate::base::dtype::default_float(),
            (BinaryOp::Sub, DType::Bool) => bail!(Runtime, "{SUB_TWO_BOOLS}"),
            (BinaryOp::Sub, _) if self.dtype == DType::Bool || other.dtype == DType::Bool => {
                bail!(Runtime, "{SUB_ONE_BOOL}")
            }
            (BinaryOp::Pow, DType::Bool) => {
                bail!(NotImplemented, "\"pow\" not implemented for 'Bool'")
            }
            (BinaryOp::Atan2, t) if t.is_integral() => DType::F32,
            (BinaryOp::Hypot | BinaryOp::Logaddexp, t) if t.is_integral() => {
                bail!(
                    NotImplemented,
                    "\"{}_cpu\" not implemented for '{}'",
                    op.name(),
                    t.scalar_name()
                )
            }
            (BinaryOp::Fmod | BinaryOp::Remainder | BinaryOp::FloorDivide, DType::Bool) => {
                // PyTorch's kernel names in its message.
                let kernel = match op {
                    BinaryOp::FloorDivide => "div_floor",
                    other => other.name(),
                };
                bail!(
                    NotImplemented,
                    "\"{kernel}_cpu\" not implemented for '{}'",
                    t.scalar_name()
                )
            }
            _ => t,
        })
    }

    pub fn binary(&self, op: BinaryOp, other: &Tensor) -> Result<Tensor> {
        // Operands of one shape (the common case) borrow it: building and moving a shape
        // through a `Result` costs more than the rest of a small op's bookkeeping.
        let broadcast;
        let shape: &[usize] = if same_shape(self.shape(), other.shape()) {
            self.shape()
        } else {
            broadcast = layout::broadcast_shapes(self.shape(), other.shape())?;
            &broadcast
        };
        common_device(&[self, other])?;
        let dtype = self.result_dtype(op, other)?;
        // PyTorch's CPU kernels multiply and divide a half type by a scalar second operand
        // of another dtype in float32, reading the scalar unrounded (a Python 1.7 is not
        // first rounded to float16's 1.7002).
        let opmath_scalar = matches!(op, BinaryOp::Mul | BinaryOp::Div | BinaryOp::FloorDivide)
            && dtype.compute() == DType::F32
            && dtype != DType::F32
            && other.dtype != dtype
            && other.numel() == 1;
        // Bool operands (max/min of masks) compute as int64 and convert back.
        let calc = if opmath_scalar {
            DType::F32
        } else {
            numeric(dtype)
        };
        // Borrow operands that already have the dtype (a clone copies the layout).
        let (ca, cb);
        let a = if self.dtype == calc {
            self
        } else {
            ca = self.cast(calc)?;
            &ca
        };
        let b = if other.dtype == calc {
            other
        } else {
            cb = other.cast(calc)?;
            &cb
        };
        if calc.kind() == crate::base::Kind::Int
            && matches!(
                op,
                BinaryOp::Fmod | BinaryOp::Remainder | BinaryOp::FloorDivide
            )
            && shape.iter().all(|&d| d > 0)
            && b.to_vec::<i64>()?.contains(&0)
        {
            // PyTorch's CPU words (integer division by zero has no value to give; an empty
            // result divides nothing).
            bail!(Runtime, "ZeroDivisionError");
        }
        let (ma, mb) = (a.storage.read(), b.storage.read());
        Tensor::elementwise(shape, [&a.layout, &b.layout], |[la, lb], shape| {
            Memory::binary(op, (&ma, la), (&mb, lb), shape, calc)
        })?
        .into_dtype(dtype)
    }

    pub fn compare(&self, op: CompareOp, other: &Tensor) -> Result<Tensor> {
        let shape = layout::broadcast_shapes(self.shape(), other.shape())?;
        common_device(&[self, other])?;
        let dtype = self.promote_with(other);
        let (a, b) = (self.cast(dtype)?, other.cast(dtype)?);
        let (ma, mb) = (a.storage.read(), b.storage.read());
        Tensor::elementwise(&shape, [&a.layout, &b.layout], |[la, lb], shape| {
            Memory::compare(op, (&ma, la), (&mb, lb), shape, dtype)
        })
    }

    /// An activation's backward in one pass over memory: `self` is the incoming gradient,
    /// `y` the activation's output (broadcast together).
    pub fn activation_backward(&self, op: ActivationBackward, y: &Tensor) -> Result<Tensor> {
        let shape = layout::broadcast_shapes(self.shape(), y.shape())?;
        if !self.dtype.is_float() {
            bail!(Runtime, "{} expects a floating-point gradient", op.name());
        }
        let dev = common_device(&[self, y])?;
        let g = self.to_device(dev)?;
        let y = y.cast(self.dtype)?.to_device(dev)?;
        let (mg, my) = (g.storage.read(), y.storage.read());
        Tensor::elementwise(&shape, [&g.layout, &y.layout], |[lg, ly], shape| {
            Memory::activation_backward(op, (&mg, lg), (&my, ly), shape)
        })
    }

    /// `cond ? a : b` elementwise, broadcasting all three.
    pub fn where_(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        let shape = layout::broadcast_shapes(cond.shape(), a.shape())?;
        let shape = layout::broadcast_shapes(&shape, b.shape())?;
        let dev = common_device(&[cond, a, b])?;
        let dtype = a.promote_with(b);
        let c = cond.cast(DType::Bool)?.to_device(dev)?;
        let (a, b) = (
            a.cast(dtype)?.to_device(dev)?,
            b.cast(dtype)?.to_device(dev)?,
        );
        let (mc, ma, mb) = (c.storage.read(), a.storage.read(), b.storage.read());
        // (PyTorch's operands are the condition, then the two values)
        Tensor::elementwise(
            &shape,
            [&c.layout, &a.layout, &b.layout],
            |[lc, la, lb], shape| Memory::where_((&mc, lc), (&ma, la), (&mb, lb), shape),
        )
    }

    // ----- reductions ---------------------------------------------------------------------

    /// Sum over `dims` (distinct, wrapped); the reduced dims are dropped or kept as size 1.
    pub fn sum_dims(&self, dims: &[usize], keepdim: bool) -> Result<Tensor> {
        // Integers and bools add up in int64 (PyTorch's sum of int8 is int64).
        let x = self.cast(if self.dtype.is_integral() {
            DType::I64
        } else {
            self.dtype
        })?;
        let plan = SumPlan::new(&x.layout, dims, keepdim);
        // Reducing an empty dim gives a result bigger than the input (`zeros(0, 2**62, 4)`).
        if layout::checked_numel(&plan.out_shape).is_err() {
            bail!(Runtime, "Stride calculation overflowed");
        }
        let out = x.storage.read().sum(&x.layout, &plan)?;
        Ok(Tensor::from_memory(out, &plan.out_shape))
    }

    /// `max`/`min` along `dim`: values and int64 indices.
    pub fn extreme_dim(&self, dim: usize, keepdim: bool, max: bool) -> Result<(Tensor, Tensor)> {
        if self.shape()[dim] == 0 {
            bail!(
                Index,
                "max(): Expected reduction dim {} to have non-zero size.",
                dim
            );
        }
        let (rows, outer_shape) = self.cast(numeric(self.dtype))?.rows_along(dim)?;
        let n = self.shape()[dim];
        let n_out = layout::numel(&outer_shape);
        let out_shape = reduced_shape(self.shape(), &[dim], keepdim);
        let (v, i) = rows
            .storage
            .read()
            .extreme_rows(rows.layout.offset, n_out, n, max)?;
        let values = Tensor::from_memory(v, &out_shape).into_dtype(self.dtype)?;
        Ok((values, Tensor::from_memory(i, &out_shape)))
    }

    /// `amax`/`amin` over `dims` (distinct, wrapped, each non-empty; none: the 0-d case):
    /// the values only. The reduced dims move last into one row per kept position (no copy
    /// when they already are last), as `extreme_dim` does for one dim.
    pub fn extreme_dims(&self, dims: &[usize], keepdim: bool, max: bool) -> Result<Tensor> {
        let shape = self.shape();
        let mut order: Vec<usize> = (0..self.ndim()).filter(|d| !dims.contains(d)).collect();
        let n_out = layout::checked_numel(&order.iter().map(|&d| shape[d]).collect::<Vec<_>>())?;
        let n = layout::checked_numel(&dims.iter().map(|&d| shape[d]).collect::<Vec<_>>())?;
        if n == 0 {
            bail!(
                Index,
                "max(): Expected reduction dim to have non-zero size."
            );
        }
        order.extend_from_slice(dims);
        let x = self.cast(numeric(self.dtype))?;
        let rows = x.with_layout(x.layout.permute(&order)).contiguous()?;
        let v = rows
            .storage
            .read()
            .extreme_values_rows(rows.layout.offset, n_out, n, max)?;
        let out_shape = reduced_shape(shape, dims, keepdim);
        Tensor::from_memory(v, &out_shape).into_dtype(self.dtype)
    }

    /// A contiguous copy with `dim` moved last, and the shape of the other dims.
    fn rows_along(&self, dim: usize) -> Result<(Tensor, Vec<usize>)> {
        let nd = self.ndim();
        let mut order: Vec<usize> = (0..nd).filter(|&d| d != dim).collect();
        let outer: Vec<usize> = order.iter().map(|&d| self.shape()[d]).collect();
        order.push(dim);
        let permuted = self.with_layout(self.layout.permute(&order));
        Ok((permuted.contiguous()?, outer))
    }

    /// Moves the last dim of a contiguous `rows` tensor back to `dim`.
    fn unrows(rows: Tensor, dim: usize) -> Tensor {
        let nd = rows.ndim();
        let mut order: Vec<usize> = (0..nd - 1).collect();
        order.insert(dim, nd - 1);
        let l = rows.layout.permute(&order);
        rows.with_layout(l)
    }

    pub fn softmax(&self, dim: usize, log: bool) -> Result<Tensor> {
        let x = self.cast(self.dtype.to_float())?;
        if x.ndim() == 0 {
            // One row of one element (so NaN stays NaN, as in PyTorch).
            let mut row = Layout::contiguous(&[1]);
            row.offset = x.layout.offset;
            let out = x.with_layout(row).softmax(0, log)?;
            return Ok(out.with_layout(Layout::contiguous(&[])));
        }
        let (rows, outer) = x.rows_along(dim)?;
        let n = x.shape()[dim];
        let mut row_shape = outer.clone();
        row_shape.push(n);
        let out =
            rows.storage
                .read()
                .softmax_rows(rows.layout.offset, layout::numel(&outer), n, log)?;
        Tensor::unrows(Tensor::from_memory(out, &row_shape), dim).contiguous()
    }

    /// A one-hot tensor along `dim` of size `n` at `indices` (which lack `dim`), in `dtype`.
    pub fn one_hot_along(indices: &Tensor, dim: usize, n: usize, dtype: DType) -> Result<Tensor> {
        let shape = indices.shape();
        let (outer, inner) = (shape[..dim].iter().product(), shape[dim..].iter().product());
        let mut out_shape = shape.to_vec();
        out_shape.insert(dim, n);
        let idx = indices.cast(DType::I64)?.contiguous()?;
        let rows = Along {
            offset: idx.layout.offset,
            outer,
            n,
            inner,
        };
        let out = idx.storage.read().one_hot(rows, numeric(dtype))?;
        Tensor::from_memory(out, &out_shape).into_dtype(dtype)
    }

    // ----- products -----------------------------------------------------------------------

    /// Batched product of `[..batch, m, k]` and `[..batch, k, n]` (equal batch shapes).
    pub fn batched_matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
        let dev = common_device(&[a, b])?;
        let dtype = a.dtype.promote(b.dtype);
        let calc = numeric(dtype);
        let (a, b) = (a.cast(calc)?.to_device(dev)?, b.cast(calc)?.to_device(dev)?);
        let nd = a.ndim();
        let mut shape = a.shape()[..nd - 1].to_vec();
        shape.push(b.shape()[nd - 1]);
        // The product's shape is new (m and n from two operands): check it before filling it.
        let n = checked_storage(&shape, dtype)?;
        if dev == Device::Cpu {
            crate::base::buffer::check_host_alloc(calc, n)?;
        }
        let out = {
            let (ma, mb) = (a.storage.read(), b.storage.read());
            Memory::batched_matmul((&ma, &a.layout), (&mb, &b.layout))?
        };
        Tensor::from_memory(out, &shape).into_dtype(dtype)
    }

    /// `beta * c + alpha * (a @ b)` for `[..batch, m, k] @ [..batch, k, n]` (equal batch
    /// shapes, one dtype) with `c` broadcast to the product's shape, in one pass where the
    /// backend fuses it. `beta == 0` ignores `c` (NaN included), as BLAS and PyTorch.
    pub fn batched_addmm(
        c: &Tensor,
        a: &Tensor,
        b: &Tensor,
        beta: Scalar,
        alpha: Scalar,
    ) -> Result<Tensor> {
        let dev = common_device(&[c, a, b])?;
        let dtype = a.dtype.promote(b.dtype).promote(c.dtype);
        let calc = numeric(dtype);
        let nd = a.ndim();
        let mut shape = a.shape()[..nd - 1].to_vec();
        shape.push(b.shape()[nd - 1]);
        let n = checked_storage(&shape, dtype)?;
        if dev == Device::Cpu {
            crate::base::buffer::check_host_alloc(calc, n)?;
        }
        c.layout.expand(&shape)?; // broadcast errors before any copy
        let [c, a, b] = [c, a, b].map(|t| t.cast(calc).and_then(|t| t.to_device(dev)));
        let (c, a, b) = (c?, a?, b?);
        let c_layout = c.layout.expand(&shape)?;
        let out = {
            let (mc, ma, mb) = (c.storage.read(), a.storage.read(), b.storage.read());
            Memory::batched_addmm(
                (&mc, &c_layout),
                (&ma, &a.layout),
                (&mb, &b.layout),
                beta.to_f64(),
                alpha.to_f64(),
            )?
        };
        Tensor::from_memory(out, &shape).into_dtype(dtype)
    }

    // ----- gathers and scatters -----------------------------------------------------------

    /// Elements at `index` (wrapped, checked) along `dim`.
    pub fn index_select(&self, dim: usize, index: &[usize]) -> Result<Tensor> {
        let x = self.contiguous()?;
        let (outer, n, inner) = split_at_dim(x.shape(), dim);
        let mut out_shape = x.shape().to_vec();
        out_shape[dim] = index.len();
        check_indices(index, n)?;
        let rows = Along {
            offset: x.layout.offset,
            outer,
            n,
            inner,
        };
        let out = x.storage.read().index_select(rows, index)?;
        Ok(Tensor::from_memory(out, &out_shape))
    }

    /// Zeros of `shape` with `self` added at `index` along `dim` (adjoint of `index_select`).
    pub fn index_add_into_zeros(
        &self,
        dim: usize,
        index: &[usize],
        shape: &[usize],
    ) -> Result<Tensor> {
        let g = self.cast(numeric(self.dtype))?.contiguous()?;
        let (outer, n, inner) = split_at_dim(shape, dim);
        check_indices(index, n)?;
        if g.numel() != outer * index.len() * inner {
            bail!(
                Runtime,
                "index_add(): Number of indices should be equal to source.size(dim)"
            );
        }
        let rows = Along {
            offset: g.layout.offset,
            outer,
            n,
            inner,
        };
        let out = g.storage.read().index_add(rows, index)?;
        Tensor::from_memory(out, shape).into_dtype(self.dtype)
    }

    // ----- in-place writes ----------------------------------------------------------------

    /// Copies `src` (broadcast to this view's shape, cast to its dtype) into the elements
    /// this view addresses, bumping the storage version.
    pub fn copy_from(&self, src: &Tensor) -> Result<()> {
        self.copy_from_versioned(src, true)
    }

    /// `copy_from` without moving the storage's version: tensors saved for backward before
    /// stay valid (batch norm's running statistics, which PyTorch's kernels update so).
    pub fn copy_from_unversioned(&self, src: &Tensor) -> Result<()> {
        self.copy_from_versioned(src, false)
    }

    fn copy_from_versioned(&self, src: &Tensor, versioned: bool) -> Result<()> {
        self.storage.check_writable()?;
        let expanded = src.layout.expand(self.shape()).map_err(|_| {
            Error::Runtime(format!(
                "The size of tensor a ({}) must match the size of tensor b ({}) at non-singleton dimension 0",
                shape_str(self.shape()),
                shape_str(src.shape())
            ))
        })?;
        let _ = expanded;
        // Materialise the source first only when it may alias this storage; otherwise the
        // elements are copied once, straight from the source's storage.
        let src = src.cast(self.dtype)?;
        let src = if self.shares_memory(&src) {
            src.clone_data()?
        } else {
            src
        };
        let src = src.to_device(self.device())?;
        let ls = src.layout.expand(self.shape())?;
        let ms = src.storage.read();
        let mut memory = if versioned {
            self.storage.write()
        } else {
            self.storage.write_unversioned()
        };
        memory.copy_into(&self.layout, (&ms, &ls))
    }

    /// Whether the two tensors' memories may share bytes: one storage, or two borrowing
    /// overlapping NumPy arrays.
    pub fn shares_memory(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.storage, &other.storage)
            || self.storage.read().overlaps(&other.storage.read())
    }

    /// PyTorch's refusal of an in-place op whose input partly overlaps the written tensor:
    /// both views dense over one storage, on overlapping ranges that are not the same
    /// elements in the same order (views it cannot judge cheaply pass, as in PyTorch).
    pub fn partially_overlaps(&self, other: &Tensor) -> bool {
        let (a, b) = (&self.layout, &other.layout);
        if !Arc::ptr_eq(&self.storage, &other.storage)
            || a.numel() == 0
            || b.numel() == 0
            || !a.is_non_overlapping_and_dense()
            || !b.is_non_overlapping_and_dense()
        {
            return false;
        }
        // Dense with positive strides: the elements are [offset, offset + numel).
        let (a0, a1) = (a.offset, a.offset + a.numel());
        let (b0, b1) = (b.offset, b.offset + b.numel());
        if (a0, a1) == (b0, b1) {
            // The same elements is a full overlap, which PyTorch allows, when the strides are
            // the same too (a size-1 dim's included, as PyTorch compares them: `x.add_(y)`
            // with `y` a differently strided view of the same one element is refused).
            return !(a.shape == b.shape && a.strides == b.strides);
        }
        a0 < b1 && b0 < a1
    }

    /// `self = self op other` in this view's memory, in one pass, where that is what
    /// `copy_from(&self.binary(op, other)?)` would do: `other` broadcasts to this shape, the
    /// result's dtype is this one (float or int64) and the two share no memory. Returns false
    /// (having done nothing) otherwise, for the caller's general path.
    pub fn binary_assign(&self, op: BinaryOp, other: &Tensor) -> Result<bool> {
        let dtype = self.dtype;
        let fits = !matches!(dtype, DType::Bool)
            && !matches!(
                op,
                BinaryOp::Fmod | BinaryOp::Remainder | BinaryOp::FloorDivide
            )
            && dtype.compute() == dtype
            && self.device() == other.device()
            && self.result_dtype(op, other).ok() == Some(dtype)
            && !self.shares_memory(other)
            && !self.layout.has_internal_overlap();
        if !fits || other.layout.expand(self.shape()).is_err() {
            return Ok(false);
        }
        self.storage.check_writable()?;
        let cast;
        let other = if other.dtype == dtype {
            other
        } else {
            cast = other.cast(dtype)?;
            &cast
        };
        let lo = other.layout.expand(self.shape())?;
        let mo = other.storage.read();
        self.storage
            .write()
            .binary_assign(op, &self.layout, (&mo, &lo))?;
        Ok(true)
    }

    /// `self[positions[k]] = values[k]` on a contiguous 1-D view (row-major `values`).
    pub fn put_(&self, positions: &[usize], values: &Tensor) -> Result<()> {
        self.storage.check_writable()?;
        // Contiguous from element 0 of their own memory, as the kernels read them.
        let v = values
            .cast(self.dtype)?
            .to_device(self.device())?
            .private_from(self)?
            .contiguous()?;
        // The kernels index without checks: bound everything once here.
        check_indices(positions, self.numel())?;
        if v.numel() < positions.len() {
            bail!(
                Runtime,
                "put_(): Expected source and index to have the same number of elements"
            );
        }
        let mv = v.storage.read();
        self.storage.write().put(self.layout.offset, positions, &mv)
    }

    pub fn fill_(&self, value: impl Into<Scalar>) -> Result<()> {
        self.fill_versioned(value.into(), true)
    }

    /// `fill_`, moving the storage's version only when `versioned` (not for a tensor being
    /// created: PyTorch's `full`/`ones` start at version 0).
    fn fill_versioned(&self, value: Scalar, versioned: bool) -> Result<()> {
        self.storage.check_writable()?;
        match fill_number(value, self.dtype) {
            // An int64 that f64 cannot hold: written exactly, as a broadcast 0-d tensor.
            None => {
                let one = Tensor::from_scalar(value, DType::I64).to_device(self.device())?;
                let src = one.with_layout(one.layout.expand(self.shape())?);
                self.copy_from_versioned(&src, versioned)
            }
            Some(number) if versioned => self.storage.write().fill(&self.layout, number),
            Some(number) => self.storage.write_unversioned().fill(&self.layout, number),
        }
    }

    /// Adds `src` (in this view's shape and order) into the addressed elements; offsets that
    /// repeat (an expanded view) accumulate.
    pub fn add_into(&self, src: &Tensor) -> Result<()> {
        self.storage.check_writable()?;
        // Contiguous from element 0 of its own memory, in this view's order.
        let src = src
            .cast(self.dtype)?
            .to_device(self.device())?
            .private_from(self)?
            .contiguous()?;
        let ms = src.storage.read();
        self.storage.write().add_into(&self.layout, &ms)
    }
}

/// Every index below `n`, checked once before a kernel that indexes without checks.
fn check_indices(index: &[usize], n: usize) -> Result<()> {
    if let Some(&bad) = index.iter().find(|&&i| i >= n) {
        bail!(
            Index,
            "index {} is out of bounds for dimension with size {}",
            bad,
            n
        );
    }
    Ok(())
}

/// The element count of `shape`, or PyTorch's error when it overflows.
fn checked_numel(shape: &[usize]) -> Result<usize> {
    match layout::checked_numel(shape) {
        Ok(n) => Ok(n),
        Err(_) => bail!(
            Runtime,
            "Storage size calculation overflowed with sizes={}",
            shape_str(shape)
        ),
    }
}

/// The element count of `shape`, or PyTorch's error when it, or its size in bytes of
/// `dtype`, overflows int64 (checked for every device: a meta tensor's too).
/// The number a fill of `value` writes into `dtype`'s elements: a negative integer wraps into
/// uint8 (two's complement: -3 is 253), as in PyTorch. None for an int64 that f64 cannot hold
/// (beyond 2^53), which is written exactly another way.
fn fill_number(value: Scalar, dtype: DType) -> Option<f64> {
    match (value, dtype) {
        (Scalar::Int(i), DType::U8) => Some(f64::from(i as u8)),
        (Scalar::Int(i), DType::I64) if i.unsigned_abs() > 1 << 53 => None,
        _ => Some(value.to_f64()),
    }
}

fn checked_storage(shape: &[usize], dtype: DType) -> Result<usize> {
    let bytes = layout::checked_numel(shape)
        .ok()
        .and_then(|n| Some((n, n.checked_mul(dtype.size_of())?)));
    match bytes {
        Some((n, b)) if b <= i64::MAX as usize => Ok(n),
        _ => bail!(
            Runtime,
            "Storage size calculation overflowed with sizes={}",
            shape_str(shape)
        ),
    }
}
