//! The element traits the generic kernels are written against.

use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::tensor::storage::Buffer;
use crate::tensor::DType;

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
    fn neg(self) -> Self;
    fn abs(self) -> Self;
    fn powf(self, e: Self) -> Self;
    /// NaN test (always false for integers).
    fn is_nan(self) -> bool;
}

/// Floating-point elements.
pub trait Float: Num + Neg<Output = Self> {
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn sqrt(self) -> Self;
    fn tanh(self) -> Self;
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

impl Element for bool {
    const DTYPE: DType = DType::Bool;
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
    fn to_f64(self) -> f64 {
        self as u8 as f64
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

macro_rules! float {
    ($t:ty) => {
        impl Num for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline]
            fn neg(self) -> Self {
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
        }
        impl Float for $t {
            #[inline(always)]
            fn exp(self) -> Self {
                fast_exp(self)
            }
            #[inline]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
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
    fn neg(self) -> Self {
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
