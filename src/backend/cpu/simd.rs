//! Row reductions with explicit AVX2 vectors for float32 and float64: LLVM vectorises the
//! elementwise loops by itself, but not a float sum or maximum (that reorders additions), and
//! its SLP pass turned hand-unrolled accumulators into 2-wide vectors. Four independent
//! 8-float (4-double) accumulators keep the adder busy; other element types, and CPUs without
//! AVX2, take the generic loops of `reduce.rs`.

use std::any::TypeId;

use super::has_avx2;

/// `row` as a slice of `U` when `T` is `U` (a specialisation by type identity).
#[inline(always)]
pub fn as_type<T: 'static, U: 'static>(row: &[T]) -> Option<&[U]> {
    if TypeId::of::<T>() == TypeId::of::<U>() {
        // SAFETY: `T` and `U` are the same type, so the slice is reinterpreted as itself.
        Some(unsafe { std::slice::from_raw_parts(row.as_ptr().cast::<U>(), row.len()) })
    } else {
        None
    }
}

/// `value` (a `U`) as a `T`, when they are the same type.
#[inline(always)]
pub fn cast_back<U: 'static + Copy, T: 'static + Copy>(value: U) -> T {
    assert_eq!(TypeId::of::<T>(), TypeId::of::<U>());
    // SAFETY: the same type (asserted just above).
    unsafe { std::mem::transmute_copy(&value) }
}

/// `values` (a `Vec<U>`) as a `Vec<T>`, when they are the same type.
pub fn cast_vec<U: 'static, T: 'static>(values: Vec<U>) -> Vec<T> {
    assert_eq!(TypeId::of::<T>(), TypeId::of::<U>());
    let mut values = std::mem::ManuallyDrop::new(values);
    // SAFETY: the same type (asserted just above), so pointer, length and capacity describe
    // a valid `Vec<T>`; the original is not dropped.
    unsafe {
        Vec::from_raw_parts(
            values.as_mut_ptr().cast::<T>(),
            values.len(),
            values.capacity(),
        )
    }
}

