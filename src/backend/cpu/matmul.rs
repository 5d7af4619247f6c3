//! Matrix products through the `gemm` crate, which takes arbitrary row and column strides:
//! transposed operands are read in place, never copied.
//!
//! A product's result is written into uninitialised memory (`MaybeUninit` slots): zeroing it
//! first cost a pass over it, and, from the allocator's zeroed memory, page faults on the
//! first write that made the weight gradient of a batch-64 Linear layer 1.7x slower
//! (BENCHMARKS.md). Only an accumulating product (`beta` given) reads its destination, which
//! its caller initialised.

use std::mem::MaybeUninit;

use super::elementwise::{as_slots, transpose, transpose_into};
use super::pool::{self, SendPtr};
use crate::backend::{Element, Num};
use crate::base::Layout;

/// Above this many multiply-adds a product is split over our pool's threads.
const PARALLEL_FLOPS: usize = 1 << 22;

/// Above this many multiply-adds in all, a batch of smaller products is spread over our pool.
const BATCH_PARALLEL_FLOPS: usize = 1 << 20;

/// `out[b] = lhs[b] @ rhs[b]` for every batch index. `lhs` has shape `[..batch, m, k]` and
/// `rhs` `[..batch, k, n]` with the same (already broadcast) batch dimensions; strides may be
/// anything, including 0 along broadcast batch dimensions. The result is contiguous.
pub fn batched_matmul<T: Num>(lhs: &[T], ll: &Layout, rhs: &[T], rl: &Layout) -> Vec<T> {
    let (m, n) = (ll.shape[ll.ndim() - 2], rl.shape[rl.ndim() - 1]);
    let batch: usize = ll.shape[..ll.ndim() - 2].iter().product();
    let total = batch * m * n;
    let mut out = Vec::with_capacity(total);
    // SAFETY: no beta, so `dst` is not read.
    unsafe {
        products(
            &mut out.spare_capacity_mut()[..total],
            None,
            lhs,
            ll,
            rhs,
            rl,
            T::ONE,
        )
    };
    // SAFETY: without a beta, `products` writes every one of the `total` elements.
    unsafe { out.set_len(total) };
    out
}

/// `beta * acc + alpha * lhs[b] @ rhs[b]` for every batch index, written over `acc` (the
/// contiguous `[..batch, m, n]` result; `beta` None means `acc` holds zeros and is not read,
/// so NaN in it is ignored as BLAS ignores C when beta is 0). Operands as [`batched_matmul`].
pub fn batched_addmm<T: Num>(
    mut acc: Vec<T>,
    beta: Option<T>,
    lhs: &[T],
    ll: &Layout,
    rhs: &[T],
    rl: &Layout,
    alpha: T,
) -> Vec<T> {
    // SAFETY: `acc` is initialised, and `products` writes only values into it.
    unsafe { products(as_slots(&mut acc), beta, lhs, ll, rhs, rl, alpha) };
    acc
}

