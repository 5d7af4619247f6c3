//! CPU kernels: strided elementwise maps, reductions, gemm products, gathers and scatters.
//! Each takes contiguous or strided slices and returns a fresh contiguous `Vec`; this module
//! implements [`BackendStorage`] for host [`Buffer`]s on top of them, picking the element type
//! by dtype.

pub mod conv;
pub mod elementwise;
pub mod fastmath;
pub mod index;
pub mod matmul;
pub mod optim;
pub mod pool;
pub mod pooling;
pub mod random;
pub mod reduce;
pub mod rnn;
pub mod simd;

use elementwise as ew;

use super::op_table::elementwise_ops;
use super::{
    ActivationBackward, Along, AvgDivisor, BackendStorage, BinaryOp, CompareOp, Element, Float,
    Num, Operand, OptimStep, SumPlan, SumRead, UnaryArgs, UnaryOp, Windows2d,
};
use crate::bail;
use crate::base::{Bool8, Buffer, DType, Kind, Layout};
use crate::error::Result;

/// `$vis fn $name<$gen>(args) -> ret`, which runs the `#[inline(always)]` function
/// `$body(args)` from a copy compiled for AVX-512 where the CPU has it (plain arithmetic loops
/// in `$body` then vectorise sixteen floats wide), else from one for AVX2 and FMA (eight
/// wide), else as is: the wheel targets baseline x86-64. The copies compute the same
/// operations in the same order, so their results are equal. (A closure cannot do this: LLVM
/// does not inline a large closure into the copies, which then run the baseline code.)
macro_rules! simd_twins {
    ($vis:vis fn $name:ident [$($gen:tt)*] ($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? => $body:ident) => {
        $vis fn $name<$($gen)*>($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]
            unsafe fn twin512<$($gen)*>($($arg: $ty),*) $(-> $ret)? {
                $body($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            if $crate::backend::cpu::has_avx512() {
                // SAFETY: the CPU supports these features (checked just above).
                return unsafe { twin512($($arg),*) };
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            unsafe fn twin<$($gen)*>($($arg: $ty),*) $(-> $ret)? {
                $body($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            if $crate::backend::cpu::has_avx2() {
                // SAFETY: the CPU supports AVX2 and FMA (checked just above).
                return unsafe { twin($($arg),*) };
            }
            $body($($arg),*)
        }
    };
}
pub(crate) use simd_twins;

/// Whether the CPU has AVX2 and FMA (detected once, then a load).
#[inline]
pub fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether the CPU has the AVX-512 subsets the 512-bit twins use (and AVX2 and FMA).
#[inline]
pub fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx512dq")
            && std::is_x86_feature_detected!("avx512bw")
            && has_avx2()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Below this many elements a kernel runs on the calling thread. Our pool's caller works
/// too and its helpers spin between the ops of a step, so a split pays from 32k elements on:
/// there `add`/`mul` went from 1.1-1.4x PyTorch's time (one thread against its two) to
/// 0.83-0.96x (BENCHMARKS.md, entry 32). (Under rayon, whose workers sleep, it was 128k.)
pub const PARALLEL_THRESHOLD: usize = 1 << 15;

/// Runs `$body` with `$T` bound to the Rust type of `$dtype` (one arm per line of the dtype
/// table).
macro_rules! dispatch {
    ($dtype:expr, $T:ident => $body:expr) => {
        crate::dtype_table!(crate::backend::cpu::dispatch @arms ($dtype, $T, $body))
    };
    (@arms ($dtype:expr, $T:ident, $body:expr)
        $($V:ident $Ty:ty, $name:literal $scalar:literal $legacy:literal $kind:ident;)*) => {
        match $dtype {
            $(crate::base::DType::$V => {
                type $T = $Ty;
                $body
            })*
        }
    };
}

pub(crate) use dispatch;

/// Like `dispatch!` for the arithmetic compute types; bool fails (callers cast it to int64
/// first), and the storage-only types never get here (`Memory` widens them: `DType::compute`).
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
            DType::I64 => {
                type $T = i64;
                $body
            }
            other => bail!(
                Runtime,
                "a CPU kernel got {} memory where it needs int64 or float32/64",
                other.name()
            ),
        }
    };
}

/// Like `dispatch!` for floating types only.
macro_rules! dispatch_float {
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
            other => bail!(Runtime, "a CPU kernel needs floats, got {}", other.name()),
        }
    };
}

