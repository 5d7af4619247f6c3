"""``optim.Adam``, as ``torch.optim.Adam``."""

from rustgrad import _core
from rustgrad.autograd.grad_mode import no_grad
from rustgrad.optim.optimizer import Optimizer

__all__ = ["Adam"]

# The per-parameter arithmetic, in Rust: one pass over each parameter, in place.
_adam_step = _core._adam_step


class Adam(Optimizer):
    r"""Adam (Kingma and Ba, 2014) with PyTorch's update rule. For each parameter ``p`` with
    gradient ``g`` (``-g`` when ``maximize``), at step ``t`` (counted from 1):

    .. code-block:: text

        g = g + weight_decay * p                  (if weight_decay != 0; L2, not AdamW)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    The update of a whole parameter group runs in Rust (``rustgrad._core._adam_step``), one
    pass over each parameter. ``state[p]`` holds ``"step"`` (an int), ``"exp_avg"`` (``m``)
    and ``"exp_avg_sq"`` (``v``). ``amsgrad=True`` is not implemented.
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
        maximize=False,
    ):
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
        if amsgrad:
            raise NotImplementedError("rustgrad.optim.Adam: amsgrad=True is not implemented")
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            if group["amsgrad"]:
                raise NotImplementedError("rustgrad.optim.Adam: amsgrad=True is not implemented")
            params, grads, exp_avgs, exp_avg_sqs, steps = [], [], [], [], []
            for param in group["params"]:
                grad = param.grad
                if grad is None:
                    continue
                state = self.state[param]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = _core.full_like(param, 0.0)
                    state["exp_avg_sq"] = _core.full_like(param, 0.0)
                state["step"] += 1
                params.append(param)
                grads.append(grad)
                exp_avgs.append(state["exp_avg"])
                exp_avg_sqs.append(state["exp_avg_sq"])
                steps.append(state["step"])
            if not params:
                continue
            beta1, beta2 = group["betas"]
            with no_grad():
                _adam_step(
                    params,
                    grads,
                    exp_avgs,
                    exp_avg_sqs,
                    steps,
                    float(group["lr"]),
                    float(beta1),
                    float(beta2),
                    float(group["eps"]),
                    float(group["weight_decay"]),
                    bool(group["maximize"]),
                )
        return loss
