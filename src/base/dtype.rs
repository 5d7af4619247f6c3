//! Element types and PyTorch's type-promotion rules.

/// A bool element as stored: one byte. Python can write any byte into a bool tensor's memory
/// (through `numpy()` or a shared `from_numpy` array), and a Rust `bool` holding anything but
/// 0 or 1 is undefined behaviour, so storage never holds `bool`: every read goes through
/// [`Bool8::get`], where any nonzero byte is true (PyTorch's normalisation). Comparisons use
/// that value too, so bytes 1 and 2 are equal.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Bool8(u8);

impl Bool8 {
    #[inline]
    pub const fn new(b: bool) -> Bool8 {
        Bool8(b as u8)
    }

    #[inline]
    pub const fn get(self) -> bool {
        self.0 != 0
    }
}

impl From<bool> for Bool8 {
    #[inline]
    fn from(b: bool) -> Bool8 {
        Bool8::new(b)
    }
}

impl PartialEq for Bool8 {
    #[inline]
    fn eq(&self, other: &Bool8) -> bool {
        self.get() == other.get()
    }
}

impl PartialOrd for Bool8 {
    #[inline]
    fn partial_cmp(&self, other: &Bool8) -> Option<std::cmp::Ordering> {
        self.get().partial_cmp(&other.get())
    }
}

/// The dtype table: one line per dtype, in PyTorch's `ScalarType` order (bool first here):
/// variant, Rust element type, PyTorch's name, its C++ scalar name (error messages: `Float`,
/// `Long`), its legacy tensor type, its kind. `$m!` receives `@ $pre` (if given) and then the lines; the
/// enum, the host buffers and the CPU kernels' dispatch are all expanded from it.
#[macro_export]
macro_rules! dtype_table {
    ($($m:ident)::+ $(@ $($pre:tt)*)?) => {
        $($m)::+! { $(@ $($pre)*)?
            Bool $crate::base::Bool8, "bool" "Bool" "BoolTensor" Bool;
            U8 u8, "uint8" "Byte" "ByteTensor" Int;
            I8 i8, "int8" "Char" "CharTensor" Int;
            I16 i16, "int16" "Short" "ShortTensor" Int;
            I32 i32, "int32" "Int" "IntTensor" Int;
            I64 i64, "int64" "Long" "LongTensor" Int;
            F16 half::f16, "float16" "Half" "HalfTensor" Float;
            BF16 half::bf16, "bfloat16" "BFloat16" "BFloat16Tensor" Float;
            F32 f32, "float32" "Float" "FloatTensor" Float;
            F64 f64, "float64" "Double" "DoubleTensor" Float;
        }
    };
}

/// Bool < integer < floating: PyTorch's promotion categories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Bool,
    Int,
    Float,
}

macro_rules! define_dtype {
    ($($V:ident $T:ty, $name:literal $scalar:literal $legacy:literal $kind:ident;)*) => {
        /// The element types a tensor can hold.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum DType {
            $($V,)*
        }

        impl DType {
            /// Every dtype, in table order.
            pub const ALL: &'static [DType] = &[$(DType::$V,)*];

            /// The name PyTorch prints after `torch.` (`float32`, ...).
            pub fn name(self) -> &'static str {
                match self { $(DType::$V => $name,)* }
            }

            /// PyTorch's C++ scalar-type name, as its error messages print it (`Float`, `Long`).
            pub fn scalar_name(self) -> &'static str {
                match self { $(DType::$V => $scalar,)* }
            }

            /// The legacy tensor-type name used in some error messages (`FloatTensor`).
            pub fn legacy_name(self) -> &'static str {
                match self { $(DType::$V => $legacy,)* }
            }

            pub fn kind(self) -> Kind {
                match self { $(DType::$V => Kind::$kind,)* }
            }

            pub fn size_of(self) -> usize {
                match self { $(DType::$V => std::mem::size_of::<$T>(),)* }
            }
        }
    };
}
dtype_table!(define_dtype);

