"""``rustgrad.save`` / ``rustgrad.load``: PyTorch's checkpoint format (``_torch_format``), and
the safetensors format for paths ending in ``.safetensors``.

What follows describes the safetensors files. Their layout is safetensors'
(https://github.com/huggingface/safetensors), so other tools
read what rustgrad writes, and loading runs no code unless the file holds pickled objects (a
whole module) and ``weights_only=False`` is given, as PyTorch's ``torch.load``:

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
  it as it is. The dict's order is kept (our writer stores names in that order), and so is its
  type: an ``OrderedDict`` (a state dict) loads as one, a plain ``dict`` as a ``dict``.
* **Anything else built from dicts, lists, tuples, tensors, and JSON values** (``None``,
  bools, ints, floats, strings): an optimizer's ``state_dict()``, ``{"model": ...,
  "optimizer": ..., "epoch": 3}``, a single tensor. Each tensor is stored under its dotted
  path (``optimizer.state.0.exp_avg``), and the structure, with every non-tensor value, is
  kept as JSON in ``__metadata__["rustgrad.structure"]``. Dict keys may be strings or ints;
  tuples come back as tuples.
* **Any other object** (``rustgrad.save(model, PATH)``, a whole ``nn.Module``): pickled, as
  PyTorch's ``torch.save`` does, its bytes stored as a uint8 tensor in the same file. Loading
  it runs the pickle's code, so ``load`` refuses it by default (``weights_only=True``, PyTorch's
  default since 2.6) with PyTorch's ``UnpicklingError``; ``weights_only=False`` loads it (only
  for files from a trusted source). The classes it names must be importable where it loads.

The ``safetensors`` package writes and reads the files: its reader validates the header
(offsets that cover the data exactly, without overlaps or holes; integer shapes that match the
byte counts; a bounded header length) and memory-maps the file. A file that fails raises
``ValueError`` naming the file, with safetensors' reason (a stream is read only as far as its
header says). A flat state dict's order is kept in ``__metadata__["rustgrad.keys"]``
(safetensors orders the header by dtype and name); files without it (those of rustgrad's own
earlier writer, or of other tools) load in their header's order.

Limits: tensors are written as independent copies (two tensors sharing storage load as two
tensors; CUDA tensors are copied to the host and load on the CPU unless ``map_location`` says
otherwise); ``requires_grad`` and the autograd graph are not saved (loaded tensors are leaves that
do not require grad). :func:`load` also reads safetensors files written elsewhere with dtypes
``F16``/``BF16``/``I8``/``I16``/``I32``/``U8`` (keeping their dtype), ``U16``/``U32`` (as
int64) besides the four above; a ``BOOL`` byte other than 0 loads as True.
"""

import io
import json
import os
import pickle
import struct
from collections import OrderedDict

import numpy as np

from rustgrad import _core

__all__ = ["load", "save"]

Tensor = _core.Tensor

_FORMAT_KEY = "rustgrad.format"
_STRUCTURE_KEY = "rustgrad.structure"
# The names of a flat state dict in the dict's order (safetensors' writer orders the header by
# dtype and name; files without this key load in their header's order).
_KEYS_KEY = "rustgrad.keys"
_FORMAT_VERSION = "1"
# Set on a flat dict saved as a plain ``dict`` (not an ``OrderedDict`` such as a state dict),
# so that it loads back as one.
_PLAIN_DICT_KEY = "rustgrad.plain_dict"

