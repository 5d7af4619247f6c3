"""The drop-in runner (``python -m rustgrad run``), ``check``, ``install_as_torch`` and the
torch-style reprs. Scripts run in subprocesses, so the alias never leaks into this process;
each one's output is compared line by line with the same script run by PyTorch."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import rustgrad

HAS_TORCH = True
try:
    import torch  # noqa: F401
except ImportError:
    HAS_TORCH = False


def _write(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def _run(args, cwd):
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


SCRIPT = """
    import sys
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch import optim
    from torch.autograd import Variable

    print(sys.argv[1:], __name__, __file__.endswith("prog.py"))
    x = torch.tensor([1.5, -2.0], dtype=torch.float64, requires_grad=True)
    y = (x * 2 + 1).sum()
    print(x.dtype, x.shape, type(x), torch.float32, torch.int64, torch.bool)
    print(y)
    print(repr(torch.zeros(2, 3).size()), torch.device("cpu"))
    y.backward()
    print(x.grad)
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    print(model)
    print(F.relu(torch.tensor([-1.0, 2.0])))
    opt = optim.SGD(model.parameters(), lr=0.1)
    print(type(opt).__name__, isinstance(x, torch.Tensor))
    print(type(model[0]), type(model[0].weight), type(x.shape), torch.LongTensor)
    print(nn.Parameter(torch.ones(2)))
    print(torch.tensor([[1.0, 5.0], [3.0, 2.0]]).max(dim=1))
    print(torch.get_default_dtype(), f"{y:.3f}", f"{y:>12}")
    sys.exit(int(sys.argv[-1]))
