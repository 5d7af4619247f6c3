//! Host side of the CUDA kernels: each function takes device buffers with their layouts
//! (as the CPU kernels take slices with theirs), launches on the buffer's device stream and
//! returns a fresh buffer. Nothing here waits for the GPU.

use std::ffi::c_void;
use std::sync::Arc;

use super::buffer::CudaBuffer;
use super::compile::Source;
use super::device::{CudaDevice, BLOCK};
use super::hardware::{Gemm, GemmOperand};
use crate::backend::{HostScalar, OptimStep, UnaryArgs, UnaryOp};
use crate::base::{DType, Layout};
use crate::error::{Error, Result};

/// The most dimensions a kernel sees after merging (as `MAX_DIMS` in `common.cuh`).
pub const MAX_DIMS: usize = 8;

/// A strided view as kernels read it (`struct Meta` in `common.cuh`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Meta {
    ndim: i64,
    offset: i64,
    shape: [i64; MAX_DIMS],
    strides: [i64; MAX_DIMS],
}

/// Metas for operands whose layouts all have `shape` (broadcast ones with zero strides),
/// with size-1 dims dropped and dims merged wherever every operand allows it: contiguous
/// operands become one dimension of stride 1.
pub fn metas(shape: &[usize], layouts: &[&Layout]) -> Result<Vec<Meta>> {
    // (size, stride of each operand), innermost first.
    let mut groups: Vec<(usize, Vec<isize>)> = Vec::new();
    for d in (0..shape.len()).rev() {
        if shape[d] == 1 {
            continue;
        }
        if let Some((size, strides)) = groups.last_mut() {
            let mergeable = layouts
                .iter()
                .zip(strides.iter())
                .all(|(l, &s)| l.strides[d] == s * *size as isize);
            if mergeable {
                *size *= shape[d];
                continue;
            }
        }
        groups.push((shape[d], layouts.iter().map(|l| l.strides[d]).collect()));
    }
    if groups.len() > MAX_DIMS {
        return Err(Error::Runtime(format!(
            "CUDA kernels take views of at most {MAX_DIMS} non-mergeable dimensions; this one has \
             {} (call .contiguous() first)",
            groups.len()
        )));
    }
    groups.reverse();
    Ok(layouts
        .iter()
        .enumerate()
        .map(|(k, l)| {
            let mut m = Meta {
                ndim: groups.len().max(1) as i64,
                offset: l.offset as i64,
                ..Meta::default()
            };
            if groups.is_empty() {
                m.shape[0] = 1;
            }
            for (d, (size, strides)) in groups.iter().enumerate() {
                m.shape[d] = *size as i64;
                m.strides[d] = strides[k] as i64;
            }
            m
        })
        .collect())
}

/// A pointer to a kernel argument, as `cuLaunchKernel` takes them.
pub(super) fn arg<T>(v: &T) -> *mut c_void {
    v as *const T as *mut c_void
}

/// A scalar kernel argument in the kernel's C type for a dtype.
pub enum Scalar {
    F32(f32),
    F64(f64),
    I64(i64),
    U8(u8),
}

impl Scalar {
    pub fn new(dtype: DType, v: f64) -> Scalar {
        match dtype {
            DType::F32 => Scalar::F32(v as f32),
            DType::F64 => Scalar::F64(v),
            DType::I64 => Scalar::I64(v as i64),
            DType::Bool => Scalar::U8((v != 0.0) as u8),
            // (CUDA memory never holds the other dtypes: `CudaBuffer::alloc` refuses them.)
            _ => Scalar::F64(v),
        }
    }

    /// A host number in `dtype`, exactly for integers.
    pub fn from_host(dtype: DType, v: HostScalar) -> Scalar {
        match dtype {
            DType::I64 => Scalar::I64(v.int),
            DType::Bool => Scalar::U8((v.int != 0) as u8),
            _ => Scalar::new(dtype, v.float),
        }
    }

    fn ptr(&self) -> *mut c_void {
        match self {
            Scalar::F32(v) => arg(v),
            Scalar::F64(v) => arg(v),
            Scalar::I64(v) => arg(v),
            Scalar::U8(v) => arg(v),
        }
    }
}

/// The kernel-name suffix of a dtype; empty for a dtype without CUDA kernels.
pub fn suffix(dtype: DType) -> &'static str {
    match dtype {
        DType::F32 => "f32",
        DType::F64 => "f64",
        DType::I64 => "i64",
        DType::Bool => "bool",
        _ => "",
    }
}

