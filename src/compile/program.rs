//! A recorded program and its replay: the same `Memory` calls, in the same order, on the
//! buffers bound at replay.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use parking_lot::RwLockReadGuard;

use crate::autograd::{Backward, Edges, NodeRef, Var};
use crate::backend::{
    ActivationBackward, Along, AvgDivisor, BinaryOp, CompareOp, OptimStep, SumPlan, UnaryArgs,
    UnaryOp, Windows2d,
};
use crate::base::{DType, Device, Layout};
use crate::error::{Error, Result};
use crate::tensor::storage::{Memory, Storage};
use crate::tensor::Tensor;

pub type SlotId = u32;

/// Where a slot's buffer comes from.
pub enum SlotKind {
    /// The buffer of the `k`-th external variable (the first one that has it).
    External(usize),
    /// A kernel's output.
    Internal,
    /// Data born on the host during capture, copied then.
    Const(Arc<Storage>),
    /// A zero-length buffer (all share one dangling address, so none is told apart).
    Empty(Device),
}

impl std::fmt::Debug for SlotKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SlotKind::External(k) => write!(f, "External({k})"),
            SlotKind::Internal => write!(f, "Internal"),
            SlotKind::Const(_) => write!(f, "Const"),
            SlotKind::Empty(d) => write!(f, "Empty({d:?})"),
        }
    }
}

/// What a replay checks of each external variable before it runs: everything the recorded
/// kernels' arguments and the engine's choices were computed from.
#[derive(Debug, PartialEq)]
pub struct ExternalSig {
    dtype: DType,
    device: Device,
    layout: Layout,
    storage_len: usize,
    requires_grad: bool,
    is_leaf: bool,
    has_grad: bool,
    has_hooks: bool,
    /// Made in inference mode (in-place writes outside it raise).
    inference: bool,
}

impl ExternalSig {
    pub fn of(v: &Var) -> ExternalSig {
        let t = v.tensor();
        let storage_len = t.storage().read().len();
        ExternalSig {
            dtype: t.dtype(),
            device: t.device(),
            layout: t.layout().clone(),
            storage_len,
            requires_grad: v.requires_grad(),
            is_leaf: v.is_leaf(),
            has_grad: v.grad().is_some(),
            has_hooks: !v.hooks().is_empty(),
            inference: t.storage().is_inference(),
        }
    }
}

/// A returned tensor.
#[derive(Debug)]
pub enum OutputKind {
    /// An external variable itself.
    External(usize),
    /// The `.grad` of external variable `k` (the same object).
    GradOf(usize),
    /// The same object as output `j`.
    Same(usize),
    /// A tensor over a slot; `spent`: the name of the `grad_fn` a backward inside the
    /// function consumed (the replayed output gets a node of that name that raises as a
    /// second backward through a freed graph does).
    Made {
        slot: SlotId,
        layout: Layout,
        dtype: DType,
        spent: Option<String>,
        /// Its storage's version (in-place writes inside the function).
        version: u64,
    },
}

