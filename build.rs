//! Builds the CPU emulator of the CUDA kernels when the `cuda-emulator` feature (tests only)
//! is on; a normal build compiles nothing here (kernels are compiled at run time by NVRTC).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "cuda-emulator")]
    {
        println!("cargo:rerun-if-changed=src/backend/cuda/kernels");
        println!("cargo:rerun-if-changed=src/backend/cuda/emulator");
        cc::Build::new()
            .cpp(true)
            .std("c++20")
            .opt_level(2)
            // `#pragma unroll` is for NVRTC; g++ ignores it.
            .flag_if_supported("-Wno-unknown-pragmas")
            .file("src/backend/cuda/emulator/emulator.cpp")
            .compile("rustgrad_cuda_emulator");
    }
}