/// The AVX2 kernels of one float type, or None on a CPU without AVX2.
macro_rules! row_kernels {
    ($T:ty, $sum:ident, $extreme:ident) => {
        /// Sum of a row, or None without AVX2.
        pub fn $sum(row: &[$T]) -> Option<$T> {
            #[cfg(target_arch = "x86_64")]
            if has_avx2() {
                // SAFETY: the CPU has AVX2 (checked just above).
                return Some(unsafe { x86::$sum(row) });
            }
            let _ = row;
            None
        }

        /// The largest (or smallest) element of a nonempty row and whether it holds a NaN
        /// (the extreme then means nothing), or None without AVX2.
        pub fn $extreme(row: &[$T], max: bool) -> Option<($T, bool)> {
            #[cfg(target_arch = "x86_64")]
            if has_avx2() {
                // SAFETY: the CPU has AVX2 (checked just above).
                return Some(unsafe { x86::$extreme(row, max) });
            }
            let _ = (row, max);
            None
        }
    };
}
row_kernels!(f32, sum_f32, extreme_f32);
row_kernels!(f64, sum_f64, extreme_f64);

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Lanes summed pairwise, then the leftover elements.
    fn finish<T: Copy + std::ops::Add<Output = T>>(lanes: &mut [T], rest: &[T]) -> T {
        let mut len = lanes.len();
        while len > 1 {
            let half = len / 2;
            for k in 0..half {
                lanes[k] = lanes[k] + lanes[k + half];
            }
            len = half;
        }
        rest.iter().fold(lanes[0], |a, &b| a + b)
    }

    /// The sum and extreme kernels of one float type: `$W` lanes per 256-bit vector and
    /// the type's intrinsics (`_ps` or `_pd`).
    macro_rules! avx2_kernels {
        ($T:ty, $W:literal, $sum:ident, $extreme:ident, $zero:ident, $set1:ident, $load:ident,
         $store:ident, $add:ident, $max:ident, $min:ident, $or:ident, $cmp:ident,
         $movemask:ident) => {
            #[target_feature(enable = "avx2")]
            pub unsafe fn $sum(row: &[$T]) -> $T {
                let mut acc = [$zero(); 4];
                let chunks = row.chunks_exact(4 * $W);
                let rest = chunks.remainder();
                for c in chunks {
                    for (j, a) in acc.iter_mut().enumerate() {
                        // SAFETY: `c` holds 4 vectors; this reads the `j`th.
                        *a = $add(*a, unsafe { $load(c.as_ptr().add($W * j)) });
                    }
                }
                let s = $add($add(acc[0], acc[1]), $add(acc[2], acc[3]));
                let mut lanes = [0.0 as $T; $W];
                // SAFETY: `lanes` holds one vector.
                unsafe { $store(lanes.as_mut_ptr(), s) };
                finish(&mut lanes, rest)
            }

            #[target_feature(enable = "avx2")]
            pub unsafe fn $extreme(row: &[$T], max: bool) -> ($T, bool) {
                // Four accumulators: `max`'s 4-cycle latency would otherwise bound the loop.
                let first = $set1(row[0]);
                let (mut acc, mut nan) = ([first; 4], $zero());
                let chunks = row.chunks_exact(4 * $W);
                let rest = chunks.remainder();
                for c in chunks {
                    // SAFETY: `c` holds 4 vectors; this reads the `j`th.
                    let v: [_; 4] =
                        std::array::from_fn(|j| unsafe { $load(c.as_ptr().add($W * j)) });
                    // Unordered pairs: a NaN in either vector.
                    let pair_nan = $or(
                        $cmp::<_CMP_UNORD_Q>(v[0], v[1]),
                        $cmp::<_CMP_UNORD_Q>(v[2], v[3]),
                    );
                    nan = $or(nan, pair_nan);
                    for (a, v) in acc.iter_mut().zip(v) {
                        *a = if max { $max(*a, v) } else { $min(*a, v) };
                    }
                }
                let mut lanes = [0.0 as $T; 4 * $W];
                for (j, a) in acc.iter().enumerate() {
                    // SAFETY: `lanes` holds 4 vectors; this writes the `j`th.
                    unsafe { $store(lanes.as_mut_ptr().add($W * j), *a) };
                }
                let mut seen_nan = $movemask(nan) != 0;
                let mut best = lanes[0];
                for &v in lanes[1..].iter().chain(rest) {
                    seen_nan |= v.is_nan();
                    if (max && v > best) || (!max && v < best) {
                        best = v;
                    }
                }
                (best, seen_nan || row[0].is_nan())
            }
        };
    }

    avx2_kernels!(
        f32,
        8,
        sum_f32,
        extreme_f32,
        _mm256_setzero_ps,
        _mm256_set1_ps,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_add_ps,
        _mm256_max_ps,
        _mm256_min_ps,
        _mm256_or_ps,
        _mm256_cmp_ps,
        _mm256_movemask_ps
    );
    avx2_kernels!(
        f64,
        4,
        sum_f64,
        extreme_f64,
        _mm256_setzero_pd,
        _mm256_set1_pd,
        _mm256_loadu_pd,
        _mm256_storeu_pd,
        _mm256_add_pd,
        _mm256_max_pd,
        _mm256_min_pd,
        _mm256_or_pd,
        _mm256_cmp_pd,
        _mm256_movemask_pd
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_and_extremes_match_scalar_loops() {
        // The vector kernels run wherever the CPU has AVX2 (this project's machines do).
        assert_eq!(sum_f32(&[1.0]).is_some(), has_avx2());
        for n in [1usize, 7, 16, 31, 32, 33, 100, 1000, 4099] {
            let x: Vec<f64> = (0..n)
                .map(|i| ((i * 7919) % 1013) as f64 - 500.25)
                .collect();
            let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let want: f64 = x.iter().sum();
            if let Some(s) = sum_f64(&x) {
                assert!((s - want).abs() <= 1e-9 * want.abs().max(1.0), "n={n}");
            }
            if let Some(s) = sum_f32(&xf) {
                assert!(
                    (s as f64 - want).abs() <= 1e-4 * (n as f64).max(1.0),
                    "n={n}"
                );
            }
            let (mx, mn) = (
                x.iter().cloned().fold(f64::MIN, f64::max),
                x.iter().cloned().fold(f64::MAX, f64::min),
            );
            if let Some((v, nan)) = extreme_f64(&x, true) {
                assert_eq!((v, nan), (mx, false));
            }
            if let Some((v, nan)) = extreme_f32(&xf, false) {
                assert_eq!((v, nan), (mn as f32, false));
            }
            // A NaN anywhere (in the vector part, the tail, or first) is reported.
            for at in [0, n / 2, n - 1] {
                let mut y = xf.clone();
                y[at] = f32::NAN;
                if let Some((_, nan)) = extreme_f32(&y, true) {
                    assert!(nan, "n={n} at={at}");
                }
                let mut y = x.clone();
                y[at] = f64::NAN;
                if let Some((_, nan)) = extreme_f64(&y, false) {
                    assert!(nan, "n={n} at={at}");
                }
            }
        }
    }
}
