//! Kernels. They see buffers, layouts and numbers; they know nothing of gradients.
//!
//! Every backend implements [`BackendStorage`] for its memory type (the CPU for host
//! [`Buffer`](crate::base::Buffer)s, CUDA for device buffers, meta for memory without data): a kernel missing on one backend
//! is a compile error. `tensor::storage` is the one place that picks a backend by device.

pub mod cpu;
pub mod cuda;
pub mod element;
pub mod meta;
pub(crate) mod op_table;
pub mod special;

pub use element::{Element, Float, Num};

use crate::base::{Buffer, DType, Layout, Shape};
use crate::error::Result;
use op_table::elementwise_ops;

/// The op enums, from the table in `op_table.rs`. An op's discriminant is its CUDA op code.
macro_rules! op_enums {
    (
        unary_any |$v:ident, $p:ident, $lo:ident, $hi:ident| { $($AV:ident $an:literal { $($acpu:tt)* } $acuda:literal;)* }
        unary_float |$fv:ident| { $($FV:ident $fname:literal { $($fcpu:tt)* } $fcuda:literal;)* }
        binary |$bx:ident, $by:ident| { $($BV:ident $bn:literal { $($bcpu:tt)* } $bcuda:literal;)* }
        compare |$cx:ident, $cy:ident| { $($CV:ident $cn:literal { $($ccpu:tt)* } $ccuda:literal;)* }
        activation_backward |$g:ident, $y:ident| { $($GV:ident $gn:literal { $($gcpu:tt)* } $gcuda:literal;)* }
    ) => {
        /// Pointwise functions of one tensor.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum UnaryOp {
            $($AV,)*
            $($FV,)*
        }

        impl UnaryOp {
            pub fn name(self) -> &'static str {
                match self {
                    $(UnaryOp::$AV => $an,)*
                    $(UnaryOp::$FV => $fname,)*
                }
            }

            /// Ops whose result is floating even for integer input.
            pub fn needs_float(self) -> bool {
                match self {
                    $(UnaryOp::$AV => false,)*
                    $(UnaryOp::$FV => true,)*
                }
            }
        }

        /// Pointwise functions of two (broadcast) tensors of one dtype.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum BinaryOp {
            $($BV,)*
        }

        impl BinaryOp {
            pub fn name(self) -> &'static str {
                match self {
                    $(BinaryOp::$BV => $bn,)*
                }
            }
        }

        /// Comparisons (bool results).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum CompareOp {
            $($CV,)*
        }

        impl CompareOp {
            pub fn name(self) -> &'static str {
                match self {
                    $(CompareOp::$CV => $cn,)*
                }
            }
        }

        /// Fused backward kernels of activations, in terms of the activation's output.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum ActivationBackward {
            $($GV,)*
        }

        impl ActivationBackward {
            pub fn name(self) -> &'static str {
                match self {
                    $(ActivationBackward::$GV => $gn,)*
                }
            }
        }
    };
}
elementwise_ops!(op_enums);

/// The scalars of the parametrised unary ops: `PowScalar`'s power and `Clamp`'s bounds (the
/// infinities where a bound is not given; integer kernels saturate them to their extremes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UnaryArgs {
    pub power: f64,
    pub min: f64,
    pub max: f64,
}

impl Default for UnaryArgs {
    fn default() -> Self {
        UnaryArgs {
            power: 0.0,
            min: f64::NEG_INFINITY,
            max: f64::INFINITY,
        }
    }
}

/// A value of a 0-d CPU tensor, as a float and (exactly, for integer tensors) an integer:
/// how a CPU scalar takes part in a device op without being copied there.
#[derive(Clone, Copy, Debug, Default)]
pub struct HostScalar {
    pub float: f64,
    pub int: i64,
}

/// One operand of a binary or comparison kernel: memory seen through a layout (which
/// broadcasts to the result's shape), or a host scalar.
pub enum Operand<'a, S> {
    View(&'a S, &'a Layout),
    Scalar(HostScalar),
}

/// How a sum over some dims reads its input, the same on every device.
#[derive(Clone, Debug)]
pub enum SumRead {
    /// The reduced dims are the trailing ones of a contiguous tensor: sum rows in place.
    Rows,
    /// They are the leading ones (a bias gradient): sum columns in place.
    Columns,
    /// Anything else: a copy with the kept dims first (this order), then rows.
    Permuted(Vec<usize>),
}

/// A sum over `dims`: `[n_out, n_red]` as read, and the result's shape.
#[derive(Clone, Debug)]
pub struct SumPlan {
    pub read: SumRead,
    pub n_out: usize,
    pub n_red: usize,
    pub out_shape: Shape,
}

