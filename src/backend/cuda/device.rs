//! One CUDA device as the backend sees it: its driver context (stream, kernels, cuBLAS), its
//! caching allocator and its random generator; and the registry of the process's devices.

use std::collections::HashMap;
use std::ffi::c_void;
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

pub struct CudaDevice {
    pub ordinal: usize,
    hw: Hw,
    pub name: String,
    sm_count: u32,
    allocator: Mutex<Allocator>,
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
            rng: Mutex::new((SEED.lock().unwrap_or(DEFAULT_SEED), 0)),
        })
    }

    /// Waits for all queued work on this device.
    pub fn synchronize(&self) -> Result<()> {
        self.hw.synchronize()
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
        self.hw.launch(source, name, grid, block, params)
    }

    /// Queues a strided-batched matrix product (cuBLAS).
    ///
    /// # Safety
    /// The pointers must address live buffers of the sizes the dims and strides describe.
    pub unsafe fn gemm(&self, g: &Gemm) -> Result<()> {
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
        if size == 0 {
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
        if bytes.len() > SMALL_UPLOAD {
            return self.hw.upload(dst, bytes);
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

    /// Copies device memory to the host, waiting for queued work first.
    pub fn download(&self, dst: &mut [u8], src: u64) -> Result<()> {
        if dst.is_empty() {
            return Ok(());
        }
        self.hw.download(dst, src)
    }

    /// Sets every byte of `[dst, dst + len)` to zero (queued).
    pub fn zero(&self, dst: u64, len: usize) -> Result<()> {
        if len == 0 {
            return Ok(());
        }
        self.hw.zero(dst, len)
    }

    // ----- random numbers -----------------------------------------------------------------

    pub fn manual_seed(&self, seed: u64) {
        *self.rng.lock() = (seed, 0);
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

static REGISTRY: OnceLock<std::result::Result<Registry, String>> = OnceLock::new();

/// The devices of this process, found on first use (which loads the driver).
fn registry() -> &'static std::result::Result<Registry, String> {
    REGISTRY.get_or_init(|| {
        let count = Hw::device_count()?;
        Ok(Registry {
            slots: (0..count).map(|_| Mutex::new(None)).collect(),
        })
    })
}

/// Why CUDA cannot be used here, or `None` when at least one device can.
pub fn unavailable_reason() -> Option<String> {
    registry().as_ref().err().cloned()
}

pub fn device_count() -> usize {
    registry().as_ref().map(|r| r.slots.len()).unwrap_or(0)
}

/// The device `ordinal`, set up on first use.
pub fn device(ordinal: usize) -> Result<Arc<CudaDevice>> {
    let reg = registry()
        .as_ref()
        .map_err(|why| Error::Runtime(why.clone()))?;
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
pub fn initialized_devices() -> Vec<Arc<CudaDevice>> {
    match REGISTRY.get() {
        Some(Ok(reg)) => reg.slots.iter().filter_map(|s| s.lock().clone()).collect(),
        _ => Vec::new(),
    }
}
