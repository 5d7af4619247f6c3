"""``optim.RAdam``, as ``torch.optim.RAdam``."""

from rustgrad.autograd.grad_mode import no_grad
from rustgrad.optim.adam import _check_betas, _zeros
from rustgrad.optim.optimizer import (
    Optimizer,
    _advance,
    _check_unsupported,
    _new_step,
    _optimizer_step,
)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""RAdam (rectified Adam, Liu et al. 2019) with PyTorch's update rule, at step ``t``:

    .. code-block:: text

        p = p * (1 - lr * weight_decay)           (decoupled_weight_decay)
        g = g + weight_decay * p                  (otherwise, if weight_decay != 0)
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)
        u = m / (1 - beta1**t) * lr
        u = u * sqrt(1 - beta2**t) / (sqrt(v) + eps) * rect(rho_t)   (if rho_t > 5)
        p = p - u

    Each update is one pass over the parameter in Rust.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        decoupled_weight_decay=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
    ):
        _check_betas(lr, betas, eps, weight_decay)
        _check_unsupported(capturable=capturable, differentiable=differentiable)
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "decoupled_weight_decay": decoupled_weight_decay,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = (float(b) for b in group["betas"])
            lr, wd = float(group["lr"]), float(group["weight_decay"])
            decoupled = bool(group["decoupled_weight_decay"])
            for param, grad, state in self._with_grads(group):
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["exp_avg"] = _zeros(param)
                    state["exp_avg_sq"] = _zeros(param)
                step = _advance(state)
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
                rect = 0.0  # the unrectified step
                if rho_t > 5.0:
                    rect = (
                        (rho_t - 4)
                        * (rho_t - 2)
                        * rho_inf
                        / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
                    ) ** 0.5
                scalars = [
                    beta1,
                    beta2,
                    float(group["eps"]),
                    bias_correction1,
                    lr,
                    bias_correction2**0.5,
                    rect,
                ]
                with no_grad():
                    _optimizer_step(
                        "radam",
                        param,
                        grad,
                        [state["exp_avg"], state["exp_avg_sq"]],
                        scalars,
                        weight_decay=0.0 if decoupled else wd,
                        decay=1 - lr * wd if decoupled and wd != 0 else 1.0,
                        maximize=bool(group["maximize"]),
                    )
        return loss