/// One recorded `Memory` call (operands are slots with the layouts the call got), a host
/// read, or a `.grad` assignment.
#[derive(Debug)]
pub enum Instr {
    Zeros {
        device: Device,
        dtype: DType,
        n: usize,
        out: SlotId,
    },
    Full {
        device: Device,
        dtype: DType,
        n: usize,
        value: f64,
        out: SlotId,
    },
    ToDevice {
        x: SlotId,
        offset: usize,
        n: usize,
        device: Device,
        out: SlotId,
    },
    Gather {
        x: SlotId,
        l: Layout,
        out: SlotId,
    },
    Cast {
        x: SlotId,
        l: Layout,
        to: DType,
        out: SlotId,
    },
    Unary {
        x: SlotId,
        l: Layout,
        op: UnaryOp,
        args: UnaryArgs,
        out: SlotId,
    },
    Binary {
        op: BinaryOp,
        a: (SlotId, Layout),
        b: (SlotId, Layout),
        shape: Vec<usize>,
        dtype: DType,
        out: SlotId,
    },
    Compare {
        op: CompareOp,
        a: (SlotId, Layout),
        b: (SlotId, Layout),
        shape: Vec<usize>,
        dtype: DType,
        out: SlotId,
    },
    ActivationBackward {
        op: ActivationBackward,
        g: (SlotId, Layout),
        y: (SlotId, Layout),
        shape: Vec<usize>,
        out: SlotId,
    },
    Where {
        c: (SlotId, Layout),
        a: (SlotId, Layout),
        b: (SlotId, Layout),
        shape: Vec<usize>,
        out: SlotId,
    },
    Sum {
        x: SlotId,
        l: Layout,
        plan: SumPlan,
        out: SlotId,
    },
    ExtremeRows {
        x: SlotId,
        offset: usize,
        n_out: usize,
        n: usize,
        max: bool,
        out: SlotId,
        index: SlotId,
    },
    ExtremeValuesRows {
        x: SlotId,
        offset: usize,
        n_out: usize,
        n: usize,
        max: bool,
        out: SlotId,
    },
    SoftmaxRows {
        x: SlotId,
        offset: usize,
        n_out: usize,
        n: usize,
        log: bool,
        out: SlotId,
    },
    OneHot {
        x: SlotId,
        rows: Along,
        dtype: DType,
        out: SlotId,
    },
    IndexSelect {
        x: SlotId,
        rows: Along,
        index: Vec<usize>,
        out: SlotId,
    },
    IndexAdd {
        x: SlotId,
        rows: Along,
        index: Vec<usize>,
        out: SlotId,
    },
    Im2col {
        x: SlotId,
        geom: Windows2d,
        out: SlotId,
    },
    Col2im {
        x: SlotId,
        geom: Windows2d,
        out: SlotId,
    },
    MaxPool2d {
        x: SlotId,
        geom: Windows2d,
        out: SlotId,
        index: SlotId,
    },
    MaxPool2dBackward {
        x: SlotId,
        index: (SlotId, usize),
        geom: Windows2d,
        out: SlotId,
    },
    AvgPool2d {
        x: SlotId,
        geom: Windows2d,
        divisor: AvgDivisor,
        out: SlotId,
    },
    AvgPool2dBackward {
        x: SlotId,
        geom: Windows2d,
        divisor: AvgDivisor,
        out: SlotId,
    },
    BatchedMatmul {
        a: (SlotId, Layout),
        b: (SlotId, Layout),
        out: SlotId,
    },
    BatchedAddmm {
        c: (SlotId, Layout),
        a: (SlotId, Layout),
        b: (SlotId, Layout),
        beta: f64,
        alpha: f64,
        out: SlotId,
    },
    CopyInto {
        dst: SlotId,
        l: Layout,
        src: (SlotId, Layout),
    },
    BinaryAssign {
        dst: SlotId,
        op: BinaryOp,
        l: Layout,
        other: (SlotId, Layout),
    },
    Put {
        dst: SlotId,
        offset: usize,
        positions: Vec<usize>,
        values: SlotId,
    },
    Fill {
        dst: SlotId,
        l: Layout,
        value: f64,
    },
    AddInto {
        dst: SlotId,
        l: Layout,
        src: SlotId,
    },
    OptimizerStep {
        dst: SlotId,
        offset: usize,
        n: usize,
        grad: (SlotId, usize),
        /// The step counter `h`'s constants come from (`h.from_step`), read at replay.
        step: Option<(SlotId, usize)>,
        states: Vec<(SlotId, usize)>,
        h: OptimStep,
    },
    /// The host read these bytes: a replay that finds others stops before any effect.
    HostRead {
        x: SlotId,
        offset: usize,
        bytes: Vec<u8>,
    },
    /// `externals[var].grad = value`.
    SetGrad {
        var: usize,
        value: Option<(SlotId, Layout, DType)>,
    },
}

impl Instr {
    /// The slot written in place, if any (for an optimizer step: the parameter).
    pub fn written(&self) -> Option<SlotId> {
        use Instr::*;
        match self {
            CopyInto { dst, .. }
            | BinaryAssign { dst, .. }
            | Put { dst, .. }
            | Fill { dst, .. }
            | AddInto { dst, .. }
            | OptimizerStep { dst, .. } => Some(*dst),
            _ => None,
        }
    }

    /// Every slot written in place: [`Instr::written`], and an optimizer step's states.
    pub fn writes(&self) -> Vec<SlotId> {
        let mut w: Vec<SlotId> = self.written().into_iter().collect();
        if let Instr::OptimizerStep { states, .. } = self {
            w.extend(states.iter().map(|s| s.0));
        }
        w
    }