impl SumPlan {
    pub fn new(layout: &Layout, dims: &[usize], keepdim: bool) -> SumPlan {
        let shape = &layout.shape;
        let nd = shape.len();
        let kept: Vec<usize> = (0..nd).filter(|d| !dims.contains(d)).collect();
        let n_out: usize = kept.iter().map(|&d| shape[d]).product();
        let n_red: usize = dims.iter().map(|&d| shape[d]).product();
        let trailing = dims
            .iter()
            .enumerate()
            .all(|(i, &d)| d == nd - dims.len() + i);
        let leading = dims.iter().enumerate().all(|(i, &d)| d == i);
        let read = if layout.is_contiguous() && trailing {
            SumRead::Rows
        } else if layout.is_contiguous() && leading && n_out > 1 {
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
            out_shape: reduced_shape(shape, dims, keepdim),
        }
    }
}

/// The shape after reducing `dims`.
pub fn reduced_shape(shape: &[usize], dims: &[usize], keepdim: bool) -> Shape {
    let mut out = Shape::with_capacity(shape.len());
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

/// `[outer, shape[dim], inner]` sizes around one dimension.
pub fn split_at_dim(shape: &[usize], dim: usize) -> (usize, usize, usize) {
    (
        shape[..dim].iter().product(),
        shape[dim],
        shape[dim + 1..].iter().product(),
    )
}

/// Rows `[outer, n, inner]` of a contiguous block, and the element where it starts: the shape
/// the gather/scatter kernels take.
#[derive(Clone, Copy, Debug)]
pub struct Along {
    pub offset: usize,
    pub outer: usize,
    pub n: usize,
    pub inner: usize,
}

/// Sliding windows over images, the geometry of im2col/col2im (`F.unfold`/`F.fold`) and of
/// pooling: images `[planes, size[0], size[1]]` (planes = batch * channels, contiguous from
/// `offset`) and `out[0] * out[1]` windows per plane, where window `(oy, ox)` tap `(ki, kj)`
/// reads pixel `(oy * stride + ki * dilation - padding, ...)` (zero, or skipped by pooling,
/// outside the image). The tensor layer checks that every field is positive (padding may be
/// 0) and that `out` is the size the others give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Windows2d {
    pub offset: usize,
    pub planes: usize,
    pub size: [usize; 2],
    pub kernel: [usize; 2],
    pub dilation: [usize; 2],
    pub padding: [usize; 2],
    pub stride: [usize; 2],
    pub out: [usize; 2],
}

/// What average pooling divides each window's sum by (PyTorch's `count_include_pad` and
/// `divisor_override`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AvgDivisor {
    /// The window's cells inside the padded image (the last window may reach past it).
    IncludePad,
    /// The window's cells inside the image.
    ExcludePad,
    /// A fixed nonzero divisor.
    Fixed(i64),
}

impl AvgDivisor {
    /// The divisor of a window whose cells span `padded` (inside the padded image) and
    /// `inside` (inside the image) rows times columns.
    pub fn of(self, padded: [usize; 2], inside: [usize; 2]) -> i64 {
        match self {
            AvgDivisor::IncludePad => (padded[0] * padded[1]) as i64,
            AvgDivisor::ExcludePad => (inside[0] * inside[1]) as i64,
            AvgDivisor::Fixed(d) => d,
        }
    }
}

/// The update rules of the optimizers (PyTorch's single-tensor `torch.optim` rules); AdamW is
/// Adam with decoupled weight decay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateRule {
    Sgd,
    Adam,
    RMSprop,
    Adagrad,
    Adadelta,
    Adamax,
    NAdam,
    RAdam,
}

impl UpdateRule {
    pub fn from_name(name: &str) -> Option<UpdateRule> {
        Some(match name {
            "sgd" => UpdateRule::Sgd,
            "adam" => UpdateRule::Adam,
            "rmsprop" => UpdateRule::RMSprop,
            "adagrad" => UpdateRule::Adagrad,
            "adadelta" => UpdateRule::Adadelta,
            "adamax" => UpdateRule::Adamax,
            "nadam" => UpdateRule::NAdam,
            "radam" => UpdateRule::RAdam,
            _ => return None,
        })
    }
}

