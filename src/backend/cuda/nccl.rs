//! NCCL for `rustgrad.distributed`'s "nccl" backend: `libnccl.so.2` (the `nvidia-nccl-cu13`
//! pip package, opened as cuBLAS is: see `libs`), one communicator per process group and
//! device. Every collective is queued on the device's stream, so it is ordered with the
//! kernels before and after it without a host synchronisation, as PyTorch's NCCL backend is
//! with its current stream.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;

use super::device::CudaDevice;
use super::libs::{load_once, open_library, symbol, Handle, LIB_DIR_ENV};
use crate::base::{DType, Device};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// `ncclUniqueId`: the bytes rank 0 makes and every rank passes to `Communicator::new`.
pub const UNIQUE_ID_BYTES: usize = 128;

#[repr(C)]
#[derive(Clone, Copy)]
struct UniqueId([c_char; UNIQUE_ID_BYTES]);

type Comm = *mut c_void;
type Stream = *mut c_void;

/// The NCCL functions rustgrad calls (C signatures of NCCL 2's `nccl.h`; results as `int`).
pub struct Nccl {
    _lib: Handle,
    pub path: PathBuf,
    get_version: unsafe extern "C" fn(*mut c_int) -> c_int,
    get_unique_id: unsafe extern "C" fn(*mut UniqueId) -> c_int,
    comm_init_rank: unsafe extern "C" fn(*mut Comm, c_int, UniqueId, c_int) -> c_int,
    comm_destroy: unsafe extern "C" fn(Comm) -> c_int,
    comm_abort: unsafe extern "C" fn(Comm) -> c_int,
    comm_get_async_error: unsafe extern "C" fn(Comm, *mut c_int) -> c_int,
    get_error_string: unsafe extern "C" fn(c_int) -> *const c_char,
    all_reduce: unsafe extern "C" fn(
        *const c_void,
        *mut c_void,
        usize,
        c_int,
        c_int,
        Comm,
        Stream,
    ) -> c_int,
    broadcast: unsafe extern "C" fn(
        *const c_void,
        *mut c_void,
        usize,
        c_int,
        c_int,
        Comm,
        Stream,
    ) -> c_int,
    reduce: unsafe extern "C" fn(
        *const c_void,
        *mut c_void,
        usize,
        c_int,
        c_int,
        c_int,
        Comm,
        Stream,
    ) -> c_int,
    all_gather:
        unsafe extern "C" fn(*const c_void, *mut c_void, usize, c_int, Comm, Stream) -> c_int,
    reduce_scatter: unsafe extern "C" fn(
        *const c_void,
        *mut c_void,
        usize,
        c_int,
        c_int,
        Comm,
        Stream,
    ) -> c_int,
    send: unsafe extern "C" fn(*const c_void, usize, c_int, c_int, Comm, Stream) -> c_int,
    recv: unsafe extern "C" fn(*mut c_void, usize, c_int, c_int, Comm, Stream) -> c_int,
    group_start: unsafe extern "C" fn() -> c_int,
    group_end: unsafe extern "C" fn() -> c_int,
}

// SAFETY: the handle and function pointers are immutable; NCCL's API is thread-safe for
// distinct communicators, and each `Communicator` serialises its own calls.
unsafe impl Send for Nccl {}
unsafe impl Sync for Nccl {}

/// NCCL, loaded; the error says how to install it.
pub fn nccl() -> std::result::Result<&'static Nccl, String> {
    static SLOT: Mutex<Option<&'static Nccl>> = Mutex::new(None);
    load_once(&SLOT, || {
        let (lib, path) =
            open_library(&["nccl"], "libnccl.so.2", "ncclGetUniqueId").ok_or_else(|| {
                format!(
                    "NCCL (libnccl.so.2) could not be loaded: install the `nvidia-nccl-cu13` \
                     pip package or point {LIB_DIR_ENV} at the folder that holds it"
                )
            })?;
        // SAFETY: NCCL 2's C signatures, as declared in `Nccl`.
        unsafe {
            Ok(Nccl {
                get_version: symbol(&lib, "ncclGetVersion")?,
                get_unique_id: symbol(&lib, "ncclGetUniqueId")?,
                comm_init_rank: symbol(&lib, "ncclCommInitRank")?,
                comm_destroy: symbol(&lib, "ncclCommDestroy")?,
                comm_abort: symbol(&lib, "ncclCommAbort")?,
                comm_get_async_error: symbol(&lib, "ncclCommGetAsyncError")?,
                get_error_string: symbol(&lib, "ncclGetErrorString")?,
                all_reduce: symbol(&lib, "ncclAllReduce")?,
                broadcast: symbol(&lib, "ncclBroadcast")?,
                reduce: symbol(&lib, "ncclReduce")?,
                all_gather: symbol(&lib, "ncclAllGather")?,
                reduce_scatter: symbol(&lib, "ncclReduceScatter")?,
                send: symbol(&lib, "ncclSend")?,
                recv: symbol(&lib, "ncclRecv")?,
                group_start: symbol(&lib, "ncclGroupStart")?,
                group_end: symbol(&lib, "ncclGroupEnd")?,
                path,
                _lib: lib,
            })
        }
    })
}

