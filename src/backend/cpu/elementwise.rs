//! Elementwise maps over one, two or three (broadcast) operands.

use std::mem::MaybeUninit;

use smallvec::SmallVec;

use super::{pool, simd_twins, PARALLEL_THRESHOLD};
use crate::base::layout::{Layout, Strides};

/// The elements of `x` (laid out by `layout`) as a contiguous row-major vector.
pub fn gather<T: Copy + Send + Sync + 'static>(x: &[T], layout: &Layout) -> Vec<T> {
    if layout.is_contiguous() {
        return x[layout.offset..layout.offset + layout.numel()].to_vec();
    }
    let nd = layout.ndim();
    if nd >= 2 && layout.numel() > 0 {
        let (rows, cols) = (layout.shape[nd - 2], layout.shape[nd - 1]);
        if layout.strides[nd - 2] == 1 && layout.strides[nd - 1] == rows as isize && cols > 1 {
            // Each matrix of the last two dims is a transposed dense block (`permute` or
            // `.t()` then `contiguous()`): block transposes instead of an element walk.
            let mut out = vec![x[layout.offset]; layout.numel()];
            let block = rows * cols;
            let mut k = 0;
            for_each_offsets(
                &layout.shape[..nd - 2],
                [&layout.strides[..nd - 2]],
                [layout.offset],
                |[o]| {
                    transpose(&x[o..o + block], cols, rows, &mut out[k..k + block]);
                    k += block;
                },
            );
            return out;
        }
        if layout.strides[nd - 1] == 1 && cols >= MIN_ROW {
            // Rows of consecutive elements (a bias expanded over a batch, a column slice):
            // row copies.
            return by_rows(
                &layout.shape,
                [&layout.strides],
                [layout.offset],
                |[o], row| {
                    for (d, &v) in row.iter_mut().zip(&x[o..o + cols]) {
                        d.write(v);
                    }
                },
            );
        }
    }
    let mut out = Vec::with_capacity(layout.numel());
    layout.for_each_offset(|o| out.push(x[o]));
    out
}

/// `v`'s elements as slots to write into (a result computed in place of initialised memory).
///
/// # Safety
/// Whoever writes through the result writes values (never `MaybeUninit::uninit()`).
pub unsafe fn as_slots<T>(v: &mut [T]) -> &mut [MaybeUninit<T>] {
    // SAFETY: `MaybeUninit<T>` has `T`'s layout; the caller keeps every element initialised.
    unsafe { &mut *(v as *mut [T] as *mut [MaybeUninit<T>]) }
}

/// `dst` (`cols x rows`, row-major) = the transpose of `src` (`rows x cols`, row-major),
/// by tiles that keep both sides in cache.
pub fn transpose<T: Copy + 'static>(src: &[T], rows: usize, cols: usize, dst: &mut [T]) {
    // SAFETY: `transpose_into` writes only values.
    transpose_into(src, rows, cols, unsafe { as_slots(dst) })
}

/// [`transpose`] into slots that need not be initialised.
pub fn transpose_into<T: Copy + 'static>(
    src: &[T],
    rows: usize,
    cols: usize,
    dst: &mut [MaybeUninit<T>],
) {
    const TILE: usize = 16;
    assert!(src.len() >= rows * cols && dst.len() >= rows * cols);
    #[cfg(target_arch = "x86_64")]
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() && super::has_avx2() {
        // SAFETY: T is f32 (checked above), so the slices may be read as f32; the CPU has
        // AVX2; the lengths were checked above.
        unsafe {
            let src = std::slice::from_raw_parts(src.as_ptr().cast::<f32>(), src.len());
            let dst = std::slice::from_raw_parts_mut(
                dst.as_mut_ptr().cast::<MaybeUninit<f32>>(),
                dst.len(),
            );
            transpose_f32_avx(src, rows, cols, dst);
        }
        return;
    }
    for r0 in (0..rows).step_by(TILE) {
        let r1 = (r0 + TILE).min(rows);
        for c0 in (0..cols).step_by(TILE) {
            let c1 = (c0 + TILE).min(cols);
            for c in c0..c1 {
                let out = &mut dst[c * rows + r0..c * rows + r1];
                for (o, r) in out.iter_mut().zip(r0..r1) {
                    o.write(src[r * cols + c]);
                }
            }
        }
    }
}

/// [`transpose`] of f32 by 8 x 8 blocks in AVX registers (the edges element by element).
///
/// # Safety
/// The CPU must have AVX2; `src` and `dst` must hold `rows * cols` elements.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn transpose_f32_avx(src: &[f32], rows: usize, cols: usize, dst: &mut [MaybeUninit<f32>]) {
    use std::arch::x86_64::*;
    let (rb, cb) = (rows / 8 * 8, cols / 8 * 8);
    let (s, d) = (src.as_ptr(), dst.as_mut_ptr().cast::<f32>());
    for r in (0..rb).step_by(8) {
        for c in (0..cb).step_by(8) {
            // Rows r..r+8 of columns c..c+8, then the standard unpack/shuffle/permute steps.
            let row = |i: usize| _mm256_loadu_ps(s.add((r + i) * cols + c));
            let (a0, a1, a2, a3) = (row(0), row(1), row(2), row(3));
            let (a4, a5, a6, a7) = (row(4), row(5), row(6), row(7));
            let (t0, t1) = (_mm256_unpacklo_ps(a0, a1), _mm256_unpackhi_ps(a0, a1));
            let (t2, t3) = (_mm256_unpacklo_ps(a2, a3), _mm256_unpackhi_ps(a2, a3));
            let (t4, t5) = (_mm256_unpacklo_ps(a4, a5), _mm256_unpackhi_ps(a4, a5));
            let (t6, t7) = (_mm256_unpacklo_ps(a6, a7), _mm256_unpackhi_ps(a6, a7));
            let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
            let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
            let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
            let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
            let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
            let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
            let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
            let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
            let out = |j: usize, v: __m256| _mm256_storeu_ps(d.add((c + j) * rows + r), v);
            out(0, _mm256_permute2f128_ps::<0x20>(u0, u4));
            out(1, _mm256_permute2f128_ps::<0x20>(u1, u5));
            out(2, _mm256_permute2f128_ps::<0x20>(u2, u6));
            out(3, _mm256_permute2f128_ps::<0x20>(u3, u7));
            out(4, _mm256_permute2f128_ps::<0x31>(u0, u4));
            out(5, _mm256_permute2f128_ps::<0x31>(u1, u5));
            out(6, _mm256_permute2f128_ps::<0x31>(u2, u6));
            out(7, _mm256_permute2f128_ps::<0x31>(u3, u7));
        }
    }
    for r in 0..rows {
        let from = if r < rb { cb } else { 0 };
        for c in from..cols {
            dst[c * rows + r].write(src[r * cols + c]);
        }
    }
}

