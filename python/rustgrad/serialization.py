"""``rustgrad.save`` / ``rustgrad.load``: tensors on disk in the safetensors format.

The file layout is safetensors' (https://github.com/huggingface/safetensors), so other tools
read what rustgrad writes, and loading never runs code (no pickle anywhere):

* 8 bytes: ``N``, the header's length, an unsigned little-endian 64-bit integer;
* ``N`` bytes: a UTF-8 JSON object (padded with spaces to a multiple of 8 bytes) mapping each
  tensor's name to ``{"dtype": "F32" | "F64" | "I64" | "BOOL", "shape": [...],
  "data_offsets": [begin, end]}``, plus an optional ``"__metadata__"`` object of string
  values;
* the tensors' bytes, row-major, little-endian, one after another (offsets count from the
  first byte after the header).

What :func:`save` accepts:

* **A flat dict of string keys to tensors** (a module's ``state_dict()``). The file is a plain
  safetensors file: ``safetensors.numpy.load_file`` or ``safetensors.torch.load_file`` read
  it as it is. The dict's order is kept (our writer stores names in that order).
* **Anything else built from dicts, lists, tuples, tensors, and JSON values** (``None``,
  bools, ints, floats, strings): an optimizer's ``state_dict()``, ``{"model": ...,
  "optimizer": ..., "epoch": 3}``, a single tensor. Each tensor is stored under its dotted
  path (``optimizer.state.0.exp_avg``), and the structure, with every non-tensor value, is
  kept as JSON in ``__metadata__["rustgrad.structure"]``. Dict keys may be strings or ints;
  tuples come back as tuples.

Limits: tensors are written as independent copies (two tensors sharing storage load as two
tensors; CUDA tensors are copied to the host and load on the CPU unless ``map_location`` says
otherwise); ``requires_grad`` and the autograd graph are not saved (loaded tensors are leaves that
do not require grad). :func:`load` also reads safetensors files written elsewhere with dtypes
``F16``/``BF16`` (as float32), ``I8``/``I16``/``I32``/``U8``/``U16``/``U32`` (as int64) besides
the four above.
"""

import json
import os
import struct
from collections import OrderedDict

import numpy as np

from rustgrad import _core

__all__ = ["load", "save"]

Tensor = _core.Tensor

_FORMAT_KEY = "rustgrad.format"
_STRUCTURE_KEY = "rustgrad.structure"
_FORMAT_VERSION = "1"

# rustgrad dtype -> (safetensors name, NumPy little-endian dtype)
_WRITE_DTYPES = {
    _core.float32: ("F32", "<f4"),
    _core.float64: ("F64", "<f8"),
    _core.int64: ("I64", "<i8"),
    _core.bool_: ("BOOL", "|b1"),
}
# safetensors name -> (NumPy dtype stored in the file, NumPy dtype of the loaded tensor)
_READ_DTYPES = {
    "F32": ("<f4", np.float32),
    "F64": ("<f8", np.float64),
    "I64": ("<i8", np.int64),
    "BOOL": ("|b1", np.bool_),
    "F16": ("<f2", np.float32),
    "I8": ("|i1", np.int64),
    "I16": ("<i2", np.int64),
    "I32": ("<i4", np.int64),
    "U8": ("|u1", np.int64),
    "U16": ("<u2", np.int64),
    "U32": ("<u4", np.int64),
}
_MAX_HEADER = 100 * 1024 * 1024


# ----- save ------------------------------------------------------------------------------------


def _is_flat_state_dict(obj):
    return (
        isinstance(obj, dict)
        and len(obj) > 0
        and "__metadata__" not in obj
        and all(isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items())
    )


