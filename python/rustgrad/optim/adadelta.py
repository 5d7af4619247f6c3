"""``optim.Adadelta``, as ``torch.optim.Adadelta``."""

from rustgrad.autograd.grad_mode import no_grad
from rustgrad.optim.adam import _zeros
from rustgrad.optim.optimizer import (
    Optimizer,
    _check_lr,
    _check_unsupported,
    _count,
    _new_step,
    _optimizer_step,
)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta with PyTorch's update rule (``g`` negated when ``maximize``):

    .. code-block:: text

        g = g + weight_decay * p                  (if weight_decay != 0)
        v = rho * v + (1 - rho) * g * g
        d = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * d * d
        p = p - lr * d

    ``state[p]``: ``"step"``, ``"square_avg"`` (v), ``"acc_delta"`` (u). Each update is one
    pass over the parameter in Rust.
    """

    def __init__(
        self,
        params,
        lr=1.0,
        rho=0.9,
        eps=1e-6,
        weight_decay=0,
        foreach=None,
        *,
        capturable=False,
        maximize=False,
        differentiable=False,
    ):
        _check_lr(lr)
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_unsupported(capturable=capturable, differentiable=differentiable)
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "capturable": capturable,
            "foreach": foreach,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            scalars = [float(group["lr"]), float(group["rho"]), float(group["eps"])]
            for param, grad, state in self._with_grads(group):
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["square_avg"] = _zeros(param)
                    state["acc_delta"] = _zeros(param)
                _count(state)
                with no_grad():
                    _optimizer_step(
                        "adadelta",
                        param,
                        grad,
                        [state["square_avg"], state["acc_delta"]],
                        scalars,
                        weight_decay=float(group["weight_decay"]),
                        maximize=bool(group["maximize"]),
                    )
        return loss
