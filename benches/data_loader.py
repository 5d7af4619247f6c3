"""One DataLoader epoch over the digits data set, rustgrad against PyTorch, side by side.

Usage: python benches/data_loader.py   (needs scikit-learn for the data and the reference
PyTorch); prints the best of 7 epochs for each library, twice, alternating.
"""

import time

import numpy as np
import rustgrad
import torch
from sklearn.datasets import load_digits

X, y = load_digits(return_X_y=True)
X = X.astype(np.float32) / 16


def epoch(lib, data, workers=0):
    ds = data.TensorDataset(lib.tensor(X), lib.tensor(y))
    loader = data.DataLoader(ds, batch_size=64, shuffle=True, num_workers=workers)
    best = 1e9
    for _ in range(7):
        t = time.perf_counter()
        for xb, yb in loader:
            pass
        best = min(best, time.perf_counter() - t)
    return best


for name, lib, data in (
    ("torch", torch, torch.utils.data),
    ("rustgrad", rustgrad, rustgrad.utils.data),
    ("torch", torch, torch.utils.data),
    ("rustgrad", rustgrad, rustgrad.utils.data),
):
    print(name, "epoch %.2f ms" % (epoch(lib, data) * 1e3))
