//! Optimizer updates, one pass over each parameter's memory (PyTorch's single-tensor rules,
//! same order of operations, so results match it to rounding).

use crate::backend::cuda::ops as cuda_ops;
use crate::backend::{Element, Float};
use crate::bail;
use crate::error::Result;
use crate::tensor::{DType, Tensor};

pub use crate::backend::{Adam, Sgd};

/// Checks dtypes and shapes before a step.
fn check(param: &Tensor, others: &[&Tensor]) -> Result<()> {
    if !param.dtype().is_float() {
        bail!(
            Runtime,
            "optimizers need floating-point parameters, got {}",
            param.dtype().name()
        );
    }
    for t in others {
        if t.shape() != param.shape() {
            bail!(
                Runtime,
                "gradient or optimizer state of shape {:?} does not match parameter of shape {:?}",
                t.shape(),
                param.shape()
            );
        }
    }
    Ok(())
}

/// A contiguous copy of `t` in `dtype`, as a vector (it may share storage with the param).
fn values<T: Element>(t: &Tensor) -> Result<Vec<T>> {
    t.to_vec::<T>()
}

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

/// Runs `update` on the parameter's `len` elements under its storage's write lock.
fn update_in_place<T: Float>(param: &Tensor, len: usize, update: impl FnOnce(&mut [T])) {
    let mut storage = param.storage().write();
    let offset = param.layout().offset;
    update(&mut T::slice_mut(&mut storage)[offset..offset + len]);
}

/// One SGD step on `param`; returns the new momentum buffer when one was created.
pub fn sgd_step(
    param: &Tensor,
    grad: &Tensor,
    buffer: Option<&Tensor>,
    h: &Sgd,
) -> Result<Option<Tensor>> {
    match buffer {
        Some(b) => check(param, &[grad, b])?,
        None => check(param, &[grad])?,
    }
    if !param.is_contiguous() {
        // Step a contiguous copy, then write it back through the parameter's layout.
        let copy = param.clone_data()?;
        let created = sgd_step(&copy, grad, buffer, h)?;
        param.copy_from(&copy)?;
        return Ok(created);
    }
    if param.is_cuda() {
        return sgd_cuda(param, grad, buffer, h);
    }
    match param.dtype() {
        DType::F64 => sgd_typed::<f64>(param, grad, buffer, h),
        _ => sgd_typed::<f32>(param, grad, buffer, h),
    }
}

fn sgd_typed<T: Float>(
    param: &Tensor,
    grad: &Tensor,
    buffer: Option<&Tensor>,
    h: &Sgd,
) -> Result<Option<Tensor>> {
    let g = values::<T>(grad)?;
    let (lr, mom, damp, wd) = (
        T::from_f64(h.lr),
        T::from_f64(h.momentum),
        T::from_f64(h.dampening),
        T::from_f64(h.weight_decay),
    );
    let mut buf: Option<Vec<T>> = buffer.map(values::<T>).transpose()?;
    let created = h.momentum != 0.0 && buf.is_none();
    if created {
        buf = Some(vec![T::ZERO; g.len()]);
    }
    update_in_place(param, g.len(), |p: &mut [T]| {
        for i in 0..p.len() {
            let mut d = effective_grad(g[i], p[i], h.maximize, wd);
            if let Some(b) = buf.as_mut() {
                b[i] = if created {
                    d
                } else {
                    b[i] * mom + (T::ONE - damp) * d
                };
                d = if h.nesterov { d + mom * b[i] } else { b[i] };
            }
            p[i] = p[i] - lr * d;
        }
    });
    let Some(b) = buf else { return Ok(None) };
    let updated = Tensor::from_vec(b, param.shape());
    match buffer {
        Some(existing) => {
            existing.copy_from(&updated)?;
            Ok(None)
        }
        None => Ok(Some(updated)),
    }
}

/// One Adam step (`step` counts this step, starting at 1); the moment estimates are updated
/// in place.
pub fn adam_step(
    param: &Tensor,
    grad: &Tensor,
    exp_avg: &Tensor,
    exp_avg_sq: &Tensor,
    step: u64,
    h: &Adam,
) -> Result<()> {
    check(param, &[grad, exp_avg, exp_avg_sq])?;
    if !param.is_contiguous() {
        let copy = param.clone_data()?;
        adam_step(&copy, grad, exp_avg, exp_avg_sq, step, h)?;
        return param.copy_from(&copy);
    }
    if param.is_cuda() {
        return adam_cuda(param, grad, exp_avg, exp_avg_sq, step, h);
    }
    match param.dtype() {
        DType::F64 => adam_typed::<f64>(param, grad, exp_avg, exp_avg_sq, step, h),
        _ => adam_typed::<f32>(param, grad, exp_avg, exp_avg_sq, step, h),
    }
}

