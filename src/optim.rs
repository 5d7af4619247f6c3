//! Optimizer steps on tensors: checks, contiguous operands on the parameter's device and
//! dtype, then one kernel of the parameter's backend over parameter, gradient and state
//! (`backend::cpu::optim` and `kernels/optim.cu` hold the update rules).

use crate::bail;
use crate::error::Result;
use crate::tensor::Tensor;

pub use crate::backend::{OptimStep, UpdateRule};

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

/// One optimizer step on `param` with `grad`, the state buffers updated in place (each as
/// `h.n_states()` asks, in the rule's order).
pub fn step(
    param: &Tensor,
    grad: &Tensor,
    states: &[Tensor],
    counter: Option<&Tensor>,
    h: &OptimStep,
) -> Result<()> {
    if states.len() != h.n_states() {
        bail!(
            Runtime,
            "{:?} step with these options takes {} state tensors, got {}",
            h.rule,
            h.n_states(),
            states.len()
        );
    }
    let mut all: Vec<&Tensor> = vec![grad];
    all.extend(states.iter());
    check(param, &all)?;
    if !param.is_contiguous() {
        // Step a contiguous copy, then write it back through the parameter's layout.
        let copy = param.clone_data()?;
        step(&copy, grad, states, counter, h)?;
        return param.copy_from(&copy);
    }
    let g = operand_for(param, grad, &[])?;
    let mut ops: Vec<Tensor> = Vec::with_capacity(states.len());
    for s in states {
        let mut others: Vec<&Tensor> = vec![&g];
        others.extend(ops.iter());
        let t = operand_for(param, s, &others)?;
        ops.push(t);
    }
    {
        let mg = g.storage().read();
        let count = counter.map(|c| (c.storage().read(), c.layout().offset));
        let mut guards: Vec<_> = ops.iter().map(|t| t.storage().write()).collect();
        let st: Vec<_> = guards
            .iter_mut()
            .zip(&ops)
            .map(|(m, t)| (&mut **m, t.layout().offset))
            .collect();
        param.storage().write().optimizer_step(
            param.layout().offset,
            param.numel(),
            (&mg, g.layout().offset),
            st,
            count.as_ref().map(|(m, at)| (&**m, *at)),
            h,
        )?;
    }
    for (original, stepped) in states.iter().zip(&ops) {
        write_back(original, stepped)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::DType;

    fn sgd(lr: f64, momentum: f64, first: bool) -> OptimStep {
        OptimStep {
            rule: UpdateRule::Sgd,
            s: [lr, momentum, 0.0, 0.0, 0.0, 0.0, 0.0],
            weight_decay: 0.0,
            decay: 1.0,
            maximize: false,
            nesterov: false,
            first,
            momentum: momentum != 0.0,
            centered: false,
            amsgrad: false,
            from_step: false,
        }
    }

    #[test]
    fn sgd_with_momentum_matches_the_formula() {
        let p = Tensor::from_vec(vec![1.0f64, 2.0], &[2]);
        let g = Tensor::from_vec(vec![0.5f64, -1.0], &[2]);
        let buf = Tensor::zeros(&[2], DType::F64).unwrap();
        step(
            &p,
            &g,
            std::slice::from_ref(&buf),
            None,
            &sgd(0.1, 0.9, true),
        )
        .unwrap();
        assert_eq!(p.to_vec::<f64>().unwrap(), vec![1.0 - 0.05, 2.0 + 0.1]);
        assert_eq!(buf.to_vec::<f64>().unwrap(), vec![0.5, -1.0]);
        step(
            &p,
            &g,
            std::slice::from_ref(&buf),
            None,
            &sgd(0.1, 0.9, false),
        )
        .unwrap();
        // buf = 0.9 * 0.5 + 0.5 = 0.95
        assert!((buf.to_vec::<f64>().unwrap()[0] - 0.95).abs() < 1e-15);
        assert!((p.to_vec::<f64>().unwrap()[0] - (0.95 - 0.095)).abs() < 1e-15);
    }

    #[test]
    fn a_wrong_number_of_states_is_an_error() {
        let p = Tensor::from_vec(vec![1.0f64, 2.0], &[2]);
        let g = Tensor::from_vec(vec![0.5f64, -1.0], &[2]);
        assert!(step(&p, &g, &[], None, &sgd(0.1, 0.9, true)).is_err());
    }

    #[test]
    fn adam_first_step_moves_by_lr() {
        // On the first step m_hat = g and v_hat = g^2, so the update is lr * sign(g).
        let p = Tensor::from_vec(vec![1.0f64, -1.0], &[2]);
        let g = Tensor::from_vec(vec![3.0f64, -0.2], &[2]);
        let states = [
            Tensor::zeros(&[2], DType::F64).unwrap(),
            Tensor::zeros(&[2], DType::F64).unwrap(),
        ];
        let (lr, b1, b2): (f64, f64, f64) = (0.01, 0.9, 0.999);
        let h = OptimStep {
            rule: UpdateRule::Adam,
            s: [b1, b2, 0.0, lr / (1.0 - b1), (1.0 - b2).sqrt(), 0.0, 0.0],
            ..sgd(0.0, 0.0, false)
        };
        step(&p, &g, &states, None, &h).unwrap();
        let out = p.to_vec::<f64>().unwrap();
        assert!(
            (out[0] - 0.99).abs() < 1e-12 && (out[1] + 0.99).abs() < 1e-12,
            "{out:?}"
        );
    }
}