/// A device buffer seen through a layout (already broadcast to the result's shape).
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub buf: &'a CudaBuffer,
    pub layout: &'a Layout,
}

/// One operand of a binary kernel: a view, or a number passed by value (a 0-d CPU tensor).
pub type Operand<'a> = crate::backend::Operand<'a, CudaBuffer>;

/// Launches an elementwise kernel over `n` outputs.
pub(super) fn elementwise(
    dev: &CudaDevice,
    source: Source,
    name: &str,
    n: usize,
    params: &mut [*mut c_void],
) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    dev.launch(source, name, dev.grid_for(n), BLOCK, params)
}

pub fn unary(x: View, op: UnaryOp, args: UnaryArgs) -> Result<CudaBuffer> {
    let dev = x.buf.device();
    let dtype = x.buf.dtype();
    let n = x.layout.numel();
    let out = CudaBuffer::alloc(dev, dtype, n)?;
    let m = metas(&x.layout.shape, &[x.layout])?[0];
    let (p, l, h) = (
        Scalar::new(dtype, args.power),
        Scalar::new(dtype, args.min),
        Scalar::new(dtype, args.max),
    );
    let (code, n64, xp, op) = (op as i32, n as i64, x.buf.ptr(), out.ptr());
    elementwise(
        dev,
        Source::Elementwise,
        &format!("unary_{}", suffix(dtype)),
        n,
        &mut [
            arg(&code),
            arg(&n64),
            arg(&m),
            arg(&xp),
            arg(&op),
            p.ptr(),
            l.ptr(),
            h.ptr(),
        ],
    )?;
    Ok(out)
}

/// Two operands as a binary kernel takes them.
struct Operands<'a> {
    dev: &'a Arc<CudaDevice>,
    metas: [Meta; 2],
    ptrs: [u64; 2],
    /// 0: both are views; 1: `b` is the scalar; 2: `a` is.
    scalar_side: i32,
    scalar: HostScalar,
}

/// The device, metas and pointers of two operands of which at least one is a view.
fn operands<'a>(a: Operand<'a>, b: Operand<'a>, shape: &[usize]) -> Result<Operands<'a>> {
    let (view, scalar_side, scalar) = match (&a, &b) {
        (Operand::View(buf, l), Operand::View(..)) => ((*buf, *l), 0, HostScalar::default()),
        (Operand::View(buf, l), Operand::Scalar(s)) => ((*buf, *l), 1, *s),
        (Operand::Scalar(s), Operand::View(buf, l)) => ((*buf, *l), 2, *s),
        (Operand::Scalar(_), Operand::Scalar(_)) => {
            return Err(Error::Runtime("a CUDA kernel got no device operand".into()))
        }
    };
    // A scalar side is never read: it borrows the view's layout, so merging is unchanged.
    let layout_ptr = |o: &Operand<'a>| match o {
        Operand::View(buf, l) => (*l, buf.ptr()),
        Operand::Scalar(_) => (view.1, 0),
    };
    let ((la, pa), (lb, pb)) = (layout_ptr(&a), layout_ptr(&b));
    let m = metas(shape, &[&la.expand(shape)?, &lb.expand(shape)?])?;
    Ok(Operands {
        dev: view.0.device(),
        metas: [m[0], m[1]],
        ptrs: [pa, pb],
        scalar_side,
        scalar,
    })
}

/// Launches `{family}_{dtype}` over two operands in `dtype`, into a fresh `out_dtype` buffer.
pub fn two_operands(
    family: &str,
    code: i32,
    a: Operand,
    b: Operand,
    shape: &[usize],
    dtype: DType,
    out_dtype: DType,
) -> Result<CudaBuffer> {
    let Operands {
        dev,
        metas: m,
        ptrs: p,
        scalar_side: side,
        scalar,
    } = operands(a, b, shape)?;
    let n = crate::base::layout::numel(shape);
    let out = CudaBuffer::alloc(dev, out_dtype, n)?;
    let s = Scalar::from_host(dtype, scalar);
    let (n64, op) = (n as i64, out.ptr());
    elementwise(
        dev,
        Source::Elementwise,
        &format!("{family}_{}", suffix(dtype)),
        n,
        &mut [
            arg(&code),
            arg(&n64),
            arg(&m[0]),
            arg(&p[0]),
            arg(&m[1]),
            arg(&p[1]),
            arg(&op),
            arg(&side),
            s.ptr(),
        ],
    )?;
    Ok(out)
}

