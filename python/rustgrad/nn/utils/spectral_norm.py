"""``torch.nn.utils.spectral_norm`` / ``remove_spectral_norm`` (the hook-based form):
``module.<name>`` is ``<name>_orig / sigma``, with ``sigma`` estimated by power iteration
from the buffers ``<name>_u`` and ``<name>_v``, recomputed before each forward."""

import rustgrad
from rustgrad.autograd.grad_mode import no_grad
from rustgrad.nn import functional as F
from rustgrad.nn.parameter import Parameter

__all__ = [
    "SpectralNorm",
    "SpectralNormLoadStateDictPreHook",
    "remove_spectral_norm",
    "spectral_norm",
]


class SpectralNorm:
    """The forward pre-hook that recomputes ``module.<name>`` (one power iteration step per
    call in training mode)."""

    # Version 1 (PyTorch's): v is a buffer, and eval mode uses u @ W_orig @ v.
    _version = 1

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but got "
                f"n_power_iterations={n_power_iterations}"
            )
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight):
        """``weight`` as a matrix, ``dim`` first."""
        weight_mat = weight
        if self.dim != 0:
            weight_mat = weight_mat.permute(
                self.dim, *[d for d in range(weight_mat.dim()) if d != self.dim]
            )
        height = weight_mat.size(0)
        return weight_mat.reshape(height, -1)

    def compute_weight(self, module, do_power_iteration):
        """``<name>_orig / sigma``; with ``do_power_iteration``, ``u`` and ``v`` are first
        updated in place."""
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    v = F.normalize(rustgrad.mv(weight_mat.t(), u), dim=0, eps=self.eps, out=v)
                    u = F.normalize(rustgrad.mv(weight_mat, v), dim=0, eps=self.eps, out=u)
                # Clones: the next in-place update must not change what this graph saved.
                u = u.clone()
                v = v.clone()
        sigma = rustgrad.dot(u, rustgrad.mv(weight_mat, v))
        return weight / sigma

    def remove(self, module):
        """``module.<name>`` becomes a plain parameter holding the normalised weight."""
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    def _solve_v_and_rescale(self, weight_mat, u, target_sigma):
        # A v with u = normalize(W @ v) and u @ W @ v = target_sigma (pinverse: W^T W may be
        # singular).
        v = rustgrad.linalg.multi_dot(
            [weight_mat.t().mm(weight_mat).pinverse(), weight_mat.t(), u.unsqueeze(1)]
        ).squeeze(1)
        return v.mul_(target_sigma / rustgrad.dot(u, rustgrad.mv(weight_mat, v)))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        """Set up spectral normalisation of ``module.<name>``; returns the hook."""
        from rustgrad.nn.modules.lazy import UninitializedParameter

        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two spectral_norm hooks on the same parameter {name}"
                )
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        if isinstance(weight, UninitializedParameter):
            raise ValueError(  # noqa: TRY004 (PyTorch's)
                "The module passed to `SpectralNorm` can't have uninitialized parameters. Make "
                "sure to run the dummy forward before applying spectral normalization"
            )
        with no_grad():
            weight_mat = fn.reshape_weight_to_matrix(weight)
            h, w = weight_mat.size()
            u = F.normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=fn.eps)
            v = F.normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=fn.eps)

        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        # module.<name> stays readable (as a plain tensor, not a parameter) before a forward.
        setattr(module, fn.name, weight.data)
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        module._register_load_state_dict_pre_hook(SpectralNormLoadStateDictPreHook(fn))
        return fn


class SpectralNormLoadStateDictPreHook:
    """Loads a state dict saved before version 1 (holding ``<name>`` and no ``<name>_v``):
    ``v`` is solved from ``W_orig``, ``u`` and ``W``."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ):
        fn = self.fn
        version = local_metadata.get("spectral_norm", {}).get(fn.name + ".version", None)
        if version is None or version < 1:
            weight_key = prefix + fn.name
            if (
                version is None
                and all(weight_key + s in state_dict for s in ("_orig", "_u", "_v"))
                and weight_key not in state_dict
            ):
                # A current state dict without metadata.
                return
            has_missing_keys = False
            for suffix in ("_orig", "", "_u"):
                key = weight_key + suffix
                if key not in state_dict:
                    has_missing_keys = True
                    if strict:
                        missing_keys.append(key)
            if has_missing_keys:
                return
            with no_grad():
                weight_orig = _as_tensor(state_dict[weight_key + "_orig"])
                weight = _as_tensor(state_dict.pop(weight_key))
                sigma = (weight_orig / weight).mean()
                weight_mat = fn.reshape_weight_to_matrix(weight_orig)
                u = _as_tensor(state_dict[weight_key + "_u"])
                v = fn._solve_v_and_rescale(weight_mat, u, sigma)
                state_dict[weight_key + "_v"] = v


def _as_tensor(value):
    # A tensor of another library (a PyTorch checkpoint) is read through NumPy.
    if isinstance(value, rustgrad.Tensor):
        return value
    return rustgrad.tensor(value.detach().cpu().numpy() if hasattr(value, "detach") else value)


def _is_conv_transpose(module):
    from rustgrad.nn.modules import conv

    kinds = tuple(
        cls
        for cls in (getattr(conv, f"ConvTranspose{d}d", None) for d in (1, 2, 3))
        if isinstance(cls, type)
    )
    return bool(kinds) and isinstance(module, kinds)


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its spectral norm, estimated by ``n_power_iterations`` of
    the power method before each forward in training mode (``<name>_orig`` the parameter,
    ``<name>_u``, ``<name>_v`` buffers). ``dim`` defaults to 0, 1 for the transposed
    convolutions. Returns the module."""
    if dim is None:
        dim = 1 if _is_conv_transpose(module) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo :func:`spectral_norm`: ``module.<name>`` is a plain parameter (the normalised
    weight) again. Returns the module."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            break
    else:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    hooks = module.__dict__.get("_load_state_dict_pre_hooks", {})
    for key, hook in hooks.items():
        if isinstance(hook, SpectralNormLoadStateDictPreHook) and hook.fn.name == name:
            del hooks[key]
            break
    return module
