//! One error type for the whole core; `src/python/` maps each kind to a Python exception.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
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
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Runtime(m)
            | Error::Index(m)
            | Error::Type(m)
            | Error::Value(m)
            | Error::Memory(m) => f.write_str(m),
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