# rustgrad dtype -> NumPy little-endian dtype written
_WRITE_DTYPES = {
    _core.float32: np.dtype("<f4"),
    _core.float64: np.dtype("<f8"),
    _core.int64: np.dtype("<i8"),
    _core.bool_: np.dtype("|b1"),
    _core.float16: np.dtype("<f2"),
    _core.int32: np.dtype("<i4"),
    _core.int16: np.dtype("<i2"),
    _core.int8: np.dtype("|i1"),
    _core.uint8: np.dtype("|u1"),
}
# safetensors dtype -> (NumPy dtype of its bytes in the file, NumPy dtype of the loaded tensor);
# the unsigned types rustgrad lacks (U16, U32) widen to int64 exactly; BF16 is read through
# float32 and rounded back (exact).
_READ_DTYPES = {
    "F32": ("<f4", np.float32),
    "F64": ("<f8", np.float64),
    "I64": ("<i8", np.int64),
    "BOOL": ("|u1", np.bool_),  # (read as bytes: safetensors checks nothing about their values)
    "F16": ("<f2", np.float16),
    "BF16": ("<u2", np.float32),  # the top 16 bits of a float32
    "I8": ("|i1", np.int8),
    "I16": ("<i2", np.int16),
    "I32": ("<i4", np.int32),
    "U8": ("|u1", np.uint8),
    "U16": ("<u2", np.int64),
    "U32": ("<u4", np.int64),
}
# safetensors refuses larger headers too; checked here before reading from a file object
_MAX_HEADER = 100 * 1024 * 1024


# ----- save ------------------------------------------------------------------------------------


def _is_flat_state_dict(obj):
    return (
        isinstance(obj, dict)
        and len(obj) > 0
        and "__metadata__" not in obj
        and all(
            isinstance(k, str) and isinstance(v, Tensor) and not v.is_meta for k, v in obj.items()
        )
    )


def _flatten(obj, path, tensors):
    """The JSON description of ``obj``; its tensors go into ``tensors`` under dotted names."""
    if isinstance(obj, Tensor) and obj.is_meta:
        # No values to write: the structure keeps its shape and dtype (loaded back as meta).
        return {"meta": [list(obj.shape), repr(obj.dtype).rsplit(".", 1)[-1]]}
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
    # Anything else is pickled, as torch.save does (loaded only with weights_only=False).
    name = ".".join(path) if path else "object"
    if name in tensors or name == "__metadata__":
        raise ValueError(f"rustgrad.save: two values would be stored under the name {name!r}")
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    tensors[name] = _core.from_numpy(np.frombuffer(data, dtype=np.uint8).copy())
    return {"pickle": name}


def _array(tensor):
    if tensor.dtype not in _WRITE_DTYPES:
        raise TypeError(f"rustgrad.save: unsupported dtype {tensor.dtype}")
    # np.array, not ascontiguousarray: that makes a 0-d array 1-d
    return np.array(tensor.detach().cpu().numpy(), dtype=_WRITE_DTYPES[tensor.dtype], order="C")


def save(
    obj,
    f,
    pickle_module=None,
    pickle_protocol=2,
    _use_new_zipfile_serialization=True,
    _disable_byteorder_record=False,
):
    """Write ``obj`` to ``f``, a path or a binary file object: in PyTorch's checkpoint format
    (``torch.save``'s zip archive, which ``torch.load`` reads), or in the safetensors format
    when ``f`` is a path ending in ``.safetensors``. PyTorch's other arguments are accepted
    and ignored (the archive is always the zip format, pickled with protocol 2)."""
    if hasattr(f, "write") or not os.fspath(f).endswith(".safetensors"):
        from rustgrad import _torch_format

        _torch_format.save(obj, f)
        return
    _save_safetensors(obj, f)


def _save_safetensors(obj, f):
    """Write ``obj`` (a state dict, an optimizer state dict, or a nest of them; see the module
    docstring) in the safetensors format (written by the ``safetensors`` package)."""
    from safetensors.numpy import save as st_save

    tensors = OrderedDict()
    if _is_flat_state_dict(obj):
        tensors.update(obj)
        metadata = {_FORMAT_KEY: _FORMAT_VERSION, _KEYS_KEY: json.dumps(list(tensors))}
        if type(obj) is dict:
            metadata[_PLAIN_DICT_KEY] = "1"
    else:
        structure = _flatten(obj, [], tensors)
        metadata = {
            _FORMAT_KEY: _FORMAT_VERSION,
            _STRUCTURE_KEY: json.dumps(structure, separators=(",", ":")),
        }
    data = st_save({name: _array(t) for name, t in tensors.items()}, metadata=metadata)
    if hasattr(f, "write"):
        f.write(data)
    else:
        with open(os.fspath(f), "wb") as fh:
            fh.write(data)