def _flatten(obj, path, tensors):
    """The JSON description of ``obj``; its tensors go into ``tensors`` under dotted names."""
    if isinstance(obj, Tensor):
        name = ".".join(path) if path else "tensor"
        if name == "__metadata__":
            raise ValueError("rustgrad.save: '__metadata__' is reserved by the file format")
        if name in tensors:
            raise ValueError(
                f"rustgrad.save: two tensors would be stored under the name {name!r} "
                "(dict keys containing '.' collide with nesting); rename one of them"
            )
        tensors[name] = obj
        return {"tensor": name}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(
                    f"rustgrad.save: dict keys must be str or int, got {type(key).__name__}"
                )
            items.append([key, _flatten(value, [*path, str(key)], tensors)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_flatten(v, [*path, str(i)], tensors) for i, v in enumerate(obj)]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    raise TypeError(
        f"rustgrad.save: cannot store a value of type {type(obj).__name__} (only tensors, "
        "dicts, lists, tuples, None, bool, int, float and str; rustgrad never pickles)"
    )


def _tensor_bytes(tensor):
    dtype = tensor.dtype
    if dtype not in _WRITE_DTYPES:
        raise TypeError(f"rustgrad.save: unsupported dtype {dtype}")
    name, np_dtype = _WRITE_DTYPES[dtype]
    array = np.ascontiguousarray(tensor.detach().cpu().numpy(), dtype=np_dtype)
    return name, list(tensor.shape), array.tobytes()


def _encode(tensors, metadata):
    header = OrderedDict()
    if metadata:
        header["__metadata__"] = metadata
    chunks = []
    offset = 0
    for name, tensor in tensors.items():
        dtype, shape, data = _tensor_bytes(tensor)
        header[name] = {
            "dtype": dtype,
            "shape": shape,
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return b"".join([struct.pack("<Q", len(text)), text, *chunks])


def save(obj, f):
    """Write ``obj`` (a state dict, an optimizer state dict, or a nest of them; see the module
    docstring) to ``f``, a path or a binary file object, in the safetensors format."""
    tensors = OrderedDict()
    if _is_flat_state_dict(obj):
        tensors.update(obj)
        metadata = {_FORMAT_KEY: _FORMAT_VERSION}
    else:
        structure = _flatten(obj, [], tensors)
        metadata = {
            _FORMAT_KEY: _FORMAT_VERSION,
            _STRUCTURE_KEY: json.dumps(structure, separators=(",", ":")),
        }
    data = _encode(tensors, metadata)
    if hasattr(f, "write"):
        f.write(data)
    else:
        with open(os.fspath(f), "wb") as fh:
            fh.write(data)


# ----- load ------------------------------------------------------------------------------------


def _decode(buf):
    if len(buf) < 8:
        raise ValueError("rustgrad.load: not a safetensors file (shorter than 8 bytes)")
    (n,) = struct.unpack("<Q", buf[:8])
    if n > min(_MAX_HEADER, len(buf) - 8):
        raise ValueError(f"rustgrad.load: not a safetensors file (header length {n} is invalid)")
    try:
        header = json.loads(bytes(buf[8 : 8 + n]).decode("utf-8"), object_pairs_hook=OrderedDict)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"rustgrad.load: the safetensors header is not valid JSON: {err}") from err
    if not isinstance(header, dict):
        raise ValueError("rustgrad.load: the safetensors header is not a JSON object")  # noqa: TRY004
    metadata = header.pop("__metadata__", None) or {}
    data = buf[8 + n :]
    tensors = OrderedDict()
    for name, info in header.items():
        try:
            dtype, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"rustgrad.load: bad header entry for tensor {name!r}") from err
        if dtype not in _READ_DTYPES:
            raise ValueError(f"rustgrad.load: tensor {name!r} has unsupported dtype {dtype}")
        file_dtype, out_dtype = _READ_DTYPES[dtype]
        file_dtype = np.dtype(file_dtype)
        count = 1
        for size in shape:
            count *= int(size)
        if not 0 <= begin <= end <= len(data) or end - begin != count * file_dtype.itemsize:
            raise ValueError(
                f"rustgrad.load: tensor {name!r}: data_offsets {[begin, end]} do not fit its "
                f"shape {shape} and dtype {dtype} (or the file is truncated)"
            )
        array = np.frombuffer(data, dtype=file_dtype, count=count, offset=begin)
        array = array.astype(out_dtype).reshape([int(s) for s in shape])
        tensors[name] = _core.from_numpy(np.ascontiguousarray(array))
    return tensors, metadata


def _unflatten(node, tensors):
    if "tensor" in node:
        return tensors[node["tensor"]]
    if "dict" in node:
        return {key: _unflatten(value, tensors) for key, value in node["dict"]}
    if "list" in node:
        return [_unflatten(v, tensors) for v in node["list"]]
    if "tuple" in node:
        return tuple(_unflatten(v, tensors) for v in node["tuple"])
    if "value" in node:
        return node["value"]
    raise ValueError(f"rustgrad.load: unknown structure entry {node!r}")


def _map_device(map_location):
    """The device named by ``load``'s ``map_location`` (None: stay on the CPU)."""
    if map_location is None:
        return None
    if isinstance(map_location, (str, _core.device)):
        try:
            return _core.device(map_location)
        except (RuntimeError, ValueError, TypeError):
            pass
    raise RuntimeError(
        f"rustgrad.load: map_location={map_location!r} is not supported "
        "(give a device: 'cpu', 'cuda', 'cuda:0' or a rustgrad.device)"
    )


def load(f, map_location=None, weights_only=True):
    """Read what :func:`save` wrote (or any safetensors file) from a path or binary file.

    A flat state dict comes back as an ``OrderedDict`` of tensors in file order; a structured
    object (optimizer state dict, nested dicts) comes back as it was saved. Tensors load on the
    CPU (wherever they were saved from), or on ``map_location``: a device such as ``"cpu"``,
    ``"cuda"`` or a ``rustgrad.device``. ``weights_only`` is accepted for PyTorch
    compatibility (loading never runs code either way).
    """
    device = _map_device(map_location)
    if hasattr(f, "read"):
        buf = f.read()
    else:
        with open(os.fspath(f), "rb") as fh:
            buf = fh.read()
    tensors, metadata = _decode(memoryview(buf) if isinstance(buf, bytes) else buf)
    if device is not None and device.type != "cpu":
        tensors = OrderedDict((name, t.to(device)) for name, t in tensors.items())
    structure = metadata.get(_STRUCTURE_KEY)
    if structure is None:
        return tensors
    try:
        node = json.loads(structure)
    except json.JSONDecodeError as err:
        raise ValueError(f"rustgrad.load: bad {_STRUCTURE_KEY} metadata: {err}") from err
    return _unflatten(node, tensors)
