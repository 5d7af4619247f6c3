"""PyTorch's checkpoint format: what ``torch.save`` writes and ``torch.load`` reads.

A zip archive (stored, not compressed) whose records sit under one folder (``archive/``):

* ``data.pkl``: the saved object, pickled (protocol 2). A tensor is the call
  ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)``
  (a parameter wraps it in ``torch._utils._rebuild_parameter(tensor, requires_grad, hooks)``),
  where ``storage`` is a persistent id ``("storage", torch.FloatStorage, key, location,
  numel)`` naming the record ``data/<key>``;
* ``data/<key>``: each storage's elements, little-endian;
* ``byteorder`` (``little``), ``version`` (``3``), ``.format_version``,
  ``.storage_alignment``.

So checkpoints move both ways between PyTorch and rustgrad. Reading with ``weights_only=True``
(the default, as in PyTorch 2.6 and later) unpickles only PyTorch's allowed globals (tensors,
parameters, dtypes, devices, sizes, ordered dicts, plain values); any other class raises
PyTorch's ``UnpicklingError``. With ``weights_only=False`` (a trusted file), a class named
under ``torch.`` is looked up under ``rustgrad.`` first.
"""

import io
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np

from rustgrad import _core

_MAGIC = b"PK\x03\x04"

# PyTorch's storage classes: rustgrad dtype name, NumPy dtype of the bytes
_STORAGES = {
    "FloatStorage": ("float32", "<f4"),
    "DoubleStorage": ("float64", "<f8"),
    "HalfStorage": ("float16", "<f2"),
    "BFloat16Storage": ("bfloat16", "<u2"),
    "LongStorage": ("int64", "<i8"),
    "IntStorage": ("int32", "<i4"),
    "ShortStorage": ("int16", "<i2"),
    "CharStorage": ("int8", "|i1"),
    "ByteStorage": ("uint8", "|u1"),
    "BoolStorage": ("bool_", "|u1"),
}
_STORAGE_OF = {getattr(_core, dtype): name for name, (dtype, _) in _STORAGES.items()}


def is_torch_zip(head):
    """Whether a file's first bytes are a zip archive's (PyTorch's format)."""
    return head[:4] == _MAGIC


# ----- save ------------------------------------------------------------------------------------


class _Global:
    """A name the pickle refers to by ``GLOBAL module name`` (PyTorch's functions and
    classes, which need not be importable where the file is written)."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # (the pickler asks reduce functions to be callable)
        raise TypeError(f"{self.module}.{self.name} is only written into pickles")


_REBUILD_TENSOR = _Global("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAMETER = _Global("torch._utils", "_rebuild_parameter")
_REBUILD_META = _Global("torch._utils", "_rebuild_meta_tensor_no_storage")
_DEVICE = _Global("torch", "device")
_SIZE = _Global("torch", "Size")
_STORAGE_GLOBALS = {name: _Global("torch", name) for name in _STORAGES}
_DTYPE_GLOBALS = {}


class _Storage:
    """One tensor's elements, written as record ``data/<key>``."""

    def __init__(self, key, tensor):
        self.key, self.tensor = key, tensor


class _Plain:
    """A tensor pickled without its parameter wrapper."""

    def __init__(self, tensor):
        self.tensor = tensor


def _bytes(tensor):
    """A tensor's elements in PyTorch's storage layout (row-major, little-endian)."""
    t = tensor.detach().cpu().contiguous()
    if t.dtype == _core.bfloat16:  # the top half of each float32 (exact)
        return (t.float().numpy().view("<u4") >> 16).astype("<u2").tobytes()
    return np.ascontiguousarray(t.numpy(), dtype=_STORAGES[_STORAGE_OF[t.dtype]][1]).tobytes()