    /// The slots read.
    pub fn reads(&self) -> Vec<SlotId> {
        use Instr::*;
        match self {
            Zeros { .. } | Full { .. } | Fill { .. } | SetGrad { value: None, .. } => vec![],
            ToDevice { x, .. }
            | Gather { x, .. }
            | Cast { x, .. }
            | Unary { x, .. }
            | Sum { x, .. }
            | ExtremeRows { x, .. }
            | ExtremeValuesRows { x, .. }
            | SoftmaxRows { x, .. }
            | OneHot { x, .. }
            | IndexSelect { x, .. }
            | IndexAdd { x, .. }
            | Im2col { x, .. }
            | Col2im { x, .. }
            | MaxPool2d { x, .. }
            | AvgPool2d { x, .. }
            | AvgPool2dBackward { x, .. }
            | HostRead { x, .. } => vec![*x],
            MaxPool2dBackward { x, index, .. } => vec![*x, index.0],
            Binary { a, b, .. } | Compare { a, b, .. } | BatchedMatmul { a, b, .. } => {
                vec![a.0, b.0]
            }
            ActivationBackward { g, y, .. } => vec![g.0, y.0],
            Where { c, a, b, .. } | BatchedAddmm { c, a, b, .. } => vec![c.0, a.0, b.0],
            CopyInto { src, .. } => vec![src.0],
            BinaryAssign { other, .. } => vec![other.0],
            Put { values, .. } => vec![*values],
            AddInto { src, .. } => vec![*src],
            OptimizerStep {
                grad, states, step, ..
            } => {
                let mut v = vec![grad.0];
                v.extend(states.iter().map(|s| s.0));
                v.extend(step.map(|s| s.0));
                v
            }
            SetGrad {
                value: Some((s, _, _)),
                ..
            } => vec![*s],
        }
    }

    /// The slots a kernel makes.
    pub fn made(&self) -> Vec<SlotId> {
        use Instr::*;
        match self {
            ExtremeRows { out, index, .. } | MaxPool2d { out, index, .. } => vec![*out, *index],
            Zeros { out, .. }
            | Full { out, .. }
            | ToDevice { out, .. }
            | Gather { out, .. }
            | Cast { out, .. }
            | Unary { out, .. }
            | Binary { out, .. }
            | Compare { out, .. }
            | ActivationBackward { out, .. }
            | Where { out, .. }
            | Sum { out, .. }
            | ExtremeValuesRows { out, .. }
            | SoftmaxRows { out, .. }
            | OneHot { out, .. }
            | IndexSelect { out, .. }
            | IndexAdd { out, .. }
            | Im2col { out, .. }
            | Col2im { out, .. }
            | MaxPool2dBackward { out, .. }
            | AvgPool2d { out, .. }
            | AvgPool2dBackward { out, .. }
            | BatchedMatmul { out, .. }
            | BatchedAddmm { out, .. } => vec![*out],
            _ => vec![],
        }
    }
}

/// The node a replayed output carries in place of the graph a backward inside the function
/// consumed: named as eager's, and a second backward raises eager's error.
struct Spent(String);

impl Backward for Spent {
    fn name(&self) -> Cow<'static, str> {
        Cow::Owned(self.0.clone())
    }

    fn apply(&self, _: &Var, _: &[Var], _: &[bool]) -> Result<Vec<Option<Var>>> {
        Err(Error::Runtime(
            "Trying to backward through the graph a second time (or directly access saved \
             tensors after they have already been freed). Saved intermediate values of the \
             graph are freed when you call .backward() or autograd.grad(). Specify \
             retain_graph=True if you need to backward through the graph a second time or if \
             you need to access saved tensors after calling backward."
                .into(),
        ))
    }
}

/// A node standing for a graph a backward consumed, named `name` (see [`Spent`]).
pub fn spent_node(name: &str) -> NodeRef {
    NodeRef::create(Arc::new(Spent(name.to_owned())), Edges::new(), vec![])
}

