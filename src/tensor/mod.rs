//! `Tensor`: a layout over shared storage, with the non-differentiable operations the ops
//! layer builds on. Every method here picks a kernel by dtype and calls the backend.

mod cuda;
pub mod device;
pub mod dtype;
pub mod layout;
pub mod storage;

use std::sync::Arc;

pub use cuda::common_device;
pub use device::Device;
pub use dtype::DType;
pub use layout::{Layout, Shape};
use storage::{Buffer, Storage};

use crate::backend::cpu::{elementwise as ew, index as ix, matmul as mm, reduce as rd};
use crate::backend::{Element, Float, Num};
use crate::bail;
use crate::error::Result;
use layout::shape_str;

/// Runs `$body` with `$T` bound to the Rust type of `$dtype`.
macro_rules! dispatch {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            DType::F32 => {
                type $T = f32;
                $body
            }
            DType::F64 => {
                type $T = f64;
                $body
            }
            DType::I64 => {
                type $T = i64;
                $body
            }
            DType::Bool => {
                type $T = bool;
                $body
            }
        }
    };
}

/// Like `dispatch!` for numeric types; `bool` is computed as int64.
macro_rules! dispatch_num {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            DType::F32 => {
                type $T = f32;
                $body
            }
            DType::F64 => {
                type $T = f64;
                $body
            }
            DType::I64 | DType::Bool => {
                type $T = i64;
                $body
            }
        }
    };
}

/// Like `dispatch!` for floating types only (callers cast first).
macro_rules! dispatch_float {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            DType::F64 => {
                type $T = f64;
                $body
            }
            _ => {
                type $T = f32;
                $body
            }
        }
    };
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnaryOp {
    Neg,
    Abs,
    Sign,
    Exp,
    Log,
    Sqrt,
    Tanh,
    Sigmoid,
    Relu,
    /// `x ** p` for a scalar exponent.
    PowScalar(f64),
    Clamp(Option<f64>, Option<f64>),
}

impl UnaryOp {
    /// Ops whose result is floating even for integer input.
    fn needs_float(self) -> bool {
        use UnaryOp::*;
        matches!(self, Exp | Log | Sqrt | Tanh | Sigmoid)
    }
}

/// Fused backward kernels of activations, in terms of the activation's output `y`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivationBackward {
    /// ReLU: `g` where `y > 0`.
    Threshold,
    /// tanh: `g * (1 - y^2)`.
    Tanh,
    /// sigmoid: `g * y * (1 - y)`.
    Sigmoid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Maximum,
    Minimum,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug)]
pub struct Tensor {
    storage: Arc<Storage>,
    layout: Layout,
    dtype: DType,
}

impl Tensor {
    // ----- construction -------------------------------------------------------------------

    pub fn from_buffer(buffer: Buffer, shape: &[usize]) -> Tensor {
        debug_assert_eq!(buffer.len(), layout::numel(shape));
        let dtype = buffer.dtype();
        Tensor {
            storage: Arc::new(Storage::new(buffer)),
            layout: Layout::contiguous(shape),
            dtype,
        }
    }

    pub fn from_vec<T: Element>(v: Vec<T>, shape: &[usize]) -> Tensor {
        Tensor::from_buffer(T::into_buffer(v), shape)
    }

    pub fn zeros(shape: &[usize], dtype: DType) -> Result<Tensor> {
        let n = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        let Some(n) = n else {
            bail!(
                Runtime,
                "Trying to create tensor with a number of elements that overflows: {}",
                shape_str(shape)
            );
        };
        Ok(Tensor::from_buffer(Buffer::zeros(dtype, n)?, shape))
    }

    pub fn full(shape: &[usize], value: f64, dtype: DType) -> Result<Tensor> {
        let t = Tensor::zeros(shape, dtype)?;
        if value != 0.0 {
            t.fill_(value)?;
        }
        Ok(t)
    }

    /// Zeros on `device`.
    pub fn zeros_on(shape: &[usize], dtype: DType, device: Device) -> Result<Tensor> {
        match device {
            Device::Cpu => Tensor::zeros(shape, dtype),
            Device::Cuda(i) => Tensor::cuda_full(shape, None, dtype, i),
        }
    }

