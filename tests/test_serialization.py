"""``rustgrad.save`` / ``rustgrad.load``: PyTorch's checkpoint format both ways (files of
``torch.save`` load, ``torch.load`` reads ours), the safetensors layout byte for byte, round
trips of state dicts and optimizer state, files other tools read and write, and malformed
files."""

import io
import json
import struct
from collections import OrderedDict

import numpy as np
import pytest
import rustgrad as rg
from conftest import assert_close, raises
from rustgrad import nn, optim


def _header(path):
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return n, json.loads(raw[8 : 8 + n]), raw[8 + n :]


def test_file_layout_is_safetensors(tmp_path):
    """Written by the safetensors package: its layout (header entries ordered by dtype size
    and name, data contiguous in that order), our metadata, and the dict's order kept in
    ``rustgrad.keys``."""
    sd = OrderedDict(
        [
            ("w", rg.tensor([[1.0, 2.0], [3.0, 4.0]])),
            ("d", rg.tensor([0.5], dtype=rg.float64)),
            ("i", rg.tensor([1, -2, 3])),
            ("b", rg.tensor([True, False])),
            ("scalar", rg.tensor(7.0)),
            ("empty", rg.zeros(0, 3)),
        ]
    )
    path = tmp_path / "sd.safetensors"
    rg.save(sd, path)
    n, header, data = _header(path)
    assert (8 + n) % 8 == 0  # header padded to an 8-byte boundary
    assert header.pop("__metadata__") == {
        "rustgrad.format": "1",
        "rustgrad.keys": json.dumps(list(sd)),
    }
    expected = {
        "w": ("F32", [2, 2], 16),
        "d": ("F64", [1], 8),
        "i": ("I64", [3], 24),
        "b": ("BOOL", [2], 2),
        "scalar": ("F32", [], 4),
        "empty": ("F32", [0, 3], 0),
    }
    end = 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        dtype, shape, nbytes = expected[name]
        assert (info["dtype"], info["shape"]) == (dtype, shape)
        assert info["data_offsets"] == [end, end + nbytes]  # contiguous, no holes
        end += nbytes
    assert len(data) == end == 54
    begin = header["i"]["data_offsets"][0]
    assert np.frombuffer(data[begin : begin + 24], "<i8").tolist() == [1, -2, 3]
    begin = header["b"]["data_offsets"][0]
    assert data[begin : begin + 2] == b"\x01\x00"
    assert list(rg.load(path)) == list(sd)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3), (1,), (2, 3)])
def test_every_dtype_and_shape_round_trips(tmp_path, dtype, shape):
    values = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) - 2.5
    t = rg.tensor(values.astype(dtype))
    for obj in ({"t": t}, t, [t, {"x": (t,)}]):  # flat, bare, nested
        rg.save(obj, tmp_path / "x.safetensors")
        back = rg.load(tmp_path / "x.safetensors")
        leaf = back["t"] if isinstance(back, dict) else back
        if isinstance(back, list):
            assert back[1]["x"][0].shape == t.shape
            leaf = back[0]
        assert leaf.dtype == getattr(rg, dtype) and tuple(leaf.shape) == shape
        np.testing.assert_array_equal(leaf.numpy(), t.numpy())


def test_state_dict_round_trip_keeps_order_dtype_and_values(tmp_path):
    rg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model[2].double()
    path = tmp_path / "model.safetensors"
    rg.save(model.state_dict(), str(path))
    loaded = rg.load(path)
    assert isinstance(loaded, OrderedDict)
    assert list(loaded) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    for key, value in model.state_dict().items():
        assert loaded[key].dtype == value.dtype and loaded[key].shape == value.shape
        assert_close(loaded[key], value.numpy())
        assert not loaded[key].requires_grad and loaded[key].is_leaf
    fresh = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    fresh[2].double()
    fresh.load_state_dict(loaded)
    for p, q in zip(fresh.parameters(), model.parameters()):
        assert p.dtype == q.dtype
        assert_close(p, q.detach().numpy())


