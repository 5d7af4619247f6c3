//! With the `cuda-emulator` feature (tests only), builds the CPU emulator of the CUDA kernels,
//! with the CUDA preamble of the elementwise op table (`src/backend/op_table.rs`) written to
//! `$OUT_DIR/elementwise_ops.cuh` for it to include (the library pastes the same text into its
//! kernel sources for NVRTC at run time). A normal build compiles nothing here.

#[path = "src/backend/op_table.rs"]
#[allow(dead_code)]
mod op_table;

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
