//! The element traits the generic kernels are written against.

use std::ops::{Add, Div, Mul, Neg, Sub};

use super::special;
use crate::base::{Bool8, Buffer, DType};

/// Any storable element.
pub trait Element: Copy + Send + Sync + PartialOrd + PartialEq + Default + 'static {
    const DTYPE: DType;
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
    /// From an int64, wrapping for the narrower integers (PyTorch's integer casts).
    fn from_i64(v: i64) -> Self;
    /// Truncated toward zero for floats (saturating; PyTorch leaves out-of-range undefined).
    fn to_i64(self) -> i64;
    fn slice(buffer: &Buffer) -> &[Self];
    fn slice_mut(buffer: &mut Buffer) -> &mut [Self];
    fn into_buffer(v: Vec<Self>) -> Buffer;
}

/// Elements with arithmetic (int64 and the floats).
pub trait Num:
    Element + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self>
{
    const ZERO: Self;
    const ONE: Self;
    /// `-self`, wrapping for integers (as PyTorch's int64 negation).
    fn negate(self) -> Self;
    fn abs(self) -> Self;
    fn powf(self, e: Self) -> Self;
    /// NaN test (always false for integers).
    fn is_nan(self) -> bool;

    /// -1, 0 or 1: PyTorch's `(0 < v) - (v < 0)`, so NaN and -0.0 give +0.0.
    #[inline]
    fn sign(self) -> Self {
        if self > Self::ZERO {
            Self::ONE
        } else if self < Self::ZERO {
            Self::ZERO - Self::ONE
        } else {
            Self::ZERO
        }
    }

    #[inline]
    fn relu(self) -> Self {
        if self > Self::ZERO || self.is_nan() {
            self
        } else {
            Self::ZERO
        }
    }

    /// `self ** e` for a scalar exponent (squares without `powf`).
    #[inline]
    fn pow_scalar(self, e: Self) -> Self {
        if e == Self::ONE + Self::ONE {
            self * self
        } else {
            self.powf(e)
        }
    }

    /// Rounded down (integers are already whole).
    fn floor(self) -> Self;
    fn ceil(self) -> Self;
    /// Rounded to the nearest, ties to even (C's `nearbyint`, PyTorch's `round`).
    fn round(self) -> Self;
    fn trunc(self) -> Self;
    /// PyTorch's `round(decimals=d)`: scaled by `10^d`, rounded, scaled back.
    fn round_decimals(self, decimals: Self) -> Self;
    /// `x - trunc(x / y) * y` (C's `fmod`); integers by zero give 0 (callers refuse them).
    fn fmod(self, y: Self) -> Self;
    /// The remainder with the divisor's sign (Python's `%`).
    fn remainder(self, y: Self) -> Self;
    /// `floor(x / y)` (Python's `//`), as PyTorch computes it.
    fn floor_divide(self, y: Self) -> Self;
    /// Float-only binary functions (integers compute as floats before they get here).
    fn atan2(self, y: Self) -> Self;
    fn hypot(self, y: Self) -> Self;
    /// `log(exp(x) + exp(y))` without overflow.
    fn logaddexp(self, y: Self) -> Self;

    /// Clamped into `[lo, hi]` (`hi` wins when `lo > hi`; NaN stays NaN, as in PyTorch).
    #[inline]
    fn clamp_to(self, lo: Self, hi: Self) -> Self {
        let mut v = self;
        if v < lo {
            v = lo;
        }
        if v > hi {
            v = hi;
        }
        v
    }
}

/// The standard library's one-argument float functions, as methods of [`Float`] (so an op's
/// CPU expression in `op_table.rs` can call any of them).
macro_rules! libm_functions {
    ($m:ident) => {
        $m!(sqrt sin cos tan acosh log2 log10 fract recip cbrt);
    };
}

macro_rules! declare_libm {
    ($($f:ident)*) => {
        $(fn $f(self) -> Self;)*
    };
}

