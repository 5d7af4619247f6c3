"""The optimizers' CUDA kernel (``optim.cu``) against the CPU kernel: every update rule and
option of ``tests/test_optim_parity.py``, 20 steps from identical data in float32 and float64.
Both kernels perform the same IEEE operations in the same order (fused where PyTorch fuses),
so the results are equal, not just close."""

import numpy as np
import pytest
import rustgrad as rg
from rustgrad import optim
from test_optim_parity import ALL, IDS, SHAPES

pytestmark = pytest.mark.cuda

STEPS = 20


def _train(device, name, kwargs, dtype):
    rng = np.random.default_rng(7)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES + [(70000,)]]
    params = [rg.tensor(a).to(device).requires_grad_() for a in init]
    opt = getattr(optim, name)(params, **kwargs)
    for _ in range(STEPS):
        for p in params:
            p.grad = rg.tensor(rng.standard_normal(tuple(p.shape)).astype(dtype)).to(device)
        opt.step()
    return params, opt


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kwargs", ALL, ids=IDS)
def test_cuda_kernel_equals_cpu_kernel(name, kwargs, dtype):
    cpu, cpu_opt = _train("cpu", name, kwargs, dtype)
    dev, dev_opt = _train("cuda", name, kwargs, dtype)
    for a, b in zip(cpu, dev):
        assert b.is_cuda
        assert np.array_equal(np.array(a.tolist()), np.array(b.cpu().tolist()))
    for a, b in zip(cpu, dev):
        for key, value in cpu_opt.state[a].items():
            other = dev_opt.state[b][key]
            assert np.array_equal(np.array(value.tolist()), np.array(other.cpu().tolist())), key