impl Nccl {
    /// NCCL's version code (e.g. 22703 for 2.27.3).
    pub fn version(&self) -> Result<i32> {
        let mut v = 0;
        // SAFETY: writes one int.
        self.check("ncclGetVersion", unsafe { (self.get_version)(&mut v) })?;
        Ok(v)
    }

    /// A fresh unique id (rank 0 makes it; every rank of the group passes it to `new`).
    pub fn unique_id(&self) -> Result<[u8; UNIQUE_ID_BYTES]> {
        let mut id = UniqueId([0; UNIQUE_ID_BYTES]);
        // SAFETY: writes the 128-byte struct.
        self.check("ncclGetUniqueId", unsafe { (self.get_unique_id)(&mut id) })?;
        Ok(id.0.map(|c| c as u8))
    }

    /// `rc` as PyTorch words it: "NCCL error in: ncclAllReduce, unhandled cuda error ...".
    fn check(&self, what: &str, rc: c_int) -> Result<()> {
        if rc == 0 {
            return Ok(());
        }
        // SAFETY: NCCL returns a static string for any code.
        let text = unsafe { (self.get_error_string)(rc) };
        let text = if text.is_null() {
            "unknown error".into()
        } else {
            // SAFETY: a NUL-terminated static string.
            unsafe { CStr::from_ptr(text) }
                .to_string_lossy()
                .into_owned()
        };
        Err(Error::Runtime(format!(
            "NCCL error in: {what}, {text} (ncclResult {rc}); set NCCL_DEBUG=INFO for details"
        )))
    }
}

/// A reduction, as NCCL numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    Sum = 0,
    Product = 1,
    Max = 2,
    Min = 3,
    Avg = 4,
}

impl ReduceOp {
    /// From `rustgrad.distributed.ReduceOp`'s value ("sum", "avg", ...).
    pub fn parse(name: &str) -> Result<ReduceOp> {
        Ok(match name {
            "sum" => ReduceOp::Sum,
            "product" => ReduceOp::Product,
            "max" => ReduceOp::Max,
            "min" => ReduceOp::Min,
            "avg" => ReduceOp::Avg,
            _ => return Err(Error::Value(format!("unsupported reduce op {name:?}"))),
        })
    }

    /// NCCL's op for `dtype`: bool tensors go as uint8, where PyTorch's SUM is MAX (any) and
    /// PRODUCT is MIN (all).
    fn for_dtype(self, dtype: DType) -> Result<c_int> {
        if dtype == DType::Bool {
            return match self {
                ReduceOp::Sum | ReduceOp::Max => Ok(ReduceOp::Max as c_int),
                ReduceOp::Product | ReduceOp::Min => Ok(ReduceOp::Min as c_int),
                ReduceOp::Avg => Err(Error::Value(
                    "Cannot use ReduceOp.AVG with boolean inputs".into(),
                )),
            };
        }
        Ok(self as c_int)
    }
}

/// NCCL's `ncclDataType_t` for `dtype`.
fn nccl_dtype(dtype: DType) -> Result<c_int> {
    Ok(match dtype {
        DType::I8 => 0,
        DType::U8 | DType::Bool => 1,
        DType::I32 => 2,
        DType::I64 => 4,
        DType::F16 => 6,
        DType::F32 => 7,
        DType::F64 => 8,
        DType::BF16 => 9,
        DType::I16 => {
            return Err(Error::Runtime(
                "Unconvertible NCCL type Short: NCCL has no int16".into(),
            ))
        }
    })
}

/// A tensor's memory as NCCL takes it: the address of its first element and its count.
struct Buf {
    ptr: *mut c_void,
    count: usize,
    dtype: DType,
    // Keeps the memory alive while the call that reads the address is queued; the caching
    // allocator reuses a block only in stream order, after the collective.
    _storage: Arc<crate::tensor::storage::Storage>,
}

/// One NCCL communicator: this process's rank among `size`, on `device`.
pub struct Communicator {
    api: &'static Nccl,
    comm: Mutex<Option<Comm>>,
    device: Arc<CudaDevice>,
    pub rank: i32,
    pub size: i32,
}

// SAFETY: the communicator handle is used under its mutex only.
unsafe impl Send for Communicator {}
unsafe impl Sync for Communicator {}

