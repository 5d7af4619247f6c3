//! One CUDA device as the backend sees it: its driver context (stream, kernels, cuBLAS), its
//! caching allocator and its random generator; and the registry of the process's devices.

use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use super::compile::Source;
pub use super::hardware::Gemm;
use super::hardware::Hardware;
use crate::error::{Error, Result};

/// The hardware layer: the driver, or the CPU emulator in test builds.
#[cfg(not(feature = "cuda-emulator"))]
type Hw = super::driver::Context;
#[cfg(feature = "cuda-emulator")]
type Hw = super::emulator::Context;

/// Uploads up to this many bytes go as a kernel argument (`SMALL_UPLOAD_BYTES` in
/// `elementwise.cu`).
pub const SMALL_UPLOAD: usize = 256;

/// The staging ring for larger uploads: this many page-locked slots of `STAGING_SLOT` bytes,
/// each with an event recorded after the copy that reads it. A copy from pageable memory is
/// staged by the driver and may wait for the whole stream; from a slot it is queued and
/// returns, and only a slot's own previous copy is waited for before the slot is refilled.
pub const STAGING_SLOTS: usize = 4;
pub const STAGING_SLOT: usize = 1 << 20;

struct Staging<E> {
    /// `STAGING_SLOTS * STAGING_SLOT` page-locked bytes (an address: raw pointers are not Send).
    base: usize,
    events: Vec<E>,
    next: usize,
}

/// Block sizes: elementwise kernels use grid-stride loops over at most this many blocks per SM.
pub const BLOCK: u32 = 256;
const BLOCKS_PER_SM: u32 = 16;

/// The caching allocator's books: freed blocks are kept by size and handed out again, so a
/// training loop that repeats its shapes stops calling `cuMemAlloc` after the first step.
#[derive(Default)]
struct Allocator {
    free: HashMap<usize, Vec<u64>>,
    allocated: usize,
    peak: usize,
    reserved: usize,
}

/// Sizes are rounded so that nearby requests share blocks: 512 bytes below 1 MiB, 128 KiB above
/// (`None` when the rounded size does not fit a `usize`).
pub fn round_size(bytes: usize) -> Option<usize> {
    let unit = if bytes < (1 << 20) { 512 } else { 128 << 10 };
    bytes.div_ceil(unit).checked_mul(unit)
}

/// PyTorch's words for a device allocation that cannot be made (a RuntimeError, as PyTorch's
/// `OutOfMemoryError` is one).
pub fn out_of_memory(bytes: u128, ordinal: usize, allocated: usize) -> Error {
    Error::Runtime(format!(
        "CUDA out of memory. Tried to allocate {:.2} MiB on device {ordinal} ({allocated} bytes \
         already allocated by rustgrad)",
        bytes as f64 / (1u64 << 20) as f64
    ))
}

/// The seed PyTorch's CUDA generators start from.
const DEFAULT_SEED: u64 = 67_280_421_310_721;

/// The last `manual_seed`, for devices set up after it.
static SEED: Mutex<Option<u64>> = Mutex::new(None);

/// Seeds every device's generator, now and for devices set up later.
pub fn manual_seed_all(seed: u64) {
    *SEED.lock() = Some(seed);
    for d in initialized_devices() {
        d.manual_seed(seed);
    }
}

/// Page-locked host memory of a device's context (the owner of a pinned tensor's storage).
pub struct PinnedHost {
    device: Arc<CudaDevice>,
    /// The address (raw pointers are not Send).
    ptr: usize,
    size: usize,
}

impl PinnedHost {
    pub fn as_mut_ptr(&self) -> *mut u8 {
        self.ptr as *mut u8
    }
}

impl Drop for PinnedHost {
    fn drop(&mut self) {
        // SAFETY: allocated by `host_alloc` of this context with this size; copies from it
        // are synchronous (`upload_pinned`), so none is queued.
        let _ = unsafe { self.device.hw.host_free(self.ptr as *mut u8, self.size) };
    }
}

pub struct CudaDevice {
    pub ordinal: usize,
    hw: Hw,
    pub name: String,
    sm_count: u32,
    allocator: Mutex<Allocator>,
    /// Set up on the first large upload; `Err` once page-locked memory could not be had (the
    /// driver's pageable copy is used from then on).
    staging: Mutex<Option<std::result::Result<Staging<<Hw as Hardware>::Event>, ()>>>,
    /// (seed, offset): draws are counter-based, so the offset is all the state there is.
    rng: Mutex<(u64, u64)>,
}