def test_non_contiguous_and_grad_requiring_tensors_save_their_values(tmp_path):
    base = rg.arange(12, dtype=rg.float64).reshape(3, 4)
    p = nn.Parameter(rg.ones(2, 2))
    rg.save({"t": base.t(), "col": base[:, 1], "p": p}, tmp_path / "x.safetensors")
    loaded = rg.load(tmp_path / "x.safetensors")
    assert_close(loaded["t"], base.numpy().T)
    assert_close(loaded["col"], base.numpy()[:, 1])
    assert loaded["p"].tolist() == [[1.0, 1.0], [1.0, 1.0]] and not loaded["p"].requires_grad


def test_loaded_tensors_own_their_memory(tmp_path):
    rg.save({"a": rg.zeros(3)}, tmp_path / "a.safetensors")
    a = rg.load(tmp_path / "a.safetensors")["a"]
    a.add_(1.0)  # writable, and independent of the file
    assert a.tolist() == [1.0, 1.0, 1.0]
    assert rg.load(tmp_path / "a.safetensors")["a"].tolist() == [0.0, 0.0, 0.0]


def test_file_objects(tmp_path):
    buf = io.BytesIO()
    rg.save({"x": rg.tensor([1.0, 2.0])}, buf)
    buf.seek(0)
    assert rg.load(buf)["x"].tolist() == [1.0, 2.0]


def test_optimizer_state_dict_round_trip(tmp_path):
    rg.manual_seed(1)
    model = nn.Linear(3, 2)
    opt = optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.99))
    x = rg.randn(6, 3)
    for _ in range(3):
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
    path = tmp_path / "opt.safetensors"
    rg.save(opt.state_dict(), path)
    _, header, _ = _header(path)
    assert "state.0.exp_avg" in header and "state.1.exp_avg_sq" in header
    loaded = rg.load(path)
    sd = opt.state_dict()
    assert loaded["param_groups"] == [
        {k: v for k, v in sd["param_groups"][0].items()}
    ]  # tuples (betas) and lists (params) come back as such
    assert loaded["param_groups"][0]["betas"] == (0.8, 0.99)
    assert set(loaded["state"]) == {0, 1}  # int keys stay ints
    assert loaded["state"][0]["step"] == 3
    assert_close(loaded["state"][1]["exp_avg_sq"], sd["state"][1]["exp_avg_sq"].numpy())
    other = optim.Adam(nn.Linear(3, 2).parameters())
    other.load_state_dict(loaded)
    assert other.param_groups[0]["betas"] == (0.8, 0.99)


def test_checkpoint_with_nested_dicts_and_plain_values(tmp_path):
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(rg.ones(1, 2)).sum().backward()
    opt.step()
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "epoch": 7,
        "best": 0.25,
        "name": "run-1",
        "flags": [True, None],
        "single": rg.tensor(3.0),
    }
    rg.save(checkpoint, tmp_path / "ckpt.safetensors")
    loaded = rg.load(tmp_path / "ckpt.safetensors")
    assert loaded["epoch"] == 7 and loaded["best"] == 0.25 and loaded["name"] == "run-1"
    assert loaded["flags"] == [True, None]
    assert loaded["single"].item() == 3.0
    assert list(loaded["model"]) == ["weight", "bias"]
    assert_close(loaded["model"]["weight"], model.weight.detach().numpy())
    buf = loaded["optimizer"]["state"][0]["momentum_buffer"]
    assert_close(buf, opt.state[model.weight]["momentum_buffer"].numpy())

    rg.save(rg.tensor([1, 2]), tmp_path / "t.safetensors")  # a bare tensor
    assert rg.load(tmp_path / "t.safetensors").tolist() == [1, 2]


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.bn = nn.BatchNorm1d(2)

    def forward(self, x):
        return self.bn(self.fc(x))


