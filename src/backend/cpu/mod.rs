//! CPU kernels: strided elementwise maps, reductions, gemm products, gathers and scatters.
//! Each takes contiguous or strided slices and returns a fresh contiguous `Vec`.

pub mod elementwise;
pub mod fastmath;
pub mod index;
pub mod matmul;
pub mod random;
pub mod reduce;

/// Below this many elements a kernel runs on the calling thread: rayon's hand-off costs more
/// than it saves (measured in `benches/ops.rs`).
pub const PARALLEL_THRESHOLD: usize = 1 << 15;
