//! `rustgrad.compile`'s capture (issue 15, milestone M1; the plan is `docs/compile-plan.md`).
//!
//! While a compiled function runs eagerly for the first times, every kernel call that reaches
//! [`Memory`]'s public methods at nesting depth 0 is recorded as one [`Instr`] with exactly
//! the arguments it got. Buffers are told apart by their address: the function's inputs
//! (externals, bound again at each replay), kernel outputs (internal slots) and host-born
//! data (constants, copied at capture). Replaying calls the same `Memory` methods in the same
//! order on the same layouts, so a replay is bit for bit what eager execution computes —
//! without graph nodes, Python or dispatch. What the recording cannot reproduce (random
//! draws, kernels outside `Memory`, hooks, memory shared with NumPy) is a *break*: the
//! recording is refused with a reason and the call stays eager.

mod program;

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};

use crate::autograd::Var;
use crate::base::{DType, Device, Layout};
use crate::tensor::storage::{Memory, Storage};

pub use program::{ExternalSig, Instr, OutputKind, Program, SlotId, SlotKind};

thread_local! {
    /// Whether this thread is recording (read by every `Memory` kernel call: one TLS read).
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    /// How many recorded `Memory` calls are running: only the outermost one is recorded.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    static RECORDER: RefCell<Option<Recorder>> = const { RefCell::new(None) };
    /// A kernel ran while the recorder was busy with its own bookkeeping (a view refreshed
    /// while a hook inspected it): the recording misses it and must be refused.
    static MISSED: Cell<bool> = const { Cell::new(false) };
}

/// Held while a `Memory` method runs during a recording (see [`enter`]).
pub struct Entered {
    top: bool,
}

/// `Some` while this thread records: the guard of one `Memory` call, the outermost one
/// (`top`) being the one recorded.
#[inline]
pub fn enter() -> Option<Entered> {
    if !ACTIVE.with(Cell::get) {
        return None;
    }
    let depth = DEPTH.with(|d| {
        let v = d.get();
        d.set(v + 1);
        v
    });
    Some(Entered { top: depth == 0 })
}

impl Drop for Entered {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get() - 1));
    }
}

impl Entered {
    /// The kernel's `result`, recorded as `instr(recorder, &output)` when this is the
    /// outermost call and the kernel succeeded.
    pub fn finish<T>(
        self,
        result: crate::error::Result<T>,
        instr: impl FnOnce(&mut Recorder, &T) -> Instr,
    ) -> crate::error::Result<T> {
        let top = self.top;
        drop(self);
        if top {
            if let Ok(out) = &result {
                with_recorder(|r| {
                    let i = instr(r, out);
                    r.push(i);
                });
            }
        }
        result
    }
}

fn with_recorder(f: impl FnOnce(&mut Recorder)) {
    RECORDER.with(|r| match r.try_borrow_mut() {
        Ok(mut r) => {
            if let Some(r) = r.as_mut() {
                f(r)
            }
        }
        Err(_) => MISSED.with(|m| m.set(true)),
    })
}

/// Runs `f` without recording its kernel calls (copies the recorder makes for itself).
fn quiet<R>(f: impl FnOnce() -> R) -> R {
    DEPTH.with(|d| d.set(d.get() + 1));
    let r = f();
    DEPTH.with(|d| d.set(d.get() - 1));
    r
}

/// Whether this thread records (for the few sites that do more than a `Memory` call).
#[inline]
pub fn recording() -> bool {
    ACTIVE.with(Cell::get)
}

/// Refuses the recording: something ran that a replay would not reproduce.
pub fn note_break(reason: impl Into<String>) {
    if recording() {
        let reason = reason.into();
        with_recorder(|r| r.refuse(reason));
    }
}

/// A storage was made over `memory` ([`crate::Tensor`]'s one constructor calls this): a
/// kernel output that the recording knows is an internal buffer; any other memory was born
/// on the host (Python numbers, index lists) and becomes a constant of the program.
pub fn on_new_storage(storage: &Arc<Storage>, memory: &Memory) {
    if recording() {
        with_recorder(|r| r.storage_made(storage, memory));
    }
}