/// Floating-point elements.
pub trait Float: Num + Neg<Output = Self> {
    /// `e^self`: vectorised for float32 (see `FastMath` below), libm's for float64.
    fn exp(self) -> Self;
    /// `tanh`: vectorised for float32 (see `FastMath` below), libm's for float64.
    fn tanh(self) -> Self;
    /// The natural logarithm: vectorised for float32, libm's for float64.
    fn ln(self) -> Self;
    /// `ln(1 + self)`: vectorised for float32, libm's for float64.
    fn ln_1p(self) -> Self;
    libm_functions!(declare_libm);
    /// `asin`, `acos`, `atan`, `sinh`, `cosh`, `asinh`, `2^self`, `e^self - 1`: vectorised
    /// for float32, libm's for float64.
    fn asin(self) -> Self;
    fn acos(self) -> Self;
    fn atan(self) -> Self;
    fn asinh(self) -> Self;
    fn sinh(self) -> Self;
    fn cosh(self) -> Self;
    fn exp2(self) -> Self;
    fn exp_m1(self) -> Self;
    /// Vectorised for float32; the C library's for float64 (the standard library's loses
    /// digits near +-1).
    fn atanh(self) -> Self;
    fn erf(self) -> Self;
    fn erfc(self) -> Self;
    /// The inverse of `erf` (PyTorch's `calc_erfinv`: a rational guess, two Newton steps).
    fn erfinv(self) -> Self;
    /// `ln |Γ(self)|`, `ψ(self)` and `ψ⁽ⁿ⁾(self)` (see `backend::special`).
    fn lgamma(self) -> Self;
    fn digamma(self) -> Self;
    fn polygamma(self, n: Self) -> Self;
    const NEG_INFINITY: Self;
    const INFINITY: Self;
}

macro_rules! element {
    ($t:ty, $variant:ident, |$x:ident| $from_f64:expr, |$y:ident| $to_f64:expr,
     |$i:ident| $from_i64:expr, |$j:ident| $to_i64:expr) => {
        impl Element for $t {
            const DTYPE: DType = DType::$variant;
            #[inline]
            fn from_f64($x: f64) -> Self {
                $from_f64
            }
            #[inline]
            fn to_f64(self) -> f64 {
                let $y = self;
                $to_f64
            }
            #[inline]
            fn from_i64($i: i64) -> Self {
                $from_i64
            }
            #[inline]
            fn to_i64(self) -> i64 {
                let $j = self;
                $to_i64
            }
            fn slice(buffer: &Buffer) -> &[Self] {
                match buffer {
                    Buffer::$variant(v) => v,
                    Buffer::Foreign(f) if buffer.dtype() == DType::$variant => f.slice(),
                    other => panic!("buffer holds {:?}, not {}", other.dtype(), stringify!($t)),
                }
            }
            fn slice_mut(buffer: &mut Buffer) -> &mut [Self] {
                if buffer.dtype() != DType::$variant {
                    panic!("buffer holds {:?}, not {}", buffer.dtype(), stringify!($t));
                }
                match buffer {
                    Buffer::$variant(v) => v,
                    Buffer::Foreign(f) => f.slice_mut(),
                    _ => unreachable!(),
                }
            }
            fn into_buffer(v: Vec<Self>) -> Buffer {
                Buffer::$variant(v)
            }
        }
    };
    // Primitives: Rust's `as` wraps between integers and truncates (saturating) from floats.
    ($t:ty, $variant:ident) => {
        element!($t, $variant, |v| v as $t, |v| v as f64, |v| v as $t, |v| v
            as i64);
    };
    ($t:ty, $variant:ident, half) => {
        element!(
            $t,
            $variant,
            |v| <$t>::from_f64(v),
            |v| v.to_f64(),
            |v| <$t>::from_f64(v as f64),
            |v| v.to_f64() as i64
        );
    };
}
element!(f32, F32);
element!(f64, F64);
element!(u8, U8);
element!(i8, I8);
element!(i16, I16);
element!(i32, I32);
element!(i64, I64);
element!(half::f16, F16, half);
element!(half::bf16, BF16, half);

