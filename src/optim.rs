//! Optimizer steps on tensors: checks, contiguous operands on the parameter's device and
//! dtype, then one kernel of the parameter's backend over parameter, gradient and state
//! (`backend::cpu::optim` and `kernels/optim.cu` hold the update rules).

use crate::bail;
use crate::error::Result;
use crate::tensor::Tensor;

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

/// `t` on the parameter's device in its dtype, contiguous, in memory of its own: a copy
/// only when it must be (state already in that form is updated in place).
fn operand_for(param: &Tensor, t: &Tensor, others: &[&Tensor]) -> Result<Tensor> {
    let t = t
        .to_device(param.device())?
        .cast(param.dtype())?
        .contiguous()?;
    // Each operand is locked separately for the kernel: none may share another's memory.
    if t.shares_storage(param) || others.iter().any(|o| t.shares_storage(o)) {
        return t.clone_data();
    }
    Ok(t)
}

/// Writes a stepped copy back when the state tensor could not be updated in place.
fn write_back(original: &Tensor, stepped: &Tensor) -> Result<()> {
    if !original.shares_storage(stepped) {
        original.copy_from(stepped)?;
    }
    Ok(())
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
    let g = operand_for(param, grad, &[])?;
    let created = h.momentum != 0.0 && buffer.is_none();
    let buf = match buffer {
        Some(b) => Some(operand_for(param, b, &[&g])?),
        None if created => Some(Tensor::zeros_on(
            param.shape(),
            param.dtype(),
            param.device(),
        )?),
        None => None,
    };
    {
        let mg = g.storage().read();
        let mut mb = buf.as_ref().map(|b| b.storage().write());
        let momentum = mb
            .as_deref_mut()
            .zip(buf.as_ref())
            .map(|(m, b)| (m, b.layout().offset, created));
        param.storage().write().sgd_step(
            param.layout().offset,
            param.numel(),
            (&mg, g.layout().offset),
            momentum,
            h,
        )?;
    }
    match (buffer, buf) {
        (Some(existing), Some(b)) => {
            write_back(existing, &b)?;
            Ok(None)
        }
        (None, b) => Ok(b),
        (Some(_), None) => Ok(None),
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
    let g = operand_for(param, grad, &[])?;
    let m = operand_for(param, exp_avg, &[&g])?;
    let v = operand_for(param, exp_avg_sq, &[&g, &m])?;
    {
        let mg = g.storage().read();
        let (mut mm, mut mv) = (m.storage().write(), v.storage().write());
        param.storage().write().adam_step(
            param.layout().offset,
            param.numel(),
            (&mg, g.layout().offset),
            (&mut mm, m.layout().offset),
            (&mut mv, v.layout().offset),
            h,
            step,
        )?;
    }
    write_back(exp_avg, &m)?;
    write_back(exp_avg_sq, &v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::DType;

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
