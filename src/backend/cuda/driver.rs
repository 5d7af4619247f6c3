//! The CUDA driver as the backend uses it: one context and one stream per device, kernel
//! modules compiled for it, a cuBLAS handle. `emulator/` offers the same surface on the CPU
//! for tests (feature `cuda-emulator`).

use std::collections::HashMap;
use std::ffi::{c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use cudarc::cublas::sys as cublas_sys;
use cudarc::driver::{result as cu, sys as cu_sys, CudaContext};
use parking_lot::Mutex;

use super::compile::{cached_cubin, compile_cubin, embedded_cubin, forget_cached, Source};
use super::hardware::{DeviceInfo, Gemm, Hardware};
use super::libs;
use crate::base::DType;
use crate::error::{Error, Result};

/// A raw CUDA handle; the driver's handles may be used from any thread.
#[derive(Clone, Copy)]
struct Raw<T>(T);
// SAFETY: CUDA handles are opaque pointers that the driver lets any thread use.
unsafe impl<T> Send for Raw<T> {}
unsafe impl<T> Sync for Raw<T> {}

/// A driver error as a Python-facing RuntimeError, in PyTorch's "CUDA error: ..." words.
pub fn driver_error(e: cu::DriverError) -> Error {
    let text = e
        .error_string()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|_| format!("{:?}", e.0));
    Error::Runtime(format!("CUDA error: {text}"))
}

/// Runs `f`, turning a panic inside cudarc (a missing symbol in an old driver) into an error.
pub fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let msg = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(Error::Runtime(format!("CUDA {what} failed: {msg}")))
    })
}

/// A driver event (destroyed with the context's other handles: never, as devices live for the
/// life of the process).
pub struct Event(Raw<cu_sys::CUevent>);

/// The oldest architecture NVRTC 13 compiles for (Turing).
const MIN_ARCH: i32 = 75;

pub struct Context {
    ctx: Arc<CudaContext>,
    stream: Raw<cu_sys::CUstream>,
    /// The architecture kernels are compiled for, e.g. `sm_90`.
    arch: String,
    /// The driver's CUDA API version (13000 for 13.0): part of the kernel cache's key.
    driver: i32,
    modules: Mutex<HashMap<Source, Raw<cu_sys::CUmodule>>>,
    functions: Mutex<HashMap<String, Raw<cu_sys::CUfunction>>>,
    blas: Mutex<Option<Raw<cublas_sys::cublasHandle_t>>>,
}

impl Context {
    fn stream(&self) -> cu_sys::CUstream {
        self.stream.0
    }

    /// The kernel `name` from `source`, compiling the source for this device on first use.
    fn function(&self, source: Source, name: &str) -> Result<cu_sys::CUfunction> {
        if let Some(f) = self.functions.lock().get(name) {
            return Ok(f.0);
        }
        let module = {
            let mut modules = self.modules.lock();
            match modules.get(&source) {
                Some(m) => m.0,
                None => {
                    self.bind()?;
                    let load = |cubin: &[u8]| {
                        // SAFETY: `cubin` is a complete CUBIN image produced by NVRTC.
                        unsafe { cu::module::load_data(cubin.as_ptr() as *const c_void) }
                            .map_err(driver_error)
                    };
                    // The image built into the wheel, when it loads; else NVRTC's.
                    let shipped =
                        embedded_cubin(source, &self.arch).and_then(|(_, i)| load(i).ok());
                    let m = match shipped {
                        Some(m) => Ok(m),
                        None => load(&cached_cubin(source, &self.arch, self.driver)?),
                    };
                    let m = match m {
                        Ok(m) => m,
                        // A cached image the driver refuses (truncated, or from another
                        // toolchain): deleted and compiled again, once.
                        Err(_) => {
                            forget_cached(source, &self.arch, self.driver);
                            load(&compile_cubin(source, &self.arch)?)?
                        }
                    };
                    modules.insert(source, Raw(m));
                    m
                }
            }
        };
        let c_name = CString::new(name).expect("kernel names hold no NUL");
        // SAFETY: the module stays loaded for the life of the process.
        let f = unsafe { cu::module::get_function(module, c_name) }.map_err(|e| {
            Error::Runtime(format!(
                "CUDA kernel {name} is missing from {}: {}",
                source.file_name(),
                driver_error(e)
            ))
        })?;
        self.functions.lock().insert(name.to_string(), Raw(f));
        Ok(f)
    }