def test_whole_module_is_pickled_and_loads_only_with_weights_only_false(tmp_path):
    import pickle

    torch = pytest.importorskip("torch")
    net = _Net()
    path = tmp_path / "net.pt"
    rg.save({"model": net, "epoch": 3}, path)
    # PyTorch's default refuses to unpickle, with PyTorch's error type and first words.
    with pytest.raises(pickle.UnpicklingError, match="^Weights only load failed"):
        rg.load(path)
    with pytest.raises(pickle.UnpicklingError, match="^Weights only load failed"):
        torch_path = tmp_path / "net_torch.pt"
        torch.save(torch.nn.Linear(2, 2), torch_path)
        torch.load(torch_path)
    loaded = rg.load(path, weights_only=False)
    assert loaded["epoch"] == 3 and type(loaded["model"]) is _Net
    x = rg.randn(4, 3)
    net.eval(), loaded["model"].eval()
    assert_close(loaded["model"](x), net(x).detach().numpy())
    assert loaded["model"].fc.weight.requires_grad
    assert list(loaded["model"].state_dict()) == list(net.state_dict())
    rg.save(net, path)  # the object itself, as torch.save(model, PATH)
    assert type(rg.load(path, weights_only=False)) is _Net


def test_unsupported_keys_and_name_clashes_are_refused(tmp_path):
    with raises(TypeError, "dict keys must be str or int"):
        rg.save({(1, 2): rg.zeros(1)}, tmp_path / "bad.safetensors")
    with raises(ValueError, "two tensors would be stored under the name 'a.b'"):
        rg.save({"a": {"b": rg.zeros(1)}, "a.b": rg.zeros(1)}, tmp_path / "bad.safetensors")


def _file(header, data):
    return struct.pack("<Q", len(header)) + header + data


def _entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def _json_file(header, data):
    return _file(json.dumps(header).encode(), data)


_TRAILING = _json_file({"a": _entry("F32", [1], 0, 4)}, b"\0" * 8)  # 4 bytes too many


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"", "header too small"),
        (b"\x01\x02", "header too small"),
        (struct.pack("<Q", 1000) + b"{}", "invalid header length"),
        (struct.pack("<Q", 2**63) + b"{}", "header too large"),  # a huge header length
        (struct.pack("<Q", 4) + b"nope", "invalid JSON"),
        (struct.pack("<Q", 2) + b"[]", "invalid JSON"),
        (struct.pack("<Q", 9) + b'{"x":{}} ', "missing field"),
        (_json_file({"x": _entry("F32", [4], 0, 16)}, b"\0" * 8), "not fully covered"),  # truncated
        (
            _json_file({"a": _entry("F32", [2], 0, 8), "b": _entry("F32", [2], 4, 12)}, b"\0" * 12),
            "invalid offset",  # overlapping
        ),
        (
            _json_file({"a": _entry("F32", [1], 0, 4), "b": _entry("F32", [1], 8, 12)}, b"\0" * 12),
            "invalid offset",  # a hole between them
        ),
        (_TRAILING, "not fully covered"),
        (_json_file({"a": _entry("F32", [1.5], 0, 4)}, b"\0" * 4), "expected usize"),
        (_json_file({"a": _entry("F32", ["2"], 0, 8)}, b"\0" * 8), "invalid JSON"),
        (_json_file({"a": _entry("F32", [-1], 0, 4)}, b"\0" * 4), "invalid JSON"),
        (
            _json_file({"a": _entry("F32", [3], 0, 8)}, b"\0" * 8),
            "invalid shape, data type, or offset",
        ),
        (_json_file({"a": _entry("C64", [1], 0, 8)}, b"\0" * 8), "unsupported dtype C64"),
        (_json_file({"a": _entry("F32", [2**62, 2**62], 0, 4)}, b"\0" * 4), "overflow"),
        (
            _json_file(
                {"__metadata__": {"rustgrad.structure": "[" * 100000 + "]" * 100000}},
                b"",
            ),
            "bad rustgrad.structure metadata",  # (RecursionError before)
        ),
        (
            _json_file({"__metadata__": {"rustgrad.structure": '{"tensor": "nope"}'}}, b""),
            "bad rustgrad.structure metadata",  # (KeyError before)
        ),
        (
            _json_file({"__metadata__": {"rustgrad.structure": '{"list": 3}'}}, b""),
            "bad rustgrad.structure metadata",  # (TypeError before)
        ),
        (
            _json_file({"__metadata__": {"rustgrad.structure": '"tensor"'}}, b""),
            "unknown structure entry",
        ),
    ],
)
def test_malformed_files_raise_value_error_naming_the_file(tmp_path, blob, message):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(blob)
    with raises(ValueError, message):
        rg.load(path)
    # (a stream is read only as far as its header says: bytes after that stay unread)
    if blob != _TRAILING:
        with raises(ValueError, message):  # the same checks on a file object
            rg.load(io.BytesIO(blob))
    if "structure" not in message:
        with raises(ValueError, "bad.safetensors"):
            rg.load(path)


