//! The backward engine: find the nodes reachable from the roots, count how many gradients
//! each one waits for, run each node once all have arrived, add gradients that meet, and
//! accumulate into leaves. Iterative throughout, so graph depth never touches the stack.

use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use smallvec::SmallVec;

use super::arena::{self, Edge, EdgeTarget, LayoutFn, NodeId, NodeTask};
use super::grad_mode::GradModeGuard;
use super::var::Var;
use super::{anomaly, GradHook};
use crate::bail;
use crate::error::{Error, Result};
use crate::ops;
use crate::tensor::layout::shape_str;
use crate::tensor::{Shape, Tensor};

/// What the engine tracks for each node of one backward pass.
struct NodeInfo {
    edges: Vec<Edge>,
    /// When the node was made: later nodes run first, as PyTorch's ready queue orders them
    /// (so gradients reach each input in PyTorch's order and sum to its float roundings).
    seq: u64,
    /// An input edge leads to a leaf whose gradient is wanted.
    reaches_leaf: bool,
    /// The node's backward formula must run.
    runs: bool,
    /// Its gradient is wanted (it runs, or it made a requested input).
    needed: bool,
    /// Gradients still to arrive from nodes that run.
    deps: usize,
    grad: Option<Var>,
}

/// A multiply-rotate hasher for node ids: the default SipHash costs more than the rest of a
/// tiny node's bookkeeping.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(n as u64);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(26) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// Who receives the gradients computed for the requested inputs.
enum Sink<'a> {
    /// `backward()`: accumulate into `.grad` (of every leaf, or of `inputs` only).
    Accumulate { only: Option<&'a [Var]> },
    /// `autograd.grad()`: hand them back, touching no `.grad`.
    Capture { inputs: &'a [Var] },
}

/// `tensors.backward(grad_tensors)`: accumulates into leaves' `.grad`.
pub fn backward(
    tensors: &[Var],
    grad_tensors: &[Option<Var>],
    retain_graph: bool,
    create_graph: bool,
    inputs: Option<&[Var]>,
) -> Result<()> {
    if let Some(inputs) = inputs {
        if inputs.is_empty() {
            bail!(
                Runtime,
                "`inputs` argument to `backward()` cannot be empty."
            );
        }
        // (PyTorch retains the gradient of each input, which refuses these in its words)
        if inputs.iter().any(|v| !v.requires_grad()) {
            bail!(
                Runtime,
                "can't retain_grad on Tensor that has requires_grad=False"
            );
        }
    }
    execute(
        tensors,
        grad_tensors,
        retain_graph,
        create_graph,
        Sink::Accumulate { only: inputs },
    )?;
    Ok(())
}

/// `autograd.grad(outputs, inputs, ...)`: the gradients of `outputs` with respect to
/// `inputs`, one per input.
pub fn grad(
    outputs: &[Var],
    inputs: &[Var],
    grad_outputs: &[Option<Var>],
    retain_graph: bool,
    create_graph: bool,
    allow_unused: bool,
) -> Result<Vec<Option<Var>>> {
    check_inputs(inputs)?;
    let grads = execute(
        outputs,
        grad_outputs,
        retain_graph,
        create_graph,
        Sink::Capture { inputs },
    )?;
    if let Some(i) = grads
        .iter()
        .position(|g| g.is_none())
        .filter(|_| !allow_unused)
    {
        bail!(
            Runtime,
            "The differentiated Tensor at index {i} appears to not have been used in the graph. \
             Set allow_unused=True if this is the desired behavior."
        );
    }
    Ok(grads)
}

fn check_inputs(inputs: &[Var]) -> Result<()> {
    if inputs.iter().any(|v| !v.requires_grad()) {
        bail!(
            Runtime,
            "One of the differentiated Tensors does not require grad"
        );
    }
    Ok(())
}

/// The gradient to start from for each root: the given one (shape-checked) or ones for a
/// one-element output.
fn root_grads(roots: &[Var], given: &[Option<Var>]) -> Result<Vec<Var>> {
    // (the pairs are checked first, as PyTorch's Python side zips them, then the count)
    let mut out = Vec::with_capacity(roots.len());
    for (i, (root, g)) in roots.iter().zip(given).enumerate() {
        if !root.requires_grad() {
            bail!(
                Runtime,
                "element {} of tensors does not require grad and does not have a grad_fn",
                i
            );
        }
        let t = root.tensor();
        match g {
            Some(g) => {
                if g.shape().as_slice() != t.shape() {
                    bail!(
                        Runtime,
                        "Mismatch in shape: grad_output[{}] has a shape of torch.Size({}) and \
                         output[{}] has a shape of torch.Size({}).",
                        i,
                        shape_str(&g.shape()),
                        i,
                        shape_str(t.shape())
                    );
                }
                let (expected, got) = (t.device(), g.tensor().device());
                if expected != got {
                    bail!(
                        Runtime,
                        "invalid gradient at index {} - expected device {} but got {}",
                        i,
                        expected,
                        got
                    );
                }
                out.push(g.clone());
            }
            None => {
                if t.numel() != 1 {
                    bail!(
                        Runtime,
                        "grad can be implicitly created only for scalar outputs"
                    );
                }
                out.push(Var::new(
                    Tensor::full_on(t.shape(), 1.0, t.dtype(), t.device())?,
                    false,
                ));
            }
        }
    }
    if roots.len() != given.len() {
        bail!(
            Runtime,
            "got {} tensors and {} gradients",
            roots.len(),
            given.len()
        );
    }
    Ok(out)
}

fn execute(
    roots: &[Var],
    given: &[Option<Var>],
    retain_graph: bool,
    create_graph: bool,
    sink: Sink<'_>,
) -> Result<Vec<Option<Var>>> {
    let root_grads = root_grads(roots, given)?;
    let _mode = GradModeGuard::new(create_graph);

    // The requested inputs: leaves by identity, non-leaves by the node that made them.
    let targets: &[Var] = match &sink {
        Sink::Capture { inputs } => inputs,
        Sink::Accumulate { only: Some(inputs) } => inputs,
        Sink::Accumulate { only: None } => &[],
    };
    let mut leaf_slot: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut node_slot: HashMap<NodeId, Vec<usize>> = HashMap::new();
    for (i, v) in targets.iter().enumerate() {
        match v.grad_fn() {
            Some(n) => node_slot.entry(n.id()).or_default().push(i),
            None => leaf_slot.entry(v.key()).or_default().push(i),
        }
    }
    let accumulate_all = matches!(sink, Sink::Accumulate { only: None });
    let wants_leaf = |leaf: &Var| accumulate_all || leaf_slot.contains_key(&leaf.key());

    // Gradients meet at leaves too: summed here; a leaf's hooks and accumulation run once,
    // as soon as the last node with an edge to it has run (as PyTorch's AccumulateGrad node
    // does), so that a hook (DistributedDataParallel's all-reduce) overlaps the rest of the
    // backward pass. Leaves whose count never reaches zero are finished at the end.
    let mut leaves = LeafGrads::default();

    // Every reachable node, with its input edges (read from the arena once), whether it
    // must run, how many gradients it still waits for, and the gradient gathered so far.
    let mut nodes: FastMap<NodeId, NodeInfo> = FastMap::default();
    let mut root_nodes: Vec<NodeId> = Vec::new();
    let mut root_buffers: Vec<(NodeId, Var)> = Vec::new();
    for (root, g) in roots.iter().zip(root_grads) {
        match root.grad_fn() {
            Some(n) => {
                let id = n.id();
                if !root_nodes.contains(&id) {
                    root_nodes.push(id);
                }
                root_buffers.push((id, g));
            }
            None => {
                if wants_leaf(root) {
                    leaves.add(root, Incoming::Whole(g), false)?;
                }
            }
        }
    }

    // Discover the graph in post-order (inputs before the nodes that use them).
    let mut post_order: Vec<NodeId> = Vec::new();
    let mut stack: Vec<(NodeId, bool)> = root_nodes.iter().map(|&id| (id, false)).collect();
    while let Some((id, expanded)) = stack.pop() {
        if expanded {
            post_order.push(id);
            continue;
        }
        if nodes.contains_key(&id) {
            continue;
        }
        stack.push((id, true));
        let (edges, seq) = arena::node_edges_and_seq(id);
        let mut reaches_leaf = false;
        for edge in &edges {
            match &edge.target {
                EdgeTarget::Node(n) => {
                    if !nodes.contains_key(n) {
                        stack.push((*n, false));
                    }
                }
                EdgeTarget::Leaf(v) => reaches_leaf |= wants_leaf(v),
                EdgeTarget::None => {}
            }
        }
        nodes.insert(
            id,
            NodeInfo {
                edges,
                seq,
                reaches_leaf,
                runs: false,
                needed: false,
                deps: 0,
                grad: None,
            },
        );
    }
    // A node runs only when something requested lies below it (everything, for a plain
    // backward); nodes that do not run keep their saved tensors.
    for &id in &post_order {
        let info = &nodes[&id];
        let runs = accumulate_all
            || info.reaches_leaf
            || info.edges.iter().any(|e| match e.target {
                EdgeTarget::Node(c) => nodes[&c].needed,
                _ => false,
            });
        let needed = runs || node_slot.contains_key(&id);
        let info = nodes.get_mut(&id).expect("discovered above");
        info.runs = runs;
        info.needed = needed;
    }
    for &id in &post_order {
        if !nodes[&id].runs {
            continue;
        }
        let children: SmallVec<[NodeId; 4]> = nodes[&id]
            .edges
            .iter()
            .filter_map(|e| match e.target {
                EdgeTarget::Node(c) => Some(c),
                _ => None,
            })
            .collect();
        for c in children {
            let child = nodes.get_mut(&c).expect("discovered above");
            if child.needed {
                child.deps += 1;
            }
        }
        for e in &nodes[&id].edges {
            if let EdgeTarget::Leaf(v) = &e.target {
                if wants_leaf(v) {
                    *leaves.deps.entry(v.key()).or_default() += 1;
                }
            }
        }
    }
    for (id, g) in root_buffers {
        let info = nodes.get_mut(&id).expect("roots were discovered");
        info.grad = Some(add_grads(info.grad.take(), g)?);
    }
    let mut ready: BinaryHeap<(u64, NodeId)> = root_nodes
        .iter()
        .filter(|id| nodes[id].needed && nodes[id].deps == 0)
        .map(|&id| (nodes[&id].seq, id))
        .collect();

    let mut captured: Vec<Option<Var>> = vec![None; targets.len()];
    let accumulate = matches!(sink, Sink::Accumulate { .. });
    while let Some((_, id)) = ready.pop() {
        let info = nodes.get_mut(&id).expect("ready nodes were discovered");
        let Some(grad) = info.grad.take() else {
            continue;
        };
        let runs = info.runs;
        let edges = std::mem::take(&mut info.edges);
        let Some(task) = NodeTask::load(id, runs && !retain_graph) else {
            continue;
        };
        let grad = run_hooks(&task.pre_hooks, grad)?;
        for weak in &task.retained {
            if let Some(v) = Var::upgrade(weak) {
                accumulate_grad(&v, grad.clone(), create_graph)?;
            }
        }
        if let Some(slots) = node_slot.get(&id) {
            for &i in slots {
                if accumulate {
                    accumulate_grad(&targets[i], grad.clone(), create_graph)?;
                } else {
                    captured[i] = Some(add_grads(captured[i].take(), grad.clone())?);
                }
            }
        }
        if !runs {
            continue; // a requested input with nothing requested below it
        }
        let saved = task.unpack_saved(id, create_graph)?;
        let needs: SmallVec<[bool; 4]> = edges
            .iter()
            .map(|e| match &e.target {
                EdgeTarget::None => false,
                EdgeTarget::Leaf(v) => wants_leaf(v),
                EdgeTarget::Node(n) => nodes[n].needed,
            })
            .collect();
        let region = match task.op.view_region() {
            // A view's gradient goes into its region of the input's gradient (outside any
            // recorded graph, where the buffer may be written in place).
            Some((shape, view))
                if !create_graph
                    && !anomaly::is_enabled()
                    && edges.first().is_some_and(|e| e.dtype == grad.dtype()) =>
            {
                Some(Incoming::Region {
                    grad: grad.clone(),
                    shape: Shape::from_slice(shape),
                    view: view.clone(),
                })
            }
            _ => None,
        };
        let grads: Vec<Option<Incoming>> = match region {
            Some(region) => vec![Some(region)],
            None => {
                let grads = task.op.apply(&grad, &saved, &needs)?;
                if anomaly::is_enabled() && anomaly::is_check_nan_enabled() {
                    check_for_nan(&task, &task.op.name(), &grads)?;
                }
                grads.into_iter().map(|g| g.map(Incoming::Whole)).collect()
            }
        };
        drop(saved);
        drop(task); // (without retain_graph, the node's saved tensors go with it)
        drop(grad);
        let grads = grads.into_iter().chain(std::iter::repeat_with(|| None));
        for ((edge, g), &need) in edges.iter().zip(grads).zip(&needs) {
            if !need {
                continue;
            }
            let g = match g {
                Some(Incoming::Whole(g)) if g.dtype() != edge.dtype => {
                    Some(Incoming::Whole(ops::to_dtype(&g, edge.dtype)?))
                }
                other => other,
            };
            match &edge.target {
                EdgeTarget::None => {}
                EdgeTarget::Leaf(leaf) => {
                    if let Some(g) = g {
                        leaves.add(leaf, g, !create_graph)?;
                    }
                    if leaves.arrived(leaf) {
                        if let Some(g) = leaves.take(leaf) {
                            let g = run_hooks(&leaf.hooks(), g)?;
                            finish_leaf(
                                leaf,
                                g,
                                &leaf_slot,
                                accumulate,
                                create_graph,
                                &mut captured,
                            )?;
                        }
                    }
                }
                EdgeTarget::Node(next) => {
                    let child = nodes.get_mut(next).expect("children were discovered");
                    if let Some(g) = g {
                        child.grad = Some(g.accumulate(child.grad.take(), !create_graph)?);
                    }
                    child.deps -= 1;
                    if child.deps == 0 {
                        ready.push((child.seq, *next));
                    }
                }
            }
        }
    }

    // Leaves not finished above (a root that is a leaf, or a node that produced no gradient):
    // hooks see the summed gradient, then it is accumulated or handed back.
    for (leaf, g) in leaves.pending {
        if let Some(g) = g {
            let g = run_hooks(&leaf.hooks(), g)?;
            finish_leaf(
                &leaf,
                g,
                &leaf_slot,
                accumulate,
                create_graph,
                &mut captured,
            )?;
        }
    }
    Ok(captured)
}

/// The gradients arriving at leaves during one backward pass: summed per leaf (in order of
/// first arrival), with the number of edges still to deliver one.
#[derive(Default)]
struct LeafGrads {
    pending: Vec<(Var, Option<Var>)>,
    index: HashMap<usize, usize>,
    deps: HashMap<usize, usize>,
}

impl LeafGrads {
    fn add(&mut self, leaf: &Var, g: Incoming, in_place: bool) -> Result<()> {
        match self.index.get(&leaf.key()) {
            Some(&i) => {
                let acc = self.pending[i].1.take();
                self.pending[i].1 = Some(g.accumulate(acc, in_place)?);
            }
            None => {
                self.index.insert(leaf.key(), self.pending.len());
                let g = g.accumulate(None, in_place)?;
                self.pending.push((leaf.clone(), Some(g)));
            }
        }
        Ok(())
    }

    /// One edge into `leaf` has delivered; true when it was the last one.
    fn arrived(&mut self, leaf: &Var) -> bool {
        match self.deps.get_mut(&leaf.key()) {
            Some(d) => {
                *d -= 1;
                *d == 0
            }
            None => false,
        }
    }

    fn take(&mut self, leaf: &Var) -> Option<Var> {
        let &i = self.index.get(&leaf.key())?;
        self.pending[i].1.take()
    }
}

/// A leaf's final gradient: accumulated into `.grad`, or handed back by `autograd.grad`.
fn finish_leaf(
    leaf: &Var,
    g: Var,
    leaf_slot: &HashMap<usize, Vec<usize>>,
    accumulate: bool,
    create_graph: bool,
    captured: &mut [Option<Var>],
) -> Result<()> {
    match leaf_slot.get(&leaf.key()) {
        Some(slots) if !accumulate => {
            for &i in slots {
                captured[i] = Some(add_grads(captured[i].take(), g.clone())?);
            }
            Ok(())
        }
        // (as PyTorch's AccumulateGrad: a leaf that stopped requiring grad since the graph
        // was built takes nothing; its gradient hooks have run)
        _ if !leaf.requires_grad() => Ok(()),
        _ => {
            accumulate_grad(leaf, g, create_graph)?;
            for hook in leaf.post_accumulate_hooks() {
                hook(leaf)?;
            }
            Ok(())
        }
    }
}

/// Runs gradient hooks in order; each may replace the gradient.
fn run_hooks(hooks: &[GradHook], mut g: Var) -> Result<Var> {
    for hook in hooks {
        if let Some(replacement) = hook(&g)? {
            g = replacement;
        }
    }
    Ok(g)
}

/// Anomaly mode: a NaN in a node's output gradients names the node and where it was made.
fn check_for_nan(task: &NodeTask, name: &str, grads: &[Option<Var>]) -> Result<()> {
    for (i, g) in grads.iter().enumerate() {
        if let Some(g) = g {
            if g.tensor().has_nan()? {
                let mut msg = format!(
                    "Function '{}' returned nan values in its {}th output.",
                    name, i
                );
                if let Some(trace) = &task.trace {
                    msg.push_str("\nTraceback of forward call that caused the error:\n");
                    msg.push_str(trace);
                }
                return Err(Error::Runtime(msg));
            }
        }
    }
    Ok(())
}

fn add_grads(acc: Option<Var>, g: Var) -> Result<Var> {
    match acc {
        None => Ok(g),
        Some(a) => ops::add(&a, &g),
    }
}

/// A gradient on its way to an input: whole, or (from a view's node) one that belongs in a
/// region of zeros of the input's shape.
enum Incoming {
    Whole(Var),
    Region {
        grad: Var,
        shape: Shape,
        view: LayoutFn,
    },
}

impl Incoming {
    /// `acc + self`: into `acc` itself when `in_place` (no graph is being recorded) and the
    /// engine alone holds it, as PyTorch's input buffers accumulate; else as a new tensor.
    /// Values are those of the out-of-place sum either way. (A region always goes in place:
    /// views take this path only when no graph is recorded.)
    fn accumulate(self, acc: Option<Var>, in_place: bool) -> Result<Var> {
        match self {
            Incoming::Whole(g) => match acc {
                None => Ok(g),
                Some(a) if in_place && a.shape() == g.shape() && writable_buffer(&a, &g) => {
                    a.tensor().add_into(&g.tensor())?;
                    Ok(a)
                }
                Some(a) => ops::add(&a, &g),
            },
            Incoming::Region { grad, shape, view } => {
                let buffer = match acc {
                    Some(a) if a.shape() == shape && writable_buffer(&a, &grad) => a,
                    // Someone else sees it (or it is a broadcast view): a private copy.
                    Some(a) if a.shape() == shape && a.dtype() == grad.dtype() => {
                        Var::new(a.tensor().clone_data()?, false)
                    }
                    Some(a) => {
                        let zeros =
                            Incoming::Region { grad, shape, view }.accumulate(None, true)?;
                        return ops::add(&a, &zeros);
                    }
                    None => Var::new(
                        Tensor::zeros_on(&shape, grad.dtype(), grad.tensor().device())?,
                        false,
                    ),
                };
                let t = buffer.tensor();
                t.with_layout(view(t.layout())).add_into(&grad.tensor())?;
                Ok(buffer)
            }
        }
    }
}

/// Whether the engine may add `g` into `acc` in place: a gradient outside any graph, of
/// `g`'s dtype and device, laid out densely, whose storage nothing else (a variable, a view,
/// a saved tensor, the caller's `gradient=`) can see.
fn writable_buffer(acc: &Var, g: &Var) -> bool {
    if acc.requires_grad() || acc.dtype() != g.dtype() || !acc.is_sole_owner() {
        return false;
    }
    let (t, gt) = (acc.tensor(), g.tensor());
    t.is_contiguous() && t.device() == gt.device() && t.storage().check_writable().is_ok()
}

/// A gradient that may be stored as `.grad`: without `create_graph` it must not alias a
/// tensor that something else can still see or modify.
fn owned_grad(g: Var, create_graph: bool) -> Result<Var> {
    if create_graph {
        // As PyTorch's AccumulateGrad under create_graph: a (differentiable) copy, never the
        // incoming gradient itself, which may be an expanded tensor (`sum`'s) or a view (`t`'s)
        // that optimizers, `zero_grad` and `clip_grad_norm_` could not write in place.
        return ops::clone(&g);
    }
    if g.is_sole_owner() && g.tensor().is_contiguous() && g.is_leaf() {
        return Ok(g);
    }
    Ok(Var::new(g.tensor().clone_data()?, false))
}

/// Serialises `.grad += g` per leaf: two threads backpropagating into one leaf must not
/// both read the old `.grad` and lose an update (PyTorch locks its AccumulateGrad too).
/// Striped: leaves that share a stripe only wait for each other.
fn leaf_lock(leaf: &Var) -> parking_lot::MutexGuard<'static, ()> {
    const STRIPES: usize = 64;
    static LOCKS: [parking_lot::Mutex<()>; STRIPES] =
        [const { parking_lot::Mutex::new(()) }; STRIPES];
    LOCKS[(leaf.key() / 64) % STRIPES].lock()
}

