//! The graph arena: nodes live in a slab (slots plus a free list), addressed by a copyable
//! id with a generation so that a stale id is detected, never dereferenced. Variables and
//! child nodes hold counted references; when a count reaches zero the slot is freed and the
//! node's inputs lose a reference, iteratively, so a 100,000-node chain frees without deep
//! recursion.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use smallvec::SmallVec;

use super::var::{Var, VarInner};
use super::{anomaly, GradHook};
use crate::error::{Error, Result};
use crate::tensor::storage::Storage;
use crate::tensor::{DType, Layout, Tensor};

/// A backward function: the gradient of each input given the gradient of the output.
/// Formulas are written with differentiable ops on [`Var`]s, so running them with grad mode
/// on records the backward pass itself (`create_graph=True`).
pub trait Backward: Send + Sync {
    /// The node's name as PyTorch shows it (`MulBackward0`).
    fn name(&self) -> Cow<'static, str>;
    /// Gradients for each input edge (`None` where an input gets none). `needs[i]` says
    /// whether input `i` wants one at all, so work for constants can be skipped.
    fn apply(&self, grad: &Var, saved: &[Var], needs: &[bool]) -> Result<Vec<Option<Var>>>;
    /// For the node of a strided view (`x[t]`, `x[:, a:b]`): the input's shape and the view
    /// as a function of the input's layout. The gradient is then the incoming one written
    /// into that region of zeros, so the engine may add it straight into the region of the
    /// gradient it is gathering for the input instead (`T` views of one tensor then cost
    /// one buffer, not `T` buffers of zeros added up).
    fn view_region(&self) -> Option<(&[usize], &LayoutFn)> {
        None
    }
}

/// A view's layout computed from its base's layout.
pub type LayoutFn = Arc<dyn Fn(&Layout) -> Layout + Send + Sync>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    index: u32,
    generation: u32,
}

/// Where an input's gradient goes.
#[derive(Clone)]
pub enum EdgeTarget {
    /// The input needs no gradient.
    None,
    /// Another node (a counted reference, released with this node).
    Node(NodeId),
    /// A leaf that requires grad: its gradient accumulates into `.grad`.
    Leaf(Var),
}

/// A node's input edges: inline for the one or two inputs of almost every op, so that
/// recording an op does not allocate for them.
pub type Edges = SmallVec<[Edge; 2]>;

#[derive(Clone)]
pub struct Edge {
    pub target: EdgeTarget,
    /// The input's dtype: gradients are cast to it, as PyTorch does.
    pub dtype: DType,
}

/// A tensor saved for backward, with the version it had so that in-place changes are caught.
#[derive(Clone)]
pub enum SavedVar {
    /// One of the op's inputs (unpacks to the variable itself, history included).
    Input {
        var: Var,
        /// The storage the input had when saved (its version counter is what is checked).
        storage: Arc<Storage>,
        version: u64,
    },
    /// The op's own output, saved without its `grad_fn` to avoid a reference cycle; it is
    /// re-attached to this node when unpacked under `create_graph`.
    Output { tensor: Tensor, version: u64 },
    /// Not kept: only the gradient of an input that needs none would read it (so a later
    /// in-place change of it is no error, as in PyTorch). Unpacks to a placeholder.
    Skipped,
    /// Handed to saved-tensor hooks: kept as whatever `pack` returned, unpacked on use. The
    /// storage is held weakly (for its version), so that hooks that move the data elsewhere
    /// (`save_on_cpu`) free the original; once it is gone nothing can change it in place.
    Packed {
        packed: Arc<dyn PackedVar>,
        storage: Weak<Storage>,
        version: u64,
        /// The op's output (re-attached to the node on unpack, as [`SavedVar::Output`]).
        output: bool,
    },
}

/// Saved-tensor hooks (`saved_tensors_hooks(pack, unpack)`): `pack` runs when an op saves a
/// tensor; what it returns is kept instead and unpacked when the tensor is needed.
pub trait SavedHooks: Send + Sync {
    fn pack(&self, var: &Var) -> Result<Arc<dyn PackedVar>>;
}

