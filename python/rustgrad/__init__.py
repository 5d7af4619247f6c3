"""rustgrad: reverse-mode automatic differentiation with a Rust core and a PyTorch-style face.

Everything heavy (tensors, kernels, the graph arena, the backward engine) lives in the
extension module ``rustgrad._core``; this package only arranges it into torch-shaped
namespaces.
"""

from rustgrad import _core
from rustgrad._core import (
    Tensor,
    arange,
    cat,
    device,
    dtype,
    eye,
    from_numpy,
    full,
    full_like,
    is_grad_enabled,
    linspace,
    ones,
    rand,
    randn,
    stack,
    tensor,
    where,
    zeros,
)


def manual_seed(seed):
    """Seed the generators behind ``rand`` and ``randn``: the CPU's and every CUDA device's
    (as ``torch.manual_seed``)."""
    _core.manual_seed(seed)


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    """Zeros of ``input``'s shape and (unless given) dtype and device."""
    return full_like(input, 0, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    """Ones of ``input``'s shape and (unless given) dtype and device."""
    return full_like(input, 1, dtype=dtype, device=device, requires_grad=requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of the given size. Its contents are unspecified in PyTorch; here they are zeros."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


float32 = _core.float32
float64 = _core.float64
int64 = _core.int64
bool = _core.bool_  # the name PyTorch uses (shadows the builtin here)
float = float32
double = float64
long = int64

from rustgrad import autograd, cuda, nn, optim, viz
from rustgrad.autograd.grad_mode import enable_grad, no_grad, set_grad_enabled
from rustgrad.serialization import load, save


def _unary(name):
    def fn(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = name
    fn.__doc__ = f"Functional form of ``Tensor.{name}``."
    return fn


# Functional forms of tensor methods, as torch.exp(x) etc.
for _name in (
    "abs",
    "exp",
    "log",
    "sqrt",
    "tanh",
    "sigmoid",
    "relu",
    "clamp",
    "pow",
    "matmul",
    "mm",
    "sum",
    "mean",
    "max",
    "min",
    "argmax",
    "argmin",
    "softmax",
    "log_softmax",
    "neg",
    "reshape",
    "flatten",
    "squeeze",
    "unsqueeze",
    "t",
    "transpose",
    "permute",
    "add",
    "sub",
    "mul",
    "div",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "detach",
    "numel",
):
    globals()[_name] = _unary(_name)
del _name

__version__ = "0.1.0"
__all__ = [
    "Tensor",
    "arange",
    "autograd",
    "bool",
    "cat",
    "cuda",
    "device",
    "dtype",
    "empty",
    "enable_grad",
    "eye",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "full_like",
    "int64",
    "is_grad_enabled",
    "linspace",
    "load",
    "manual_seed",
    "nn",
    "no_grad",
    "ones",
    "ones_like",
    "optim",
    "rand",
    "randn",
    "save",
    "set_grad_enabled",
    "stack",
    "tensor",
    "viz",
    "where",
    "zeros",
    "zeros_like",
]
