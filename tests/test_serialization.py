"""``rustgrad.save`` / ``rustgrad.load``: the safetensors layout byte for byte, round trips of
state dicts and optimizer state, files other tools read and write, and malformed files."""

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
    assert header["__metadata__"] == {"rustgrad.format": "1"}
    assert header["w"] == {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}
    assert header["d"] == {"dtype": "F64", "shape": [1], "data_offsets": [16, 24]}
    assert header["i"] == {"dtype": "I64", "shape": [3], "data_offsets": [24, 48]}
    assert header["b"] == {"dtype": "BOOL", "shape": [2], "data_offsets": [48, 50]}
    assert header["scalar"] == {"dtype": "F32", "shape": [], "data_offsets": [50, 54]}
    assert header["empty"] == {"dtype": "F32", "shape": [0, 3], "data_offsets": [54, 54]}
    assert len(data) == 54
    assert np.frombuffer(data[:16], "<f4").tolist() == [1.0, 2.0, 3.0, 4.0]
    assert np.frombuffer(data[24:48], "<i8").tolist() == [1, -2, 3]
    assert data[48:50] == b"\x01\x00"


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
    rg.save({"t": base.t(), "col": base[:, 1], "p": p}, tmp_path / "x.st")
    loaded = rg.load(tmp_path / "x.st")
    assert_close(loaded["t"], base.numpy().T)
    assert_close(loaded["col"], base.numpy()[:, 1])
    assert loaded["p"].tolist() == [[1.0, 1.0], [1.0, 1.0]] and not loaded["p"].requires_grad


def test_loaded_tensors_own_their_memory(tmp_path):
    rg.save({"a": rg.zeros(3)}, tmp_path / "a.st")
    a = rg.load(tmp_path / "a.st")["a"]
    a.add_(1.0)  # writable, and independent of the file
    assert a.tolist() == [1.0, 1.0, 1.0]
    assert rg.load(tmp_path / "a.st")["a"].tolist() == [0.0, 0.0, 0.0]


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


def test_unsupported_values_are_refused_and_never_pickled(tmp_path):
    with raises(TypeError, "cannot store a value of type object"):
        rg.save({"x": object()}, tmp_path / "bad.st")
    with raises(TypeError, "dict keys must be str or int"):
        rg.save({(1, 2): rg.zeros(1)}, tmp_path / "bad.st")
    with raises(ValueError, "two tensors would be stored under the name 'a.b'"):
        rg.save({"a": {"b": rg.zeros(1)}, "a.b": rg.zeros(1)}, tmp_path / "bad.st")


def _file(header, data):
    return struct.pack("<Q", len(header)) + header + data


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"", "shorter than 8 bytes"),
        (struct.pack("<Q", 1000) + b"{}", "header length 1000 is invalid"),
        (struct.pack("<Q", 4) + b"nope", "not valid JSON"),
        (struct.pack("<Q", 2) + b"[]", "not a JSON object"),
        (
            _file(b'{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', b"\0" * 8),
            "do not fit its shape",
        ),
        (
            _file(b'{"x":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}', b"\0" * 8),
            "unsupported dtype C64",
        ),
        (struct.pack("<Q", 9) + b'{"x":{}} ', "bad header entry"),
    ],
)
def test_malformed_files_raise_value_error(tmp_path, blob, message):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(blob)
    with raises(ValueError, message):
        rg.load(path)


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
    assert loaded["f16"].dtype == rg.float32 and loaded["i32"].dtype == rg.int64


def test_safetensors_torch_loads_a_state_dict_into_a_torch_model(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    ours = nn.Linear(3, 2)
    rg.save(ours.state_dict(), tmp_path / "linear.safetensors")
    theirs = torch.nn.Linear(3, 2)
    theirs.load_state_dict(st_torch.load_file(str(tmp_path / "linear.safetensors")))
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    assert_close(theirs(torch.tensor(x)), ours(rg.tensor(x)), rtol=1e-6)
