"""Lazy modules: ``LazyModuleMixin``, ``UninitializedParameter`` and ``nn.LazyLinear``, whose
input size is read from the first input."""

from rustgrad import _core
from rustgrad.autograd.grad_mode import no_grad
from rustgrad.nn.modules.linear import Linear
from rustgrad.nn.parameter import Parameter

__all__ = ["LazyLinear", "LazyModuleMixin", "UninitializedParameter"]


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet; ``materialize(shape)`` gives it storage and
    turns it into a plain :class:`Parameter`."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return super().__new__(cls, _core.zeros((0,), dtype=dtype, device=device), requires_grad)

    def materialize(self, shape, device=None, dtype=None):
        """Allocate ``shape`` (uninitialised values) and become a ``Parameter``."""
        self.data = _core.zeros(
            tuple(shape), dtype=dtype or self.dtype, device=device or self.device
        )
        self.__class__ = self.cls_to_become

    def __repr__(self):
        return "<UninitializedParameter>"

    __str__ = __repr__


def _has_uninitialized(module):
    return any(isinstance(p, UninitializedParameter) for p in module.parameters())


class LazyModuleMixin:
    """Infers parameter shapes at the first call: the subclass's ``initialize_parameters(*args)``
    runs as a forward pre-hook, then the module becomes its ``cls_to_become``."""

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters)

    def has_uninitialized_params(self):
        """True while a parameter's shape is still unknown."""
        return _has_uninitialized(self)

    @staticmethod
    def _infer_parameters(module, args):
        module.initialize_parameters(*args)
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        del module._initialize_hook
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def initialize_parameters(self, *args):
        """Materialise the parameters from the first inputs (each lazy module defines it)."""
        raise NotImplementedError


class LazyLinear(LazyModuleMixin, Linear):
    """A :class:`Linear` whose ``in_features`` is taken from the first input's last dim; it
    becomes a ``Linear`` then."""

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        # Linear(0, ...) makes 0-sized parameters; replace them with uninitialised ones.
        super().__init__(0, 0, False)
        self.out_features = out_features
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        """PyTorch's ``Linear`` initialisation, once the shapes are known."""
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        """Take ``in_features`` from ``input.shape[-1]`` and draw the initial values."""
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()
