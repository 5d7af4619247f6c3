"""Containers: ``nn.Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList``,
``ParameterDict``."""

import operator
from collections import OrderedDict

from rustgrad.nn.modules.module import Module, _indent

__all__ = ["ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "Sequential"]


def _index(idx, length):
    """A non-negative position from an int index (negative counts from the end)."""
    idx = operator.index(idx)
    if not -length <= idx < length:
        raise IndexError(f"index {idx} is out of range")
    return idx % length


class Sequential(Module):
    """Run modules one after another: ``Sequential(m0, m1, ...)`` or
    ``Sequential(OrderedDict(name=module, ...))``; ``forward(x)`` is ``m1(m0(x))``.

    Children are named ``"0"``, ``"1"``, ... (or by the dict's keys). Supports ``len``,
    iteration, ``seq[i]`` (a module), ``seq[i:j]`` (a new Sequential), item assignment and
    deletion, ``append``, ``extend``, ``insert`` and ``pop``.
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        keys = list(self._modules)
        return self._modules[keys[_index(idx, len(keys))]]

    def __setitem__(self, idx, module):
        keys = list(self._modules)
        setattr(self, keys[_index(idx, len(keys))], module)

    def __delitem__(self, idx):
        keys = list(self._modules)
        if isinstance(idx, slice):
            for key in keys[idx]:
                del self._modules[key]
        else:
            del self._modules[keys[_index(idx, len(keys))]]
        # Renumber so that names stay "0", "1", ... as PyTorch does.
        items = list(self._modules.values())
        if all(k.isdigit() for k in keys):
            self._modules.clear()
            for i, module in enumerate(items):
                self._modules[str(i)] = module

    def append(self, module):
        """Add ``module`` at the end; returns ``self``."""
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index`` (children renumbered); returns
        ``self``."""
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")  # noqa: TRY004 (PyTorch's)
        n = len(self._modules)
        if not (-n <= index <= n):
            raise IndexError(f"Index out of range: {index}")
        items = list(self._modules.values())
        items.insert(index + n if index < 0 else index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)
        return self

    def extend(self, sequential):
        """Append each module of ``sequential``; returns ``self``."""
        for layer in sequential:
            self.append(layer)
        return self

    def pop(self, key):
        """Remove and return the module at ``key`` (an index or a slice)."""
        v = self[key]
        del self[key]
        return v

    def __add__(self, other):
        """A new Sequential of this one's modules, then ``other``'s."""
        if not isinstance(other, Sequential):
            raise ValueError(  # noqa: TRY004 (PyTorch's type)
                f"add operator supports only objects of Sequential class, but {type(other)} is "
                "given."
            )
        return Sequential(*self, *other)

    def __iadd__(self, other):
        """``other``'s modules appended to this one."""
        if not isinstance(other, Sequential):
            raise ValueError(  # noqa: TRY004 (PyTorch's type)
                f"add operator supports only objects of Sequential class, but {type(other)} is "
                "given."
            )
        offset = len(self)
        for i, module in enumerate(other):
            self.add_module(str(i + offset), module)
        return self

    def __mul__(self, other):
        """A new Sequential of this one's modules ``other`` times over (the same objects)."""
        if not isinstance(other, int):
            raise TypeError(f"unsupported operand type(s) for *: {type(self)} and {type(other)}")
        if other <= 0:
            raise ValueError(f"Non-positive multiplication factor {other} for {type(self)}")
        return Sequential(*(list(self) * other))

    __rmul__ = __mul__

    def forward(self, input):
        """``input`` through each module in turn."""
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(Module):
    """A list of modules whose parameters are registered (named ``"0"``, ``"1"``, ...).

    Supports ``len``, iteration, indexing, slicing, ``append``, ``extend``, ``insert`` and
    ``pop``; it has no ``forward`` of its own.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __repr__(self):
        """PyTorch's form: runs of equal reprs shown once, as ``(0-2): 3 x Linear(...)``."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        runs = []  # [first, last, repr]
        for i, r in enumerate(reprs):
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = [
            _indent(f"({a}): {r}" if a == b else f"({a}-{b}): {b - a + 1} x {r}", 2)
            for a, b, r in runs
        ]
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[str(_index(idx, len(self)))]

    def __setitem__(self, idx, module):
        setattr(self, str(_index(idx, len(self))), module)

    def __delitem__(self, idx):
        items = list(self._modules.values())
        if isinstance(idx, slice):
            del items[idx]
        else:
            del items[_index(idx, len(items))]
        self._modules.clear()
        for i, module in enumerate(items):
            self._modules[str(i)] = module

    def append(self, module):
        """Add ``module`` at the end; returns ``self``."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Append each of ``modules``; returns ``self``."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index``."""
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def pop(self, key):
        """Remove and return the module at ``key`` (an index or a slice)."""
        v = self[key]
        del self[key]
        return v


class ModuleDict(Module):
    """A dict of modules whose parameters are registered under their keys (in insertion
    order). Supports ``len``, iteration over keys, ``[key]``, ``in``, ``keys()``, ``items()``,
    ``values()``, ``update``, ``pop`` and ``clear``; it has no ``forward`` of its own."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        """Remove every module."""
        self._modules.clear()

    def pop(self, key):
        """Remove ``key`` and return its module."""
        module = self[key]
        del self[key]
        return module

    def keys(self):
        """The keys, in insertion order."""
        return self._modules.keys()

    def items(self):
        """``(key, value)`` pairs, in insertion order."""
        return self._modules.items()

    def values(self):
        """The values, in insertion order."""
        return self._modules.values()

    def update(self, modules):
        """Add or replace modules from a mapping or an iterable of ``(key, module)`` pairs."""
        items = modules.items() if hasattr(modules, "items") else modules
        for j, entry in enumerate(items):
            if not hasattr(modules, "items") and len(entry) != 2:
                raise ValueError(
                    f"ModuleDict update sequence element #{j} has length {len(entry)}; 2 is "
                    "required"
                )
            key, module = entry
            self[key] = module


class ParameterList(Module):
    """A list of parameters registered as ``"0"``, ``"1"``, ... (tensors given are wrapped
    in ``Parameter``). Supports ``len``, iteration, indexing, ``append`` and ``extend``."""

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)([self[i] for i in range(len(self))[idx]])
        return getattr(self, str(_index(idx, len(self))))

    def __setitem__(self, idx, param):
        setattr(self, str(_index(idx, len(self))), _as_parameter(param))

    def append(self, value):
        """Add ``value`` (a Parameter, or a tensor made one) at the end; returns ``self``."""
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values):
        """Append each of ``values``; returns ``self``."""
        for value in values:
            self.append(value)
        return self

    def extra_repr(self):
        """One line per entry, as PyTorch prints them."""
        return "\n".join(_describe(i, p, False) for i, p in enumerate(self))


class ParameterDict(Module):
    """A dict of parameters registered under their keys (tensors given are wrapped in
    ``Parameter``)."""

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return getattr(self, key)

    def __setitem__(self, key, value):
        self._keys[key] = None
        setattr(self, key, _as_parameter(value))

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def keys(self):
        """The keys, in insertion order."""
        return self._keys.keys()

    def items(self):
        """``(key, value)`` pairs, in insertion order."""
        return ((k, self[k]) for k in self._keys)

    def values(self):
        """The values, in insertion order."""
        return (self[k] for k in self._keys)

    def get(self, key, default=None):
        """The parameter under ``key``, or ``default``."""
        return getattr(self, key) if key in self._keys else default

    def pop(self, key):
        """Remove ``key`` and return its parameter."""
        value = self[key]
        del self[key]
        return value

    def clear(self):
        """Remove every entry."""
        for key in list(self._keys):
            del self[key]

    def update(self, parameters):
        """Add or replace parameters from a mapping or an iterable of ``(key, value)`` pairs."""
        import collections

        items = parameters.items() if hasattr(parameters, "items") else parameters
        if hasattr(parameters, "items") and not isinstance(
            parameters, (collections.OrderedDict, ParameterDict)
        ):
            items = sorted(items)  # (PyTorch orders a plain mapping by its keys)
        for key, value in items:
            self[key] = value

    def extra_repr(self):
        """One line per entry, as PyTorch prints them."""
        return "\n".join(_describe(k, p, True) for k, p in self.items())


def _as_parameter(value):
    from rustgrad.nn.parameter import Parameter

    if isinstance(value, Parameter) or not hasattr(value, "requires_grad"):
        return value
    return Parameter(value)


# PyTorch's legacy tensor type names (what ``torch.typename`` gives), by dtype name.
_TYPE_NAMES = {
    "float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
    "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
    "bool": "Bool",
}  # fmt: skip


def _describe(key, param, legacy_type_name):
    """PyTorch's line for an entry of a ParameterList (the dtype) or ParameterDict (the legacy
    type name, as ``torch.typename``) repr."""
    if not hasattr(param, "shape"):
        return f"  ({key}): Object of type: {type(param).__name__}"
    from rustgrad.nn.parameter import Parameter

    size = "x".join(str(d) for d in param.shape)
    device = f" ({param.device})" if param.device.type == "cuda" else ""
    if legacy_type_name:
        prefix = str(param.dtype).rsplit(".", 1)[0] + (".cuda" if device else "")
        kind = f"{prefix}.{_TYPE_NAMES.get(str(param.dtype).rsplit('.', 1)[-1], '')}Tensor"
    else:
        kind = str(param.dtype)
    what = "Parameter" if isinstance(param, Parameter) else "Tensor"
    return f"  ({key}): {what} containing: [{kind} of size {size}{device}]"