/// A tensor as a pack hook left it.
pub trait PackedVar: Send + Sync {
    fn unpack(&self) -> Result<Var>;
    /// Whether this came from hooks registered on this one saved tensor (`register_hooks`).
    fn own_hooks(&self) -> bool;
}

thread_local! {
    /// The `saved_tensors_hooks` in force on this thread, innermost last.
    static SAVED_HOOKS: RefCell<Vec<Arc<dyn SavedHooks>>> = const { RefCell::new(Vec::new()) };
    /// An error met while saving (an inference tensor, a failing pack hook): the op's binding
    /// raises it ([`take_save_error`]); saving itself cannot fail.
    static SAVE_ERROR: RefCell<Option<Error>> = const { RefCell::new(None) };
}

/// Whether saved-tensor hooks are active on this thread.
pub fn saved_hooks_active() -> bool {
    SAVED_HOOKS.with(|h| !h.borrow().is_empty())
}

pub fn push_saved_hooks(hooks: Arc<dyn SavedHooks>) {
    SAVED_HOOKS.with(|h| h.borrow_mut().push(hooks));
}

pub fn pop_saved_hooks() {
    let popped = SAVED_HOOKS.with(|h| h.borrow_mut().pop());
    drop(popped);
}

/// Keeps `e` for the binding to raise after the current call (the first one kept wins):
/// for errors met where the core cannot return one (saving a tensor, reading a view's
/// history).
pub(crate) fn set_save_error(e: Error) {
    SAVE_ERROR.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = Some(e);
        }
    });
}

/// The error, if an op since the last call failed to save a tensor for backward.
pub fn take_save_error() -> Option<Error> {
    SAVE_ERROR.with(|c| c.borrow_mut().take())
}

/// `var` through the innermost saved-tensor hooks, if any are in force. They are set aside
/// while `pack` runs, so ops inside it save normally.
fn packed_by_hooks(
    var: &Var,
    storage: &Arc<Storage>,
    version: u64,
    output: bool,
) -> Option<SavedVar> {
    let hooks = SAVED_HOOKS.with(|h| h.borrow().last().cloned())?;
    let stack = SAVED_HOOKS.with(|h| std::mem::take(&mut *h.borrow_mut()));
    let packed = hooks.pack(var);
    SAVED_HOOKS.with(|h| *h.borrow_mut() = stack);
    Some(match packed {
        Ok(packed) => SavedVar::Packed {
            packed,
            storage: Arc::downgrade(storage),
            version,
            output,
        },
        Err(e) => {
            set_save_error(e);
            SavedVar::Skipped
        }
    })
}

/// The op a node's name stands for in PyTorch's version error: `MulBackward0` is `Mul`,
/// `SumBackward1` is `Sum1`, a custom `MyFnBackward` is `MyFn`.
pub fn op_of_node(node: &str) -> String {
    match node.rfind("Backward") {
        Some(at) if node[at + 8..].bytes().all(|b| b.is_ascii_digit()) => {
            let overload = &node[at + 8..];
            let overload = if overload == "0" { "" } else { overload };
            format!("{}{overload}", &node[..at])
        }
        _ => node.to_string(),
    }
}

impl SavedVar {
    /// `var` if `needed` (the formula that reads it will run), else [`SavedVar::Skipped`].
    pub fn input_if(needed: bool, var: &Var) -> SavedVar {
        if needed {
            SavedVar::input(var)
        } else {
            SavedVar::Skipped
        }
    }

    pub fn input(var: &Var) -> SavedVar {
        let storage = var.tensor().storage().clone();
        note_inference_save(&storage);
        if let Some(p) = packed_by_hooks(var, &storage, storage.version(), false) {
            return p;
        }
        SavedVar::Input {
            var: var.clone(),
            version: storage.version(),
            storage,
        }
    }

    pub fn output(var: &Var) -> SavedVar {
        let tensor = var.tensor();
        note_inference_save(tensor.storage());
        if let Some(p) = packed_by_hooks(var, tensor.storage(), tensor.version(), true) {
            return p;
        }
        SavedVar::Output {
            version: tensor.version(),
            tensor,
        }
    }

