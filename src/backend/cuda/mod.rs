//! The CUDA backend: kernels compiled from `kernels/*.cu` with NVRTC for the device's own
//! architecture, cuBLAS for matrix products, a caching allocator, one stream per device.
//! Libraries are opened at run time, so the same build runs (CPU-only) without a driver.

pub mod backend;
pub mod buffer;
pub mod compile;
pub mod conv;
pub mod device;
pub mod driver;
#[cfg(feature = "cuda-emulator")]
pub mod emulator;
pub mod hardware;
pub mod libs;
pub mod nccl;
pub mod ops;

pub use buffer::CudaBuffer;
pub use device::{device, device_count, unavailable_reason, CudaDevice, PinnedHost};

use crate::base::{Buffer, DType};
use crate::error::Result;

/// Whether host memory is page-locked by a device's context (a pinned tensor's storage).
pub fn is_pinned(host: &Buffer) -> bool {
    matches!(host, Buffer::Foreign(f) if f.owner().is::<PinnedHost>())
}

/// A page-locked copy of `len` elements of `dtype` from `bytes` (device 0's context, as
/// PyTorch pins for the current device).
pub fn pinned_copy(dtype: DType, len: usize, bytes: &[u8]) -> Result<Buffer> {
    let block = device(0)?.pinned(bytes.len())?;
    // SAFETY: the block holds at least `bytes.len()` bytes and nothing else uses it yet.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), block.as_mut_ptr(), bytes.len()) };
    let ptr = block.as_mut_ptr();
    // SAFETY: `len` elements of `dtype` (`bytes.len()` bytes, page-aligned memory) live as
    // long as `block`, which the buffer owns.
    Ok(Buffer::Foreign(unsafe {
        crate::base::Foreign::new(dtype, ptr, len, Box::new(block))
    }))
}

#[cfg(test)]
mod tests {
    use super::compile::Source;
    use super::ops::metas;
    use crate::base::Layout;

    #[test]
    fn kernel_sources_get_the_generated_op_table() {
        let program = Source::Elementwise.program();
        assert!(
            !program.contains("#include"),
            "an include was left for NVRTC"
        );
        assert!(
            program.contains("unary_float_op"),
            "the op table's preamble is missing"
        );
        assert!(program.contains("case 0: return (rg_neg(v));"));
    }

    #[test]
    fn small_upload_size_matches_the_kernel() {
        let define = format!(
            "#define SMALL_UPLOAD_BYTES {}\n",
            super::device::SMALL_UPLOAD
        );
        assert!(Source::Elementwise.text().contains(&define), "{define}");
    }

    #[test]
    fn kernel_cache_key_covers_driver_nvrtc_and_arch() {
        use super::compile::cache_file;
        let dir = std::path::Path::new("/cache");
        let base = cache_file(dir, Source::Reduce, "sm_90", (13, 0), 13000);
        assert!(base.starts_with(dir));
        let name = base.file_name().unwrap().to_str().unwrap().to_string();
        assert!(
            name.starts_with("reduce.cu-sm_90-") && name.ends_with(".cubin"),
            "{name}"
        );
        assert_eq!(
            base,
            cache_file(dir, Source::Reduce, "sm_90", (13, 0), 13000)
        );
        for other in [
            cache_file(dir, Source::Reduce, "sm_90", (13, 0), 13010),
            cache_file(dir, Source::Reduce, "sm_90", (13, 1), 13000),
            cache_file(dir, Source::Reduce, "sm_80", (13, 0), 13000),
            cache_file(dir, Source::Index, "sm_90", (13, 0), 13000),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn block_size_matches_the_kernels_shared_arrays() {
        let block = super::device::BLOCK;
        let define = format!("#define RG_BLOCK {block}\n");
        let common = include_str!("kernels/common.cuh");
        assert!(common.contains(&define), "{define}");
        // Whole warps (full-mask shuffles) and a power of two (the max/min tree).
        assert!(block.is_multiple_of(32) && block.is_power_of_two() && block <= 1024);
        // No literal-sized shared array is left behind.
        for source in Source::ALL {
            let text = source.program();
            for line in text.lines().filter(|l| l.contains("__shared__")) {
                assert!(line.contains("RG_"), "{}: {line}", source.file_name());
            }
        }
    }

    #[test]
    fn metas_merge_contiguous_views_into_one_dim() {
        let l = Layout::contiguous(&[2, 3, 4]);
        let m = metas(&[2, 3, 4], &[&l, &l]).unwrap();
        assert_eq!(format!("{:?}", m[0]), format!("{:?}", m[1]));
        let text = format!("{:?}", m[0]);
        assert!(
            text.starts_with("Meta { ndim: 1, offset: 0, shape: [24,"),
            "{text}"
        );
        assert!(text.contains("strides: [1,"), "{text}");
    }

    #[test]
    fn metas_keep_transposed_and_broadcast_dims_apart() {
        let a = Layout::contiguous(&[3, 4]).transpose(0, 1); // [4, 3], strides [1, 4]
        let b = Layout::contiguous(&[3]).expand(&[4, 3]).unwrap(); // strides [0, 1]
        let m = metas(&[4, 3], &[&a, &b]).unwrap();
        let (ta, tb) = (format!("{:?}", m[0]), format!("{:?}", m[1]));
        assert!(
            ta.contains("ndim: 2") && ta.contains("shape: [4, 3,"),
            "{ta}"
        );
        assert!(ta.contains("strides: [1, 4,"), "{ta}");
        assert!(tb.contains("strides: [0, 1,"), "{tb}");
    }

    #[test]
    fn metas_drop_unit_dims_and_keep_offsets() {
        let base = Layout::contiguous(&[5, 1, 6]);
        let sliced = base.slice(0, 1, 3, 1); // rows 1..3: offset 6, still contiguous rows
        let m = metas(&sliced.shape, &[&sliced]).unwrap();
        let t = format!("{:?}", m[0]);
        assert!(
            t.starts_with("Meta { ndim: 1, offset: 6, shape: [12,"),
            "{t}"
        );
        let scalar = Layout::contiguous(&[]);
        let t = format!("{:?}", metas(&[], &[&scalar]).unwrap()[0]);
        assert!(
            t.starts_with("Meta { ndim: 1, offset: 0, shape: [1,"),
            "{t}"
        );
    }

    #[test]
    fn metas_refuse_more_dims_than_kernels_take() {
        // Every other element of each dim: nothing merges.
        let shape = [2usize; 9];
        let big = Layout::contiguous(&[4; 9]);
        let strided = (0..9).fold(big, |l, d| l.slice(d, 0, 4, 2));
        assert_eq!(&strided.shape[..], &shape[..]);
        let err = metas(&shape, &[&strided]).unwrap_err().to_string();
        assert!(err.contains("at most 8"), "{err}");
    }

    #[test]
    fn allocator_rounds_small_and_large_blocks() {
        use super::device::round_size;
        assert_eq!(round_size(0), Some(0));
        assert_eq!(round_size(1), Some(512));
        assert_eq!(round_size(513), Some(1024));
        assert_eq!(round_size((1 << 20) + 1), Some((1 << 20) + (128 << 10)));
        assert_eq!(round_size(usize::MAX - 7), None);
    }
}