"""


@pytest.mark.skipif(not HAS_TORCH, reason="needs PyTorch")
@pytest.mark.parametrize("status", ["0", "3"])
def test_run_prints_as_pytorch_line_by_line(tmp_path, status):
    path = _write(tmp_path, "prog.py", SCRIPT)
    ours = _run(["-m", "rustgrad", "run", "prog.py", "a", "--b", status], tmp_path)
    theirs = _run(["prog.py", "a", "--b", status], tmp_path)
    assert theirs.returncode == int(status), theirs.stderr
    assert ours.returncode == theirs.returncode, ours.stderr
    assert ours.stdout.splitlines() == theirs.stdout.splitlines()
    assert path.exists()


def test_run_traceback_and_exit_status_are_pythons(tmp_path):
    _write(
        tmp_path,
        "fails.py",
        """
        import torch

        def f():
            raise ValueError("boom")

        if __name__ == "__main__":
            f()
        """,
    )
    ours = _run(["-m", "rustgrad", "run", "fails.py"], tmp_path)
    plain = subprocess.run(
        [sys.executable, "fails.py"],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert ours.returncode == 1
    lines = ours.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[-1] == "ValueError: boom"
    # No frame of the runner: exactly the frames Python shows for `python fails.py`.
    frames = [ln for ln in lines if ln.startswith("  File ")]
    assert all("fails.py" in ln for ln in frames), ours.stderr
    if plain.returncode == 1 and plain.stderr.splitlines()[-1] == "ValueError: boom":
        assert frames == [ln for ln in plain.stderr.splitlines() if ln.startswith("  File ")]


def test_run_a_missing_script_exits_2(tmp_path):
    r = _run(["-m", "rustgrad", "run", "nope.py"], tmp_path)
    assert r.returncode == 2 and "can't open file" in r.stderr


def test_run_imports_of_missing_pytorch_names_raise_not_implemented(tmp_path):
    _write(
        tmp_path,
        "missing.py",
        """
        import torch
        for attempt in ("torch.fft", "from torch.fft import fft", "import torch.fft",
                        "torch.nn.CrossMapLRN2d", "torch.nosuchname", "torch.ones(2).stft",
                        "torch.ones(2).nosuchmethod"):
            try:
                exec(attempt)
            except NotImplementedError as e:
                print("NotImplementedError:", e)
            except AttributeError as e:
                print("AttributeError:", e)
        try:
            import torch.fft
        except ImportError as e:
            print("an ImportError too:", e)
        import torch.nn.CrossMapLRN2d
        """,
    )
    r = _run(["-m", "rustgrad", "run", "missing.py"], tmp_path)
    assert r.returncode == 1
    assert r.stderr.splitlines()[-1] == (
        "NotImplementedError: rustgrad does not implement torch.nn.CrossMapLRN2d yet"
    )
    lines = r.stdout.splitlines()
    assert lines[:3] == ["NotImplementedError: rustgrad does not implement torch.fft yet"] * 3
    assert lines[3] == "NotImplementedError: rustgrad does not implement torch.nn.CrossMapLRN2d yet"
    # A name PyTorch lacks too raises PyTorch's AttributeError.
    assert lines[4] == "AttributeError: module 'torch' has no attribute 'nosuchname'"
    assert lines[5] == "NotImplementedError: rustgrad does not implement torch.Tensor.stft yet"
    assert lines[6] == "AttributeError: 'Tensor' object has no attribute 'nosuchmethod'"
    assert lines[7] == "an ImportError too: rustgrad does not implement torch.fft yet"


def test_install_as_torch_in_a_running_interpreter():
    code = textwrap.dedent(
        """
        import rustgrad
        rustgrad.install_as_torch()
        import torch, torch.nn as nn
        from torch.nn import functional as F
        assert torch is rustgrad and nn is rustgrad.nn and F is rustgrad.nn.functional
        import functorch
        assert functorch is rustgrad._functorch
        print(torch.float32, torch.Size([3]), type(torch.ones(1)))
        try:
            torch.ones(1).stft
        except NotImplementedError as e:
            print(e)
        rustgrad.uninstall_as_torch()
        import sys
        assert "functorch" not in sys.modules
        assert not hasattr(rustgrad.ones(1), "stft")
        print(rustgrad.float32, rustgrad.Size([3]), type(rustgrad.ones(1)))
        """
    )
    r = _run(["-c", code], ".")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "torch.float32 torch.Size([3]) <class 'torch.Tensor'>",
        "rustgrad does not implement torch.Tensor.stft yet",
        "rustgrad.float32 rustgrad.Size([3]) <class 'rustgrad.Tensor'>",
    ]


def test_reprs_say_rustgrad_outside_torch_mode():
    assert repr(rustgrad.float64) == "rustgrad.float64"
    assert repr(rustgrad.zeros(3).shape) == "rustgrad.Size([3])"
    assert str(type(rustgrad.ones(1))) == "<class 'rustgrad.Tensor'>"
    with pytest.raises(NotImplementedError, match="rustgrad does not implement torch.fft yet"):
        rustgrad.fft  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'nosuchname'"):
        rustgrad.nosuchname  # noqa: B018
    # Probes answer "no" rather than failing (the error is an AttributeError too).
    assert getattr(rustgrad, "fft", None) is None and not hasattr(rustgrad.nn, "CrossMapLRN2d")
    assert not hasattr(rustgrad, "_private_probe")


@pytest.mark.skipif(not HAS_TORCH, reason="needs PyTorch")
def test_spawned_workers_of_a_run_script_see_rustgrad_as_torch(tmp_path):
    _write(
        tmp_path,
        "pool.py",
        """
        import multiprocessing as mp
        import torch

        def work(t):
            return type(t).__module__, (t * 2).tolist()

        if __name__ == "__main__":
            with mp.get_context("spawn").Pool(2) as pool:
                print(pool.map(work, [torch.ones(2), torch.arange(3)]))
        """,
    )
    ours = _run(["-m", "rustgrad", "run", "pool.py"], tmp_path)
    theirs = _run(["pool.py"], tmp_path)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout


CHECKED = """
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.fft import fft
    from torch import optim as o

    x = torch.randn(3, 4)
    y = x.stft(4)
    z = torch.sum(x, nosuchkw=1)
    layer = nn.CrossMapLRN2d(3)
    torch.not_a_pytorch_name
    ok = F.relu(x) + torch.zeros(3, 4) + x.sum()
    o.SGD
