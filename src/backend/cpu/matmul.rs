//! Matrix products through the `gemm` crate, which takes arbitrary row and column strides:
//! transposed operands are read in place, never copied.

use crate::backend::{Element, Num};
use crate::base::Layout;

/// Above this many multiply-adds gemm may use the rayon pool.
const PARALLEL_FLOPS: usize = 1 << 18;

/// `out[b] = lhs[b] @ rhs[b]` for every batch index. `lhs` has shape `[..batch, m, k]` and
/// `rhs` `[..batch, k, n]` with the same (already broadcast) batch dimensions; strides may be
/// anything, including 0 along broadcast batch dimensions. The result is contiguous.
pub fn batched_matmul<T: Num>(lhs: &[T], ll: &Layout, rhs: &[T], rl: &Layout) -> Vec<T> {
    let nd = ll.ndim();
    let (m, k, n) = (ll.shape[nd - 2], ll.shape[nd - 1], rl.shape[nd - 1]);
    let batch_shape = &ll.shape[..nd - 2];
    let batch: usize = batch_shape.iter().product();
    let mut out = vec![T::ZERO; batch * m * n];
    if m == 0 || n == 0 {
        return out;
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
    for bi in 0..batch {
        let dst = &mut out[bi * m * n..(bi + 1) * m * n];
        if k == 0 {
            continue;
        }
        matmul_one(
            dst,
            m,
            k,
            n,
            &lhs[lo[bi]..],
            lrs,
            lcs,
            &rhs[ro[bi]..],
            rrs,
            rcs,
        );
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn matmul_one<T: Num>(
    dst: &mut [T],
    m: usize,
    k: usize,
    n: usize,
    lhs: &[T],
    lrs: isize,
    lcs: isize,
    rhs: &[T],
    rrs: isize,
    rcs: isize,
) {
    use std::any::TypeId;
    let parallelism = if m * n * k >= PARALLEL_FLOPS {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    let is = |id: TypeId| TypeId::of::<T>() == id;
    if is(TypeId::of::<f32>()) || is(TypeId::of::<f64>()) {
        // SAFETY: the pointers address `m*k`, `k*n` and `m*n` elements reachable through the
        // given strides inside the borrowed slices (the layouts were validated by the caller),
        // and `dst` is exclusively borrowed.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                dst.as_mut_ptr(),
                1,
                n as isize,
                false,
                lhs.as_ptr(),
                lcs,
                lrs,
                rhs.as_ptr(),
                rcs,
                rrs,
                T::ZERO,
                T::ONE,
                false,
                false,
                false,
                parallelism,
            );
        }
        return;
    }
    naive(dst, m, k, n, lhs, lrs, lcs, rhs, rrs, rcs);
}

/// The reference product (also the integer path).
#[allow(clippy::too_many_arguments)]
pub fn naive<T: Num>(
    dst: &mut [T],
    m: usize,
    k: usize,
    n: usize,
    lhs: &[T],
    lrs: isize,
    lcs: isize,
    rhs: &[T],
    rrs: isize,
    rcs: isize,
) {
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
        naive(&mut out, m, k, n, a, k as isize, 1, b, n as isize, 1);
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
}
