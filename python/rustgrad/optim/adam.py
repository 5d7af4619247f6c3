"""``optim.Adam`` and ``optim.AdamW``, as ``torch.optim``'s."""

from rustgrad import _core
from rustgrad._core import Tensor
from rustgrad.autograd.grad_mode import no_grad
from rustgrad.optim.optimizer import (
    Optimizer,
    _check_fused,
    _check_lr,
    _check_unsupported,
    _count,
    _new_step,
    _optimizer_step,
)

__all__ = ["Adam", "AdamW"]


def _check_betas(lr, betas, eps, weight_decay):
    _check_lr(lr)
    if lr < 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")
    if eps < 0.0:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if weight_decay < 0.0:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def _zeros(param):
    return _core.full_like(param, 0.0)


class Adam(Optimizer):
    r"""Adam (Kingma and Ba, 2014) with PyTorch's update rule. For each parameter ``p`` with
    gradient ``g`` (``-g`` when ``maximize``), at step ``t`` (counted from 1):

    .. code-block:: text

        p = p * (1 - lr * weight_decay)           (decoupled_weight_decay: AdamW)
        g = g + weight_decay * p                  (otherwise, if weight_decay != 0)
        m = lerp(m, g, 1 - beta1)
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)                     (amsgrad; used in place of v below)
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    Each parameter's update is one pass over it in Rust. ``state[p]`` holds ``"step"`` (a
    0-d float32 tensor), ``"exp_avg"``, ``"exp_avg_sq"`` and ``"max_exp_avg_sq"`` (amsgrad).
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
        fused=None,
        decoupled_weight_decay=False,
    ):
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")  # fmt: skip
        _check_betas(lr, betas, eps, weight_decay)
        if not (
            all(isinstance(b, float) for b in betas[:2])
            or all(isinstance(b, Tensor) for b in betas[:2])
        ):
            raise ValueError("betas must be either both floats or both Tensors")
        _check_unsupported(capturable=capturable, differentiable=differentiable)
        _check_fused(fused, foreach)
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = (float(b) for b in group["betas"])
            lr, wd = float(group["lr"]), float(group["weight_decay"])
            amsgrad = bool(group["amsgrad"])
            decoupled = bool(group.get("decoupled_weight_decay", False))
            for param, grad, state in self._with_grads(group):
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["exp_avg"] = _zeros(param)
                    state["exp_avg_sq"] = _zeros(param)
                    if amsgrad:
                        state["max_exp_avg_sq"] = _zeros(param)
                # The step's constants (``lr / (1 - beta1**t)``, ``(1 - beta2**t)**0.5``) are
                # computed in Rust from the counter, as PyTorch's single-tensor Adam computes
                # them in Python floats (``OptimStep::at_step``).
                step = _count(state)
                states = [state["exp_avg"], state["exp_avg_sq"]]
                if amsgrad:
                    states.append(state["max_exp_avg_sq"])
                with no_grad():
                    _optimizer_step(
                        "adam",
                        param,
                        grad,
                        states,
                        [beta1, beta2, float(group["eps"]), lr],
                        weight_decay=0.0 if decoupled else wd,
                        decay=1 - lr * wd if decoupled and wd != 0 else 1.0,
                        maximize=bool(group["maximize"]),
                        amsgrad=amsgrad,
                        step=step,
                    )
        return loss


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov and Hutter, 2019), as
    ``torch.optim.AdamW``: ``p = p * (1 - lr * weight_decay)`` before Adam's update (which then
    adds no weight decay to the gradient)."""

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
        foreach=None,
        capturable=False,
        differentiable=False,
        fused=None,
    ):
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )

    def load_state_dict(self, state_dict):
        """:meth:`Optimizer.load_state_dict`, the groups then decoupled whatever they say."""
        super().load_state_dict(state_dict)
        # As PyTorch: AdamW always decouples, whatever the loaded groups say.
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