def test_load_of_dev_zero_and_endless_streams_stops_at_once():
    """``load('/dev/zero')`` read without bound before; a stream is read only as far as its
    header says."""
    with raises(ValueError, "/dev/zero"):
        rg.load("/dev/zero")

    class Endless(io.RawIOBase):
        def __init__(self, byte):
            self.byte, self.served = byte, 0

        def readable(self):
            return True

        def readinto(self, buf):
            buf[:] = self.byte * len(buf)
            self.served += len(buf)
            return len(buf)

    huge = _json_file({"a": _entry("F32", [2**40], 0, 2**42)}, b"")
    with raises(ValueError, "truncated data"):  # a seekable file holding less than claimed
        rg.load(io.BytesIO(huge + b"\0" * 64))
    for byte in (b"\0", b"\xff", b"{"):
        stream = Endless(byte)
        with raises(ValueError):
            rg.load(io.BufferedReader(stream))
        assert stream.served < 2 * 1024 * 1024 * 1024  # not read to the end of memory


def test_truncated_file_raises(tmp_path):
    path = tmp_path / "t.safetensors"
    rg.save({"a": rg.ones(100), "b": rg.zeros(3, dtype=rg.int64)}, path)
    raw = path.read_bytes()
    for cut in (len(raw) - 1, len(raw) - 400, 12):
        path.write_bytes(raw[:cut])
        with raises(ValueError, "t.safetensors"):
            rg.load(path)


def test_bool_bytes_other_than_0_and_1_load_as_true(tmp_path):
    """A Rust bool must be 0 or 1: any other byte is normalised (as PyTorch does)."""
    path = tmp_path / "b.safetensors"
    path.write_bytes(_json_file({"b": _entry("BOOL", [4], 0, 4)}, b"\x00\x01\x02\xff"))
    b = rg.load(path)["b"]
    assert b.tolist() == [False, True, True, True]
    assert b.sum().item() == 3


def test_files_of_the_earlier_writer_load_in_header_order(tmp_path):
    """rustgrad's own writer (before the safetensors package wrote the files) stored names in
    the dict's order, without ``rustgrad.keys``: such files still load, in that order."""
    header = {
        "__metadata__": {"rustgrad.format": "1"},
        "z": _entry("F32", [2], 0, 8),
        "a": _entry("I64", [], 8, 16),
        "m": _entry("BOOL", [1], 16, 17),
    }
    data = np.array([1.5, -2], "<f4").tobytes() + np.array(7, "<i8").tobytes() + b"\x01"
    path = tmp_path / "old.safetensors"
    path.write_bytes(_json_file(header, data))
    loaded = rg.load(path)
    assert list(loaded) == ["z", "a", "m"]
    assert loaded["z"].tolist() == [1.5, -2.0]
    assert loaded["a"].shape == () and loaded["a"].item() == 7  # 0-d stays 0-d
    assert loaded["m"].tolist() == [True]