impl CudaDevice {
    fn new(ordinal: usize) -> Result<CudaDevice> {
        let (hw, info) = Hw::new(ordinal)?;
        Ok(CudaDevice {
            ordinal,
            hw,
            name: info.name,
            sm_count: info.sm_count,
            allocator: Mutex::new(Allocator::default()),
            staging: Mutex::new(None),
            rng: Mutex::new((SEED.lock().unwrap_or(DEFAULT_SEED), 0)),
        })
    }

    /// Waits for all queued work on this device.
    pub fn synchronize(&self) -> Result<()> {
        check_not_forked()?;
        self.hw.synchronize()
    }

    /// Makes this device's context current on the calling thread.
    pub fn bind(&self) -> Result<()> {
        check_not_forked()?;
        self.hw.bind()
    }

    /// The driver's handle of this device's stream (null on the emulator).
    pub fn stream_handle(&self) -> *mut c_void {
        self.hw.stream_handle()
    }

    /// Blocks for a grid-stride loop over `n` elements.
    pub fn grid_for(&self, n: usize) -> u32 {
        let wanted = n.div_ceil(BLOCK as usize).max(1);
        wanted.min((self.sm_count * BLOCKS_PER_SM) as usize) as u32
    }

    /// Launches `name` on this device's stream with `grid` blocks of `block` threads.
    /// `params` point at the kernel's arguments, in order, with the kernel's C types.
    pub fn launch(
        &self,
        source: Source,
        name: &str,
        grid: u32,
        block: u32,
        params: &mut [*mut c_void],
    ) -> Result<()> {
        check_not_forked()?;
        self.hw.launch(source, name, grid, block, params)
    }

    /// Queues a strided-batched matrix product (cuBLAS).
    ///
    /// # Safety
    /// The pointers must address live buffers of the sizes the dims and strides describe.
    pub unsafe fn gemm(&self, g: &Gemm) -> Result<()> {
        check_not_forked()?;
        self.hw.gemm(g)
    }

    // ----- memory -------------------------------------------------------------------------

    /// A block of at least `bytes` (rounded; 0 for an empty request), from the cache when one
    /// of that size was freed, else from the driver (emptying the cache once if it is full).
    pub fn alloc(&self, bytes: usize) -> Result<(u64, usize)> {
        let size = round_size(bytes)
            .ok_or_else(|| out_of_memory(bytes as u128, self.ordinal, self.memory_allocated()))?;
        if size == 0 {
            return Ok((0, 0));
        }
        check_not_forked()?;
        let mut books = self.allocator.lock();
        let cached = books.free.get_mut(&size).and_then(|v| v.pop());
        let ptr = match cached {
            Some(p) => p,
            None => {
                let fresh = match self.hw.malloc(size)? {
                    Some(p) => p,
                    None => {
                        self.release_cached(&mut books)?;
                        self.hw.malloc(size)?.ok_or_else(|| {
                            out_of_memory(size as u128, self.ordinal, books.allocated)
                        })?
                    }
                };
                books.reserved += size;
                fresh
            }
        };
        books.allocated += size;
        books.peak = books.peak.max(books.allocated);
        Ok((ptr, size))
    }

    /// Returns a block to the cache. Work queued on the stream that still reads it runs
    /// before any later use, because every use is on the same stream.
    pub fn free(&self, ptr: u64, size: usize) {
        // In a forked child the block is the parent's: forget it, never take the lock.
        if size == 0 || FORKED_CHILD.load(Ordering::Relaxed) {
            return;
        }
        let mut books = self.allocator.lock();
        books.allocated -= size;
        books.free.entry(size).or_default().push(ptr);
    }

