//! What the CUDA backend needs from the hardware, as one trait: the driver and cuBLAS on a real
//! card (`driver.rs`), or the CPU emulator in tests (`emulator/`, feature `cuda-emulator`).
//! `device.rs` holds one implementation per device and never calls the driver itself.

use std::ffi::c_void;

use super::compile::Source;
use crate::base::DType;
use crate::error::Result;

/// What the backend needs to know about a device.
pub struct DeviceInfo {
    pub name: String,
    pub sm_count: u32,
}

/// One matrix operand of a strided-batched GEMM (column-major, as cuBLAS sees it).
pub struct GemmOperand {
    pub ptr: u64,
    pub transposed: bool,
    pub ld: i32,
    pub batch_stride: i64,
}

/// `C = alpha * op(A) op(B) + beta * C` for each of `batch` column-major matrices: `C` is
/// `m x n` (leading dimension `m`, batch stride `m * n`), `op(A)` is `m x k`, `op(B)` is
/// `k x n`; with `beta == 0` C is not read (as cuBLAS).
pub struct Gemm {
    pub dtype: DType,
    pub m: i32,
    pub n: i32,
    pub k: i32,
    pub batch: i32,
    pub a: GemmOperand,
    pub b: GemmOperand,
    pub c: u64,
    pub alpha: f64,
    pub beta: f64,
}

/// One device's context: its stream, its compiled kernels, its BLAS handle.
pub trait Hardware: Sized + Send + Sync {
    /// How many devices can be used, or why none can.
    fn device_count() -> std::result::Result<usize, String>;
    /// The context of device `ordinal`, and what the backend needs to know about it.
    fn new(ordinal: usize) -> Result<(Self, DeviceInfo)>;
    /// Makes this device's context current on the calling thread.
    fn bind(&self) -> Result<()>;
    /// Waits for all queued work.
    fn synchronize(&self) -> Result<()>;
    /// The driver's handle of this device's stream (`CUstream`) for libraries that queue work
    /// on it (NCCL); null where there is no driver (the emulator).
    fn stream_handle(&self) -> *mut c_void;
    /// `size` bytes of device memory, or `None` when the device is out of memory.
    fn malloc(&self, size: usize) -> Result<Option<u64>>;
    /// # Safety
    /// `ptr` came from [`Hardware::malloc`] and is not used again.
    unsafe fn free(&self, ptr: u64) -> Result<()>;
    /// Copies pageable host bytes to device memory (the driver stages them; it may wait for
    /// the stream). The fallback when page-locked memory cannot be had.
    fn upload(&self, dst: u64, bytes: &[u8]) -> Result<()>;
    /// An event: marks a point in the stream that the host can wait for.
    type Event: Send;
    /// `size` bytes of page-locked host memory (the source of asynchronous uploads).
    fn host_alloc(&self, size: usize) -> Result<*mut u8>;
    /// # Safety
    /// `ptr` came from [`Hardware::host_alloc`] with `size`, and no queued copy reads it.
    unsafe fn host_free(&self, ptr: *mut u8, size: usize) -> Result<()>;
    fn event_new(&self) -> Result<Self::Event>;
    /// Marks the current end of the stream.
    fn event_record(&self, event: &Self::Event) -> Result<()>;
    /// Waits (on the host) until the work queued before the event's last record has run.
    fn event_wait(&self, event: &Self::Event) -> Result<()>;
    /// Queues a copy of `len` bytes from page-locked `src` to `dst` and returns at once.
    ///
    /// # Safety
    /// `src` is page-locked memory from [`Hardware::host_alloc`] that stays unchanged until
    /// the copy has run (an event recorded after it has completed); `dst` addresses at least
    /// `len` bytes of a live block.
    unsafe fn upload_async(&self, dst: u64, src: *const u8, len: usize) -> Result<()>;
    /// Copies `dst.len()` bytes from `src` (waits for the queued work first).
    fn download(&self, dst: &mut [u8], src: u64) -> Result<()>;
    fn zero(&self, dst: u64, len: usize) -> Result<()>;
    /// Launches kernel `name` of `source` with `grid` blocks of `block` threads; `params` point
    /// at the kernel's arguments, in order, with the kernel's C types.
    fn launch(
        &self,
        source: Source,
        name: &str,
        grid: u32,
        block: u32,
        params: &mut [*mut c_void],
    ) -> Result<()>;
    /// Queues a strided-batched GEMM.
    ///
    /// # Safety
    /// The pointers must address live device buffers of the sizes the dims, leading
    /// dimensions and batch strides describe.
    unsafe fn gemm(&self, g: &Gemm) -> Result<()>;
}
