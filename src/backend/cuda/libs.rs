//! Finding the CUDA libraries at run time. rustgrad opens NVRTC and cuBLAS itself, in this
//! order (what a process linked against the CUDA 13 sonames, such as PyTorch, ends up with):
//!
//! 1. the copy already loaded in the process under its soname (`libcublas.so.13`, mapped by
//!    PyTorch, say): one process never maps two copies, whose companions (`libnvrtc-builtins`,
//!    `libcublasLt`, opened by soname) would come from the other one; a note names both files
//!    when that copy is not the one the search folders hold;
//! 2. the `lib{name}.so*` in the folders of `RUSTGRAD_CUDA_LIB_DIR`, then those the Python
//!    package passes (the `nvidia-*` pip wheels), opened by full path with its companions;
//! 3. the soname, then the unversioned name, on the system search path.
//!
//! cudarc's own loaders ask for the unversioned name first, so a CUDA toolkit's dev link in the
//! ld.so cache (`/usr/local/cuda/lib64/libcublas.so`) would beat the pip library; they are used
//! only for the driver, `libcuda`, of which a machine has one. The toolkit's stub `libcuda.so`
//! (`CUDA_ERROR_STUB_LIBRARY`) is named in the error that makes CUDA unavailable.

use std::os::raw::{c_char, c_int};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use cudarc::cublas::sys as cublas_sys;
use cudarc::nvrtc::sys as nvrtc_sys;

use parking_lot::Mutex;

/// Directories searched before the system path, as set by the Python package at import.
static LIBRARY_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The environment variable naming extra directories (separated by `:`).
pub const LIB_DIR_ENV: &str = "RUSTGRAD_CUDA_LIB_DIR";

pub fn set_library_dirs(dirs: Vec<PathBuf>) {
    *LIBRARY_DIRS.lock() = dirs;
}

fn search_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os(LIB_DIR_ENV)
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default();
    dirs.extend(LIBRARY_DIRS.lock().iter().cloned());
    dirs
}

/// The first `lib{name}.so*` in `dir`, preferring the CUDA 13 soname.
fn find_in(dir: &Path, name: &str) -> Option<PathBuf> {
    let prefix = format!("lib{name}.so");
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| f == prefix || f.starts_with(&format!("{prefix}.")))
        })
        .collect();
    found.sort_by_key(|p| !p.to_string_lossy().contains(".so.13"));
    found.into_iter().next()
}

/// The file holding `symbol` of the library `lib` (through `dladdr`), resolved through links.
pub fn file_of_symbol(lib: &libloading::Library, symbol: &str) -> Option<PathBuf> {
    // SAFETY: the symbol's address is only passed to `dladdr`, never called.
    let addr = unsafe { lib.get::<*const std::ffi::c_void>(symbol.as_bytes()) }.ok()?;
    file_of_address(*addr)
}