/// Launches kernel `name` with arguments `[code,] n, (meta, pointer) per view, out` over the
/// broadcast `shape`, into a fresh `out_dtype` buffer (the kernels of that signature).
fn views_kernel(
    name: &str,
    code: Option<i32>,
    views: &[View],
    shape: &[usize],
    out_dtype: DType,
) -> Result<CudaBuffer> {
    let dev = views[0].buf.device();
    let n = crate::base::layout::numel(shape);
    let out = CudaBuffer::alloc(dev, out_dtype, n)?;
    let expanded = views
        .iter()
        .map(|v| v.layout.expand(shape))
        .collect::<Result<Vec<Layout>>>()?;
    let m = metas(shape, &expanded.iter().collect::<Vec<_>>())?;
    let ptrs: Vec<u64> = views.iter().map(|v| v.buf.ptr()).collect();
    let (n64, op) = (n as i64, out.ptr());
    let mut params: Vec<*mut c_void> = code.iter().map(arg).collect();
    params.push(arg(&n64));
    for (meta, ptr) in m.iter().zip(&ptrs) {
        params.push(arg(meta));
        params.push(arg(ptr));
    }
    params.push(arg(&op));
    elementwise(dev, Source::Elementwise, name, n, &mut params)?;
    Ok(out)
}

pub fn activation_backward(code: i32, g: View, y: View, shape: &[usize]) -> Result<CudaBuffer> {
    let dtype = g.buf.dtype();
    let name = format!("activation_backward_{}", suffix(dtype));
    views_kernel(&name, Some(code), &[g, y], shape, dtype)
}

pub fn where_(c: View, a: View, b: View, shape: &[usize]) -> Result<CudaBuffer> {
    let dtype = a.buf.dtype();
    views_kernel(
        &format!("where_{}", suffix(dtype)),
        None,
        &[c, a, b],
        shape,
        dtype,
    )
}

/// A contiguous copy of `x` converted to `to`.
pub fn cast(x: View, to: DType) -> Result<CudaBuffer> {
    let name = format!("cast_{}_{}", suffix(x.buf.dtype()), suffix(to));
    views_kernel(&name, None, &[x], &x.layout.shape, to)
}

/// Copies `src` (its layout broadcast to `dst_layout`'s shape, same dtype) into `dst`.
pub fn copy(src: View, dst: &CudaBuffer, dst_layout: &Layout) -> Result<()> {
    let dev = dst.device();
    let n = dst_layout.numel();
    let m = metas(&dst_layout.shape, &[src.layout, dst_layout])?;
    let (n64, sp, dp) = (n as i64, src.buf.ptr(), dst.ptr());
    elementwise(
        dev,
        Source::Elementwise,
        &format!("copy_{}", suffix(dst.dtype())),
        n,
        &mut [arg(&n64), arg(&m[0]), arg(&sp), arg(&m[1]), arg(&dp)],
    )
}

/// A contiguous copy of a view.
pub fn gather(x: View) -> Result<CudaBuffer> {
    let out = CudaBuffer::alloc(x.buf.device(), x.buf.dtype(), x.layout.numel())?;
    copy(x, &out, &Layout::contiguous(&x.layout.shape))?;
    Ok(out)
}

pub fn fill(dst: &CudaBuffer, layout: &Layout, value: f64) -> Result<()> {
    let dev = dst.device();
    let n = layout.numel();
    let m = metas(&layout.shape, &[layout])?[0];
    let v = Scalar::new(dst.dtype(), value);
    let (n64, dp) = (n as i64, dst.ptr());
    elementwise(
        dev,
        Source::Elementwise,
        &format!("fill_{}", suffix(dst.dtype())),
        n,
        &mut [arg(&n64), arg(&m), arg(&dp), v.ptr()],
    )
}