impl Communicator {
    /// Joins the group of `size` ranks that `unique_id` names, as `rank`, on `device`. Blocks
    /// until every rank has joined (call without the GIL).
    pub fn new(unique_id: &[u8], size: i32, rank: i32, device: Arc<CudaDevice>) -> Result<Self> {
        let api = nccl().map_err(Error::Runtime)?;
        if unique_id.len() != UNIQUE_ID_BYTES {
            return Err(Error::Value(format!(
                "an NCCL unique id has {UNIQUE_ID_BYTES} bytes, got {}",
                unique_id.len()
            )));
        }
        if size < 1 || !(0..size).contains(&rank) {
            return Err(Error::Value(format!(
                "Invalid rank {rank} for a group of {size} ranks"
            )));
        }
        let mut id = UniqueId([0; UNIQUE_ID_BYTES]);
        for (d, &s) in id.0.iter_mut().zip(unique_id) {
            *d = s as c_char;
        }
        device.bind()?;
        if device.stream_handle().is_null() {
            return Err(Error::Runtime(
                "NCCL needs a CUDA driver (the CUDA emulator has none)".into(),
            ));
        }
        let mut comm: Comm = std::ptr::null_mut();
        // SAFETY: NCCL's C API; `comm` is written on success.
        api.check("ncclCommInitRank", unsafe {
            (api.comm_init_rank)(&mut comm, size, id, rank)
        })?;
        Ok(Communicator {
            api,
            comm: Mutex::new(Some(comm)),
            device,
            rank,
            size,
        })
    }

    /// The live handle, or the error of a communicator already destroyed or aborted.
    fn handle(&self) -> Result<Comm> {
        self.comm
            .lock()
            .ok_or_else(|| Error::Runtime("NCCL communicator was destroyed or aborted".into()))
    }

    /// `t`'s memory, checked: a contiguous tensor on this communicator's device.
    fn buf(&self, t: &Tensor) -> Result<Buf> {
        if t.device() != Device::Cuda(self.device.ordinal) {
            return Err(Error::Runtime(format!(
                "NCCL: expected a tensor on cuda:{}, got one on {}",
                self.device.ordinal,
                t.device()
            )));
        }
        if !t.is_contiguous() {
            return Err(Error::Value("Tensors must be contiguous".into()));
        }
        let storage = t.storage().clone();
        let base = storage.read().as_ptr();
        let offset = t
            .layout()
            .offset
            .checked_mul(t.dtype().size_of())
            .and_then(|o| base.checked_add(o))
            .ok_or_else(|| Error::Runtime("NCCL: tensor address overflows".into()))?;
        Ok(Buf {
            ptr: offset as *mut c_void,
            count: t.numel(),
            dtype: t.dtype(),
            _storage: storage,
        })
    }

    /// Runs `f(handle, stream)` with this device current; maps NCCL's result.
    fn call(&self, what: &str, f: impl FnOnce(Comm, Stream) -> c_int) -> Result<()> {
        let comm = self.handle()?;
        self.device.bind()?;
        let rc = f(comm, self.device.stream_handle());
        self.api.check(what, rc)
    }

    /// Reduces `t` across the group in place.
    pub fn all_reduce(&self, t: &Tensor, op: ReduceOp) -> Result<()> {
        let b = self.buf(t)?;
        let (dt, op) = (nccl_dtype(b.dtype)?, op.for_dtype(b.dtype)?);
        // SAFETY: `b` addresses `count` elements of a live block on this device.
        self.call("ncclAllReduce", |c, s| unsafe {
            (self.api.all_reduce)(b.ptr, b.ptr, b.count, dt, op, c, s)
        })
    }

    /// Copies rank `root`'s `t` into `t` on every rank.
    pub fn broadcast(&self, t: &Tensor, root: i32) -> Result<()> {
        self.check_rank(root)?;
        let b = self.buf(t)?;
        let dt = nccl_dtype(b.dtype)?;
        // SAFETY: as in `all_reduce`.
        self.call("ncclBroadcast", |c, s| unsafe {
            (self.api.broadcast)(b.ptr, b.ptr, b.count, dt, root, c, s)
        })
    }

    /// Reduces `t` across the group into `t` on rank `root`.
    pub fn reduce(&self, t: &Tensor, root: i32, op: ReduceOp) -> Result<()> {
        self.check_rank(root)?;
        let b = self.buf(t)?;
        let (dt, op) = (nccl_dtype(b.dtype)?, op.for_dtype(b.dtype)?);
        // SAFETY: as in `all_reduce`.
        self.call("ncclReduce", |c, s| unsafe {
            (self.api.reduce)(b.ptr, b.ptr, b.count, dt, op, root, c, s)
        })
    }

