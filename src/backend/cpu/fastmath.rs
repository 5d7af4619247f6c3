//! Branch-free float32 `exp` (Cephes' polynomial with an exact range reduction), `tanh`
//! (Cephes' odd polynomial near 0, `exp` beyond), `log`/`log1p` (FreeBSD's `logf` kernel),
//! `erf` (two minimax fits) and `sin`/`cos` (a float64 Cody-Waite reduction, Cephes'
//! polynomials; valid up to [`TRIG_FAST_MAX`]) that the compiler can vectorise, unlike a libm
//! call; each within 2 ulp of the correctly rounded value (tested below; exhaustive sweeps
//! found at most 1 ulp for log, log1p, erf, sin and cos).

const LOG2E: f32 = std::f32::consts::LOG2_E;
// ln 2 split in two so that n * LN2_HI is exact for the n that occur.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
const MAX_ARG: f32 = 88.722_84; // ln(f32::MAX)
const MIN_ARG: f32 = -103.972_08; // below this the result rounds to 0
const ROUND_MAGIC: f32 = 12_582_912.0;

#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    // Reduce: x = n ln2 + r with |r| <= ln2 / 2, so e^x = 2^n e^r.
    // `max`/`min` (unlike `clamp`) drop a NaN, so `n` below is always a small integer.
    #[allow(clippy::manual_clamp)]
    let xc = x.max(MIN_ARG).min(MAX_ARG);
    // Round to nearest by adding and subtracting 1.5 * 2^23 (no `floor`, which baseline
    // x86-64 only has as a libm call): n is within 1/2 of x log2(e), so |r| <= ln2 / 2.
    let n = (xc * LOG2E + ROUND_MAGIC) - ROUND_MAGIC;
    // Fused multiply-adds: one rounding each, and half the latency of the chain in the AVX2
    // copies of the loops (`mul_add` is one instruction there; elsewhere a libm `fmaf`,
    // which gives the same results).
    let r = n.mul_add(-LN2_LO, n.mul_add(-LN2_HI, xc));
    let mut p = 1.987_569_1e-4_f32;
    p = p.mul_add(r, 1.398_199_9e-3);
    p = p.mul_add(r, 8.333_452e-3);
    p = p.mul_add(r, 4.166_579_6e-2);
    p = p.mul_add(r, 1.666_666_5e-1);
    p = p.mul_add(r, 0.5);
    let er = (p * r).mul_add(r, r) + 1.0;
    // 2^n as two normal factors, so n may range over [-150, 128] (subnormal and near-overflow
    // results round once, in the last multiplication).
    // SAFETY: `n` is an integer in [-150, 128] (`xc` is finite and clamped), which `i32`
    // holds; unlike `as`, this converts all lanes at once (no saturation checks).
    let n: i32 = unsafe { n.to_int_unchecked() };
    let half = n >> 1;
    let s1 = f32::from_bits(((half + 127) as u32) << 23);
    let s2 = f32::from_bits(((n - half + 127) as u32) << 23);
    let y = er * s1 * s2;
    // Selects, not branches, so the loop vectorises.
    let y = if x > MAX_ARG { f32::INFINITY } else { y };
    let y = if x < MIN_ARG { 0.0 } else { y };
    if x.is_nan() {
        x
    } else {
        y
    }
}

/// P(r) of `exp_f32` for 16 lanes: e^r = 1 + r + r^2 P(r) for |r| <= ln2 / 2.
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
unsafe fn exp_poly_avx512(r: std::arch::x86_64::__m512) -> std::arch::x86_64::__m512 {
    use std::arch::x86_64::*;
    let mut p = _mm512_set1_ps(1.987_569_1e-4);
    for c in [
        1.398_199_9e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        1.666_666_5e-1,
        0.5,
    ] {
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
    }
    p
}

