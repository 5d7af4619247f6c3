"""``optim.Rprop``, as ``torch.optim.Rprop``."""

from rustgrad import _core
from rustgrad.autograd.grad_mode import no_grad
from rustgrad.optim.optimizer import Optimizer, _check_lr, _check_unsupported, _count, _new_step

__all__ = ["Rprop"]


class Rprop(Optimizer):
    r"""Resilient backpropagation with PyTorch's update rule: each element keeps its own step
    size, grown by ``etaplus`` while its gradient keeps its sign and shrunk by ``etaminus``
    when the sign flips (that element then skips the update and forgets its gradient):

    .. code-block:: text

        s = sign(g * g_prev) -> etaplus (> 0), etaminus (< 0), 1 (= 0)
        step_size = clamp(step_size * s, step_size_min, step_size_max)
        g = 0 where s == etaminus
        p = p - sign(g) * step_size
        g_prev = g

    ``state[p]``: ``"step"``, ``"prev"``, ``"step_size"`` (``lr`` at first). Composed of
    tensor ops (each one pass in Rust), as PyTorch's single-tensor path.
    """

    def __init__(
        self,
        params,
        lr=1e-2,
        etas=(0.5, 1.2),
        step_sizes=(1e-6, 50),
        *,
        capturable=False,
        foreach=None,
        maximize=False,
        differentiable=False,
    ):
        _check_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        _check_unsupported(capturable=capturable, differentiable=differentiable)
        defaults = {
            "lr": lr,
            "etas": etas,
            "step_sizes": step_sizes,
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
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for param, grad, state in self._with_grads(group):
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["prev"] = _core.full_like(param, 0.0)
                    state["step_size"] = _core.full_like(grad, float(group["lr"]))
                _count(state)
                with no_grad():
                    grad = -grad if group["maximize"] else grad
                    sign = grad.mul(state["prev"]).sign()
                    sign = _core.where(
                        sign > 0,
                        etaplus,
                        _core.where(sign < 0, etaminus, _core.where(sign == 0, 1.0, sign)),
                    )
                    state["step_size"].mul_(sign).clamp_(step_size_min, step_size_max)
                    grad = _core.where(sign == etaminus, 0.0, grad)
                    param.addcmul_(grad.sign(), state["step_size"], value=-1)
                    state["prev"].copy_(grad)
        return loss