impl Element for Bool8 {
    const DTYPE: DType = DType::Bool;
    fn from_f64(v: f64) -> Self {
        Bool8::new(v != 0.0)
    }
    fn to_f64(self) -> f64 {
        self.get() as u8 as f64
    }
    fn slice(buffer: &Buffer) -> &[Self] {
        match buffer {
            Buffer::Bool(v) => v,
            Buffer::Foreign(f) if buffer.dtype() == DType::Bool => f.slice(),
            other => panic!("buffer holds {:?}, not bool", other.dtype()),
        }
    }
    fn slice_mut(buffer: &mut Buffer) -> &mut [Self] {
        if buffer.dtype() != DType::Bool {
            panic!("buffer holds {:?}, not bool", buffer.dtype());
        }
        match buffer {
            Buffer::Bool(v) => v,
            Buffer::Foreign(f) => f.slice_mut(),
            _ => unreachable!(),
        }
    }
    fn into_buffer(v: Vec<Self>) -> Buffer {
        Buffer::Bool(v)
    }
    fn from_i64(v: i64) -> Self {
        Bool8::new(v != 0)
    }
    fn to_i64(self) -> i64 {
        self.get() as i64
    }
}

macro_rules! define_libm {
    ($($f:ident)*) => {
        $(#[inline]
        fn $f(self) -> Self {
            Self::$f(self)
        })*
    };
}

macro_rules! float {
    ($t:ty, $erfc:path, $erfinv:ident, $gamma:ident) => {
        impl Num for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline]
            fn negate(self) -> Self {
                -self
            }
            #[inline]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline]
            fn powf(self, e: Self) -> Self {
                <$t>::powf(self, e)
            }
            #[inline]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline]
            fn floor(self) -> Self {
                <$t>::floor(self)
            }
            #[inline]
            fn ceil(self) -> Self {
                <$t>::ceil(self)
            }
            #[inline]
            fn round(self) -> Self {
                <$t>::round_ties_even(self)
            }
            #[inline]
            fn trunc(self) -> Self {
                <$t>::trunc(self)
            }
            #[inline]
            fn round_decimals(self, decimals: Self) -> Self {
                // As PyTorch: a negative count divides by the positive power (exact for 10^k).
                if decimals >= 0.0 {
                    let p = (10.0 as $t).powf(decimals);
                    (self * p).round_ties_even() / p
                } else {
                    let p = (10.0 as $t).powf(-decimals);
                    (self / p).round_ties_even() * p
                }
            }
            #[inline]
            fn fmod(self, y: Self) -> Self {
                self % y
            }
            #[inline]
            fn remainder(self, y: Self) -> Self {
                let m = self % y;
                if m != 0.0 && (y < 0.0) != (m < 0.0) {
                    m + y
                } else {
                    m
                }
            }
            #[inline]
            fn floor_divide(self, y: Self) -> Self {
                // PyTorch's div_floor_floating: exact where floor(x / y) would round badly.
                if y == 0.0 {
                    return self / y;
                }
                let m = self % y;
                let mut div = (self - m) / y;
                if m != 0.0 && (y < 0.0) != (m < 0.0) {
                    div -= 1.0;
                }
                if div != 0.0 {
                    let f = div.floor();
                    if div - f > 0.5 {
                        f + 1.0
                    } else {
                        f
                    }
                } else {
                    (0.0 as $t).copysign(self / y)
                }
            }
            #[inline]
            fn atan2(self, y: Self) -> Self {
                <$t>::atan2(self, y)
            }
            #[inline]
            fn hypot(self, y: Self) -> Self {
                <$t>::hypot(self, y)
            }
            #[inline]
            fn logaddexp(self, y: Self) -> Self {
                // Equal infinities would give inf - inf.
                if self.is_infinite() && self == y {
                    self
                } else {
                    self.max(y) + (-(self - y).abs()).exp().ln_1p()
                }
            }
            /// PyTorch's special exponents (so `(-inf) ** 0.5` is NaN like its `sqrt`, not
            /// `pow`'s inf), `powf` otherwise.
            #[inline]
            fn pow_scalar(self, e: Self) -> Self {
                match e {
                    2.0 => self * self,
                    3.0 => self * self * self,
                    0.5 => self.sqrt(),
                    -0.5 => 1.0 / self.sqrt(),
                    -1.0 => 1.0 / self,
                    -2.0 => 1.0 / (self * self),
                    _ => self.powf(e),
                }
            }
        }
        impl Float for $t {
            #[inline(always)]
            fn exp(self) -> Self {
                FastMath::fast_exp(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                FastMath::fast_tanh(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                FastMath::fast_ln(self)
            }
            #[inline(always)]
            fn ln_1p(self) -> Self {
                FastMath::fast_ln_1p(self)
            }
            libm_functions!(define_libm);
            #[inline(always)]
            fn asin(self) -> Self {
                FastMath::fast_asin(self)
            }
            #[inline(always)]
            fn acos(self) -> Self {
                FastMath::fast_acos(self)
            }
            #[inline(always)]
            fn atan(self) -> Self {
                FastMath::fast_atan(self)
            }
            #[inline(always)]
            fn asinh(self) -> Self {
                FastMath::fast_asinh(self)
            }
            #[inline(always)]
            fn sinh(self) -> Self {
                FastMath::fast_sinh(self)
            }
            #[inline(always)]
            fn cosh(self) -> Self {
                FastMath::fast_cosh(self)
            }
            #[inline(always)]
            fn exp2(self) -> Self {
                FastMath::fast_exp2(self)
            }
            #[inline(always)]
            fn exp_m1(self) -> Self {
                FastMath::fast_exp_m1(self)
            }
            #[inline(always)]
            fn atanh(self) -> Self {
                FastMath::fast_atanh(self)
            }
            #[inline(always)]
            fn erf(self) -> Self {
                FastMath::fast_erf(self)
            }
            #[inline]
            fn erfc(self) -> Self {
                $erfc(self)
            }
            fn erfinv(self) -> Self {
                $erfinv(self)
            }
            fn lgamma(self) -> Self {
                special::$gamma::lgamma(self)
            }
            fn digamma(self) -> Self {
                special::$gamma::digamma(self)
            }
            fn polygamma(self, n: Self) -> Self {
                special::$gamma::polygamma(self, n)
            }
            const NEG_INFINITY: Self = <$t>::NEG_INFINITY;
            const INFINITY: Self = <$t>::INFINITY;
        }
    };
}
/// The C library's math functions that the standard library lacks (`erf`, `erfc`) or rounds
/// worse (`atanh` near +-1): the ones PyTorch's scalar CPU kernels and the CUDA emulator call,
/// so results agree to the last bit where PyTorch is not vectorised (`erfinv`'s Newton steps).
mod c_math {
    mod ffi {
        extern "C" {
            pub fn erf(x: f64) -> f64;
            pub fn erfc(x: f64) -> f64;
            pub fn erfcf(x: f32) -> f32;
            pub fn atanh(x: f64) -> f64;
        }
    }
    macro_rules! safe {
        ($($f:ident: $t:ty;)*) => {
            $(#[inline]
            pub fn $f(x: $t) -> $t {
                // SAFETY: pure functions of one number (C99 <math.h>), no pointers, no state.
                unsafe { ffi::$f(x) }
            })*
        };
    }
    safe! {
        erf: f64; erfc: f64; erfcf: f32; atanh: f64;
    }
}

