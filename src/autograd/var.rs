//! `Var`: a tensor plus its autograd identity (PyTorch's `Variable`, which today is simply
//! the tensor class). Cloning a `Var` clones a handle, not the data.

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use super::arena::{self, Edge, EdgeTarget, NodeId, NodeRef};
use super::GradHook;
use crate::bail;
use crate::error::Result;
use crate::tensor::{DType, Shape, Tensor};

pub struct VarInner {
    state: Mutex<VarState>,
    /// A slot for the binding layer (the Python object that wraps this variable, so that
    /// `x.grad is x.grad` holds); the core never looks inside.
    handle: Mutex<Option<Box<dyn Any + Send + Sync>>>,
}

struct VarState {
    tensor: Tensor,
    /// Set by the user on leaves; non-leaves require grad because they have a `grad_fn`.
    requires_grad: bool,
    grad_fn: Option<NodeRef>,
    grad: Option<Var>,
    retains_grad: bool,
    /// For a view: the variable whose storage it views (in-place ops on the view also
    /// rebase the base's history).
    base: Option<Var>,
    /// For a view: makes it again from its base's current history (see [`Var::grad_fn`]).
    replay: Option<ViewReplay>,
    /// The storage's version when `grad_fn` was last set: a view whose storage has changed
    /// since may have a stale history (another view, or the base, was written in place).
    history_at: u64,
    /// Gradient hooks of a leaf (a non-leaf's hooks live on its `grad_fn` node).
    hooks: Vec<(u64, GradHook)>,
    /// Hooks a leaf runs after its `.grad` was accumulated (called with the leaf itself;
    /// their results are ignored): `register_post_accumulate_grad_hook`.
    post_accumulate_hooks: Vec<(u64, GradHook)>,
    /// How this view was made, for PyTorch's refusals of in-place writes through it.
    creation: ViewCreation,
}