/// Elements per pool task in the parallel contiguous loops.
const CHUNK: usize = 1 << 14;

/// The loop body of every contiguous kernel. On x86-64 CPUs with AVX2 and FMA the same loop
/// runs from a copy compiled for them, so closures made of plain arithmetic (and
/// [`super::fastmath`]) vectorise eight floats wide; the wheel itself targets baseline x86-64.
#[inline(always)]
fn run_loop<T: Copy, U, F: Fn(T) -> U>(src: &[T], dst: &mut [MaybeUninit<U>], f: &F) {
    for (d, &s) in dst.iter_mut().zip(src) {
        d.write(f(s));
    }
}

#[inline(always)]
fn run_loop2<T: Copy, U, F: Fn(T, T) -> U>(a: &[T], b: &[T], dst: &mut [MaybeUninit<U>], f: &F) {
    for ((d, &x), &y) in dst.iter_mut().zip(a).zip(b) {
        d.write(f(x, y));
    }
}

simd_twins!(fn map_chunk[T: Copy, U, F: Fn(T) -> U](src: &[T], dst: &mut [MaybeUninit<U>], f: &F) => run_loop);
simd_twins!(fn zip_chunk[T: Copy, U, F: Fn(T, T) -> U](a: &[T], b: &[T], dst: &mut [MaybeUninit<U>], f: &F) => run_loop2);

/// `f` over a contiguous slice into a new vector, on our pool from `threshold` elements on.
fn map_contiguous<T, U, F>(src: &[T], threshold: usize, f: &F) -> Vec<U>
where
    T: Copy + Send + Sync,
    U: Copy + Send + Sync,
    F: Fn(T) -> U + Sync + Send,
{
    map_slices(src, threshold, |s, d| map_chunk(s, d, f))
}

/// `kernel(piece of src, its slots in the result)` over a contiguous slice (a map whose loop
/// is written by hand), on our pool from `threshold` elements on.
pub fn map_slices<T, U, K>(src: &[T], threshold: usize, kernel: K) -> Vec<U>
where
    T: Copy + Send + Sync,
    U: Copy + Send + Sync,
    K: Fn(&[T], &mut [MaybeUninit<U>]) + Sync,
{
    let n = src.len();
    let mut out: Vec<U> = Vec::with_capacity(n);
    let dst = &mut out.spare_capacity_mut()[..n];
    if n >= threshold {
        let chunk = CHUNK.min(threshold / 2).max(1);
        pool::chunks_mut(dst, chunk, |at, d| kernel(&src[at..at + d.len()], d));
    } else {
        kernel(src, dst);
    }
    // SAFETY: every one of the `n` slots was written above.
    unsafe { out.set_len(n) };
    out
}

/// `f` over two contiguous slices of equal length into a new vector.
fn zip_contiguous<T, U, F>(a: &[T], b: &[T], f: &F) -> Vec<U>
where
    T: Copy + Send + Sync,
    U: Copy + Send + Sync,
    F: Fn(T, T) -> U + Sync + Send,
{
    let n = a.len();
    let mut out: Vec<U> = Vec::with_capacity(n);
    let dst = &mut out.spare_capacity_mut()[..n];
    if n >= PARALLEL_THRESHOLD {
        pool::chunks_mut(dst, CHUNK, |at, d| {
            let end = at + d.len();
            zip_chunk(&a[at..end], &b[at..end], d, f)
        });
    } else {
        zip_chunk(a, b, dst, f);
    }
    // SAFETY: every one of the `n` slots was written above.
    unsafe { out.set_len(n) };
    out
}

/// `f` applied to every element of `x`, in row-major order.
pub fn map<T, U, F>(x: &[T], layout: &Layout, f: F) -> Vec<U>
where
    T: Copy + Send + Sync,
    U: Copy + Send + Sync,
    F: Fn(T) -> U + Sync + Send,
{
    map_costing(x, layout, PARALLEL_THRESHOLD, f)
}

/// Below this many elements a costly map (a transcendental function: tens of instructions
/// per element) runs on the calling thread. At 65k elements `tanh` took 2.5x PyTorch's time
/// on one thread while `relu` was even; this is PyTorch's grain size (BENCHMARKS.md).
pub const COSTLY_PARALLEL_THRESHOLD: usize = 1 << 13;