/// The host read `n` elements from `offset` of `memory` (`.item()`, `.tolist()`, an index
/// read): Python may branch on them, so a replay must find the same bytes there.
pub fn on_host_read(memory: &Memory, offset: usize, n: usize) {
    if recording() {
        with_recorder(|r| r.host_read(memory, offset, n));
    }
}

/// `var.grad` was set to `grad` (the engine's accumulation, `p.grad = None`).
pub fn on_set_grad(var: &Var, grad: Option<&Var>) {
    if recording() {
        with_recorder(|r| r.set_grad(var, grad));
    }
}

/// Starts recording on this thread. `externals` are the variables the compiled function can
/// reach at entry (its arguments, closure, globals, modules' parameters and optimizer state,
/// each followed by its `.grad`): their buffers become the program's inputs.
pub fn begin(externals: &[Var]) {
    let mut r = Recorder {
        slots: Vec::new(),
        by_ptr: HashMap::new(),
        fresh: HashSet::new(),
        instrs: Vec::new(),
        breaks: Vec::new(),
        vars: HashMap::new(),
        externals: Vec::new(),
        internals: Vec::new(),
        _held: externals.to_vec(),
        versions: Vec::new(),
    };
    for (k, v) in externals.iter().enumerate() {
        r.vars.entry(v.key()).or_insert(k);
        if v.grad_fn().is_some() {
            // A backward inside the function would run (and free) the input's own graph,
            // which a replay cannot follow; nor can it check that the graph is the same.
            r.refuse("an input has a history (a `grad_fn`): pass it detached".into());
        }
        let sig = ExternalSig::of(v);
        let t = v.tensor();
        let mem = t.storage().read();
        let slot = if mem.is_empty() {
            None
        } else if let Device::Meta = mem.device() {
            r.refuse("meta tensors have no data to replay".into());
            None
        } else {
            let key = (mem.device(), mem.as_ptr());
            Some(match r.by_ptr.get(&key) {
                Some(&s) => s,
                None => {
                    let s = r.new_slot(SlotKind::External(k), mem.dtype(), mem.len());
                    r.by_ptr.insert(key, s);
                    s
                }
            })
        };
        r.externals.push((sig, slot));
        r.versions.push(t.storage().version());
    }
    RECORDER.with(|c| *c.borrow_mut() = Some(r));
    DEPTH.with(|d| d.set(0));
    MISSED.with(|m| m.set(false));
    ACTIVE.with(|a| a.set(true));
}

/// Stops recording; `None` when nothing was being recorded.
fn take() -> Option<Recorder> {
    ACTIVE.with(|a| a.set(false));
    RECORDER.with(|c| c.borrow_mut().take())
}

/// Drops a recording (the function raised).
pub fn abort() {
    take();
}

/// Ends the recording with the function's returned tensors: the program, or the reasons it
/// cannot be replayed.
pub fn end(outputs: &[Var]) -> std::result::Result<Program, Vec<String>> {
    let Some(mut r) = take() else {
        return Err(vec!["no recording was running".into()]);
    };
    if MISSED.with(|m| m.replace(false)) {
        r.refuse("a kernel ran while the recorder was taking note of another".into());
    }
    r.finish(outputs)
}

/// What identifies a buffer during a recording: its place and extent.
#[derive(Clone, Copy)]
pub struct MemKey {
    device: Device,
    ptr: usize,
    len: usize,
    dtype: DType,
}

impl MemKey {
    pub fn of(m: &Memory) -> MemKey {
        MemKey {
            device: m.device(),
            ptr: m.as_ptr(),
            len: m.len(),
            dtype: m.dtype(),
        }
    }
}