/// e^t for 16 lanes of `t` in [-104, 89]: `exp_f32`'s reduction t = n ln2 + r and polynomial,
/// with `vscalefps` multiplying by 2^n (one rounding; inf and subnormals past the range).
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
unsafe fn exp_avx512(t: std::arch::x86_64::__m512) -> std::arch::x86_64::__m512 {
    use std::arch::x86_64::*;
    let splat = _mm512_set1_ps;
    let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
        _mm512_mul_ps(t, splat(LOG2E)),
    );
    let r = _mm512_fnmadd_ps(n, splat(LN2_LO), _mm512_fnmadd_ps(n, splat(LN2_HI), t));
    let p = exp_poly_avx512(r);
    let er = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), splat(1.0));
    _mm512_scalef_ps(er, n)
}

/// `exp_f32` of every element of `src` into `dst` (same length) by explicit AVX-512 code: the
/// same reduction and polynomial, with `vscalefps` multiplying by 2^n (it rounds once and
/// gives inf and subnormals past the range by itself), so the selects of `exp_f32` go.
/// Within 2 ulp of the correctly rounded value (tested below); the tail goes through
/// `exp_f32`.
///
/// # Safety
/// The CPU must have AVX-512F (`has_avx512`), and `dst.len() == src.len()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
pub unsafe fn exp_f32_avx512(src: &[f32], dst: &mut [std::mem::MaybeUninit<f32>]) {
    use std::arch::x86_64::*;
    debug_assert_eq!(src.len(), dst.len());
    let body = src.len() / 16 * 16;
    let splat = _mm512_set1_ps;
    for i in (0..body).step_by(16) {
        let x = _mm512_loadu_ps(src.as_ptr().add(i));
        // e^x is 0 below -104 and inf above 89 (scalef gets there from the ends); the
        // clamp keeps n small. `max`/`min` return their second operand when one is NaN, so a
        // NaN goes on through every step.
        let xc = _mm512_min_ps(splat(89.0), _mm512_max_ps(splat(-104.0), x));
        _mm512_storeu_ps(dst.as_mut_ptr().add(i).cast::<f32>(), exp_avx512(xc));
    }
    for (d, &v) in dst[body..].iter_mut().zip(&src[body..]) {
        d.write(exp_f32(v));
    }
}

/// Below this |x| tanh is the odd polynomial (no cancellation in `1 - 2 / (e^2x + 1)`).
const TANH_POLY_MAX: f32 = 0.625;

#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    let z = x.abs();
    // |x| > 0.625: 1 - 2 / (e^2|x| + 1), whose exp saturates to inf (giving 1) past 44.
    let big = 1.0 - 2.0 / (exp_f32(z + z) + 1.0);
    // |x| <= 0.625: x + x^3 P(x^2) (Cephes' tanhf coefficients).
    let s = x * x;
    let mut p = -5.704_988_7e-3_f32;
    p = p.mul_add(s, 2.063_909e-2);
    p = p.mul_add(s, -5.373_971_5e-2);
    p = p.mul_add(s, 1.333_144_2e-1);
    p = p.mul_add(s, -3.333_328e-1);
    let small = (p * s).mul_add(x, x);
    // Selects, not branches (NaN falls through to `big`, which is NaN); tanh is odd, so the
    // sign is x's (this also keeps -0.0).
    let y = if z <= TANH_POLY_MAX { small } else { big };
    y.copysign(x)
}

