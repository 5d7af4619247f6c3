//! Kernels. They see buffers, layouts and numbers; they know nothing of gradients.

pub mod cpu;
pub mod cuda;
pub mod element;

pub use element::{Element, Float, Num};