def test_safetensors_package_reads_our_files_and_we_read_its(tmp_path):
    st_numpy = pytest.importorskip("safetensors.numpy")
    rng = np.random.default_rng(0)
    sd = {
        "a": rg.tensor(rng.standard_normal((3, 4)).astype(np.float32)),
        "b": rg.tensor(rng.standard_normal(5)),
        "c": rg.tensor([1, 2, 3]),
        "d": rg.tensor([True, False, True]),
    }
    ours = tmp_path / "ours.safetensors"
    rg.save(sd, ours)
    read = st_numpy.load_file(str(ours))
    assert set(read) == set(sd)
    for key, value in sd.items():
        assert read[key].dtype == value.numpy().dtype
        np.testing.assert_array_equal(read[key], value.numpy())

    theirs = tmp_path / "theirs.safetensors"
    arrays = {
        "f32": rng.standard_normal((2, 3)).astype(np.float32),
        "f64": rng.standard_normal(4),
        "i64": np.arange(5, dtype=np.int64),
        "f16": np.array([0.5, -2.0], dtype=np.float16),
        "i32": np.array([7, -7], dtype=np.int32),
        "u8": np.array([0, 255], dtype=np.uint8),
    }
    st_numpy.save_file(arrays, str(theirs), metadata={"note": "from safetensors"})
    loaded = rg.load(theirs)
    for key, value in arrays.items():
        np.testing.assert_array_equal(loaded[key].numpy(), value)
    assert loaded["f16"].dtype == rg.float16 and loaded["i32"].dtype == rg.int32


def test_safetensors_torch_loads_a_state_dict_into_a_torch_model(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    ours = nn.Linear(3, 2)
    rg.save(ours.state_dict(), tmp_path / "linear.safetensors")
    theirs = torch.nn.Linear(3, 2)
    theirs.load_state_dict(st_torch.load_file(str(tmp_path / "linear.safetensors")))
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    assert_close(theirs(torch.tensor(x)), ours(rg.tensor(x)), rtol=1e-6)


def test_reference_torch_files_load_and_go_back(tmp_path):
    """A file of ``safetensors.torch.save_file`` loads into rustgrad (float16 and bfloat16 as
    float32: rustgrad has no 16-bit floats; narrow integers as int64), and what rustgrad saves
    loads back into PyTorch."""
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    ref = {
        "f32": torch.randn(3, 4),
        "f64": torch.randn(2, dtype=torch.float64),
        "i64": torch.tensor([2**62 + 1, -3]),  # exact beyond 2**53
        "bool": torch.tensor([[True, False]]),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 5),
        "f16": torch.tensor([0.5, -1024.0, 65504.0], dtype=torch.float16),
        "bf16": torch.tensor([1.5, -3.0e38, 2.0**-126], dtype=torch.bfloat16),
        "i32": torch.tensor([2**31 - 1, -(2**31)], dtype=torch.int32),
        "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "t": torch.arange(6.0).reshape(2, 3).t().contiguous(),
    }
    path = tmp_path / "ref.safetensors"
    st_torch.save_file(ref, str(path))
    loaded = rg.load(path)
    for name, value in ref.items():
        t = loaded[name]
        assert tuple(t.shape) == tuple(value.shape), name
        assert t.dtype == getattr(rg, str(value.dtype).split(".")[1]), name  # dtype kept
        if name == "bf16":  # (NumPy has no bfloat16: compared through float32, exact)
            t, value = t.float(), value.float()
        np.testing.assert_array_equal(t.numpy(), value.numpy())
    assert loaded["i64"].tolist()[0] == 2**62 + 1

    loaded.pop("bf16")  # (saving bfloat16 is not supported yet)
    rg.save({k: v for k, v in loaded.items()}, tmp_path / "back.safetensors")
    back = st_torch.load_file(str(tmp_path / "back.safetensors"))
    for name in ("f32", "f64", "i64", "bool", "scalar", "empty", "t", "f16", "i32", "u8"):
        assert back[name].dtype == ref[name].dtype and back[name].shape == ref[name].shape
        assert torch.equal(back[name], ref[name]), name