/// The file that holds the code or data at `addr`, resolved through links.
fn file_of_address(addr: *const std::ffi::c_void) -> Option<PathBuf> {
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: `dladdr` only reads the loader's tables and fills `info`.
    if unsafe { libc::dladdr(addr, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: `dli_fname` is a NUL-terminated string owned by the loader.
    let name = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
    let path = PathBuf::from(std::ffi::OsStr::from_bytes(name.to_bytes()));
    Some(std::fs::canonicalize(&path).unwrap_or(path))
}

/// Notes about the libraries chosen (one another library of the process had already loaded),
/// for `rustgrad.cuda` to raise as warnings.
static NOTES: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn notes() -> Vec<String> {
    NOTES.lock().clone()
}

fn note(text: String) {
    let mut notes = NOTES.lock();
    if !notes.contains(&text) {
        notes.push(text);
    }
}

pub(super) type Handle = libloading::os::unix::Library;
use libloading::os::unix::{RTLD_GLOBAL, RTLD_LAZY, RTLD_LOCAL, RTLD_NOW};

/// Opens `lib{main}` (the last of `names`; the others are companions it opens by soname,
/// opened first from the same folder): the copy already in the process under `soname`, else
/// the first search folder's file by path, else `soname`, else `lib{main}.so` on the system
/// search path. Returns the handle and the file, found through `symbol`.
pub(super) fn open_library(
    names: &[&str],
    soname: &str,
    symbol: &str,
) -> Option<(Handle, PathBuf)> {
    let main = *names.last().expect("at least one library");
    let located = |lib: Handle| {
        let lib: libloading::Library = lib.into();
        let path = file_of_symbol(&lib, symbol).unwrap_or_else(|| PathBuf::from(soname));
        (Handle::from(lib), path)
    };
    // SAFETY (each open below): loading a CUDA library runs only its own initialisers.
    if let Ok(lib) = unsafe { Handle::open(Some(soname), RTLD_LAZY | RTLD_NOLOAD) } {
        let (lib, path) = located(lib);
        let wanted = search_dirs().iter().find_map(|d| find_in(d, main));
        if let Some(w) = wanted.map(|w| std::fs::canonicalize(&w).unwrap_or(w)) {
            if w != path {
                note(format!(
                    "{soname} was already loaded in this process from {} (by another \
                     library): rustgrad uses that copy, not {}",
                    path.display(),
                    w.display()
                ));
            }
        }
        return Some((lib, path));
    }
    for dir in search_dirs() {
        let Some(path) = find_in(&dir, main) else {
            continue;
        };
        for companion in &names[..names.len() - 1] {
            if let Some(c) = find_in(&dir, companion) {
                if let Ok(lib) = unsafe { Handle::open(Some(&c), RTLD_NOW | RTLD_GLOBAL) } {
                    std::mem::forget(lib); // (kept for the life of the process)
                }
            }
        }
        if let Ok(lib) = unsafe { Handle::open(Some(&path), RTLD_NOW | RTLD_LOCAL) } {
            return Some(located(lib));
        }
    }
    [soname.to_string(), format!("lib{main}.so")]
        .into_iter()
        .find_map(|name| unsafe { Handle::open(Some(name), RTLD_NOW | RTLD_LOCAL) }.ok())
        .map(located)
}

/// `dlopen`'s flag: only find a library already loaded.
const RTLD_NOLOAD: std::os::raw::c_int = libc::RTLD_NOLOAD;

/// A symbol of `lib` as a function pointer of type `F`.
///
/// # Safety
/// `F` must be the symbol's C signature.
pub(super) unsafe fn symbol<F: Copy>(lib: &Handle, name: &str) -> Result<F, String> {
    lib.get::<F>(name.as_bytes())
        .map(|s| *s)
        .map_err(|e| format!("{name}: {e}"))
}

/// Loads a library's table once it first succeeds (a failed attempt is retried by the next
/// call: a package installed meanwhile is found).
pub(super) fn load_once<T: Send + Sync>(
    slot: &'static Mutex<Option<&'static T>>,
    load: impl FnOnce() -> Result<T, String>,
) -> Result<&'static T, String> {
    let mut slot = slot.lock();
    if let Some(t) = *slot {
        return Ok(t);
    }
    let t: &'static T = Box::leak(Box::new(load()?));
    *slot = Some(t);
    Ok(t)
}

/// The NVRTC functions rustgrad calls, from the file `path`. (cudarc's loader asks for the
/// unversioned `libnvrtc.so` first, which a CUDA toolkit's dev link on the ld.so cache answers
/// even when the pip package's library is the one meant, and two copies then share a process.)
pub struct Nvrtc {
    _lib: Handle,
    pub path: PathBuf,
    pub version: unsafe extern "C" fn(*mut c_int, *mut c_int) -> c_int,
    pub create_program: unsafe extern "C" fn(
        *mut nvrtc_sys::nvrtcProgram,
        *const c_char,
        *const c_char,
        c_int,
        *const *const c_char,
        *const *const c_char,
    ) -> c_int,
    pub compile_program:
        unsafe extern "C" fn(nvrtc_sys::nvrtcProgram, c_int, *const *const c_char) -> c_int,
    pub program_log_size: unsafe extern "C" fn(nvrtc_sys::nvrtcProgram, *mut usize) -> c_int,
    pub program_log: unsafe extern "C" fn(nvrtc_sys::nvrtcProgram, *mut c_char) -> c_int,
    pub cubin_size: unsafe extern "C" fn(nvrtc_sys::nvrtcProgram, *mut usize) -> c_int,
    pub cubin: unsafe extern "C" fn(nvrtc_sys::nvrtcProgram, *mut c_char) -> c_int,
    pub destroy_program: unsafe extern "C" fn(*mut nvrtc_sys::nvrtcProgram) -> c_int,
}

// SAFETY: the handle and function pointers are immutable and NVRTC is thread-safe.
unsafe impl Send for Nvrtc {}
unsafe impl Sync for Nvrtc {}

/// NVRTC, loaded (see [`open_library`]); the error says how to install it.
pub fn nvrtc() -> Result<&'static Nvrtc, String> {
    static SLOT: Mutex<Option<&'static Nvrtc>> = Mutex::new(None);
    load_once(&SLOT, || {
        let missing = || {
            format!(
                "CUDA's runtime compiler NVRTC (libnvrtc.so.13) could not be loaded: \
                 install the `nvidia-cuda-nvrtc` pip package or point {LIB_DIR_ENV} at \
                 the folder that holds it"
            )
        };
        // NVRTC opens its builtins library itself (by soname): preloaded from its folder.
        let (lib, path) = open_library(
            &["nvrtc-builtins", "nvrtc"],
            "libnvrtc.so.13",
            "nvrtcVersion",
        )
        .ok_or_else(missing)?;
        // SAFETY: the NVRTC 13 API's C signatures.
        unsafe {
            Ok(Nvrtc {
                version: symbol(&lib, "nvrtcVersion")?,
                create_program: symbol(&lib, "nvrtcCreateProgram")?,
                compile_program: symbol(&lib, "nvrtcCompileProgram")?,
                program_log_size: symbol(&lib, "nvrtcGetProgramLogSize")?,
                program_log: symbol(&lib, "nvrtcGetProgramLog")?,
                cubin_size: symbol(&lib, "nvrtcGetCUBINSize")?,
                cubin: symbol(&lib, "nvrtcGetCUBIN")?,
                destroy_program: symbol(&lib, "nvrtcDestroyProgram")?,
                path,
                _lib: lib,
            })
        }
    })
}