/// One optimizer step's constants, computed on the host in f64 as PyTorch computes them in
/// Python floats (each kernel casts them to the parameter's dtype). States are PyTorch's, in
/// its order (SGD: [momentum_buffer]; Adam: exp_avg, exp_avg_sq, [max_exp_avg_sq]; RMSprop:
/// square_avg, [momentum_buffer], [grad_avg]; Adagrad: sum; Adadelta: square_avg, acc_delta;
/// Adamax: exp_avg, exp_inf; NAdam, RAdam: exp_avg, exp_avg_sq). `s` is per rule:
///
/// - Sgd: lr, momentum, dampening
/// - Adam: beta1, beta2, eps, step_size, sqrt(bias_correction2)
/// - RMSprop: lr, alpha, eps, momentum
/// - Adagrad: clr, eps
/// - Adadelta: lr, rho, eps
/// - Adamax: beta1, beta2, eps, clr
/// - NAdam: beta1, beta2, eps, bias_correction2, gradient coefficient, exp_avg coefficient
/// - RAdam: beta1, beta2, eps, bias_correction1, lr, sqrt(bias_correction2), rect (0: the
///   unrectified step)
#[derive(Clone, Copy, Debug)]
pub struct OptimStep {
    pub rule: UpdateRule,
    pub s: [f64; 7],
    /// L2 weight decay added to the gradient (0: none).
    pub weight_decay: f64,
    /// Decoupled weight decay: the parameter is first multiplied by this (1: none).
    pub decay: f64,
    pub maximize: bool,
    /// SGD: Nesterov momentum.
    pub nesterov: bool,
    /// SGD: the momentum buffer was just created and takes the gradient.
    pub first: bool,
    /// SGD, RMSprop: a momentum buffer is among the states.
    pub momentum: bool,
    /// RMSprop: centered (the last state is grad_avg).
    pub centered: bool,
    /// Adam: the last state is max_exp_avg_sq.
    pub amsgrad: bool,
    /// Adam: `s[3]` holds the learning rate, and the step's constants come from the step
    /// counter the kernel call is given ([`OptimStep::at_step`]), so that a compiled replay
    /// computes them from the counter's value then.
    pub from_step: bool,
}

impl OptimStep {
    /// The constants of step `t` (the counter after this step's increment): Adam's step size
    /// `lr / (1 - beta1^t)` and `(1 - beta2^t)^0.5`, with `pow` as Python's float `**`
    /// computes them (so the values are those PyTorch's single-tensor Adam uses).
    pub fn at_step(&self, t: f64) -> OptimStep {
        let mut h = *self;
        if self.from_step {
            let (bias_correction1, bias_correction2) =
                (1.0 - self.s[0].powf(t), 1.0 - self.s[1].powf(t));
            h.s[3] = self.s[3] / bias_correction1;
            h.s[4] = bias_correction2.powf(0.5);
            h.from_step = false;
        }
        h
    }

    /// How many state buffers the step takes, in the order listed on the rules.
    pub fn n_states(&self) -> usize {
        let (m, c, a) = (
            self.momentum as usize,
            self.centered as usize,
            self.amsgrad as usize,
        );
        match self.rule {
            UpdateRule::Sgd => m,
            UpdateRule::Adam => 2 + a,
            UpdateRule::RMSprop => 1 + m + c,
            UpdateRule::Adagrad => 1,
            _ => 2,
        }
    }
}

/// The kernels of a backend, over its memory type. Inputs are seen through layouts (offset,
/// strides; the operands of the elementwise kernels broadcast to their `shape`), outputs are
/// fresh contiguous memory; the `_into` methods write
/// in place. Dtype promotion, broadcasting and views are the tensor layer's business: kernels
/// get operands already in the dtype they compute in.
pub trait BackendStorage: Sized {
    /// What identifies one device of this backend (nothing for the CPU).
    type Device;

    /// `n` zeros.
    fn zeros(device: &Self::Device, dtype: DType, n: usize) -> Result<Self>;
    /// `n` copies of `value` (in `dtype`): zeros, then a fill, unless the backend writes them
    /// in one pass.
    fn full(device: &Self::Device, dtype: DType, n: usize, value: f64) -> Result<Self> {
        let mut out = Self::zeros(device, dtype, n)?;
        out.fill(&Layout::contiguous(&[n]), value)?;
        Ok(out)
    }
    /// `n` draws from U[0, 1) or N(0, 1), in a float dtype, from the device's generator.
    fn random(device: &Self::Device, n: usize, dtype: DType, normal: bool) -> Result<Self>;
    /// A copy of host memory (contiguous, from element `offset`, `n` elements).
    fn from_host(device: &Self::Device, host: &Buffer, offset: usize, n: usize) -> Result<Self>;
    /// `n` elements from element `offset` on, copied to the host (waits for the device).
    fn to_host(&self, offset: usize, n: usize) -> Result<Buffer>;

