"""The bindings as such: when a call gives up the GIL, that every public object documents
itself, that the stub's docstrings are the runtime's, and the functional forms."""

import contextlib
import importlib.util
import inspect
import pkgutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import rustgrad as rg
from conftest import assert_close
from rustgrad import _core

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------- the GIL

# Elements per operand: far above src/python/gil.rs's RELEASE_NUMEL (65536).
BIG = 1 << 22


@contextlib.contextmanager
def gil_watcher():
    """A thread counting in Python, and a counter that moves only while the main thread has
    given up the GIL.

    The switch interval is raised far beyond the test's length, so the interpreter never
    takes the GIL from the main thread: the watcher gets it only when the main thread blocks
    or a call releases it. The watcher hands it back at once (waiting on an event releases
    it), so the main thread never waits for it either.
    """
    if not getattr(sys, "_is_gil_enabled", lambda: True)():
        pytest.skip("free-threaded Python: no GIL")
    count = [0]
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            count[0] += 1
            stop.wait(0.0001)

    old = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    thread = threading.Thread(target=watch, daemon=True)
    try:
        thread.start()
        yield count
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(old)


def ran_alongside(op, count, attempts=100):
    """Whether the watcher counted while ``op()`` ran, in any of ``attempts`` runs.

    A call that keeps the GIL can never let it count (nothing else in the loop gives the GIL
    up); one that releases it lets it count unless the watcher's thread is not scheduled
    before the call ends, which the repeats make vanishingly unlikely.
    """
    for _ in range(attempts):
        before = count[0]
        op()
        if count[0] != before:
            return True
    return False


def _big():
    rg.manual_seed(0)
    x = rg.rand(BIG)
    return {
        "x": x,
        "y": rg.rand(BIG),
        "mask": x < 0.5,
        "index": rg.arange(0, BIG, 2),
        "matrix": rg.rand(1024, 1024),
    }


# Ops that held the GIL at any size before it was decided in one place, and a few that did
# not; each on tensors of BIG elements.
BIG_OPS = {
    "clamp": lambda t: t["x"].clamp(0.2, 0.8),
    "neg": lambda t: -t["x"],
    "compare": lambda t: t["x"] < t["y"],
    "where": lambda t: rg.where(t["mask"], t["x"], t["y"]),
    "cat": lambda t: rg.cat([t["x"], t["y"]]),
    "stack": lambda t: rg.stack([t["x"], t["y"]]),
    "clone": lambda t: t["x"].clone(),
    "getitem": lambda t: t["x"][t["index"]],
    "setitem": lambda t: t["y"].__setitem__(t["index"], 0.5),
    "cast": lambda t: t["x"].double(),
    "max_dim": lambda t: t["matrix"].max(1),
    "sum": lambda t: t["x"].sum(),
    "add": lambda t: t["x"] + t["y"],
    "matmul": lambda t: t["matrix"] @ t["matrix"],
}


@pytest.fixture(scope="module")
def big():
    return _big()


@pytest.mark.parametrize("name", sorted(BIG_OPS))
def test_large_ops_release_the_gil(big, name):
    op = BIG_OPS[name]
    with gil_watcher() as count:
        assert ran_alongside(lambda: op(big), count), f"{name} held the GIL on {BIG} elements"


def test_small_ops_keep_the_gil():
    # The other side of the threshold, and proof that the watcher does not count otherwise.
    x, y = rg.rand(64), rg.rand(64)
    small = [
        lambda: x.clamp(0.2, 0.8),
        lambda: x < y,
        lambda: rg.cat([x, y]),
        lambda: x[1:5].clone(),
        lambda: x.sum(),
    ]
    with gil_watcher() as count:
        for op in small:
            assert not ran_alongside(op, count, attempts=20)


def test_large_creation_releases_the_gil():
    with gil_watcher() as count:
        assert ran_alongside(lambda: rg.zeros(BIG), count)
        assert ran_alongside(lambda: rg.randn(BIG), count)


def test_results_are_unchanged_by_releasing():
    big = _big()
    x, y = big["x"], big["y"]
    xa, ya = x.numpy(), y.numpy()
    assert_close(x.clamp(0.2, 0.8), np.clip(xa, 0.2, 0.8))
    assert_close(rg.where(x < y, x, y), np.minimum(xa, ya))
    assert_close(rg.cat([x, y])[BIG:], ya)
    assert_close(x[big["index"]], xa[::2])


# ---------------------------------------------------------------- docs