    fn unpack(&self, node: NodeId, node_name: &str, output_requires_grad: bool) -> Result<Var> {
        let (now, saved_version) = match self {
            SavedVar::Skipped => return Ok(placeholder()),
            SavedVar::Input {
                storage, version, ..
            } => (storage.version(), *version),
            SavedVar::Output { tensor, version } => (tensor.version(), *version),
            SavedVar::Packed {
                storage, version, ..
            } => (
                storage.upgrade().map_or(*version, |s| s.version()),
                *version,
            ),
        };
        if now != saved_version {
            let description = match self {
                SavedVar::Input { var, .. } => var.tensor().type_description(),
                SavedVar::Output { tensor, .. } => tensor.type_description(),
                SavedVar::Skipped | SavedVar::Packed { .. } => String::new(),
            };
            let which = match self {
                SavedVar::Input { var, .. } => match var.grad_fn_name() {
                    Some(n) => format!(", which is output 0 of {},", op_of_node(&n)),
                    None => String::new(),
                },
                SavedVar::Output { .. } | SavedVar::Packed { output: true, .. } => {
                    format!(", which is output 0 of {},", op_of_node(node_name))
                }
                SavedVar::Skipped | SavedVar::Packed { .. } => String::new(),
            };
            return Err(version_error(&description, &which, now, saved_version));
        }
        Ok(match self {
            SavedVar::Input { var, .. } => var.clone(),
            SavedVar::Skipped => placeholder(),
            SavedVar::Output { tensor, .. } => {
                if output_requires_grad && super::is_grad_enabled() {
                    Var::with_history(tensor.clone(), NodeRef::share(node))
                } else {
                    Var::new(tensor.clone(), false)
                }
            }
            SavedVar::Packed { packed, output, .. } => {
                let v = packed.unpack()?;
                if *output && output_requires_grad && super::is_grad_enabled() {
                    Var::with_history(v.tensor(), NodeRef::share(node))
                } else {
                    v
                }
            }
        })
    }
}

/// PyTorch's error for a saved tensor written in place since it was saved.
fn version_error(description: &str, which: &str, now: u64, saved_version: u64) -> Error {
    let hint = if anomaly::is_enabled() {
        "the backtrace further above shows the operation that failed to compute its \
         gradient. The variable in question was changed in there or anywhere later. \
         Good luck!"
    } else {
        "enable anomaly detection to find the operation that failed to compute its \
         gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False)."
    };
    Error::Runtime(format!(
        "one of the variables needed for gradient computation has been modified by an \
         inplace operation: [{description}]{which} is at version {now}; expected version \
         {saved_version} instead. Hint: {hint}"
    ))
}

/// The version check of a saved input, for tensors kept outside a node (the inputs a
/// non-reentrant checkpoint runs its function on again).
pub fn check_saved_version(var: &Var, saved_version: u64) -> Result<()> {
    let now = var.tensor().version();
    if now == saved_version {
        return Ok(());
    }
    let which = match var.grad_fn_name() {
        Some(n) => format!(", which is output 0 of {},", op_of_node(&n)),
        None => String::new(),
    };
    Err(version_error(
        &var.tensor().type_description(),
        &which,
        now,
        saved_version,
    ))
}

fn note_inference_save(storage: &Storage) {
    if storage.is_inference() && !crate::tensor::storage::is_inference_mode() {
        set_save_error(Error::Runtime(
            "Inference tensors cannot be saved for backward. Please do not use Tensors created \
             in inference mode in computation tracked by autograd. To work around this, you can \
             make a clone to get a normal tensor and use it in autograd, or use \
             `torch.no_grad()` instead of `torch.inference_mode()`."
                .into(),
        ));
    }
}

/// What a skipped save unpacks to: one shared 0-d tensor (no formula reads it).
fn placeholder() -> Var {
    static PLACEHOLDER: std::sync::OnceLock<Var> = std::sync::OnceLock::new();
    PLACEHOLDER
        .get_or_init(|| Var::new(Tensor::scalar(0.0, DType::F32), false))
        .clone()
}

