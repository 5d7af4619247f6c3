"""Custom differentiable operations: ``rustgrad.autograd.Function``, as ``torch.autograd.Function``.

A subclass supplies the forward computation and its gradient::

    class MyRelu(Function):
        @staticmethod
        def forward(ctx, x):             # runs with grad mode off
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, grad):         # one gradient per forward argument
            (x,) = ctx.saved_tensors
            return grad * (x > 0).to(grad.dtype)

    y = MyRelu.apply(x)                  # y.grad_fn is <MyReluBackward object at ...>

``apply`` runs ``forward`` under ``no_grad`` and hands its output to the Rust engine
(``_core._function_apply``), which records one graph node named ``<ClassName>Backward`` with an
edge to every tensor argument. At backward time the engine calls back into Python; the wrapper
here maps ``backward``'s per-argument results onto the tensor arguments (non-tensor arguments
must get ``None``), checks shapes as PyTorch does, and returns them to the engine.

Saved tensors are version-checked by the engine: modifying one in place between forward and
backward makes backward raise PyTorch's "modified by an inplace operation" error. When
``backward`` is written with differentiable ops, ``create_graph=True`` differentiates through it
(the saved inputs keep their history), so second derivatives of custom functions work.

``forward`` may return a tuple: each differentiable tensor in it gets its own graph node,
whose backward calls ``backward`` with that output's gradient and zeros (or ``None`` after
``ctx.set_materialize_grads(False)``) for the others, so ``backward`` runs once per output
that receives a gradient (the sum is PyTorch's result, ``backward`` being linear in the
gradients). When ``backward`` reads saved outputs of such a Function, the outputs are instead
made one node (their flat concatenation), each output passing its gradient on to its piece:
a saved output then keeps its history, so ``create_graph=True`` differentiates through it
(PyTorch's one multi-output node). ``ctx.mark_dirty`` returns the modified input itself, its history moved onto the
node; ``ctx.mark_non_differentiable`` outputs come back without history.

A Function that defines ``jvp`` and no ``backward`` works in forward-mode AD: inside a
``forward_ad.dual_level`` with dual inputs, its outputs are dual tensors whose tangents
``jvp`` computes (see ``forward_ad``); backward through them raises PyTorch's error.
"""

import functools

from rustgrad import _core
from rustgrad.autograd import forward_ad
from rustgrad.autograd.grad_mode import no_grad

Tensor = _core.Tensor


class FunctionCtx:
    """The ``ctx`` passed to ``forward`` and ``backward``.

    Besides the methods below it takes arbitrary attributes (``ctx.k = 3`` in ``forward``, read
    back in ``backward``); store non-tensor values that way, and tensors with
    :meth:`save_for_backward` so that in-place changes to them are detected.
    """

    def __init__(self, needs_input_grad=()):
        self.needs_input_grad = tuple(needs_input_grad)
        self.to_save = ()
        self._saved = None
        self._saved_for_forward = ()
        self._in_jvp = False  # while ``jvp`` runs, ``saved_tensors`` are save_for_forward's
        self._non_differentiable = ()
        self._dirty = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors):
        """Keep ``tensors`` (or ``None``) for ``backward``, read back as ``ctx.saved_tensors``.

        Call it at most once, in ``forward``. The tensors are version-checked: changing one in
        place before backward runs is an error at backward.
        """
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward can only save variables, but argument {i} is of type "
                    f"{type(t).__name__}"
                )
        self.to_save = tensors

    def save_for_forward(self, *tensors):
        """Keep ``tensors`` (or ``None``) for ``jvp``, where ``ctx.saved_tensors`` reads them."""
        if not all(t is None or isinstance(t, Tensor) for t in tensors):
            raise AssertionError(
                "save_for_forward expects all arguments to be tensors; you should save "
                "non-tensors as attributes on ctx."
            )
        self._saved_for_forward = tensors

    @property
    def saved_tensors(self):
        """The tensors given to :meth:`save_for_backward`, as a tuple (only in ``backward``);
        in ``jvp``, those given to :meth:`save_for_forward`."""
        if self._in_jvp:
            return tuple(self._saved_for_forward)
        if self._saved is None:
            return ()  # (in forward: nothing is saved yet, as PyTorch's)
        return self._saved

    def mark_non_differentiable(self, *tensors):
        """Declare outputs that have no gradient: they come back without ``grad_fn``."""
        self._non_differentiable = tensors

    def mark_dirty(self, *tensors):
        """Declare inputs that ``forward`` changed in place; they must be returned as outputs
        (the same objects), which then carry this function's history."""
        self._dirty = tensors

    def set_materialize_grads(self, value):
        """With ``False``, outputs that get no gradient are passed to ``backward`` as ``None``
        instead of zeros."""
        self.materialize_grads = bool(value)


