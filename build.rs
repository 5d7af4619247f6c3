//! With the `cuda-emulator` feature (tests only), builds the CPU emulator of the CUDA kernels,
//! with the CUDA preamble of the elementwise op table (`src/backend/op_table.rs`) written to
//! `$OUT_DIR/elementwise_ops.cuh` for it to include (the library pastes the same text into its
//! kernel sources for NVRTC at run time).
//!
//! A release build without the emulator also compiles every kernel source to CUBIN for the
//! architectures in `ARCHS` with NVRTC and embeds them (`$OUT_DIR/cubins.rs`), so the first
//! CUDA op loads a ready image instead of spending seconds in NVRTC; other architectures
//! still compile at run time. NVRTC is taken from `RUSTGRAD_NVRTC` (a path to libnvrtc.so.13),
//! else from the `nvidia-cuda-nvrtc` pip package of the Python that maturin builds for
//! (`PYO3_PYTHON`, else `python3`), else from the system search path. Without NVRTC the build
//! still succeeds, with a cargo warning and no embedded CUBINs. `RUSTGRAD_EMBED_CUBINS=0`
//! skips the step (`=1` forces it in a debug build).

#[path = "src/backend/op_table.rs"]
#[allow(dead_code)]
mod op_table;

mod cubins {
    use std::ffi::{c_char, c_int, c_void, CString};
    use std::path::{Path, PathBuf};

    /// The architectures shipped as CUBINs: Ampere (A100, consumer), Ada, Hopper, Blackwell
    /// (datacenter, consumer).
    pub const ARCHS: [&str; 6] = ["sm_80", "sm_86", "sm_89", "sm_90", "sm_100", "sm_120"];
    /// The kernel sources, as `compile.rs`'s `Source::ALL` (a test checks they agree).
    pub const SOURCES: [&str; 7] = [
        "elementwise.cu",
        "reduce.cu",
        "index.cu",
        "matmul.cu",
        "random.cu",
        "optim.cu",
        "conv.cu",
    ];

    type Prog = *mut c_void;
    struct Nvrtc {
        _lib: libloading::Library,
        path: PathBuf,
        version: unsafe extern "C" fn(*mut c_int, *mut c_int) -> c_int,
        create: unsafe extern "C" fn(
            *mut Prog,
            *const c_char,
            *const c_char,
            c_int,
            *const *const c_char,
            *const *const c_char,
        ) -> c_int,
        compile: unsafe extern "C" fn(Prog, c_int, *const *const c_char) -> c_int,
        cubin_size: unsafe extern "C" fn(Prog, *mut usize) -> c_int,
        cubin: unsafe extern "C" fn(Prog, *mut c_char) -> c_int,
        log_size: unsafe extern "C" fn(Prog, *mut usize) -> c_int,
        log: unsafe extern "C" fn(Prog, *mut c_char) -> c_int,
        destroy: unsafe extern "C" fn(*mut Prog) -> c_int,
    }

    /// Where libnvrtc may be: the env var, the pip package of the target Python, the system.
    fn candidates() -> Vec<PathBuf> {
        println!("cargo:rerun-if-env-changed=RUSTGRAD_NVRTC");
        println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
        let mut out = Vec::new();
        if let Some(p) = std::env::var_os("RUSTGRAD_NVRTC").filter(|v| !v.is_empty()) {
            out.push(PathBuf::from(p));
        }
        let python = std::env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".into());
        let script = "import sys, os\nfor p in sys.path:\n    f = os.path.join(p or '.', \
                      'nvidia', 'cu13', 'lib', 'libnvrtc.so.13')\n    \
                      print(f) if os.path.exists(f) else None";
        if let Ok(o) = std::process::Command::new(&python)
            .args(["-c", script])
            .output()
        {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            out.extend(text.lines().map(PathBuf::from));
        }
        out.push("libnvrtc.so.13".into());
        out
    }

    fn open() -> Option<Nvrtc> {
        for path in candidates() {
            // SAFETY: loading NVRTC runs only its own initialisers.
            let Ok(lib) = (unsafe { libloading::Library::new(&path) }) else {
                continue;
            };
            macro_rules! sym {
                ($name:literal) => {
                    // SAFETY: the NVRTC 13 API's C signatures, as declared in `Nvrtc`.
                    match unsafe { lib.get($name) } {
                        Ok(s) => *s,
                        Err(_) => continue,
                    }
                };
            }
            return Some(Nvrtc {
                version: sym!(b"nvrtcVersion"),
                create: sym!(b"nvrtcCreateProgram"),
                compile: sym!(b"nvrtcCompileProgram"),
                cubin_size: sym!(b"nvrtcGetCUBINSize"),
                cubin: sym!(b"nvrtcGetCUBIN"),
                log_size: sym!(b"nvrtcGetProgramLogSize"),
                log: sym!(b"nvrtcGetProgramLog"),
                destroy: sym!(b"nvrtcDestroyProgram"),
                path,
                _lib: lib,
            });
        }
        None
    }