/// The CPU expressions of the op table as match arms over the strided maps.
macro_rules! cpu_kernels {
    (
        unary_any |$v:ident, $p:ident, $lo:ident, $hi:ident| { $($AV:ident $an:literal { $($acpu:tt)* } $acuda:literal;)* }
        unary_float |$fv:ident| { $($FV:ident $fname:literal { $($fcpu:tt)* } $fcuda:literal;)* }
        binary |$bx:ident, $by:ident| { $($BV:ident $bn:literal { $($bcpu:tt)* } $bcuda:literal;)* }
        compare |$cx:ident, $cy:ident| { $($CV:ident $cn:literal { $($ccpu:tt)* } $ccuda:literal;)* }
        activation_backward |$g:ident, $y:ident| { $($GV:ident $gn:literal { $($gcpu:tt)* } $gcuda:literal;)* }
    ) => {
        fn unary_float<T: Float>(op: UnaryOp, args: UnaryArgs, x: &[T], l: &Layout) -> Vec<T> {
            if let Some(out) = f32_avx512(op, x, l).or_else(|| trig_f32(op, x, l)) {
                return out;
            }
            let ($p, $lo, $hi) = (T::from_f64(args.power), T::from_f64(args.min), T::from_f64(args.max));
            match op {
                $(UnaryOp::$AV => ew::map(x, l, #[inline(always)] move |$v: T| { $($acpu)* }),)*
                $(UnaryOp::$FV => ew::map_costly(x, l, #[inline(always)] move |$fv: T| { $($fcpu)* }),)*
            }
        }

        fn unary_int(op: UnaryOp, args: UnaryArgs, x: &[i64], l: &Layout) -> Result<Vec<i64>> {
            type T = i64;
            let ($p, $lo, $hi) = (T::from_f64(args.power), T::from_f64(args.min), T::from_f64(args.max));
            Ok(match op {
                $(UnaryOp::$AV => ew::map(x, l, #[inline(always)] move |$v: T| { $($acpu)* }),)*
                _ => bail!(Runtime, "{} needs a floating-point input", op.name()),
            })
        }

        fn binary<T: Num>(op: BinaryOp, a: (&[T], &Layout), b: (&[T], &Layout), shape: &[usize]) -> Vec<T> {
            match op {
                $(BinaryOp::$BV => ew::zip(a.0, a.1, b.0, b.1, shape, #[inline(always)] |$bx: T, $by: T| { $($bcpu)* }),)*
            }
        }

        fn binary_assign<T: Num>(op: BinaryOp, dst: (&mut [T], &Layout), b: (&[T], &Layout)) {
            match op {
                $(BinaryOp::$BV => ew::zip_assign(dst.0, dst.1, b.0, b.1, #[inline(always)] |$bx: T, $by: T| { $($bcpu)* }),)*
            }
        }

        #[allow(clippy::bool_comparison)] // one generic body also serves bool tensors
        fn compare<T: Element>(op: CompareOp, a: (&[T], &Layout), b: (&[T], &Layout), shape: &[usize]) -> Vec<Bool8> {
            match op {
                $(CompareOp::$CV => ew::zip(a.0, a.1, b.0, b.1, shape, #[inline(always)] |$cx: T, $cy: T| Bool8::new({ $($ccpu)* })),)*
            }
        }

        fn activation_backward<T: Float>(op: ActivationBackward, g: (&[T], &Layout), y: (&[T], &Layout), shape: &[usize]) -> Vec<T> {
            match op {
                $(ActivationBackward::$GV => ew::zip(g.0, g.1, y.0, y.1, shape, #[inline(always)] |$g: T, $y: T| { $($gcpu)* }),)*
            }
        }
    };
}
elementwise_ops!(cpu_kernels);

/// The float32 trig function of `op`, if it is one.
fn trig_of(op: UnaryOp) -> Option<fastmath::Trig> {
    match op {
        UnaryOp::Sin => Some(fastmath::Trig::Sin),
        UnaryOp::Cos => Some(fastmath::Trig::Cos),
        UnaryOp::Tan => Some(fastmath::Trig::Tan),
        _ => None,
    }
}

/// float32 `sin`, `cos` and `tan` through the vectorised kernels of [`fastmath`], whose range
/// reduction holds up to [`fastmath::TRIG_FAST_MAX`]; the rare larger arguments (and the
/// non-finite ones) are then recomputed with libm. None for other ops and dtypes.
fn trig_f32<T: Float>(op: UnaryOp, x: &[T], l: &Layout) -> Option<Vec<T>> {
    let trig = trig_of(op)?;
    let x = simd::as_type::<T, f32>(x)?;
    let mut out = match trig {
        fastmath::Trig::Sin => ew::map_costly(x, l, fastmath::sin_f32),
        fastmath::Trig::Cos => ew::map_costly(x, l, fastmath::cos_f32),
        fastmath::Trig::Tan => ew::map_costly(x, l, fastmath::tan_f32),
    };
    let gathered;
    let inputs = if l.is_contiguous() {
        &x[l.offset..l.offset + out.len()]
    } else {
        gathered = ew::gather(x, l);
        &gathered
    };
    // Blocks tested without an early exit, so the test vectorises.
    let any_slow = inputs.chunks(1024).any(|block| {
        block
            .iter()
            .fold(false, |any, &v| any | fastmath::trig_needs_slow_path(v))
    });
    if any_slow {
        for (o, &v) in out.iter_mut().zip(inputs) {
            if fastmath::trig_needs_slow_path(v) {
                *o = match trig {
                    fastmath::Trig::Sin => v.sin(),
                    fastmath::Trig::Cos => v.cos(),
                    fastmath::Trig::Tan => v.tan(),
                };
            }
        }
    }
    Some(simd::cast_vec(out))
}

/// float32 `tanh`, `exp`, `sin`, `cos` and `tan` of a contiguous tensor by the AVX-512 kernels
/// of [`fastmath`]. None for other ops, dtypes, layouts and CPUs.
fn f32_avx512<T: Float>(op: UnaryOp, x: &[T], l: &Layout) -> Option<Vec<T>> {
    let trig = trig_of(op);
    if !(matches!(op, UnaryOp::Tanh | UnaryOp::Exp) || trig.is_some())
        || !l.is_contiguous()
        || !has_avx512()
    {
        return None;
    }
    let x = simd::as_type::<T, f32>(x)?;
    let src = &x[l.offset..l.offset + l.numel()];
    #[cfg(target_arch = "x86_64")]
    {
        let threshold = ew::COSTLY_PARALLEL_THRESHOLD;
        // SAFETY (all three): the CPU has AVX-512 (checked above); `map_slices` gives the
        // kernel pieces of equal lengths.
        let out = match (op, trig) {
            (_, Some(trig)) => ew::map_slices(src, threshold, |s, d| unsafe {
                fastmath::trig_f32_avx512(trig, s, d)
            }),
            (UnaryOp::Tanh, _) => ew::map_slices(src, threshold, |s, d| unsafe {
                fastmath::tanh_f32_avx512(s, d)
            }),
            _ => ew::map_slices(src, threshold, |s, d| unsafe {
                fastmath::exp_f32_avx512(s, d)
            }),
        };
        Some(simd::cast_vec(out))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (src, trig);
        None
    }
}

/// A 1-element buffer of `dtype` holding a host scalar (a binary operand given by value).
fn scalar_buffer(s: super::HostScalar, dtype: DType) -> Buffer {
    // Integers exactly (wrapping into narrow types), floats rounded from the float64.
    dispatch!(dtype, T => T::into_buffer(vec![if dtype.is_float() {
        T::from_f64(s.float)
    } else {
        T::from_i64(s.int)
    }]))
}

/// `f` of the two operands as buffers and layouts (a scalar, which only a CUDA tensor's
/// partner sends, through [`operand`]). Two views, every CPU op's case, go
/// straight through.
fn with_views<R>(
    a: Operand<Buffer>,
    b: Operand<Buffer>,
    dtype: DType,
    shape: &[usize],
    f: impl FnOnce((&Buffer, &Layout), (&Buffer, &Layout)) -> R,
) -> Result<R> {
    if let (Operand::View(ba, la), Operand::View(bb, lb)) = (&a, &b) {
        return Ok(f((ba, la), (bb, lb)));
    }
    let (mut ka, mut kb) = (None, None);
    let a = operand(a, dtype, shape, &mut ka)?;
    let b = operand(b, dtype, shape, &mut kb)?;
    Ok(f(a, b))
}

/// The buffer and layout of an operand (a scalar becomes a broadcast 1-element buffer).
fn operand<'a>(
    o: Operand<'a, Buffer>,
    dtype: DType,
    shape: &[usize],
    keep: &'a mut Option<(Buffer, Layout)>,
) -> Result<(&'a Buffer, &'a Layout)> {
    Ok(match o {
        Operand::View(b, l) => (b, l),
        Operand::Scalar(s) => {
            let l = Layout::contiguous(&[]).expand(shape)?;
            let (b, l) = keep.insert((scalar_buffer(s, dtype), l));
            (&*b, &*l)
        }
    })
}

fn offset_layout(n: usize, offset: usize) -> Layout {
    let mut l = Layout::contiguous(&[n]);
    l.offset = offset;
    l
}

impl BackendStorage for Buffer {
    type Device = ();

    fn zeros(_: &(), dtype: DType, n: usize) -> Result<Buffer> {
        Buffer::zeros(dtype, n)
    }

    fn full(_: &(), dtype: DType, n: usize, value: f64) -> Result<Buffer> {
        // One pass of writes (zeros first were a pass more: `ones(1M)` took 5x PyTorch's time).
        Ok(dispatch!(dtype, T => {
            let mut v: Vec<T> = crate::base::buffer::reserve_host(dtype, n)?;
            ew::fill_slots(&mut v.spare_capacity_mut()[..n], T::from_f64(value));
            // SAFETY: `fill_slots` wrote all `n` elements.
            unsafe { v.set_len(n) };
            T::into_buffer(v)
        }))
    }

    fn random(_: &(), n: usize, dtype: DType, normal: bool) -> Result<Buffer> {
        if dtype.compute() != dtype {
            // Drawn in float32, then rounded to the half type.
            let wide = Buffer::random(&(), n, dtype.compute(), normal)?;
            return wide.cast(&Layout::contiguous(&[n]), dtype);
        }
        // Drawn as float64, as the generator's stream has always been, then converted.
        let v = if normal {
            random::normal(n)
        } else {
            random::uniform(n)
        };
        Ok(dispatch_float!(dtype, T => T::into_buffer(v.iter().map(|&x| T::from_f64(x)).collect())))
    }

    fn from_host(_: &(), host: &Buffer, offset: usize, n: usize) -> Result<Buffer> {
        host.gather(&offset_layout(n, offset))
    }

    fn to_host(&self, offset: usize, n: usize) -> Result<Buffer> {
        self.gather(&offset_layout(n, offset))
    }

    fn dtype(&self) -> DType {
        Buffer::dtype(self)
    }

    fn len(&self) -> usize {
        Buffer::len(self)
    }

    fn gather(&self, l: &Layout) -> Result<Buffer> {
        Ok(dispatch!(self.dtype(), T => T::into_buffer(ew::gather(T::slice(self), l))))
    }

    fn cast(&self, l: &Layout, to: DType) -> Result<Buffer> {
        Ok(dispatch!(self.dtype(), S => {
            let src = S::slice(self);
            // Bool is `!= 0`; an integer target wraps from int64 (PyTorch's casts: 300 is 44
            // as uint8, -1.0 is 255); a float target rounds from float64 (exact for f32/f16).
            dispatch!(to, D => D::into_buffer(match to.kind() {
                Kind::Bool => ew::map(src, l, |v: S| D::from_f64((v.to_f64() != 0.0) as u8 as f64)),
                Kind::Int if S::DTYPE.is_float() => {
                    ew::map(src, l, |v: S| D::from_i64(float_to_int(v.to_f64(), to)))
                }
                Kind::Int => ew::map(src, l, |v: S| D::from_i64(v.to_i64())),
                Kind::Float => ew::map(src, l, |v: S| D::from_f64(v.to_f64())),
            }))
        }))
    }

    fn unary(&self, l: &Layout, op: UnaryOp, args: UnaryArgs) -> Result<Buffer> {
        Ok(match self.dtype() {
            DType::I64 => Buffer::I64(unary_int(op, args, i64::slice(self), l)?),
            d => dispatch_float!(d, T => T::into_buffer(unary_float(op, args, T::slice(self), l))),
        })
    }

    fn binary(
        op: BinaryOp,
        a: Operand<Buffer>,
        b: Operand<Buffer>,
        shape: &[usize],
        dtype: DType,
    ) -> Result<Buffer> {
        with_views(a, b, dtype, shape, |(ba, la), (bb, lb)| {
            Ok(
                dispatch_num!(dtype, T => T::into_buffer(binary::<T>(op, (T::slice(ba), la), (T::slice(bb), lb), shape))),
            )
        })?
    }

    fn compare(
        op: CompareOp,
        a: Operand<Buffer>,
        b: Operand<Buffer>,
        shape: &[usize],
        dtype: DType,
    ) -> Result<Buffer> {
        with_views(
            a,
            b,
            dtype,
            shape,
            |(ba, la), (bb, lb)| dispatch!(dtype, T => Buffer::Bool(compare::<T>(op, (T::slice(ba), la), (T::slice(bb), lb), shape))),
        )
    }

    fn activation_backward(
        op: ActivationBackward,
        g: (&Buffer, &Layout),
        y: (&Buffer, &Layout),
        shape: &[usize],
    ) -> Result<Buffer> {
        Ok(
            dispatch_float!(g.0.dtype(), T => T::into_buffer(activation_backward::<T>(
            op, (T::slice(g.0), g.1), (T::slice(y.0), y.1), shape))),
        )
    }

    fn where_(
        c: (&Buffer, &Layout),
        a: (&Buffer, &Layout),
        b: (&Buffer, &Layout),
        shape: &[usize],
    ) -> Result<Buffer> {
        Ok(dispatch!(a.0.dtype(), T => T::into_buffer(ew::zip3(
            Bool8::slice(c.0), c.1, T::slice(a.0), a.1, T::slice(b.0), b.1, shape,
            |c, x, y| if c.get() { x } else { y },
        ))))
    }

    fn sum(&self, l: &Layout, plan: &SumPlan) -> Result<Buffer> {
        let (n_out, n_red) = (plan.n_out, plan.n_red);
        Ok(dispatch_num!(self.dtype(), T => {
            let s = T::slice(self);
            T::into_buffer(match &plan.read {
                SumRead::Rows => reduce::sum_rows(&s[l.offset..], n_out, n_red),
                SumRead::Columns => reduce::sum_leading(&s[l.offset..], n_red, n_out),
                SumRead::Permuted(order) => {
                    let g = ew::gather(s, &l.permute(order));
                    reduce::sum_rows(&g, n_out, n_red)
                }
            })
        }))
    }

    fn extreme_rows(
        &self,
        offset: usize,
        n_out: usize,
        n: usize,
        max: bool,
    ) -> Result<(Buffer, Buffer)> {
        Ok(dispatch_num!(self.dtype(), T => {
            let (v, i) = reduce::extreme_rows(&T::slice(self)[offset..], n_out, n, max);
            (T::into_buffer(v), Buffer::I64(i))
        }))
    }

    fn extreme_values_rows(
        &self,
        offset: usize,
        n_out: usize,
        n: usize,
        max: bool,
    ) -> Result<Buffer> {
        Ok(dispatch_num!(self.dtype(), T => T::into_buffer(
            reduce::extreme_values_rows(&T::slice(self)[offset..], n_out, n, max)
        )))
    }

    fn softmax_rows(&self, offset: usize, n_out: usize, n: usize, log: bool) -> Result<Buffer> {
        Ok(dispatch_float!(self.dtype(), T =>
            T::into_buffer(reduce::softmax_rows(&T::slice(self)[offset..], n_out, n, log))))
    }

    fn one_hot(&self, rows: Along, dtype: DType) -> Result<Buffer> {
        let idx = &i64::slice(self)[rows.offset..];
        // The kernel writes at each index unchecked: bound them all once, up front.
        let count = rows.outer * rows.inner;
        if let Some(&bad) = idx[..count]
            .iter()
            .find(|&&i| i < 0 || i as usize >= rows.n)
        {
            return Err(crate::error::Error::Runtime(format!(
                "Class values must be smaller than num_classes: index {bad} for {} classes",
                rows.n
            )));
        }
        Ok(dispatch_num!(dtype, T =>
            T::into_buffer(index::one_hot::<T>(idx, rows.outer, rows.n, rows.inner))))
    }

    fn index_select(&self, rows: Along, idx: &[usize]) -> Result<Buffer> {
        Ok(
            dispatch!(self.dtype(), T => T::into_buffer(index::index_select(
            &T::slice(self)[rows.offset..], rows.outer, rows.n, rows.inner, idx))),
        )
    }

    fn index_add(&self, rows: Along, idx: &[usize]) -> Result<Buffer> {
        Ok(
            dispatch_num!(self.dtype(), T => T::into_buffer(index::index_add(
            &T::slice(self)[rows.offset..], rows.outer, rows.n, rows.inner, idx))),
        )
    }

    fn im2col(&self, geom: &Windows2d) -> Result<Buffer> {
        Ok(dispatch_float!(self.dtype(), T => T::into_buffer(conv::im2col(T::slice(self), geom))))
    }

    fn col2im(&self, geom: &Windows2d) -> Result<Buffer> {
        Ok(dispatch_float!(self.dtype(), T => T::into_buffer(conv::col2im(T::slice(self), geom))))
    }

    fn max_pool2d(&self, geom: &Windows2d) -> Result<(Buffer, Buffer)> {
        Ok(dispatch_float!(self.dtype(), T => {
            let (v, i) = pooling::max_pool2d(&T::slice(self)[geom.offset..], geom);
            (T::into_buffer(v), Buffer::I64(i))
        }))
    }

    fn max_pool2d_backward(&self, indices: (&Buffer, usize), geom: &Windows2d) -> Result<Buffer> {
        if indices.0.dtype() != DType::I64 {
            bail!(Runtime, "max_pool2d_backward: indices must be int64");
        }
        let ids = i64::slice(indices.0);
        Ok(
            dispatch_float!(self.dtype(), T => T::into_buffer(pooling::max_pool2d_backward(
                &T::slice(self)[geom.offset..],
                &ids[indices.1..],
                geom,
            ))),
        )
    }

    fn avg_pool2d(&self, geom: &Windows2d, divisor: AvgDivisor) -> Result<Buffer> {
        Ok(dispatch_float!(self.dtype(), T => T::into_buffer(
            pooling::avg_pool2d(&T::slice(self)[geom.offset..], geom, divisor))))
    }

    fn avg_pool2d_backward(&self, geom: &Windows2d, divisor: AvgDivisor) -> Result<Buffer> {
        Ok(dispatch_float!(self.dtype(), T => T::into_buffer(
            pooling::avg_pool2d_backward(&T::slice(self)[geom.offset..], geom, divisor))))
    }

    fn batched_matmul(a: (&Buffer, &Layout), b: (&Buffer, &Layout)) -> Result<Buffer> {
        Ok(dispatch_num!(a.0.dtype(), T => T::into_buffer(
            matmul::batched_matmul(T::slice(a.0), a.1, T::slice(b.0), b.1))))
    }

    fn batched_addmm(
        c: (&Buffer, &Layout),
        a: (&Buffer, &Layout),
        b: (&Buffer, &Layout),
        beta: f64,
        alpha: f64,
    ) -> Result<Buffer> {
        Ok(dispatch_num!(a.0.dtype(), T => {
            let (acc, beta) = if beta == 0.0 {
                (vec![T::ZERO; c.1.numel()], None)
            } else {
                (ew::gather(T::slice(c.0), c.1), Some(T::from_f64(beta)))
            };
            T::into_buffer(matmul::batched_addmm(
                acc, beta, T::slice(a.0), a.1, T::slice(b.0), b.1, T::from_f64(alpha)))
        }))
    }

    fn copy_into(&mut self, dst: &Layout, src: (&Buffer, &Layout)) -> Result<()> {
        dispatch!(self.dtype(), T =>
            ew::zip_assign(T::slice_mut(self), dst, T::slice(src.0), src.1, |_, y| y));
        Ok(())
    }

    fn binary_assign(
        &mut self,
        op: BinaryOp,
        dst: &Layout,
        other: (&Buffer, &Layout),
    ) -> Result<()> {
        dispatch_num!(self.dtype(), T =>
            binary_assign::<T>(op, (T::slice_mut(self), dst), (T::slice(other.0), other.1)));
        Ok(())
    }

    fn put(&mut self, offset: usize, positions: &[usize], values: &Buffer) -> Result<()> {
        dispatch!(self.dtype(), T => {
            let vals = T::slice(values);
            let s = T::slice_mut(self);
            for (k, &p) in positions.iter().enumerate() {
                s[offset + p] = vals[k];
            }
        });
        Ok(())
    }

    fn fill(&mut self, l: &Layout, value: f64) -> Result<()> {
        dispatch!(self.dtype(), T => {
            let v = T::from_f64(value);
            let dst = T::slice_mut(self);
            if l.is_contiguous() {
                ew::fill(&mut dst[l.offset..l.offset + l.numel()], v);
            } else {
                ew::write_into(dst, l, &[v], &[]);
            }
        });
        Ok(())
    }

    fn add_into(&mut self, l: &Layout, src: &Buffer) -> Result<()> {
        if self.dtype() == DType::Bool {
            // Gradients are never bool; a logical or keeps the operation total.
            let s = Bool8::slice(src).to_vec();
            let mut k = 0;
            let dst = Bool8::slice_mut(self);
            l.for_each_offset(|o| {
                dst[o] = Bool8::new(dst[o].get() | s[k].get());
                k += 1;
            });
            return Ok(());
        }
        dispatch_num!(self.dtype(), T => ew::add_into(T::slice_mut(self), l, T::slice(src)));
        Ok(())
    }

    fn optimizer_step(
        &mut self,
        offset: usize,
        n: usize,
        grad: (&Buffer, usize),
        states: &mut [(&mut Buffer, usize)],
        step: &OptimStep,
    ) -> Result<()> {
        dispatch_float!(self.dtype(), T => {
            let p = &mut T::slice_mut(self)[offset..offset + n];
            let g = &T::slice(grad.0)[grad.1..grad.1 + n];
            let mut st: Vec<&mut [T]> = states
                .iter_mut()
                .map(|(b, o)| &mut T::slice_mut(b)[*o..*o + n])
                .collect();
            optim::step(p, g, &mut st, step);
        });
        Ok(())
    }
}

/// A float truncated to the integer type `to` as PyTorch's CPU kernels do on x86: C++'s
/// `static_cast`, undefined out of range in the language, is the `cvtt` instruction there,
/// which gives the smallest integer of its width for NaN, infinities and values out of range.
/// int64 converts at 64 bits; the narrower types at 32 bits, then wrap (`1e10` as int16 is
/// 0, `300.0` as uint8 is 44).
fn float_to_int(v: f64, to: DType) -> i64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    const TWO_31: f64 = 2_147_483_648.0;
    if to == DType::I64 {
        if (-TWO_63..TWO_63).contains(&v) {
            v as i64
        } else {
            i64::MIN
        }
    } else if v > -TWO_31 - 1.0 && v < TWO_31 {
        v as i64
    } else {
        i64::from(i32::MIN)
    }
}