/// Adds the contiguous `src` (in the view's shape) into the view; repeated offsets accumulate.
pub fn add_into(dst: &CudaBuffer, layout: &Layout, src: &CudaBuffer) -> Result<()> {
    let dev = dst.device();
    let n = layout.numel();
    // Merging is safe here: it never changes which offsets are addressed.
    let m = metas(&layout.shape, &[layout])?[0];
    let (n64, dp, sp) = (n as i64, dst.ptr(), src.ptr());
    elementwise(
        dev,
        Source::Elementwise,
        &format!("add_into_{}", suffix(dst.dtype())),
        n,
        &mut [arg(&n64), arg(&m), arg(&dp), arg(&sp)],
    )
}

/// Uploads indices as an int64 device buffer.
fn upload_indices(dev: &Arc<CudaDevice>, idx: &[usize]) -> Result<CudaBuffer> {
    let v: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
    CudaBuffer::from_host(dev, DType::I64, v.len(), bytes_of(&v))
}

/// The bytes of a slice of plain numbers.
pub fn bytes_of<T: Copy>(v: &[T]) -> &[u8] {
    // SAFETY: the element types used here (numbers and bool) have no padding.
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) }
}

/// `dst[offset + positions[k]] = values[k]`.
pub fn put(
    dst: &CudaBuffer,
    offset: usize,
    positions: &[usize],
    values: &CudaBuffer,
) -> Result<()> {
    let dev = dst.device();
    let pos = upload_indices(dev, positions)?;
    let (n64, pp, dp, off, vp) = (
        positions.len() as i64,
        pos.ptr(),
        dst.ptr(),
        offset as i64,
        values.ptr(),
    );
    elementwise(
        dev,
        Source::Elementwise,
        &format!("put_{}", suffix(dst.dtype())),
        positions.len(),
        &mut [arg(&n64), arg(&pp), arg(&dp), arg(&off), arg(&vp)],
    )
}

// ----- reductions ----------------------------------------------------------------------------

/// Rows at most this long are reduced by one thread each instead of one block each.
const SHORT_ROW: usize = 32;

/// How to split `len` items into chunks so that `rows * chunks` work items fill the device:
/// (chunks, chunk_len), every chunk nonempty and at least `min_chunk` long (except a lone one).
fn split(rows: usize, len: usize, min_chunk: usize, target: usize) -> (usize, usize) {
    let max_chunks = len.div_ceil(min_chunk).max(1);
    let chunks = target.div_ceil(rows.max(1)).clamp(1, max_chunks);
    let chunk_len = len.div_ceil(chunks).max(1);
    (len.div_ceil(chunk_len).max(1), chunk_len)
}

/// Row sums of a contiguous `[n_out, n_red]` block starting at element `offset`. Long rows
/// with few outputs are split over many blocks and summed in a second pass; short rows take
/// one thread each.
pub fn sum_rows(x: &CudaBuffer, offset: usize, n_out: usize, n_red: usize) -> Result<CudaBuffer> {
    let dev = x.device();
    let dtype = x.dtype();
    let out = CudaBuffer::alloc(dev, dtype, n_out)?;
    if n_out == 0 {
        return Ok(out);
    }
    if n_red == 0 {
        dev.zero(out.ptr(), n_out * dtype.size_of())?;
        return Ok(out);
    }
    if n_red <= SHORT_ROW {
        let (r, l, xp, op) = (n_out as i64, n_red as i64, x.ptr_at(offset), out.ptr());
        elementwise(
            dev,
            Source::Reduce,
            &format!("sum_rows_small_{}", suffix(dtype)),
            n_out,
            &mut [arg(&r), arg(&l), arg(&xp), arg(&op)],
        )?;
        return Ok(out);
    }
    // Enough blocks to fill every SM twice over.
    let target_blocks = dev.grid_for(usize::MAX) as usize / 2;
    let (chunks, chunk_len) = split(n_out, n_red, 4096, target_blocks);
    let name = format!("sum_rows_{}", suffix(dtype));
    let launch = |src: u64, rows: usize, len: usize, chunks: usize, chunk_len: usize, dst: u64| {
        let (r, l, c, cl) = (rows as i64, len as i64, chunks as i64, chunk_len as i64);
        dev.launch(
            Source::Reduce,
            &name,
            row_grid(rows * chunks),
            BLOCK,
            &mut [arg(&r), arg(&l), arg(&c), arg(&cl), arg(&src), arg(&dst)],
        )
    };
    if chunks == 1 {
        launch(x.ptr_at(offset), n_out, n_red, 1, n_red, out.ptr())?;
    } else {
        let partial = CudaBuffer::alloc(dev, dtype, n_out * chunks)?;
        launch(
            x.ptr_at(offset),
            n_out,
            n_red,
            chunks,
            chunk_len,
            partial.ptr(),
        )?;
        launch(partial.ptr(), n_out, chunks, 1, chunks, out.ptr())?;
    }
    Ok(out)
}

