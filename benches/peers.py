"""The peers section of ``benches/compare.py``: the same workloads in every engine at hand.

Engines: rustgrad and PyTorch (one definition, PyTorch's API), JAX op by op (``jax``) and
compiled (``jax.jit``), and HIPS autograd over NumPy (``autograd``). JAX and autograd are
optional extras (``pip install -r benches/requirements-peers.txt``); an engine that does not
import is skipped and named in the report.

Every workload is one ``setup(engine, size)`` per family that returns ``run()``. ``run()`` does
the whole unit of work (a training step updates its parameters; a gradient is computed and
handed back) and waits for the result: JAX dispatches asynchronously, so its runs end with
``block_until_ready()``. The first call of each ``run`` is timed apart (for ``jax.jit`` it
traces and compiles; ``rustgrad.compile`` records its first calls and replays from the third).

Definitions (the issue-14 and issue-15 workloads):

* tiny chain: ``y = y * w`` / ``y + b`` alternating, 100 ops on 3 elements, ``sum``, gradient.
* MLP 2-16-16-1 step: tanh, relu, MSE, SGD on all parameters, batch 32.
* MLP 784-512-10 step: relu, cross-entropy over int class indices, SGD, batch 64.
* MLP [w, w, w, 10] step: relu, relu, cross-entropy, SGD, batch 64 (input width w).
* 4M chain: ``(((x * w) + 1).tanh() * x).exp().sum()`` forward and gradient, 4,194,304 float32.
* matmul: ``(a @ b).sum()`` forward and both gradients, 1024 x 1024 float32.
* Hessian-vector product: ``f(x) = (tanh(W @ x) ** 2).sum()``, ``H v`` as the gradient of
  ``grad f(x) . v`` (double backward), x of 64 elements.
"""

import importlib

import numpy as np

ENGINES = ["rustgrad", "rustgrad.compile", "torch", "jax", "jax.jit", "autograd"]
TORCH_API = {"rustgrad", "torch"}
# rustgrad with each workload's ``run`` under ``rustgrad.compile`` (capture and replay).
COMPILED = "rustgrad.compile"


def load(names):
    """``({engine: handle}, {engine: why it is missing})`` for the engines that import."""
    handles, missing = {}, {}
    for name in names:
        try:
            if name in TORCH_API or name == COMPILED:
                base = name.split(".")[0]
                lib = importlib.import_module(base)
                importlib.import_module(base + ".nn.functional")
                handles[name] = lib
            elif name in ("jax", "jax.jit"):
                jax = importlib.import_module("jax")
                handles[name] = (jax, importlib.import_module("jax.numpy"), name == "jax.jit")
            elif name == "autograd":
                importlib.import_module("autograd")
                handles[name] = importlib.import_module("autograd.numpy")
            else:
                missing[name] = "unknown engine"
        except ImportError as exc:
            missing[name] = str(exc)
    return handles, missing


def version(name, handle):
    if name in TORCH_API or name == COMPILED:
        return getattr(handle, "__version__", "?")
    if name in ("jax", "jax.jit"):
        return handle[0].__version__
    from importlib import metadata

    try:
        return metadata.version("autograd")
    except metadata.PackageNotFoundError:
        return "?"


# ------------------------------------------------------------------ shared data (NumPy, seeded)


