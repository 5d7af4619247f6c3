//! CPU kernels: strided elementwise maps, reductions, gemm products, gathers and scatters.
//! Each takes contiguous or strided slices and returns a fresh contiguous `Vec`.

pub mod elementwise;
pub mod fastmath;
pub mod index;
pub mod matmul;
pub mod random;
pub mod reduce;

/// Below this many elements a kernel runs on the calling thread. Waking rayon's sleeping
/// workers costs about 100 microseconds on these VMs: at 32k the pool made a 65k-element op five
/// times slower than one thread, while the 784-512-10 MLP step (131k-element activations) lost
/// time without it (BENCHMARKS.md, "time per op against tensor size").
pub const PARALLEL_THRESHOLD: usize = 1 << 17;
