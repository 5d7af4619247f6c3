//! The CUDA backend: kernels compiled from `kernels/*.cu` with NVRTC for the device's own
//! architecture, cuBLAS for matrix products, a caching allocator, one stream per device.
//! Libraries are opened at run time, so the same build runs (CPU-only) without a driver.

pub mod buffer;
pub mod compile;
pub mod device;
pub mod driver;
#[cfg(feature = "cuda-emulator")]
pub mod emulator;
pub mod libs;
pub mod ops;

pub use buffer::CudaBuffer;
pub use device::{device, device_count, unavailable_reason, CudaDevice};

#[cfg(test)]
mod tests {
    use super::compile::Source;
    use super::ops::{metas, suffix};
    use crate::tensor::{ActivationBackward, BinaryOp, CompareOp, DType, Layout, UnaryOp};

    /// Every CPU kernel and the CUDA kernels that do its work. A CPU kernel added without
    /// an entry here, or an entry naming a kernel the `.cu` sources lack, fails the mirror test.
    const CPU_TO_CUDA: &[(&str, &[&str])] = &[
        ("gather", &["copy"]),
        ("map", &["unary", "cast"]),
        ("zip", &["binary", "compare", "activation_backward"]),
        ("zip3", &["where"]),
        ("write_into", &["copy", "fill", "put"]),
        ("add_into", &["add_into"]),
        ("exp_f32", &["unary"]),
        ("index_select", &["index_select"]),
        ("index_add", &["index_add"]),
        ("one_hot", &["one_hot"]),
        // Floating products go through cuBLAS; integer ones through this kernel.
        ("batched_matmul", &["matmul_i64"]),
        ("naive", &["matmul_i64"]),
        ("supports_gemm", &["matmul_i64"]),
        ("manual_seed", &["uniform", "normal"]),
        ("uniform", &["uniform"]),
        ("normal", &["normal"]),
        ("sum_rows", &["sum_rows"]),
        ("sum_leading", &["sum_cols"]),
        ("extreme_rows", &["extreme_rows"]),
        ("softmax_rows", &["softmax_rows"]),
        ("sgd_step", &["sgd_step"]),
        ("adam_step", &["adam_step"]),
    ];

    const CPU_SOURCES: &[&str] = &[
        include_str!("../cpu/elementwise.rs"),
        include_str!("../cpu/fastmath.rs"),
        include_str!("../cpu/index.rs"),
        include_str!("../cpu/matmul.rs"),
        include_str!("../cpu/random.rs"),
        include_str!("../cpu/reduce.rs"),
        include_str!("../../optim.rs"),
    ];

