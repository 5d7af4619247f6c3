//! Optimizer updates, one pass over each parameter's memory (PyTorch's single-tensor rules,
//! same order of operations, so results match it to rounding).

use crate::backend::{Adam, AdamStep, Float, Sgd};

/// The gradient a step uses: negated for `maximize`, with weight decay added.
#[inline]
fn effective_grad<T: Float>(g: T, p: T, maximize: bool, weight_decay: T) -> T {
    let g = if maximize { -g } else { g };
    if weight_decay != T::ZERO {
        g + weight_decay * p
    } else {
        g
    }
}

/// One SGD step; `momentum` is the momentum buffer (`first`: just created, it takes `d`).
pub fn sgd<T: Float>(p: &mut [T], g: &[T], mut momentum: Option<&mut [T]>, first: bool, h: &Sgd) {
    let (lr, mom, damp, wd) = (
        T::from_f64(h.lr),
        T::from_f64(h.momentum),
        T::from_f64(h.dampening),
        T::from_f64(h.weight_decay),
    );
    for i in 0..p.len() {
        let mut d = effective_grad(g[i], p[i], h.maximize, wd);
        if let Some(b) = momentum.as_mut() {
            b[i] = if first {
                d
            } else {
                b[i] * mom + (T::ONE - damp) * d
            };
            d = if h.nesterov { d + mom * b[i] } else { b[i] };
        }
        p[i] = p[i] - lr * d;
    }
}

/// One Adam step with this step's constants `at`; the moments are updated in place.
pub fn adam<T: Float>(p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], h: &Adam, at: AdamStep) {
    let (b1, b2) = (T::from_f64(h.beta1), T::from_f64(h.beta2));
    let wd = T::from_f64(h.weight_decay);
    let step_size = T::from_f64(at.step_size);
    let bc2_sqrt = T::from_f64(at.bias_correction2_sqrt);
    let eps = T::from_f64(h.eps);
    let weight = T::ONE - b1;
    for i in 0..p.len() {
        let gi = effective_grad(g[i], p[i], h.maximize, wd);
        // lerp(m, g, 1 - beta1), written as PyTorch's lerp does for small weights.
        m[i] = m[i] + weight * (gi - m[i]);
        v[i] = v[i] * b2 + (T::ONE - b2) * gi * gi;
        let denom = v[i].sqrt() / bc2_sqrt + eps;
        p[i] = p[i] - step_size * (m[i] / denom);
    }
}