/// [`batched_addmm`] into `acc`'s slots.
///
/// # Safety
/// When `beta` is given, every element of `acc` must be initialised.
unsafe fn products<T: Num>(
    acc: &mut [MaybeUninit<T>],
    beta: Option<T>,
    lhs: &[T],
    ll: &Layout,
    rhs: &[T],
    rl: &Layout,
    alpha: T,
) {
    let nd = ll.ndim();
    let (m, k, n) = (ll.shape[nd - 2], ll.shape[nd - 1], rl.shape[nd - 1]);
    let batch_shape = &ll.shape[..nd - 2];
    let batch: usize = batch_shape.iter().product();
    debug_assert_eq!(acc.len(), batch * m * n);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // No products: what is left is `beta * acc` (or the zeros).
        match beta {
            // SAFETY: with a beta, `acc` is initialised (this function's contract).
            Some(b) if b != T::ONE => acc.iter_mut().for_each(|v| {
                v.write(unsafe { v.assume_init() } * b);
            }),
            Some(_) => {}
            None => acc.iter_mut().for_each(|v| {
                v.write(T::ZERO);
            }),
        }
        return;
    }
    // Offsets of every batch's matrix in each operand.
    let batch_offsets = |l: &Layout| {
        Layout {
            shape: batch_shape.into(),
            strides: l.strides[..nd - 2].into(),
            offset: l.offset,
        }
        .offsets()
    };
    let (lo, ro) = (batch_offsets(ll), batch_offsets(rl));
    let (lrs, lcs) = (ll.strides[nd - 2], ll.strides[nd - 1]);
    let (rrs, rcs) = (rl.strides[nd - 2], rl.strides[nd - 1]);
    let shape = Product {
        m,
        k,
        n,
        beta,
        alpha,
        threaded: true,
    };
    let one = |bi: usize, dst: &mut [MaybeUninit<T>], p: Product<T>| {
        let (a, b) = (&lhs[lo[bi]..], &rhs[ro[bi]..]);
        // SAFETY: `dst` is a piece of `acc`, initialised when `beta` is given.
        unsafe { matmul_one(dst, p, Matrix::new(a, lrs, lcs), Matrix::new(b, rrs, rcs)) };
    };
    let flops = batch.saturating_mul(m * n).saturating_mul(k);
    if batch > 1 && m * n * k < PARALLEL_FLOPS && flops >= BATCH_PARALLEL_FLOPS {
        // Many small products (a convolution's per-image products): whole products per
        // thread of our pool, each on one thread, instead of one after another.
        let single = Product {
            threaded: false,
            ..shape
        };
        super::pool::chunks_mut(acc, m * n, |start, dst| one(start / (m * n), dst, single));
        return;
    }
    for bi in 0..batch {
        one(bi, &mut acc[bi * m * n..(bi + 1) * m * n], shape);
    }
}

/// `dst = beta * dst + lhs @ rhs` for one product of sizes `(m, k, n)`: the kernels that loop over
/// products of their own (an LSTM layer's steps) call this. `threaded`: whether a large
/// product may be split over our pool (not inside one of its tasks).
pub(crate) fn gemm_slices<T: Num>(
    dst: &mut [T],
    (m, k, n): (usize, usize, usize),
    beta: Option<T>,
    lhs: Matrix<'_, T>,
    rhs: Matrix<'_, T>,
    threaded: bool,
) {
    debug_assert_eq!(dst.len(), m * n);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if beta.is_none() {
            dst.iter_mut().for_each(|v| *v = T::ZERO);
        }
        return;
    }
    let p = Product {
        m,
        k,
        n,
        beta,
        alpha: T::ONE,
        threaded,
    };
    // SAFETY: `dst` is initialised, and the product writes only values into it.
    unsafe { matmul_one(as_slots(dst), p, lhs, rhs) };
}

/// An operand of a product: its elements from the first, with a row and a column stride
/// (never negative; 0 along a broadcast dim).
#[derive(Clone, Copy)]
pub struct Matrix<'a, T> {
    pub data: &'a [T],
    pub rs: isize,
    pub cs: isize,
}

impl<'a, T> Matrix<'a, T> {
    pub fn new(data: &'a [T], rs: isize, cs: isize) -> Self {
        Matrix { data, rs, cs }
    }

    /// The operand from row `r` and column `c` on.
    fn from(self, r: usize, c: usize) -> Self {
        let at = r * self.rs as usize + c * self.cs as usize;
        Matrix {
            data: &self.data[at..],
            ..self
        }
    }
}

/// One product's sizes and scales: `dst = beta * dst + alpha * ([m, k] @ [k, n])`.
#[derive(Clone, Copy)]
struct Product<T> {
    m: usize,
    k: usize,
    n: usize,
    beta: Option<T>,
    alpha: T,
    /// Whether a large product may be split over our pool (not inside one of its tasks).
    threaded: bool,
}

