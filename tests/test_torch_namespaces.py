"""``torch.accelerator`` and ``torch.functional``, compared with PyTorch's on this machine."""

import pytest
import rustgrad

torch = pytest.importorskip("torch")


def test_accelerator_answers_as_pytorch_does():
    # Both see the same machine: a GPU is usable by both or by neither.
    acc, ref = rustgrad.accelerator, torch.accelerator
    assert acc.is_available() == ref.is_available()
    assert acc.device_count() == ref.device_count()
    ours, theirs = acc.current_accelerator(), ref.current_accelerator(check_available=True)
    assert (ours is None) == (theirs is None)
    if theirs is not None:
        assert ours.type == theirs.type
        assert acc.current_device_index() == ref.current_device_index()


def test_accelerator_without_one_raises_as_pytorch():
    if torch.accelerator.is_available():
        pytest.skip("an accelerator is available")
    for name in ("current_device_index", "current_device_idx", "synchronize"):
        with pytest.raises(RuntimeError) as theirs:
            getattr(torch.accelerator, name)()
        with pytest.raises(RuntimeError, match=str(theirs.value)):
            getattr(rustgrad.accelerator, name)()


def test_accelerator_device_selection_idiom():
    # The tutorials' idiom: the accelerator's device type, or the CPU.
    def pick(t):
        return t.accelerator.current_accelerator().type if t.accelerator.is_available() else "cpu"

    assert pick(rustgrad) == pick(torch)
    assert rustgrad.zeros(2, device=pick(rustgrad)).device.type == pick(torch)


def test_functional_is_torch_s_own_functions():
    for name in rustgrad.functional.__all__:
        assert name in torch.functional.__all__
        assert getattr(rustgrad.functional, name) is getattr(rustgrad, name)
    x = [[1.0, 2.0], [3.0, 4.0]]
    ours = rustgrad.functional.einsum("ij,jk->ik", rustgrad.tensor(x), rustgrad.tensor(x))
    theirs = torch.functional.einsum("ij,jk->ik", torch.tensor(x), torch.tensor(x))
    assert ours.tolist() == theirs.tolist()