/// Sums over the leading dim of a contiguous `[n_red, n_out]` block at element `offset`
/// (a bias gradient): one thread per column and chunk of rows, then a pass over the chunks.
pub fn sum_cols(x: &CudaBuffer, offset: usize, n_red: usize, n_out: usize) -> Result<CudaBuffer> {
    let dev = x.device();
    let dtype = x.dtype();
    let name = format!("sum_cols_{}", suffix(dtype));
    let launch = |src: u64, rows: usize, chunks: usize, chunk_len: usize, dst: u64| {
        let (r, c, ch, cl) = (rows as i64, n_out as i64, chunks as i64, chunk_len as i64);
        elementwise(
            dev,
            Source::Reduce,
            &name,
            n_out * chunks,
            &mut [arg(&r), arg(&c), arg(&ch), arg(&cl), arg(&src), arg(&dst)],
        )
    };
    let out = CudaBuffer::alloc(dev, dtype, n_out)?;
    if n_red == 0 {
        dev.zero(out.ptr(), n_out * dtype.size_of())?;
        return Ok(out);
    }
    let target_threads = dev.grid_for(usize::MAX) as usize * BLOCK as usize;
    let (chunks, chunk_len) = split(n_out, n_red, 16, target_threads);
    if chunks == 1 {
        launch(x.ptr_at(offset), n_red, 1, n_red, out.ptr())?;
    } else {
        let partial = CudaBuffer::alloc(dev, dtype, chunks * n_out)?;
        launch(x.ptr_at(offset), n_red, chunks, chunk_len, partial.ptr())?;
        launch(partial.ptr(), chunks, 1, chunks, out.ptr())?;
    }
    Ok(out)
}

/// Blocks for one-block-per-row kernels.
fn row_grid(rows: usize) -> u32 {
    rows.clamp(1, 1 << 20) as u32
}

/// Max (or min) and first index of each row of a contiguous `[n_out, n]` buffer (n > 0).
/// Short rows take a thread each; long rows with few outputs are split over many blocks and
/// the pieces' winners compared in a second pass.
pub fn extreme_rows(
    x: &CudaBuffer,
    n_out: usize,
    n: usize,
    max: bool,
) -> Result<(CudaBuffer, CudaBuffer)> {
    // Callers check first (with the op's own message); an empty row has no extreme.
    assert!(n > 0 || n_out == 0, "extreme_rows of empty rows");
    let dev = x.device();
    let dtype = x.dtype();
    let values = CudaBuffer::alloc(dev, dtype, n_out)?;
    let indices = CudaBuffer::alloc(dev, DType::I64, n_out)?;
    if n_out == 0 {
        return Ok((values, indices));
    }
    let mx = max as i32;
    if n <= SHORT_ROW {
        let (r, len, xp, vp, ip) = (n_out as i64, n as i64, x.ptr(), values.ptr(), indices.ptr());
        elementwise(
            dev,
            Source::Reduce,
            &format!("extreme_rows_small_{}", suffix(dtype)),
            n_out,
            &mut [arg(&r), arg(&len), arg(&xp), arg(&vp), arg(&ip), arg(&mx)],
        )?;
        return Ok((values, indices));
    }
    let name = format!("extreme_rows_{}", suffix(dtype));
    let launch =
        |src: u64, idx_in: u64, len: usize, chunks: usize, chunk_len: usize, v: u64, i: u64| {
            let (r, l, c, cl) = (n_out as i64, len as i64, chunks as i64, chunk_len as i64);
            dev.launch(
                Source::Reduce,
                &name,
                row_grid(n_out * chunks),
                BLOCK,
                &mut [
                    arg(&r),
                    arg(&l),
                    arg(&c),
                    arg(&cl),
                    arg(&src),
                    arg(&idx_in),
                    arg(&v),
                    arg(&i),
                    arg(&mx),
                ],
            )
        };
    let target_blocks = dev.grid_for(usize::MAX) as usize / 2;
    let (chunks, chunk_len) = split(n_out, n, 4096, target_blocks);
    if chunks == 1 {
        launch(x.ptr(), 0, n, 1, n, values.ptr(), indices.ptr())?;
    } else {
        let pv = CudaBuffer::alloc(dev, dtype, n_out * chunks)?;
        let pi = CudaBuffer::alloc(dev, DType::I64, n_out * chunks)?;
        launch(x.ptr(), 0, n, chunks, chunk_len, pv.ptr(), pi.ptr())?;
        launch(
            pv.ptr(),
            pi.ptr(),
            chunks,
            1,
            chunks,
            values.ptr(),
            indices.ptr(),
        )?;
    }
    Ok((values, indices))
}