def _randn(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _mlp_data(dims, batch, classes):
    """Weights scaled by fan-in, zero biases, inputs and (int class | float) targets."""
    rng = np.random.default_rng(0)
    params = []
    for d_in, d_out in zip(dims[:-1], dims[1:]):
        params += [_randn(rng, d_in, d_out, scale=d_in**-0.5), np.zeros(d_out, np.float32)]
    inputs = _randn(rng, batch, dims[0])
    if classes:
        targets = rng.integers(0, dims[-1], batch).astype(np.int64)
    else:
        targets = _randn(rng, batch, dims[-1])
    return params, inputs, targets


# ------------------------------------------------------------------ PyTorch's API


def _torch_chain(lib, n_ops):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = lib.tensor([1.0001, 0.9999, 1.0002])
    b = lib.tensor([0.001, -0.002, 0.003])

    def run():
        y = x
        for i in range(n_ops):
            y = y * w if i % 2 == 0 else y + b
        y.sum().backward()
        x.grad = None

    return run


def _torch_mlp(lib, dims, batch, acts, classes, lr):
    """One SGD step of an MLP: ``acts[i]`` after layer i, cross-entropy or MSE at the end."""
    functional = importlib.import_module(lib.__name__ + ".nn.functional")
    arrays, x, t = _mlp_data(dims, batch, classes)
    params = [lib.tensor(a).requires_grad_() for a in arrays]
    inputs, targets = lib.tensor(x), lib.tensor(t)

    def run():
        h = inputs
        for i, act in enumerate(acts):
            h = getattr(h @ params[2 * i] + params[2 * i + 1], act)()
        out = h @ params[-2] + params[-1]
        if classes:
            loss = functional.cross_entropy(out, targets)
        else:
            loss = ((out - targets) ** 2).mean()
        loss.backward()
        with lib.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None

    return run


def _torch_ew_chain(lib, n):
    rng = np.random.default_rng(0)
    x = lib.tensor(_randn(rng, n)).requires_grad_()
    w = lib.tensor(_randn(rng, n, scale=0.1))

    def run():
        ((((x * w) + 1.0).tanh() * x).exp()).sum().backward()
        x.grad = None

    return run


def _torch_matmul(lib, n):
    rng = np.random.default_rng(0)
    a = lib.tensor(_randn(rng, n, n)).requires_grad_()
    b = lib.tensor(_randn(rng, n, n)).requires_grad_()

    def run():
        (a @ b).sum().backward()
        a.grad = None
        b.grad = None

    return run


def _torch_hvp(lib, n):
    rng = np.random.default_rng(0)
    w = lib.tensor(_randn(rng, n, n, scale=n**-0.5))
    x = lib.tensor(_randn(rng, n)).requires_grad_()
    v = lib.tensor(_randn(rng, n))

    def run():
        (g,) = lib.autograd.grad(((w @ x).tanh() ** 2).sum(), x, create_graph=True)
        (hv,) = lib.autograd.grad((g * v).sum(), x)
        return hv

    return run


# ------------------------------------------------------------------ functional (JAX, autograd)


def _functional(name, handle):
    """``(np_module, grad, compile, wait)`` for a functional engine."""
    if name == "autograd":
        return handle, importlib.import_module("autograd").grad, (lambda f: f), (lambda r: r)
    jax, jnp, jit = handle

    def wait(result):
        return jax.block_until_ready(result)

    return jnp, jax.grad, (jax.jit if jit else (lambda f: f)), wait


def _log_softmax(np_, z):
    z = z - np_.max(z, axis=1, keepdims=True)
    return z - np_.log(np_.sum(np_.exp(z), axis=1, keepdims=True))


def _functional_chain(name, handle, n_ops):
    np_, grad, compile_, wait = _functional(name, handle)
    x = np_.array([1.0, 2.0, 3.0], dtype=np.float32)
    w = np_.array([1.0001, 0.9999, 1.0002], dtype=np.float32)
    b = np_.array([0.001, -0.002, 0.003], dtype=np.float32)

    def loss(x):
        y = x
        for i in range(n_ops):
            y = y * w if i % 2 == 0 else y + b
        return np_.sum(y)

    gradient = compile_(grad(loss))
    return lambda: wait(gradient(x))


def _functional_mlp(name, handle, dims, batch, acts, classes, lr):
    np_, grad, compile_, wait = _functional(name, handle)
    arrays, x, t = _mlp_data(dims, batch, classes)
    state = [np_.asarray(a) for a in arrays]
    inputs, targets = np_.asarray(x), np_.asarray(t)
    rows = np_.arange(batch)
    activations = {
        "relu": lambda h: np_.maximum(h, 0.0),
        "tanh": np_.tanh,
    }

    def loss(params):
        h = inputs
        for i, act in enumerate(acts):
            h = activations[act](h @ params[2 * i] + params[2 * i + 1])
        out = h @ params[-2] + params[-1]
        if classes:
            return -np_.mean(_log_softmax(np_, out)[rows, targets])
        return np_.mean((out - targets) ** 2)

    def step(params):
        grads = grad(loss)(params)
        return [p - lr * g for p, g in zip(params, grads)]

    step = compile_(step)

    def run():
        state[:] = wait(step(list(state)))

    return run


def _functional_ew_chain(name, handle, n):
    np_, grad, compile_, wait = _functional(name, handle)
    rng = np.random.default_rng(0)
    x = np_.asarray(_randn(rng, n))
    w = np_.asarray(_randn(rng, n, scale=0.1))

    def loss(x):
        return np_.sum(np_.exp(np_.tanh(x * w + 1.0) * x))

    gradient = compile_(grad(loss))
    return lambda: wait(gradient(x))


def _functional_matmul(name, handle, n):
    np_, grad, compile_, wait = _functional(name, handle)
    rng = np.random.default_rng(0)
    a = np_.asarray(_randn(rng, n, n))
    b = np_.asarray(_randn(rng, n, n))

    def loss(ab):
        return np_.sum(ab[0] @ ab[1])

    gradient = compile_(grad(loss))
    return lambda: wait(gradient([a, b]))


def _functional_hvp(name, handle, n):
    np_, grad, compile_, wait = _functional(name, handle)
    rng = np.random.default_rng(0)
    w = np_.asarray(_randn(rng, n, n, scale=n**-0.5))
    x = np_.asarray(_randn(rng, n))
    v = np_.asarray(_randn(rng, n))

    def f(x):
        return np_.sum(np_.tanh(w @ x) ** 2)

    def directional(x):
        return np_.sum(grad(f)(x) * v)

    hvp = compile_(grad(directional))
    return lambda: wait(hvp(x))


# ------------------------------------------------------------------ the workloads


class PeerWorkload:
    """``setup(engine name, handle, size) -> run``; ``size[units_key]`` units per run."""

    def __init__(self, name, unit, scale, torch_setup, functional_setup, label=None):
        self.name = name
        self.unit = unit
        self.scale = scale  # seconds -> unit
        self.torch_setup = torch_setup
        self.functional_setup = functional_setup
        self.label = label or (lambda size: name)

    def setup(self, engine, handle, size):
        if engine in TORCH_API:
            return self.torch_setup(handle, size)
        if engine == COMPILED:
            return handle.compile(self.torch_setup(handle, size))
        return self.functional_setup(engine, handle, size)


def _mlp_workload(name, dims_of, batch_key, acts, classes, lr, label=None):
    return PeerWorkload(
        name,
        "us/step",
        1e6,
        lambda lib, s: _torch_mlp(lib, dims_of(s), s[batch_key], acts, classes, lr),
        lambda e, h, s: _functional_mlp(e, h, dims_of(s), s[batch_key], acts, classes, lr),
        label,
    )


def wide_mlp(width):
    """The MLP scaling table's row: [w, w, w, 10], batch 64, relu, cross-entropy, SGD."""
    return _mlp_workload(
        f"MLP [{width},{width},{width},10] step, batch B",
        lambda s: [width, width, width, 10],
        "peer_batch",
        ["relu", "relu"],
        True,
        0.01,
        lambda s: f"MLP [{width},{width},{width},10] step, batch {s['peer_batch']}",
    )


def workloads(size):
    """The peers table's rows at ``size`` (a ``compare.SIZES`` entry)."""
    return [
        PeerWorkload(
            "tiny chain, 100 ops on 3 elements, fwd+bwd",
            "us",
            1e6,
            lambda lib, s: _torch_chain(lib, 100),
            lambda e, h, s: _functional_chain(e, h, 100),
        ),
        _mlp_workload(
            "MLP 2-16-16-1 step, batch 32",
            lambda s: [2, 16, 16, 1],
            "mlp_batch",
            ["tanh", "relu"],
            False,
            0.01,
        ),
        _mlp_workload(
            "MLP 784-512-10 step, batch B",
            lambda s: [784, 512, 10],
            "peer_batch",
            ["relu"],
            True,
            0.05,
            lambda s: f"MLP 784-512-10 step, batch {s['peer_batch']}",
        ),
        *(wide_mlp(w) for w in size["peer_widths"]),
        PeerWorkload(
            "4M chain x*w, +1, tanh, *x, exp, sum; fwd+bwd",
            "ms",
            1e3,
            lambda lib, s: _torch_ew_chain(lib, s["peer_ew_n"]),
            lambda e, h, s: _functional_ew_chain(e, h, s["peer_ew_n"]),
            lambda s: f"chain x*w, +1, tanh, *x, exp, sum on {s['peer_ew_n']:,} float32; fwd+bwd",
        ),
        PeerWorkload(
            "matmul NxN fwd+bwd",
            "ms",
            1e3,
            lambda lib, s: _torch_matmul(lib, s["peer_mm_n"]),
            lambda e, h, s: _functional_matmul(e, h, s["peer_mm_n"]),
            lambda s: f"matmul {s['peer_mm_n']}x{s['peer_mm_n']} float32, fwd+bwd",
        ),
        PeerWorkload(
            "Hessian-vector product, tanh(W x), 64 elements",
            "us",
            1e6,
            lambda lib, s: _torch_hvp(lib, 64),
            lambda e, h, s: _functional_hvp(e, h, 64),
        ),
    ]