/// # Safety
/// When `p.beta` is given, every element of `dst` must be initialised.
unsafe fn matmul_one<T: Num>(
    dst: &mut [MaybeUninit<T>],
    p: Product<T>,
    lhs: Matrix<'_, T>,
    rhs: Matrix<'_, T>,
) {
    use std::any::TypeId;
    let Product { m, k, n, .. } = p;
    let is = |id: TypeId| TypeId::of::<T>() == id;
    if !(is(TypeId::of::<f32>()) || is(TypeId::of::<f64>())) {
        // SAFETY: this function's contract.
        return unsafe { naive_scaled(dst, p, lhs, rhs) };
    }
    if p.threaded && m * n * k >= PARALLEL_FLOPS && pool::threads() > 1 {
        // SAFETY: this function's contract.
        return unsafe { split_over_pool(dst, p, lhs, rhs) };
    }
    // The product into `out`, `m x n` with row stride `drs` and column stride `dcs`.
    let gemm_into = |out: &mut [MaybeUninit<T>], drs: isize, dcs: isize| {
        // SAFETY: the pointers address `m*k`, `k*n` and `m*n` elements reachable through the
        // given strides inside the borrowed slices (the operands' layouts were validated by
        // the caller; `out` holds `m*n` elements), `out` is exclusively borrowed, and it is
        // initialised when `beta` is given.
        unsafe { call_gemm(out.as_mut_ptr().cast(), drs, dcs, p, lhs, rhs) }
    };
    if by_columns(m, k, n, rhs) {
        // gemm wants a column-major result; for a row-major one it computes the transposed
        // product, which reads `rhs` (a Linear layer's transposed weight) through a slow
        // transposing pack of all `k * n` elements. Writing a column-major result and
        // transposing its `m * n` elements is cheaper when `m` is small.
        let mut cols = vec![T::ZERO; m * n];
        if p.beta.is_some() {
            // SAFETY: with a beta, `dst` is initialised (this function's contract).
            let acc = unsafe { &*(dst as *const [MaybeUninit<T>] as *const [T]) };
            transpose(acc, m, n, &mut cols);
        }
        // SAFETY: `cols` is initialised and receives only values.
        gemm_into(unsafe { as_slots(&mut cols) }, 1, m as isize);
        transpose_into(&cols, n, m, dst);
    } else {
        gemm_into(dst, n as isize, 1);
    }
}

/// A large product split over our pool: blocks of the result's rows (or, for a short wide
/// result, of its columns), one single-threaded product each. gemm's own threads are
/// rayon's, whose workers keep spinning after a product and then compete for the cores with
/// our pool's next kernel; this way one pool serves every kernel.
///
/// # Safety
/// As [`matmul_one`]'s.
unsafe fn split_over_pool<T: Num>(
    dst: &mut [MaybeUninit<T>],
    p: Product<T>,
    lhs: Matrix<'_, T>,
    rhs: Matrix<'_, T>,
) {
    let Product { m, k, n, .. } = p;
    let threads = pool::threads();
    let single = Product {
        threaded: false,
        ..p
    };
    if m >= n || n < 2 * MIN_SPLIT {
        let rows = m.div_ceil(threads).max(MIN_SPLIT.min(m));
        pool::chunks_mut(dst, rows * n, |start, d| {
            let (r0, mr) = (start / n, d.len() / n);
            let block = Product { m: mr, ..single };
            // SAFETY: `d` is rows of `dst`, initialised when `beta` is given.
            unsafe { matmul_one(d, block, lhs.from(r0, 0), rhs) };
        });
        return;
    }
    let cols = n.div_ceil(threads).max(MIN_SPLIT);
    let base = SendPtr(dst.as_mut_ptr().cast::<T>());
    pool::for_each_chunk(n.div_ceil(cols), &|c| {
        let (c0, nc) = (c * cols, cols.min(n - c * cols));
        let block = Product { n: nc, ..single };
        let rhs = rhs.from(0, c0);
        if p.beta.is_none() && by_columns(m, k, nc, rhs) {
            // As `matmul_one` does for a whole product: column-major, then transposed, here
            // into this block's columns of every row.
            let mut cols_major = vec![T::ZERO; m * nc];
            // SAFETY: `cols_major` holds the `m x nc` block; the operands are slices of the
            // whole product's.
            unsafe { call_gemm(cols_major.as_mut_ptr(), 1, m as isize, block, lhs, rhs) };
            let mut rows = vec![T::ZERO; m * nc];
            transpose(&cols_major, nc, m, &mut rows);
            for (r, row) in rows.chunks_exact(nc).enumerate() {
                // SAFETY: row `r`'s columns `[c0, c0 + nc)` of the `m x n` result, which no
                // other block touches.
                unsafe {
                    std::ptr::copy_nonoverlapping(row.as_ptr(), base.get().add(r * n + c0), nc)
                };
            }
            return;
        }
        // SAFETY: `dst` holds the `m x n` row-major result; this block writes columns
        // `[c0, c0 + nc)` of every row, which no other block touches, and its operands are
        // slices of the whole product's.
        unsafe { call_gemm(base.get().add(c0), n as isize, 1, block, lhs, rhs) }
    });
}