/// Softmax (or log-softmax) of each row of a contiguous `[n_out, n]` buffer.
pub fn softmax_rows(x: &CudaBuffer, n_out: usize, n: usize, log: bool) -> Result<CudaBuffer> {
    let dev = x.device();
    let out = CudaBuffer::alloc(dev, x.dtype(), n_out * n)?;
    if n_out == 0 || n == 0 {
        return Ok(out);
    }
    let (r, len, xp, op, lg) = (n_out as i64, n as i64, x.ptr(), out.ptr(), log as i32);
    let params: &mut [*mut c_void] = &mut [arg(&r), arg(&len), arg(&xp), arg(&op), arg(&lg)];
    if n <= SHORT_ROW {
        let name = format!("softmax_rows_small_{}", suffix(x.dtype()));
        elementwise(dev, Source::Reduce, &name, n_out, params)?;
    } else {
        let name = format!("softmax_rows_{}", suffix(x.dtype()));
        dev.launch(Source::Reduce, &name, row_grid(n_out), BLOCK, params)?;
    }
    Ok(out)
}

// ----- gathers and scatters ------------------------------------------------------------------

/// The one-hot of contiguous int64 `indices` (`[outer, inner]`) along a new middle dim of
/// size `n`, in `dtype` (float or int64).
pub fn one_hot(
    indices: &CudaBuffer,
    offset: usize,
    outer: usize,
    n: usize,
    inner: usize,
    dtype: DType,
) -> Result<CudaBuffer> {
    let dev = indices.device();
    let total = outer * n * inner;
    let out = CudaBuffer::alloc(dev, dtype, total)?;
    let (t, len, inn, ip, op) = (
        total as i64,
        n as i64,
        inner as i64,
        indices.ptr_at(offset),
        out.ptr(),
    );
    elementwise(
        dev,
        Source::Index,
        &format!("one_hot_{}", suffix(dtype)),
        total,
        &mut [arg(&t), arg(&ip), arg(&len), arg(&inn), arg(&op)],
    )?;
    Ok(out)
}

/// Launches `{family}_{dtype}` (index_select or index_add: the same arguments) over the
/// `outer * index.len() * inner` elements of the indexed side.
fn along_index(
    family: &str,
    src: (&CudaBuffer, usize),
    outer: usize,
    n: usize,
    inner: usize,
    index: &[usize],
    out: &CudaBuffer,
) -> Result<()> {
    let dev = out.device();
    let total = outer * index.len() * inner;
    if total == 0 {
        return Ok(());
    }
    let idx = upload_indices(dev, index)?;
    let (t, len, inn, k, sp, ip, op) = (
        total as i64,
        n as i64,
        inner as i64,
        index.len() as i64,
        src.0.ptr_at(src.1),
        idx.ptr(),
        out.ptr(),
    );
    elementwise(
        dev,
        Source::Index,
        &format!("{family}_{}", suffix(out.dtype())),
        total,
        &mut [
            arg(&t),
            arg(&sp),
            arg(&len),
            arg(&inn),
            arg(&ip),
            arg(&k),
            arg(&op),
        ],
    )
}

/// `x[:, index, :]` of a contiguous `[outer, n, inner]` block at element `offset`.
pub fn index_select(
    x: &CudaBuffer,
    offset: usize,
    outer: usize,
    n: usize,
    inner: usize,
    index: &[usize],
) -> Result<CudaBuffer> {
    let out = CudaBuffer::alloc(x.device(), x.dtype(), outer * index.len() * inner)?;
    along_index("index_select", (x, offset), outer, n, inner, index, &out)?;
    Ok(out)
}

