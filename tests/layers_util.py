"""Helpers shared by the layer tests (test_nn_norm, test_nn_rnn, test_nn_attention): moving
tensors and state dicts between rustgrad and PyTorch."""

import numpy as np
import rustgrad as rg


def to_rg(t, device="cpu"):
    """A rustgrad tensor with a PyTorch tensor's values (dtype kept)."""
    return rg.tensor(t.detach().numpy(), device=device)


def to_torch(t):
    """A PyTorch tensor with a rustgrad tensor's values."""
    import torch

    return torch.tensor(t.detach().cpu().numpy())


def load_from_torch(ours, theirs, device="cpu"):
    """Load PyTorch module ``theirs``'s state dict into ``ours`` (every key must match)."""
    result = ours.load_state_dict({k: to_rg(v, device) for k, v in theirs.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    return ours


def load_into_torch(theirs, ours):
    """Load our state dict into PyTorch's module (every key must match)."""
    result = theirs.load_state_dict({k: to_torch(v) for k, v in ours.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    return theirs


def np_of(t):
    """NumPy values of a tensor of either library."""
    return t.detach().cpu().numpy() if hasattr(t, "cpu") else np.asarray(t)
