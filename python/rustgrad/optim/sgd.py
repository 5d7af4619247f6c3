"""``optim.SGD``: stochastic gradient descent with momentum, as ``torch.optim.SGD``."""

from rustgrad import _core
from rustgrad.autograd.grad_mode import no_grad
from rustgrad.optim.optimizer import Optimizer

__all__ = ["SGD"]

# The per-parameter arithmetic, in Rust: one pass over each parameter, in place.
_sgd_step = _core._sgd_step


class SGD(Optimizer):
    r"""Stochastic gradient descent, with PyTorch's update rule. For each parameter ``p`` with
    gradient ``g`` (``-g`` when ``maximize``):

    .. code-block:: text

        g = g + weight_decay * p                              (if weight_decay != 0)
        b = g  (first step)  or  momentum * b + (1 - dampening) * g   (if momentum != 0)
        g = g + momentum * b  (nesterov)  or  b               (if momentum != 0)
        p = p - lr * g

    The update of a whole parameter group runs in Rust (``rustgrad._core._sgd_step``), one
    pass over each parameter. The momentum buffer is ``state[p]["momentum_buffer"]``.
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
    ):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            momentum = group["momentum"]
            params, grads, buffers = [], [], []
            for param in group["params"]:
                grad = param.grad
                if grad is None:
                    continue
                params.append(param)
                grads.append(grad)
                buffers.append(self.state[param].get("momentum_buffer") if momentum else None)
            if not params:
                continue
            with no_grad():
                buffers = _sgd_step(
                    params,
                    grads,
                    buffers,
                    float(group["lr"]),
                    float(momentum),
                    float(group["dampening"]),
                    float(group["weight_decay"]),
                    bool(group["nesterov"]),
                    bool(group["maximize"]),
                )
            if momentum:
                for param, buffer in zip(params, buffers):
                    self.state[param]["momentum_buffer"] = buffer
        return loss
