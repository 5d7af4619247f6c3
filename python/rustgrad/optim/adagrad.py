"""``optim.Adagrad``, as ``torch.optim.Adagrad``."""

from rustgrad import _core
from rustgrad.autograd.grad_mode import no_grad
from rustgrad.optim.optimizer import (
    Optimizer,
    _advance,
    _check_fused,
    _check_lr,
    _check_unsupported,
    _new_step,
    _optimizer_step,
)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad with PyTorch's update rule (``g`` negated when ``maximize``), at step ``t``:

    .. code-block:: text

        g = g + weight_decay * p                  (if weight_decay != 0)
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        p = p - clr * g / (sqrt(s) + eps)

    The state (``"step"``, ``"sum"`` starting at ``initial_accumulator_value``) is made when
    the optimizer is, as PyTorch's. Each update is one pass over the parameter in Rust.
    """

    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0,
        weight_decay=0,
        initial_accumulator_value=0,
        eps=1e-10,
        foreach=None,
        *,
        maximize=False,
        differentiable=False,
        fused=None,
    ):
        _check_lr(lr)
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if lr_decay < 0.0:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if initial_accumulator_value < 0.0:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}"
            )
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_unsupported(differentiable=differentiable)
        _check_fused(fused, foreach)
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                self._init_state(group, param)

    def _init_state(self, group, param):
        """PyTorch fills the state at construction, and at the first step of a parameter that
        has none (one added by ``add_param_group``, or after loading an empty state)."""
        state = self.state[param]
        state["step"] = _new_step()
        state["sum"] = _core.full_like(param, float(group["initial_accumulator_value"]))

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, lr_decay = float(group["lr"]), float(group["lr_decay"])
            for param, grad, state in self._with_grads(group):
                if not state:
                    self._init_state(group, param)
                step = _advance(state)
                clr = lr / (1 + (step - 1) * lr_decay)
                with no_grad():
                    _optimizer_step(
                        "adagrad",
                        param,
                        grad,
                        [state["sum"]],
                        [clr, float(group["eps"])],
                        weight_decay=float(group["weight_decay"]),
                        maximize=bool(group["maximize"]),
                    )
        return loss
