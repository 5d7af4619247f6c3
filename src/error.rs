//! One error type for the whole core; `src/python/` maps each kind to a Python exception.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

#[derive(Clone)]
pub enum Error {
    /// `RuntimeError` in Python: shape mismatches, autograd misuse, bad views.
    Runtime(String),
    /// `IndexError`: dimension or index out of range.
    Index(String),
    /// `TypeError`: wrong kind of argument.
    Type(String),
    /// `ValueError`: right kind, bad value (ragged lists, ...).
    Value(String),
    /// `MemoryError`: an allocation that cannot be satisfied.
    Memory(String),
    /// `NotImplementedError`: an op PyTorch has no kernel for in this dtype (`bool ** bool`).
    NotImplemented(String),
    /// An error raised by user code the core called back into (a Python hook or custom
    /// function), carried through unchanged for the binding layer to re-raise.
    Foreign(Arc<dyn Any + Send + Sync>, String),
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({self})")
    }
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Runtime(m)
            | Error::Index(m)
            | Error::Type(m)
            | Error::Value(m)
            | Error::Memory(m)
            | Error::NotImplemented(m)
            | Error::Foreign(_, m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

/// `return Err(Error::Runtime(format!(...)))` in one line.
#[macro_export]
macro_rules! bail {
    ($kind:ident, $($arg:tt)*) => {
        return Err($crate::error::Error::$kind(format!($($arg)*)))
    };
}
