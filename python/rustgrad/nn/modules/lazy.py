"""Lazy modules: ``LazyModuleMixin``, ``UninitializedParameter``, ``nn.LazyLinear`` and
``nn.LazyConv1d/2d``, ``nn.LazyConvTranspose2d``, whose input size is read from the first
input."""

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
        if self.in_features == 0:
            # Loaded from a state dict before this first call (PyTorch's check and words).
            if input.shape[-1] != self.weight.shape[-1]:
                raise AssertionError(
                    f"The in_features inferred from input: {input.shape[-1]} "
                    f"is not equal to in_features from self.weight: {self.weight.shape[-1]}"
                )
            self.in_features = input.shape[-1]


# ----- branch nn2: lazy convolutions -----------------------------------------------------------

from rustgrad.nn.modules.conv import Conv1d, Conv2d, ConvTranspose2d


class _LazyConvXdMixin(LazyModuleMixin):
    """``in_channels`` from the first input's channel dim (dim 1 batched, 0 unbatched)."""

    def reset_parameters(self):
        """The convolution's initialisation, once the shapes are known."""
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _lazy_init(self, out_channels, bias, device, dtype):
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def initialize_parameters(self, input, *args, **kwargs):
        """Take ``in_channels`` from ``input`` and draw the initial values."""
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            with no_grad():
                if self.transposed:
                    shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)  # fmt: skip
                else:
                    shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)  # fmt: skip
                self.weight.materialize(shape)
                if self.bias is not None:
                    self.bias.materialize((self.out_channels,))
                self.reset_parameters()

    def _get_in_channels(self, input):
        no_batch = self._dims + 1
        if input.dim() not in (no_batch, no_batch + 1):
            raise RuntimeError(
                f"Expected {no_batch}D (unbatched) or {no_batch + 1}D (batched) input to "
                f"{self.__class__.__name__}, but got input of size: {input.shape}"
            )
        return input.shape[1] if input.dim() == no_batch + 1 else input.shape[0]


class LazyConv1d(_LazyConvXdMixin, Conv1d):
    """A :class:`Conv1d` whose ``in_channels`` is read from the first input."""

    cls_to_become = Conv1d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):  # fmt: skip
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, device, dtype)  # fmt: skip
        self._lazy_init(out_channels, bias, device, dtype)


class LazyConv2d(_LazyConvXdMixin, Conv2d):
    """A :class:`Conv2d` whose ``in_channels`` is read from the first input."""

    cls_to_become = Conv2d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):  # fmt: skip
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, device, dtype)  # fmt: skip
        self._lazy_init(out_channels, bias, device, dtype)


class LazyConvTranspose2d(_LazyConvXdMixin, ConvTranspose2d):
    """A :class:`ConvTranspose2d` whose ``in_channels`` is read from the first input."""

    cls_to_become = ConvTranspose2d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):  # fmt: skip
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode, device, dtype)  # fmt: skip
        self._lazy_init(out_channels, bias, device, dtype)


__all__ += ["LazyConv1d", "LazyConv2d", "LazyConvTranspose2d"]


# ----- lazy convolutions of the other ranks, lazy batch and instance norms ----------------------

from rustgrad.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from rustgrad.nn.modules.conv import Conv3d, ConvTranspose1d
from rustgrad.nn.modules.normalization import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d


class LazyConv3d(_LazyConvXdMixin, Conv3d):
    """A :class:`Conv3d` whose ``in_channels`` is read from the first input."""

    cls_to_become = Conv3d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):  # fmt: skip
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, device, dtype)  # fmt: skip
        self._lazy_init(out_channels, bias, device, dtype)


class LazyConvTranspose1d(_LazyConvXdMixin, ConvTranspose1d):
    """A :class:`ConvTranspose1d` whose ``in_channels`` is read from the first input."""

    cls_to_become = ConvTranspose1d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):  # fmt: skip
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode, device, dtype)  # fmt: skip
        self._lazy_init(out_channels, bias, device, dtype)


class _LazyNormBase(LazyModuleMixin):
    """``num_features`` from the first input's dim 1 (PyTorch's ``_LazyNormBase``): the
    affine parameters and the running statistics are made then."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None):  # fmt: skip
        super().__init__(0, eps, momentum, False, False, device, dtype)
        self.affine = affine
        self.track_running_stats = track_running_stats
        self._factory = {"device": device, "dtype": dtype}
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            # (the running statistics are made with the parameters, on the first call)
            self.register_buffer("running_mean", _core.zeros((0,), **self._factory))
            self.register_buffer("running_var", _core.ones((0,), **self._factory))
            self.register_buffer(
                "num_batches_tracked", _core.tensor(0, dtype=_core.int64, device=device)
            )

    def has_uninitialized_params(self):
        """True until the first input gave ``num_features``."""
        return self.num_features == 0 or super().has_uninitialized_params()

    def reset_parameters(self):
        """The norm's initialisation, once the shapes are known."""
        if self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        """Take ``num_features`` from ``input.shape[1]`` and make the parameters."""
        if self.num_features == 0:
            self.num_features = input.shape[1]
            with no_grad():
                if self.affine:
                    self.weight.materialize((self.num_features,))
                    self.bias.materialize((self.num_features,))
                if self.track_running_stats:
                    self.running_mean = _core.zeros((self.num_features,), **self._factory)
                    self.running_var = _core.ones((self.num_features,), **self._factory)
                self.reset_parameters()


def _lazy_norm(name, become):
    cls = type(name, (_LazyNormBase, become), {"cls_to_become": become})
    cls.__doc__ = f"A :class:`{become.__name__}` whose ``num_features`` is read from the first input."  # fmt: skip
    cls.__module__ = __name__
    return cls


LazyBatchNorm1d = _lazy_norm("LazyBatchNorm1d", BatchNorm1d)
LazyBatchNorm2d = _lazy_norm("LazyBatchNorm2d", BatchNorm2d)
LazyBatchNorm3d = _lazy_norm("LazyBatchNorm3d", BatchNorm3d)
LazyInstanceNorm1d = _lazy_norm("LazyInstanceNorm1d", InstanceNorm1d)
LazyInstanceNorm2d = _lazy_norm("LazyInstanceNorm2d", InstanceNorm2d)
LazyInstanceNorm3d = _lazy_norm("LazyInstanceNorm3d", InstanceNorm3d)

__all__ += [
    "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyConv3d",
    "LazyConvTranspose1d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d",
]  # fmt: skip