struct NodeData {
    op: Arc<dyn Backward>,
    edges: Edges,
    saved: Vec<SavedVar>,
    /// Whether the node ever held saved tensors (then a second backward is an error).
    had_saved: bool,
    released: bool,
    seq: u64,
    refs: u32,
    /// Non-leaf outputs that called `retain_grad()`.
    retained: Vec<Weak<VarInner>>,
    /// Hooks registered on the output tensor (run on its gradient before the node).
    pre_hooks: Vec<(u64, GradHook)>,
    /// Where the node was created (anomaly mode only).
    trace: Option<String>,
}

struct Slot {
    generation: u32,
    node: Option<NodeData>,
}

struct Arena {
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
}

static ARENA: Mutex<Arena> = Mutex::new(Arena {
    slots: Vec::new(),
    free: Vec::new(),
    live: 0,
});
static NEXT_SEQ: AtomicU64 = AtomicU64::new(0);

impl Arena {
    fn get(&self, id: NodeId) -> Option<&NodeData> {
        let slot = self.slots.get(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.node.as_ref()
    }

    fn get_mut(&mut self, id: NodeId) -> Option<&mut NodeData> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.node.as_mut()
    }

    fn insert(&mut self, node: NodeData) -> NodeId {
        self.live += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.node = Some(node);
            return NodeId {
                index,
                generation: slot.generation,
            };
        }
        self.slots.push(Slot {
            generation: 0,
            node: Some(node),
        });
        NodeId {
            index: (self.slots.len() - 1) as u32,
            generation: 0,
        }
    }

    /// Drops one reference; returns the node's data when that was the last one (the slot is
    /// then free, and its generation moves on so old ids go stale).
    fn decrement(&mut self, id: NodeId) -> Option<NodeData> {
        let node = self.get_mut(id)?;
        node.refs -= 1;
        if node.refs > 0 {
            return None;
        }
        let slot = &mut self.slots[id.index as usize];
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(id.index);
        self.live -= 1;
        slot.node.take()
    }
}

thread_local! {
    static RELEASING: Cell<bool> = const { Cell::new(false) };
    static PENDING: RefCell<Vec<NodeId>> = const { RefCell::new(Vec::new()) };
}

/// Drops one reference to `id`, freeing every node that becomes unreferenced. Nodes freed
/// while dropping another node's contents (saved variables hold references too) are queued
/// and handled by the outermost call, so release never recurses.
fn release(id: NodeId) {
    // During thread teardown the thread-locals may be gone: then release without deferral.
    let Ok(busy) = RELEASING.try_with(|r| r.get()) else {
        if let Some(node) = ARENA.lock().decrement(id) {
            drop(node);
        }
        return;
    };
    if busy {
        PENDING.with(|p| p.borrow_mut().push(id));
        return;
    }
    RELEASING.with(|r| r.set(true));
    let mut work = vec![id];
    while let Some(id) = work.pop() {
        let freed = ARENA.lock().decrement(id);
        if let Some(node) = freed {
            for edge in &node.edges {
                if let EdgeTarget::Node(next) = edge.target {
                    work.push(next);
                }
            }
            drop(node); // outside the lock: may drop variables, which queue more releases
            PENDING.with(|p| work.append(&mut p.borrow_mut()));
        }
    }
    RELEASING.with(|r| r.set(false));
}

/// A counted reference to a node: what a variable's `grad_fn` holds.
pub struct NodeRef {
    id: NodeId,
}

impl NodeRef {
    /// Records a node. `edges` that point at nodes must each carry a reference that the new
    /// node takes over (see [`NodeRef::into_edge`]).
    pub fn create(op: Arc<dyn Backward>, edges: Edges, saved: Vec<SavedVar>) -> NodeRef {
        let node = NodeData {
            op,
            edges,
            had_saved: !saved.is_empty(),
            saved,
            released: false,
            seq: NEXT_SEQ.fetch_add(1, Ordering::Relaxed),
            refs: 1,
            retained: Vec::new(),
            pre_hooks: Vec::new(),
            trace: anomaly::capture(),
        };
        NodeRef {
            id: ARENA.lock().insert(node),
        }
    }