/// [`map`] of a costly `f`: on our pool from [`COSTLY_PARALLEL_THRESHOLD`] elements on.
pub fn map_costly<T, U, F>(x: &[T], layout: &Layout, f: F) -> Vec<U>
where
    T: Copy + Send + Sync,
    U: Copy + Send + Sync,
    F: Fn(T) -> U + Sync + Send,
{
    map_costing(x, layout, COSTLY_PARALLEL_THRESHOLD, f)
}

fn map_costing<T, U, F>(x: &[T], layout: &Layout, threshold: usize, f: F) -> Vec<U>
where
    T: Copy + Send + Sync,
    U: Copy + Send + Sync,
    F: Fn(T) -> U + Sync + Send,
{
    let n = layout.numel();
    if layout.is_contiguous() {
        return map_contiguous(&x[layout.offset..layout.offset + n], threshold, &f);
    }
    if is_single(layout) && n > 0 {
        return vec![f(x[layout.offset]); n];
    }
    let nd = layout.ndim();
    if nd >= 2 && layout.strides[nd - 1] == 1 && layout.shape[nd - 1] >= MIN_ROW {
        // Rows of consecutive elements (a slice of columns, a transposed batch): each row
        // through the vectorised loop.
        return by_rows(
            &layout.shape,
            [&layout.strides],
            [layout.offset],
            |[o], d| map_chunk(&x[o..o + d.len()], d, &f),
        );
    }
    map_strided(x, layout, &f)
}

simd_twins!(fn map_strided[T: Copy, U, F: Fn(T) -> U](x: &[T], layout: &Layout, f: &F) -> Vec<U> => map_strided_loop);

/// The per-element walk of any view (compiled for AVX2 and FMA too, so `f`'s fused
/// multiply-adds are instructions, not libm calls).
#[inline(always)]
fn map_strided_loop<T: Copy, U, F: Fn(T) -> U>(x: &[T], layout: &Layout, f: &F) -> Vec<U> {
    let mut out = Vec::with_capacity(layout.numel());
    layout.for_each_offset(|o| out.push(f(x[o])));
    out
}

/// Rows at least this long go through the contiguous (vectorised) loops one by one when the
/// whole view is not contiguous.
const MIN_ROW: usize = 16;

/// A new vector of `shape`'s elements filled row by row: `fill(offsets, row)` writes one
/// innermost row, given the operands' offsets at its start (`strides` are the operands'
/// strides broadcast to `shape`; their inner strides are the callers' business).
fn by_rows<U, const N: usize>(
    shape: &[usize],
    strides: [&[isize]; N],
    offsets: [usize; N],
    mut fill: impl FnMut([usize; N], &mut [MaybeUninit<U>]),
) -> Vec<U> {
    let nd = shape.len();
    let inner = shape[nd - 1];
    let n: usize = shape.iter().product();
    let mut out: Vec<U> = Vec::with_capacity(n);
    let dst = &mut out.spare_capacity_mut()[..n];
    let mut rows = dst.chunks_mut(inner.max(1));
    let outer = strides.map(|s| &s[..nd - 1]);
    for_each_offsets(&shape[..nd - 1], outer, offsets, |at| {
        if let Some(row) = rows.next() {
            fill(at, row);
        }
    });
    // SAFETY: `for_each_offsets` visits each of the `n / inner` rows once, in order, and
    // `fill` writes every slot of its row.
    unsafe { out.set_len(n) };
    out
}

/// Whether every element of the layout is the same storage element.
fn is_single(l: &Layout) -> bool {
    // (a layout without elements has none to read, whatever its strides: NumPy gives an
    // empty array stride 0)
    !l.shape.contains(&0)
        && l.strides
            .iter()
            .zip(&l.shape)
            .all(|(&s, &d)| s == 0 || d == 1)
}

/// Strides of `layout` broadcast to `shape` (0 along broadcast dimensions).
fn broadcast_strides(layout: &Layout, shape: &[usize]) -> Strides {
    let lead = shape.len() - layout.ndim();
    let mut strides: Strides = SmallVec::from_elem(0, shape.len());
    for i in lead..shape.len() {
        let d = layout.shape[i - lead];
        strides[i] = if d == 1 && shape[i] != 1 {
            0
        } else {
            layout.strides[i - lead]
        };
    }
    strides
}

/// Walks `shape` in row-major order, calling `f` with the matching offset into each operand.
fn for_each_offsets<const N: usize>(
    shape: &[usize],
    strides: [&[isize]; N],
    offsets: [usize; N],
    mut f: impl FnMut([usize; N]),
) {
    let total: usize = shape.iter().product();
    if total == 0 {
        return;
    }
    if shape.is_empty() {
        f(offsets);
        return;
    }
    let nd = shape.len();
    let inner = shape[nd - 1];
    let mut index: SmallVec<[usize; 6]> = SmallVec::from_elem(0, nd);
    let mut base: [isize; N] = offsets.map(|o| o as isize);
    loop {
        let mut p = base;
        for _ in 0..inner {
            f(p.map(|v| v as usize));
            for k in 0..N {
                p[k] += strides[k][nd - 1];
            }
        }
        let mut d = nd - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            index[d] += 1;
            for k in 0..N {
                base[k] += strides[k][d];
            }
            if index[d] < shape[d] {
                break;
            }
            for k in 0..N {
                base[k] -= strides[k][d] * shape[d] as isize;
            }
            index[d] = 0;
        }
    }
}

