//! Kernels. They see buffers, layouts and numbers; they know nothing of gradients.

pub mod cpu;
pub mod cuda;
pub mod element;

pub use element::{Element, Float, Num};

/// Hyper-parameters of SGD (the update rules both backends' kernels apply).
#[derive(Clone, Copy, Debug)]
pub struct Sgd {
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
    pub maximize: bool,
}

/// Hyper-parameters of Adam.
#[derive(Clone, Copy, Debug)]
pub struct Adam {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub maximize: bool,
}