/// `leaf.grad += g` (out of place, so earlier references to `.grad` keep their values).
fn accumulate_grad(leaf: &Var, g: Var, create_graph: bool) -> Result<()> {
    if g.shape() != leaf.shape() {
        return Err(Error::Runtime(format!(
            "Function AccumulateGrad returned an invalid gradient - got {} but expected shape \
             compatible with {}",
            shape_str(&g.shape()),
            shape_str(&leaf.shape())
        )));
    }
    let _serial = leaf_lock(leaf);
    let updated = match leaf.grad() {
        None => owned_grad(g, create_graph)?,
        Some(old) => {
            if create_graph {
                ops::add(&old, &g)?
            } else if leaf.is_leaf() && adds_in_place(&old, &g) {
                // As PyTorch's AccumulateGrad (`variable_grad += new_grad`): the `.grad`
                // tensor stays the same object, so references to it see the sum (a retained
                // gradient of a non-leaf is replaced by the sum, as PyTorch's hook does).
                old.tensor().add_into(&g.tensor())?;
                return Ok(());
            } else {
                let _off = GradModeGuard::new(false);
                ops::add(&old.detach(), &g.detach())?
            }
        }
    };
    leaf.set_grad(Some(updated));
    Ok(())
}

/// Whether `g` may be added straight into the leaf's `.grad` tensor `old`: one of `g`'s dtype
/// and device whose elements do not share memory.
fn adds_in_place(old: &Var, g: &Var) -> bool {
    let (t, gt) = (old.tensor(), g.tensor());
    t.dtype() == gt.dtype()
        && t.device() == gt.device()
        && !t.layout().has_internal_overlap()
        && t.storage().check_writable().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;

    fn leaf(v: Vec<f64>) -> Var {
        let n = v.len();
        Var::new(Tensor::from_vec(v, &[n]), true)
    }

    #[test]
    fn gradients_meet_and_accumulate() {
        // y = x * x + x  ->  dy/dx = 2x + 1, and a second backward adds again.
        let x = leaf(vec![1.0, -2.0]);
        let y = ops::sum(&ops::add(&ops::mul(&x, &x).unwrap(), &x).unwrap()).unwrap();
        backward(std::slice::from_ref(&y), &[None], true, false, None).unwrap();
        assert_eq!(
            x.grad().unwrap().tensor().to_vec::<f64>().unwrap(),
            vec![3.0, -3.0]
        );
        backward(&[y], &[None], false, false, None).unwrap();
        assert_eq!(
            x.grad().unwrap().tensor().to_vec::<f64>().unwrap(),
            vec![6.0, -6.0]
        );
    }

    #[test]
    fn grad_returns_without_touching_dot_grad() {
        let x = leaf(vec![3.0]);
        let w = leaf(vec![5.0]);
        let y = ops::sum(&ops::mul(&x, &w).unwrap()).unwrap();
        let g = grad(&[y], &[x.clone(), w.clone()], &[None], false, false, false).unwrap();
        assert_eq!(
            g[0].as_ref().unwrap().tensor().to_vec::<f64>().unwrap(),
            vec![5.0]
        );
        assert_eq!(
            g[1].as_ref().unwrap().tensor().to_vec::<f64>().unwrap(),
            vec![3.0]
        );
        assert!(x.grad().is_none() && w.grad().is_none());
    }

    #[test]
    fn errors_match_pytorch() {
        let c = Var::new(Tensor::from_vec(vec![1.0f64, 2.0], &[2]), false);
        let e = backward(&[c], &[None], false, false, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "element 0 of tensors does not require grad and does not have a grad_fn"
        );
        let x = leaf(vec![1.0, 2.0]);
        let y = ops::mul(&x, &x).unwrap();
        let e = backward(&[y], &[None], false, false, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "grad can be implicitly created only for scalar outputs"
        );
    }

    #[test]
    fn a_100k_chain_backpropagates() {
        let x = leaf(vec![1.0]);
        let step = Var::new(Tensor::from_vec(vec![1.0f64], &[1]), false);
        let mut y = x.clone();
        for _ in 0..100_000 {
            y = ops::add(&y, &step).unwrap();
        }
        backward(&[ops::sum(&y).unwrap()], &[None], false, false, None).unwrap();
        assert_eq!(
            x.grad().unwrap().tensor().to_vec::<f64>().unwrap(),
            vec![1.0]
        );
    }

    #[test]
    fn modified_saved_tensor_is_caught() {
        let x = leaf(vec![1.0, 2.0]);
        let y = ops::mul(
            &x,
            &Var::new(Tensor::from_vec(vec![2.0f64, 2.0], &[2]), false),
        )
        .unwrap();
        let z = ops::sum(&ops::mul(&y, &y).unwrap()).unwrap();
        ops::add_(
            &y,
            &Var::new(Tensor::scalar(1.0, crate::tensor::DType::F64), false),
        )
        .unwrap();
        let e = backward(&[z], &[None], false, false, None).unwrap_err();
        assert!(
            e.to_string().contains("modified by an inplace operation"),
            "{e}"
        );
    }
}
