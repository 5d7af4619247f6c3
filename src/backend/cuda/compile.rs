//! Kernel sources (kept in `kernels/`, embedded in the library) and their NVRTC compilation
//! to CUBIN for one real architecture. Compiling needs only libnvrtc, not a GPU, so CI checks
//! every source for the architectures we ship to.

use std::ffi::{c_char, c_int, CString};
use std::ptr::null;

use cudarc::nvrtc::sys;

use crate::error::{Error, Result};

const COMMON: &str = include_str!("kernels/common.cuh");

/// CUBINs compiled when the wheel was built (build.rs): `(source file, arch, image)`; empty
/// when the build had no NVRTC, in debug builds and with the emulator.
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/cubins.rs"));
}

/// The embedded CUBIN of `source` for a device of architecture `arch` (`"sm_86"`): the image
/// for that architecture, else the newest one of the same major version at or below it (a
/// CUBIN runs on later minor versions of its major, e.g. sm_80's on an sm_87), else `None`
/// (NVRTC compiles it at run time).
pub fn embedded_cubin(source: Source, arch: &str) -> Option<(&'static str, &'static [u8])> {
    let cc = |a: &str| a.strip_prefix("sm_")?.parse::<u32>().ok();
    let want = cc(arch)?;
    embedded::EMBEDDED
        .iter()
        .filter(|(file, a, _)| *file == source.file_name() && cc(a).is_some())
        .map(|&(_, a, image)| (cc(a).unwrap(), a, image))
        .filter(|&(have, _, _)| have / 10 == want / 10 && have <= want)
        .max_by_key(|&(have, _, _)| have)
        .map(|(_, a, image)| (a, image))
}

/// The NVRTC version that compiled the embedded CUBINs, and the one loaded now (if any).
pub fn nvrtc_versions() -> ((i32, i32), Option<(i32, i32)>) {
    let mut v = (0, 0);
    // SAFETY: writes two ints.
    let loaded = super::libs::nvrtc()
        .is_ok_and(|api| unsafe { (api.version)(&mut v.0, &mut v.1) } == 0)
        .then_some(v);
    (embedded::NVRTC_VERSION, loaded)
}

/// Every embedded CUBIN: `(source file, arch, image)`.
pub fn embedded_cubins() -> &'static [(&'static str, &'static str, &'static [u8])] {
    embedded::EMBEDDED
}

/// A kernel source file; each is compiled into one module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    Elementwise,
    Reduce,
    Index,
    Matmul,
    Random,
    Optim,
    Conv,
}

impl Source {
    pub const ALL: [Source; 7] = [
        Source::Elementwise,
        Source::Reduce,
        Source::Index,
        Source::Matmul,
        Source::Random,
        Source::Optim,
        Source::Conv,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            Source::Elementwise => "elementwise.cu",
            Source::Reduce => "reduce.cu",
            Source::Index => "index.cu",
            Source::Matmul => "matmul.cu",
            Source::Random => "random.cu",
            Source::Optim => "optim.cu",
            Source::Conv => "conv.cu",
        }
    }

    /// The source as written in the repository.
    pub fn text(self) -> &'static str {
        match self {
            Source::Elementwise => include_str!("kernels/elementwise.cu"),
            Source::Reduce => include_str!("kernels/reduce.cu"),
            Source::Index => include_str!("kernels/index.cu"),
            Source::Matmul => include_str!("kernels/matmul.cu"),
            Source::Random => include_str!("kernels/random.cu"),
            Source::Optim => include_str!("kernels/optim.cu"),
            Source::Conv => include_str!("kernels/conv.cu"),
        }
    }

    /// The text NVRTC compiles: the shared header and every elementwise op's CUDA expression
    /// (written from `op_table.rs`) pasted in place of their includes.
    pub fn program(self) -> String {
        let text = self.text().replace("#include \"common.cuh\"", COMMON);
        if self == Source::Elementwise {
            text.replace(
                "#include \"elementwise_ops.cuh\"",
                &crate::backend::op_table::cuda_preamble(),
            )
        } else {
            text
        }
    }
}

/// A 64-bit FNV-1a hash (stable across builds, unlike `std`'s hasher).
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Where compiled kernels are kept between processes: `$RUSTGRAD_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/rustgrad`, else `~/.cache/rustgrad` (none when no home is known).
fn cache_dir() -> Option<std::path::PathBuf> {
    let from = |var: &str| std::env::var_os(var).filter(|v| !v.is_empty());
    let dir = match from("RUSTGRAD_CACHE_DIR") {
        Some(d) => d.into(),
        None => match from("XDG_CACHE_HOME") {
            Some(d) => std::path::PathBuf::from(d).join("rustgrad"),
            None => std::path::PathBuf::from(from("HOME")?).join(".cache/rustgrad"),
        },
    };
    Some(dir.join("kernels"))
}

/// The cache file of `source` compiled for `arch` by NVRTC `nvrtc` (major, minor), for the
/// driver of CUDA API version `driver`: a new driver (whose loader may refuse an old image) or
/// a new NVRTC gets a new file.
pub fn cache_file(
    dir: &std::path::Path,
    source: Source,
    arch: &str,
    nvrtc: (i32, i32),
    driver: i32,
) -> std::path::PathBuf {
    let key = fnv1a(&[
        source.program().as_bytes(),
        arch.as_bytes(),
        format!("{nvrtc:?}").as_bytes(),
        format!("driver {driver}").as_bytes(),
    ]);
    dir.join(format!("{}-{arch}-{key:016x}.cubin", source.file_name()))
}