/// `tanh` of every element of `src` into `dst` (same length) by explicit AVX-512 code, as
/// u / (u + 2) with u = expm1(2|x|): `exp_avx512`'s reduction and polynomial give
/// expm1 = 2^n (1 + p) - 1 = scalef(p, n) + (2^n - 1), which has no cancellation near 0 (n is 0
/// there and u is p itself), so no second polynomial is needed for small |x|; the division is
/// a reciprocal estimate (`vrcp14ps`) refined by one Newton step, then the quotient corrected
/// by its residual. About two thirds of the instructions of [`tanh_f32`]'s two-branch form.
/// Within 2 ulp of the correctly rounded value (tested below); the tail goes through
/// `tanh_f32`.
///
/// # Safety
/// The CPU must have AVX-512F (`has_avx512`), and `dst.len() == src.len()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
pub unsafe fn tanh_f32_avx512(src: &[f32], dst: &mut [std::mem::MaybeUninit<f32>]) {
    use std::arch::x86_64::*;
    debug_assert_eq!(src.len(), dst.len());
    let body = src.len() / 16 * 16;
    let splat = _mm512_set1_ps;
    let (one, two) = (splat(1.0), splat(2.0));
    let sign = _mm512_set1_epi32(i32::MIN);
    for i in (0..body).step_by(16) {
        let x = _mm512_loadu_ps(src.as_ptr().add(i));
        let z = _mm512_abs_ps(x);
        // 2|x| capped at 18 (tanh is 1.0 in float32 from 9 on), so 2^n stays finite. `min`
        // returns its second operand when one is NaN: a NaN goes on through every step.
        let t = _mm512_min_ps(splat(18.0), _mm512_add_ps(z, z));
        let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
            _mm512_mul_ps(t, splat(LOG2E)),
        );
        let r = _mm512_fnmadd_ps(n, splat(LN2_LO), _mm512_fnmadd_ps(n, splat(LN2_HI), t));
        let p = exp_poly_avx512(r);
        // e^r - 1 = r + r^2 P(r), then scaled: u = expm1(t).
        let pr = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r);
        let u = _mm512_add_ps(
            _mm512_scalef_ps(pr, n),
            _mm512_sub_ps(_mm512_scalef_ps(one, n), one),
        );
        // y = u / d, d = u + 2: the estimate q (2 - d q), then y + q (u - y d).
        let d = _mm512_add_ps(u, two);
        let q = _mm512_rcp14_ps(d);
        let q = _mm512_mul_ps(q, _mm512_fnmadd_ps(d, q, two));
        let y = _mm512_mul_ps(u, q);
        // The residual from u, not from d (whose rounding would be 1 ulp of y near 0):
        // u - 2y is exact (Sterbenz), then - y u is rounded once.
        let residual = _mm512_fnmadd_ps(y, u, _mm512_fnmadd_ps(y, two, u));
        let y = _mm512_fmadd_ps(residual, q, y);
        // tanh is odd: |tanh| with x's sign bit (also keeps -0.0): y | (x & sign).
        let signed =
            _mm512_ternarylogic_epi32::<0xF8>(_mm512_castps_si512(y), _mm512_castps_si512(x), sign);
        _mm512_storeu_ps(
            dst.as_mut_ptr().add(i).cast::<f32>(),
            _mm512_castsi512_ps(signed),
        );
    }
    for (d, &v) in dst[body..].iter_mut().zip(&src[body..]) {
        d.write(tanh_f32(v));
    }
}

// ---------------------------------------------------------------------------------------------
// log / log1p

// ln 2 split so that k * LOG_LN2_HI is exact for |k| < 2^8 (its low 12 bits are zero).
const LOG_LN2_HI: f32 = 6.931_381e-1; // 0x3f317180
const LOG_LN2_LO: f32 = 9.058_001e-6; // 0x3717f7d1
                                      // log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)), s = f / (2 + f) (FreeBSD's logf coefficients).
const LG1: f32 = 0.666_666_6; // 0xaaaaaa.0p-24
const LG2: f32 = 0.400_009_72; // 0xccce13.0p-25
const LG3: f32 = 0.284_987_87; // 0x91e9ee.0p-25
const LG4: f32 = 0.242_790_79; // 0xf89e26.0p-26
/// Bits of sqrt(1/2): mantissas are reduced into [sqrt(1/2), sqrt(2)).
const SQRT_HALF_BITS: u32 = 0x3f35_04f3;

/// log(1 + f) - f + f^2/2 for f in [sqrt(1/2) - 1, sqrt(2) - 1], split so the caller adds the
/// big terms last: returns (s (hfsq + R), hfsq).
#[inline(always)]
fn log1p_kernel(f: f32) -> (f32, f32) {
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * LG4);
    let t2 = z * (LG1 + w * LG3);
    let hfsq = 0.5 * f * f;
    (s * (hfsq + (t1 + t2)), hfsq)
}