impl DType {
    /// The C++ type's name (`caffe2::TypeMeta`), as some of PyTorch's messages print it.
    pub fn c_name(self) -> &'static str {
        match self {
            DType::F32 => "float",
            DType::F64 => "double",
            DType::I64 => "long int",
            DType::I32 => "int",
            DType::I16 => "short int",
            DType::I8 => "signed char",
            DType::U8 => "unsigned char",
            DType::F16 => "c10::Half",
            DType::BF16 => "c10::BFloat16",
            DType::Bool => "bool",
        }
    }

    pub fn is_float(self) -> bool {
        self.kind() == Kind::Float
    }

    /// Integer or bool.
    pub fn is_integral(self) -> bool {
        self.kind() != Kind::Float
    }

    pub fn is_signed(self) -> bool {
        !matches!(self, DType::Bool | DType::U8)
    }

    /// The type kernels compute in: the small integers in int64 and the half floats in
    /// float32, rounded back to the storage type afterwards (what PyTorch's CPU kernels do for
    /// the half types; for the integers, wrapping arithmetic gives the same bits).
    pub fn compute(self) -> DType {
        match self {
            DType::U8 | DType::I8 | DType::I16 | DType::I32 => DType::I64,
            DType::F16 | DType::BF16 => DType::F32,
            d => d,
        }
    }

    /// PyTorch's `promote_types`: the higher category wins; within the integers the wider
    /// type, except that uint8 with a signed type needs the next signed size (uint8 + int8 is
    /// int16); float16 with bfloat16 is float32, otherwise the wider float.
    pub fn promote(self, other: DType) -> DType {
        use DType::*;
        if self == other {
            return self;
        }
        match (self.kind(), other.kind()) {
            (a, b) if a != b => {
                if a > b {
                    self
                } else {
                    other
                }
            }
            (Kind::Float, _) => match (self, other) {
                (F16, BF16) | (BF16, F16) => F32,
                _ if self.size_of() >= other.size_of() => self,
                _ => other,
            },
            _ => match (self, other) {
                (U8, s) | (s, U8) => match s {
                    I8 => I16,
                    s => s,
                },
                _ if self.size_of() >= other.size_of() => self,
                _ => other,
            },
        }
    }

    /// The floating type an op such as `exp` computes in (integers go to the default
    /// floating dtype).
    pub fn to_float(self) -> DType {
        if self.is_float() {
            self
        } else {
            default_float()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DType::*;

    #[test]
    fn promotion_follows_pytorch() {
        assert_eq!(F32.promote(F64), F64);
        assert_eq!(I64.promote(F32), F32);
        assert_eq!(Bool.promote(I64), I64);
        assert_eq!(Bool.promote(Bool), Bool);
        assert_eq!(I64.to_float(), F32);
        assert_eq!(F64.to_float(), F64);
        assert_eq!(U8.promote(I8), I16);
        assert_eq!(I8.promote(U8), I16);
        assert_eq!(U8.promote(I32), I32);
        assert_eq!(F16.promote(BF16), F32);
        assert_eq!(BF16.promote(I64), BF16);
        assert_eq!(Bool.promote(U8), U8);
        assert_eq!(I16.promote(I32), I32);
        assert_eq!(F16.promote(F64), F64);
    }

    #[test]
    fn bool8_reads_any_nonzero_byte_as_true() {
        use super::Bool8;
        // Bytes Python may write: 2 and 255 are true and equal to 1.
        let [one, two, max]: [Bool8; 3] = unsafe { std::mem::transmute([1u8, 2, 255]) };
        assert!(two.get() && max.get());
        assert!(one == two && two == max);
        assert!(Bool8::new(false) < two);
    }
}

/// A Python number as PyTorch wraps it beside a tensor: its kind (bool, int, float) decides
/// the result's dtype, and an integer keeps all 64 bits (never through `f64`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
}

impl From<f64> for Scalar {
    fn from(v: f64) -> Scalar {
        Scalar::Float(v)
    }
}