/// `f(a, b)` with NumPy broadcasting to `shape` (already the broadcast of both shapes).
pub fn zip<T, U, F>(a: &[T], la: &Layout, b: &[T], lb: &Layout, shape: &[usize], f: F) -> Vec<U>
where
    T: Copy + Send + Sync,
    U: Copy + Send + Sync,
    F: Fn(T, T) -> U + Sync + Send,
{
    let n: usize = shape.iter().product();
    let same = la.shape.as_slice() == shape && lb.shape.as_slice() == shape;
    if same && la.is_contiguous() && lb.is_contiguous() {
        let (sa, sb) = (&a[la.offset..la.offset + n], &b[lb.offset..lb.offset + n]);
        return zip_contiguous(sa, sb, &f);
    }
    // One operand is a single element (possibly expanded, as the gradient of a sum is): a
    // plain map over the other.
    if is_single(lb) && la.shape.as_slice() == shape {
        let y = b[lb.offset];
        return map(a, la, |x| f(x, y));
    }
    if is_single(la) && lb.shape.as_slice() == shape {
        let x = a[la.offset];
        return map(b, lb, |y| f(x, y));
    }
    // One operand repeats along the leading dims (a bias added to a batch): row by row.
    if let Some(inner) = repeats_by_rows(la, lb, shape) {
        let (full, row) = (
            &a[la.offset..la.offset + n],
            &b[lb.offset..lb.offset + inner],
        );
        return rows_contiguous(full, row, &f);
    }
    if let Some(inner) = repeats_by_rows(lb, la, shape) {
        let (row, full) = (
            &a[la.offset..la.offset + inner],
            &b[lb.offset..lb.offset + n],
        );
        return rows_contiguous(full, row, &|y, x| f(x, y));
    }
    let (sa, sb) = (broadcast_strides(la, shape), broadcast_strides(lb, shape));
    let nd = shape.len();
    if nd >= 2 && shape[nd - 1] >= MIN_ROW && n > 0 {
        // Rows of consecutive elements in each operand (or one element repeated along the
        // row): each row through the vectorised loops.
        let offsets = [la.offset, lb.offset];
        match (sa[nd - 1], sb[nd - 1]) {
            (1, 1) => {
                return by_rows(shape, [&sa, &sb], offsets, |[i, j], d| {
                    zip_chunk(&a[i..i + d.len()], &b[j..j + d.len()], d, &f)
                })
            }
            (1, 0) => {
                return by_rows(shape, [&sa, &sb], offsets, |[i, j], d| {
                    let y = b[j];
                    map_chunk(&a[i..i + d.len()], d, &|x| f(x, y))
                })
            }
            (0, 1) => {
                return by_rows(shape, [&sa, &sb], offsets, |[i, j], d| {
                    let x = a[i];
                    map_chunk(&b[j..j + d.len()], d, &|y| f(x, y))
                })
            }
            _ => {}
        }
    }
    zip_strided(a, b, [&sa, &sb], [la.offset, lb.offset], shape, &f)
}

simd_twins!(fn zip_strided[T: Copy, U, F: Fn(T, T) -> U](a: &[T], b: &[T], strides: [&[isize]; 2], offsets: [usize; 2], shape: &[usize], f: &F) -> Vec<U> => zip_strided_loop);

/// The per-element walk of two broadcast views (an AVX2 and FMA copy too, as `map_strided`).
#[inline(always)]
fn zip_strided_loop<T: Copy, U, F: Fn(T, T) -> U>(
    a: &[T],
    b: &[T],
    strides: [&[isize]; 2],
    offsets: [usize; 2],
    shape: &[usize],
    f: &F,
) -> Vec<U> {
    let mut out = Vec::with_capacity(shape.iter().product());
    for_each_offsets(shape, strides, offsets, |[i, j]| out.push(f(a[i], b[j])));
    out
}

/// When `full` is a contiguous tensor of `shape` and `row` a contiguous tensor equal to its
/// trailing dims (after dropping leading 1s), the length of one row.
fn repeats_by_rows(full: &Layout, row: &Layout, shape: &[usize]) -> Option<usize> {
    if full.shape.as_slice() != shape || !full.is_contiguous() || !row.is_contiguous() {
        return None;
    }
    let trimmed: &[usize] = {
        let lead = row.shape.iter().take_while(|&&d| d == 1).count();
        &row.shape[lead..]
    };
    let inner: usize = trimmed.iter().product();
    (inner > 0 && shape.ends_with(trimmed)).then_some(inner)
}

/// `f(full[i], row[i % row.len()])` for a row-broadcast operand.
fn rows_contiguous<T, U, F>(full: &[T], row: &[T], f: &F) -> Vec<U>
where
    T: Copy + Send + Sync,
    U: Copy + Send + Sync,
    F: Fn(T, T) -> U + Sync + Send,
{
    let (n, inner) = (full.len(), row.len());
    let mut out: Vec<U> = Vec::with_capacity(n);
    let dst = &mut out.spare_capacity_mut()[..n];
    if n >= PARALLEL_THRESHOLD && inner >= 64 {
        // Whole rows per task: about CHUNK elements each.
        let rows = (CHUNK / inner).max(1);
        pool::chunks_mut(dst, rows * inner, |at, d| {
            for (k, d) in d.chunks_mut(inner).enumerate() {
                let x = &full[at + k * inner..at + (k + 1) * inner];
                zip_chunk(x, row, d, f);
            }
        });
    } else {
        for (x, d) in full.chunks(inner).zip(dst.chunks_mut(inner)) {
            zip_chunk(x, row, d, f);
        }
    }
    // SAFETY: every one of the `n` slots was written above.
    unsafe { out.set_len(n) };
    out
}

/// One row of `zip3` whose operands step by `SC`, `SA`, `SB` (each 0 or 1) from `k`, `i`, `j`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn row3<
    C: Copy,
    T: Copy,
    U,
    F: Fn(C, T, T) -> U,
    const SC: usize,
    const SA: usize,
    const SB: usize,