/// The fewest rows or columns a block of a split product gets.
const MIN_SPLIT: usize = 16;

/// Whether to compute a row-major product as a column-major one and transpose it: when `rhs`
/// is column-major (`rrs == 1`) and moving the `m x n` result costs less than gemm's
/// transposing pack of the `k x n` right operand (about `m * k + m * n < k * n`).
fn by_columns<T>(m: usize, k: usize, n: usize, rhs: Matrix<'_, T>) -> bool {
    rhs.rs == 1 && rhs.cs != 1 && n > 1 && m > 1 && m * (k + n) < k * n
}

/// `dst = beta * dst + alpha * lhs @ rhs` by gemm on the calling thread, `dst` with row
/// stride `drs` and column stride `dcs`; reads `dst` only when `beta` is given.
///
/// # Safety
/// The strides must address `m*k` and `k*n` elements inside the two slices and `m*n`
/// elements from `dst`, which nothing else may access meanwhile.
unsafe fn call_gemm<T: Num>(
    dst: *mut T,
    drs: isize,
    dcs: isize,
    p: Product<T>,
    lhs: Matrix<'_, T>,
    rhs: Matrix<'_, T>,
) {
    gemm::gemm(
        p.m,
        p.n,
        p.k,
        dst,
        dcs,
        drs,
        p.beta.is_some(),
        lhs.data.as_ptr(),
        lhs.cs,
        lhs.rs,
        rhs.data.as_ptr(),
        rhs.cs,
        rhs.rs,
        p.beta.unwrap_or(T::ZERO),
        p.alpha,
        false,
        false,
        false,
        gemm::Parallelism::None,
    );
}

/// `dst = beta * dst + alpha * (lhs @ rhs)` by plain loops (the integer path).
///
/// # Safety
/// As [`matmul_one`]'s.
unsafe fn naive_scaled<T: Num>(
    dst: &mut [MaybeUninit<T>],
    p: Product<T>,
    lhs: Matrix<'_, T>,
    rhs: Matrix<'_, T>,
) {
    let Product {
        m,
        k,
        n,
        beta,
        alpha,
        ..
    } = p;
    let mut prod = vec![T::ZERO; m * n];
    naive(&mut prod, m, k, n, lhs, rhs);
    for (d, v) in dst.iter_mut().zip(prod) {
        let v = if alpha == T::ONE { v } else { alpha * v };
        let v = match beta {
            None => v,
            // SAFETY: with a beta, `dst` is initialised (this function's contract).
            Some(b) if b == T::ONE => (unsafe { d.assume_init() }) + v,
            Some(b) => b * unsafe { d.assume_init() } + v,
        };
        d.write(v);
    }
}

/// The reference product (also the integer path).
pub fn naive<T: Num>(
    dst: &mut [T],
    m: usize,
    k: usize,
    n: usize,
    lhs: Matrix<'_, T>,
    rhs: Matrix<'_, T>,
) {
    let (
        Matrix {
            data: lhs,
            rs: lrs,
            cs: lcs,
        },
        Matrix {
            data: rhs,
            rs: rrs,
            cs: rcs,
        },
    ) = (lhs, rhs);
    for i in 0..m {
        for j in 0..n {
            let mut acc = T::ZERO;
            for p in 0..k {
                let a = lhs[(i as isize * lrs + p as isize * lcs) as usize];
                let b = rhs[(p as isize * rrs + j as isize * rcs) as usize];
                acc = acc + a * b;
            }
            dst[i * n + j] = acc;
        }
    }
}