class _Pickler(pickle._Pickler):
    """The pure-Python pickler (so names can be written as PyTorch's) with tensors as
    PyTorch pickles them and their storages kept aside for the archive."""

    def __init__(self, file):
        super().__init__(file, protocol=2)
        self.storages = []
        # (each storage written once, for every tensor that shares it: views and tied weights
        # load sharing it again, as PyTorch's)
        self.by_storage = {}

    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, _core.dtype):
            obj = _DTYPE_GLOBALS.setdefault(obj, _Global("torch", str(obj).split(".")[-1]))
        if isinstance(obj, _Global):
            memoized = self.memo.get(id(obj))
            if memoized is not None:
                self.write(self.get(memoized[0]))
                return
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
            self.memoize(obj)
            return
        super().save(obj, save_persistent_id)

    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            t = obj.tensor
            kind = _STORAGE_GLOBALS[_STORAGE_OF[t.dtype]]
            location = "cpu" if t.is_cpu else str(t.device)
            return ("storage", kind, obj.key, location, t.numel())
        return None

    def reducer_override(self, obj):
        from rustgrad._size import Size

        if isinstance(obj, _core.device):
            return (_DEVICE, (str(obj),))
        if isinstance(obj, Size):
            return (_SIZE, (tuple(obj),))
        from rustgrad.nn.parameter import Parameter

        if isinstance(obj, Parameter):
            return (_REBUILD_PARAMETER, (_Plain(obj), obj.requires_grad, OrderedDict()))
        if isinstance(obj, (_core.Tensor, _Plain)):
            t = obj.tensor if isinstance(obj, _Plain) else obj
            if t.dtype not in _STORAGE_OF:
                raise TypeError(f"rustgrad.save: unsupported dtype {t.dtype}")
            shape = tuple(t.shape)
            grad = bool(t.requires_grad and t.is_leaf and not isinstance(obj, _Plain))
            if t.device.type == "meta":  # a shape without data
                stride, step = [], 1
                for size in reversed(shape):
                    stride.append(step)
                    step *= max(size, 1)
                return (_REBUILD_META, (t.dtype, shape, tuple(reversed(stride)), grad))
            key = t._storage_id()
            storage = self.by_storage.get(key)
            if storage is None:
                storage = _Storage(str(len(self.storages)), t._storage_elements())
                self.storages.append(storage)
                self.by_storage[key] = storage
            place = (t.storage_offset(), shape, tuple(t.stride()))
            return (_REBUILD_TENSOR, (storage, *place, grad, OrderedDict()))
        return NotImplemented


def save(obj, f):
    """Write ``obj`` to ``f`` (a path or a binary file object) as ``torch.save`` does."""
    pickled = io.BytesIO()
    pickler = _Pickler(pickled)
    pickler.dump(obj)
    if hasattr(f, "write"):
        name = "archive"
    else:
        name = os.path.splitext(os.path.basename(os.fspath(f)))[0] or "archive"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{name}/data.pkl", pickled.getvalue())
        archive.writestr(f"{name}/.format_version", "1")
        archive.writestr(f"{name}/.storage_alignment", "64")
        archive.writestr(f"{name}/byteorder", "little")
        for storage in pickler.storages:
            archive.writestr(f"{name}/data/{storage.key}", _bytes(storage.tensor))
        archive.writestr(f"{name}/version", "3\n")
    if hasattr(f, "write"):
        f.write(buffer.getvalue())
    else:
        with open(os.fspath(f), "wb") as fh:
            fh.write(buffer.getvalue())


# ----- load ------------------------------------------------------------------------------------

# The globals a weights-only load unpickles (PyTorch's allowed set, as far as rustgrad has them).
_SAFE_BUILTINS = {
    ("collections", "OrderedDict"): OrderedDict,
    **{
        (module, t.__name__): t
        for module in ("builtins", "__builtin__")  # (protocol 2 writes Python 2's name)
        for t in (set, bytearray, complex)  # (PyTorch's allowed builtins)
    },
}