#[inline(always)]
pub fn log_f32(x: f32) -> f32 {
    // Subnormals: scale by 2^25 into the normal range and take 25 off the exponent.
    let sub = x < f32::MIN_POSITIVE;
    let xs = if sub { x * 33_554_432.0 } else { x };
    let k0: i32 = if sub { -25 } else { 0 };
    // x = 2^k m with m in [sqrt(1/2), sqrt(2)): offset the bits so the exponent field rolls
    // over at sqrt(2) instead of 2.
    let ix = xs.to_bits().wrapping_add(0x3f80_0000 - SQRT_HALF_BITS);
    let k = k0 + ((ix >> 23) as i32 - 0x7f);
    let m = f32::from_bits((ix & 0x007f_ffff) + SQRT_HALF_BITS);
    let f = m - 1.0;
    let (t, hfsq) = log1p_kernel(f);
    let dk = k as f32;
    let y = t + dk * LOG_LN2_LO - hfsq + f + dk * LOG_LN2_HI;
    // Selects, not branches: log(+inf) = +inf, log(+-0) = -inf, log(x < 0) = NaN, NaN -> NaN.
    let y = if x == f32::INFINITY { x } else { y };
    let y = if x == 0.0 { f32::NEG_INFINITY } else { y };
    if x < 0.0 || x.is_nan() {
        f32::NAN
    } else {
        y
    }
}

#[inline(always)]
pub fn log1p_f32(x: f32) -> f32 {
    // u = 1 + x = 2^k m, m in [sqrt(1/2), sqrt(2)); c = (1 + x) - u, the rounding error of u,
    // enters as log(u + c) ~ log(u) + c / u (musl's log1pf, without its branches).
    let u = 1.0 + x;
    let iu = u.to_bits().wrapping_add(0x3f80_0000 - SQRT_HALF_BITS);
    let k = (iu >> 23) as i32 - 0x7f;
    // For k >= 2, u - x is exact (x > u/2); for k < 2, u - 1 is exact (u in [sqrt(1/2)/2, 2)).
    let c = if k >= 2 { 1.0 - (u - x) } else { x - (u - 1.0) };
    let c = c / u;
    // Past 2^25, 1 is below half an ulp of x and c is garbage (also keeps inf - inf out).
    let c = if k < 25 { c } else { 0.0 };
    let m = f32::from_bits((iu & 0x007f_ffff) + SQRT_HALF_BITS);
    let f = m - 1.0;
    let (t, hfsq) = log1p_kernel(f);
    let dk = k as f32;
    let y = t + (dk * LOG_LN2_LO + c) - hfsq + f + dk * LOG_LN2_HI;
    // log1p(+-0) = +-0 (the sum above gives +0 for -0), log1p(inf) = inf, log1p(-1) = -inf,
    // below -1 (and NaN) NaN.
    let y = if x == 0.0 { x } else { y };
    let y = if x == f32::INFINITY { x } else { y };
    let y = if x == -1.0 { f32::NEG_INFINITY } else { y };
    if x < -1.0 || x.is_nan() {
        f32::NAN
    } else {
        y
    }
}

// ---------------------------------------------------------------------------------------------
// erf

/// Below this |x| erf is the odd polynomial, above it 1 - exp(-P(|x|)).
const ERF_POLY_MAX: f32 = 0.921_875;
/// erf(x) rounds to 1 beyond ~3.92 (erfc(4) = 1.5e-8 is below half an ulp of 1).
const ERF_ONE_FROM: f32 = 4.0;