    /// A new counted reference to a live node.
    pub fn share(id: NodeId) -> NodeRef {
        if let Some(n) = ARENA.lock().get_mut(id) {
            n.refs += 1;
        }
        NodeRef { id }
    }

    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Gives up this handle's reference to an edge (which owns it from then on).
    pub fn into_edge_target(self) -> EdgeTarget {
        let id = self.id;
        std::mem::forget(self);
        EdgeTarget::Node(id)
    }

    pub fn name(&self) -> String {
        node_name(self.id).unwrap_or_default()
    }
}

impl Clone for NodeRef {
    fn clone(&self) -> NodeRef {
        NodeRef::share(self.id)
    }
}

impl Drop for NodeRef {
    fn drop(&mut self) {
        release(self.id);
    }
}

impl PartialEq for NodeRef {
    fn eq(&self, other: &NodeRef) -> bool {
        self.id == other.id
    }
}

pub fn node_name(id: NodeId) -> Option<String> {
    let op = ARENA.lock().get(id).map(|n| n.op.clone())?;
    Some(op.name().into_owned())
}

/// The inputs' edges of a node (for `next_functions`).
pub fn node_edges(id: NodeId) -> Vec<Edge> {
    ARENA
        .lock()
        .get(id)
        .map(|n| n.edges.to_vec())
        .unwrap_or_default()
}

/// An in-place op's node saved its result before the result was written into the tensor the
/// op modifies (`to`): the saved output becomes that tensor at its version now, so that a
/// later in-place change of it is caught at backward, as in PyTorch (where they are one).
pub fn retarget_saved_output(id: NodeId, from: &Tensor, to: &Tensor) {
    if let Some(n) = ARENA.lock().get_mut(id) {
        for s in n.saved.iter_mut() {
            if let SavedVar::Output { tensor, version } = s {
                if Arc::ptr_eq(tensor.storage(), from.storage()) {
                    *tensor = to.clone();
                    *version = to.version();
                }
            }
        }
    }
}

/// A node's input edges and its sequence number (one look at the arena).
pub fn node_edges_and_seq(id: NodeId) -> (Vec<Edge>, u64) {
    ARENA
        .lock()
        .get(id)
        .map(|n| (n.edges.to_vec(), n.seq))
        .unwrap_or_default()
}

/// Registers a non-leaf variable to receive the gradient that reaches this node.
pub fn retain_grad(id: NodeId, var: &Var) {
    if let Some(n) = ARENA.lock().get_mut(id) {
        let w = var.downgrade();
        if !n.retained.iter().any(|r| r.ptr_eq(&w)) {
            n.retained.push(w);
        }
    }
}

/// Stops keeping `var`'s gradient at this node (its history moved to another node).
pub fn unretain_grad(id: NodeId, var: &Var) {
    if let Some(n) = ARENA.lock().get_mut(id) {
        let w = var.downgrade();
        n.retained.retain(|r| !r.ptr_eq(&w));
    }
}

/// Adds a hook on the gradient of this node's output.
pub fn add_pre_hook(id: NodeId, key: u64, hook: GradHook) {
    if let Some(n) = ARENA.lock().get_mut(id) {
        n.pre_hooks.push((key, hook));
    }
}

pub fn remove_pre_hook(id: NodeId, key: u64) {
    let removed = {
        let mut arena = ARENA.lock();
        arena.get_mut(id).map(|n| {
            let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut n.pre_hooks)
                .into_iter()
                .partition(|(k, _)| *k == key);
            n.pre_hooks = kept;
            gone
        })
    };
    drop(removed); // outside the lock: a hook may own Python objects
}

const FREED: &str = "Saved intermediate values of the graph are freed when you call \
     .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through \
     the graph a second time or if you need to access saved";

/// Whether a backward without `retain_graph` ran through node `id`.
pub fn is_released(id: NodeId) -> bool {
    ARENA.lock().get(id).is_some_and(|n| n.released)
}