# Subclasses are made with this metaclass so that ``Function.apply`` can be a classmethod and
# each subclass knows its node name.
class FunctionMeta(type):
    """The metaclass of :class:`Function`: names each subclass's graph node
    (``MyFnBackward``)."""

    def __init__(cls, name, bases, namespace):
        super().__init__(name, bases, namespace)
        cls._backward_name = f"{name}Backward"


def _shape(t):
    return tuple(int(s) for s in t.shape)


def _expandable_to(shape, target):
    """Whether a tensor of ``shape`` broadcasts to ``target`` (so ``target`` sums back to it)."""
    if len(shape) > len(target):
        return False
    for s, t in zip(reversed(shape), reversed(target)):
        if s != t and s != 1:
            return False
    return True


def _sum_to(grad, shape):
    """Reduce ``grad`` (broadcast from ``shape``) back to ``shape``, as the engine's sum_to."""
    lead = grad.dim() - len(shape)
    if lead:
        grad = grad.sum(tuple(range(lead)))
    dims = tuple(i for i, s in enumerate(shape) if s == 1 and int(grad.shape[i]) != 1)
    if dims:
        grad = grad.sum(dims, keepdim=True)
    return grad


def _validate_grad(name, index, grad, want, dtype):
    """PyTorch's ``validate_outputs``: shape (summing broadcast dims away) and dtype."""
    got = _shape(grad)
    if got != want:
        if not _expandable_to(want, got):
            raise RuntimeError(
                f"Function {name} returned an invalid gradient at index {index} - got "
                f"{list(got)} but expected shape compatible with {list(want)}"
            )
        grad = _sum_to(grad, want)
    if grad.dtype != dtype and dtype.is_floating_point:
        grad = grad.to(dtype)
    return grad