    /// `value` everywhere, on `device`.
    pub fn full_on(shape: &[usize], value: f64, dtype: DType, device: Device) -> Result<Tensor> {
        match device {
            Device::Cpu => Tensor::full(shape, value, dtype),
            Device::Cuda(i) => Tensor::cuda_full(shape, Some(value), dtype, i),
        }
    }

    /// A 0-d tensor on `device`.
    pub fn scalar_on(value: f64, dtype: DType, device: Device) -> Result<Tensor> {
        Tensor::scalar(value, dtype).to_device(device)
    }

    pub fn scalar(value: f64, dtype: DType) -> Tensor {
        dispatch!(dtype, T => Tensor::from_vec(vec![T::from_f64(value)], &[]))
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
    pub fn with_layout(&self, layout: Layout) -> Tensor {
        Tensor {
            storage: self.storage.clone(),
            layout,
            dtype: self.dtype,
        }
    }

    /// The `legacy[shape]` description used in autograd error messages.
    pub fn type_description(&self) -> String {
        format!(
            "torch.{} {}",
            self.dtype.legacy_name(),
            shape_str(self.shape())
        )
    }

    // ----- reading ------------------------------------------------------------------------

    /// The elements in row-major order.
    /// (Reading a CUDA tensor waits for its device: errors from queued kernels surface here.)
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        if self.is_cuda() {
            return self.to_device(Device::Cpu)?.to_vec();
        }
        let t = self.cast(T::DTYPE)?;
        let buf = t.storage.read();
        Ok(ew::gather(T::slice(&buf), &t.layout))
    }

    /// Whether any element is NaN (anomaly mode's check).
    pub fn has_nan(&self) -> Result<bool> {
        Ok(match self.dtype {
            DType::F32 | DType::F64 => self.to_f64_vec()?.iter().any(|v| v.is_nan()),
            _ => false,
        })
    }

    pub fn to_f64_vec(&self) -> Result<Vec<f64>> {
        if self.is_cuda() {
            return self.to_device(Device::Cpu)?.to_f64_vec();
        }
        Ok(dispatch!(self.dtype, T => {
            let buf = self.storage.read();
            ew::map(T::slice(&buf), &self.layout, |v: T| v.to_f64())
        }))
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
        if self.is_cuda() {
            return self.cuda_clone_data();
        }
        Ok(dispatch!(self.dtype, T => {
            let buf = self.storage.read();
            Tensor::from_vec(ew::gather(T::slice(&buf), &self.layout), self.shape())
        }))
    }

    pub fn cast(&self, dtype: DType) -> Result<Tensor> {
        if dtype == self.dtype {
            return Ok(self.clone());
        }
        if self.is_cuda() {
            return self.cuda_cast(dtype);
        }
        Ok(dispatch!(self.dtype, S => {
            let buf = self.storage.read();
            let src = S::slice(&buf);
            dispatch!(dtype, D => Tensor::from_vec(ew::map(src, &self.layout, |v: S| {
                if D::DTYPE == DType::Bool { D::from_f64((v.to_f64() != 0.0) as u8 as f64) } else { D::from_f64(v.to_f64()) }
            }), self.shape()))
        }))
    }

    // ----- elementwise --------------------------------------------------------------------

    pub fn unary(&self, op: UnaryOp) -> Result<Tensor> {
        let x = if op.needs_float() {
            self.cast(self.dtype.to_float())?
        } else {
            self.clone()
        };
        let x = if x.dtype.is_float() {
            x
        } else {
            x.cast(DType::I64)?
        };
        if x.is_cuda() {
            return x.cuda_unary(op);
        }
        Ok(if x.dtype.is_float() {
            dispatch_float!(x.dtype, T => x.unary_float::<T>(op))
        } else {
            x.unary_int(op)
        })
    }