    impl Nvrtc {
        fn compile(&self, name: &str, program: &str, arch: &str) -> Result<Vec<u8>, String> {
            let src = CString::new(program).unwrap();
            let c_name = CString::new(name).unwrap();
            let opts = [
                CString::new(format!("--gpu-architecture={arch}")).unwrap(),
                CString::new("--std=c++17").unwrap(),
            ];
            let opt_ptrs: Vec<*const c_char> = opts.iter().map(|o| o.as_ptr()).collect();
            let mut prog: Prog = std::ptr::null_mut();
            // SAFETY: NVRTC's C API used as documented; every buffer outlives its call.
            unsafe {
                let rc = (self.create)(
                    &mut prog,
                    src.as_ptr(),
                    c_name.as_ptr(),
                    0,
                    std::ptr::null(),
                    std::ptr::null(),
                );
                if rc != 0 {
                    return Err(format!("nvrtcCreateProgram failed ({rc})"));
                }
                let rc = (self.compile)(prog, opt_ptrs.len() as c_int, opt_ptrs.as_ptr());
                let out = if rc == 0 {
                    let mut size = 0usize;
                    (self.cubin_size)(prog, &mut size);
                    let mut bytes = vec![0u8; size];
                    (self.cubin)(prog, bytes.as_mut_ptr() as *mut c_char);
                    Ok(bytes)
                } else {
                    let mut size = 0usize;
                    (self.log_size)(prog, &mut size);
                    let mut log = vec![0u8; size.max(1)];
                    (self.log)(prog, log.as_mut_ptr() as *mut c_char);
                    Err(String::from_utf8_lossy(&log).into_owned())
                };
                (self.destroy)(&mut prog);
                out
            }
        }
    }

