//! A CPU stand-in for the CUDA driver (feature `cuda-emulator`, tests only): "device" memory
//! is host memory, kernels are the same `.cu` sources compiled as C++ (`emulator.cpp`, with
//! `shim.h`), and cuBLAS is a plain column-major GEMM. A launch runs one thread per block, or
//! with `RUSTGRAD_EMULATOR_THREADS=N` up to N real threads per block (barriers, shuffles and
//! atomics emulated), so block-wide reductions run too. It exercises everything the backend
//! does on the host (layouts, launches, argument order, allocator, cuBLAS operands) and the
//! kernels' arithmetic on machines without a GPU; it says nothing about GPU speed, memory
//! ordering or the driver's own behaviour.
//!
//! Copies from page-locked memory are asynchronous, as on a GPU: they wait in a queue (the
//! stream) and run at the next launch, GEMM, zeroing, download, event wait or free. A host
//! buffer reused before its copy ran is therefore caught: the copy reads the new bytes.

use std::collections::HashMap;
use std::ffi::{c_void, CString};

use parking_lot::Mutex;

use super::compile::Source;
use super::hardware::{DeviceInfo, Gemm, Hardware};
use crate::base::DType;
use crate::error::{Error, Result};

extern "C" {
    fn rustgrad_emulator_launch(
        name: *const std::ffi::c_char,
        params: *mut *mut c_void,
        grid: u32,
        block: u32,
    ) -> i32;
}

/// Sizes of live emulated allocations, by address (to free them with their layout).
static BLOCKS: Mutex<Option<HashMap<u64, usize>>> = Mutex::new(None);

const ALIGN: usize = 256;

/// Queued copies from page-locked memory: (destination, source, length).
static PENDING: Mutex<Vec<(u64, usize, usize)>> = Mutex::new(Vec::new());