def _public_modules():
    """``rustgrad`` and its public submodules (no ``_``-prefixed part)."""
    yield rg
    for info in pkgutil.walk_packages(rg.__path__, "rustgrad."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        yield importlib.import_module(info.name)


def _documented_objects():
    """(name, object) for each thing that should carry a ``__doc__``: everything the
    extension exports (its classes' members too), and the public functions and classes of
    the Python package (their public methods and properties too)."""
    yield "rustgrad._core", _core
    for name in _core.__all__:
        obj = getattr(_core, name)
        if isinstance(obj, _core.dtype):
            continue  # constants: instances of the documented dtype class
        yield f"rustgrad._core.{name}", obj
        if inspect.isclass(obj):
            # Methods and properties (`__deepcopy__` too). Not the type slots (`__add__`, ...:
            # `wrapper_descriptor`s with CPython's own __doc__) nor `__new__` (the class doc).
            for member, value in vars(obj).items():
                if type(value).__name__ in ("method_descriptor", "getset_descriptor"):
                    yield f"rustgrad._core.{name}.{member}", value
    for module in _public_modules():
        yield module.__name__, module
        names = getattr(module, "__all__", None) or [n for n in vars(module) if n[0] != "_"]
        for name in names:
            obj = getattr(module, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if not getattr(obj, "__module__", "").startswith("rustgrad"):
                continue
            yield f"{module.__name__}.{name}", obj
            if inspect.isclass(obj) and obj.__module__ != "rustgrad":  # not _core's again
                for member, value in vars(obj).items():
                    if member.startswith("_"):
                        continue
                    if isinstance(value, (staticmethod, classmethod)):
                        value = value.__func__
                    if isinstance(value, property) or inspect.isfunction(value):
                        yield f"{module.__name__}.{name}.{member}", value


def test_every_public_object_has_a_doc():
    missing = sorted(
        {name for name, obj in _documented_objects() if not (obj.__doc__ or "").strip()}
    )
    assert not missing, "no __doc__: " + ", ".join(missing)


def test_docs_reach_help_and_signatures():
    # What help() and Jupyter's `?` show: the docs and PyO3's text signatures.
    assert "broadcast" in inspect.getdoc(rg.Tensor.add)
    assert str(inspect.signature(rg.Tensor.sum)) == "(self, /, dim=None, keepdim=False, dtype=None)"
    assert str(inspect.signature(rg.Tensor.flatten)) == "(self, /, start_dim=0, end_dim=-1)"
    assert str(inspect.signature(rg.zeros)).startswith("(*shape, size=None, dtype=None")
    assert inspect.getdoc(rg.Tensor.grad).startswith("The accumulated gradient")
    assert "len(t)" in inspect.getdoc(rg.Tensor)


def _sync_stubs():
    spec = importlib.util.spec_from_file_location("sync_stubs", ROOT / "scripts" / "sync_stubs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stub_docstrings_are_the_runtime_docs():
    pytest.importorskip("ruff")
    sync = _sync_stubs()
    source = sync.STUB.read_text()
    assert sync.synced(source, _core) == source, (
        "python/rustgrad/_core.pyi is out of date: run `python scripts/sync_stubs.py`"
    )
    # Spot checks that the stub carries what the runtime says.
    stub = sync.docstrings(source)
    assert stub["rustgrad._core.Tensor.sum"] == inspect.cleandoc(_core.Tensor.sum.__doc__)
    assert stub["rustgrad._core.where"] == inspect.cleandoc(_core.where.__doc__)
    assert stub["rustgrad._core.Tensor.__len__"] is None


# ---------------------------------------------------------------- functional forms

FUNCTIONAL = {
    # name: (call with the function, call with the method)
    "abs": (lambda x, y: rg.abs(x), lambda x, y: x.abs()),
    "neg": (lambda x, y: rg.neg(x), lambda x, y: x.neg()),
    "exp": (lambda x, y: rg.exp(x), lambda x, y: x.exp()),
    "log": (lambda x, y: rg.log(x.abs()), lambda x, y: x.abs().log()),
    "sqrt": (lambda x, y: rg.sqrt(x.abs()), lambda x, y: x.abs().sqrt()),
    "tanh": (lambda x, y: rg.tanh(x), lambda x, y: x.tanh()),
    "sigmoid": (lambda x, y: rg.sigmoid(x), lambda x, y: x.sigmoid()),
    "relu": (lambda x, y: rg.relu(x), lambda x, y: x.relu()),
    "clamp": (lambda x, y: rg.clamp(x, max=0.1), lambda x, y: x.clamp(max=0.1)),
    "add": (lambda x, y: rg.add(x, y, alpha=2), lambda x, y: x.add(y, alpha=2)),
    "sub": (lambda x, y: rg.sub(x, 1.5), lambda x, y: x.sub(1.5)),
    "mul": (lambda x, y: rg.mul(x, y), lambda x, y: x.mul(y)),
    "div": (lambda x, y: rg.div(x, y), lambda x, y: x.div(y)),
    "pow": (lambda x, y: rg.pow(x, 2), lambda x, y: x.pow(2)),
    "matmul": (lambda x, y: rg.matmul(x, y.t()), lambda x, y: x.matmul(y.t())),
    "mm": (lambda x, y: rg.mm(x, y.t()), lambda x, y: x.mm(y.t())),
    "eq": (lambda x, y: rg.eq(x, y), lambda x, y: x.eq(y)),
    "ne": (lambda x, y: rg.ne(x, o=y), lambda x, y: x.ne(o=y)),
    "lt": (lambda x, y: rg.lt(x, y), lambda x, y: x.lt(y)),
    "le": (lambda x, y: rg.le(x, 0.0), lambda x, y: x.le(0.0)),
    "gt": (lambda x, y: rg.gt(x, y), lambda x, y: x.gt(y)),
    "ge": (lambda x, y: rg.ge(x, y), lambda x, y: x.ge(y)),
    "sum": (lambda x, y: rg.sum(x, 1, keepdim=True), lambda x, y: x.sum(1, keepdim=True)),
    "mean": (lambda x, y: rg.mean(x, dim=(0, 1)), lambda x, y: x.mean(dim=(0, 1))),
    "max": (lambda x, y: rg.max(x), lambda x, y: x.max()),
    "min": (lambda x, y: rg.min(x, y), lambda x, y: x.min(y)),
    "argmax": (lambda x, y: rg.argmax(x, 1), lambda x, y: x.argmax(1)),
    "argmin": (lambda x, y: rg.argmin(x), lambda x, y: x.argmin()),
    "softmax": (lambda x, y: rg.softmax(x, 1), lambda x, y: x.softmax(1)),
    "log_softmax": (lambda x, y: rg.log_softmax(x, dim=0), lambda x, y: x.log_softmax(dim=0)),
    "reshape": (lambda x, y: rg.reshape(x, (4, 3)), lambda x, y: x.reshape(4, 3)),
    "flatten": (lambda x, y: rg.flatten(x), lambda x, y: x.flatten()),
    "squeeze": (lambda x, y: rg.squeeze(x[None]), lambda x, y: x[None].squeeze()),
    "unsqueeze": (lambda x, y: rg.unsqueeze(x, -1), lambda x, y: x.unsqueeze(-1)),
    "t": (lambda x, y: rg.t(x), lambda x, y: x.t()),
    "transpose": (lambda x, y: rg.transpose(x, 0, 1), lambda x, y: x.transpose(0, 1)),
    "permute": (lambda x, y: rg.permute(x, (1, 0)), lambda x, y: x.permute(1, 0)),
    "detach": (lambda x, y: rg.detach(x), lambda x, y: x.detach()),
    "numel": (lambda x, y: rg.numel(x), lambda x, y: x.numel()),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_functional_forms_are_the_methods(name):
    rg.manual_seed(1)
    x, y = rg.randn(3, 4), rg.randn(3, 4)
    f = getattr(rg, name)
    assert f.__name__ == name and f.__module__ == "rustgrad"
    assert (f.__doc__ or "").strip()
    function, method = FUNCTIONAL[name]
    got, want = function(x, y), method(x, y)
    if isinstance(want, int):
        assert got == want
    else:
        assert_close(got, want)


def test_functional_max_and_min_forms():
    x = rg.tensor([[1.0, 5.0], [7.0, 2.0]])
    values, indices = rg.max(x, 1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert rg.min(x, dim=0, keepdim=True).values.tolist() == [[1.0, 2.0]]
    assert rg.max(x).item() == 7.0


def test_functional_forms_are_typed():
    # What a type checker sees: mypy, with re-exports counted as strictly as pyright does.
    pytest.importorskip("mypy")
    names = sorted(FUNCTIONAL)
    code = "import rustgrad\n" + "".join(f"reveal_type(rustgrad.{n})\n" for n in names)
    code += "x = rustgrad.ones(2, 3)\nreveal_type(rustgrad.max(x, 1))\nrustgrad.tanh(x, 1)\n"
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-implicit-reexport", "--no-incremental", "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    ).stdout
    lines = out.splitlines()
    revealed = [line for line in lines if "Revealed type" in line]
    assert len(revealed) == len(names) + 1, out
    for name, line in zip(names, revealed):
        assert '"def ' in line or '"Overload(def ' in line, f"{name}: {line}"
    assert "input: rustgrad._core.Tensor" in revealed[names.index("tanh")]
    assert "rustgrad.return_types.max" in revealed[-1]
    # The only errors: tanh takes no second positional argument (mypy reports it twice since
    # tanh has the keyword-only ``out=``).
    errors = [line for line in lines if ": error:" in line]
    assert errors and all('"tanh"' in e for e in errors), out