#[inline(always)]
pub fn erf_f32(x: f32) -> f32 {
    let t = x.abs();
    // |x| <= 0.921875: x + x R(x^2), R(z) ~ erf(sqrt z) / sqrt z - 1 (minimax fit, 0.26 ulp).
    let z = x * x;
    let mut r = -6.013_395_6e-4_f32;
    r = r * z + 4.998_001_3e-3;
    r = r * z - 2.677_023_2e-2;
    r = r * z + 1.128_192_7e-1;
    r = r * z - 3.761_250_7e-1;
    r = r * z + 1.283_791_5e-1;
    let small = r * t + t;
    // 0.921875 < |x| <= 4: 1 - exp(-G(|x|)), G(t) ~ -ln(erfc t) (minimax fit weighted by
    // erfc, 0.03 ulp); the clamp keeps G's argument in its range, and past 4 the result rounds
    // to 1.
    let tc = t.min(ERF_ONE_FROM);
    let mut g = -1.947_335_8e-4_f32;
    g = g * tc + 3.031_592_1e-3;
    g = g * tc - 2.218_136_6e-2;
    g = g * tc + 1.038_388_4e-1;
    g = g * tc + 6.372_858e-1;
    g = g * tc + 1.127_615_5;
    g = g * tc + 2.099_231e-4;
    let big = 1.0 - exp_f32(-g);
    let y = if t <= ERF_POLY_MAX { small } else { big };
    // erf is odd (copysign also keeps -0.0); NaN would otherwise be clamped to 4 above.
    let y = y.copysign(x);
    if x.is_nan() {
        x
    } else {
        y
    }
}

// ---------------------------------------------------------------------------------------------
// sin / cos

/// Largest |x| that [`sin_f32`] / [`cos_f32`] reduce accurately (checked for every float up
/// to it: within 1 ulp).
pub const TRIG_FAST_MAX: f32 = 16_777_216.0; // 2^24
const FRAC_2_PI_F64: f64 = std::f64::consts::FRAC_2_PI;
// pi/2 = PIO2_HI + PIO2_LO (+ 1.6e-26): PIO2_HI has 27 significant bits, so n * PIO2_HI is
// exact for |n| < 2^26 (|x| <= 2^24 gives |n| < 2^24); PIO2_LO carries the next 53 bits.
const PIO2_HI: f64 = 1.570_796_325_802_803; // 0x1.921fb54p0
const PIO2_LO: f64 = 9.920_935_796_805_404e-10; // 0x1.10b4611a62633p-30
const ROUND_MAGIC_F64: f64 = 6_755_399_441_055_744.0; // 1.5 * 2^52

/// x = n pi/2 + r, |r| <= pi/4 (plus rounding), in double precision (exact up to
/// [`TRIG_FAST_MAX`]); returns r as a float pair (r_hi + r_lo) and n mod 4.
#[inline(always)]
fn trig_reduce(x: f32) -> (f32, f32, u32) {
    let xd = x as f64;
    // Round to nearest with 1.5 * 2^52: the low bits of nm's mantissa are then n's (two's
    // complement) low bits, which gives the quadrant without a float-to-int conversion (that
    // of f64 to i32 does not vectorise).
    let nm = xd * FRAC_2_PI_F64 + ROUND_MAGIC_F64;
    let n = nm - ROUND_MAGIC_F64;
    let r = (xd - n * PIO2_HI) - n * PIO2_LO;
    let r_hi = r as f32;
    let r_lo = (r - r_hi as f64) as f32;
    // (Garbage for NaN and inf, but r is NaN then.)
    let q = nm.to_bits() as u32 & 3;
    (r_hi, r_lo, q)
}

/// sin(r), cos(r) for r = r_hi + r_lo, |r| <= pi/4 (Cephes' sinf / cosf coefficients; r_lo
/// enters to first order: sin(r) ~ sin(r_hi) + r_lo, cos(r) ~ cos(r_hi) - r_hi r_lo).
#[inline(always)]
fn sincos_kernel(r: f32, r_lo: f32) -> (f32, f32) {
    let z = r * r;
    let mut ps = -1.951_529_6e-4_f32;
    ps = ps * z + 8.332_161e-3;
    ps = ps * z - 1.666_665_5e-1;
    let s = r + (ps * z * r + r_lo);
    let mut pc = 2.443_315_7e-5_f32;
    pc = pc * z - 1.388_731_6e-3;
    pc = pc * z + 4.166_664_6e-2;
    // 1 - z/2 rounded, and its rounding error added back with the small terms (fdlibm's
    // kernel_cosf).
    let hz = 0.5 * z;
    let w = 1.0 - hz;
    let c = w + (((1.0 - w) - hz) + (pc * z * z - r * r_lo));
    (s, c)
}