    fn unary_float<T: Float>(&self, op: UnaryOp) -> Tensor {
        let buf = self.storage.read();
        let s = T::slice(&buf);
        let l = &self.layout;
        let out: Vec<T> = match op {
            UnaryOp::Neg => ew::map(s, l, |v: T| -v),
            UnaryOp::Abs => ew::map(s, l, |v: T| v.abs()),
            UnaryOp::Sign => ew::map(s, l, |v: T| {
                if v > T::ZERO {
                    T::ONE
                } else if v < T::ZERO {
                    -T::ONE
                } else {
                    v
                }
            }),
            UnaryOp::Exp => ew::map(s, l, |v: T| v.exp()),
            UnaryOp::Log => ew::map(s, l, |v: T| v.ln()),
            UnaryOp::Sqrt => ew::map(s, l, |v: T| v.sqrt()),
            UnaryOp::Tanh => ew::map(s, l, |v: T| v.tanh()),
            UnaryOp::Sigmoid => ew::map(s, l, |v: T| T::ONE / (T::ONE + (-v).exp())),
            UnaryOp::Relu => ew::map(s, l, |v: T| if v > T::ZERO { v } else { T::ZERO }),
            UnaryOp::PowScalar(p) => {
                let e = T::from_f64(p);
                if p == 2.0 {
                    ew::map(s, l, |v: T| v * v)
                } else {
                    ew::map(s, l, |v: T| v.powf(e))
                }
            }
            UnaryOp::Clamp(lo, hi) => {
                let (lo, hi) = (lo.map(T::from_f64), hi.map(T::from_f64));
                ew::map(s, l, move |v: T| clamp(v, lo, hi))
            }
        };
        Tensor::from_vec(out, self.shape())
    }

    fn unary_int(&self, op: UnaryOp) -> Tensor {
        let buf = self.storage.read();
        let s = i64::slice(&buf);
        let l = &self.layout;
        let out: Vec<i64> = match op {
            UnaryOp::Neg => ew::map(s, l, |v: i64| v.wrapping_neg()),
            UnaryOp::Abs => ew::map(s, l, |v: i64| v.wrapping_abs()),
            UnaryOp::Sign => ew::map(s, l, |v: i64| v.signum()),
            UnaryOp::Relu => ew::map(s, l, |v: i64| v.max(0)),
            UnaryOp::PowScalar(p) => ew::map(s, l, |v: i64| Num::powf(v, p as i64)),
            UnaryOp::Clamp(lo, hi) => {
                let (lo, hi) = (lo.map(|v| v as i64), hi.map(|v| v as i64));
                ew::map(s, l, move |v: i64| clamp(v, lo, hi))
            }
            _ => unreachable!("float-only ops cast first"),
        };
        Tensor::from_vec(out, self.shape())
    }

    /// PyTorch's promotion of two tensors: a 0-d tensor only changes the result's dtype when
    /// it is of a higher category (bool < integer < floating) than the other operand.
    pub fn promote_with(&self, other: &Tensor) -> DType {
        let category = |d: DType| match d {
            DType::Bool => 0,
            DType::I64 => 1,
            DType::F32 | DType::F64 => 2,
        };
        match (self.ndim() == 0, other.ndim() == 0) {
            (true, false) if category(self.dtype) <= category(other.dtype) => other.dtype,
            (false, true) if category(other.dtype) <= category(self.dtype) => self.dtype,
            _ => self.dtype.promote(other.dtype),
        }
    }

    /// The dtype `self op other` computes in.
    pub fn result_dtype(&self, op: BinaryOp, other: &Tensor) -> DType {
        let t = self.promote_with(other);
        match (op, t) {
            (BinaryOp::Div, DType::I64 | DType::Bool) => DType::F32,
            (_, DType::Bool) if op != BinaryOp::Maximum && op != BinaryOp::Minimum => DType::I64,
            _ => t,
        }
    }