    fn dtype(&self) -> DType;
    /// Elements held.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A contiguous copy of the view.
    fn gather(&self, layout: &Layout) -> Result<Self>;
    /// A contiguous copy of the view converted to `to` (nonzero becomes true).
    fn cast(&self, layout: &Layout, to: DType) -> Result<Self>;

    /// `op` of each element (int64 or float input; float-only ops get floats).
    fn unary(&self, layout: &Layout, op: UnaryOp, args: UnaryArgs) -> Result<Self>;
    /// `a op b` over `shape`; both operands in `dtype` (int64 or float).
    fn binary(
        op: BinaryOp,
        a: Operand<Self>,
        b: Operand<Self>,
        shape: &[usize],
        dtype: DType,
    ) -> Result<Self>;
    /// `a cmp b` over `shape` as bools; both operands in `dtype`.
    fn compare(
        op: CompareOp,
        a: Operand<Self>,
        b: Operand<Self>,
        shape: &[usize],
        dtype: DType,
    ) -> Result<Self>;
    /// A fused activation backward from gradient `g` and output `y` (same float dtype).
    fn activation_backward(
        op: ActivationBackward,
        g: (&Self, &Layout),
        y: (&Self, &Layout),
        shape: &[usize],
    ) -> Result<Self>;
    /// `cond ? a : b` over `shape`; `cond` is bool, `a` and `b` share a dtype.
    fn where_(
        cond: (&Self, &Layout),
        a: (&Self, &Layout),
        b: (&Self, &Layout),
        shape: &[usize],
    ) -> Result<Self>;

    /// The sum the plan describes (int64 or float input).
    fn sum(&self, layout: &Layout, plan: &SumPlan) -> Result<Self>;
    /// Max (or min) and its first index along rows of a contiguous `[n_out, n]` block
    /// (int64 or float, `n > 0`); indices are int64.
    fn extreme_rows(
        &self,
        offset: usize,
        n_out: usize,
        n: usize,
        max: bool,
    ) -> Result<(Self, Self)>;
    /// The values of [`Self::extreme_rows`] alone (`max()`, `amax`); a backend overrides this
    /// where skipping the indices saves work.
    fn extreme_values_rows(
        &self,
        offset: usize,
        n_out: usize,
        n: usize,
        max: bool,
    ) -> Result<Self> {
        Ok(self.extreme_rows(offset, n_out, n, max)?.0)
    }
    /// Softmax (or log-softmax) of each row of a contiguous float `[n_out, n]` block.
    fn softmax_rows(&self, offset: usize, n_out: usize, n: usize, log: bool) -> Result<Self>;

    /// One-hot of int64 indices (`[outer, inner]` at `rows.offset`) along a new middle dim of
    /// size `rows.n`, in `dtype` (int64 or float).
    fn one_hot(&self, rows: Along, dtype: DType) -> Result<Self>;
    /// `x[:, index, :]` of the contiguous block `rows`.
    fn index_select(&self, rows: Along, index: &[usize]) -> Result<Self>;
    /// Zeros of `[outer, n, inner]` with this `[outer, index.len(), inner]` block (at
    /// `rows.offset`) added at `index` along the middle dim (int64 or float).
    fn index_add(&self, rows: Along, index: &[usize]) -> Result<Self>;

    /// The columns of the float images `geom` describes (im2col).
    fn im2col(&self, geom: &Windows2d) -> Result<Self>;
    /// The images that sum the float columns `geom` describes (col2im, the adjoint of
    /// [`BackendStorage::im2col`]; `geom.offset` is the columns').
    fn col2im(&self, geom: &Windows2d) -> Result<Self>;
    /// The maximum of each window over float images and its flat `y * size[1] + x` position
    /// in the plane (int64), as PyTorch scans a window: the first of tied maxima, the last
    /// NaN; a window with no pixel gives `-inf` at position -1.
    fn max_pool2d(&self, geom: &Windows2d) -> Result<(Self, Self)>;
    /// The images' gradient from the float windows' gradient `[planes, out]` (contiguous
    /// from `geom.offset`): each added at the position `indices` (int64 `[planes, out]`
    /// contiguous from `indices.1`) holds; positions outside the plane are skipped.
    fn max_pool2d_backward(&self, indices: (&Self, usize), geom: &Windows2d) -> Result<Self>;
    /// The mean of each window over float images, PyTorch's: the sum of its pixels in
    /// row-major order divided by `divisor` (`geom.dilation` is 1).
    fn avg_pool2d(&self, geom: &Windows2d, divisor: AvgDivisor) -> Result<Self>;
    /// The images' gradient from the float windows' gradient `[planes, out]` (contiguous
    /// from `geom.offset`): each window's share added to its pixels, windows in order.
    fn avg_pool2d_backward(&self, geom: &Windows2d, divisor: AvgDivisor) -> Result<Self>;

