//! Finding the CUDA libraries at run time. `cudarc` opens them by bare name (and panics when
//! one is missing), so each is checked before first use, and libraries shipped in the
//! `nvidia-*` pip packages (or named by `RUSTGRAD_CUDA_LIB_DIR`) are opened first by full path:
//! the loader then resolves cudarc's bare-name requests to the already-loaded library.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

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

/// Why CUDA cannot be used, or `None` when the driver, NVRTC and cuBLAS all load.
pub fn missing_library() -> Option<String> {
    static RESULT: OnceLock<Option<String>> = OnceLock::new();
    RESULT
        .get_or_init(|| {
            // SAFETY: `is_culib_present` only tries to open the library.
            if !unsafe { cudarc::driver::sys::is_culib_present() } {
                return Some(
                    "Found no NVIDIA driver on your system (libcuda.so could not be loaded). \
                     Please check that you have an NVIDIA GPU and installed a driver from \
                     http://www.nvidia.com/Download/index.aspx"
                        .into(),
                );
            }
            nvrtc_missing().or_else(|| {
                preload("cublasLt");
                preload("cublas");
                // SAFETY: as above.
                (!unsafe { cudarc::cublas::sys::is_culib_present() }).then(|| {
                    format!(
                        "CUDA driver found, but cuBLAS (libcublas.so.13) could not be loaded: \
                         install the `nvidia-cublas` pip package or point {LIB_DIR_ENV} at \
                         the folder that holds it"
                    )
                })
            })
        })
        .clone()
}

/// Why NVRTC cannot be used (compiling kernels needs only it, not a GPU).
pub fn nvrtc_missing() -> Option<String> {
    static RESULT: OnceLock<Option<String>> = OnceLock::new();
    RESULT
        .get_or_init(|| {
            // NVRTC opens its builtins library itself; load it first from the same folders.
            preload("nvrtc-builtins");
            preload("nvrtc");
            // SAFETY: `is_culib_present` only tries to open the library.
            (!unsafe { cudarc::nvrtc::sys::is_culib_present() }).then(|| {
                format!(
                    "CUDA's runtime compiler NVRTC (libnvrtc.so.13) could not be loaded: \
                     install the `nvidia-cuda-nvrtc` pip package or point {LIB_DIR_ENV} at \
                     the folder that holds it"
                )
            })
        })
        .clone()
}