/// The recording in progress.
pub struct Recorder {
    slots: Vec<(SlotKind, DType, usize)>,
    by_ptr: HashMap<(Device, usize), SlotId>,
    /// Kernel outputs not yet wrapped in a storage (see [`on_new_storage`]).
    fresh: HashSet<(Device, usize)>,
    instrs: Vec<Instr>,
    breaks: Vec<String>,
    /// `Var::key` of each external variable, to its index.
    vars: HashMap<usize, usize>,
    externals: Vec<(ExternalSig, Option<SlotId>)>,
    /// The storages made over internal buffers, to find those that outlive the function.
    internals: Vec<(SlotId, Weak<Storage>)>,
    /// The external variables, held so that no new variable takes one's address (`vars`'s
    /// keys) while recording. (So no `.grad` is ever its only holder then: the engine adds
    /// gradients out of place and sets `.grad`, which a replay does whoever holds the old one.)
    _held: Vec<Var>,
    /// Each external storage's version at the start (a replay bumps versions as eager did).
    versions: Vec<u64>,
}

impl Recorder {
    fn refuse(&mut self, reason: String) {
        if !self.breaks.contains(&reason) {
            self.breaks.push(reason);
        }
    }

    fn new_slot(&mut self, kind: SlotKind, dtype: DType, len: usize) -> SlotId {
        self.slots.push((kind, dtype, len));
        (self.slots.len() - 1) as SlotId
    }

    fn push(&mut self, instr: Instr) {
        if let Some(dst) = instr.written() {
            if instr.reads().contains(&dst) {
                self.refuse("an in-place kernel reads the buffer it writes".into());
            }
        }
        self.instrs.push(instr);
    }

    /// The slot of an operand's memory.
    pub fn input(&mut self, m: &Memory) -> SlotId {
        self.input_at(MemKey::of(m))
    }

    /// The slot of the memory `key` names.
    pub fn input_at(&mut self, key: MemKey) -> SlotId {
        if key.len == 0 {
            return self.new_slot(SlotKind::Empty(key.device), key.dtype, 0);
        }
        match self.by_ptr.get(&(key.device, key.ptr)) {
            Some(&s) if self.slots[s as usize].2 == key.len => s,
            _ => {
                self.refuse(
                    "a kernel read a tensor the compiled function cannot reach from its \
                     arguments, closure or globals"
                        .into(),
                );
                0
            }
        }
    }

    /// A new internal slot for a kernel's output.
    pub fn output(&mut self, m: &Memory) -> SlotId {
        let s = self.new_slot(SlotKind::Internal, m.dtype(), m.len());
        if !m.is_empty() {
            let key = (m.device(), m.as_ptr());
            self.by_ptr.insert(key, s);
            self.fresh.insert(key);
        }
        s
    }

    fn storage_made(&mut self, storage: &Arc<Storage>, memory: &Memory) {
        if memory.is_empty() {
            return;
        }
        let key = (memory.device(), memory.as_ptr());
        if self.fresh.remove(&key) {
            let s = self.by_ptr[&key];
            self.internals.push((s, Arc::downgrade(storage)));
            return;
        }
        if let Device::Meta = memory.device() {
            self.refuse("meta tensors have no data to replay".into());
            return;
        }
        // Born on the host: a constant, copied now (the buffer may be written later).
        match quiet(|| memory.gather(&Layout::contiguous(&[memory.len()]))) {
            Ok(copy) => {
                let s = self.new_slot(
                    SlotKind::Const(Arc::new(Storage::new(copy))),
                    memory.dtype(),
                    memory.len(),
                );
                self.by_ptr.insert(key, s);
                self.internals.push((s, Arc::downgrade(storage)));
            }
            Err(e) => self.refuse(format!("a constant could not be copied: {e}")),
        }
    }

    fn host_read(&mut self, memory: &Memory, offset: usize, n: usize) {
        let slot = self.input(memory);
        let Ok(host) = memory.host() else {
            self.refuse("a host read of device memory".into());
            return;
        };
        let size = memory.dtype().size_of();
        let bytes = host.host_bytes(offset)[..n * size].to_vec();
        self.instrs.push(Instr::HostRead {
            x: slot,
            offset,
            bytes,
        });
    }