    pub fn binary(&self, op: BinaryOp, other: &Tensor) -> Result<Tensor> {
        let shape = layout::broadcast_shapes(self.shape(), other.shape())?;
        let dtype = self.result_dtype(op, other);
        // Bool operands (max/min of masks) compute as int64 and convert back.
        let calc = if dtype == DType::Bool {
            DType::I64
        } else {
            dtype
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
        if a.is_cuda() || b.is_cuda() {
            let out = Tensor::cuda_binary(op, a, b, &shape, calc)?;
            return if dtype == calc {
                Ok(out)
            } else {
                out.cast(dtype)
            };
        }
        let out = dispatch_num!(calc, T => {
            let (ba, bb) = (a.storage.read(), b.storage.read());
            let (sa, sb) = (T::slice(&ba), T::slice(&bb));
            let (la, lb) = (&a.layout, &b.layout);
            let v: Vec<T> = match op {
                BinaryOp::Add => ew::zip(sa, la, sb, lb, &shape, |x: T, y: T| x + y),
                BinaryOp::Sub => ew::zip(sa, la, sb, lb, &shape, |x: T, y: T| x - y),
                BinaryOp::Mul => ew::zip(sa, la, sb, lb, &shape, |x: T, y: T| x * y),
                BinaryOp::Div => ew::zip(sa, la, sb, lb, &shape, |x: T, y: T| x / y),
                BinaryOp::Pow => ew::zip(sa, la, sb, lb, &shape, |x: T, y: T| x.powf(y)),
                BinaryOp::Maximum => ew::zip(sa, la, sb, lb, &shape, |x: T, y: T| if x >= y || x.is_nan() { x } else { y }),
                BinaryOp::Minimum => ew::zip(sa, la, sb, lb, &shape, |x: T, y: T| if x <= y || x.is_nan() { x } else { y }),
            };
            Tensor::from_vec(v, &shape)
        });
        if dtype == calc {
            Ok(out)
        } else {
            out.cast(dtype)
        }
    }

    #[allow(clippy::bool_comparison)] // one generic body also serves bool tensors
    pub fn compare(&self, op: CompareOp, other: &Tensor) -> Result<Tensor> {
        let shape = layout::broadcast_shapes(self.shape(), other.shape())?;
        let dtype = self.promote_with(other);
        let (a, b) = (self.cast(dtype)?, other.cast(dtype)?);
        if a.is_cuda() || b.is_cuda() {
            return Tensor::cuda_compare(op, &a, &b, &shape, dtype);
        }
        let out = dispatch!(dtype, T => {
            let (ba, bb) = (a.storage.read(), b.storage.read());
            let (sa, sb) = (T::slice(&ba), T::slice(&bb));
            let (la, lb) = (&a.layout, &b.layout);
            let v: Vec<bool> = match op {
                CompareOp::Eq => ew::zip(sa, la, sb, lb, &shape, |x: T, y: T| x == y),
                CompareOp::Ne => ew::zip(sa, la, sb, lb, &shape, |x: T, y: T| x != y),
                CompareOp::Lt => ew::zip(sa, la, sb, lb, &shape, |x: T, y: T| x < y),
                CompareOp::Le => ew::zip(sa, la, sb, lb, &shape, |x: T, y: T| x <= y),
                CompareOp::Gt => ew::zip(sa, la, sb, lb, &shape, |x: T, y: T| x > y),
                CompareOp::Ge => ew::zip(sa, la, sb, lb, &shape, |x: T, y: T| x >= y),
            };
            Tensor::from_vec(v, &shape)
        });
        Ok(out)
    }

    /// An activation's backward in one pass over memory: `self` is the incoming gradient,
    /// `y` the activation's output (broadcast together).
    pub fn activation_backward(&self, op: ActivationBackward, y: &Tensor) -> Result<Tensor> {
        let shape = layout::broadcast_shapes(self.shape(), y.shape())?;
        if !self.dtype.is_float() {
            bail!(Runtime, "{:?} expects a floating-point gradient", op);
        }
        let y = y.cast(self.dtype)?;
        if self.is_cuda() || y.is_cuda() {
            return Tensor::cuda_activation_backward(op, self, &y, &shape);
        }
        Ok(dispatch_float!(self.dtype, T => {
            let (bg, by) = (self.storage.read(), y.storage.read());
            let (g, yv) = (T::slice(&bg), T::slice(&by));
            let (lg, ly) = (&self.layout, &y.layout);
            let v: Vec<T> = match op {
                ActivationBackward::Threshold => {
                    ew::zip(g, lg, yv, ly, &shape, |g: T, y: T| if y > T::ZERO { g } else { T::ZERO })
                }
                ActivationBackward::Tanh => {
                    ew::zip(g, lg, yv, ly, &shape, |g: T, y: T| g * (T::ONE - y * y))
                }
                ActivationBackward::Sigmoid => {
                    ew::zip(g, lg, yv, ly, &shape, |g: T, y: T| g * (y * (T::ONE - y)))
                }
            };
            Tensor::from_vec(v, &shape)
        }))
    }

    /// `cond ? a : b` elementwise, broadcasting all three.
    pub fn where_(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        let shape = layout::broadcast_shapes(cond.shape(), a.shape())?;
        let shape = layout::broadcast_shapes(&shape, b.shape())?;
        let dtype = a.promote_with(b);
        let (c, a, b) = (cond.cast(DType::Bool)?, a.cast(dtype)?, b.cast(dtype)?);
        if c.is_cuda() || a.is_cuda() || b.is_cuda() {
            return Tensor::cuda_where(&c, &a, &b, &shape);
        }
        Ok(dispatch!(dtype, T => {
            let (bc, ba, bb) = (c.storage.read(), a.storage.read(), b.storage.read());
            let v: Vec<T> = ew::zip3(bool::slice(&bc), &c.layout, T::slice(&ba), &a.layout,
                T::slice(&bb), &b.layout, &shape, |c, x, y| if c { x } else { y });
            Tensor::from_vec(v, &shape)
        }))
    }

    // ----- reductions ---------------------------------------------------------------------

    /// Sum over `dims` (distinct, wrapped); the reduced dims are dropped or kept as size 1.
    pub fn sum_dims(&self, dims: &[usize], keepdim: bool) -> Result<Tensor> {
        let dtype = if self.dtype == DType::Bool {
            DType::I64
        } else {
            self.dtype
        };
        let x = self.cast(dtype)?;
        let plan = SumPlan::new(&x, dims, keepdim);
        if x.is_cuda() {
            return x.cuda_sum(&plan);
        }
        let (n_out, n_red) = (plan.n_out, plan.n_red);
        dispatch_num!(dtype, T => {
            let buf = x.storage.read();
            let s = T::slice(&buf);
            let v: Vec<T> = match &plan.read {
                SumRead::Rows => rd::sum_rows(&s[x.layout.offset..], n_out, n_red),
                SumRead::Columns => rd::sum_leading(&s[x.layout.offset..], n_red, n_out),
                SumRead::Permuted(order) => {
                    let g = ew::gather(s, &x.layout.permute(order));
                    rd::sum_rows(&g, n_out, n_red)
                }
            };
            Ok(Tensor::from_vec(v, &plan.out_shape))
        })
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
        let (rows, outer_shape) = self.rows_along(dim)?;
        let n = self.shape()[dim];
        let out_shape = reduced_shape(self.shape(), &[dim], keepdim);
        if rows.is_cuda() {
            return rows.cuda_extreme_rows(
                layout::numel(&outer_shape),
                n,
                max,
                self.dtype,
                &out_shape,
            );
        }
        dispatch_num!(self.dtype, T => {
            let r = rows.cast(T::DTYPE)?;
            let buf = r.storage.read();
            let (v, i) = rd::extreme_rows(T::slice(&buf), layout::numel(&outer_shape), n, max);
            let values = Tensor::from_vec(v, &out_shape).cast(self.dtype)?;
            Ok((values, Tensor::from_vec(i, &out_shape)))
        })
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
            return Tensor::scalar_on(if log { 0.0 } else { 1.0 }, x.dtype, x.device());
        }
        let (rows, outer) = x.rows_along(dim)?;
        let n = x.shape()[dim];
        let mut row_shape = outer.clone();
        row_shape.push(n);
        let out = if rows.is_cuda() {
            rows.cuda_softmax_rows(layout::numel(&outer), n, log, &row_shape)?
        } else {
            dispatch_float!(x.dtype, T => {
                let buf = rows.storage.read();
                Tensor::from_vec(rd::softmax_rows(T::slice(&buf), layout::numel(&outer), n, log), &row_shape)
            })
        };
        Tensor::unrows(out, dim).contiguous()
    }

