//! Element types and PyTorch's type-promotion rules.

/// The element types a tensor can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    Bool,
    I64,
    F32,
    F64,
}

impl DType {
    /// The name PyTorch prints after `torch.` (`float32`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I64 => "int64",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    /// PyTorch's C++ scalar-type name, as its error messages print it (`Float`, `Long`).
    pub fn scalar_name(self) -> &'static str {
        match self {
            DType::Bool => "Bool",
            DType::I64 => "Long",
            DType::F32 => "Float",
            DType::F64 => "Double",
        }
    }

    /// The legacy tensor-type name used in some error messages (`FloatTensor`).
    pub fn legacy_name(self) -> &'static str {
        match self {
            DType::Bool => "BoolTensor",
            DType::I64 => "LongTensor",
            DType::F32 => "FloatTensor",
            DType::F64 => "DoubleTensor",
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    pub fn size_of(self) -> usize {
        match self {
            DType::Bool => 1,
            DType::I64 | DType::F64 => 8,
            DType::F32 => 4,
        }
    }

    /// Promotion of two tensors' types (both of the same "dimension category").
    pub fn promote(self, other: DType) -> DType {
        // The enum is declared in promotion order.
        if (self as u8) >= (other as u8) {
            self
        } else {
            other
        }
    }

    /// The floating type an op such as `exp` computes in (integers go to float32).
    pub fn to_float(self) -> DType {
        if self.is_float() {
            self
        } else {
            DType::F32
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
/// (`torch.get_default_dtype()`): float32 unless `set_default_float` chose float64.
static DEFAULT_FLOAT_IS_F64: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

pub fn default_float() -> DType {
    if DEFAULT_FLOAT_IS_F64.load(std::sync::atomic::Ordering::Relaxed) {
        DType::F64
    } else {
        DType::F32
    }
}

/// `torch.set_default_dtype`: float32 or float64 (callers check that `dtype` is floating).
pub fn set_default_float(dtype: DType) {
    DEFAULT_FLOAT_IS_F64.store(dtype == DType::F64, std::sync::atomic::Ordering::Relaxed);
}

impl Scalar {
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