/// A recorded step, replayable on new bindings of its externals.
pub struct Program {
    slots: Vec<(SlotKind, DType, usize)>,
    instrs: Vec<Instr>,
    externals: Vec<(ExternalSig, Option<SlotId>)>,
    outputs: Vec<OutputKind>,
    /// The slots to drop after each instruction (their last use).
    frees: Vec<Vec<SlotId>>,
    /// Constants some instruction writes: copied afresh at each replay.
    written_consts: HashSet<SlotId>,
    /// How many version bumps each external slot took in the recorded call.
    bumps: Vec<(SlotId, u64)>,
}

impl Program {
    pub(super) fn new(
        slots: Vec<(SlotKind, DType, usize)>,
        instrs: Vec<Instr>,
        externals: Vec<(ExternalSig, Option<SlotId>)>,
        outputs: Vec<OutputKind>,
        bumps: Vec<(SlotId, u64)>,
    ) -> std::result::Result<Program, String> {
        let instrs = hoist_host_reads(&slots, instrs)?;
        let mut last = vec![None; slots.len()];
        let mut written_consts = HashSet::new();
        for (i, ins) in instrs.iter().enumerate() {
            for s in ins
                .reads()
                .into_iter()
                .chain(ins.writes())
                .chain(ins.made())
            {
                last[s as usize] = Some(i);
            }
            for w in ins.writes() {
                if matches!(slots[w as usize].0, SlotKind::Const(_)) {
                    written_consts.insert(w);
                }
            }
        }
        let kept: HashSet<SlotId> = outputs
            .iter()
            .filter_map(|o| match o {
                OutputKind::Made { slot, .. } => Some(*slot),
                _ => None,
            })
            .collect();
        let mut frees = vec![Vec::new(); instrs.len()];
        for (s, at) in last.iter().enumerate() {
            let s = s as SlotId;
            let ours = matches!(
                slots[s as usize].0,
                SlotKind::Internal | SlotKind::Const(_) | SlotKind::Empty(_)
            );
            if let (Some(at), true, false) = (at, ours, kept.contains(&s)) {
                frees[*at].push(s);
            }
        }
        Ok(Program {
            slots,
            instrs,
            externals,
            outputs,
            frees,
            written_consts,
            bumps,
        })
    }

    pub fn len(&self) -> usize {
        self.instrs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.instrs.is_empty()
    }

    /// Whether two recordings are the same program: the same instructions on the same
    /// layouts, the same constants and host-read values, the same external signatures.
    pub fn same_as(&self, other: &Program) -> bool {
        if self.instrs.len() != other.instrs.len() || self.slots.len() != other.slots.len() {
            return false;
        }
        let text = |p: &Program| format!("{:?}|{:?}|{:?}", p.instrs, p.externals, p.outputs);
        if text(self) != text(other) {
            return false;
        }
        self.slots.iter().zip(&other.slots).all(|(a, b)| {
            (a.1, a.2) == (b.1, b.2)
                && match (&a.0, &b.0) {
                    (SlotKind::Const(x), SlotKind::Const(y)) => same_bytes(x, y),
                    (x, y) => format!("{x:?}") == format!("{y:?}"),
                }
        })
    }

