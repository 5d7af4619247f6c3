//! Finding the CUDA libraries at run time. `cudarc` opens each library by name, trying the
//! unversioned name first (`libnvrtc.so`, `libcublas.so`, `libcuda.so`: a toolkit's dev symlink,
//! or its `lib64/stubs`, on the system search path) and the versioned names after
//! (`libnvrtc.so.13`, ...), and it panics when none loads. The order is therefore:
//!
//! 1. the unversioned name, wherever the dynamic loader finds it (`LD_LIBRARY_PATH`, the
//!    ld.so cache, the default folders): when it is found, that file is the one used, and a
//!    note names it and the pip/`RUSTGRAD_CUDA_LIB_DIR` file it displaced;
//! 2. otherwise the `lib{name}.so*` in the folders of `RUSTGRAD_CUDA_LIB_DIR`, then those the
//!    Python package passes (the `nvidia-*` pip wheels), opened first by full path so that the
//!    loader resolves cudarc's versioned name (the library's soname) to it;
//! 3. otherwise the versioned name on the system search path.
//!
//! A pip library is never preloaded when the unversioned name wins, so one process never maps
//! two copies of NVRTC or cuBLAS (whose companions, `libnvrtc-builtins` and `libcublasLt`, are
//! opened by soname and would come from the other copy). The toolkit's stub `libcuda.so`
//! (`CUDA_ERROR_STUB_LIBRARY`) is named in the error that makes CUDA unavailable.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

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

/// The file the unversioned `lib{name}.so` resolves to on the system search path (cudarc's
/// first choice), found through one of its symbols; `None` when the loader finds none.
fn unversioned(name: &str, symbol: &str) -> Option<PathBuf> {
    // SAFETY: loading a CUDA library runs only its own initialisers; cudarc would load the
    // same file next, so the handle is kept.
    let lib = unsafe {
        libloading::os::unix::Library::open(
            Some(format!("lib{name}.so")),
            libloading::os::unix::RTLD_LAZY | libloading::os::unix::RTLD_LOCAL,
        )
    }
    .ok()?;
    let lib: libloading::Library = lib.into();
    let path = file_of_symbol(&lib, symbol);
    std::mem::forget(lib);
    path
}

/// Notes about the libraries chosen (a pip library displaced by a system one), for
/// `rustgrad.cuda` to raise as warnings.
static NOTES: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn notes() -> Vec<String> {
    NOTES.lock().clone()
}

/// Preloads `names` (companions first) from the search folders unless cudarc's unversioned
/// name already resolves to another file; returns the file cudarc will use, when known.
fn choose(names: &[&str], symbol: &str) -> Option<PathBuf> {
    let main = *names.last().expect("at least one library");
    let wanted = search_dirs().iter().find_map(|d| find_in(d, main));
    match unversioned(main, symbol) {
        Some(system) => {
            if let Some(w) = wanted {
                let w = std::fs::canonicalize(&w).unwrap_or(w);
                let mut notes = NOTES.lock();
                if w != system && !notes.iter().any(|n| n.contains(&*w.to_string_lossy())) {
                    notes.push(format!(
                        "lib{main}.so on the system search path ({}) is used instead of {}: \
                         the unversioned name is looked up first (a CUDA toolkit's dev link or \
                         LD_LIBRARY_PATH); remove its folder from LD_LIBRARY_PATH to use the \
                         pip package's library",
                        system.display(),
                        w.display()
                    ));
                }
            }
            Some(system)
        }
        None => {
            let mut loaded = None;
            for n in names {
                loaded = preload(n);
            }
            loaded
        }
    }
}

/// Opens `lib{name}` from the search directories (once per process; the handle is kept
/// for the life of the process). Returns the path that was loaded, if any.
fn preload(name: &str) -> Option<PathBuf> {
    for dir in search_dirs() {
        let Some(path) = find_in(&dir, name) else {
            continue;
        };
        // SAFETY: loading a CUDA library runs only its own initialisers.
        let lib = unsafe {
            libloading::os::unix::Library::open(
                Some(&path),
                libloading::os::unix::RTLD_NOW | libloading::os::unix::RTLD_GLOBAL,
            )
        };
        if let Ok(lib) = lib {
            std::mem::forget(lib);
            return Some(path);
        }
    }
    None
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
    static FOUND: Mutex<bool> = Mutex::new(false);
    nvrtc_missing().or_else(|| {
        until_found(&FOUND, || {
            choose(&["cublasLt", "cublas"], "cublasCreate_v2");
            // SAFETY: `is_culib_present` only tries to open the library.
            (!unsafe { cudarc::cublas::sys::is_culib_present() }).then(|| {
                format!(
                    "CUDA driver found, but cuBLAS (libcublas.so.13) could not be loaded: \
                     install the `nvidia-cublas` pip package or point {LIB_DIR_ENV} at \
                     the folder that holds it"
                )
            })
        })
    })
}

/// Why NVRTC cannot be used (compiling kernels needs only it, not a GPU).
pub fn nvrtc_missing() -> Option<String> {
    static FOUND: Mutex<bool> = Mutex::new(false);
    until_found(&FOUND, || {
        // NVRTC opens its builtins library itself (by soname): preloaded from the same folder,
        // only when that NVRTC is the one used.
        choose(&["nvrtc-builtins", "nvrtc"], "nvrtcVersion");
        // SAFETY: `is_culib_present` only tries to open the library.
        (!unsafe { cudarc::nvrtc::sys::is_culib_present() }).then(|| {
            format!(
                "CUDA's runtime compiler NVRTC (libnvrtc.so.13) could not be loaded: \
                 install the `nvidia-cuda-nvrtc` pip package or point {LIB_DIR_ENV} at \
                 the folder that holds it"
            )
        })
    })
}