    fn release_cached(&self, books: &mut Allocator) -> Result<()> {
        self.synchronize()?;
        // Free every block even if one fails, and report the first failure.
        let mut first_error = None;
        for (size, ptrs) in books.free.drain() {
            for p in ptrs {
                // SAFETY: cached blocks are unused and the stream is idle.
                match unsafe { self.hw.free(p) } {
                    Ok(()) => books.reserved -= size,
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Frees every cached (unused) block back to the driver.
    pub fn empty_cache(&self) -> Result<()> {
        check_not_forked()?;
        let mut books = self.allocator.lock();
        self.release_cached(&mut books)
    }

    pub fn memory_allocated(&self) -> usize {
        self.allocator.lock().allocated
    }
    pub fn max_memory_allocated(&self) -> usize {
        self.allocator.lock().peak
    }
    pub fn memory_reserved(&self) -> usize {
        self.allocator.lock().reserved
    }
    pub fn reset_peak_memory_stats(&self) {
        let mut books = self.allocator.lock();
        books.peak = books.allocated;
    }

    /// Copies host bytes to device memory (queued; the source may be dropped on return).
    /// Small copies (scalars, short index lists) travel as a kernel argument: a copy from
    /// pageable memory is staged through pinned memory by the driver, which may wait for the
    /// stream, and costs more than a launch.
    pub fn upload(&self, dst: u64, bytes: &[u8]) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        check_not_forked()?;
        if bytes.len() > SMALL_UPLOAD {
            return self.upload_staged(dst, bytes);
        }
        let mut data = [0u8; SMALL_UPLOAD];
        data[..bytes.len()].copy_from_slice(bytes);
        let len = bytes.len() as i32;
        let mut params = [
            &dst as *const u64 as *mut c_void,
            &data as *const [u8; SMALL_UPLOAD] as *mut c_void,
            &len as *const i32 as *mut c_void,
        ];
        self.launch(Source::Elementwise, "write_bytes", 1, BLOCK, &mut params)
    }

    /// `size` bytes (at least one) of page-locked host memory, given back to the driver when
    /// the block drops (`Tensor.pin_memory()`).
    pub fn pinned(self: &Arc<Self>, size: usize) -> Result<PinnedHost> {
        check_not_forked()?;
        let size = size.max(1);
        let ptr = self.hw.host_alloc(size)?;
        Ok(PinnedHost {
            device: Arc::clone(self),
            ptr: ptr as usize,
            size,
        })
    }

    /// Copies page-locked host bytes (a pinned tensor's) to device memory: the driver reads
    /// them in place, with no staging copy; returns once the copy is done.
    pub fn upload_pinned(&self, dst: u64, bytes: &[u8]) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        check_not_forked()?;
        self.hw.upload(dst, bytes)?;
        self.hw.synchronize()
    }

    /// Copies `bytes` through the staging ring, one slot-sized chunk at a time.
    fn upload_staged(&self, dst: u64, bytes: &[u8]) -> Result<()> {
        let mut staging = self.staging.lock();
        if staging.is_none() {
            *staging = Some(self.new_staging());
        }
        let Some(Ok(ring)) = staging.as_mut() else {
            return self.hw.upload(dst, bytes);
        };
        for (i, chunk) in bytes.chunks(STAGING_SLOT).enumerate() {
            let slot = ring.next;
            ring.next = (slot + 1) % STAGING_SLOTS;
            let event = &ring.events[slot];
            // The slot's previous copy must have run before its bytes are replaced.
            self.hw.event_wait(event)?;
            let host = (ring.base + slot * STAGING_SLOT) as *mut u8;
            // SAFETY: the slot holds `STAGING_SLOT` bytes and no queued copy reads it (waited
            // above); `dst + i * STAGING_SLOT` addresses `chunk.len()` bytes of the block.
            unsafe {
                std::ptr::copy_nonoverlapping(chunk.as_ptr(), host, chunk.len());
                self.hw
                    .upload_async(dst + (i * STAGING_SLOT) as u64, host, chunk.len())?;
            }
            self.hw.event_record(event)?;
        }
        Ok(())
    }

    /// The ring's page-locked memory and events, or `Err` when they cannot be had.
    fn new_staging(&self) -> std::result::Result<Staging<<Hw as Hardware>::Event>, ()> {
        let size = STAGING_SLOTS * STAGING_SLOT;
        let base = self.hw.host_alloc(size).map_err(drop)?;
        let events: Result<Vec<_>> = (0..STAGING_SLOTS).map(|_| self.hw.event_new()).collect();
        match events {
            Ok(events) => Ok(Staging {
                base: base as usize,
                events,
                next: 0,
            }),
            Err(_) => {
                // SAFETY: just allocated; nothing was queued from it.
                let _ = unsafe { self.hw.host_free(base, size) };
                Err(())
            }
        }
    }

    /// Copies device memory to the host, waiting for queued work first.
    pub fn download(&self, dst: &mut [u8], src: u64) -> Result<()> {
        if dst.is_empty() {
            return Ok(());
        }
        check_not_forked()?;
        self.hw.download(dst, src)
    }

    /// Sets every byte of `[dst, dst + len)` to zero (queued).
    pub fn zero(&self, dst: u64, len: usize) -> Result<()> {
        if len == 0 {
            return Ok(());
        }
        check_not_forked()?;
        self.hw.zero(dst, len)
    }

    // ----- random numbers -----------------------------------------------------------------

    pub fn manual_seed(&self, seed: u64) {
        *self.rng.lock() = (seed, 0);
    }

    /// The generator's state: (seed, offset of the next draw).
    pub fn rng_state(&self) -> (u64, u64) {
        *self.rng.lock()
    }

    /// Puts back a state from [`CudaDevice::rng_state`]: the draws after it repeat.
    pub fn set_rng_state(&self, seed: u64, offset: u64) {
        *self.rng.lock() = (seed, offset);
    }

    /// The seed and the first counter of a draw of `counters` values.
    pub fn next_counters(&self, counters: u64) -> (u64, u64) {
        let mut rng = self.rng.lock();
        let at = rng.1;
        rng.1 = rng.1.wrapping_add(counters);
        (rng.0, at)
    }
}

// ----- the devices of this process ---------------------------------------------------------

struct Registry {
    slots: Vec<Mutex<Option<Arc<CudaDevice>>>>,
}

/// Set once a device count was found; a failed attempt is not kept, so a later call (after a
/// transient driver error, or a library installed since) tries again.
static REGISTRY: OnceLock<Registry> = OnceLock::new();
static REGISTRY_INIT: Mutex<()> = Mutex::new(());

/// Set in the child of a `fork` after CUDA was set up: the child shares none of the parent's
/// driver state, and the parent's locks (the allocator's) may have been held by a thread that
/// does not exist in the child.
static FORKED_CHILD: AtomicBool = AtomicBool::new(false);

extern "C" fn after_fork_in_child() {
    FORKED_CHILD.store(true, Ordering::Relaxed);
}

/// PyTorch's words for CUDA used in a child forked after CUDA was set up.
pub fn forked_error() -> Error {
    Error::Runtime(
        "Cannot re-initialize CUDA in forked subprocess. To use CUDA with multiprocessing, you \
         must use the 'spawn' start method"
            .into(),
    )
}

/// Fails in a child forked after CUDA was set up.
#[inline]
pub fn check_not_forked() -> Result<()> {
    if FORKED_CHILD.load(Ordering::Relaxed) {
        return Err(forked_error());
    }
    Ok(())
}

/// The devices of this process, found on first use (which loads the driver).
fn registry() -> std::result::Result<&'static Registry, String> {
    if let Some(r) = REGISTRY.get() {
        return Ok(r);
    }
    let _init = REGISTRY_INIT.lock();
    if let Some(r) = REGISTRY.get() {
        return Ok(r);
    }
    if FORKED_CHILD.load(Ordering::Relaxed) {
        return Err(forked_error().to_string());
    }
    let count = Hw::device_count()?;
    // SAFETY: registers a handler that only stores to an atomic (async-signal-safe).
    unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
    Ok(REGISTRY.get_or_init(|| Registry {
        slots: (0..count).map(|_| Mutex::new(None)).collect(),
    }))
}

/// Why CUDA cannot be used here, or `None` when at least one device can. (In a forked child,
/// as `torch.cuda.is_available()`, still `None`: using a device raises instead.)
pub fn unavailable_reason() -> Option<String> {
    registry().err()
}

pub fn device_count() -> usize {
    registry().map(|r| r.slots.len()).unwrap_or(0)
}

/// The device `ordinal`, set up on first use.
pub fn device(ordinal: usize) -> Result<Arc<CudaDevice>> {
    let reg = registry().map_err(Error::Runtime)?;
    check_not_forked()?;
    let Some(slot) = reg.slots.get(ordinal) else {
        return Err(Error::Runtime(format!(
            "CUDA error: invalid device ordinal (device {ordinal} requested, {} available)",
            reg.slots.len()
        )));
    };
    let mut slot = slot.lock();
    if let Some(d) = slot.as_ref() {
        return Ok(d.clone());
    }
    let d = Arc::new(CudaDevice::new(ordinal)?);
    *slot = Some(d.clone());
    Ok(d)
}

/// The devices set up so far (for process-wide calls like `empty_cache` and `manual_seed`);
/// never loads the driver, so CPU-only programs that seed or empty the cache stay CPU-only.
/// None in a forked child (their locks belong to the parent).
pub fn initialized_devices() -> Vec<Arc<CudaDevice>> {
    match REGISTRY.get() {
        Some(reg) if !FORKED_CHILD.load(Ordering::Relaxed) => {
            reg.slots.iter().filter_map(|s| s.lock().clone()).collect()
        }
        _ => Vec::new(),
    }
}