class Function(metaclass=FunctionMeta):
    """Base class for custom differentiable operations; see the module docstring.

    Subclasses define the static methods ``forward(ctx, *args, **kwargs)`` and
    ``backward(ctx, *grad_outputs)`` (or, PyTorch 2 style, ``forward(*args)`` together with
    ``setup_context(ctx, inputs, output)``), and are used through ``apply``, never instantiated.
    """

    def __init__(self, *args, **kwargs):
        raise RuntimeError(
            f"{type(self).__name__} is a Function: call it as {type(self).__name__}.apply(...), "
            "do not instantiate it"
        )

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """Compute the output (a tensor) from ``args``; runs with grad mode off."""
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Optional (PyTorch 2 style): fill ``ctx`` after a ``forward`` that takes no ctx."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Return one gradient per argument of ``forward`` (``None`` for non-tensors and for
        inputs that need none), each of the shape of its input."""
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        """Forward-mode AD: return one tangent per output of ``forward`` from one tangent per
        argument (``None`` for non-tensors). Used when the Function defines no ``backward``."""
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with "
            "forward mode AD."
        )

    @classmethod
    def _uses_setup_context(cls):
        return cls.setup_context is not Function.setup_context

    @classmethod
    def _backward_function(cls):
        """``backward``, or ``vjp`` where only that is defined (PyTorch's alias)."""
        if cls.backward is Function.backward and cls.vjp is not Function.vjp:
            return cls.vjp
        return cls.backward

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on ``args`` and record a ``<ClassName>Backward`` node for it.

        Returns ``forward``'s output as a new tensor with that node as ``grad_fn`` when grad
        mode is on and a tensor argument requires grad; otherwise without history.
        """
        grad_enabled = _core.is_grad_enabled()
        is_tensor = [isinstance(a, Tensor) for a in args]
        # (as PyTorch's, whatever the grad mode)
        needs = tuple(t and a.requires_grad for t, a in zip(is_tensor, args))
        ctx = FunctionCtx(needs)
        # (forward-mode tangents come from ``jvp`` whenever one is there, as PyTorch's)
        tangents = forward_ad._tangents_of(args)

        with no_grad():
            if cls._uses_setup_context():
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)

        is_tuple = isinstance(output, tuple)
        outputs = output if is_tuple else (output,)
        for d in ctx._dirty:
            if not any(d is o for o in outputs):
                raise RuntimeError(
                    "Some elements marked as dirty during the forward method were not returned "
                    "as output. The inputs that are modified inplace must all be outputs of the "
                    "Function."
                )
            if grad_enabled and d.is_leaf and d.requires_grad:
                raise RuntimeError(
                    "a leaf Variable that requires grad has been used in an in-place operation."
                )
        for d in ctx._dirty:
            _core._bump_version(d)  # (PyTorch counts the marking as a write)

        if tangents is not None:
            return forward_ad._function_outputs(cls, ctx, args, output, tangents)

        tensor_inputs = [a for a, t in zip(args, is_tensor) if t]
        to_save = ctx.to_save
        ctx.to_save = ()  # from now on the engine owns the saved tensors
        saved_index = [i for i, t in enumerate(to_save) if t is not None]
        saved = [to_save[i] for i in saved_index]
        n_saved = len(to_save)
        name = cls._backward_name
        n_args = len(args)
        arg_of_input = [i for i, t in enumerate(is_tensor) if t]
        input_meta = [(_shape(a), a.dtype) for a in tensor_inputs]  # no references kept
        # Each output's shape, dtype and device, to make zeros for the outputs without grad.
        out_meta = [
            (_shape(o), o.dtype, o.device) if isinstance(o, Tensor) else None for o in outputs
        ]

        def run_backward(saved_tensors, given, saved_output=None):
            """``cls.backward`` with the saved tensors back in their places (each saved output
            made by ``saved_output`` when given) and ``given(k)`` as output k's gradient (zeros,
            or None without materialising, for the outputs it leaves out)."""
            values = [None] * n_saved
            for i, t in zip(saved_index, saved_tensors):
                values[i] = t
            if saved_output is not None:
                values = saved_output(values)
            grads = []
            for k, meta in enumerate(out_meta):
                grad = given(k)
                if grad is None and meta is not None and ctx.materialize_grads:
                    grad = _core.zeros(meta[0], dtype=meta[1], device=meta[2])
                grads.append(grad)
            ctx._saved = tuple(values)
            try:
                result = cls._backward_function()(ctx, *grads)
            finally:
                ctx._saved = None
            return _check_grads(result, name, n_args, is_tensor, arg_of_input, input_meta)

        def make_backward(k):
            """The backward of the node for output ``k``."""
            return lambda saved_tensors, grad: run_backward(
                saved_tensors, lambda i: grad if i == k else None
            )

        diff = [
            k
            for k, o in enumerate(outputs)
            if isinstance(o, Tensor)
            and o.is_floating_point()
            and not any(o is n for n in ctx._non_differentiable)
        ]
        if (
            grad_enabled
            and any(needs)
            and len(diff) >= 2
            and not ctx._dirty
            and len({id(outputs[k]) for k in diff}) == len(diff)
            and len({(outputs[k].dtype, str(outputs[k].device)) for k in diff}) == 1
        ):
            # Several differentiable outputs: one node for all of them, so that `backward`
            # runs once with every output's gradient (as PyTorch's one node with several
            # outputs) and each saved output keeps its history (second derivatives).
            packed = _Packed([outputs[k] for k in diff])
            received = set()  # outputs whose gradient reached the node in this pass

            def backward_all(saved_tensors, grad):
                reached, _ = set(received), received.clear()
                return run_backward(
                    saved_tensors,
                    lambda k: (
                        packed.piece(grad, diff.index(k))
                        if k in diff and (ctx.materialize_grads or diff.index(k) in reached)
                        else None
                    ),
                    packed.saved_pieces,
                )

            def pass_on(j):
                def backward(saved_tensors, grad):
                    received.add(j)
                    return (grad,)

                return backward

            packed.note_saved(to_save, saved_index)
            whole = _core._function_apply(
                name, backward_all, tensor_inputs, packed.whole, packed.saved(saved), False
            )
            # Each output keeps its own memory and a node of the Function's name that passes
            # its gradient on to its piece of the whole.
            results = [
                _core._function_apply(
                    name, pass_on(diff.index(k)), [packed.piece(whole, diff.index(k))], o, [], False
                )
                if k in diff
                else (o.detach() if isinstance(o, Tensor) else o)
                for k, o in enumerate(outputs)
            ]
            return tuple(results)

        results = []
        for k, o in enumerate(outputs):
            if not isinstance(o, Tensor):
                results.append(o)  # PyTorch passes non-tensor outputs through untouched
            elif any(o is n for n in ctx._non_differentiable) or (
                not o.is_floating_point() and not any(o is d for d in ctx._dirty)
            ):
                # (an integer output never requires grad: PyTorch marks it non-differentiable)
                results.append(o.detach())
            else:
                dirty = any(o is d for d in ctx._dirty)
                results.append(
                    _core._function_apply(name, make_backward(k), tensor_inputs, o, saved, dirty)
                )
        return tuple(results) if is_tuple else results[0]


class _Packed:
    """Several outputs of one dtype and device as one flat tensor (the single output of the
    node), with each output's place in it."""

    def __init__(self, outputs):
        self.outputs = outputs
        self.shapes = [_shape(o) for o in outputs]
        self.sizes = [o.numel() for o in outputs]
        self.offsets = [sum(self.sizes[:j]) for j in range(len(outputs))]
        self.whole = _core.cat([o.reshape(-1) for o in outputs])
        self.saved_outputs = []  # (index in save_for_backward's tuple, output number)

    def piece(self, flat, j):
        """Output ``j`` of ``flat`` (a view, differentiable)."""
        return flat.narrow(0, self.offsets[j], self.sizes[j]).reshape(self.shapes[j])

    def _output_number(self, t):
        return next((j for j, o in enumerate(self.outputs) if t is o), None)

    def note_saved(self, to_save, saved_index):
        for i in saved_index:
            j = self._output_number(to_save[i])
            if j is not None:
                self.saved_outputs.append((i, j))

    def saved_pieces(self, values):
        """``save_for_backward``'s tuple with each saved output cut back out of the whole."""
        values = list(values)
        for i, j in self.saved_outputs:
            values[i] = self.piece(values[i], j)
        return values

    def saved(self, saved):
        """The saved tensors with each output replaced by the whole (saved as the output)."""
        return [self.whole if self._output_number(t) is not None else t for t in saved]