    /// Runs the program on `externals` (the same walk as at capture, grads expanded).
    /// `Ok(None)`: a guard failed before anything visible happened; run eagerly instead.
    pub fn replay(&self, externals: &[Var]) -> Result<Option<Vec<Var>>> {
        if externals.len() != self.externals.len() || crate::autograd::arena::saved_hooks_active() {
            return Ok(None); // (saved-tensor hooks would see every tensor saved eagerly)
        }
        let mut vals: Vec<Option<Arc<Storage>>> = vec![None; self.slots.len()];
        let mut bound: HashSet<usize> = HashSet::new();
        for (v, (sig, slot)) in externals.iter().zip(&self.externals) {
            if ExternalSig::of(v) != *sig {
                return Ok(None);
            }
            let Some(slot) = *slot else { continue };
            let storage = v.tensor().storage().clone();
            match &vals[slot as usize] {
                Some(s) if Arc::ptr_eq(s, &storage) => {}
                Some(_) => return Ok(None), // aliased at capture, distinct now
                None => {
                    if !bound.insert(Arc::as_ptr(&storage) as usize) {
                        return Ok(None); // distinct at capture, aliased now
                    }
                    vals[slot as usize] = Some(storage);
                }
            }
        }
        for (s, (kind, _, _)) in self.slots.iter().enumerate() {
            vals[s] = match kind {
                SlotKind::Const(c) if self.written_consts.contains(&(s as SlotId)) => {
                    let copy = c.read().gather(&Layout::contiguous(&[c.read().len()]))?;
                    Some(Arc::new(Storage::new(copy)))
                }
                SlotKind::Const(c) => Some(c.clone()),
                SlotKind::Empty(d) => Some(Arc::new(Storage::new(Memory::zeros(
                    *d,
                    self.slots[s].1,
                    0,
                )?))),
                _ => vals[s].take(),
            };
        }
        for (ins, frees) in self.instrs.iter().zip(&self.frees) {
            if !self.run(ins, &mut vals, externals)? {
                return Ok(None);
            }
            for &s in frees {
                vals[s as usize] = None;
            }
        }
        for (s, n) in &self.bumps {
            let storage = slot_of(&vals, *s)?;
            for _ in 0..*n {
                storage.bump_version();
            }
        }
        let mut outs: Vec<Var> = Vec::with_capacity(self.outputs.len());
        for o in &self.outputs {
            let out = match o {
                OutputKind::External(k) => externals[*k].clone(),
                OutputKind::GradOf(k) => externals[*k].grad().ok_or_else(missing)?,
                OutputKind::Same(j) => outs[*j].clone(),
                OutputKind::Made {
                    slot,
                    layout,
                    dtype,
                    spent,
                    version,
                } => {
                    let storage = slot_of(&vals, *slot)?;
                    if !matches!(self.slots[*slot as usize].0, SlotKind::External(_)) {
                        for _ in storage.version()..*version {
                            storage.bump_version();
                        }
                    }
                    let t = Tensor::from_storage(storage, layout.clone(), *dtype);
                    match spent {
                        None => Var::new(t, false),
                        Some(name) => Var::with_history(t, spent_node(name)),
                    }
                }
            };
            outs.push(out);
        }
        Ok(Some(outs))
    }

