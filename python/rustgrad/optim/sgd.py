"""``optim.SGD``: stochastic gradient descent with momentum, as ``torch.optim.SGD``."""

from rustgrad import _core
from rustgrad.autograd.grad_mode import no_grad
from rustgrad.optim.optimizer import (
    Optimizer,
    _check_fused,
    _check_lr,
    _check_unsupported,
    _optimizer_step,
)

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, with PyTorch's update rule. For each parameter ``p`` with
    gradient ``g`` (``-g`` when ``maximize``):

    .. code-block:: text

        g = g + weight_decay * p                              (if weight_decay != 0)
        b = g  (first step)  or  momentum * b + (1 - dampening) * g   (if momentum != 0)
        g = g + momentum * b  (nesterov)  or  b               (if momentum != 0)
        p = p - lr * g

    Each parameter's update is one pass over it in Rust. The momentum buffer is
    ``state[p]["momentum_buffer"]``.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        *,
        maximize=False,
        foreach=None,
        differentiable=False,
        fused=None,
    ):
        _check_lr(lr)
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_unsupported(differentiable=differentiable)
        _check_fused(fused, foreach)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            momentum = float(group["momentum"])
            scalars = [float(group["lr"]), momentum, float(group["dampening"])]
            for param in group["params"]:
                grad = param.grad
                if grad is None:
                    continue
                states, first = [], False
                if momentum != 0:
                    # Without momentum the state stays empty, as PyTorch's.
                    state = self.state[param]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = _core.full_like(param, 0.0)
                        first = True
                    states = [buf]
                with no_grad():
                    _optimizer_step(
                        "sgd",
                        param,
                        grad,
                        states,
                        scalars,
                        weight_decay=float(group["weight_decay"]),
                        maximize=bool(group["maximize"]),
                        nesterov=bool(group["nesterov"]),
                        first=first,
                        momentum=momentum != 0,
                    )
        return loss
