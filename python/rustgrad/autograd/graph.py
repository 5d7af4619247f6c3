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

from rustgrad import _core

Node = _core.Node
SavedTensor = _core.SavedTensor

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