    /// One instruction; `false` when a host read found other values.
    fn run(
        &self,
        ins: &Instr,
        vals: &mut [Option<Arc<Storage>>],
        externals: &[Var],
    ) -> Result<bool> {
        use Instr::*;
        let r = |s: SlotId| -> Result<RwLockReadGuard<'_, Memory>> {
            Ok(vals[s as usize].as_ref().ok_or_else(missing)?.read())
        };
        let mut second: Option<(SlotId, Memory)> = None;
        let made: Option<(SlotId, Memory)> = match ins {
            Zeros {
                device,
                dtype,
                n,
                out,
            } => Some((*out, Memory::zeros(*device, *dtype, *n)?)),
            Full {
                device,
                dtype,
                n,
                value,
                out,
            } => Some((*out, Memory::full(*device, *dtype, *n, *value)?)),
            ToDevice {
                x,
                offset,
                n,
                device,
                out,
            } => Some((*out, r(*x)?.to_device(*offset, *n, *device)?)),
            Gather { x, l, out } => Some((*out, r(*x)?.gather(l)?)),
            Cast { x, l, to, out } => Some((*out, r(*x)?.cast(l, *to)?)),
            Unary {
                x,
                l,
                op,
                args,
                out,
            } => Some((*out, r(*x)?.unary(l, *op, *args)?)),
            Binary {
                op,
                a,
                b,
                shape,
                dtype,
                out,
            } => Some((
                *out,
                Memory::binary(*op, (&*r(a.0)?, &a.1), (&*r(b.0)?, &b.1), shape, *dtype)?,
            )),
            Compare {
                op,
                a,
                b,
                shape,
                dtype,
                out,
            } => Some((
                *out,
                Memory::compare(*op, (&*r(a.0)?, &a.1), (&*r(b.0)?, &b.1), shape, *dtype)?,
            )),
            ActivationBackward {
                op,
                g,
                y,
                shape,
                out,
            } => Some((
                *out,
                Memory::activation_backward(*op, (&*r(g.0)?, &g.1), (&*r(y.0)?, &y.1), shape)?,
            )),
            Where {
                c,
                a,
                b,
                shape,
                out,
            } => Some((
                *out,
                Memory::where_(
                    (&*r(c.0)?, &c.1),
                    (&*r(a.0)?, &a.1),
                    (&*r(b.0)?, &b.1),
                    shape,
                )?,
            )),
            Sum { x, l, plan, out } => Some((*out, r(*x)?.sum(l, plan)?)),
            ExtremeRows {
                x,
                offset,
                n_out,
                n,
                max,
                out,
                index,
            } => {
                let (v, i) = r(*x)?.extreme_rows(*offset, *n_out, *n, *max)?;
                second = Some((*index, i));
                Some((*out, v))
            }
            ExtremeValuesRows {
                x,
                offset,
                n_out,
                n,
                max,
                out,
            } => Some((*out, r(*x)?.extreme_values_rows(*offset, *n_out, *n, *max)?)),
            SoftmaxRows {
                x,
                offset,
                n_out,
                n,
                log,
                out,
            } => Some((*out, r(*x)?.softmax_rows(*offset, *n_out, *n, *log)?)),
            OneHot {
                x,
                rows,
                dtype,
                out,
            } => Some((*out, r(*x)?.one_hot(*rows, *dtype)?)),
            IndexSelect {
                x,
                rows,
                index,
                out,
            } => Some((*out, r(*x)?.index_select(*rows, index)?)),
            IndexAdd {
                x,
                rows,
                index,
                out,
            } => Some((*out, r(*x)?.index_add(*rows, index)?)),
            Im2col { x, geom, out } => Some((*out, r(*x)?.im2col(geom)?)),
            Col2im { x, geom, out } => Some((*out, r(*x)?.col2im(geom)?)),
            MaxPool2d {
                x,
                geom,
                out,
                index,
            } => {
                let (v, i) = r(*x)?.max_pool2d(geom)?;
                second = Some((*index, i));
                Some((*out, v))
            }
            MaxPool2dBackward {
                x,
                index,
                geom,
                out,
            } => Some((
                *out,
                r(*x)?.max_pool2d_backward((&*r(index.0)?, index.1), geom)?,
            )),
            AvgPool2d {
                x,
                geom,
                divisor,
                out,
            } => Some((*out, r(*x)?.avg_pool2d(geom, *divisor)?)),
            AvgPool2dBackward {
                x,
                geom,
                divisor,
                out,
            } => Some((*out, r(*x)?.avg_pool2d_backward(geom, *divisor)?)),
            BatchedMatmul { a, b, out } => Some((
                *out,
                Memory::batched_matmul((&*r(a.0)?, &a.1), (&*r(b.0)?, &b.1))?,
            )),
            BatchedAddmm {
                c,
                a,
                b,
                beta,
                alpha,
                out,
            } => Some((
                *out,
                Memory::batched_addmm(
                    (&*r(c.0)?, &c.1),
                    (&*r(a.0)?, &a.1),
                    (&*r(b.0)?, &b.1),
                    *beta,
                    *alpha,
                )?,
            )),
            CopyInto { dst, l, src } => {
                let s = r(src.0)?;
                slot_of(vals, *dst)?
                    .write_unversioned()
                    .copy_into(l, (&s, &src.1))?;
                None
            }
            BinaryAssign { dst, op, l, other } => {
                let o = r(other.0)?;
                slot_of(vals, *dst)?
                    .write_unversioned()
                    .binary_assign(*op, l, (&o, &other.1))?;
                None
            }
            Put {
                dst,
                offset,
                positions,
                values,
            } => {
                let v = r(*values)?;
                slot_of(vals, *dst)?
                    .write_unversioned()
                    .put(*offset, positions, &v)?;
                None
            }
            Fill { dst, l, value } => {
                slot_of(vals, *dst)?.write_unversioned().fill(l, *value)?;
                None
            }
            AddInto { dst, l, src } => {
                let s = r(*src)?;
                slot_of(vals, *dst)?.write_unversioned().add_into(l, &s)?;
                None
            }
            OptimizerStep {
                dst,
                offset,
                n,
                grad,
                step,
                states,
                h,
            } => {
                let g = r(grad.0)?;
                let counter = step.map(|(s, _)| r(s)).transpose()?;
                let param = slot_of(vals, *dst)?;
                let owned: Vec<Arc<Storage>> = states
                    .iter()
                    .map(|(s, _)| slot_of(vals, *s))
                    .collect::<Result<_>>()?;
                let mut guards: Vec<_> = owned.iter().map(|s| s.write_unversioned()).collect();
                let states: Vec<(&mut Memory, usize)> = guards
                    .iter_mut()
                    .zip(states)
                    .map(|(g, (_, o))| (&mut **g, *o))
                    .collect();
                param.write_unversioned().optimizer_step(
                    *offset,
                    *n,
                    (&g, grad.1),
                    states,
                    counter.as_deref().zip(step.map(|(_, at)| at)),
                    h,
                )?;
                None
            }
            HostRead { x, offset, bytes } => {
                let m = r(*x)?;
                let host = m.host()?;
                if host.host_bytes(*offset).get(..bytes.len()) != Some(&bytes[..]) {
                    return Ok(false);
                }
                None
            }
            SetGrad { var, value } => {
                let grad = match value {
                    None => None,
                    Some((s, l, d)) => Some(Var::new(
                        Tensor::from_storage(slot_of(vals, *s)?, l.clone(), *d),
                        false,
                    )),
                };
                externals[*var].set_grad(grad);
                None
            }
        };
        for (out, m) in made.into_iter().chain(second) {
            vals[out as usize] = Some(Arc::new(Storage::new(m)));
        }
        Ok(true)
    }
}