/// Zeros of `[outer, n, inner]` with the contiguous `g` (`[outer, index.len(), inner]`, at
/// element `offset`) added at `index` along the middle dim.
pub fn index_add(
    g: &CudaBuffer,
    offset: usize,
    outer: usize,
    n: usize,
    inner: usize,
    index: &[usize],
) -> Result<CudaBuffer> {
    let out = CudaBuffer::zeros(g.device(), g.dtype(), outer * n * inner)?;
    along_index("index_add", (g, offset), outer, n, inner, index, &out)?;
    Ok(out)
}

// ----- matrix products -----------------------------------------------------------------------

/// How cuBLAS can read one matrix operand: its op, leading dimension and batch stride.
struct MatrixOperand {
    transposed: bool,
    ld: i32,
    batch_stride: i64,
}

/// Whether a `[batch, rows, cols]` layout can be read by cuBLAS directly: each matrix row- or
/// column-major with a usable leading dimension, and one stride between matrices.
fn blas_operand(l: &Layout, rows: usize, cols: usize) -> Option<MatrixOperand> {
    let (rs, cs, bs) = (l.strides[1], l.strides[2], l.strides[0]);
    // Leading dimensions are 32-bit in cuBLAS; batch strides are 64-bit.
    let fits = |v: isize| v >= 0 && v <= i32::MAX as isize;
    if bs < 0 {
        return None;
    }
    // Row-major: seen column-major it is already the transpose cuBLAS wants.
    if (cs == 1 || cols <= 1) && rs >= cols.max(1) as isize && fits(rs) {
        return Some(MatrixOperand {
            transposed: false,
            ld: rs.max(1) as i32,
            batch_stride: bs as i64,
        });
    }
    if (rs == 1 || rows <= 1) && cs >= rows.max(1) as isize && fits(cs) {
        return Some(MatrixOperand {
            transposed: true,
            ld: cs.max(1) as i32,
            batch_stride: bs as i64,
        });
    }
    None
}

/// How cuBLAS reads `v` (`[batch, rows, cols]`): in place when it can, else from a contiguous
/// copy, which is returned to be kept alive.
fn gemm_operand(v: View, rows: usize, cols: usize) -> Result<(GemmOperand, Option<CudaBuffer>)> {
    let read = |o: MatrixOperand, ptr: u64| GemmOperand {
        ptr,
        transposed: o.transposed,
        ld: o.ld,
        batch_stride: o.batch_stride,
    };
    if let Some(o) = blas_operand(v.layout, rows, cols) {
        return Ok((read(o, v.buf.ptr_at(v.layout.offset)), None));
    }
    let copy = gather(v)?;
    let o = blas_operand(&Layout::contiguous(&v.layout.shape), rows, cols)
        .expect("contiguous matrices are readable");
    Ok((read(o, copy.ptr()), Some(copy)))
}

/// `[batch, m, k] @ [batch, k, n]` into a fresh contiguous `[batch, m, n]` buffer. The
/// operands' layouts have exactly three dims (the caller merges batch dims or copies).
pub fn batched_matmul(
    a: View,
    b: View,
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
) -> Result<CudaBuffer> {
    let dev = a.buf.device();
    let dtype = a.buf.dtype();
    let out = CudaBuffer::alloc(dev, dtype, batch * m * n)?;
    if out.is_empty() {
        return Ok(out);
    }
    if k == 0 {
        dev.zero(out.ptr(), out.len() * dtype.size_of())?;
        return Ok(out);
    }
    let too_big = [batch, m, k, n].iter().any(|&d| d > i32::MAX as usize);
    if dtype == DType::I64 || too_big {
        return matmul_i64(a, b, batch, m, k, n, out);
    }
    float_gemm(a, b, (batch, m, k, n), out, 0.0, 1.0)
}

/// `beta * acc + alpha * (a @ b)` through cuBLAS, written over `acc` (a contiguous float
/// `[batch, m, n]` buffer, read only when `beta != 0`; `k > 0`, dims within cuBLAS's ints).
pub fn float_gemm(
    a: View,
    b: View,
    (batch, m, k, n): (usize, usize, usize, usize),
    acc: CudaBuffer,
    beta: f64,
    alpha: f64,
) -> Result<CudaBuffer> {
    let dev = a.buf.device();
    // Row-major C = A B is column-major C^T = B^T A^T: B goes first. The copies (where an
    // operand had to be made contiguous) live until the product is queued.
    let (gb, _copy_b) = gemm_operand(b, k, n)?;
    let (ga, _copy_a) = gemm_operand(a, m, k)?;
    let gemm = Gemm {
        dtype: a.buf.dtype(),
        m: n as i32,
        n: m as i32,
        k: k as i32,
        batch: batch as i32,
        a: gb,
        b: ga,
        c: acc.ptr(),
        alpha,
        beta,
    };
    // SAFETY: the operands address live buffers of the sizes their layouts describe.
    unsafe { dev.gemm(&gemm) }?;
    Ok(acc)
}

