"""``optim.RMSprop``, as ``torch.optim.RMSprop``."""

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

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop with PyTorch's update rule (``g`` negated when ``maximize``):

    .. code-block:: text

        g = g + weight_decay * p                  (if weight_decay != 0)
        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v) + eps,  or (centered)  sqrt(v - gm * gm) + eps  with gm = lerp(gm, g, 1 - alpha)
        b = momentum * b + g / avg;  p = p - lr * b     (if momentum > 0)
        p = p - lr * g / avg                          (otherwise)

    ``state[p]``: ``"step"``, ``"square_avg"``, ``"momentum_buffer"`` (momentum > 0),
    ``"grad_avg"`` (centered). Each update is one pass over the parameter in Rust.
    """

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0,
        momentum=0,
        centered=False,
        capturable=False,
        foreach=None,
        maximize=False,
        differentiable=False,
    ):
        _check_lr(lr)
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if alpha < 0.0:
            raise ValueError(f"Invalid alpha value: {alpha}")
        _check_unsupported(capturable=capturable, differentiable=differentiable)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            momentum, centered = float(group["momentum"]), bool(group["centered"])
            scalars = [float(group["lr"]), float(group["alpha"]), float(group["eps"]), momentum]
            for param, grad, state in self._with_grads(group):
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["square_avg"] = _zeros(param)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros(param)
                    if centered:
                        state["grad_avg"] = _zeros(param)
                _count(state)
                states = [state["square_avg"]]
                if momentum > 0:
                    states.append(state["momentum_buffer"])
                if centered:
                    states.append(state["grad_avg"])
                with no_grad():
                    _optimizer_step(
                        "rmsprop",
                        param,
                        grad,
                        states,
                        scalars,
                        weight_decay=float(group["weight_decay"]),
                        maximize=bool(group["maximize"]),
                        momentum=momentum > 0,
                        centered=centered,
                    )
        return loss