def _weights_only_error(module, name):
    return pickle.UnpicklingError(
        "Weights only load failed. This file can still be loaded, to do so you have two "
        "options, do those steps only if you trust the source of the checkpoint. \n\t(1) In "
        "rustgrad, the `weights_only` argument of `rustgrad.load` defaults to True. Re-running "
        "`rustgrad.load` with `weights_only` set to `False` will likely succeed, but it can "
        "result in arbitrary code execution. Do it only if you got the file from a trusted "
        f"source.\n\t(2) Unsupported global: GLOBAL {module}.{name} was not an allowed global "
        "by default."
    )


class _LoadedStorage:
    """A storage read from the archive (what ``persistent_load`` gives): the only thing
    ``_rebuild_tensor_v2`` takes as its first argument."""

    def __init__(self, tensor):
        self.tensor = tensor  # 1-d, contiguous, owning its memory


# A view whose distinct elements outnumber its storage's (overlapping strides, as of
# ``unfold``) is copied out; beyond this many elements a file could make a small archive
# into a huge allocation, so it is refused instead.
_MAX_OVERLAP = 1 << 24


def _geometry_error(what):
    return pickle.UnpicklingError(f"rustgrad.load: bad tensor in the checkpoint: {what}")


def _ints(values, what):
    values = tuple(values)
    if not all(type(v) is int for v in values):
        raise _geometry_error(f"{what} {values!r} is not a tuple of ints")
    return values


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, *_):
    """``torch._utils._rebuild_tensor_v2``: a view of a loaded storage, checked to lie in it.
    Dims of stride 0 (an expanded tensor) stay expanded."""
    if not isinstance(storage, _LoadedStorage):
        raise _geometry_error(f"its storage is a {type(storage).__name__}, not a storage record")
    storage = storage.tensor
    (offset,) = _ints((offset,), "offset")
    size, stride = _ints(size, "size"), _ints(stride, "stride")
    if len(size) != len(stride) or offset < 0 or any(s < 0 for s in size + stride):
        raise _geometry_error(f"size {size}, stride {stride}, offset {offset}")
    if 0 not in size:
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= storage.numel():
            raise _geometry_error(
                f"size {size} and stride {stride} at {offset} reach past its storage of "
                f"{storage.numel()} elements"
            )
    # The dims that move in memory; those of stride 0 are expanded at the end.
    compact = tuple(n if s else 1 for n, s in zip(size, stride))
    numel, contiguous, step = 1, [], 1
    for n in reversed(compact):
        contiguous.append(step)
        step *= max(n, 1)
        numel *= n
    if all(n == 1 or s == c for n, s, c in zip(compact, stride, reversed(contiguous))):
        # A row-major block of the storage: a view of it, so tensors that shared a storage
        # when saved (tied weights) share it again.
        t = storage.narrow(0, offset, numel).view(compact)
    else:
        # Any other layout: its elements, copied (NumPy reads the strides).
        if numel > max(storage.numel(), _MAX_OVERLAP):
            raise _geometry_error(f"a view of {numel} overlapping elements")
        wide = storage.float() if storage.dtype == _core.bfloat16 else storage
        host = wide.detach().cpu().numpy().reshape(-1)
        items = host.itemsize
        strided = np.lib.stride_tricks.as_strided(
            host[offset:], compact, tuple(s * items for s in stride), writeable=False
        )
        t = _core.from_numpy(np.array(strided)).to(storage.device).to(storage.dtype)
    if compact != size:
        t = t.expand(size)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_meta(dtype, size, stride, requires_grad=False, *_):
    """``torch._utils._rebuild_meta_tensor_no_storage``: a meta tensor of that shape."""
    t = _core.zeros(tuple(int(s) for s in size), dtype=dtype, device="meta")
    return t.requires_grad_(True) if requires_grad else t


def _rebuild_parameter(data, requires_grad, *_):
    from rustgrad.nn.parameter import Parameter

    return Parameter(data, requires_grad)