/// Integer products (and float ones too large for cuBLAS's int sizes) by a plain kernel on
/// contiguous copies.
fn matmul_i64(
    a: View,
    b: View,
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
    out: CudaBuffer,
) -> Result<CudaBuffer> {
    if a.buf.dtype() != DType::I64 {
        return Err(Error::Runtime(format!(
            "CUDA matmul: matrix dims {m}x{k} @ {k}x{n} (batch {batch}) exceed cuBLAS's limits"
        )));
    }
    let (ga, gb) = (gather(a)?, gather(b)?);
    let dev = out.device().clone();
    let (bt, mm, kk, nn, ap, bp, op) = (
        batch as i64,
        m as i64,
        k as i64,
        n as i64,
        ga.ptr(),
        gb.ptr(),
        out.ptr(),
    );
    elementwise(
        &dev,
        Source::Matmul,
        "matmul_i64",
        batch * m * n,
        &mut [
            arg(&bt),
            arg(&mm),
            arg(&kk),
            arg(&nn),
            arg(&ap),
            arg(&bp),
            arg(&op),
        ],
    )?;
    Ok(out)
}

// ----- random numbers ------------------------------------------------------------------------

/// `n` draws from U[0, 1) (`normal == false`) or N(0, 1) on `dev`, in a float dtype.
pub fn random(dev: &Arc<CudaDevice>, n: usize, dtype: DType, normal: bool) -> Result<CudaBuffer> {
    let out = CudaBuffer::alloc(dev, dtype, n)?;
    let (seed, offset) = dev.next_counters(if normal { 2 * n as u64 } else { n as u64 });
    let (n64, op) = (n as i64, out.ptr());
    let kind = if normal { "normal" } else { "uniform" };
    elementwise(
        dev,
        Source::Random,
        &format!("{kind}_{}", suffix(dtype)),
        n,
        &mut [arg(&n64), arg(&seed), arg(&offset), arg(&op)],
    )?;
    Ok(out)
}

// ----- optimizer steps -----------------------------------------------------------------------

/// One optimizer step on `n` contiguous elements: the parameter, its gradient and the
/// rule's state buffers, each at its element offset (`optim.cu`).
pub fn optimizer_step(
    param: (&CudaBuffer, usize),
    grad: (&CudaBuffer, usize),
    states: &[(&CudaBuffer, usize)],
    n: usize,
    h: &OptimStep,
) -> Result<()> {
    let dev = param.0.device();
    let dtype = param.0.dtype();
    let (pp, gp) = (param.0.ptr_at(param.1), grad.0.ptr_at(grad.1));
    let mut sp = [0u64; 3];
    for (slot, (b, o)) in sp.iter_mut().zip(states) {
        *slot = b.ptr_at(*o);
    }
    let flags: i32 = [
        h.maximize, h.nesterov, h.first, h.momentum, h.centered, h.amsgrad,
    ]
    .iter()
    .enumerate()
    .map(|(bit, &on)| (on as i32) << bit)
    .sum();
    let (n64, rule) = (n as i64, h.rule as i32);
    let (a, wd, decay) = (h.s, h.weight_decay, h.decay);
    elementwise(
        dev,
        Source::Optim,
        &format!("optim_step_{}", suffix(dtype)),
        n,
        &mut [
            arg(&n64),
            arg(&rule),
            arg(&flags),
            arg(&pp),
            arg(&gp),
            arg(&sp[0]),
            arg(&sp[1]),
            arg(&sp[2]),
            arg(&a[0]),
            arg(&a[1]),
            arg(&a[2]),
            arg(&a[3]),
            arg(&a[4]),
            arg(&a[5]),
            arg(&a[6]),
            arg(&wd),
            arg(&decay),
        ],
    )
}