    /// Names of top-level `pub fn`s in a Rust source.
    fn public_fns(src: &str) -> Vec<String> {
        src.lines()
            .filter_map(|l| l.strip_prefix("pub fn "))
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect()
            })
            .collect()
    }

    /// Whether a kernel family (`binary`, instantiated per dtype) or kernel is defined.
    fn cuda_defines(family: &str) -> bool {
        Source::ALL.iter().any(|s| {
            let t = s.text();
            t.contains(&format!("void {family}_##")) || t.contains(&format!("void {family}("))
        })
    }

    #[test]
    fn every_cpu_kernel_has_a_cuda_kernel() {
        for src in CPU_SOURCES {
            for f in public_fns(src) {
                let entry = CPU_TO_CUDA.iter().find(|(cpu, _)| *cpu == f);
                let Some((_, kernels)) = entry else {
                    panic!("CPU kernel `{f}` has no CUDA counterpart listed in CPU_TO_CUDA");
                };
                for k in *kernels {
                    assert!(
                        cuda_defines(k),
                        "CUDA kernel `{k}` (for `{f}`) is not defined"
                    );
                }
            }
        }
    }

    #[test]
    fn every_launched_kernel_is_defined() {
        let host = include_str!("ops.rs");
        let mut launched = 0;
        for piece in host.split("format!(\"").skip(1) {
            let family: String = piece
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let family = family.trim_end_matches('_');
            if family.is_empty() {
                continue; // `{family}_...`: binary, compare and the random kernels, below
            }
            assert!(cuda_defines(family), "ops.rs launches undefined `{family}`");
            launched += 1;
        }
        assert!(launched > 15, "found only {launched} launches in ops.rs");
        for family in ["binary", "compare", "uniform", "normal", "matmul_i64"] {
            assert!(cuda_defines(family));
        }
        // Each family is instantiated for the dtypes it is launched with.
        let elementwise = Source::Elementwise.text();
        for d in [DType::F32, DType::F64, DType::I64, DType::Bool] {
            let s = suffix(d);
            assert!(elementwise.contains(&format!("ALL_KERNELS({}, {s})", c_type(d))));
        }
    }

    fn c_type(d: DType) -> &'static str {
        match d {
            DType::F32 => "float",
            DType::F64 => "double",
            DType::I64 => "i64",
            DType::Bool => "u8",
        }
    }

    /// The `#define` each op code must match in `elementwise.cu` (an exhaustive match: a new
    /// op variant does not compile until it is given a CUDA code).
    fn define_of_unary(op: UnaryOp) -> &'static str {
        match op {
            UnaryOp::Neg => "UNARY_NEG",
            UnaryOp::Abs => "UNARY_ABS",
            UnaryOp::Sign => "UNARY_SIGN",
            UnaryOp::Exp => "UNARY_EXP",
            UnaryOp::Log => "UNARY_LOG",
            UnaryOp::Sqrt => "UNARY_SQRT",
            UnaryOp::Tanh => "UNARY_TANH",
            UnaryOp::Sigmoid => "UNARY_SIGMOID",
            UnaryOp::Relu => "UNARY_RELU",
            UnaryOp::PowScalar(_) => "UNARY_POW_SCALAR",
            UnaryOp::Clamp(..) => "UNARY_CLAMP",
        }
    }

    fn define_of_binary(op: BinaryOp) -> &'static str {
        match op {
            BinaryOp::Add => "BINARY_ADD",
            BinaryOp::Sub => "BINARY_SUB",
            BinaryOp::Mul => "BINARY_MUL",
            BinaryOp::Div => "BINARY_DIV",
            BinaryOp::Pow => "BINARY_POW",
            BinaryOp::Maximum => "BINARY_MAXIMUM",
            BinaryOp::Minimum => "BINARY_MINIMUM",
        }
    }

    fn define_of_compare(op: CompareOp) -> &'static str {
        match op {
            CompareOp::Eq => "COMPARE_EQ",
            CompareOp::Ne => "COMPARE_NE",
            CompareOp::Lt => "COMPARE_LT",
            CompareOp::Le => "COMPARE_LE",
            CompareOp::Gt => "COMPARE_GT",
            CompareOp::Ge => "COMPARE_GE",
        }
    }

    fn define_of_activation(op: ActivationBackward) -> &'static str {
        match op {
            ActivationBackward::Threshold => "ACTIVATION_THRESHOLD",
            ActivationBackward::Tanh => "ACTIVATION_TANH",
            ActivationBackward::Sigmoid => "ACTIVATION_SIGMOID",
        }
    }

    fn assert_define(name: &str, code: i32) {
        let line = format!("#define {name} {code}\n");
        assert!(
            Source::Elementwise.text().contains(&line),
            "elementwise.cu lacks `{}`",
            line.trim()
        );
    }

    #[test]
    fn op_codes_match_the_kernel_defines() {
        use UnaryOp::*;
        for op in [
            Neg,
            Abs,
            Sign,
            Exp,
            Log,
            Sqrt,
            Tanh,
            Sigmoid,
            Relu,
            PowScalar(2.0),
            Clamp(None, None),
        ] {
            assert_define(define_of_unary(op), op.cuda_code());
        }
        use BinaryOp as B;
        for op in [
            B::Add,
            B::Sub,
            B::Mul,
            B::Div,
            B::Pow,
            B::Maximum,
            B::Minimum,
        ] {
            assert_define(define_of_binary(op), op.cuda_code());
        }
        use CompareOp as C;
        for op in [C::Eq, C::Ne, C::Lt, C::Le, C::Gt, C::Ge] {
            assert_define(define_of_compare(op), op.cuda_code());
        }
        use ActivationBackward as A;
        for op in [A::Threshold, A::Tanh, A::Sigmoid] {
            assert_define(define_of_activation(op), op.cuda_code());
        }
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