def test_a_plain_dict_loads_as_a_dict_and_a_state_dict_as_an_ordered_dict(tmp_path):
    # As PyTorch's torch.load gives back the mapping type that was saved.
    plain = {"x": rg.arange(4), "y": rg.zeros(4)}
    rg.save(plain, tmp_path / "plain")
    back = rg.load(tmp_path / "plain")
    assert type(back) is dict and list(back) == ["x", "y"]
    assert back["x"].tolist() == [0, 1, 2, 3]
    state = nn.Linear(2, 3).state_dict()
    rg.save(state, tmp_path / "state")
    assert type(rg.load(tmp_path / "state")) is OrderedDict


# ----- PyTorch's checkpoint format (torch.save's zip archive) ----------------------------------


def _torch():
    return pytest.importorskip("torch")


def test_torch_save_files_load_into_rustgrad(tmp_path):
    """A PyTorch checkpoint (model and optimizer state, plain values, every storage type,
    views of one storage, a parameter, dtypes) loads with PyTorch's values, types and
    sharing; the model's state dict loads into the same rustgrad model."""
    torch = _torch()
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    opt = torch.optim.Adam(net.parameters())
    net(torch.randn(5, 3)).sum().backward()
    opt.step()
    base = torch.randn(6)
    dtypes = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool]  # fmt: skip
    ckpt = {
        "model": net.state_dict(),
        "opt": opt.state_dict(),
        "epoch": 3,
        "dtype": torch.float16,
        "typed": [torch.tensor([1, 0, 3]).to(d) for d in dtypes],
        "halves": (base[:3], base[3:]),
        "transposed": torch.randn(3, 2).t(),
        "scalar": torch.tensor(2.5),
        "param": torch.nn.Parameter(torch.ones(2)),
        "bytes": b"\x00\x01",
    }
    path = tmp_path / "ckpt.pth"
    torch.save(ckpt, path)
    back = rg.load(path)
    assert type(back["model"]) is OrderedDict and list(back["model"]) == list(ckpt["model"])
    ours = rg.nn.Sequential(rg.nn.Linear(3, 4), rg.nn.BatchNorm1d(4))
    ours.load_state_dict(back["model"])
    for name, t in net.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[name].numpy(), t.numpy())
    assert back["opt"]["param_groups"][0]["lr"] == 0.001 and back["epoch"] == 3
    np.testing.assert_array_equal(back["opt"]["state"][0]["exp_avg"].numpy(), ckpt["opt"]["state"][0]["exp_avg"].numpy())  # fmt: skip
    assert back["dtype"] is rg.float16
    for got, want in zip(back["typed"], ckpt["typed"]):
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        assert got.float().tolist() == want.float().tolist()
    a, b = back["halves"]
    assert a.tolist() == base[:3].tolist() and b.tolist() == base[3:].tolist()
    a.add_(1)  # views of one saved storage share it again, as in PyTorch
    assert b.tolist() == base[3:].tolist() and a.tolist() != base[:3].tolist()
    assert back["transposed"].tolist() == ckpt["transposed"].tolist()
    assert back["scalar"].shape == () and back["scalar"].item() == 2.5
    assert isinstance(back["param"], rg.nn.Parameter) and back["param"].requires_grad
    assert back["bytes"] == b"\x00\x01"