    /// This device's cuBLAS handle (created on first use, bound to the device's stream).
    fn blas(&self) -> Result<cublas_sys::cublasHandle_t> {
        let mut slot = self.blas.lock();
        if let Some(h) = *slot {
            return Ok(h.0);
        }
        self.bind()?;
        let api = libs::cublas().map_err(Error::Runtime)?;
        let failed = |what: &str, rc| Error::Runtime(format!("cuBLAS error: {what} ({rc})"));
        let mut h: cublas_sys::cublasHandle_t = std::ptr::null_mut();
        // SAFETY: cuBLAS's C API; `h` is written by `create` before its use.
        match unsafe { (api.create)(&mut h) } {
            0 => {}
            rc => return Err(failed("cublasCreate", rc)),
        }
        // SAFETY: `h` is a fresh handle and the stream lives as long as the context.
        match unsafe { (api.set_stream)(h, self.stream() as cublas_sys::cudaStream_t) } {
            0 => {}
            rc => return Err(failed("cublasSetStream", rc)),
        }
        let handle = h;
        *slot = Some(Raw(handle));
        Ok(handle)
    }
}

impl Hardware for Context {
    /// How many devices can be used, or why none can.
    fn device_count() -> std::result::Result<usize, String> {
        if let Some(why) = libs::driver_missing() {
            return Err(why);
        }
        let count = guarded("driver initialisation", || {
            match cu::init() {
                Ok(()) => {}
                Err(e) if e.0 == cu_sys::cudaError_enum::CUDA_ERROR_NO_DEVICE => return Ok(0),
                // A CUDA toolkit's `lib64/stubs/libcuda.so` links but cannot run anything.
                Err(e) if e.0 == cu_sys::cudaError_enum::CUDA_ERROR_STUB_LIBRARY => {
                    let file = libs::driver_file()
                        .map_or_else(|| "libcuda.so".into(), |p| p.display().to_string());
                    return Err(Error::Runtime(format!(
                        "CUDA driver initialization failed: {file} is the CUDA toolkit's stub \
                         library, not the NVIDIA driver (CUDA_ERROR_STUB_LIBRARY): remove its \
                         folder from LD_LIBRARY_PATH so that the driver's libcuda.so.1 is used"
                    )));
                }
                Err(e) => return Err(driver_error(e)),
            }
            let mut version = 0;
            // SAFETY: writes one int.
            unsafe { cu_sys::cuDriverGetVersion(&mut version) }
                .result()
                .map_err(driver_error)?;
            // The kernels are compiled by NVRTC 13 and linked against cuBLAS 13.
            if version < 13000 {
                return Err(Error::Runtime(format!(
                    "The NVIDIA driver on your system is too old (found version {}.{}): rustgrad's \
                     CUDA backend is built for CUDA 13, which needs driver 580 or newer",
                    version / 1000,
                    version % 1000 / 10
                )));
            }
            cu::device::get_count().map_err(driver_error)
        })
        .map_err(|e| e.to_string())?;
        if let Some(why) = libs::missing_library() {
            return Err(why);
        }
        if count <= 0 {
            return Err("No CUDA GPUs are available".into());
        }
        Ok(count as usize)
    }