"""


def test_check_lists_missing_names_without_running(tmp_path):
    _write(tmp_path, "c.py", textwrap.dedent(CHECKED) + "raise SystemExit('must not run')\n")
    r = _run(["-m", "rustgrad", "check", "c.py"], tmp_path)
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert lines == [
        "c.py:5: torch.fft",
        "c.py:9: torch.Tensor.stft",
        "c.py:10: torch.sum(nosuchkw=)",
        "c.py:11: torch.nn.CrossMapLRN2d",
        "c.py:12: torch.not_a_pytorch_name (not a PyTorch name either)",
        "c.py: 5 PyTorch name(s) that rustgrad lacks",
    ]


def test_check_passes_a_script_rustgrad_covers(tmp_path):
    _write(tmp_path, "ok.py", "import torch\nx = torch.ones(2)\nprint(x.sum().item())\n")
    r = _run(["-m", "rustgrad", "check", "ok.py"], tmp_path)
    assert r.returncode == 0 and "every PyTorch name" in r.stdout


def test_check_reports_unreadable_and_unparsable_scripts(tmp_path):
    _write(tmp_path, "bad.py", "def (:\n")
    r = _run(["-m", "rustgrad", "check", "bad.py", "absent.py"], tmp_path)
    assert r.returncode == 2
    assert "bad.py: cannot check" in r.stderr and "absent.py: cannot check" in r.stderr


def test_usage_for_unknown_commands():
    r = _run(["-m", "rustgrad", "frobnicate"], ".")
    assert r.returncode == 2 and "usage:" in r.stderr


def test_backends_flags_scripts_set():
    assert rustgrad.backends.mps.is_available() is False
    assert rustgrad.backends.cudnn.is_available() is False
    rustgrad.backends.cudnn.deterministic = True
    rustgrad.backends.cudnn.benchmark = False
    rustgrad.backends.cuda.matmul.allow_tf32 = False


def test_creation_out_and_logspace_as_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = rustgrad.zeros(0, dtype=rustgrad.float64), torch.zeros(0, dtype=torch.float64)
    assert rustgrad.arange(1, 4, out=ours) is ours
    torch.arange(1, 4, out=theirs)
    assert ours.dtype == rustgrad.float64 and ours.tolist() == theirs.tolist()
    d = rustgrad.ones(2, 2, dtype=rustgrad.int64)
    rustgrad.zeros(2, 2, out=d)
    assert d.dtype == rustgrad.int64 and d.tolist() == [[0, 0], [0, 0]]
    with pytest.raises(RuntimeError) as ref:
        torch.zeros(2, out=torch.zeros(2, dtype=torch.int64), dtype=torch.float32)
    with pytest.raises(RuntimeError) as err:
        rustgrad.zeros(2, out=rustgrad.zeros(2, dtype=rustgrad.int64), dtype=rustgrad.float32)
    assert str(err.value) == str(ref.value)
    for args, kw in [((0, 2, 5), {}), ((-1, 1, 4), {"base": 2.0, "dtype": "float64"})]:
        ours = rustgrad.logspace(*args, **{k: getattr(rustgrad, v) if k == "dtype" else v for k, v in kw.items()})  # fmt: skip
        ref = torch.logspace(*args, **{k: getattr(torch, v) if k == "dtype" else v for k, v in kw.items()})  # fmt: skip
        assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
        np.testing.assert_allclose(np.asarray(ours.tolist()), ref.numpy(), rtol=1e-6)


def test_in_place_functional_forms():
    x = rustgrad.tensor([0.25, 1.0, 4.0])
    assert rustgrad.sqrt_(x) is x and x.tolist() == [0.5, 1.0, 2.0]
    assert rustgrad.clamp_(x, 0.75, 1.5).tolist() == [0.75, 1.0, 1.5]
    assert rustgrad.zero_(x).tolist() == [0.0, 0.0, 0.0]


def test_triangle_indices_and_float_queries_as_torch():
    torch = pytest.importorskip("torch")
    for args in [(3, 4), (4, 3, -1), (3, 3, 1), (0, 2)]:
        for name in ("tril_indices", "triu_indices"):
            ours, ref = getattr(rustgrad, name)(*args), getattr(torch, name)(*args)
            assert ours.dtype == rustgrad.int64 and ours.tolist() == ref.tolist()
    assert rustgrad.is_floating_point(rustgrad.zeros(1)) is True
    assert rustgrad.is_floating_point(rustgrad.zeros(1, dtype=rustgrad.int64)) is False


def test_copysign_gradients_of_other_are_zeros_to_second_order():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (rustgrad, torch):
        x = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([-2.0, 3.0], dtype=lib.float64, requires_grad=True)
        g1 = lib.autograd.grad((lib.copysign(x, y) ** 2).sum(), [x, y], create_graph=True)
        g2 = lib.autograd.grad(sum((g * g).sum() for g in g1), [x, y], allow_unused=True)
        results.append([None if g is None else g.tolist() for g in (*g1, *g2)])
    assert results[0] == results[1]


def test_version_and_extension_type_names_in_torch_mode():
    """Under the runner, torch.__version__ is the PyTorch release rustgrad follows, a string
    that compares as a version (programs gate code paths on it), and the extension's types
    print as torch's; outside it they are rustgrad's."""
    code = textwrap.dedent(
        """
        import rustgrad
        rustgrad.install_as_torch()
        import torch
        v = torch.__version__
        print(v.split("+")[0], v >= "2.0", v >= (2, 0), v < "1.10", torch.version.__version__ == v)
        print(type(torch.float32), type(torch.device("cpu")), type(torch.Generator()))
        rustgrad.uninstall_as_torch()
        print(rustgrad.__version__ == rustgrad._core.__version__, type(rustgrad.float32))
        """
    )
    torch = pytest.importorskip("torch")
    r = _run(["-c", code], ".")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        f"{torch.__version__.split('+')[0]} True True False True",
        "<class 'torch.dtype'> <class 'torch.device'> <class 'torch.Generator'>",
        "True <class 'rustgrad.dtype'>",
    ]