def _dtype_global(name):
    value = getattr(_core, "bool_" if name == "bool" else name, None)
    return value if isinstance(value, _core.dtype) else None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, archive, prefix, map_storage, weights_only):
        super().__init__(file)
        self.archive, self.prefix = archive, prefix
        self.map_storage, self.weights_only = map_storage, weights_only
        self.loaded = {}

    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if (module, name) == ("torch._utils", "_rebuild_parameter"):
            return _rebuild_parameter
        if (module, name) == ("torch._utils", "_rebuild_meta_tensor_no_storage"):
            return _rebuild_meta
        if (module, name) in _SAFE_BUILTINS:
            return _SAFE_BUILTINS[(module, name)]
        if module == "torch":
            if name in _STORAGES:
                return name
            if name == "device":
                return _core.device
            if name == "Size":
                from rustgrad._size import Size

                return Size
            dtype = _dtype_global(name)
            if dtype is not None:
                return dtype
        if (module, name) == ("_codecs", "encode"):  # (how protocol 2 pickles bytes)
            import _codecs

            return _codecs.encode
        if self.weights_only:
            raise _weights_only_error(module, name)
        if module == "torch" or module.startswith("torch."):
            import importlib

            try:
                return getattr(importlib.import_module("rustgrad" + module[5:]), name)
            except (ImportError, AttributeError):
                pass
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"rustgrad.load: unknown persistent id {pid!r}")
        _, kind, key, location, numel = pid
        if type(numel) is not int or numel < 0 or not isinstance(key, str):
            raise pickle.UnpicklingError(f"rustgrad.load: bad storage record {pid!r}")
        if kind not in _STORAGES:
            raise pickle.UnpicklingError(f"rustgrad.load: unsupported storage {kind!r}")
        if (key, kind) not in self.loaded:
            raw_dtype = _STORAGES[kind][1]
            try:
                raw = self.archive.read(f"{self.prefix}data/{key}")
            except KeyError:
                raise pickle.UnpicklingError(f"rustgrad.load: no record for storage {key!r}")
            array = np.frombuffer(raw, dtype=raw_dtype)
            if array.size < numel:
                raise pickle.UnpicklingError(
                    f"rustgrad.load: storage {key!r} holds {array.size} of {numel} elements"
                )
            array = array[:numel]
            if kind == "BFloat16Storage":
                t = _core.from_numpy((array.astype("<u4") << 16).view("<f4").copy())
                t = t.to(_core.bfloat16)
            elif kind == "BoolStorage":
                t = _core.from_numpy(array != 0)  # any nonzero byte is True
            else:
                t = _core.from_numpy(array.astype(raw_dtype, copy=True))
            self.loaded[(key, kind)] = _LoadedStorage(self.map_storage(t, location))
        return self.loaded[(key, kind)]


def _storage_mapper(map_location, default_device):
    """``map_location`` as PyTorch takes it: a device, a ``{saved: wanted}`` dict of location
    strings, or a function ``(storage, location) -> storage``."""

    def place(t, device):
        return t if device is None or device.type == "cpu" else t.to(device)

    if callable(map_location) and not isinstance(map_location, (str, _core.device)):

        def mapped(t, location):
            out = map_location(t, location)
            return t if out is None else out

        return mapped
    if isinstance(map_location, dict):
        return lambda t, location: place(t, _core.device(map_location.get(location, "cpu")))
    if map_location is None:
        # Where it was saved, where that device exists (PyTorch raises for a missing CUDA).
        return lambda t, location: t if location == "cpu" else t.to(location)
    return lambda t, location: place(t, default_device)


def load(data, map_location, device, weights_only, source):
    """The object in an archive's bytes (see the module docstring)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = [n for n in archive.namelist() if n.endswith("data.pkl")]
    except zipfile.BadZipFile as err:
        raise ValueError(f"rustgrad.load: {source} is not a valid PyTorch checkpoint: {err}")
    if len(names) != 1:
        raise ValueError(f"rustgrad.load: {source} holds no single data.pkl record")
    prefix = names[0][: -len("data.pkl")]
    mapper = _storage_mapper(map_location, device)
    pickled = io.BytesIO(archive.read(names[0]))
    return _Unpickler(pickled, archive, prefix, mapper, weights_only).load()