    fn new(ordinal: usize) -> Result<(Context, DeviceInfo)> {
        guarded("initialisation", || {
            let ctx = CudaContext::new(ordinal).map_err(driver_error)?;
            let stream =
                cu::stream::create(cu::stream::StreamKind::NonBlocking).map_err(driver_error)?;
            let (major, minor) = ctx.compute_capability().map_err(driver_error)?;
            if major * 10 + minor < MIN_ARCH {
                return Err(Error::Runtime(format!(
                    "CUDA device {ordinal} has compute capability {major}.{minor}; rustgrad's \
                     kernels need {}.{} or newer",
                    MIN_ARCH / 10,
                    MIN_ARCH % 10
                )));
            }
            let sm_count = ctx
                .attribute(cu_sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
                .map_err(driver_error)?;
            let info = DeviceInfo {
                name: ctx.name().map_err(driver_error)?,
                sm_count: sm_count.max(1) as u32,
            };
            let context = Context {
                ctx,
                stream: Raw(stream),
                arch: format!("sm_{major}{minor}"),
                driver: {
                    let mut v = 0;
                    // SAFETY: writes one int (the driver was initialised by `device_count`).
                    unsafe { cu_sys::cuDriverGetVersion(&mut v) }
                        .result()
                        .map_err(driver_error)?;
                    v
                },
                modules: Mutex::new(HashMap::new()),
                functions: Mutex::new(HashMap::new()),
                blas: Mutex::new(None),
            };
            Ok((context, info))
        })
    }

    /// Makes this device's context current on the calling thread.
    fn bind(&self) -> Result<()> {
        self.ctx.bind_to_thread().map_err(driver_error)
    }

    /// Waits for all queued work.
    fn stream_handle(&self) -> *mut c_void {
        self.stream() as *mut c_void
    }

    fn synchronize(&self) -> Result<()> {
        self.bind()?;
        // SAFETY: the stream lives as long as the context.
        unsafe { cu::stream::synchronize(self.stream()) }.map_err(driver_error)
    }

    /// `size` bytes of device memory, or `None` when the device is out of memory.
    fn malloc(&self, size: usize) -> Result<Option<u64>> {
        self.bind()?;
        // SAFETY: a plain allocation on the bound context.
        match unsafe { cu::malloc_sync(size) } {
            Ok(p) => Ok(Some(p)),
            Err(e) if e.0 == cu_sys::cudaError_enum::CUDA_ERROR_OUT_OF_MEMORY => Ok(None),
            Err(e) => Err(driver_error(e)),
        }
    }

    /// # Safety
    /// `ptr` came from [`Context::malloc`], is unused, and the stream is idle.
    unsafe fn free(&self, ptr: u64) -> Result<()> {
        self.bind()?;
        cu::free_sync(ptr).map_err(driver_error)
    }

    /// Copies host bytes to device memory (queued; the driver stages pageable memory before
    /// returning, so the source may be dropped on return).
    fn upload(&self, dst: u64, bytes: &[u8]) -> Result<()> {
        self.bind()?;
        // SAFETY: `dst` addresses at least `bytes.len()` bytes of a live block.
        unsafe { cu::memcpy_htod_async(dst, bytes, self.stream()) }.map_err(driver_error)
    }

    type Event = Event;

    fn host_alloc(&self, size: usize) -> Result<*mut u8> {
        self.bind()?;
        // SAFETY: a plain page-locked allocation on the bound context.
        unsafe { cu::malloc_host(size, 0) }
            .map(|p| p as *mut u8)
            .map_err(driver_error)
    }

    unsafe fn host_free(&self, ptr: *mut u8, _size: usize) -> Result<()> {
        self.bind()?;
        cu::free_host(ptr as *mut c_void).map_err(driver_error)
    }

    fn event_new(&self) -> Result<Event> {
        self.bind()?;
        // Timing off: the cheapest event, for ordering only.
        cu::event::create(cu_sys::CUevent_flags::CU_EVENT_DISABLE_TIMING)
            .map(|e| Event(Raw(e)))
            .map_err(driver_error)
    }

    fn event_record(&self, event: &Event) -> Result<()> {
        self.bind()?;
        // SAFETY: the event and the stream live as long as the context.
        unsafe { cu::event::record(event.0 .0, self.stream()) }.map_err(driver_error)
    }

    fn event_wait(&self, event: &Event) -> Result<()> {
        self.bind()?;
        // SAFETY: as above; a never-recorded event completes at once.
        unsafe { cu::event::synchronize(event.0 .0) }.map_err(driver_error)
    }

    unsafe fn upload_async(&self, dst: u64, src: *const u8, len: usize) -> Result<()> {
        self.bind()?;
        // From page-locked memory the copy is truly asynchronous: the caller keeps `src`
        // unchanged until an event recorded after it has completed.
        let bytes = std::slice::from_raw_parts(src, len);
        cu::memcpy_htod_async(dst, bytes, self.stream()).map_err(driver_error)
    }

    /// Copies device memory to the host after the work queued before it.
    fn download(&self, dst: &mut [u8], src: u64) -> Result<()> {
        self.bind()?;
        // SAFETY: `src` addresses at least `dst.len()` bytes of a live block; the stream is
        // synchronised before `dst` is read.
        unsafe {
            cu::memcpy_dtoh_async(dst, src, self.stream()).map_err(driver_error)?;
            cu::stream::synchronize(self.stream()).map_err(driver_error)
        }
    }

    /// Sets `len` bytes at `dst` to zero (queued).
    fn zero(&self, dst: u64, len: usize) -> Result<()> {
        self.bind()?;
        // SAFETY: `dst` addresses `len` bytes of a live block.
        unsafe { cu::memset_d8_async(dst, 0, len, self.stream()) }.map_err(driver_error)
    }

    /// Launches `name` with `grid` blocks of `block` threads; `params` point at the kernel's
    /// arguments, in order, with the kernel's C types.
    fn launch(
        &self,
        source: Source,
        name: &str,
        grid: u32,
        block: u32,
        params: &mut [*mut c_void],
    ) -> Result<()> {
        let f = self.function(source, name)?;
        self.bind()?;
        // SAFETY: the caller passes arguments matching the kernel's signature; the values
        // are copied by the driver at launch, and device pointers come from live buffers.
        unsafe { cu::launch_kernel(f, (grid, 1, 1), (block, 1, 1), 0, self.stream(), params) }
            .map_err(driver_error)
    }

    /// Queues a strided-batched GEMM through cuBLAS.
    ///
    /// # Safety
    /// The pointers must address live device buffers of the sizes the dims, leading
    /// dimensions and batch strides describe.
    unsafe fn gemm(&self, g: &Gemm) -> Result<()> {
        let handle = self.blas()?;
        self.bind()?;
        let api = libs::cublas().map_err(Error::Runtime)?;
        let rc = match g.dtype {
            DType::F64 => strided_batched(api.dgemm_strided_batched, handle, g, g.alpha, g.beta),
            _ => strided_batched(
                api.sgemm_strided_batched,
                handle,
                g,
                g.alpha as f32,
                g.beta as f32,
            ),
        };
        match rc {
            0 => Ok(()),
            rc => Err(Error::Runtime(format!(
                "CUDA error: cuBLAS gemm failed (cublasStatus {rc})"
            ))),
        }
    }
}

/// One `cublas{S,D}gemmStridedBatched` call for `g` (column-major `C = alpha op(A) op(B) +
/// beta C`); returns cuBLAS's status.
///
/// # Safety
/// As `Context::gemm`'s; `f` is the variant of element type `T`.
unsafe fn strided_batched<T>(
    f: libs::GemmStridedBatched<T>,
    handle: cublas_sys::cublasHandle_t,
    g: &Gemm,
    alpha: T,
    beta: T,
) -> std::os::raw::c_int {
    // cuBLAS's CUBLAS_OP_N and CUBLAS_OP_T.
    let op = |transposed: bool| if transposed { 1 } else { 0 };
    f(
        handle,
        op(g.a.transposed),
        op(g.b.transposed),
        g.m,
        g.n,
        g.k,
        &alpha,
        g.a.ptr as *const T,
        g.a.ld,
        g.a.batch_stride,
        g.b.ptr as *const T,
        g.b.ld,
        g.b.batch_stride,
        &beta,
        g.c as *mut T,
        g.m,
        g.m as i64 * g.n as i64,
        g.batch,
    )
}
