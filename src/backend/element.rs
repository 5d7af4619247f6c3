//! The element traits the generic kernels are written against.

use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::base::{Bool8, Buffer, DType};

/// Any storable element.
pub trait Element: Copy + Send + Sync + PartialOrd + PartialEq + Default + 'static {
    const DTYPE: DType;
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
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

    /// -1, 0 or 1 (NaN stays NaN).
    #[inline]
    fn sign(self) -> Self {
        if self > Self::ZERO {
            Self::ONE
        } else if self < Self::ZERO {
            Self::ZERO - Self::ONE
        } else {
            self
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
        $m!(ln sqrt tanh sin cos tan asin acos atan sinh cosh asinh acosh atanh exp2 exp_m1
            ln_1p log2 log10 floor ceil round trunc fract recip cbrt);
    };
}

macro_rules! declare_libm {
    ($($f:ident)*) => {
        $(fn $f(self) -> Self;)*
    };
}

/// Floating-point elements.
pub trait Float: Num + Neg<Output = Self> {
    /// `e^self`: vectorised for float32 (see `FastExp` below), libm's for float64.
    fn exp(self) -> Self;
    libm_functions!(declare_libm);
    const NEG_INFINITY: Self;
    const INFINITY: Self;
}

macro_rules! element {
    ($t:ty, $variant:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$variant;
            #[inline]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
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
}
element!(f32, F32);
element!(f64, F64);
element!(i64, I64);

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
    ($t:ty) => {
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
                fast_exp(self)
            }
            libm_functions!(define_libm);
            const NEG_INFINITY: Self = <$t>::NEG_INFINITY;
            const INFINITY: Self = <$t>::INFINITY;
        }
    };
}
float!(f32);
float!(f64);

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
}

/// `exp` through [`crate::backend::cpu::fastmath`] for float32 (it vectorises), the
/// correctly rounded libm `exp` for float64 (gradchecks need every digit).
trait FastExp {
    fn fast(self) -> Self;
}

impl FastExp for f32 {
    #[inline(always)]
    fn fast(self) -> f32 {
        crate::backend::cpu::fastmath::exp_f32(self)
    }
}

impl FastExp for f64 {
    #[inline(always)]
    fn fast(self) -> f64 {
        self.exp()
    }
}

#[inline(always)]
fn fast_exp<T: FastExp>(x: T) -> T {
    x.fast()
}
