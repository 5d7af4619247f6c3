"""``default_collate`` and ``default_convert``: how a list of samples becomes a batch, as
PyTorch's (tensors stacked on a new first dim; NumPy arrays and numbers made tensors; dicts,
named tuples and sequences collated field by field; strings kept as lists)."""

import collections.abc
import copy
import re

import numpy as np

import rustgrad

__all__ = ["default_collate", "default_convert"]

# NumPy dtypes that cannot become tensors (strings, objects).
_NOT_NUMERIC = re.compile(r"[SaUO]")


def _as_tensor(value):
    """A NumPy array or scalar as a tensor of its dtype."""
    return rustgrad.tensor(np.asarray(value))


_BAD_TYPE = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def default_convert(data):
    """Without batching: NumPy arrays and scalars become tensors, containers are converted
    element by element, anything else is returned as is."""
    if isinstance(data, rustgrad.Tensor):
        return data
    if isinstance(data, np.ndarray):
        if _NOT_NUMERIC.search(data.dtype.str) is not None:
            return data
        return _as_tensor(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return _as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _same_type(data, {k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _same_type(data, [default_convert(d) for d in data])
    return data


def _same_type(original, items):
    """``items`` (a dict or list) in ``original``'s container type: a mutable container is
    copied and overwritten, others are built from the items when their type allows."""
    try:
        if isinstance(original, collections.abc.MutableMapping):
            clone = copy.copy(original)
            clone.update(items)
            return clone
        if isinstance(original, collections.abc.MutableSequence):
            clone = copy.copy(original)
            clone[:] = items
            return clone
        return type(original)(items)
    except TypeError:
        return items


def default_collate(batch):
    """Collate a list of samples into a batch (PyTorch's rules; see the module docstring)."""
    elem = batch[0]
    if isinstance(elem, rustgrad.Tensor):
        return rustgrad.stack(batch, 0)
    if isinstance(elem, np.ndarray):
        if _NOT_NUMERIC.search(elem.dtype.str) is not None:
            raise TypeError(_BAD_TYPE.format(elem.dtype))
        return default_collate([_as_tensor(b) for b in batch])
    if (
        isinstance(elem, np.generic)
        and elem.shape == ()
        and not isinstance(elem, (np.str_, np.bytes_))
    ):
        return _as_tensor(batch)
    if isinstance(elem, float):
        return rustgrad.tensor(batch, dtype=rustgrad.float64)
    if isinstance(elem, int):
        return rustgrad.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _same_type(elem, {k: default_collate([d[k] for d in batch]) for k in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(samples) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return columns  # a list, as PyTorch returns for tuples
        return _same_type(elem, columns)
    raise TypeError(_BAD_TYPE.format(type(elem)))
