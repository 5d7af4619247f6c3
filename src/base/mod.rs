//! The leaf of the crate: element types, devices, layouts and host buffers. Everything else
//! builds on these; they depend on nothing but the error type.

pub mod buffer;
pub mod device;
pub mod dtype;
pub mod layout;

pub use buffer::{Buffer, Foreign};
pub use device::Device;
pub use dtype::{Bool8, DType, Kind, Scalar};
pub use layout::{Layout, Shape, Strides};