>(
    c: &[C],
    k: usize,
    a: &[T],
    i: usize,
    b: &[T],
    j: usize,
    dst: &mut [MaybeUninit<U>],
    f: &F,
) {
    let n = dst.len();
    // Bounds checked once per row, so the loop below has none.
    let (c, a, b) = (
        &c[k..k + (n - 1) * SC + 1],
        &a[i..i + (n - 1) * SA + 1],
        &b[j..j + (n - 1) * SB + 1],
    );
    for (x, d) in dst.iter_mut().enumerate() {
        d.write(f(c[x * SC], a[x * SA], b[x * SB]));
    }
}

/// `f(c, a, b)` with broadcasting of all three to `shape` (used by `where`).
#[allow(clippy::too_many_arguments)]
pub fn zip3<C, T, U, F>(
    c: &[C],
    lc: &Layout,
    a: &[T],
    la: &Layout,
    b: &[T],
    lb: &Layout,
    shape: &[usize],
    f: F,
) -> Vec<U>
where
    C: Copy,
    T: Copy,
    F: Fn(C, T, T) -> U,
{
    let (sc, sa, sb) = (
        broadcast_strides(lc, shape),
        broadcast_strides(la, shape),
        broadcast_strides(lb, shape),
    );
    let nd = shape.len();
    let n: usize = shape.iter().product();
    if n > 0 && nd >= 1 && shape[nd - 1] >= MIN_ROW {
        // Rows whose operands are each consecutive or one repeated element (`where(mask, g,
        // 0)` of the masked gradients): loops with those strides known at compile time.
        let shape2: SmallVec<[usize; 6]> = if nd == 1 {
            SmallVec::from_slice(&[1, shape[0]])
        } else {
            SmallVec::from_slice(shape)
        };
        let lift = |s: &Strides| -> Strides {
            if nd == 1 {
                SmallVec::from_slice(&[0, s[0]])
            } else {
                s.clone()
            }
        };
        let (sc2, sa2, sb2) = (lift(&sc), lift(&sa), lift(&sb));
        let offsets = [lc.offset, la.offset, lb.offset];
        let strides = [&sc2[..], &sa2[..], &sb2[..]];
        macro_rules! rows {
            ($($pc:literal $pa:literal $pb:literal),*) => {
                match (sc2[sc2.len() - 1], sa2[sa2.len() - 1], sb2[sb2.len() - 1]) {
                    $(($pc, $pa, $pb) => {
                        return by_rows(&shape2, strides, offsets, |[k, i, j], d| {
                            row3::<_, _, _, _, $pc, $pa, $pb>(c, k, a, i, b, j, d, &f)
                        })
                    })*
                    _ => {}
                }
            };
        }
        rows!(1 1 1, 1 1 0, 1 0 1, 0 1 1, 1 0 0, 0 1 0, 0 0 1);
    }
    let mut out = Vec::with_capacity(n);
    for_each_offsets(
        shape,
        [&sc, &sa, &sb],
        [lc.offset, la.offset, lb.offset],
        |[k, i, j]| out.push(f(c[k], a[i], b[j])),
    );
    out
}

/// Every element of `dst` set to `value`, on our pool when it is large.
pub fn fill<T: Copy + Send + Sync>(dst: &mut [T], value: T) {
    // SAFETY: `fill_slots` writes only values.
    fill_slots(unsafe { as_slots(dst) }, value)
}

/// [`fill`] of slots that need not be initialised.
pub fn fill_slots<T: Copy + Send + Sync>(dst: &mut [MaybeUninit<T>], value: T) {
    if dst.len() >= PARALLEL_THRESHOLD {
        pool::chunks_mut(dst, CHUNK, |_, d| d.fill(MaybeUninit::new(value)));
    } else {
        dst.fill(MaybeUninit::new(value));
    }
}

/// Writes `src` (contiguous, broadcast to `dst_layout`'s shape from `src_shape`) into the
/// elements of `dst` that `dst_layout` addresses.
pub fn write_into<T: Copy>(dst: &mut [T], dst_layout: &Layout, src: &[T], src_shape: &[usize]) {
    if dst_layout.is_contiguous() && dst_layout.shape.as_slice() == src_shape {
        // The common case (in-place updates of whole tensors): one memcpy.
        let n = src.len();
        dst[dst_layout.offset..dst_layout.offset + n].copy_from_slice(src);
        return;
    }
    let src_layout = Layout::contiguous(src_shape);
    let ss = broadcast_strides(&src_layout, &dst_layout.shape);
    for_each_offsets(
        &dst_layout.shape,
        [&dst_layout.strides, &ss],
        [dst_layout.offset, 0],
        |[d, s]| dst[d] = src[s],
    );
}

#[inline(always)]
fn assign_loop<T: Copy, F: Fn(T, T) -> T>(dst: &mut [T], src: &[T], f: &F) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = f(*d, s);
    }
}

simd_twins!(fn assign_chunk[T: Copy, F: Fn(T, T) -> T](dst: &mut [T], src: &[T], f: &F) => assign_loop);
simd_twins!(fn assign_scalar[T: Copy, F: Fn(T, T) -> T](dst: &mut [T], y: T, f: &F) => assign_scalar_loop);

#[inline(always)]
fn assign_scalar_loop<T: Copy, F: Fn(T, T) -> T>(dst: &mut [T], y: T, f: &F) {
    for d in dst.iter_mut() {
        *d = f(*d, y);
    }
}

