"""A few-second first contact with the GPU, run by ``scripts/gpu_check.sh`` before the suite
(and under ``compute-sanitizer`` where the host has it): the context, one upload, one kernel of
each kernel source, one cuBLAS call and one backward, each checked against NumPy.

    python scripts/gpu_smoke.py            # exit 0 when every step passed, 1 at the first failure

Each step prints its name and time, so a hang or a crash names the step it happened in.
"""

import sys
import time

import numpy as np


def main():
    import rustgrad as rg

    if not rg.cuda.is_available():
        print(f"CUDA is not available: {rg._core._cuda_unavailable_reason()}")
        return 1
    rng = np.random.default_rng(0)
    host = rng.standard_normal((64, 48)).astype(np.float32)
    state = {}

    def context():
        state["name"] = rg.cuda.get_device_name(0)
        rg.cuda.synchronize()
        return state["name"]

    def upload():
        state["x"] = rg.tensor(host).cuda()  # 12 KiB: the large-upload path
        np.testing.assert_array_equal(state["x"].cpu().numpy(), host)

    def elementwise():  # elementwise.cu
        y = (state["x"] * 2.0 + 1.0).exp().cpu().numpy()
        np.testing.assert_allclose(y, np.exp(host * 2 + 1), rtol=1e-5)

    def reduce():  # reduce.cu
        np.testing.assert_allclose(
            state["x"].sum(1).cpu().numpy(), host.sum(1), rtol=1e-4, atol=1e-4
        )

    def index():  # index.cu
        rows = [3, 0, 63, 3] * 16  # a 512-byte index list: the staged-upload path
        got = state["x"][rows].cpu().numpy()
        np.testing.assert_array_equal(got, host[rows])

    def matmul_int():  # matmul.cu (integer products are ours, not cuBLAS's)
        a = rng.integers(-5, 5, (7, 9))
        b = rng.integers(-5, 5, (9, 4))
        got = (rg.tensor(a).cuda() @ rg.tensor(b).cuda()).cpu().numpy()
        np.testing.assert_array_equal(got, a @ b)

    def random():  # random.cu
        r = rg.randn(4096, device="cuda").cpu().numpy()
        assert abs(r.mean()) < 0.1 and 0.9 < r.std() < 1.1, (r.mean(), r.std())

    def optim():  # optim.cu
        p = rg.tensor(host.copy(), requires_grad=True, device="cuda")
        p.grad = rg.ones(64, 48, device="cuda")
        rg.optim.SGD([p], lr=0.5).step()
        np.testing.assert_allclose(p.detach().cpu().numpy(), host - 0.5, rtol=1e-6)

    def cublas():
        w = rng.standard_normal((48, 32)).astype(np.float32)
        got = (state["x"] @ rg.tensor(w).cuda()).cpu().numpy()
        np.testing.assert_allclose(got, host @ w, rtol=1e-4, atol=1e-4)

    def backward():
        w = rg.tensor(rng.standard_normal((48, 8)), requires_grad=True, device="cuda")
        x = rg.tensor(host.astype(np.float64)).cuda()
        (x @ w).relu().sum().backward()
        mask = (host.astype(np.float64) @ w.detach().cpu().numpy()) > 0
        np.testing.assert_allclose(
            w.grad.cpu().numpy(), host.T.astype(np.float64) @ mask, rtol=1e-10
        )

    steps = [
        context,
        upload,
        elementwise,
        reduce,
        index,
        matmul_int,
        random,
        optim,
        cublas,
        backward,
    ]
    for step in steps:
        start = time.perf_counter()
        try:
            detail = step()
            rg.cuda.synchronize()
        except Exception as err:  # noqa: BLE001 - any failure stops the smoke run
            print(f"smoke {step.__name__}: FAILED after {time.perf_counter() - start:.2f} s")
            print(f"  {type(err).__name__}: {err}")
            return 1
        extra = f" ({detail})" if detail else ""
        print(f"smoke {step.__name__}: ok, {time.perf_counter() - start:.2f} s{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