def test_rustgrad_checkpoints_load_into_pytorch(tmp_path):
    """``rustgrad.save`` writes PyTorch's format: ``torch.load`` (weights only, its default)
    reads the state dict, the optimizer's state, dtypes, devices and parameters, and the
    model's state dict loads into the same PyTorch model."""
    torch = _torch()
    ours = rg.nn.Sequential(rg.nn.Linear(3, 4), rg.nn.BatchNorm1d(4))
    opt = rg.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    ours(rg.randn(5, 3)).sum().backward()
    opt.step()
    ckpt = {
        "model": ours.state_dict(),
        "opt": opt.state_dict(),
        "t": rg.arange(6).view(2, 3).t(),
        "bf": rg.tensor([1.5, -2.0]).to(rg.bfloat16),
        "flags": rg.tensor([True, False]),
        "dtype": rg.float64,
        "device": rg.device("cpu"),
        "param": rg.nn.Parameter(rg.ones(2)),
    }
    path = tmp_path / "ours.pt"
    rg.save(ckpt, path)
    back = torch.load(path)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    net.load_state_dict(back["model"])
    for name, t in ours.state_dict().items():
        np.testing.assert_array_equal(net.state_dict()[name].numpy(), t.numpy())
    assert back["opt"]["param_groups"][0]["momentum"] == 0.9
    np.testing.assert_array_equal(back["opt"]["state"][0]["momentum_buffer"].numpy(), opt.state_dict()["state"][0]["momentum_buffer"].numpy())  # fmt: skip
    assert back["t"].tolist() == [[0, 3], [1, 4], [2, 5]] and back["t"].dtype == torch.int64
    assert back["bf"].dtype == torch.bfloat16 and back["bf"].tolist() == [1.5, -2.0]
    assert back["flags"].tolist() == [True, False]
    assert back["dtype"] is torch.float64 and back["device"] == torch.device("cpu")
    assert isinstance(back["param"], torch.nn.Parameter) and back["param"].requires_grad
    # Tied weights stay one object; a file object works as a path does.
    w = rg.nn.Parameter(rg.randn(2, 2))
    buf = io.BytesIO()
    rg.save({"a": w, "b": w}, buf)
    buf.seek(0)
    tied = rg.load(buf)
    assert tied["a"] is tied["b"]
    buf.seek(0)
    tied_t = torch.load(buf)
    assert tied_t["a"] is tied_t["b"]


def test_torch_format_weights_only_map_location_and_refusals(tmp_path):
    """Weights-only loading refuses classes with PyTorch's error, ``weights_only=False``
    loads them (``torch.`` names under ``rustgrad.``); ``map_location`` takes a device, a
    dict or a function; a storage record too short or a view past its storage is refused."""
    import pickle
    import zipfile

    torch = _torch()
    path = tmp_path / "whole.pt"
    torch.save(torch.nn.Linear(2, 2), path)
    with pytest.raises(pickle.UnpicklingError, match="^Weights only load failed"):
        rg.load(path)
    loaded = rg.load(path, weights_only=False)
    assert type(loaded) is rg.nn.Linear and tuple(loaded.weight.shape) == (2, 2)
    torch.save({"x": torch.ones(2)}, path)
    for where in ("cpu", rg.device("cpu"), {"cpu": "cpu"}, lambda storage, loc: storage):
        assert rg.load(path, map_location=where)["x"].tolist() == [1.0, 1.0]
    # A hand-made archive whose view reaches past its storage.
    bad = tmp_path / "bad.pt"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, data[:4] if name.endswith("data/0") else data)
    with raises(pickle.UnpicklingError, "holds 1 of 2 elements"):
        rg.load(bad)