/// `dst[o] = f(dst[o], src[p])` for each element of `dst_layout` (offset `o`) and the
/// matching element of `src_layout` (offset `p`; already broadcast to the same shape): an
/// in-place update (`p -= g`, `copy_`) in one pass, with no temporary. The two never share
/// memory, and `dst_layout` addresses each element once.
pub fn zip_assign<T, F>(dst: &mut [T], dst_layout: &Layout, src: &[T], src_layout: &Layout, f: F)
where
    T: Copy + Send + Sync,
    F: Fn(T, T) -> T + Sync,
{
    let (ld, ls) = (dst_layout, src_layout);
    let n = ld.numel();
    if n == 0 {
        return;
    }
    if ld.is_contiguous() {
        let d = &mut dst[ld.offset..ld.offset + n];
        if ls.is_contiguous() {
            let s = &src[ls.offset..ls.offset + n];
            if n >= PARALLEL_THRESHOLD {
                pool::chunks_mut(d, CHUNK, |at, d| assign_chunk(d, &s[at..at + d.len()], &f));
            } else {
                assign_chunk(d, s, &f);
            }
            return;
        }
        if is_single(ls) {
            let y = src[ls.offset];
            if n >= PARALLEL_THRESHOLD {
                pool::chunks_mut(d, CHUNK, |_, d| assign_scalar(d, y, &f));
            } else {
                assign_scalar(d, y, &f);
            }
            return;
        }
    }
    let nd = ld.ndim();
    if nd >= 1 && ld.strides[nd - 1] == 1 && ld.shape[nd - 1] >= MIN_ROW {
        // Rows of consecutive destination elements, each against a row of consecutive (or
        // one repeated) source elements: a bias added in place, a slice of columns.
        let inner = ld.shape[nd - 1];
        let outer = &ld.shape[..nd - 1];
        let strides = [&ld.strides[..nd - 1], &ls.strides[..nd - 1]];
        match ls.strides[nd - 1] {
            1 => {
                for_each_offsets(outer, strides, [ld.offset, ls.offset], |[i, j]| {
                    assign_chunk(&mut dst[i..i + inner], &src[j..j + inner], &f)
                });
                return;
            }
            0 => {
                for_each_offsets(outer, strides, [ld.offset, ls.offset], |[i, j]| {
                    assign_scalar(&mut dst[i..i + inner], src[j], &f)
                });
                return;
            }
            _ => {}
        }
    }
    for_each_offsets(
        &ld.shape,
        [&ld.strides, &ls.strides],
        [ld.offset, ls.offset],
        |[i, j]| dst[i] = f(dst[i], src[j]),
    );
}