/// The `index`-th tensor node `id` saved (`grad_fn._saved_self`), unpacked; `None` when it
/// was not saved (no gradient reads it) or there is no such slot.
pub fn saved_at(id: NodeId, index: usize) -> Result<Option<Var>> {
    let (saved, name) = {
        let arena = ARENA.lock();
        let Some(n) = arena.get(id) else {
            return Ok(None);
        };
        if n.released && n.had_saved {
            return Err(Error::Runtime(format!(
                "Trying to backward through the graph a second time (or directly access saved \
                 tensors after they have already been freed). {FREED} tensors after calling \
                 backward."
            )));
        }
        (n.saved.get(index).cloned(), n.op.name())
    };
    match saved {
        None | Some(SavedVar::Skipped) => Ok(None),
        Some(s) => s.unpack(id, &name, true).map(Some),
    }
}

/// Runs `pack` on the `index`-th saved tensor of node `id` and keeps what it returns in its
/// place (`grad_fn._raw_saved_self.register_hooks(pack, unpack)`).
pub fn register_saved_hooks(
    id: NodeId,
    index: usize,
    pack: impl FnOnce(&Var) -> Result<Arc<dyn PackedVar>>,
) -> Result<()> {
    let freed = || {
        Error::Runtime(format!(
            "Calling register_hooks on a saved tensor after it has been freed. {FREED} \
             variables after calling backward."
        ))
    };
    let current = {
        let arena = ARENA.lock();
        let n = arena.get(id).ok_or_else(freed)?;
        if n.released && n.had_saved {
            return Err(freed());
        }
        n.saved.get(index).cloned()
    };
    let (var, storage, version, output) = match current {
        Some(SavedVar::Input {
            var,
            storage,
            version,
        }) => (var, storage, version, false),
        Some(SavedVar::Output { tensor, version }) => {
            let storage = tensor.storage().clone();
            (Var::new(tensor, false), storage, version, true)
        }
        Some(SavedVar::Packed { packed, .. }) if packed.own_hooks() => {
            return Err(Error::Runtime(
                "Calling register_hooks on a saved tensor whose hooks have already been set. \
                 Hint: only one pair of hooks is allowed at a time."
                    .into(),
            ))
        }
        _ => {
            return Err(Error::Runtime(
                "Calling register_hooks on a saved tensor with value None is forbidden".into(),
            ))
        }
    };
    let packed = pack(&var)?;
    let mut arena = ARENA.lock();
    if let Some(slot) = arena.get_mut(id).and_then(|n| n.saved.get_mut(index)) {
        *slot = SavedVar::Packed {
            packed,
            storage: Arc::downgrade(&storage),
            version,
            output,
        };
    }
    Ok(())
}

/// The number of nodes alive in the arena (for leak tests).
pub fn live_nodes() -> usize {
    ARENA.lock().live
}

/// What the engine needs to run a node, copied out so the lock is not held while it runs.
pub struct NodeTask {
    pub op: Arc<dyn Backward>,
    pub retained: Vec<Weak<VarInner>>,
    pub pre_hooks: Vec<GradHook>,
    pub trace: Option<String>,
    saved: Vec<SavedVar>,
    released: bool,
    had_saved: bool,
}

impl NodeTask {
    /// Copies out what running node `id` needs. With `release` (a backward without
    /// `retain_graph`), the saved tensors are taken out and the node marked released in the
    /// same step, so that a second backward through it, even one running concurrently on
    /// another thread, finds them gone and raises, as in PyTorch.
    pub fn load(id: NodeId, release: bool) -> Option<NodeTask> {
        let mut arena = ARENA.lock();
        let n = arena.get_mut(id)?;
        let released = n.released;
        let saved = if release {
            n.released = true;
            std::mem::take(&mut n.saved)
        } else {
            n.saved.clone()
        };
        Some(NodeTask {
            op: n.op.clone(),
            retained: n.retained.clone(),
            pre_hooks: n.pre_hooks.iter().map(|(_, h)| h.clone()).collect(),
            trace: n.trace.clone(),
            saved,
            released,
            had_saved: n.had_saved,
        })
    }