/// How a view came to be (PyTorch's `CreationMeta`): some views refuse in-place writes while
/// grad mode is on, since no history can say what such a write does to the gradient.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum ViewCreation {
    /// An ordinary view (or no view).
    #[default]
    Default,
    /// Made in no_grad mode (`inference`: in inference mode) of a base that requires grad;
    /// `direct`: by the view op itself, not a view of such a view.
    NoGrad { direct: bool, inference: bool },
    /// One of the views a single call returned (`unbind`, `split`, `chunk`): the call's op
    /// and which output, or None for a view of such a view.
    MultiOutput { op: Option<(&'static str, usize)> },
}

impl ViewCreation {
    /// PyTorch's `handle_view_on_rebase` words for a write to a view made this way (`named`:
    /// the view's op and output number where it has a history; `indirect`: its base or
    /// another view of its base was written, not the view itself).
    pub fn rebase_refusal(self, named: Option<(String, usize)>, indirect: bool) -> String {
        let modified = if indirect {
            "its base or another view of its base has been"
        } else {
            "is being"
        };
        let no_grad_view = matches!(self, ViewCreation::NoGrad { .. });
        let (mode, writing, block) = match self {
            ViewCreation::NoGrad {
                inference: true, ..
            } => ("inference mode", "in normal mode", "inference_mode"),
            _ => ("no_grad mode", "with grad mode enabled", "no_grad"),
        };
        let mut message = match (&named, no_grad_view) {
            (Some((op, k)), false) => {
                format!("Output {k} of {op} is a view and {modified} modified inplace.")
            }
            (Some((op, k)), true) => format!(
                "Output {k} of {op} is a view of a view which was created in {mode} and \
                 {modified} modified inplace {writing}."
            ),
            (None, _) => {
                format!("A view was created in {mode} and {modified} modified inplace {writing}.")
            }
        };
        match self {
            ViewCreation::MultiOutput { .. } => message.push_str(
                " This view is the output of a function that returns multiple views. Such \
                 functions do not allow the output views to be modified inplace. You should \
                 replace the inplace operation by an out-of-place one.",
            ),
            _ => message.push_str(&format!(
                " Given that this use case is ambiguous and error-prone, it is forbidden. You \
                 can clarify your code by moving both the view and the inplace either both \
                 inside the {block} block (if you don't want the inplace to be tracked) or both \
                 outside (if you want the inplace to be tracked)."
            )),
        }
        message
    }

    /// What a view of a view made this way inherits (PyTorch's `propagate_creation_meta`).
    fn inherited(self) -> ViewCreation {
        match self {
            ViewCreation::Default => ViewCreation::Default,
            ViewCreation::NoGrad { inference, .. } => ViewCreation::NoGrad {
                direct: false,
                inference,
            },
            ViewCreation::MultiOutput { .. } => ViewCreation::MultiOutput { op: None },
        }
    }
}

#[derive(Clone)]
pub struct Var(Arc<VarInner>);

/// Remakes a view from its base (`Some(view)` with a history through the base's current
/// `grad_fn`), as PyTorch regenerates a view's `grad_fn` after an in-place change of its
/// storage; `None` when the view cannot be remade.
pub type ViewReplay = Arc<dyn Fn(&Var) -> Option<Var> + Send + Sync>;

impl Var {
    /// A leaf.
    pub fn new(tensor: Tensor, requires_grad: bool) -> Var {
        Var(Arc::new(VarInner {
            state: Mutex::new(VarState {
                tensor,
                requires_grad,
                grad_fn: None,
                grad: None,
                retains_grad: false,
                base: None,
                replay: None,
                history_at: 0,
                hooks: Vec::new(),
                post_accumulate_hooks: Vec::new(),
                creation: ViewCreation::Default,
            }),
            handle: Mutex::new(None),
        }))
    }

    /// The output of a recorded op.
    pub fn with_history(tensor: Tensor, grad_fn: NodeRef) -> Var {
        Var(Arc::new(VarInner {
            state: Mutex::new(VarState {
                tensor,
                requires_grad: false,
                grad_fn: Some(grad_fn),
                grad: None,
                retains_grad: false,
                base: None,
                replay: None,
                history_at: 0,
                hooks: Vec::new(),
                post_accumulate_hooks: Vec::new(),
                creation: ViewCreation::Default,
            }),
            handle: Mutex::new(None),
        }))
    }

    pub fn tensor(&self) -> Tensor {
        self.0.state.lock().tensor.clone()
    }

    /// `f` of the tensor, read in place (no clone). `f` must not lock another variable: a
    /// variable's lock is not reentrant, and `x * x` names one variable twice.
    pub fn with_tensor<R>(&self, f: impl FnOnce(&Tensor) -> R) -> R {
        f(&self.0.state.lock().tensor)
    }

    /// Replaces the data (`x.data = t`), keeping the autograd identity.
    pub fn set_tensor(&self, tensor: Tensor) {
        crate::compile::note_break("`.data` was replaced");
        self.0.state.lock().tensor = tensor;
    }

    /// The shape (inline up to six dims: no allocation on the per-op path).
    pub fn shape(&self) -> Shape {
        Shape::from_slice(self.0.state.lock().tensor.shape())
    }

    pub fn numel(&self) -> usize {
        self.0.state.lock().tensor.numel()
    }

    pub fn dtype(&self) -> DType {
        self.0.state.lock().tensor.dtype()
    }

    pub fn requires_grad(&self) -> bool {
        let s = self.fresh_state();
        if s.requires_grad || s.grad_fn.is_some() {
            return true;
        }
        // A view whose history was not remade (refused, see `fresh_state`) still requires
        // grad when its base does, as PyTorch's views do.
        let stale_base = match &s.base {
            Some(base) if s.tensor.version() != s.history_at => Some(base.clone()),
            _ => None,
        };
        drop(s); // (the base has a lock of its own)
        stale_base.is_some_and(|b| b.requires_grad())
    }

    /// The state, with a view's history first brought up to date: when its storage changed
    /// since its `grad_fn` was set (an in-place write through the base or another view), the
    /// view is remade from its base's current history (PyTorch's `AsStridedBackward0`), so
    /// that gradients through it see the write.
    fn fresh_state(&self) -> parking_lot::MutexGuard<'_, VarState> {
        let s = self.0.state.lock();
        let stale = match (&s.base, &s.replay) {
            (Some(base), Some(replay)) if s.tensor.version() != s.history_at => {
                Some((base.clone(), replay.clone(), s.tensor.version()))
            }
            _ => None,
        };
        let Some((base, replay, now)) = stale else {
            return s;
        };
        let (creation, old_node) = (s.creation, s.grad_fn.as_ref().map(|n| n.id()));
        drop(s); // the replay locks the base
        if creation != ViewCreation::Default && base.requires_grad() && super::is_grad_enabled() {
            // PyTorch refuses to remake such a view's history (`handle_view_on_rebase`,
            // indirect): the op reading it raises (the binding takes the error), and the view
            // keeps its old history meanwhile.
            let named = old_node.and_then(|id| {
                let op = arena::op_of_node(&arena::node_name(id)?);
                match creation {
                    ViewCreation::MultiOutput { op: Some((op, k)) } => Some((op.to_string(), k)),
                    ViewCreation::NoGrad { direct: true, .. } => None,
                    _ => Some((op, 0)),
                }
            });
            arena::set_save_error(crate::error::Error::Runtime(
                creation.rebase_refusal(named, true),
            ));
            return self.0.state.lock();
        }
        let remade = if base.requires_grad() {
            replay(&base).and_then(|v| v.grad_fn())
        } else {
            None
        };
        let mut s = self.0.state.lock();
        if s.history_at != now {
            if remade.is_some() {
                // (a retained gradient follows the view to its new history, as PyTorch's)
                let retained = remade.as_ref().filter(|_| s.retains_grad).map(|n| n.id());
                let old = std::mem::replace(&mut s.grad_fn, remade);
                s.history_at = now;
                drop(s);
                drop(old); // outside the lock
                if let Some(id) = retained {
                    arena::retain_grad(id, self);
                }
                return self.0.state.lock();
            }
            s.history_at = now;
        }
        s
    }

    pub fn set_requires_grad(&self, requires_grad: bool) -> Result<()> {
        let mut s = self.0.state.lock();
        if s.requires_grad != requires_grad {
            crate::compile::note_break("`requires_grad` was changed");
        }
        if s.grad_fn.is_some() {
            if !requires_grad {
                bail!(
                    Runtime,
                    "you can only change requires_grad flags of leaf variables. If you want to use \
                     a computed variable in a subgraph that doesn't require differentiation use \
                     var_no_grad = var.detach()."
                );
            }
            return Ok(());
        }
        if requires_grad
            && s.tensor.storage().is_inference()
            && !crate::tensor::storage::is_inference_mode()
        {
            bail!(
                Runtime,
                "Setting requires_grad=True on inference tensor outside InferenceMode is not \
                 allowed."
            );
        }
        if requires_grad && !s.tensor.dtype().is_float() {
            bail!(
                Runtime,
                "Only Tensors of floating point and complex dtype can require gradients"
            );
        }
        s.requires_grad = requires_grad;
        Ok(())
    }

    pub fn is_leaf(&self) -> bool {
        self.fresh_state().grad_fn.is_none()
    }

    pub fn grad_fn(&self) -> Option<NodeRef> {
        self.fresh_state().grad_fn.clone()
    }

    pub fn grad_fn_name(&self) -> Option<String> {
        let id = self.fresh_state().grad_fn.as_ref().map(|n| n.id())?;
        arena::node_name(id)
    }

    /// Replaces the history (in-place ops rebase a variable onto their own node). A retained
    /// gradient follows the history: `.grad` is the gradient of the current value.
    pub fn set_grad_fn(&self, grad_fn: Option<NodeRef>) {
        let (old, retained) = {
            let mut s = self.0.state.lock();
            s.history_at = s.tensor.version();
            let new_id = grad_fn.as_ref().map(|n| n.id());
            let old = std::mem::replace(&mut s.grad_fn, grad_fn);
            (old, s.retains_grad.then_some(new_id))
        };
        if let Some(new_id) = retained {
            if let Some(old) = &old {
                arena::unretain_grad(old.id(), self);
            }
            if let Some(id) = new_id {
                arena::retain_grad(id, self);
            }
        }
        drop(old); // outside the lock
    }

    pub fn grad(&self) -> Option<Var> {
        self.0.state.lock().grad.clone()
    }

    pub fn set_grad(&self, grad: Option<Var>) {
        crate::compile::on_set_grad(self, grad.as_ref());
        let old = std::mem::replace(&mut self.0.state.lock().grad, grad);
        drop(old);
    }

    pub fn retains_grad(&self) -> bool {
        self.0.state.lock().retains_grad
    }

    /// Keeps `.grad` for a non-leaf (a no-op on leaves, which always keep it).
    pub fn retain_grad(&self) -> Result<()> {
        let id = {
            let mut s = self.0.state.lock();
            if s.grad_fn.is_none() {
                if !s.requires_grad {
                    bail!(
                        Runtime,
                        "can't retain_grad on Tensor that has requires_grad=False"
                    );
                }
                return Ok(());
            }
            s.retains_grad = true;
            s.grad_fn.as_ref().map(|n| n.id())
        };
        if let Some(id) = id {
            arena::retain_grad(id, self);
        }
        Ok(())
    }

    /// The same data without history.
    pub fn detach(&self) -> Var {
        Var::new(self.tensor(), false)
    }

    /// Where this variable's gradient should flow, as an edge of a new node.
    pub fn edge(&self) -> Edge {
        let s = self.fresh_state();
        let dtype = s.tensor.dtype();
        let target = match &s.grad_fn {
            Some(node) => node.clone().into_edge_target(),
            None if s.requires_grad => EdgeTarget::Leaf(self.clone()),
            None => EdgeTarget::None,
        };
        Edge { target, dtype }
    }

    /// Registers a hook on this tensor's gradient (`Tensor.register_hook`).
    pub fn register_hook(&self, hook: GradHook) -> Result<HookHandle> {
        crate::compile::note_break("a gradient hook was registered");
        if !self.requires_grad() {
            bail!(
                Runtime,
                "cannot register a hook on a tensor that doesn't require gradient"
            );
        }
        let key = NEXT_HOOK_KEY.fetch_add(1, Ordering::Relaxed);
        let node = self.0.state.lock().grad_fn.as_ref().map(|n| n.id());
        let target = match node {
            Some(id) => {
                arena::add_pre_hook(id, key, hook);
                HookTarget::Node(id)
            }
            None => {
                self.0.state.lock().hooks.push((key, hook));
                HookTarget::Leaf(self.downgrade())
            }
        };
        Ok(HookHandle { target, key })
    }

    /// Registers a hook run with this leaf after backward accumulated into its `.grad`
    /// (`Tensor.register_post_accumulate_grad_hook`).
    pub fn register_post_accumulate_grad_hook(&self, hook: GradHook) -> Result<HookHandle> {
        crate::compile::note_break("a post-accumulate-grad hook was registered");
        if !self.requires_grad() {
            bail!(
                Runtime,
                "cannot register a hook on a tensor that doesn't require gradient"
            );
        }
        if !self.is_leaf() {
            bail!(
                Runtime,
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            );
        }
        let key = NEXT_HOOK_KEY.fetch_add(1, Ordering::Relaxed);
        self.0.state.lock().post_accumulate_hooks.push((key, hook));
        Ok(HookHandle {
            target: HookTarget::PostAccumulate(self.downgrade()),
            key,
        })
    }

    /// The leaf's post-accumulate-grad hooks, in registration order.
    pub fn post_accumulate_hooks(&self) -> Vec<GradHook> {
        let s = self.0.state.lock();
        s.post_accumulate_hooks
            .iter()
            .map(|(_, h)| h.clone())
            .collect()
    }

    /// The leaf's gradient hooks, in registration order.
    pub fn hooks(&self) -> Vec<GradHook> {
        self.0
            .state
            .lock()
            .hooks
            .iter()
            .map(|(_, h)| h.clone())
            .collect()
    }

    /// This view's history remade from its base's current history (PyTorch's
    /// `AsStridedBackward0`), or None where it cannot be (no base, or a base whose storage or
    /// layout no longer holds the view).
    pub fn remade_from_base(&self) -> Option<NodeRef> {
        let (base, replay) = {
            let s = self.0.state.lock();
            (s.base.clone()?, s.replay.clone()?)
        };
        replay(&base).and_then(|v| v.grad_fn())
    }

    /// The variable this one is a view of, if any.
    pub fn view_base(&self) -> Option<Var> {
        self.0.state.lock().base.clone()
    }

    /// Marks this variable as a view of `of` (or of `of`'s own base); `replay` remakes it
    /// from that base when its history goes stale.
    pub fn set_view_of(&self, of: &Var, replay: ViewReplay) {
        let base = of.view_base().unwrap_or_else(|| of.clone());
        let creation = of.creation().inherited();
        let mut s = self.0.state.lock();
        s.base = Some(base);
        s.replay = Some(replay);
        s.history_at = s.tensor.version();
        s.creation = creation;
    }

    /// How this view was made.
    pub fn creation(&self) -> ViewCreation {
        self.0.state.lock().creation
    }

    pub fn set_creation(&self, creation: ViewCreation) {
        self.0.state.lock().creation = creation;
    }

    /// Runs `f` on the binding layer's slot.
    pub fn with_handle<R>(
        &self,
        f: impl FnOnce(&mut Option<Box<dyn Any + Send + Sync>>) -> R,
    ) -> R {
        f(&mut self.0.handle.lock())
    }

    pub fn downgrade(&self) -> Weak<VarInner> {
        Arc::downgrade(&self.0)
    }

    pub fn upgrade(weak: &Weak<VarInner>) -> Option<Var> {
        weak.upgrade().map(Var)
    }

    pub fn ptr_eq(&self, other: &Var) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// An address that identifies this variable (for `id()`-like keys).
    pub fn key(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    /// Whether nothing else holds this handle or its storage (its data may then be reused).
    pub fn is_sole_owner(&self) -> bool {
        Arc::strong_count(&self.0) == 1 && Arc::strong_count(self.tensor().storage()) <= 2
    }
}

/// The keys of registered hooks (unique across every kind, for [`HookHandle::remove`]).
static NEXT_HOOK_KEY: AtomicU64 = AtomicU64::new(1);

enum HookTarget {
    Leaf(Weak<VarInner>),
    PostAccumulate(Weak<VarInner>),
    Node(NodeId),
}

/// Returned by [`Var::register_hook`]; `remove()` unregisters the hook.
pub struct HookHandle {
    target: HookTarget,
    key: u64,
}

impl HookHandle {
    pub fn remove(&self) {
        match &self.target {
            HookTarget::Node(id) => arena::remove_pre_hook(*id, self.key),
            HookTarget::Leaf(weak) | HookTarget::PostAccumulate(weak) => {
                if let Some(v) = Var::upgrade(weak) {
                    let removed = {
                        let mut s = v.0.state.lock();
                        let hooks = match self.target {
                            HookTarget::Leaf(_) => &mut s.hooks,
                            _ => &mut s.post_accumulate_hooks,
                        };
                        let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(hooks)
                            .into_iter()
                            .partition(|(k, _)| *k == self.key);
                        *hooks = kept;
                        gone
                    };
                    // (dropped outside the lock: a hook's captures may hold this variable)
                    drop(removed);
                }
            }
        }
    }
}