/// Adds `src` (contiguous in `dst_layout`'s order) into the addressed elements of `dst`;
/// repeated offsets (an expanded destination) accumulate.
pub fn add_into<T: Copy + Send + Sync + std::ops::Add<Output = T>>(
    dst: &mut [T],
    dst_layout: &Layout,
    src: &[T],
) {
    let n = dst_layout.numel();
    let add_row = |d: &mut [T], s: &[T]| d.iter_mut().zip(s).for_each(|(d, &s)| *d = *d + s);
    if dst_layout.is_contiguous() {
        // The engine's gradient accumulation: whole buffers, in parallel when large.
        let dst = &mut dst[dst_layout.offset..dst_layout.offset + n];
        if n >= PARALLEL_THRESHOLD {
            pool::chunks_mut(dst, CHUNK, |start, d| add_row(d, &src[start..]));
        } else {
            add_row(dst, src);
        }
        return;
    }
    let nd = dst_layout.ndim();
    if nd >= 2 && dst_layout.strides[nd - 1] == 1 && dst_layout.shape[nd - 1] >= MIN_ROW {
        // A region of rows (`x[t]`'s or `x[:, a:b]`'s gradient added into `x`'s): row by row,
        // in order, so overlapping windows (`unfold`) still add up one after another.
        let inner = dst_layout.shape[nd - 1];
        let mut k = 0;
        for_each_offsets(
            &dst_layout.shape[..nd - 1],
            [&dst_layout.strides[..nd - 1]],
            [dst_layout.offset],
            |[o]| {
                add_row(&mut dst[o..o + inner], &src[k..k + inner]);
                k += inner;
            },
        );
        return;
    }
    let mut k = 0;
    dst_layout.for_each_offset(|o| {
        dst[o] = dst[o] + src[k];
        k += 1;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposes_match_element_by_element() {
        for (rows, cols) in [(1, 1), (8, 8), (9, 17), (32, 512), (513, 7), (16, 24)] {
            let src: Vec<f32> = (0..rows * cols).map(|v| v as f32).collect();
            let mut dst = vec![0.0f32; rows * cols];
            transpose(&src, rows, cols, &mut dst);
            let src64: Vec<f64> = src.iter().map(|&v| v as f64).collect();
            let mut dst64 = vec![0.0f64; rows * cols];
            transpose(&src64, rows, cols, &mut dst64);
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(dst[c * rows + r], src[r * cols + c]);
                    assert_eq!(dst64[c * rows + r], src64[r * cols + c]);
                }
            }
        }
    }

    /// Copies of transposed blocks (`permute(..).contiguous()`, `.t().contiguous()`) go by
    /// block transposes: the same elements as a per-element walk, f32 and others.
    #[test]
    fn transposed_blocks_gather_as_a_walk() {
        for shape in [
            [3usize, 5, 4],
            [2, 16, 9],
            [1, 33, 17],
            [4, 1, 8],
            [2, 8, 8],
        ] {
            let n: usize = shape.iter().product();
            let x: Vec<f32> = (0..n).map(|v| v as f32).collect();
            let xi: Vec<i64> = (0..n as i64).collect();
            let l = Layout::contiguous(&shape).permute(&[0, 2, 1]);
            let mut walk = vec![];
            l.for_each_offset(|o| walk.push(x[o]));
            assert_eq!(gather(&x, &l), walk, "{shape:?}");
            let walk_i: Vec<i64> = walk.iter().map(|&v| v as i64).collect();
            assert_eq!(gather(&xi, &l), walk_i);
            // Rows of a column slice and of a row expanded over a batch.
            let cols = Layout::contiguous(&[shape[0], shape[1] * 20]).slice(1, 3, 3 + 17, 1);
            let mut walk = vec![];
            cols.for_each_offset(|o| walk.push(x[o % n]));
            let big: Vec<f32> = (0..shape[0] * shape[1] * 20)
                .map(|v| (v % n) as f32)
                .collect();
            assert_eq!(gather(&big, &cols), walk);
            let row = Layout::contiguous(&[1, 40])
                .expand(&[shape[1], 40])
                .unwrap();
            let mut walk = vec![];
            row.for_each_offset(|o| walk.push(big[o]));
            assert_eq!(gather(&big, &row), walk);
            // A transposed block inside a batch that is itself strided.
            let sliced = Layout::contiguous(&shape)
                .slice(0, 0, shape[0], 2)
                .permute(&[0, 2, 1]);
            let mut walk = vec![];
            sliced.for_each_offset(|o| walk.push(x[o]));
            assert_eq!(gather(&x, &sliced), walk);
        }
    }

    #[test]
    fn map_and_gather_follow_strides() {
        let x: Vec<i64> = (0..6).collect();
        let t = Layout::contiguous(&[2, 3]).transpose(0, 1);
        assert_eq!(gather(&x, &t), vec![0, 3, 1, 4, 2, 5]);
        assert_eq!(map(&x, &t, |v| v * 10), vec![0, 30, 10, 40, 20, 50]);
    }

    /// Column slices (rows of consecutive elements, long enough for the row loops), alone and
    /// against a full, a row-repeated and a column-repeated operand, match a per-element walk.
    #[test]
    fn row_strided_views_match_a_per_element_walk() {
        let x: Vec<f32> = (0..3 * 4 * 40).map(|v| v as f32 * 0.5 - 7.0).collect();
        // [3, 4, 20]: columns 5..25 of a [3, 4, 40] buffer, from element 5.
        let mut cols = Layout::contiguous(&[3, 4, 40]);
        cols.shape[2] = 20;
        cols.offset = 5;
        let walk = |l: &Layout| {
            let mut v = vec![];
            l.for_each_offset(|o| v.push(x[o]));
            v
        };
        let xs = walk(&cols);
        assert_eq!(
            map(&x, &cols, |v| v * 3.0),
            xs.iter().map(|v| v * 3.0).collect::<Vec<_>>()
        );
        let shape = [3, 4, 20];
        let full = Layout::contiguous(&shape);
        let per_row = Layout::contiguous(&[3, 4, 1]); // one value per row, repeated along it
        let per_col = Layout::contiguous(&[20]); // one row, repeated over the rows
        for (other, lo) in [(&full, 0usize), (&per_row, 1), (&per_col, 2)] {
            let os = other.expand(&shape).unwrap();
            let ys = walk(&os);
            let want: Vec<f32> = xs.iter().zip(&ys).map(|(a, b)| a - 2.0 * b).collect();
            let got = zip(&x, &cols, &x, other, &shape, |a, b| a - 2.0 * b);
            assert_eq!(got, want, "case {lo}");
            let back: Vec<f32> = ys.iter().zip(&xs).map(|(a, b)| a - 2.0 * b).collect();
            assert_eq!(zip(&x, other, &x, &cols, &shape, |a, b| a - 2.0 * b), back);
        }
    }

    /// `zip3` over rows (each operand consecutive or repeated) matches a per-element walk, for
    /// 1-d and 3-d shapes.
    #[test]
    fn zip3_rows_match_a_per_element_walk() {
        let x: Vec<f32> = (0..480).map(|v| v as f32 - 100.0).collect();
        let mask: Vec<bool> = (0..480).map(|v| v % 3 != 0).collect();
        for shape in [vec![40usize], vec![3, 4, 20]] {
            let full = Layout::contiguous(&shape);
            let mut cols = Layout::contiguous(&[3, 4, 40]);
            cols.shape[2] = 20;
            cols.offset = 7;
            let cols = if shape.len() == 1 {
                Layout::contiguous(&[40])
            } else {
                cols
            };
            let scalar = Layout::contiguous(&[]).expand(&shape).unwrap();
            let per_row = if shape.len() == 1 {
                Layout::contiguous(&[1])
            } else {
                Layout::contiguous(&[3, 4, 1])
            };
            for (lc, la, lb) in [
                (&full, &cols, &scalar),
                (&full, &scalar, &cols),
                (&per_row, &full, &cols),
                (&scalar, &per_row, &full),
            ] {
                let got = zip3(&mask, lc, &x, la, &x, lb, &shape, |m, p, q| {
                    if m {
                        p
                    } else {
                        q * 2.0
                    }
                });
                let (sc, sa, sb) = (
                    broadcast_strides(lc, &shape),
                    broadcast_strides(la, &shape),
                    broadcast_strides(lb, &shape),
                );
                let mut want = vec![];
                for_each_offsets(
                    &shape,
                    [&sc, &sa, &sb],
                    [lc.offset, la.offset, lb.offset],
                    |[k, i, j]| want.push(if mask[k] { x[i] } else { x[j] * 2.0 }),
                );
                assert_eq!(got, want);
            }
        }
    }

    /// In-place updates of contiguous, row-strided and transposed views, from full, scalar,
    /// row-repeated and column-repeated operands, match a per-element walk; elements outside
    /// the view are untouched.
    #[test]
    fn zip_assign_matches_a_per_element_walk() {
        let base: Vec<f64> = (0..3 * 4 * 40).map(|v| v as f64 * 0.25 - 9.0).collect();
        let src: Vec<f64> = (0..3 * 4 * 40).map(|v| (v as f64).sin()).collect();
        let mut cols = Layout::contiguous(&[3, 4, 40]);
        cols.shape[2] = 20;
        cols.offset = 3;
        let dsts = [
            Layout::contiguous(&[3, 4, 20]),
            cols,
            Layout::contiguous(&[3, 20, 4]).transpose(1, 2),
        ];
        let shape = [3usize, 4, 20];
        let srcs = [
            Layout::contiguous(&shape),
            Layout::contiguous(&[]).expand(&shape).unwrap(),
            Layout::contiguous(&[20]).expand(&shape).unwrap(),
            Layout::contiguous(&[3, 4, 1]).expand(&shape).unwrap(),
            Layout::contiguous(&[3, 20, 4]).transpose(1, 2),
        ];
        for (di, ld) in dsts.iter().enumerate() {
            for (si, ls) in srcs.iter().enumerate() {
                let mut got = base.clone();
                zip_assign(&mut got, ld, &src, ls, |x, y| x - 2.0 * y);
                let mut want = base.clone();
                let mut offsets = vec![];
                ls.for_each_offset(|o| offsets.push(o));
                let mut k = 0;
                ld.for_each_offset(|o| {
                    want[o] -= 2.0 * src[offsets[k]];
                    k += 1;
                });
                assert_eq!(got, want, "dst {di} src {si}");
            }
        }
        // Past the parallel threshold: whole, and from one value.
        let n = PARALLEL_THRESHOLD * 2 + 7;
        let l = Layout::contiguous(&[n]);
        let mut p: Vec<f32> = (0..n).map(|v| v as f32).collect();
        let g: Vec<f32> = (0..n).map(|v| (v % 5) as f32).collect();
        zip_assign(&mut p, &l, &g, &l, |x, y| x - y);
        assert!(p
            .iter()
            .enumerate()
            .all(|(i, &v)| v == i as f32 - (i % 5) as f32));
        let one = Layout::contiguous(&[]).expand(&[n]).unwrap();
        zip_assign(&mut p, &l, &[0.5f32], &one, |x, y| x * y);
        assert!(p
            .iter()
            .enumerate()
            .all(|(i, &v)| v == (i as f32 - (i % 5) as f32) * 0.5));
    }

    #[test]
    fn zip_broadcasts_like_a_naive_loop() {
        let a: Vec<f64> = (0..6).map(|v| v as f64).collect(); // [2, 3]
        let b: Vec<f64> = vec![10.0, 20.0]; // [2, 1]
        let out = zip(
            &a,
            &Layout::contiguous(&[2, 3]),
            &b,
            &Layout::contiguous(&[2, 1]),
            &[2, 3],
            |x, y| x + y,
        );
        let mut naive = vec![];
        for i in 0..2 {
            for j in 0..3 {
                naive.push(a[i * 3 + j] + b[i]);
            }
        }
        assert_eq!(out, naive);
        // Large enough for the parallel path.
        let n = PARALLEL_THRESHOLD * 2;
        let big: Vec<f32> = (0..n).map(|v| v as f32).collect();
        let l = Layout::contiguous(&[n]);
        let sum = zip(&big, &l, &big, &l, &[n], |x, y| x + y);
        assert!(sum.iter().enumerate().all(|(i, &v)| v == 2.0 * i as f32));
    }

    #[test]
    fn row_broadcast_matches_the_general_path() {
        let a: Vec<f64> = (0..12).map(|v| v as f64).collect(); // [3, 4]
        let b: Vec<f64> = vec![1.0, 10.0, 100.0, 1000.0]; // [4] and [1, 4]
        for bl in [Layout::contiguous(&[4]), Layout::contiguous(&[1, 4])] {
            let got = zip(
                &a,
                &Layout::contiguous(&[3, 4]),
                &b,
                &bl,
                &[3, 4],
                |x, y| x - y,
            );
            let want: Vec<f64> = (0..12).map(|i| a[i] - b[i % 4]).collect();
            assert_eq!(got, want);
            let flipped = zip(
                &b,
                &bl,
                &a,
                &Layout::contiguous(&[3, 4]),
                &[3, 4],
                |x, y| x - y,
            );
            let want: Vec<f64> = (0..12).map(|i| b[i % 4] - a[i]).collect();
            assert_eq!(flipped, want);
        }
    }

    #[test]
    fn zip3_and_write_into() {
        let c = vec![true, false, true];
        let l = Layout::contiguous(&[3]);
        let a = vec![1, 2, 3];
        let b = vec![-1];
        let out = zip3(
            &c,
            &l,
            &a,
            &l,
            &b,
            &Layout::contiguous(&[1]),
            &[3],
            |c, a, b| if c { a } else { b },
        );
        assert_eq!(out, vec![1, -1, 3]);
        let mut dst = vec![0i64; 6];
        let col = Layout::contiguous(&[2, 3]).select(1, 1);
        write_into(&mut dst, &col, &[7, 8], &[2]);
        assert_eq!(dst, vec![0, 7, 0, 0, 8, 0]);
        let expanded = Layout::contiguous(&[1]).expand(&[3]).unwrap();
        let mut acc = vec![0i64];
        add_into(&mut acc, &expanded, &[1, 2, 3]);
        assert_eq!(acc, vec![6]);
    }
}