fn adam_typed<T: Float>(
    param: &Tensor,
    grad: &Tensor,
    exp_avg: &Tensor,
    exp_avg_sq: &Tensor,
    step: u64,
    h: &Adam,
) -> Result<()> {
    let g = values::<T>(grad)?;
    let mut m = values::<T>(exp_avg)?;
    let mut v = values::<T>(exp_avg_sq)?;
    let (b1, b2) = (T::from_f64(h.beta1), T::from_f64(h.beta2));
    let wd = T::from_f64(h.weight_decay);
    let at = h.at_step(step);
    let step_size = T::from_f64(at.step_size);
    let bc2_sqrt = T::from_f64(at.bias_correction2_sqrt);
    let eps = T::from_f64(h.eps);
    let weight = T::ONE - b1;
    update_in_place(param, g.len(), |p: &mut [T]| {
        for i in 0..p.len() {
            let gi = effective_grad(g[i], p[i], h.maximize, wd);
            // lerp(m, g, 1 - beta1), written as PyTorch's lerp does for small weights.
            m[i] = m[i] + weight * (gi - m[i]);
            v[i] = v[i] * b2 + (T::ONE - b2) * gi * gi;
            let denom = v[i].sqrt() / bc2_sqrt + eps;
            p[i] = p[i] - step_size * (m[i] / denom);
        }
    });
    exp_avg.copy_from(&Tensor::from_vec(m, param.shape()))?;
    exp_avg_sq.copy_from(&Tensor::from_vec(v, param.shape()))?;
    Ok(())
}

/// `t` on the parameter's device in its dtype, contiguous (a copy only when it must be).
fn operand_for(param: &Tensor, t: &Tensor) -> Result<Tensor> {
    t.to_device(param.device())?
        .cast(param.dtype())?
        .contiguous()
}

/// Writes a stepped copy back when the state tensor could not be updated in place.
fn write_back(original: &Tensor, stepped: &Tensor) -> Result<()> {
    if !original.shares_storage(stepped) {
        original.copy_from(stepped)?;
    }
    Ok(())
}

/// SGD on a contiguous CUDA parameter: one kernel over parameter, gradient and momentum.
fn sgd_cuda(
    param: &Tensor,
    grad: &Tensor,
    buffer: Option<&Tensor>,
    h: &Sgd,
) -> Result<Option<Tensor>> {
    let g = operand_for(param, grad)?;
    let created = h.momentum != 0.0 && buffer.is_none();
    let buf = match buffer {
        Some(b) => Some(operand_for(param, b)?),
        None if created => Some(Tensor::zeros_on(
            param.shape(),
            param.dtype(),
            param.device(),
        )?),
        None => None,
    };
    let n = param.numel();
    param.storage().bump_version();
    param.cuda_parts(|pb, po| {
        g.cuda_parts(|gb, go| match &buf {
            Some(b) => b.cuda_parts(|bb, bo| {
                cuda_ops::sgd_step((pb, po), (gb, go), Some((bb, bo)), created, n, h)
            }),
            None => cuda_ops::sgd_step((pb, po), (gb, go), None, false, n, h),
        })
    })?;
    match (buffer, buf) {
        (Some(existing), Some(b)) => {
            write_back(existing, &b)?;
            Ok(None)
        }
        (None, b) => Ok(b),
        (Some(_), None) => Ok(None),
    }
}

/// Adam on a contiguous CUDA parameter: one kernel over parameter, gradient and moments.
fn adam_cuda(
    param: &Tensor,
    grad: &Tensor,
    exp_avg: &Tensor,
    exp_avg_sq: &Tensor,
    step: u64,
    h: &Adam,
) -> Result<()> {
    let g = operand_for(param, grad)?;
    let (m, v) = (
        operand_for(param, exp_avg)?,
        operand_for(param, exp_avg_sq)?,
    );
    let at = h.at_step(step);
    let n = param.numel();
    param.storage().bump_version();
    param.cuda_parts(|pb, po| {
        g.cuda_parts(|gb, go| {
            m.cuda_parts(|mb, mo| {
                v.cuda_parts(|vb, vo| {
                    cuda_ops::adam_step((pb, po), (gb, go), (mb, mo), (vb, vo), n, h, at)
                })
            })
        })
    })?;
    write_back(exp_avg, &m)?;
    write_back(exp_avg_sq, &v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgd_with_momentum_matches_the_formula() {
        let p = Tensor::from_vec(vec![1.0f64, 2.0], &[2]);
        let g = Tensor::from_vec(vec![0.5f64, -1.0], &[2]);
        let h = Sgd {
            lr: 0.1,
            momentum: 0.9,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
        };
        let buf = sgd_step(&p, &g, None, &h).unwrap().unwrap();
        assert_eq!(p.to_vec::<f64>().unwrap(), vec![1.0 - 0.05, 2.0 + 0.1]);
        assert_eq!(buf.to_vec::<f64>().unwrap(), vec![0.5, -1.0]);
        assert!(sgd_step(&p, &g, Some(&buf), &h).unwrap().is_none());
        // buf = 0.9 * 0.5 + 0.5 = 0.95
        assert!((buf.to_vec::<f64>().unwrap()[0] - 0.95).abs() < 1e-15);
        assert!((p.to_vec::<f64>().unwrap()[0] - (0.95 - 0.095)).abs() < 1e-15);
    }

    #[test]
    fn adam_first_step_moves_by_lr() {
        // On the first step m_hat = g and v_hat = g^2, so the update is lr * sign(g).
        let p = Tensor::from_vec(vec![1.0f64, -1.0], &[2]);
        let g = Tensor::from_vec(vec![3.0f64, -0.2], &[2]);
        let (m, v) = (
            Tensor::zeros(&[2], DType::F64).unwrap(),
            Tensor::zeros(&[2], DType::F64).unwrap(),
        );
        let h = Adam {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 0.0,
            weight_decay: 0.0,
            maximize: false,
        };
        adam_step(&p, &g, &m, &v, 1, &h).unwrap();
        let out = p.to_vec::<f64>().unwrap();
        assert!(
            (out[0] - 0.99).abs() < 1e-12 && (out[1] + 0.99).abs() < 1e-12,
            "{out:?}"
        );
    }
}
