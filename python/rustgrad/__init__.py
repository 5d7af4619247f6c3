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
    is_grad_enabled,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    randn,
    stack,
    tensor,
    where,
    zeros,
    zeros_like,
)

float32 = _core.float32
float64 = _core.float64
int64 = _core.int64
bool = _core.bool_  # noqa: A001 - the name PyTorch uses
float = float32  # noqa: A001
double = float64
long = int64

from rustgrad import autograd, cuda  # noqa: E402
from rustgrad.autograd.grad_mode import enable_grad, no_grad, set_grad_enabled  # noqa: E402


def _unary(name):
    def fn(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = name
    fn.__doc__ = f"Functional form of ``Tensor.{name}``."
    return fn


# Functional forms of tensor methods, as torch.exp(x) etc.
for _name in (
    "abs", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "clamp", "pow", "matmul", "mm",
    "sum", "mean", "max", "min", "argmax", "argmin", "softmax", "log_softmax", "neg",
    "reshape", "flatten", "squeeze", "unsqueeze", "t", "transpose", "permute", "add", "sub",
    "mul", "div", "eq", "ne", "lt", "le", "gt", "ge", "detach", "numel",
):
    globals()[_name] = _unary(_name)
del _name

__version__ = "0.1.0"
__all__ = [
    "Tensor", "tensor", "zeros", "ones", "full", "zeros_like", "ones_like", "arange",
    "linspace", "eye", "rand", "randn", "manual_seed", "from_numpy", "where", "cat", "stack",
    "float32", "float64", "int64", "bool", "device", "dtype", "no_grad", "enable_grad",
    "set_grad_enabled", "is_grad_enabled", "autograd", "cuda",
]
