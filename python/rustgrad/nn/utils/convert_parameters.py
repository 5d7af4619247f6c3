"""Parameters as one flat vector and back, as ``torch.nn.utils``."""

import rustgrad

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_same_device(param, device):
    if device is not None and param.device != device:
        raise TypeError(
            "Found two parameters on different devices, this is currently not supported."
        )
    return param.device


def parameters_to_vector(parameters):
    """All of ``parameters`` flattened and concatenated, in order (differentiable)."""
    device = None
    flat = []
    for param in parameters:
        device = _check_same_device(param, device)
        flat.append(param.view(-1))
    return rustgrad.cat(flat)


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the flat ``vec`` into ``parameters`` (their ``.data``)."""
    if not isinstance(vec, rustgrad.Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    device = None
    start = 0
    for param in parameters:
        device = _check_same_device(param, device)
        n = param.numel()
        param.data = vec[start : start + n].view_as(param).data
        start += n