/// Copies from page-locked memory queued so far (a test reads it to see the staging path).
pub static STAGED_COPIES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Runs the queued copies, in order (the point where a GPU's stream would reach them).
fn drain() {
    for (dst, src, len) in PENDING.lock().drain(..) {
        // SAFETY: `upload_async`'s contract keeps both ends alive and unchanged until here.
        unsafe { std::ptr::copy_nonoverlapping(src as *const u8, dst as *mut u8, len) };
    }
}

pub struct Context;

/// An emulated event: nothing to record, since waiting runs every queued copy.
pub struct Event;

impl Hardware for Context {
    fn device_count() -> std::result::Result<usize, String> {
        Ok(1)
    }

    fn new(_ordinal: usize) -> Result<(Context, DeviceInfo)> {
        let info = DeviceInfo {
            name: "rustgrad CUDA emulator (CPU)".into(),
            sm_count: 4,
        };
        Ok((Context, info))
    }

    fn bind(&self) -> Result<()> {
        Ok(())
    }

    fn stream_handle(&self) -> *mut c_void {
        std::ptr::null_mut()
    }

    fn synchronize(&self) -> Result<()> {
        drain();
        Ok(())
    }

    fn malloc(&self, size: usize) -> Result<Option<u64>> {
        let Ok(layout) = std::alloc::Layout::from_size_align(size, ALIGN) else {
            return Ok(None); // too large for this machine: out of memory
        };
        // Emulated device memory is host memory: refuse what the host cannot hold (the host
        // rule), rather than overcommit and fill it page by page below.
        if size as u128 > crate::base::buffer::host_alloc_limit() {
            return Ok(None);
        }
        // SAFETY: `size` is nonzero (the allocator never asks for empty blocks).
        let p = unsafe { std::alloc::alloc(layout) };
        if p.is_null() {
            return Ok(None);
        }
        // Fresh device memory holds garbage; make it recognisable garbage (NaN-ish bytes).
        // SAFETY: `p` addresses `size` writable bytes.
        unsafe { std::ptr::write_bytes(p, 0xFF, size) };
        BLOCKS
            .lock()
            .get_or_insert_with(HashMap::new)
            .insert(p as u64, size);
        Ok(Some(p as u64))
    }

    /// # Safety
    /// `ptr` came from [`Context::malloc`] and is not used again.
    unsafe fn free(&self, ptr: u64) -> Result<()> {
        drain();
        let size = BLOCKS
            .lock()
            .get_or_insert_with(HashMap::new)
            .remove(&ptr)
            .expect("freeing an emulated block that was not allocated");
        let layout = std::alloc::Layout::from_size_align(size, ALIGN).expect("valid layout");
        std::alloc::dealloc(ptr as *mut u8, layout);
        Ok(())
    }

    fn upload(&self, dst: u64, bytes: &[u8]) -> Result<()> {
        drain();
        // SAFETY: `dst` addresses at least `bytes.len()` bytes of a live block.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst as *mut u8, bytes.len()) };
        Ok(())
    }

    type Event = Event;

    fn host_alloc(&self, size: usize) -> Result<*mut u8> {
        let layout = std::alloc::Layout::from_size_align(size, ALIGN)
            .map_err(|_| Error::Runtime("CUDA error: out of memory".into()))?;
        // SAFETY: `size` is nonzero (callers ask for at least one byte).
        let p = unsafe { std::alloc::alloc(layout) };
        if p.is_null() {
            return Err(Error::Runtime("CUDA error: out of memory".into()));
        }
        Ok(p)
    }

    unsafe fn host_free(&self, ptr: *mut u8, size: usize) -> Result<()> {
        drain();
        let layout = std::alloc::Layout::from_size_align(size, ALIGN).expect("valid layout");
        std::alloc::dealloc(ptr, layout);
        Ok(())
    }

    fn event_new(&self) -> Result<Event> {
        Ok(Event)
    }

    fn event_record(&self, _event: &Event) -> Result<()> {
        Ok(())
    }

    fn event_wait(&self, _event: &Event) -> Result<()> {
        drain();
        Ok(())
    }

    unsafe fn upload_async(&self, dst: u64, src: *const u8, len: usize) -> Result<()> {
        STAGED_COPIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        PENDING.lock().push((dst, src as usize, len));
        Ok(())
    }

    fn download(&self, dst: &mut [u8], src: u64) -> Result<()> {
        drain();
        // SAFETY: `src` addresses at least `dst.len()` bytes of a live block.
        unsafe { std::ptr::copy_nonoverlapping(src as *const u8, dst.as_mut_ptr(), dst.len()) };
        Ok(())
    }

    fn zero(&self, dst: u64, len: usize) -> Result<()> {
        drain();
        // SAFETY: `dst` addresses `len` bytes of a live block.
        unsafe { std::ptr::write_bytes(dst as *mut u8, 0, len) };
        Ok(())
    }

    fn launch(
        &self,
        source: Source,
        name: &str,
        grid: u32,
        block: u32,
        params: &mut [*mut c_void],
    ) -> Result<()> {
        if grid == 0 || block == 0 {
            return Err(Error::Runtime(format!(
                "CUDA error: invalid configuration argument ({name}: {grid} x {block})"
            )));
        }
        drain();
        let c_name = CString::new(name).expect("kernel names hold no NUL");
        // SAFETY: as for cuLaunchKernel: `params` point at arguments of the kernel's types.
        let rc =
            unsafe { rustgrad_emulator_launch(c_name.as_ptr(), params.as_mut_ptr(), grid, block) };
        if rc != 0 {
            return Err(Error::Runtime(format!(
                "CUDA kernel {name} is missing from {}",
                source.file_name()
            )));
        }
        Ok(())
    }

    /// cuBLAS's strided-batched GEMM, column-major, computed plainly.
    ///
    /// # Safety
    /// As for the driver's `gemm`.
    unsafe fn gemm(&self, g: &Gemm) -> Result<()> {
        drain();
        match g.dtype {
            DType::F64 => gemm_typed::<f64>(g, g.alpha, g.beta),
            _ => gemm_typed::<f32>(g, g.alpha as f32, g.beta as f32),
        }
        Ok(())
    }
}

unsafe fn gemm_typed<T>(g: &Gemm, alpha: T, beta: T)
where
    T: Copy + Default + PartialEq + std::ops::Add<Output = T> + std::ops::Mul<Output = T>,
{
    let (m, n, k) = (g.m as isize, g.n as isize, g.k as isize);
    let (lda, ldb) = (g.a.ld as isize, g.b.ld as isize);
    for b in 0..g.batch as isize {
        let a = (g.a.ptr as *const T).offset(b * g.a.batch_stride as isize);
        let bm = (g.b.ptr as *const T).offset(b * g.b.batch_stride as isize);
        let c = (g.c as *mut T).offset(b * m * n);
        for j in 0..n {
            for i in 0..m {
                let mut acc = T::default();
                for p in 0..k {
                    let av = if g.a.transposed {
                        *a.offset(p + i * lda)
                    } else {
                        *a.offset(i + p * lda)
                    };
                    let bv = if g.b.transposed {
                        *bm.offset(j + p * ldb)
                    } else {
                        *bm.offset(p + j * ldb)
                    };
                    acc = acc + av * bv;
                }
                let out = c.offset(i + j * m);
                // cuBLAS does not read C when beta is 0 (NaN there is ignored).
                *out = if beta == T::default() {
                    alpha * acc
                } else {
                    alpha * acc + beta * *out
                };
            }
        }
    }
}