    /// The saved variables, checked against in-place modification.
    pub fn unpack_saved(&self, id: NodeId, requires_grad: bool) -> Result<Vec<Var>> {
        if self.released && self.had_saved {
            return Err(Error::Runtime(
                "Trying to backward through the graph a second time (or directly access saved \
                 tensors after they have already been freed). Saved intermediate values of the \
                 graph are freed when you call .backward() or autograd.grad(). Specify \
                 retain_graph=True if you need to backward through the graph a second time or \
                 if you need to access saved tensors after calling backward."
                    .into(),
            ));
        }
        let name = self.op.name();
        self.saved
            .iter()
            .map(|s| s.unpack(id, &name, requires_grad))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops;
    use crate::tensor::Tensor;

    struct Named;
    impl Backward for Named {
        fn name(&self) -> Cow<'static, str> {
            Cow::Borrowed("TestBackward0")
        }
        fn apply(&self, _: &Var, _: &[Var], _: &[bool]) -> Result<Vec<Option<Var>>> {
            Ok(vec![])
        }
    }

    fn node() -> NodeRef {
        NodeRef::create(Arc::new(Named), Edges::new(), vec![])
    }

    fn data() -> NodeData {
        NodeData {
            op: Arc::new(Named),
            edges: Edges::new(),
            saved: vec![],
            had_saved: false,
            released: false,
            seq: 0,
            refs: 1,
            retained: vec![],
            pre_hooks: vec![],
            trace: None,
        }
    }

    // A private arena: the global one is shared with tests running in parallel.
    #[test]
    fn slots_are_reused_and_stale_ids_are_detected() {
        let mut arena = Arena {
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
        };
        let a = arena.insert(data());
        let b = arena.insert(data());
        assert_eq!(arena.live, 2);
        assert!(
            arena.decrement(a).is_some(),
            "the last reference frees the node"
        );
        assert!(arena.get(a).is_none(), "a freed id is stale");
        let c = arena.insert(data());
        assert_eq!(c.index, a.index, "the freed slot is reused");
        assert_ne!(c.generation, a.generation);
        assert!(
            arena.get(a).is_none(),
            "the old id does not reach the new node"
        );
        assert!(arena.get(c).is_some() && arena.get(b).is_some());
        arena.get_mut(c).unwrap().refs += 1;
        assert!(arena.decrement(c).is_none(), "a second reference keeps it");
        assert!(arena.decrement(c).is_some());
        assert_eq!(arena.live, 1);
    }

    #[test]
    fn reference_counts_keep_nodes_alive() {
        let a = node();
        let b = a.clone();
        let id = a.id();
        drop(a);
        assert!(node_name(id).is_some(), "a second reference keeps the node");
        drop(b);
        assert!(node_name(id).is_none());
    }

    #[test]
    fn a_long_chain_is_released_without_recursion() {
        // 100,000 nodes, each saving its input (which holds the previous node): dropping the
        // last variable must free all of them iteratively.
        let x = Var::new(Tensor::from_vec(vec![1.0f64], &[1]), true);
        let step = Var::new(Tensor::from_vec(vec![1.0f64], &[1]), false);
        let mut y = x.clone();
        for _ in 0..100_000 {
            y = ops::mul(&y, &step).unwrap();
        }
        let first = y.grad_fn().unwrap().id();
        assert!(node_name(first).is_some());
        drop(y);
        assert!(node_name(first).is_none());
    }

    #[test]
    fn saved_tensors_are_released_after_backward() {
        let x = Var::new(Tensor::from_vec(vec![2.0f64, 3.0], &[2]), true);
        let y = ops::sum(&ops::mul(&x, &x).unwrap()).unwrap();
        crate::autograd::backward(std::slice::from_ref(&y), &[None], false, false, None).unwrap();
        assert_eq!(
            x.grad().unwrap().tensor().to_vec::<f64>().unwrap(),
            vec![4.0, 6.0]
        );
        let err = crate::autograd::backward(&[y], &[None], false, false, None)
            .err()
            .unwrap();
        assert!(err
            .to_string()
            .starts_with("Trying to backward through the graph a second time"));
    }
}
