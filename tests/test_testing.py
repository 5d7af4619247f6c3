"""``torch.testing.assert_close`` side by side with PyTorch's: the same comparisons pass or
fail with the same exception type and words."""

import pytest
import rustgrad

torch = pytest.importorskip("torch")


def _cases(torch, assert_close):
    cases = [
        lambda: assert_close(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.1, 3.0])),
        lambda: assert_close(torch.tensor([1, 2, 3]), torch.tensor([1, 4, 3])),
        lambda: assert_close(
            torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0], dtype=torch.float64)
        ),
        lambda: assert_close(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0, 3.0])),
        lambda: assert_close(1.0, 1.1),
        lambda: assert_close(3, 4),
        lambda: assert_close(torch.tensor([1.0]), 1.0),
        lambda: assert_close(
            [torch.tensor(1.0), torch.tensor(2.0)], [torch.tensor(1.0), torch.tensor(2.5)]
        ),
        lambda: assert_close({"a": torch.tensor(1.0)}, {"a": torch.tensor(1.5)}),
        lambda: assert_close({"a": [1, {"b": 2.0}]}, {"a": [1, {"b": 2.5}]}),
        lambda: assert_close(torch.tensor([1.0, float("nan")]), torch.tensor([1.0, float("nan")])),
        lambda: assert_close(
            torch.tensor([1.0, float("nan")]), torch.tensor([1.0, float("nan")]), equal_nan=True
        ),
        lambda: assert_close(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.5]), rtol=0.3, atol=0),
        lambda: assert_close(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.5]), rtol=0.3),
        lambda: assert_close(
            torch.tensor([[1.0, 2.0], [3, 4]]), torch.tensor([[1.0, 2.0], [3, 5]]), msg="custom"
        ),
        lambda: assert_close(
            torch.tensor([1.0, 2.0], dtype=torch.float64),
            torch.tensor([1.0, 2.0]),
            check_dtype=False,
        ),
        lambda: assert_close(torch.tensor(2.0), torch.tensor(2.5)),
        lambda: assert_close(torch.tensor([True, False]), torch.tensor([True, True])),
        lambda: assert_close(
            torch.tensor([[1.0, 2.0], [3, 4]]), torch.tensor([[1.0, 2.0], [3, 4.00001]])
        ),
        lambda: assert_close(torch.zeros(2, 3), torch.zeros(2, 3)),
        lambda: assert_close([1, 2], [1, 2, 3]),
    ]
    return cases


def _outcomes(lib):
    outcomes = []
    for case in _cases(lib, lib.testing.assert_close):
        try:
            case()
            outcomes.append("OK")
        except Exception as err:  # noqa: BLE001 (the outcome is compared)
            outcomes.append((type(err).__name__, str(err).replace("rustgrad", "torch")))
    return outcomes


@pytest.mark.parametrize("k", range(len(_cases(torch, None))))
def test_assert_close_as_torch(k):
    assert _outcomes(rustgrad)[k] == _outcomes(torch)[k]


def test_assert_close_callable_message_and_deprecated_form():
    for lib in (rustgrad, torch):
        with pytest.raises(AssertionError, match="^prefix: Tensor-likes are not close"):
            lib.testing.assert_close(lib.ones(2), lib.zeros(2), msg=lambda m: "prefix: " + m)
        with pytest.warns(FutureWarning):
            lib.testing.assert_allclose(lib.ones(2), [1.0, 1.0])