def test_crafted_archives_are_refused_and_odd_values_round_trip(tmp_path):
    """A pickle that hands ``_rebuild_tensor_v2`` a tensor for its storage (to read past the
    storage through rows) or a non-int geometry is refused with ``UnpicklingError``; an
    expanded tensor stays expanded (a small file never becomes a large allocation); sets,
    complex numbers, bytearrays and ``Size`` load from either library's files, and what
    PyTorch's weights-only loading refuses (frozensets, slices) is refused."""
    import collections
    import pickle

    from rustgrad import _torch_format as tf

    torch = _torch()

    class Evil:
        def __init__(self, inner, offset, size, stride, as_record=False):
            self.inner, self.as_record = inner, as_record
            self.rest = (offset, size, stride, False, collections.OrderedDict())

    class Crafting(tf._Pickler):
        def reducer_override(self, obj):
            if isinstance(obj, Evil):
                inner = obj.inner
                if obj.as_record:  # a real storage record of the tensor's elements
                    inner = tf._Storage(str(len(self.storages)), obj.inner)
                    self.storages.append(inner)
                return (tf._REBUILD_TENSOR, (inner, *obj.rest))
            return super().reducer_override(obj)

    def crafted(obj):
        buf = io.BytesIO()
        real, tf._Pickler = tf._Pickler, Crafting
        try:
            rg.save(obj, buf)
        finally:
            tf._Pickler = real
        buf.seek(0)
        return buf

    inner = rg.arange(12.0).reshape(3, 4)
    with pytest.raises(pickle.UnpicklingError, match="not a storage record"):
        rg.load(crafted(Evil(inner, 2, (2, 4), (1, 2))))
    with pytest.raises(pickle.UnpicklingError, match="not a tuple of ints"):
        rg.load(crafted(Evil(rg.arange(4.0), 0, (2.0,), (1,), as_record=True)))
    with pytest.raises(pickle.UnpicklingError, match="reach past its storage"):
        rg.load(crafted(Evil(rg.arange(4.0), 1, (2, 2), (2, 1), as_record=True)))
    path = tmp_path / "expanded.pt"
    torch.save({"e": torch.zeros(1).expand(4096, 4096)}, path)
    e = rg.load(path)["e"]
    assert e.shape == (4096, 4096) and e.stride() == (0, 0) and path.stat().st_size < 4096
    values = {"s": {1, 2}, "c": complex(1, 2), "b": bytearray(b"ab")}
    for save, load, size in ((torch.save, rg.load, torch.Size), (rg.save, torch.load, rg.Size), (rg.save, rg.load, rg.Size)):  # fmt: skip
        buf = io.BytesIO()
        save({**values, "size": size([2, 3])}, buf)
        buf.seek(0)
        back = load(buf)
        assert {k: back[k] for k in values} == values
        assert tuple(back["size"]) == (2, 3) and type(back["size"]).__name__ == "Size"
    # What PyTorch's weights-only loading refuses, ours refuses too (a trusted file loads).
    buf = io.BytesIO()
    torch.save({"f": frozenset([3]), "sl": slice(1, 5, 2)}, buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="^Weights only load failed"):
        rg.load(buf)
    buf.seek(0)
    assert rg.load(buf, weights_only=False) == {"f": frozenset([3]), "sl": slice(1, 5, 2)}


@pytest.mark.parametrize("reader", ["rustgrad", "torch"])
def test_saved_views_and_tied_weights_share_their_storage_again(reader):
    """Each storage is written once for every tensor that shares it, at its offset and
    strides, as PyTorch writes it: a view and its base, and tied weights, load sharing."""
    torch = pytest.importorskip("torch")
    lib = rg if reader == "rustgrad" else torch
    x = rg.arange(6.0)
    lin = rg.nn.Linear(3, 3)
    buf = io.BytesIO()
    rg.save({"all": [x, x[2:4]], "tied": {"a": lin.weight.detach(), "b": lin.weight.detach()}}, buf)  # fmt: skip
    buf.seek(0)
    loaded = lib.load(buf)
    base, view = loaded["all"]
    assert view.storage_offset() == 2 and view.tolist() == [2.0, 3.0]
    base[2] = 100.0
    assert view.tolist() == [100.0, 3.0]
    a, b = loaded["tied"]["a"], loaded["tied"]["b"]
    a.zero_()
    assert b.abs().sum().item() == 0.0


def test_a_saved_transposed_view_keeps_its_values_and_strides_in_the_file():
    torch = pytest.importorskip("torch")
    x = rg.arange(6.0).reshape(2, 3)
    buf = io.BytesIO()
    rg.save(x.t(), buf)
    buf.seek(0)
    theirs = torch.load(buf)
    assert theirs.stride() == (1, 3) and theirs.tolist() == x.t().tolist()
    buf.seek(0)
    assert rg.load(buf).tolist() == x.t().tolist()
