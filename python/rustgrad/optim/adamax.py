"""``optim.Adamax``, as ``torch.optim.Adamax``."""

from rustgrad.autograd.grad_mode import no_grad
from rustgrad.optim.adam import _check_betas, _zeros
from rustgrad.optim.optimizer import (
    Optimizer,
    _advance,
    _check_unsupported,
    _new_step,
    _optimizer_step,
)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax (Adam with the infinity norm) with PyTorch's update rule, at step ``t``:

    .. code-block:: text

        g = g + weight_decay * p                  (if weight_decay != 0)
        m = lerp(m, g, 1 - beta1)
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1**t) * m / u

    ``state[p]``: ``"step"``, ``"exp_avg"`` (m), ``"exp_inf"`` (u). Each update is one pass
    over the parameter in Rust.
    """

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        foreach=None,
        *,
        maximize=False,
        differentiable=False,
        capturable=False,
    ):
        _check_betas(lr, betas, eps, weight_decay)
        _check_unsupported(capturable=capturable, differentiable=differentiable)
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = (float(b) for b in group["betas"])
            for param, grad, state in self._with_grads(group):
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["exp_avg"] = _zeros(param)
                    state["exp_inf"] = _zeros(param)
                step = _advance(state)
                clr = float(group["lr"]) / (1 - beta1**step)
                with no_grad():
                    _optimizer_step(
                        "adamax",
                        param,
                        grad,
                        [state["exp_avg"], state["exp_inf"]],
                        [beta1, beta2, float(group["eps"]), clr],
                        weight_decay=float(group["weight_decay"]),
                        maximize=bool(group["maximize"]),
                    )
        return loss