def _check_grads(result, name, n_args, is_tensor, arg_of_input, input_meta):
    """``backward``'s result as one gradient per tensor input, with PyTorch's checks."""
    if not isinstance(result, tuple):
        result = (result,)
    if len(result) != n_args:
        if len(result) > n_args and all(r is None for r in result[n_args:]):
            result = result[:n_args]
        else:
            raise RuntimeError(
                f"function {name} returned an incorrect number of gradients "
                f"(expected {n_args}, got {len(result)})"
            )
    for i, (r, t) in enumerate(zip(result, is_tensor)):
        if not t and r is not None:
            raise RuntimeError(
                f"function {name} returned a gradient different than None at position "
                f"{i + 1}, but the corresponding forward input was not a Variable"
            )
        if r is not None and not isinstance(r, Tensor):
            raise RuntimeError(f"expected Variable or None (got {type(r).__name__})")
    grads = []
    for k, i in enumerate(arg_of_input):
        r = result[i]
        if r is not None:
            r = _validate_grad(name, i, r, *input_meta[k])
        grads.append(r)
    return tuple(grads)


def once_differentiable(fn):
    """Decorate a ``backward`` that is not itself differentiable: it then runs under
    ``no_grad``, so ``create_graph=True`` records nothing through it."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            return fn(ctx, *args)

    return wrapper


__all__ = ["Function", "FunctionCtx", "once_differentiable"]