    /// A one-hot tensor along `dim` of size `n` at `indices` (which lack `dim`), in `dtype`.
    pub fn one_hot_along(indices: &Tensor, dim: usize, n: usize, dtype: DType) -> Result<Tensor> {
        let shape = indices.shape();
        let outer: usize = shape[..dim].iter().product();
        let inner: usize = shape[dim..].iter().product();
        let mut out_shape = shape.to_vec();
        out_shape.insert(dim, n);
        if indices.is_cuda() {
            return indices.cuda_one_hot(outer, n, inner, dtype, &out_shape);
        }
        let idx = indices.to_vec::<i64>()?;
        dispatch_num!(dtype, T => Tensor::from_vec(ix::one_hot::<T>(&idx, outer, n, inner), &out_shape)).cast(dtype)
    }

    // ----- products -----------------------------------------------------------------------

    /// Batched product of `[..batch, m, k]` and `[..batch, k, n]` (equal batch shapes).
    pub fn batched_matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
        let dtype = a.dtype.promote(b.dtype);
        let calc = if dtype == DType::Bool {
            DType::I64
        } else {
            dtype
        };
        let (a, b) = (a.cast(calc)?, b.cast(calc)?);
        let nd = a.ndim();
        let mut shape = a.shape()[..nd - 1].to_vec();
        shape.push(b.shape()[nd - 1]);
        if a.is_cuda() || b.is_cuda() {
            return Tensor::cuda_batched_matmul(&a, &b, &shape)?.cast(dtype);
        }
        dispatch_num!(dtype, T => {
            let (ba, bb) = (a.storage.read(), b.storage.read());
            Tensor::from_vec(mm::batched_matmul(T::slice(&ba), &a.layout, T::slice(&bb), &b.layout), &shape)
        })
        .cast(dtype)
    }

    // ----- gathers and scatters -----------------------------------------------------------

    /// Elements at `index` (wrapped, checked) along `dim`.
    pub fn index_select(&self, dim: usize, index: &[usize]) -> Result<Tensor> {
        let x = self.contiguous()?;
        let shape = x.shape();
        let (outer, n, inner) = split_at_dim(shape, dim);
        let mut out_shape = shape.to_vec();
        out_shape[dim] = index.len();
        if x.is_cuda() {
            return x.cuda_index_select(outer, n, inner, index, &out_shape);
        }
        Ok(dispatch!(x.dtype, T => {
            let buf = x.storage.read();
            Tensor::from_vec(ix::index_select(&T::slice(&buf)[x.layout.offset..], outer, n, inner, index), &out_shape)
        }))
    }

    /// Zeros of `shape` with `self` added at `index` along `dim` (adjoint of `index_select`).
    pub fn index_add_into_zeros(
        &self,
        dim: usize,
        index: &[usize],
        shape: &[usize],
    ) -> Result<Tensor> {
        let g = self.contiguous()?;
        let (outer, n, inner) = split_at_dim(shape, dim);
        if g.is_cuda() {
            return g.cuda_index_add(outer, n, inner, index, shape);
        }
        dispatch_num!(g.dtype, T => {
            let gg = g.cast(T::DTYPE)?;
            let buf = gg.storage.read();
            Tensor::from_vec(ix::index_add(&T::slice(&buf)[gg.layout.offset..], outer, n, inner, index), shape)
        })
        .cast(self.dtype)
    }

    // ----- in-place writes ----------------------------------------------------------------

    /// Copies `src` (broadcast to this view's shape, cast to its dtype) into the elements
    /// this view addresses, bumping the storage version.
    pub fn copy_from(&self, src: &Tensor) -> Result<()> {
        let expanded = src.layout.expand(self.shape()).map_err(|_| {
            crate::error::Error::Runtime(format!(
                "The size of tensor a ({}) must match the size of tensor b ({}) at non-singleton dimension 0",
                shape_str(self.shape()),
                shape_str(src.shape())
            ))
        })?;
        let _ = expanded;
        // Materialise the source first: it may alias this storage.
        let src = src
            .cast(self.dtype)?
            .clone_data()?
            .to_device(self.device())?;
        if self.is_cuda() {
            return self.cuda_copy_from(&src);
        }
        dispatch!(self.dtype, T => {
            let sb = src.storage.read();
            let values: Vec<T> = T::slice(&sb).to_vec();
            drop(sb);
            let mut buf = self.storage.write();
            ew::write_into(T::slice_mut(&mut buf), &self.layout, &values, src.shape());
        });
        Ok(())
    }

    /// `self[positions[k]] = values[k]` on a contiguous 1-D view (row-major `values`).
    pub fn put_(&self, positions: &[usize], values: &Tensor) -> Result<()> {
        let v = values.cast(self.dtype)?;
        if self.is_cuda() {
            return self.cuda_put(positions, &v);
        }
        dispatch!(self.dtype, T => {
            let vals: Vec<T> = v.to_vec::<T>()?;
            let mut buf = self.storage.write();
            let s = T::slice_mut(&mut buf);
            for (k, &p) in positions.iter().enumerate() {
                s[self.layout.offset + p] = vals[k];
            }
        });
        Ok(())
    }

    pub fn fill_(&self, value: f64) -> Result<()> {
        if self.is_cuda() {
            return self.cuda_fill(value);
        }
        dispatch!(self.dtype, T => {
            let v = [T::from_f64(value)];
            let mut buf = self.storage.write();
            ew::write_into(T::slice_mut(&mut buf), &self.layout, &v, &[]);
        });
        Ok(())
    }

    /// Adds `src` (in this view's shape and order) into the addressed elements; offsets that
    /// repeat (an expanded view) accumulate.
    pub fn add_into(&self, src: &Tensor) -> Result<()> {
        let src = src.cast(self.dtype)?.contiguous()?;
        if self.is_cuda() {
            return self.cuda_add_into(&src);
        }
        dispatch_num!(self.dtype, T => {
            let values: Vec<T> = src.to_vec::<T>()?;
            let mut buf = self.storage.write();
            if T::DTYPE == self.dtype {
                ew::add_into(T::slice_mut(&mut buf), &self.layout, &values);
            }
        });
        Ok(())
    }
}