/// PyTorch's `calc_erfinv` in float64: a rational guess, then two Newton steps.
fn erfinv(y: f64) -> f64 {
    let a = [0.886226899, -1.645349621, 0.914624893, -0.140543331];
    let b = [-2.118377725, 1.442710462, -0.329097515, 0.012229801];
    let c = [-1.970840454, -1.624906493, 3.429567803, 1.641345311];
    let d = [3.543889200, 1.637067800];
    let y_abs = y.abs();
    if y_abs > 1.0 {
        return f64::NAN;
    }
    if y_abs == 1.0 {
        return f64::INFINITY.copysign(y);
    }
    let mut x = if y_abs <= 0.7 {
        let z = y * y;
        let num = ((a[3] * z + a[2]) * z + a[1]) * z + a[0];
        let dem = (((b[3] * z + b[2]) * z + b[1]) * z + b[0]) * z + 1.0;
        y * num / dem
    } else {
        let z = (-((1.0 - y_abs) / 2.0).ln()).sqrt();
        let num = ((c[3] * z + c[2]) * z + c[1]) * z + c[0];
        let dem = (d[1] * z + d[0]) * z + 1.0;
        num.copysign(y) / dem
    };
    let slope = |x: f64| std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp();
    if y_abs <= 0.7 {
        for _ in 0..2 {
            x -= (c_math::erf(x) - y) / slope(x);
        }
        return x;
    }
    // In the tails the steps solve erfc(|x|) = 1 - |y| (exact here): erf(x) - y would cancel
    // to a few digits near +-1, where the result is PyTorch's to the last bit.
    let (t, mut a) = (1.0 - y_abs, x.abs());
    for _ in 0..2 {
        a += (c_math::erfc(a) - t) / slope(a);
    }
    a.copysign(y)
}