    /// The text NVRTC compiles (as `Source::program` in compile.rs).
    fn program(dir: &Path, file: &str, preamble: &str) -> String {
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).expect("kernel source");
        read(file)
            .replace("#include \"common.cuh\"", &read("common.cuh"))
            .replace("#include \"elementwise_ops.cuh\"", preamble)
    }

    /// Build-time cache of compiled images, shared by the profiles and targets of one target
    /// folder (a release build, `cargo bench` and the wheel's `--target` build compile the
    /// same images): `target/rustgrad-cubins`.
    fn cache_dir(out_dir: &Path) -> PathBuf {
        // OUT_DIR is target/[triple/]<profile>/build/rustgrad-<hash>/out; cargo marks the
        // target folder (and a triple's folder inside it) with CACHEDIR.TAG: the outermost.
        out_dir
            .ancestors()
            .filter(|dir| dir.join("CACHEDIR.TAG").is_file())
            .last()
            .or_else(|| out_dir.ancestors().nth(4))
            .unwrap_or(out_dir)
            .join("rustgrad-cubins")
    }

    /// A 64-bit FNV-1a hash of the parts (stable across builds).
    fn fnv1a(parts: &[&[u8]]) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for part in parts {
            for &b in *part {
                h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
            }
        }
        h
    }

    /// Writes `$OUT_DIR/cubins.rs`: `EMBEDDED: &[(source, arch, image)]`, empty without NVRTC.
    pub fn embed(out_dir: &Path, preamble: &str) {
        println!("cargo:rerun-if-env-changed=RUSTGRAD_EMBED_CUBINS");
        let wanted = match std::env::var("RUSTGRAD_EMBED_CUBINS").as_deref() {
            Ok("0") => false,
            Ok("1") => true,
            _ => std::env::var("PROFILE").as_deref() == Ok("release"),
        };
        let mut table = String::from("pub static EMBEDDED: &[(&str, &str, &[u8])] = &[\n");
        let nvrtc = if wanted { open() } else { None };
        if wanted && nvrtc.is_none() {
            println!(
                "cargo:warning=NVRTC (libnvrtc.so.13) not found at build time: no CUBINs are \
                 embedded, kernels will be compiled at run time (pip install \
                 nvidia-cuda-nvrtc, or set RUSTGRAD_NVRTC)"
            );
        }
        if let Some(nvrtc) = &nvrtc {
            let mut v = (0, 0);
            // SAFETY: writes two ints.
            unsafe { (nvrtc.version)(&mut v.0, &mut v.1) };
            let dir = Path::new("src/backend/cuda/kernels");
            let started = std::time::Instant::now();
            let cache = cache_dir(out_dir);
            let _ = std::fs::create_dir_all(&cache);
            let cache = &cache;
            // One thread per architecture: NVRTC compiles separate programs concurrently.
            let images: Vec<(String, String, Vec<u8>)> = std::thread::scope(|scope| {
                let jobs: Vec<_> = ARCHS
                    .iter()
                    .map(|&arch| {
                        let nvrtc = &nvrtc;
                        let v = &v;
                        scope.spawn(move || {
                            SOURCES
                                .iter()
                                .map(|&file| {
                                    let text = program(dir, file, preamble);
                                    let key = fnv1a(&[
                                        text.as_bytes(),
                                        arch.as_bytes(),
                                        format!("{v:?}").as_bytes(),
                                    ]);
                                    let cached = cache.join(format!("{file}-{arch}-{key:016x}"));
                                    if let Ok(image) = std::fs::read(&cached) {
                                        return (file.to_string(), arch.to_string(), image);
                                    }
                                    let image =
                                        nvrtc.compile(file, &text, arch).unwrap_or_else(|log| {
                                            panic!(
                                                "NVRTC could not compile {file} for {arch}:\n{log}"
                                            )
                                        });
                                    // Per file and process: threads write side by side.
                                    let tmp = cache.join(format!(
                                        "{file}-{arch}-{key:016x}.tmp{}",
                                        std::process::id()
                                    ));
                                    if std::fs::write(&tmp, &image).is_ok() {
                                        let _ = std::fs::rename(&tmp, &cached);
                                    }
                                    (file.to_string(), arch.to_string(), image)
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                jobs.into_iter().flat_map(|j| j.join().unwrap()).collect()
            });
            let total: usize = images.iter().map(|i| i.2.len()).sum();
            for (file, arch, image) in &images {
                let name = format!("{file}.{arch}.cubin");
                std::fs::write(out_dir.join(&name), image).expect("OUT_DIR is writable");
                table.push_str(&format!(
                    "    ({file:?}, {arch:?}, include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{name}\"))),\n"
                ));
            }
            println!(
                "cargo:warning=embedded {} CUBINs ({:.1} MiB) from NVRTC {}.{} ({}) in {:.1} s",
                images.len(),
                total as f64 / (1 << 20) as f64,
                v.0,
                v.1,
                nvrtc.path.display(),
                started.elapsed().as_secs_f64()
            );
        }
        table.push_str("];\n");
        let v = nvrtc.map_or((0, 0), |n| {
            let mut v = (0, 0);
            // SAFETY: writes two ints.
            unsafe { (n.version)(&mut v.0, &mut v.1) };
            v
        });
        table.push_str(&format!(
            "/// The NVRTC version that compiled them ((0, 0): none).\n\
             pub static NVRTC_VERSION: (i32, i32) = {v:?};\n"
        ));
        std::fs::write(out_dir.join("cubins.rs"), table).expect("OUT_DIR is writable");
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/backend/op_table.rs");
    let out_dir =
        std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(
        out_dir.join("elementwise_ops.cuh"),
        op_table::cuda_preamble(),
    )
    .expect("OUT_DIR is writable");
    println!("cargo:rerun-if-changed=src/backend/cuda/kernels");
    if cfg!(feature = "cuda-emulator") {
        // The emulator runs the kernels as C++: nothing to embed.
        std::fs::write(
            out_dir.join("cubins.rs"),
            "pub static EMBEDDED: &[(&str, &str, &[u8])] = &[];\n\
             pub static NVRTC_VERSION: (i32, i32) = (0, 0);\n",
        )
        .expect("OUT_DIR is writable");
    } else {
        cubins::embed(&out_dir, &op_table::cuda_preamble());
    }
    #[cfg(feature = "cuda-emulator")]
    {
        println!("cargo:rerun-if-changed=src/backend/cuda/kernels");
        println!("cargo:rerun-if-changed=src/backend/cuda/emulator");
        cc::Build::new()
            .cpp(true)
            .std("c++20")
            .opt_level(2)
            .include(&out_dir)
            // `#pragma unroll` is for NVRTC; g++ ignores it.
            .flag_if_supported("-Wno-unknown-pragmas")
            .file("src/backend/cuda/emulator/emulator.cpp")
            .compile("rustgrad_cuda_emulator");
    }
}
