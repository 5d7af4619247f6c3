"""Gradient housekeeping shared by ``nn.Module`` and ``optim.Optimizer``."""


def clear_grads(params, set_to_none=True):
    """Set each parameter's ``.grad`` to None, or (``set_to_none=False``) zero it in place."""
    for param in params:
        grad = param.grad
        if grad is None:
            continue
        if set_to_none:
            param.grad = None
        else:
            if grad.grad_fn is not None:
                grad.detach_()
            else:
                grad.requires_grad_(False)
            grad.zero_()