/// float32 through float64: the float32 Newton steps stall a few ulp off near +-1, where
/// PyTorch's result is the rounded float64 one.
fn erfinv_via_f64(y: f32) -> f32 {
    erfinv(y as f64) as f32
}

float!(f32, c_math::erfcf, erfinv_via_f64, f32s);
float!(f64, c_math::erfc, erfinv, f64s);

impl Num for i64 {
    const ZERO: Self = 0;
    const ONE: Self = 1;
    #[inline]
    fn is_nan(self) -> bool {
        false
    }
    #[inline]
    fn negate(self) -> Self {
        self.wrapping_neg()
    }
    #[inline]
    fn abs(self) -> Self {
        self.wrapping_abs()
    }
    #[inline]
    fn powf(self, e: Self) -> Self {
        if e < 0 {
            // Integer powers with negative exponents are only defined for |base| == 1.
            match self {
                1 => 1,
                -1 => {
                    if e % 2 == 0 {
                        1
                    } else {
                        -1
                    }
                }
                _ => 0,
            }
        } else {
            self.wrapping_pow(e.min(u32::MAX as i64) as u32)
        }
    }
    #[inline]
    fn floor(self) -> Self {
        self
    }
    #[inline]
    fn ceil(self) -> Self {
        self
    }
    #[inline]
    fn round(self) -> Self {
        self
    }
    #[inline]
    fn trunc(self) -> Self {
        self
    }
    #[inline]
    fn round_decimals(self, _: Self) -> Self {
        self
    }
    #[inline]
    fn fmod(self, y: Self) -> Self {
        if y == 0 {
            0
        } else {
            self.wrapping_rem(y)
        }
    }
    #[inline]
    fn remainder(self, y: Self) -> Self {
        let m = self.fmod(y);
        if m != 0 && (y < 0) != (m < 0) {
            m + y
        } else {
            m
        }
    }
    #[inline]
    fn floor_divide(self, y: Self) -> Self {
        if y == 0 {
            return 0;
        }
        let q = self.wrapping_div(y);
        if self.wrapping_rem(y) != 0 && (self < 0) != (y < 0) {
            q - 1
        } else {
            q
        }
    }
    // (never reached: these ops compute integers as floats)
    #[inline]
    fn atan2(self, y: Self) -> Self {
        (self as f64).atan2(y as f64) as i64
    }
    #[inline]
    fn hypot(self, y: Self) -> Self {
        (self as f64).hypot(y as f64) as i64
    }
    #[inline]
    fn logaddexp(self, y: Self) -> Self {
        (self as f64).logaddexp(y as f64) as i64
    }
}

/// The functions that [`crate::backend::cpu::fastmath`] computes for float32 (they vectorise,
/// within 2 ulp): `fastmath`'s for float32, libm's for float64 (gradchecks need every digit).
macro_rules! fast_math {
    ($($method:ident: $f32:ident, |$x:ident| $f64:expr;)*) => {
        trait FastMath {
            $(fn $method(self) -> Self;)*
        }
        impl FastMath for f32 {
            $(#[inline(always)]
            fn $method(self) -> f32 {
                crate::backend::cpu::fastmath::$f32(self)
            })*
        }
        impl FastMath for f64 {
            $(#[inline(always)]
            fn $method(self) -> f64 {
                let $x = self;
                $f64
            })*
        }
    };
}

fast_math! {
    fast_exp: exp_f32, |x| x.exp();
    fast_tanh: tanh_f32, |x| x.tanh();
    fast_ln: log_f32, |x| x.ln();
    fast_ln_1p: log1p_f32, |x| x.ln_1p();
    fast_erf: erf_f32, |x| c_math::erf(x);
    fast_asin: asin_f32, |x| x.asin();
    fast_acos: acos_f32, |x| x.acos();
    fast_atan: atan_f32, |x| x.atan();
    fast_asinh: asinh_f32, |x| x.asinh();
    fast_sinh: sinh_f32, |x| x.sinh();
    fast_cosh: cosh_f32, |x| x.cosh();
    fast_exp2: exp2_f32, |x| x.exp2();
    fast_exp_m1: expm1_f32, |x| x.exp_m1();
    fast_atanh: atanh_f32, |x| c_math::atanh(x);
}
