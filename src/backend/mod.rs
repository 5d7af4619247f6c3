//! Kernels. They see slices, layouts and numbers; they know nothing of gradients.

pub mod cpu;
pub mod element;

pub use element::{Element, Float, Num};
