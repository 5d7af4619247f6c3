"""``torch.utils.benchmark.utils``: where PyTorch's ``Timer`` and ``Measurement`` live."""