    fn set_grad(&mut self, var: &Var, grad: Option<&Var>) {
        let Some(&k) = self.vars.get(&var.key()) else {
            self.refuse(
                "a gradient was set on a tensor made inside the compiled function (or not \
                 reachable from its arguments, closure or globals)"
                    .into(),
            );
            return;
        };
        let value = match grad {
            None => None,
            Some(g) => {
                if g.requires_grad() {
                    self.refuse(
                        "a gradient with a history (`create_graph=True`) was stored in `.grad`"
                            .into(),
                    );
                    return;
                }
                let t = g.tensor();
                let slot = {
                    let m = t.storage().read();
                    self.input(&m)
                };
                Some((slot, t.layout().clone(), t.dtype()))
            }
        };
        self.instrs.push(Instr::SetGrad { var: k, value });
    }

    fn finish(mut self, outputs: &[Var]) -> std::result::Result<Program, Vec<String>> {
        let mut kept: HashSet<SlotId> = HashSet::new();
        let mut outs = Vec::with_capacity(outputs.len());
        for (i, v) in outputs.iter().enumerate() {
            if let Some(j) = outputs[..i].iter().position(|o| o.ptr_eq(v)) {
                outs.push(OutputKind::Same(j));
                continue;
            }
            if let Some(&k) = self.vars.get(&v.key()) {
                outs.push(OutputKind::External(k));
                continue;
            }
            let grad_of = self
                ._held
                .iter()
                .position(|h| h.grad().is_some_and(|g| g.ptr_eq(v)));
            if let Some(k) = grad_of {
                outs.push(OutputKind::GradOf(k));
                continue;
            }
            let t = v.tensor();
            let slot = {
                let m = t.storage().read();
                self.input(&m)
            };
            kept.insert(slot);
            let spent = match v.grad_fn() {
                None if v.requires_grad() => {
                    self.refuse(
                        "returns a tensor made inside the function that requires grad".into(),
                    );
                    None
                }
                None => None,
                Some(node) => {
                    if crate::autograd::arena::is_released(node.id()) {
                        // The spent graph gives way to a node of the same name, as a replay's
                        // output has (what the old graph's nodes held is freed now, so the
                        // check below sees only what the function really kept).
                        let name = node.name();
                        drop(node);
                        v.set_grad_fn(Some(program::spent_node(&name)));
                        Some(name)
                    } else {
                        self.refuse(
                            "returns a tensor whose graph no backward consumed (call backward \
                             inside the compiled function, or return detached values)"
                                .into(),
                        );
                        None
                    }
                }
            };
            outs.push(OutputKind::Made {
                slot,
                layout: t.layout().clone(),
                dtype: t.dtype(),
                spent,
                version: t.storage().version(),
            });
        }
        for i in &self.instrs {
            if let Instr::SetGrad {
                value: Some((s, _, _)),
                ..
            } = i
            {
                kept.insert(*s);
            }
        }
        // Every internal buffer still alive must be returned or a `.grad`: anything else was
        // stored somewhere a replay would not update.
        // (An unwritten constant kept somewhere holds the same values after a replay.)
        let written: HashSet<SlotId> = self.instrs.iter().flat_map(Instr::writes).collect();
        for (slot, weak) in &self.internals {
            let constant = matches!(self.slots[*slot as usize].0, SlotKind::Const(_));
            let changes = !constant || written.contains(slot);
            if changes && !kept.contains(slot) && weak.strong_count() > 0 {
                let (kind, dtype, len) = &self.slots[*slot as usize];
                let by = self
                    .instrs
                    .iter()
                    .find(|i| i.made().contains(slot))
                    .map(|i| {
                        format!("{i:?}")
                            .split([' ', '{'])
                            .next()
                            .unwrap_or("")
                            .to_owned()
                    })
                    .unwrap_or_else(|| format!("{kind:?}"));
                self.breaks.push(format!(
                    "a tensor made inside the compiled function outlives it (stored in an \
                     attribute, a list or a graph that was not consumed): {len} {dtype:?} \
                     elements from {by}"
                ));
                break;
            }
        }
        if !self.breaks.is_empty() {
            return Err(self.breaks);
        }
        // How far each external storage's version moved (in-place writes; some, such as
        // batch norm's running statistics, write without a bump).
        let mut bumps = Vec::new();
        for (k, (_, slot)) in self.externals.iter().enumerate() {
            let Some(slot) = *slot else { continue };
            let now = self._held[k].tensor().storage().version();
            let moved = now.saturating_sub(self.versions[k]);
            if moved > 0 && !bumps.iter().any(|&(s, _)| s == slot) {
                bumps.push((slot, moved));
            }
        }
        Program::new(self.slots, self.instrs, self.externals, outs, bumps).map_err(|e| vec![e])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops;
    use crate::Tensor;

    fn leaf(v: Vec<f32>, requires_grad: bool) -> Var {
        let n = v.len();
        Var::new(Tensor::from_vec(v, &[n]), requires_grad)
    }

    #[test]
    fn a_narrow_float_kernel_is_one_instruction_and_replays_bit_for_bit() {
        let x = ops::to_dtype(&leaf(vec![0.5, -1.25, 3.0], false), DType::F16).unwrap();
        begin(std::slice::from_ref(&x));
        let y = ops::exp(&x).unwrap();
        let program = end(std::slice::from_ref(&y)).unwrap();
        // The f16 exp widens, computes and narrows inside `Memory::unary`: one instruction.
        assert_eq!(program.len(), 1);
        let again = program.replay(std::slice::from_ref(&x)).unwrap().unwrap();
        assert_eq!(
            again[0].tensor().to_f64_vec().unwrap(),
            y.tensor().to_f64_vec().unwrap()
        );
    }

    #[test]
    fn a_replay_reads_the_new_binding_and_checks_its_signature() {
        let (x, w) = (leaf(vec![1.0, 2.0], false), leaf(vec![3.0, 4.0], false));
        begin(&[x.clone(), w.clone()]);
        let y = ops::mul(&x, &w).unwrap();
        let program = end(std::slice::from_ref(&y)).unwrap();
        let x2 = leaf(vec![5.0, 6.0], false);
        let out = program.replay(&[x2, w.clone()]).unwrap().unwrap();
        assert_eq!(out[0].tensor().to_vec::<f32>().unwrap(), vec![15.0, 24.0]);
        // Another shape, or a tensor that requires grad, fails the guard before any effect.
        let wider = leaf(vec![1.0, 2.0, 3.0], false);
        assert!(program.replay(&[wider, w.clone()]).unwrap().is_none());
        assert!(program
            .replay(&[leaf(vec![5.0, 6.0], true), w])
            .unwrap()
            .is_none());
    }

    #[test]
    fn reading_a_tensor_made_outside_the_walk_breaks_the_recording() {
        let (x, hidden) = (leaf(vec![1.0], false), leaf(vec![2.0], false));
        begin(std::slice::from_ref(&x));
        let y = ops::add(&x, &hidden).unwrap();
        let reasons = end(std::slice::from_ref(&y)).err().unwrap();
        assert!(reasons[0].contains("cannot reach"), "{reasons:?}");
    }

    #[test]
    fn recording_is_per_thread() {
        let x = leaf(vec![1.0], false);
        begin(std::slice::from_ref(&x));
        let other = std::thread::spawn(|| {
            let a = leaf(vec![2.0], false);
            ops::exp(&a).map(|_| recording()).unwrap()
        })
        .join()
        .unwrap();
        let y = ops::exp(&x).unwrap();
        let program = end(std::slice::from_ref(&y)).unwrap();
        assert!(!other);
        assert_eq!(program.len(), 1);
    }
}