#[inline(always)]
pub fn sin_f32(x: f32) -> f32 {
    let (r, r_lo, q) = trig_reduce(x);
    let (s, c) = sincos_kernel(r, r_lo);
    // sin(x) = s, c, -s, -c for n mod 4 = 0, 1, 2, 3.
    let y = if q & 1 == 0 { s } else { c };
    let y = f32::from_bits(y.to_bits() ^ ((q & 2) << 30));
    // sin(-0.0) = -0.0 (r_lo = +0.0 turns r + r_lo into +0.0).
    if x == 0.0 {
        x
    } else {
        y
    }
}

#[inline(always)]
pub fn cos_f32(x: f32) -> f32 {
    let (r, r_lo, q) = trig_reduce(x);
    let (s, c) = sincos_kernel(r, r_lo);
    // cos(x) = c, -s, -c, s for n mod 4 = 0, 1, 2, 3.
    let y = if q & 1 == 0 { c } else { s };
    f32::from_bits(y.to_bits() ^ (((q + 1) & 2) << 30))
}

/// Elements that [`sin_f32`] / [`cos_f32`] do not reduce accurately (|x| > [`TRIG_FAST_MAX`],
/// inf, NaN): the caller recomputes those with libm.
#[inline(always)]
pub fn trig_needs_slow_path(x: f32) -> bool {
    x.is_nan() || x.abs() > TRIG_FAST_MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f32, b: f32) -> u32 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    #[test]
    fn exp_is_within_two_ulp_of_f64_reference() {
        let mut worst = 0;
        let mut x = -103.0f32;
        while x < 88.7 {
            let want = (x as f64).exp() as f32;
            let got = exp_f32(x);
            if want.is_normal() {
                if ulps(got, want) > 2 {
                    eprintln!("x={x} got={got} want={want}");
                }
                worst = worst.max(ulps(got, want));
            } else {
                assert!(
                    (got - want).abs() <= f32::MIN_POSITIVE,
                    "x={x} got={got} want={want}"
                );
            }
            x += 0.001_37;
        }
        assert!(worst <= 2, "worst error {worst} ulp");
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(100.0), f32::INFINITY);
        assert_eq!(exp_f32(-200.0), 0.0);
        assert!(exp_f32(f32::NAN).is_nan());
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
    }

    #[test]
    fn exp_avx512_is_within_two_ulp_of_f64_reference() {
        if !crate::backend::cpu::has_avx512() {
            return;
        }
        let mut xs: Vec<f32> = float_stride(110.0, true).collect();
        xs.extend([
            0.0, -0.0, 88.72, 88.73, 89.0, 1e30, -87.5, -103.9, -104.0, -1e30,
        ]);
        xs.extend([
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MIN_POSITIVE,
            1e-30,
        ]);
        let mut out = vec![std::mem::MaybeUninit::new(0.0f32); xs.len()];
        // SAFETY: the CPU has AVX-512 (checked above); equal lengths.
        unsafe { exp_f32_avx512(&xs, &mut out) };
        let mut worst = 0;
        for (&x, y) in xs.iter().zip(&out) {
            // SAFETY: every slot was written.
            let y = unsafe { y.assume_init() };
            if x.is_nan() {
                assert!(y.is_nan());
                continue;
            }
            let want = (x as f64).exp() as f32;
            if want.is_infinite() || want == 0.0 {
                assert_eq!(y, want, "exp({x})");
            }
            worst = worst.max(ulps(y, want));
        }
        assert!(worst <= 2, "worst {worst} ulp");
    }

    #[test]
    fn tanh_avx512_is_within_two_ulp_of_f64_reference() {
        if !crate::backend::cpu::has_avx512() {
            return;
        }
        let mut xs: Vec<f32> = float_stride(12.0, true).collect();
        xs.extend([
            0.0, -0.0, 0.625, -0.625, 9.0, 18.0, 1e-30, -1e-30, 88.0, 1e30,
        ]);
        xs.extend([
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MIN_POSITIVE,
        ]);
        let mut out = vec![std::mem::MaybeUninit::new(0.0f32); xs.len()];
        // SAFETY: the CPU has AVX-512 (checked above); equal lengths.
        unsafe { tanh_f32_avx512(&xs, &mut out) };
        let mut worst = 0;
        for (&x, y) in xs.iter().zip(&out) {
            // SAFETY: every slot was written.
            let y = unsafe { y.assume_init() };
            if x.is_nan() {
                assert!(y.is_nan());
                continue;
            }
            let want = (x as f64).tanh() as f32;
            assert_eq!(
                y.is_sign_negative(),
                want.is_sign_negative(),
                "tanh({x}) = {y}"
            );
            worst = worst.max(ulps(y, want));
        }
        assert!(worst <= 2, "worst {worst} ulp");
    }

    #[test]
    fn tanh_is_within_two_ulp_of_f64_reference() {
        let mut worst = 0;
        let mut x = -12.0f32;
        while x < 12.0 {
            let want = (x as f64).tanh() as f32;
            worst = worst.max(ulps(tanh_f32(x), want));
            x += 0.000_37;
        }
        // Tiny arguments, where tanh(x) rounds to x.
        for x in [1e-30f32, -3e-20, 1e-8, -4e-5, f32::MIN_POSITIVE] {
            worst = worst.max(ulps(tanh_f32(x), (x as f64).tanh() as f32));
        }
        assert!(worst <= 2, "worst error {worst} ulp");
        assert_eq!(tanh_f32(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(tanh_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(tanh_f32(f32::INFINITY), 1.0);
        assert_eq!(tanh_f32(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanh_f32(50.0), 1.0);
        assert!(tanh_f32(f32::NAN).is_nan());
    }

    /// Every 997th float from the smallest subnormal up to (not past) `hi`, and their negatives
    /// when `both_signs`: all binades, varied mantissas.
    fn float_stride(hi: f32, both_signs: bool) -> impl Iterator<Item = f32> {
        (1..=hi.to_bits())
            .step_by(997)
            .map(f32::from_bits)
            .flat_map(move |x| if both_signs { vec![x, -x] } else { vec![x] })
    }

    #[test]
    fn log_is_within_two_ulp_of_f64_reference() {
        let mut worst = 0;
        // Subnormals to f32::MAX, and every float within 2^-10 of 1 (where log is ~ x - 1).
        let near_one = ((1.0f32 - 1.0 / 1024.0).to_bits()..=(1.0f32 + 1.0 / 1024.0).to_bits())
            .map(f32::from_bits);
        for x in float_stride(f32::MAX, false).chain(near_one) {
            let want = (x as f64).ln() as f32;
            worst = worst.max(ulps(log_f32(x), want));
        }
        assert!(worst <= 2, "worst error {worst} ulp");
        assert_eq!(log_f32(1.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(log_f32(0.0), f32::NEG_INFINITY);
        assert_eq!(log_f32(-0.0), f32::NEG_INFINITY);
        assert_eq!(log_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(
            log_f32(f32::from_bits(1)),
            (f32::from_bits(1) as f64).ln() as f32
        );
        assert_eq!(log_f32(f32::MAX), (f32::MAX as f64).ln() as f32);
        for x in [-1.0, -1e-40, f32::NEG_INFINITY, f32::NAN] {
            assert!(log_f32(x).is_nan(), "log({x})");
        }
    }

    #[test]
    fn log1p_is_within_two_ulp_of_f64_reference() {
        let mut worst = 0;
        // (-1, 0) by the stride over [0, 1] negated, and all positive floats.
        let neg = float_stride(1.0, false).map(|x| -x).filter(|&x| x > -1.0);
        for x in float_stride(f32::MAX, false).chain(neg) {
            let want = (x as f64).ln_1p() as f32;
            worst = worst.max(ulps(log1p_f32(x), want));
        }
        assert!(worst <= 2, "worst error {worst} ulp");
        assert_eq!(log1p_f32(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(log1p_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(log1p_f32(-1.0), f32::NEG_INFINITY);
        assert_eq!(log1p_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(log1p_f32(1e-30), 1e-30);
        for x in [-1.000_001, -2.0, f32::NEG_INFINITY, f32::NAN] {
            assert!(log1p_f32(x).is_nan(), "log1p({x})");
        }
    }

    /// erf in double precision (std's f64 has none before Rust 1.9x): 2/sqrt(pi) e^(-x^2)
    /// sum 2^n x^(2n+1) / (1 3 5 ... (2n+1)), a series of positive terms (no cancellation);
    /// relative error ~1e-15 for |x| <= 6 (checked against mpmath), and erfc(6) < 1e-16.
    pub(super) fn erf_ref(x: f64) -> f64 {
        let t = x.abs();
        if t > 6.0 {
            return 1.0f64.copysign(x);
        }
        let t2 = t * t;
        let (mut term, mut sum, mut n) = (t, t, 0.0);
        while term > sum * 1e-17 {
            n += 1.0;
            term *= 2.0 * t2 / (2.0 * n + 1.0);
            sum += term;
        }
        (std::f64::consts::FRAC_2_SQRT_PI * (-t2).exp() * sum).copysign(x)
    }

    #[test]
    fn erf_is_within_two_ulp_of_f64_reference() {
        let mut worst = 0;
        let mut x = -5.0f32;
        while x < 5.0 {
            worst = worst.max(ulps(erf_f32(x), erf_ref(x as f64) as f32));
            x += 0.000_37;
        }
        // Subnormals to 8 (past 3.92 erf rounds to 1), both signs.
        for x in float_stride(8.0, true) {
            worst = worst.max(ulps(erf_f32(x), erf_ref(x as f64) as f32));
        }
        assert!(worst <= 2, "worst error {worst} ulp");
        assert_eq!(erf_f32(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(erf_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(erf_f32(f32::INFINITY), 1.0);
        assert_eq!(erf_f32(f32::NEG_INFINITY), -1.0);
        assert_eq!(erf_f32(4.0), 1.0);
        assert_eq!(erf_f32(-1e30), -1.0);
        assert!(erf_f32(f32::NAN).is_nan());
    }

    #[test]
    fn sin_cos_are_within_two_ulp_of_f64_reference() {
        let mut worst = 0;
        let mut check = |x: f32| {
            worst = worst.max(ulps(sin_f32(x), (x as f64).sin() as f32));
            worst = worst.max(ulps(cos_f32(x), (x as f64).cos() as f32));
        };
        let mut x = -10.0f32;
        while x < 10.0 {
            check(x);
            x += 0.000_37;
        }
        for x in float_stride(TRIG_FAST_MAX, true) {
            check(x);
        }
        // Floats nearest to multiples of pi/2 (where the reduction cancels most), up to 2^24.
        for k in (1..=10_680_707u32)
            .step_by(1_013)
            .chain([102_940, 6_381_956, 10_680_707])
        {
            let m = k as f64 * std::f64::consts::FRAC_PI_2;
            let f = m as f32;
            for x in [f, f.next_down(), f.next_up()] {
                if x.abs() <= TRIG_FAST_MAX {
                    check(x);
                }
            }
        }
        assert!(worst <= 2, "worst error {worst} ulp");
        assert_eq!(sin_f32(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(sin_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(cos_f32(0.0), 1.0);
        assert_eq!(cos_f32(-0.0), 1.0);
        for x in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            assert!(sin_f32(x).is_nan() && cos_f32(x).is_nan(), "x={x}");
            assert!(trig_needs_slow_path(x));
        }
        assert!(!trig_needs_slow_path(TRIG_FAST_MAX) && !trig_needs_slow_path(-TRIG_FAST_MAX));
        assert!(trig_needs_slow_path(TRIG_FAST_MAX.next_up()));
        assert!(trig_needs_slow_path(-1e30));
    }
}