# ----- load ------------------------------------------------------------------------------------


def _bad(source, err):
    return ValueError(f"rustgrad.load: {source} is not a valid safetensors file: {err}")


def _convert(name, dtype, shape, raw, source):
    """A tensor from the raw little-endian bytes of a validated entry."""
    if dtype not in _READ_DTYPES:
        raise ValueError(f"rustgrad.load: {source}: tensor {name!r} has unsupported dtype {dtype}")
    file_dtype, out_dtype = _READ_DTYPES[dtype]
    array = np.frombuffer(raw, dtype=file_dtype).reshape(shape)
    if dtype == "BF16":
        array = (array.astype("<u4") << 16).view("<f4")
    elif dtype == "BOOL":
        array = array != 0  # any nonzero byte is True (a Rust bool must be 0 or 1)
    t = _core.from_numpy(np.array(array, dtype=out_dtype, order="C"))
    return t.to(_core.bfloat16) if dtype == "BF16" else t


def _header_order(header_bytes):
    try:
        pairs = json.loads(bytes(header_bytes).decode("utf-8"), object_pairs_hook=list)
        return [k for k, _ in pairs if k != "__metadata__"]
    except (UnicodeDecodeError, ValueError, TypeError):
        return []


def _read_stream(fh, source):
    """The bytes of one safetensors file from a stream: 8 + header + data bytes, no more (the
    header bounds what is read: a stream such as /dev/zero cannot make it read forever)."""
    head = fh.read(8)
    if len(head) < 8:
        return head  # (safetensors: "header too small")
    (n,) = struct.unpack("<Q", head)
    if n > _MAX_HEADER:
        raise _bad(source, f"header too large ({n} bytes)")
    header = fh.read(n)
    if len(header) < n:
        return head + header  # (safetensors reports it)
    end = 0
    try:
        for key, info in json.loads(header.decode("utf-8")).items():
            if key != "__metadata__":
                end = max(end, int(info["data_offsets"][1]))
    except Exception:  # noqa: BLE001, S110 (safetensors reports what is wrong below)
        pass
    try:  # a seekable file: refuse at once data that it does not hold
        here = fh.tell()
        size = fh.seek(0, os.SEEK_END)
        fh.seek(here)
        if end > size - here:
            raise _bad(
                source, f"truncated data, file not fully covered ({size - here} of {end} bytes)"
            )
    except (AttributeError, OSError, ValueError) as err:
        if isinstance(err, ValueError) and str(err).startswith("rustgrad.load"):
            raise
    chunks, left = [], end
    while left > 0:  # (in pieces: an endless stream claiming a huge size fails by running dry)
        chunk = fh.read(min(left, 1 << 26))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return head + header + b"".join(chunks)