    /// `[batch, m, k] @ [batch, k, n]` of two 3-d views in one dtype (int64 or float).
    fn batched_matmul(a: (&Self, &Layout), b: (&Self, &Layout)) -> Result<Self>;
    /// `beta * c + alpha * (a @ b)` with `c` a view of the product's shape `[batch, m, n]`
    /// (broadcast strides allowed), operands as [`BackendStorage::batched_matmul`], in one
    /// pass where the backend can (the product accumulates onto `c`'s copy; by default it is
    /// [`addmm_composed`]). `beta == 0` does not read `c` (as BLAS: NaN there is ignored).
    fn batched_addmm(
        c: (&Self, &Layout),
        a: (&Self, &Layout),
        b: (&Self, &Layout),
        beta: f64,
        alpha: f64,
    ) -> Result<Self> {
        addmm_composed(c, a, b, beta, alpha)
    }

    /// Copies `src` (its layout already broadcast to `dst`'s shape, same dtype) into the
    /// elements `dst` addresses. `src` is never this memory.
    fn copy_into(&mut self, dst: &Layout, src: (&Self, &Layout)) -> Result<()>;
    /// `self[dst] = self[dst] op other` for each element `dst` addresses (once each), with
    /// `other`'s layout already broadcast to `dst`'s shape, in this memory's dtype (int64 or
    /// float); `other` is never this memory. By default the result is computed, then copied
    /// in; a backend overrides this to update in one pass.
    fn binary_assign(&mut self, op: BinaryOp, dst: &Layout, other: (&Self, &Layout)) -> Result<()> {
        let dtype = self.dtype();
        let out = Self::binary(
            op,
            Operand::View(self, dst),
            Operand::View(other.0, other.1),
            &dst.shape,
            dtype,
        )?;
        self.copy_into(dst, (&out, &Layout::contiguous(&dst.shape)))
    }
    /// `self[offset + positions[k]] = values[k]` (`values` contiguous, same dtype).
    fn put(&mut self, offset: usize, positions: &[usize], values: &Self) -> Result<()>;
    /// Writes `value` into every element the layout addresses.
    fn fill(&mut self, layout: &Layout, value: f64) -> Result<()>;
    /// Adds the contiguous `src` (in the view's shape) into the view; offsets that repeat
    /// (an expanded view) accumulate. int64 or float.
    fn add_into(&mut self, layout: &Layout, src: &Self) -> Result<()>;

    /// One optimizer step on `n` elements of this (float) parameter at `offset`, with the
    /// gradient and the state buffers as (memory, element offset), each `n` long.
    fn optimizer_step(
        &mut self,
        offset: usize,
        n: usize,
        grad: (&Self, usize),
        states: &mut [(&mut Self, usize)],
        step: &OptimStep,
    ) -> Result<()>;
}

/// `beta * c + alpha * (a @ b)` from the product and two elementwise passes: what a backend
/// without a fused kernel for the dtype computes.
pub fn addmm_composed<S: BackendStorage>(
    c: (&S, &Layout),
    a: (&S, &Layout),
    b: (&S, &Layout),
    beta: f64,
    alpha: f64,
) -> Result<S> {
    let prod = S::batched_matmul(a, b)?;
    let shape = c.1.shape.clone();
    let (dtype, whole) = (prod.dtype(), Layout::contiguous(&shape));
    let number = |v: f64| {
        Operand::Scalar(HostScalar {
            float: v,
            int: v as i64,
        })
    };
    let prod = if alpha == 1.0 {
        prod
    } else {
        S::binary(
            BinaryOp::Mul,
            Operand::View(&prod, &whole),
            number(alpha),
            &shape,
            dtype,
        )?
    };
    if beta == 0.0 {
        return Ok(prod);
    }
    let c_scaled;
    let c_op = if beta == 1.0 {
        Operand::View(c.0, c.1)
    } else {
        c_scaled = S::binary(
            BinaryOp::Mul,
            Operand::View(c.0, c.1),
            number(beta),
            &shape,
            dtype,
        )?;
        Operand::View(&c_scaled, &whole)
    };
    S::binary(
        BinaryOp::Add,
        c_op,
        Operand::View(&prod, &whole),
        &shape,
        dtype,
    )
}