/// The floating dtype of Python floats and of float creation without a `dtype=`
/// (`torch.get_default_dtype()`): float32 unless `set_default_float` chose another.
static DEFAULT_FLOAT: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// [`DEFAULT_FLOAT`]'s codes.
const DEFAULT_FLOATS: [DType; 4] = [DType::F32, DType::F64, DType::F16, DType::BF16];

pub fn default_float() -> DType {
    DEFAULT_FLOATS[DEFAULT_FLOAT.load(std::sync::atomic::Ordering::Relaxed) as usize % 4]
}

/// `torch.set_default_dtype`: one of the floating dtypes (callers check that `dtype` is one).
pub fn set_default_float(dtype: DType) {
    if let Some(code) = DEFAULT_FLOATS.iter().position(|&d| d == dtype) {
        DEFAULT_FLOAT.store(code as u8, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Scalar {
    /// PyTorch's `checked_convert` of a value filling `numel` elements of `dtype` (`fill_`,
    /// `full`, `x[i] = v`): "value cannot be converted to type uint8_t without overflow".
    /// Integers down to -max wrap into uint8; a float into an integer type must lie within its
    /// range before truncation; NaN fits only float types; infinities fit every float type;
    /// a bool fits anything. A single element of a half type is written unchecked (PyTorch
    /// fills one element through another path: `full((1,), 7e4, dtype=float16)` is inf).
    pub fn check_fits(self, dtype: DType, numel: usize) -> crate::error::Result<()> {
        use DType::*;
        let (c_name, lo, hi) = match dtype {
            Bool => return Ok(()),
            U8 => ("uint8_t", 0.0, 255.0),
            I8 => ("int8_t", -128.0, 127.0),
            I16 => ("int16_t", -32768.0, 32767.0),
            I32 => ("int", -2147483648.0, 2147483647.0),
            I64 => ("int64_t", -(2f64.powi(63)), 2f64.powi(63)),
            F16 => ("c10::Half", -65504.0, 65504.0),
            BF16 => ("c10::BFloat16", -f32::MAX as f64, f32::MAX as f64),
            F32 => ("float", -f32::MAX as f64, f32::MAX as f64),
            F64 => return Ok(()),
        };
        if numel == 1 && matches!(dtype, F16 | BF16) {
            return Ok(());
        }
        let overflows = match self {
            Scalar::Bool(_) => false,
            Scalar::Int(i) => match dtype {
                U8 => !(-255..=255).contains(&i),
                I64 => false,
                _ => (i as f64) < lo || (i as f64) > hi,
            },
            Scalar::Float(f) if dtype.is_float() => f.is_finite() && (f < lo || f > hi),
            // (int64's bounds: 2^63 itself does not fit)
            Scalar::Float(f) if dtype == I64 => f.is_nan() || f < lo || f >= hi,
            Scalar::Float(f) => f.is_nan() || f < lo || f > hi,
        };
        if overflows {
            crate::bail!(
                Runtime,
                "value cannot be converted to type {c_name} without overflow"
            );
        }
        Ok(())
    }

    pub fn is_float(self) -> bool {
        matches!(self, Scalar::Float(_))
    }

    pub fn to_f64(self) -> f64 {
        match self {
            Scalar::Bool(b) => b as u8 as f64,
            Scalar::Int(i) => i as f64,
            Scalar::Float(f) => f,
        }
    }

    /// The dtype PyTorch gives the number alone (`torch.tensor(1)` is int64).
    pub fn default_dtype(self) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::Int(_) => DType::I64,
            Scalar::Float(_) => default_float(),
        }
    }

    /// The dtype of a 0-d tensor of this number beside a tensor of `like` (PyTorch's
    /// "wrapped number" rule: the tensor's dtype wins unless the number is of a higher
    /// category — bool < integer < floating — which then gives its default dtype).
    pub fn dtype_beside(self, like: DType) -> DType {
        match (like, self) {
            (like, _) if like.is_float() => like,
            (_, Scalar::Float(_)) => default_float(),
            (DType::Bool, Scalar::Int(_)) => DType::I64,
            (like, _) => like,
        }
    }
}