def _decode(f):
    """``(OrderedDict of tensors, metadata)`` of a path or a binary file object."""
    from safetensors import SafetensorError, deserialize, safe_open

    if hasattr(f, "read"):
        source = "the file object"
        buf = _read_stream(f, source)
        try:
            entries = deserialize(buf)
        except SafetensorError as err:
            raise _bad(source, err) from err
        (n,) = struct.unpack("<Q", buf[:8])
        meta = json.loads(buf[8 : 8 + n]).get("__metadata__") or {}
        order = _header_order(buf[8 : 8 + n])
        tensors = {
            name: _convert(name, e["dtype"], e["shape"], e["data"], source) for name, e in entries
        }
    else:
        path = os.fspath(f)
        source = repr(path)
        tensors = {}
        try:
            # validates the header (offsets contiguous, no overlaps or holes, integer shapes,
            # sizes that match) and memory-maps the file
            with safe_open(path, framework="numpy") as st:
                meta = st.metadata() or {}
                names = list(st.keys())
            with open(path, "rb") as fh:
                (n,) = struct.unpack("<Q", fh.read(8))
                header = fh.read(n)
            order = _header_order(header)
            infos = json.loads(header)
            with open(path, "rb") as fh:
                mapped = np.memmap(fh, dtype=np.uint8, mode="r") if os.path.getsize(path) else b""
                for name in names:
                    begin, end = infos[name]["data_offsets"]
                    raw = mapped[8 + n + begin : 8 + n + end]
                    tensors[name] = _convert(
                        name, infos[name]["dtype"], infos[name]["shape"], raw, source
                    )
                del mapped
        except SafetensorError as err:
            raise _bad(source, err) from err
    keys = meta.get(_KEYS_KEY)
    try:
        keys = json.loads(keys) if keys is not None else None
    except ValueError:
        keys = None
    if not (isinstance(keys, list) and sorted(map(str, keys)) == sorted(tensors)):
        keys = order if sorted(order) == sorted(tensors) else sorted(tensors)
    return OrderedDict((k, tensors[k]) for k in keys), meta


_WEIGHTS_ONLY_REFUSAL = (
    "Weights only load failed. This file can still be loaded, to do so you have two options, "
    "do those steps only if you trust the source of the checkpoint. \n\t(1) In PyTorch 2.6, "
    "we changed the default value of the `weights_only` argument in `torch.load` from `False` "
    "to `True`. Re-running `torch.load` with `weights_only` set to `False` will likely "
    "succeed, but it can result in arbitrary code execution. Do it only if you got the file "
    "from a trusted source.\n\t(2) rustgrad.load: the file holds a pickled {what} (saved by "
    "rustgrad.save of an object that is not tensors, containers and plain values); "
    "weights_only=True never unpickles."
)


def _unflatten(node, tensors, weights_only):
    if not isinstance(node, dict) or len(node) != 1:
        raise ValueError(f"rustgrad.load: unknown structure entry {node!r}")
    if "tensor" in node:
        return tensors[node["tensor"]]
    if "pickle" in node:
        data = tensors[node["pickle"]]
        if data.dtype != _core.uint8 or data.dim() != 1:
            raise ValueError(f"rustgrad.load: pickled entry {node['pickle']!r} is not bytes")
        if weights_only:
            raise pickle.UnpicklingError(_WEIGHTS_ONLY_REFUSAL.format(what=repr(node["pickle"])))
        return pickle.loads(data.numpy().tobytes())  # (weights_only=False: a trusted file)
    if "dict" in node:
        return {key: _unflatten(value, tensors, weights_only) for key, value in node["dict"]}
    if "list" in node:
        return [_unflatten(v, tensors, weights_only) for v in node["list"]]
    if "tuple" in node:
        return tuple(_unflatten(v, tensors, weights_only) for v in node["tuple"])
    if "value" in node:
        return node["value"]
    if "meta" in node:
        shape, dtype_name = node["meta"]
        dtype = getattr(_core, "bool_" if dtype_name == "bool" else dtype_name, None)
        if not isinstance(dtype, _core.dtype):
            raise ValueError(f"rustgrad.load: unknown dtype in {node!r}")
        return _core.zeros(tuple(shape), dtype=dtype, device="meta")
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


def _first_archive_end(data: bytes) -> int:
    """Where the first zip archive in ``data`` ends: after the first end-of-central-directory
    record (and its comment) that closes the archive starting at 0 — its central directory
    ends where the record starts (or a zip64 locator precedes it), it lists entries, and the
    archive reads — so a record's signature inside a tensor's bytes does not count; else the
    end of ``data``."""
    import zipfile

    at = data.find(b"PK\x05\x06")
    while at != -1 and at + 22 <= len(data):
        entries, cd_size, cd_offset, comment = struct.unpack_from("<HIIH", data, at + 10)
        end = at + 22 + comment
        closes = cd_offset + cd_size == at or _zip64_closes(data, at)
        if end <= len(data) and entries > 0 and closes:
            try:
                with zipfile.ZipFile(io.BytesIO(data[:end])) as archive:
                    archive.namelist()
                return end
            except (zipfile.BadZipFile, ValueError, OSError, EOFError):
                pass
        at = data.find(b"PK\x05\x06", at + 1)
    return len(data)