/// `cublas{S,D}gemmStridedBatched`'s C signature for element type `T`.
pub type GemmStridedBatched<T> = unsafe extern "C" fn(
    cublas_sys::cublasHandle_t,
    c_int,
    c_int,
    c_int,
    c_int,
    c_int,
    *const T,
    *const T,
    c_int,
    i64,
    *const T,
    c_int,
    i64,
    *const T,
    *mut T,
    c_int,
    i64,
    c_int,
) -> c_int;

/// The cuBLAS functions rustgrad calls, from the file `path` (opened as NVRTC is).
pub struct Cublas {
    _lib: Handle,
    pub path: PathBuf,
    pub create: unsafe extern "C" fn(*mut cublas_sys::cublasHandle_t) -> c_int,
    pub set_stream:
        unsafe extern "C" fn(cublas_sys::cublasHandle_t, cublas_sys::cudaStream_t) -> c_int,
    pub sgemm_strided_batched: GemmStridedBatched<f32>,
    pub dgemm_strided_batched: GemmStridedBatched<f64>,
}

// SAFETY: as for `Nvrtc`; cuBLAS handles are used under the device's lock.
unsafe impl Send for Cublas {}
unsafe impl Sync for Cublas {}

/// cuBLAS, loaded (with its companion cuBLASLt from the same folder).
pub fn cublas() -> Result<&'static Cublas, String> {
    static SLOT: Mutex<Option<&'static Cublas>> = Mutex::new(None);
    load_once(&SLOT, || {
        let missing = || {
            format!(
                "CUDA driver found, but cuBLAS (libcublas.so.13) could not be loaded: \
                 install the `nvidia-cublas` pip package or point {LIB_DIR_ENV} at \
                 the folder that holds it"
            )
        };
        let (lib, path) = open_library(
            &["cublasLt", "cublas"],
            "libcublas.so.13",
            "cublasCreate_v2",
        )
        .ok_or_else(missing)?;
        // SAFETY: the cuBLAS 13 API's C signatures.
        unsafe {
            Ok(Cublas {
                create: symbol(&lib, "cublasCreate_v2")?,
                set_stream: symbol(&lib, "cublasSetStream_v2")?,
                sgemm_strided_batched: symbol(&lib, "cublasSgemmStridedBatched")?,
                dgemm_strided_batched: symbol(&lib, "cublasDgemmStridedBatched")?,
                path,
                _lib: lib,
            })
        }
    })
}

/// Runs `check` until it first finds nothing missing, then never again: a library installed
/// (or a folder set) after a failed attempt is found by the next one.
fn until_found(done: &Mutex<bool>, check: impl FnOnce() -> Option<String>) -> Option<String> {
    let mut done = done.lock();
    if *done {
        return None;
    }
    let missing = check();
    *done = missing.is_none();
    missing
}

/// Why the driver library cannot be used, or `None` when `libcuda` loads.
pub fn driver_missing() -> Option<String> {
    static FOUND: Mutex<bool> = Mutex::new(false);
    until_found(&FOUND, || {
        // SAFETY: `is_culib_present` only tries to open the library.
        (!unsafe { cudarc::driver::sys::is_culib_present() }).then(|| {
            "Found no NVIDIA driver on your system (libcuda.so could not be loaded). \
             Please check that you have an NVIDIA GPU and installed a driver from \
             http://www.nvidia.com/Download/index.aspx"
                .into()
        })
    })
}

/// The driver library cudarc uses (after [`driver_missing`] found it).
pub fn driver_file() -> Option<PathBuf> {
    // SAFETY: the library loads (checked by the caller); the symbol is only located.
    let lib = unsafe { cudarc::driver::sys::culib() };
    file_of_symbol(lib, "cuInit")
}

/// Why NVRTC or cuBLAS cannot be used, or `None` when both load.
pub fn missing_library() -> Option<String> {
    nvrtc_missing().or_else(|| cublas().err())
}

/// Why NVRTC cannot be used (compiling kernels needs only it, not a GPU).
pub fn nvrtc_missing() -> Option<String> {
    nvrtc().err()
}