/// Keeps the `Element` import honest for integer products.
pub fn supports_gemm<T: Element>() -> bool {
    matches!(T::DTYPE, crate::base::DType::F32 | crate::base::DType::F64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut out = vec![0.0; m * n];
        naive(
            &mut out,
            m,
            k,
            n,
            Matrix::new(a, k as isize, 1),
            Matrix::new(b, n as isize, 1),
        );
        out
    }

    #[test]
    fn gemm_matches_naive_including_transposed_operands() {
        let (m, k, n) = (37, 53, 29);
        let a: Vec<f64> = (0..m * k).map(|v| ((v * 7 % 13) as f64) - 6.0).collect();
        let b: Vec<f64> = (0..k * n).map(|v| ((v * 5 % 11) as f64) * 0.5).collect();
        let expect = reference(&a, &b, m, k, n);
        let got = batched_matmul(
            &a,
            &Layout::contiguous(&[m, k]),
            &b,
            &Layout::contiguous(&[k, n]),
        );
        assert_eq!(got, expect);
        // a^T stored as [k, m], read back transposed without a copy.
        let mut at = vec![0.0; m * k];
        for i in 0..m {
            for p in 0..k {
                at[p * m + i] = a[i * k + p];
            }
        }
        let tl = Layout::contiguous(&[k, m]).transpose(0, 1);
        let got_t = batched_matmul(&at, &tl, &b, &Layout::contiguous(&[k, n]));
        assert_eq!(got_t, expect);
    }

    /// Small `m` with a column-major right operand (a Linear layer's `x @ w.t()`) goes
    /// through a column-major result; `beta` reads the accumulator through it too.
    #[test]
    fn column_major_results_are_transposed_back() {
        for (m, k, n) in [(3, 40, 33), (17, 64, 50), (2, 8, 100)] {
            assert!(by_columns(m, k, n, Matrix::<f64>::new(&[], 1, k as isize)));
            let a: Vec<f64> = (0..m * k).map(|v| ((v * 7 % 13) as f64) - 6.0).collect();
            let w: Vec<f64> = (0..n * k).map(|v| ((v * 5 % 11) as f64) * 0.5).collect();
            let mut b = vec![0.0; k * n];
            transpose(&w, n, k, &mut b);
            let expect = reference(&a, &b, m, k, n);
            let wt = Layout::contiguous(&[n, k]).transpose(0, 1);
            let la = Layout::contiguous(&[m, k]);
            assert_eq!(batched_matmul(&a, &la, &w, &wt), expect);
            let c: Vec<f64> = (0..m * n).map(|v| v as f64 * 0.25).collect();
            let got = batched_addmm(c.clone(), Some(2.0), &a, &la, &w, &wt, -1.0);
            let want: Vec<f64> = c.iter().zip(&expect).map(|(c, p)| 2.0 * c - p).collect();
            assert_eq!(got, want);
        }
        assert!(!by_columns(1024, 128, 512, Matrix::<f64>::new(&[], 1, 128)));
    }

    /// Products large enough to split over the pool (by rows, by columns, and by columns
    /// through column-major blocks) write every element of their uninitialised result; so
    /// do products without an inner dim (zeros).
    #[test]
    fn split_products_write_every_element() {
        // (m, k, n, rhs column-major): rows split; columns split; column blocks by columns.
        for (m, k, n, rhs_cols) in [
            (512, 64, 160, false),
            (64, 96, 1024, false),
            (24, 2048, 1024, true),
        ] {
            assert!(m * k * n >= PARALLEL_FLOPS);
            let a: Vec<f64> = (0..m * k).map(|v| ((v * 7 % 13) as f64) - 6.0).collect();
            let b: Vec<f64> = (0..k * n).map(|v| ((v * 5 % 11) as f64) * 0.5).collect();
            let expect = reference(&a, &b, m, k, n);
            let (bs, bl) = if rhs_cols {
                let mut w = vec![0.0; k * n];
                transpose(&b, k, n, &mut w);
                (w, Layout::contiguous(&[n, k]).transpose(0, 1))
            } else {
                (b, Layout::contiguous(&[k, n]))
            };
            let got = batched_matmul(&a, &Layout::contiguous(&[m, k]), &bs, &bl);
            assert_eq!(got, expect, "{m}x{k}x{n}");
        }
        let none: Vec<f32> = Vec::new();
        let got = batched_matmul(
            &none,
            &Layout::contiguous(&[3, 0]),
            &none,
            &Layout::contiguous(&[0, 5]),
        );
        assert_eq!(got, vec![0.0f32; 15]);
    }

    /// A batch of small products (a convolution's, the weight broadcast over images) spread
    /// over the pool gives each product's own result.
    #[test]
    fn batches_of_small_products_match_one_by_one() {
        let (batch, m, k, n) = (64, 6, 25, 200);
        assert!(batch * m * k * n >= BATCH_PARALLEL_FLOPS && m * k * n < PARALLEL_FLOPS);
        let w: Vec<f64> = (0..m * k).map(|v| ((v * 7 % 13) as f64) - 6.0).collect();
        let cols: Vec<f64> = (0..batch * k * n)
            .map(|v| ((v * 5 % 11) as f64) * 0.5)
            .collect();
        let wl = Layout::contiguous(&[m, k]).expand(&[batch, m, k]).unwrap();
        let got = batched_matmul(&w, &wl, &cols, &Layout::contiguous(&[batch, k, n]));
        for b in 0..batch {
            let expect = reference(&w, &cols[b * k * n..(b + 1) * k * n], m, k, n);
            assert_eq!(
                &got[b * m * n..(b + 1) * m * n],
                expect.as_slice(),
                "image {b}"
            );
        }
    }

    #[test]
    fn broadcast_batches_and_integers() {
        let a: Vec<i64> = (0..12).collect(); // [2, 2, 3]
        let b: Vec<i64> = (0..6).collect(); // [3, 2], broadcast over the batch
        let bl = Layout::contiguous(&[3, 2]).expand(&[2, 3, 2]).unwrap();
        let out = batched_matmul(&a, &Layout::contiguous(&[2, 2, 3]), &b, &bl);
        let mut expect = vec![];
        for bi in 0..2 {
            for i in 0..2 {
                for j in 0..2 {
                    expect.push(
                        (0..3)
                            .map(|p| a[bi * 6 + i * 3 + p] * b[p * 2 + j])
                            .sum::<i64>(),
                    );
                }
            }
        }
        assert_eq!(out, expect);
        assert!(supports_gemm::<f32>() && !supports_gemm::<i64>());
    }

    #[test]
    fn addmm_scales_the_accumulator_and_the_product() {
        let (m, k, n) = (3, 4, 5);
        let a: Vec<f64> = (0..m * k).map(|v| v as f64 - 5.0).collect();
        let b: Vec<f64> = (0..k * n).map(|v| (v % 7) as f64 * 0.25).collect();
        let c: Vec<f64> = (0..m * n).map(|v| v as f64 * 0.5).collect();
        let prod = reference(&a, &b, m, k, n);
        let (la, lb) = (Layout::contiguous(&[m, k]), Layout::contiguous(&[k, n]));
        let got = batched_addmm(c.clone(), Some(2.0), &a, &la, &b, &lb, -3.0);
        let expect: Vec<f64> = c
            .iter()
            .zip(&prod)
            .map(|(c, p)| 2.0 * c + -3.0 * p)
            .collect();
        assert_eq!(got, expect);
        // beta None: the accumulator is not read (NaN ignored).
        let got = batched_addmm(vec![f64::NAN; m * n], None, &a, &la, &b, &lb, 1.0);
        assert_eq!(got, prod);
        // Integers: the same arithmetic by the plain loops.
        let ai: Vec<i64> = a.iter().map(|&v| v as i64).collect();
        let bi: Vec<i64> = (0..k * n).map(|v| (v % 7) as i64).collect();
        let ci: Vec<i64> = (0..m * n).map(|v| v as i64).collect();
        let pi = batched_matmul(&ai, &la, &bi, &lb);
        let got = batched_addmm(ci.clone(), Some(3), &ai, &la, &bi, &lb, 2);
        let expect: Vec<i64> = ci.iter().zip(&pi).map(|(c, p)| 3 * c + 2 * p).collect();
        assert_eq!(got, expect);
        // k == 0: no products, only beta * acc.
        let e = Layout::contiguous(&[m, 0]);
        let got = batched_addmm(
            c.clone(),
            Some(2.0),
            &[],
            &e,
            &[],
            &Layout::contiguous(&[0, n]),
            1.0,
        );
        assert_eq!(got, c.iter().map(|v| 2.0 * v).collect::<Vec<_>>());
    }
}
