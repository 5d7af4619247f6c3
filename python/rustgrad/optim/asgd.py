"""``optim.ASGD``, as ``torch.optim.ASGD``."""

from rustgrad import _core
from rustgrad.autograd.grad_mode import no_grad
from rustgrad.optim.optimizer import Optimizer, _advance, _check_lr, _check_unsupported, _new_step

__all__ = ["ASGD"]


class ASGD(Optimizer):
    r"""Averaged stochastic gradient descent with PyTorch's update rule, at step ``t``:

    .. code-block:: text

        g = g + weight_decay * p                  (if weight_decay != 0)
        p = p * (1 - lambd * eta) - eta * g
        ax = ax + mu * (p - ax)                   (ax = p while mu is 1)
        eta = lr / (1 + lambd * lr * t) ** alpha
        mu = 1 / max(1, t - t0)

    ``state[p]``: ``"step"``, ``"eta"``, ``"mu"`` (0-d float32 tensors, read as PyTorch reads
    them) and ``"ax"`` (the average). Composed of tensor ops, as PyTorch's single-tensor path.
    """

    def __init__(
        self,
        params,
        lr=1e-2,
        lambd=1e-4,
        alpha=0.75,
        t0=1e6,
        weight_decay=0,
        foreach=None,
        maximize=False,
        differentiable=False,
        capturable=False,
    ):
        _check_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_unsupported(capturable=capturable, differentiable=differentiable)
        defaults = {
            "lr": lr,
            "lambd": lambd,
            "alpha": alpha,
            "t0": t0,
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
            lr, lambd, alpha = float(group["lr"]), group["lambd"], group["alpha"]
            weight_decay = group["weight_decay"]
            for param, grad, state in self._with_grads(group):
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["eta"] = _core.tensor(lr, dtype=_core.float32)
                    state["mu"] = _core.ones((), dtype=_core.float32)
                    state["ax"] = _core.full_like(param, 0.0)
                step = _advance(state)
                with no_grad():
                    grad = -grad if group["maximize"] else grad
                    if weight_decay != 0:
                        grad = grad.add(param, alpha=weight_decay)
                    eta = state["eta"].item()
                    param.mul_(1 - lambd * eta)
                    param.add_(grad, alpha=-eta)
                    ax, mu = state["ax"], state["mu"]
                    if mu.item() != 1:
                        ax.add_(param.sub(ax).mul_(mu))
                    else:
                        ax.copy_(param)
                    # (as PyTorch: new values made float32 tensors first, then copied into
                    # the state, which a loaded state dict may hold in the parameter's dtype)
                    eta = lr / ((1 + lambd * lr * step) ** alpha)
                    state["eta"].copy_(_core.tensor(eta, dtype=_core.float32))
                    mu.copy_(_core.tensor(1 / max(1, step - group["t0"]), dtype=_core.float32))
        return loss