/// The instructions with every host read that follows an effect (a write to an external
/// buffer, a `.grad` set) moved to the front together with the kernels it depends on: a
/// replay must check what Python branched on before it changes anything, so that a mismatch
/// can still run the call eagerly. A read is moved only when its kernels are pure and read
/// nothing an earlier instruction writes (so they compute the same values at the front);
/// else the recording is refused.
fn hoist_host_reads(
    slots: &[(SlotKind, DType, usize)],
    instrs: Vec<Instr>,
) -> std::result::Result<Vec<Instr>, String> {
    let external = |s: SlotId| matches!(slots[s as usize].0, SlotKind::External(_));
    let is_effect =
        |i: &Instr| matches!(i, Instr::SetGrad { .. }) || i.writes().into_iter().any(external);
    let Some(first_effect) = instrs.iter().position(is_effect) else {
        return Ok(instrs);
    };
    let mut maker = vec![None; slots.len()];
    for (at, ins) in instrs.iter().enumerate() {
        for s in ins.made() {
            maker[s as usize] = Some(at);
        }
    }
    let mut moved = vec![false; instrs.len()];
    for (at, ins) in instrs.iter().enumerate().skip(first_effect) {
        let Instr::HostRead { .. } = ins else {
            continue;
        };
        // The read's cone: the kernels that made what it reads, transitively.
        let mut cone = vec![at];
        let mut stack = ins.reads();
        while let Some(s) = stack.pop() {
            if let Some(m) = maker[s as usize] {
                if !cone.contains(&m) && !moved[m] {
                    cone.push(m);
                    stack.extend(instrs[m].reads());
                }
            }
        }
        for &c in &cone {
            let pure = instrs[c].writes().is_empty() && !is_effect(&instrs[c]);
            let unchanged = instrs[c]
                .reads()
                .iter()
                .all(|&s| instrs[..c].iter().all(|i| !i.writes().contains(&s)));
            if !pure || !unchanged {
                return Err("the host read a tensor's values (`.item()`, `.tolist()`, \
                     printing, indexing by a tensor) that depend on what the function \
                     changed before"
                    .into());
            }
        }
        for c in cone {
            moved[c] = true;
        }
    }
    let (mut front, mut rest) = (Vec::new(), Vec::new());
    for (ins, m) in instrs.into_iter().zip(moved) {
        if m {
            front.push(ins);
        } else {
            rest.push(ins);
        }
    }
    front.extend(rest);
    Ok(front)
}

fn missing() -> Error {
    Error::Runtime("compiled replay: a buffer was used after its last recorded use".into())
}

fn slot_of(vals: &[Option<Arc<Storage>>], s: SlotId) -> Result<Arc<Storage>> {
    vals[s as usize].clone().ok_or_else(missing)
}

fn same_bytes(a: &Storage, b: &Storage) -> bool {
    let (a, b) = (a.read(), b.read());
    match (a.host(), b.host()) {
        (Ok(x), Ok(y)) => {
            x.dtype() == y.dtype() && x.len() == y.len() && x.host_bytes(0) == y.host_bytes(0)
        }
        _ => false, // device constants: never assumed equal
    }
}