    /// Concatenates every rank's `input` into `output` (rank order).
    pub fn all_gather(&self, output: &Tensor, input: &Tensor) -> Result<()> {
        let (o, i) = (self.buf(output)?, self.buf(input)?);
        self.check_sizes(
            &o,
            &i,
            "output tensor size must be equal to world_size times input tensor size",
        )?;
        let dt = nccl_dtype(i.dtype)?;
        // SAFETY: `o` holds `size` times `i`'s elements (checked).
        self.call("ncclAllGather", |c, s| unsafe {
            (self.api.all_gather)(i.ptr, o.ptr, i.count, dt, c, s)
        })
    }

    /// Reduces `input` across the group; rank `r` gets the `r`-th chunk in `output`.
    pub fn reduce_scatter(&self, output: &Tensor, input: &Tensor, op: ReduceOp) -> Result<()> {
        let (o, i) = (self.buf(output)?, self.buf(input)?);
        self.check_sizes(
            &i,
            &o,
            "input tensor must be the same size as output size times world size",
        )?;
        let (dt, op) = (nccl_dtype(i.dtype)?, op.for_dtype(i.dtype)?);
        // SAFETY: `i` holds `size` times `o`'s elements (checked).
        self.call("ncclReduceScatter", |c, s| unsafe {
            (self.api.reduce_scatter)(i.ptr, o.ptr, o.count, dt, op, c, s)
        })
    }

    /// Sends `t` to rank `peer` (matched by a `recv` there).
    pub fn send(&self, t: &Tensor, peer: i32) -> Result<()> {
        self.check_rank(peer)?;
        let b = self.buf(t)?;
        let dt = nccl_dtype(b.dtype)?;
        // SAFETY: as in `all_reduce`.
        self.call("ncclSend", |c, s| unsafe {
            (self.api.send)(b.ptr, b.count, dt, peer, c, s)
        })
    }

    /// Receives into `t` from rank `peer`.
    pub fn recv(&self, t: &Tensor, peer: i32) -> Result<()> {
        self.check_rank(peer)?;
        let b = self.buf(t)?;
        let dt = nccl_dtype(b.dtype)?;
        // SAFETY: as in `all_reduce`.
        self.call("ncclRecv", |c, s| unsafe {
            (self.api.recv)(b.ptr, b.count, dt, peer, c, s)
        })
    }

    /// Starts a group of calls that NCCL runs as one (gather/scatter as sends and receives).
    pub fn group_start(&self) -> Result<()> {
        // SAFETY: no arguments.
        self.api
            .check("ncclGroupStart", unsafe { (self.api.group_start)() })
    }

    /// Ends the group `group_start` began.
    pub fn group_end(&self) -> Result<()> {
        self.device.bind()?;
        // SAFETY: no arguments.
        self.api
            .check("ncclGroupEnd", unsafe { (self.api.group_end)() })
    }

    /// The error NCCL met in queued work (a peer gone), if any.
    pub fn async_error(&self) -> Result<Option<String>> {
        let comm = self.handle()?;
        let mut rc = 0;
        // SAFETY: writes one int.
        self.api.check("ncclCommGetAsyncError", unsafe {
            (self.api.comm_get_async_error)(comm, &mut rc)
        })?;
        Ok(self
            .api
            .check("an NCCL collective", rc)
            .err()
            .map(|e| e.to_string()))
    }

    /// Frees the communicator after its queued work (`abort`: at once, work abandoned).
    pub fn close(&self, abort: bool) -> Result<()> {
        let Some(comm) = self.comm.lock().take() else {
            return Ok(());
        };
        self.device.bind()?;
        // SAFETY: the handle is live and is not used again (taken out of the slot).
        let rc = unsafe {
            if abort {
                (self.api.comm_abort)(comm)
            } else {
                (self.api.comm_destroy)(comm)
            }
        };
        self.api.check(
            if abort {
                "ncclCommAbort"
            } else {
                "ncclCommDestroy"
            },
            rc,
        )
    }

    fn check_rank(&self, r: i32) -> Result<()> {
        if (0..self.size).contains(&r) {
            Ok(())
        } else {
            Err(Error::Value(format!(
                "Invalid rank {r} for a group of {} ranks",
                self.size
            )))
        }
    }

    /// `whole` holds `size` times `part`'s elements, of the same dtype.
    fn check_sizes(&self, whole: &Buf, part: &Buf, words: &str) -> Result<()> {
        if whole.dtype != part.dtype {
            return Err(Error::Type(
                "output tensor must have the same type as input tensor".into(),
            ));
        }
        if part.count.checked_mul(self.size as usize) != Some(whole.count) {
            return Err(Error::Value(words.into()));
        }
        Ok(())
    }
}

impl Drop for Communicator {
    fn drop(&mut self) {
        // Abort never waits for peers (destroy may, at interpreter exit).
        let _ = self.close(true);
    }
}

/// The file NCCL was loaded from, once loaded.
pub fn library_path() -> Option<PathBuf> {
    nccl().ok().map(|n| n.path.clone())
}
