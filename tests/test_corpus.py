"""The corpus of real PyTorch programs (tests/corpus): the ones listed as passing still give
PyTorch's output under rustgrad, and no other one does (strict, like a strict xfail: a program
that starts passing must be added to ``manifest.PASSING``). Programs whose text is not present
are skipped (see tests/corpus/programs/README.md)."""

from __future__ import annotations

import re

import pytest

from tests.corpus import harness
from tests.corpus.manifest import MASKS, PASSING, PROGRAMS, Program

BY_NAME = {p.name: p for p in PROGRAMS}


@pytest.fixture(scope="module")
def results() -> dict[str, harness.Result]:
    """Every present program run once under rustgrad, two at a time."""
    return {r.program: r for r in harness.check_all(harness.available(), timeout=60.0)}


@pytest.mark.parametrize("name", [p.name for p in PROGRAMS])
def test_program(name: str, results: dict[str, harness.Result]) -> None:
    program = BY_NAME[name]
    if not harness.program_path(program).exists():
        pytest.skip(f"{harness.program_path(program).name} is not present")
    result = results[name]
    if name in PASSING:
        assert result.status == "pass", f"{name} no longer passes: {result.status}: {result.detail}"
    else:
        assert result.status != "pass", f"{name} now passes: add it to manifest.PASSING"


def test_manifest_is_consistent() -> None:
    names = [p.name for p in PROGRAMS]
    assert len(names) == len(set(names))
    assert PASSING <= set(names)
    assert set(MASKS) <= set(names)
    for p in PROGRAMS:
        assert p.mode in ("values", "skeleton", "loss"), p.name
        assert (p.loss is not None) == (p.mode == "loss"), p.name
        assert p.source.startswith("https://github.com/") and p.reason and p.license, p.name
        assert harness.expected_path(p).exists(), f"no recorded PyTorch output for {p.name}"
    recorded = {path.stem for path in harness.EXPECTED_DIR.glob("*.txt")}
    assert recorded == set(names)


# The comparison itself, on made-up outputs.

VALUES = Program("v", "https://github.com/x", "MIT", "values", "r")
SKELETON = Program("s", "https://github.com/x", "MIT", "skeleton", "r")
LOSS = Program("l", "https://github.com/x", "MIT", "loss", "r", loss=r"^\d+ (\S+)$")


def test_tokenize_separates_numbers_from_names() -> None:
    texts, numbers = harness.tokenize("fc1.weight torch.Size([120, 400]) -1.5e-03 x^2 nan")
    assert numbers[:3] == [120.0, 400.0, -1.5e-3] and numbers[3] == 2.0
    assert texts[0] == "fc1.weight torch.Size(["
    assert len(numbers) == 5 and numbers[4] != numbers[4]


def test_values_mode_compares_numbers_within_tolerance() -> None:
    expected = "99 1234.5\nResult: y = 0.1 + 0.8 x\n"
    assert harness.compare(VALUES, expected, "99 1234.50001\nResult: y = 0.1 + 0.8 x\n") is None
    assert "line 1" in harness.compare(VALUES, expected, "99 1235.5\nResult: y = 0.1 + 0.8 x\n")
    assert "line 2" in harness.compare(VALUES, expected, "99 1234.5\nResult: z = 0.1 + 0.8 x\n")
    assert "lines" in harness.compare(VALUES, expected, "99 1234.5\n")
    assert harness.compare(VALUES, "nan\n", "nan\n") is None
    assert harness.compare(VALUES, "nan\n", "1.0\n") is not None


def test_skeleton_mode_ignores_finite_numbers_but_not_text() -> None:
    expected = "tensor([0.1, 0.2])\ntorch.Size([2])\n"
    assert harness.compare(SKELETON, expected, "tensor([0.7, 0.9])\ntorch.Size([5])\n") is None
    assert harness.compare(SKELETON, "tensor([-0.1,  0.2])\n", "tensor([ 0.1, -0.2])\n") is None
    assert harness.compare(VALUES, "tensor([-0.0,  0.2])\n", "tensor([ 0.0,  0.2])\n")
    assert harness.compare(SKELETON, expected, "tensor([0.7, 0.9])\nrustgrad.Size([2])\n")
    assert harness.compare(SKELETON, expected, "tensor([0.7, nan])\ntorch.Size([2])\n")
    assert harness.compare(SKELETON, expected, "tensor([0.7])\ntorch.Size([2])\n")


def test_loss_mode_needs_finite_decreasing_loss() -> None:
    expected = "99 50.0\n199 20.0\n"
    assert harness.compare(LOSS, expected, "99 40.0\n199 10.0\n") is None
    assert "decrease" in harness.compare(LOSS, expected, "99 40.0\n199 41.0\n")
    assert harness.compare(LOSS, expected, "99 40.0\n199 inf\n") is not None


def test_masks_hide_what_pytorch_does_not_repeat() -> None:
    assert harness._mask(VALUES, "<AddBackward0 object at 0x7f36816d1cc0>") == (
        "<AddBackward0 object at <masked>>"
    )
    program = BY_NAME["d2l_ndarray"]
    masked = harness._mask(
        program, "id(Z): 140550241484496\ntensor([[ 1.5410, -0.2934],\n [1.0, 2.0]])"
    )
    assert masked == "id(Z): <masked>\n<masked>"
    assert (
        harness._mask(program, "tensor([[ 0.,  1.],\n [2., 3.]])")
        == "tensor([[ 0.,  1.],\n [2., 3.]])"
    )
    assert harness._mask(program, "tensor([[-1.4107e-02,  1.0e+00]])") == "<masked>"


@pytest.mark.parametrize(
    ("exception", "name"),
    [
        ("AttributeError: module 'rustgrad' has no attribute 'dot'", "torch.dot"),
        ("AttributeError: module 'rustgrad.nn' has no attribute 'Conv2d'", "torch.nn.Conv2d"),
        (
            "AttributeError: 'Tensor' object has no attribute 'new_ones'",
            "torch.Tensor.new_ones",
        ),
        (
            "TypeError: Tensor.sum() got an unexpected keyword argument 'axis'",
            "torch.Tensor.sum(axis=)",
        ),
        ("TypeError: add() got an unexpected keyword argument 'out'", "torch.add(out=)"),
        ("ModuleNotFoundError: No module named 'rustgrad.utils'", "torch.utils"),
        (
            "ImportError: cannot import name 'DataLoader' from 'rustgrad.utils.data'",
            "torch.utils.data.DataLoader",
        ),
        ("NotImplementedError: rustgrad does not implement torch.fft yet", "torch.fft"),
        ("NotImplementedError: Sinh.forward returned a tuple", "Sinh.forward returned a tuple"),
        ("RuntimeError: shapes cannot be multiplied", None),
    ],
)
def test_missing_name(exception: str, name: str | None) -> None:
    assert harness.missing_name(exception) == name


def test_last_exception_skips_the_traceback() -> None:
    stderr = 'Traceback (most recent call last):\n  File "p.py", line 1\n    x\nValueError: bad\n'
    assert harness.last_exception(stderr) == "ValueError: bad"
    assert re.match(r"^$", harness.last_exception(""))