def _zip64_closes(data: bytes, at: int) -> bool:
    """Whether a zip64 locator before the record at ``at`` points at a zip64 end record
    right before it, whose central directory ends where that record starts (PyTorch's
    writer adds both to every archive)."""
    if at < 76 or data[at - 20 : at - 16] != b"PK\x06\x07":
        return False
    (record,) = struct.unpack_from("<Q", data, at - 12)
    if record + 56 != at - 20 or data[record : record + 4] != b"PK\x06\x06":
        return False
    cd_size, cd_offset = struct.unpack_from("<QQ", data, record + 40)
    return cd_offset + cd_size == record


def _torch_checkpoint(f):
    """The bytes of ``f`` when it is a PyTorch zip checkpoint (else None, nothing consumed
    from a file object that cannot seek)."""
    from rustgrad import _torch_format

    if hasattr(f, "read"):
        try:
            here = f.tell()
            head = f.read(4)
            if _torch_format.is_torch_zip(head):
                data = head + f.read()
                # (as PyTorch, the archive that starts here, and the position after it: a
                # buffer may hold several checkpoints one after another)
                end = _first_archive_end(data)
                f.seek(here + end)
                return data[:end]
            f.seek(here)
        except (AttributeError, OSError, ValueError):
            pass
        return None
    with open(os.fspath(f), "rb") as fh:
        return fh.read() if _torch_format.is_torch_zip(fh.read(4)) and fh.seek(0) == 0 else None


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **kwargs):
    """Read a PyTorch checkpoint (``torch.save``'s zip archive, from rustgrad or PyTorch), what
    :func:`save` wrote to a ``.safetensors`` path, or any safetensors file, from a path or a
    binary file object. ``map_location`` is a device, a dict of location names, or a function
    ``(storage, location)``; with it None, tensors load where they were saved.

    A flat state dict comes back as an ``OrderedDict`` of tensors in file order; a structured
    object (optimizer state dict, nested dicts) comes back as it was saved. Tensors load on the
    CPU (wherever they were saved from), or on ``map_location``: a device such as ``"cpu"``,
    ``"cuda"`` or a ``rustgrad.device`` (pickled objects keep their tensors' own devices).
    Pickled objects (a whole module) load only with ``weights_only=False``: unpickling runs
    code, so the default ``weights_only=True`` raises PyTorch's ``UnpicklingError``.
    """
    data = _torch_checkpoint(f)
    if data is not None:
        from rustgrad import _torch_format

        device = None if callable(map_location) or isinstance(map_location, dict) else _map_device(map_location)  # fmt: skip
        source = "the file object" if hasattr(f, "read") else repr(os.fspath(f))
        return _torch_format.load(data, map_location, device, weights_only, source)
    device = _map_device(map_location)
    tensors, metadata = _decode(f)
    if device is not None and device.type != "cpu":
        tensors = OrderedDict((name, t.to(device)) for name, t in tensors.items())
    structure = metadata.get(_STRUCTURE_KEY)
    if structure is None:
        return dict(tensors) if metadata.get(_PLAIN_DICT_KEY) == "1" else tensors
    try:
        return _unflatten(json.loads(structure), tensors, weights_only)
    except (ValueError, KeyError, TypeError, RecursionError) as err:
        # (a hand-made file: a missing tensor, a non-list, nesting deeper than Python's stack)
        raise ValueError(f"rustgrad.load: bad {_STRUCTURE_KEY} metadata: {err!r}") from err