#[inline]
fn clamp<T: PartialOrd + Copy>(v: T, lo: Option<T>, hi: Option<T>) -> T {
    let mut v = v;
    if let Some(lo) = lo {
        if v < lo {
            v = lo;
        }
    }
    if let Some(hi) = hi {
        if v > hi {
            v = hi;
        }
    }
    v
}

/// How a sum over some dims reads its input, the same on every device.
enum SumRead {
    /// The reduced dims are the trailing ones of a contiguous tensor: sum rows in place.
    Rows,
    /// They are the leading ones (a bias gradient): sum columns in place.
    Columns,
    /// Anything else: a copy with the kept dims first (this order), then rows.
    Permuted(Vec<usize>),
}

/// A sum over `dims`: `[n_out, n_red]` as read, and the result's shape.
struct SumPlan {
    read: SumRead,
    n_out: usize,
    n_red: usize,
    out_shape: Vec<usize>,
}

impl SumPlan {
    fn new(x: &Tensor, dims: &[usize], keepdim: bool) -> SumPlan {
        let nd = x.ndim();
        let kept: Vec<usize> = (0..nd).filter(|d| !dims.contains(d)).collect();
        let n_out: usize = kept.iter().map(|&d| x.shape()[d]).product();
        let n_red: usize = dims.iter().map(|&d| x.shape()[d]).product();
        let trailing = dims
            .iter()
            .enumerate()
            .all(|(i, &d)| d == nd - dims.len() + i);
        let leading = dims.iter().enumerate().all(|(i, &d)| d == i);
        let read = if x.is_contiguous() && trailing {
            SumRead::Rows
        } else if x.is_contiguous() && leading && n_out > 1 {
            SumRead::Columns
        } else {
            let mut order = kept;
            order.extend_from_slice(dims);
            SumRead::Permuted(order)
        };
        SumPlan {
            read,
            n_out,
            n_red,
            out_shape: reduced_shape(x.shape(), dims, keepdim),
        }
    }
}

/// `[outer, shape[dim], inner]` sizes around one dimension.
pub fn split_at_dim(shape: &[usize], dim: usize) -> (usize, usize, usize) {
    (
        shape[..dim].iter().product(),
        shape[dim],
        shape[dim + 1..].iter().product(),
    )
}

/// The shape after reducing `dims`.
pub fn reduced_shape(shape: &[usize], dims: &[usize], keepdim: bool) -> Vec<usize> {
    let mut out = Vec::with_capacity(shape.len());
    for (i, &d) in shape.iter().enumerate() {
        if dims.contains(&i) {
            if keepdim {
                out.push(1);
            }
        } else {
            out.push(d);
        }
    }
    out
}