/// Where [`cached_cubin`] keeps `source` for `arch`, or `None` (no cache folder, or NVRTC's
/// version unknown).
fn cached_path(source: Source, arch: &str, driver: i32) -> Option<std::path::PathBuf> {
    let mut version = (0, 0);
    // SAFETY: writes two ints.
    let known = super::libs::nvrtc()
        .is_ok_and(|api| unsafe { (api.version)(&mut version.0, &mut version.1) } == 0);
    cache_dir()
        .filter(|_| known)
        .map(|d| cache_file(&d, source, arch, version, driver))
}

/// [`compile_cubin`] through an on-disk cache keyed by the program text, the architecture,
/// NVRTC's version and the driver's (`driver`, 0 when there is none), so a process pays
/// NVRTC's seconds only when a kernel source changed. A cache that cannot be read or written is
/// skipped, never an error.
pub fn cached_cubin(source: Source, arch: &str, driver: i32) -> Result<Vec<u8>> {
    if let Some(why) = super::libs::nvrtc_missing() {
        return Err(Error::Runtime(why));
    }
    let path = cached_path(source, arch, driver);
    if let Some(bytes) = path.as_ref().and_then(|p| std::fs::read(p).ok()) {
        return Ok(bytes);
    }
    let cubin = compile_cubin(source, arch)?;
    if let Some(p) = path {
        // Written beside and renamed into place, so a reader never sees half a file.
        let tmp = p.with_extension(format!("tmp{}", std::process::id()));
        let stored = p.parent().map(std::fs::create_dir_all).transpose().is_ok()
            && std::fs::write(&tmp, &cubin).is_ok()
            && std::fs::rename(&tmp, &p).is_ok();
        if !stored {
            let _ = std::fs::remove_file(&tmp);
        }
    }
    Ok(cubin)
}

/// Deletes the cached CUBIN of `source` (one the driver refused to load: damaged, or from
/// another toolchain), so that the next [`cached_cubin`] compiles it again.
pub fn forget_cached(source: Source, arch: &str, driver: i32) {
    if let Some(p) = cached_path(source, arch, driver) {
        let _ = std::fs::remove_file(p);
    }
}

/// Compiles `source` to a CUBIN for `arch` (`"sm_90"`). A CUBIN for the card's own
/// architecture loads on any driver of the same major version, unlike PTX from a newer NVRTC.
pub fn compile_cubin(source: Source, arch: &str) -> Result<Vec<u8>> {
    if let Some(why) = super::libs::nvrtc_missing() {
        return Err(Error::Runtime(why));
    }
    let api = super::libs::nvrtc().map_err(Error::Runtime)?;
    let failed = |what: &str, rc: c_int| {
        Error::Runtime(format!(
            "NVRTC failed to {what} {} (nvrtcResult {rc})",
            source.file_name()
        ))
    };
    let src = CString::new(source.program()).expect("kernel sources hold no NUL");
    let name = CString::new(source.file_name()).expect("file names hold no NUL");
    let mut prog: sys::nvrtcProgram = std::ptr::null_mut();
    // SAFETY: NVRTC's C API as documented; the strings outlive the call.
    let rc =
        unsafe { (api.create_program)(&mut prog, src.as_ptr(), name.as_ptr(), 0, null(), null()) };
    if rc != 0 {
        return Err(failed("load", rc));
    }
    let opts = [format!("--gpu-architecture={arch}"), "--std=c++17".into()]
        .map(|o| CString::new(o).expect("options hold no NUL"));
    let opt_ptrs = opts.each_ref().map(|o| o.as_ptr());
    // SAFETY: `prog` is a live program until destroyed below; the options outlive the call.
    let rc = unsafe { (api.compile_program)(prog, opt_ptrs.len() as c_int, opt_ptrs.as_ptr()) };
    let out = if rc == 0 {
        // SAFETY: as above; each buffer is sized by NVRTC's own answer.
        unsafe { read_sized(prog, api.cubin_size, api.cubin) }
            .map_err(|rc| failed("emit a CUBIN for", rc))
    } else {
        // SAFETY: as above.
        let log =
            unsafe { read_sized(prog, api.program_log_size, api.program_log) }.unwrap_or_default();
        let log: Vec<u8> = log.into_iter().take_while(|&c| c != 0).collect();
        Err(Error::Runtime(format!(
            "NVRTC could not compile {} for {arch}:\n{}",
            source.file_name(),
            String::from_utf8_lossy(&log)
        )))
    };
    // SAFETY: destroyed once, after its last use.
    let _ = unsafe { (api.destroy_program)(&mut prog) };
    out
}

/// NVRTC's output of a (size, copy) function pair: the CUBIN or the log.
///
/// # Safety
/// `prog` must be a live program for which the pair's answer exists.
unsafe fn read_sized(
    prog: sys::nvrtcProgram,
    size_of: unsafe extern "C" fn(sys::nvrtcProgram, *mut usize) -> c_int,
    copy: unsafe extern "C" fn(sys::nvrtcProgram, *mut c_char) -> c_int,
) -> std::result::Result<Vec<u8>, c_int> {
    let mut size = 0usize;
    match size_of(prog, &mut size) {
        0 => {}
        rc => return Err(rc),
    }
    let mut bytes = vec![0u8; size];
    match copy(prog, bytes.as_mut_ptr() as *mut c_char) {
        0 => Ok(bytes),
        rc => Err(rc),
    }
}
