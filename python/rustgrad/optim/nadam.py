"""``optim.NAdam``, as ``torch.optim.NAdam``."""

from rustgrad import _core
from rustgrad.autograd.grad_mode import no_grad
from rustgrad.optim.adam import _check_betas, _zeros
from rustgrad.optim.optimizer import (
    Optimizer,
    _advance,
    _check_unsupported,
    _new_step,
    _optimizer_step,
)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam (Adam with Nesterov momentum, Dozat 2016) with PyTorch's update rule, at step
    ``t``, with ``mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))`` and ``mu_product``
    their running product (a 0-d float32 tensor in the state, as PyTorch's):

    .. code-block:: text

        p = p * (1 - lr * weight_decay)           (decoupled_weight_decay)
        g = g + weight_decay * p                  (otherwise, if weight_decay != 0)
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        d = sqrt(v / (1 - beta2**t)) + eps
        p = p - lr * (1 - mu_t) / (1 - mu_product) * g / d
              - lr * mu_{t+1} / (1 - mu_product * mu_{t+1}) * m / d

    Each update is one pass over the parameter in Rust.
    """

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        momentum_decay=4e-3,
        decoupled_weight_decay=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
    ):
        _check_betas(lr, betas, eps, weight_decay)
        if momentum_decay < 0.0:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        _check_unsupported(capturable=capturable, differentiable=differentiable)
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = (float(b) for b in group["betas"])
            lr, wd = float(group["lr"]), float(group["weight_decay"])
            momentum_decay = float(group["momentum_decay"])
            decoupled = bool(group["decoupled_weight_decay"])
            for param, grad, state in self._with_grads(group):
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["mu_product"] = _core.tensor(1.0, dtype=_core.float32, device="cpu")
                    state["exp_avg"] = _zeros(param)
                    state["exp_avg_sq"] = _zeros(param)
                step = _advance(state)
                bias_correction2 = 1 - beta2**step
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                mu_product = state["mu_product"]
                # In the state's dtype (float32 unless loaded otherwise), as PyTorch's.
                mu_product.mul_(mu)
                product = mu_product.item()
                coef_grad = -lr * (1.0 - mu) / (1.0 - product)
                coef_avg = (-lr * mu_next) / (1.0 - product * mu_next)
                with no_grad():
                    _optimizer_step(
                        "nadam",
                        param,
                        grad,
                        [state["exp_avg"], state["exp_avg_sq"]],
                        [beta1, beta2, float(group["eps"]), bias_correction2, coef_grad, coef_avg],
                        weight_decay=0.0 if decoupled else wd,
                        decay=1 - lr * wd if decoupled and wd != 0 else 1.0,
                        maximize=bool(group["maximize"]),
                    )
        return loss
