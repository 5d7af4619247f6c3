"""``rustgrad.autograd.graph``: hooks on the tensors the graph saves for backward, as
``torch.autograd.graph``.

``saved_tensors_hooks(pack, unpack)``: inside the block every tensor an op saves for backward
is passed to ``pack`` and what it returns is kept instead; backward (or ``grad_fn._saved_x``)
gets the tensor back through ``unpack``. The hooks are per thread, innermost block wins, and
are set aside while ``pack`` itself runs. ``save_on_cpu()`` keeps saved tensors in host memory
and moves them back to their device when backward needs them.

One saved tensor of a node can get its own pair with
``y.grad_fn._raw_saved_self.register_hooks(pack, unpack)``.
"""

import abc

from rustgrad import _core

SavedTensor = _core.SavedTensor


class Node(abc.ABC):
    """What every ``grad_fn`` is an instance of, as ``torch.autograd.graph.Node``: an
    abstract class that the recorded nodes (``MulBackward0`` and the rest, each a subclass of
    ``rustgrad.autograd.Node``) and ``AccumulateGrad`` count as subclasses of."""

    @abc.abstractmethod
    def name(self) -> str:
        """The node's name, e.g. ``"MulBackward0"``."""

    @property
    @abc.abstractmethod
    def next_functions(self):
        """``(node, input number)`` per input of the op."""

    @property
    @abc.abstractmethod
    def metadata(self) -> dict:
        """A dict for the user's own data."""

    @property
    @abc.abstractmethod
    def _input_metadata(self):
        """The inputs' metadata."""

    @abc.abstractmethod
    def _register_hook_dict(self, tensor):
        """Registers ``tensor``'s hooks on this node."""

    @abc.abstractmethod
    def register_hook(self, fn):
        """A hook run after the node computes its gradients."""

    @abc.abstractmethod
    def register_prehook(self, fn):
        """A hook run before the node computes its gradients."""

    @classmethod
    def __subclasshook__(cls, subclass):
        if cls is Node and issubclass(subclass, (_core.Node, _core.AccumulateGrad)):
            return True
        return NotImplemented


__all__ = ["Node", "SavedTensor", "save_on_cpu", "saved_tensors_hooks"]


class saved_tensors_hooks:
    """Context manager: pack every tensor saved for backward with ``pack_hook`` (any object
    may be returned) and get it back with ``unpack_hook`` (which must return a tensor)."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        _core._push_saved_tensors_hooks(self.pack_hook, self.unpack_hook)
        return self

    def __exit__(self, *exc):
        _core._pop_saved_tensors_hooks()
        return False


class save_on_cpu(saved_tensors_hooks):
    """Keep tensors saved for backward on the CPU inside the block, moving each back to its
    device when backward uses it. ``pin_memory`` is accepted (rustgrad's host memory is not
    pinned)."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack_to_cpu(tensor):
            return (tensor.device, tensor.cpu())

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device)

        super().__init__(pack_to_cpu, unpack_from_cpu)
