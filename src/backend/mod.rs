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

/// Adam's constants for one step (`step` counts from 1), computed once on the host in f64 as
/// PyTorch does: the step size `lr / (1 - beta1^step)` and `sqrt(1 - beta2^step)`.
#[derive(Clone, Copy, Debug)]
pub struct AdamStep {
    pub step_size: f64,
    pub bias_correction2_sqrt: f64,
}

impl Adam {
    pub fn at_step(&self, step: u64) -> AdamStep {
        AdamStep {
            step_size: self.lr / (1.0 - self.beta1.powi(step as i32)),
            bias_correction2_sqrt: (1.0 - self.beta2.powi(step as i32)).sqrt(),
        }
    }
}
