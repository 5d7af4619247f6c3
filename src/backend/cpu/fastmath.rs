//! Branch-free float32 math that the compiler can vectorise, unlike a libm call: `exp`,
//! `expm1`, `exp2`, `sinh`, `cosh` (Cephes' polynomial with an exact range reduction), `tanh`
//! (Cephes' odd polynomial near 0, `exp` beyond), `log`/`log1p` (FreeBSD's `logf` kernel) and
//! `atanh`/`asinh` through them, `erf` (two minimax fits), `asin`/`acos`/`atan` (Cephes') and
//! `sin`/`cos`/`tan` (a float64 Cody-Waite reduction, Cephes' polynomials; valid up to
//! [`TRIG_FAST_MAX`]); and explicit AVX-512 loops for `exp`, `tanh` and the trig functions.
//! Each is within 2 ulp of the correctly rounded value (tested below against float64 over
//! every binade; exhaustive sweeps found at most 1 ulp for log, log1p, erf, sin and cos).

const LOG2E: f32 = std::f32::consts::LOG2_E;
// ln 2 split in two so that n * LN2_HI is exact for the n that occur.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
const MAX_ARG: f32 = 88.722_84; // ln(f32::MAX)
const MIN_ARG: f32 = -103.972_08; // below this the result rounds to 0
const ROUND_MAGIC: f32 = 12_582_912.0;

/// e^r - 1 = r + r^2 P(r) for |r| <= ln2 / 2 (Cephes' expf polynomial): no cancellation near
/// 0, so `exp_f32` (adding 1) and `expm1_f32` (scaling first) share it.
#[inline(always)]
fn expm1_poly(r: f32) -> f32 {
    let mut p = 1.987_569_1e-4_f32;
    p = p.mul_add(r, 1.398_199_9e-3);
    p = p.mul_add(r, 8.333_452e-3);
    p = p.mul_add(r, 4.166_579_6e-2);
    p = p.mul_add(r, 1.666_666_5e-1);
    p = p.mul_add(r, 0.5);
    (p * r).mul_add(r, r)
}

/// x = n ln2 + r with |r| <= ln2 / 2 (plus rounding), for finite x: returns (e^r - 1, n).
#[inline(always)]
fn exp_reduce(x: f32) -> (f32, f32) {
    // Round to nearest by adding and subtracting 1.5 * 2^23 (no `floor`, which baseline
    // x86-64 only has as a libm call): n is within 1/2 of x log2(e), so |r| <= ln2 / 2.
    let n = (x * LOG2E + ROUND_MAGIC) - ROUND_MAGIC;
    // Fused multiply-adds: one rounding each, and half the latency of the chain in the AVX2
    // copies of the loops (`mul_add` is one instruction there; elsewhere a libm `fmaf`,
    // which gives the same results).
    let r = n.mul_add(-LN2_LO, n.mul_add(-LN2_HI, x));
    (expm1_poly(r), n)
}

/// y 2^n for an integer n in [-151, 129], as two normal factors (subnormal and near-overflow
/// results round once, in the last multiplication).
#[inline(always)]
fn scale_by_pow2(y: f32, n: f32) -> f32 {
    // SAFETY: callers pass an integer in [-151, 129], which `i32` holds; unlike `as`, this
    // converts all lanes at once (no saturation checks).
    let n: i32 = unsafe { n.to_int_unchecked() };
    let half = n >> 1;
    let s1 = f32::from_bits(((half + 127) as u32) << 23);
    let s2 = f32::from_bits(((n - half + 127) as u32) << 23);
    y * s1 * s2
}

#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    // e^x = 2^n e^r. `max`/`min` (unlike `clamp`) drop a NaN, so `n` is always a small
    // integer, in [-150, 128].
    #[allow(clippy::manual_clamp)]
    let xc = x.max(MIN_ARG).min(MAX_ARG);
    let (pm1, n) = exp_reduce(xc);
    let y = scale_by_pow2(pm1 + 1.0, n);
    // Selects, not branches, so the loop vectorises.
    let y = if x > MAX_ARG { f32::INFINITY } else { y };
    let y = if x < MIN_ARG { 0.0 } else { y };
    if x.is_nan() {
        x
    } else {
        y
    }
}

/// e^x / 2 without overflow up to x = 89.4 (`sinh`, `cosh` of large arguments).
#[inline(always)]
fn exp_half_f32(x: f32) -> f32 {
    #[allow(clippy::manual_clamp)]
    let xc = x.max(MIN_ARG).min(90.0);
    let (pm1, n) = exp_reduce(xc);
    scale_by_pow2(pm1 + 1.0, n - 1.0)
}

/// e^x - 1 without cancellation near 0: 2^n (1 + p) - 1 = p 2^n + (2^n - 1) in one rounding
/// (2^n - 1 is exact for the n in [-24, 24] where the 1 matters; past 17.4 it is e^x).
#[inline(always)]
pub fn expm1_f32(x: f32) -> f32 {
    #[allow(clippy::manual_clamp)]
    let xc = x.max(-18.0).min(MAX_ARG);
    let (pm1, n) = exp_reduce(xc);
    let near = n.min(24.0);
    // SAFETY: `near` is an integer in [-26, 24].
    let s = f32::from_bits(((unsafe { near.to_int_unchecked::<i32>() } + 127) as u32) << 23);
    let y = pm1.mul_add(s, s - 1.0);
    let y = if n > 24.0 {
        scale_by_pow2(pm1 + 1.0, n)
    } else {
        y
    };
    let y = if x > MAX_ARG { f32::INFINITY } else { y };
    // expm1(-0.0) = -0.0; NaN stays NaN.
    if x == 0.0 || x.is_nan() {
        x
    } else {
        y
    }
}

/// ln 2 - `LN_2` as a float: f ln2 = f LN_2 + f LN2_TAIL to about 48 bits.
const LN2_TAIL: f32 = 1.904_654_3e-9;

/// 2^x = 2^n e^(f ln2) with n the nearest integer and f = x - n exact, |f| <= 1/2.
#[inline(always)]
pub fn exp2_f32(x: f32) -> f32 {
    #[allow(clippy::manual_clamp)]
    let xc = x.max(-150.0).min(128.0);
    let n = (xc + ROUND_MAGIC) - ROUND_MAGIC;
    let f = xc - n;
    let r = f.mul_add(std::f32::consts::LN_2, f * LN2_TAIL);
    let y = scale_by_pow2(expm1_poly(r) + 1.0, n);
    if x.is_nan() {
        x
    } else {
        y
    }
}

/// Past this |x|, e^-|x| is below a quarter ulp of e^|x| and sinh, cosh are e^|x| / 2.
const HYPERBOLIC_EXP_FROM: f32 = 9.0;

/// `sinh`/`cosh` of |x| = `z`: `near` (their value from the exponentials) below
/// [`HYPERBOLIC_EXP_FROM`], e^z / 2 from there, inf past 89.5 (where e^z / 2 overflows).
#[inline(always)]
fn hyperbolic_far(z: f32, near: f32) -> f32 {
    let y = if z >= HYPERBOLIC_EXP_FROM {
        exp_half_f32(z)
    } else {
        near
    };
    if z > 89.5 {
        f32::INFINITY
    } else {
        y
    }
}

#[inline(always)]
pub fn sinh_f32(x: f32) -> f32 {
    let z = x.abs();
    // t = e^z - 1: sinh z = (t + t / (t + 1)) / 2, which near 0 is (2t - t^2 / (t + 1)) / 2
    // (fdlibm's forms; no cancellation).
    let t = expm1_f32(z.min(HYPERBOLIC_EXP_FROM));
    let small = 0.5 * (2.0f32.mul_add(t, -(t * t / (t + 1.0))));
    let mid = 0.5 * (t + t / (t + 1.0));
    let y = hyperbolic_far(z, if z < 1.0 { small } else { mid });
    // Odd (copysign keeps -0.0); NaN stays NaN.
    if x.is_nan() {
        x
    } else {
        y.copysign(x)
    }
}

#[inline(always)]
pub fn cosh_f32(x: f32) -> f32 {
    let z = x.abs();
    let e = exp_f32(z.min(HYPERBOLIC_EXP_FROM));
    let y = hyperbolic_far(z, 0.5f32.mul_add(e, 0.5 / e));
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

/// atanh x = log1p(2x / (1 - x)) / 2, with fdlibm's form 2x + 2x^2 / (1 - x) of the argument
/// below 1/2 (no rounding of 1 - x reaching the small result).
#[inline(always)]
pub fn atanh_f32(x: f32) -> f32 {
    let z = x.abs();
    let t = z + z;
    // 1 - z is exact on [1/2, 1]; z = 1 gives inf, z > 1 (and NaN) NaN.
    let arg = if z < 0.5 {
        t.mul_add(z / (1.0 - z), t)
    } else {
        t / (1.0 - z)
    };
    (0.5 * log1p_f32(arg)).copysign(x)
}

/// asinh |x| = log1p(|x| + x^2 / (1 + sqrt(1 + x^2))) (fdlibm's form: no cancellation), and
/// ln |x| + ln 2 past 2^12, where x^2 + 1 is x^2.
#[inline(always)]
pub fn asinh_f32(x: f32) -> f32 {
    let z = x.abs();
    let zc = z.min(4096.0);
    let q = zc * zc;
    let near = log1p_f32(zc + q / (1.0 + (1.0 + q).sqrt()));
    let far = log_f32(z) + std::f32::consts::LN_2;
    let y = if z > 4096.0 { far } else { near };
    // Odd (copysign keeps -0.0); NaN stays NaN.
    if x.is_nan() {
        x
    } else {
        y.copysign(x)
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

/// tan x = sin / cos of the reduced argument, or -cos / sin in the odd quadrants.
#[inline(always)]
pub fn tan_f32(x: f32) -> f32 {
    let (r, r_lo, q) = trig_reduce(x);
    let (s, c) = sincos_kernel(r, r_lo);
    let odd = q & 1 == 1;
    let y = if odd { c } else { s } / if odd { s } else { c };
    let y = if odd { -y } else { y };
    // tan(-0.0) = -0.0.
    if x == 0.0 {
        x
    } else {
        y
    }
}

// pi/2 and pi/4 as floats plus what they miss.
const PIO2_F32: f32 = std::f32::consts::FRAC_PI_2;
const PIO2_F32_LO: f32 = -4.371_139e-8;
const PIO4_F32: f32 = std::f32::consts::FRAC_PI_4;
const PIO4_F32_LO: f32 = -2.185_569_5e-8;

const PI_F32: f32 = std::f32::consts::PI;
const PI_F32_LO: f32 = -8.742_278e-8;

/// asin s for |s| <= 1/2, given z = s^2: s + s z P(z) (Cephes' asinf polynomial).
#[inline(always)]
fn asin_poly(s: f32, z: f32) -> f32 {
    let mut p = 4.216_32e-2_f32;
    p = p.mul_add(z, 2.418_131_2e-2);
    p = p.mul_add(z, 4.547_002_6e-2);
    p = p.mul_add(z, 7.495_300_3e-2);
    p = p.mul_add(z, 1.666_675_2e-1);
    (p * z).mul_add(s, s)
}

/// Cephes' asinf: the polynomial up to |x| = 1/2, and asin a = pi/2 - 2 asin(sqrt((1 - a) / 2))
/// above (1 - a exact there); |x| > 1 gives NaN through the square root.
#[inline(always)]
pub fn asin_f32(x: f32) -> f32 {
    let a = x.abs();
    let far = a > 0.5;
    let z = if far { 0.5 * (1.0 - a) } else { a * a };
    let s = if far { z.sqrt() } else { a };
    let p = asin_poly(s, z);
    let y = if far {
        PIO2_F32 + 2.0f32.mul_add(-p, PIO2_F32_LO)
    } else {
        p
    };
    y.copysign(x)
}

/// Cephes' acosf: pi/2 - asin x up to |x| = 1/2, 2 asin(sqrt((1 - |x|) / 2)) above it (and pi
/// minus that below -1/2).
#[inline(always)]
pub fn acos_f32(x: f32) -> f32 {
    let a = x.abs();
    let far = a > 0.5;
    let z = if far { 0.5 * (1.0 - a) } else { x * x };
    let s = if far { z.sqrt() } else { x };
    let p = asin_poly(s, z);
    let middle = PIO2_F32 + (PIO2_F32_LO - p);
    let upper = p + p;
    let lower = PI_F32 + 2.0f32.mul_add(-p, PI_F32_LO);
    let y = if x > 0.5 { upper } else { middle };
    let y = if x < -0.5 { lower } else { y };
    // NaN (and |x| > 1, NaN through the square root) stays NaN.
    if x.is_nan() {
        x
    } else {
        y
    }
}

/// Cephes' atanf: |x| is brought into [0, tan(pi/8)] by atan z = pi/2 + atan(-1/z) above
/// tan(3pi/8) and pi/4 + atan((z - 1) / (z + 1)) above tan(pi/8), then an odd polynomial.
#[inline(always)]
pub fn atan_f32(x: f32) -> f32 {
    let z = x.abs();
    let big = z > 2.414_213_5;
    let mid = z > 0.414_213_57;
    let num = if big {
        -1.0
    } else if mid {
        z - 1.0
    } else {
        z
    };
    let den = if big {
        z
    } else if mid {
        z + 1.0
    } else {
        1.0
    };
    let w = num / den;
    let (base, base_lo) = if big {
        (PIO2_F32, PIO2_F32_LO)
    } else if mid {
        (PIO4_F32, PIO4_F32_LO)
    } else {
        (0.0, 0.0)
    };
    let s = w * w;
    let mut p = 8.053_744_5e-2_f32;
    p = p.mul_add(s, -1.387_768_6e-1);
    p = p.mul_add(s, 1.997_771_1e-1);
    p = p.mul_add(s, -3.333_295e-1);
    let y = base + ((p * s).mul_add(w, w) + base_lo);
    // Odd (copysign keeps -0.0); NaN goes through every step.
    y.copysign(x)
}

/// Elements that [`sin_f32`] / [`cos_f32`] do not reduce accurately (|x| > [`TRIG_FAST_MAX`],
/// inf, NaN): the caller recomputes those with libm.
#[inline(always)]
pub fn trig_needs_slow_path(x: f32) -> bool {
    x.is_nan() || x.abs() > TRIG_FAST_MAX
}

/// Which function [`trig_f32_avx512`] computes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Trig {
    Sin,
    Cos,
    Tan,
}

/// libm's float32 `op` (arguments past [`TRIG_FAST_MAX`], inf and NaN).
fn trig_libm(op: Trig, x: f32) -> f32 {
    match op {
        Trig::Sin => x.sin(),
        Trig::Cos => x.cos(),
        Trig::Tan => x.tan(),
    }
}

/// [`sin_f32`], [`cos_f32`] or [`tan_f32`] of one float.
#[inline(always)]
pub fn trig_f32(op: Trig, x: f32) -> f32 {
    match op {
        Trig::Sin => sin_f32(x),
        Trig::Cos => cos_f32(x),
        Trig::Tan => tan_f32(x),
    }
}

/// `trig_reduce` for 8 lanes in double precision: (r_hi, r_lo, n) with r_hi + r_lo = x - n
/// pi/2 (the products fused, so exact) and n as integers.
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
unsafe fn trig_reduce_avx512_half(
    x: std::arch::x86_64::__m256,
) -> (
    std::arch::x86_64::__m256,
    std::arch::x86_64::__m256,
    std::arch::x86_64::__m256i,
) {
    use std::arch::x86_64::*;
    let xd = _mm512_cvtps_pd(x);
    let n = _mm512_roundscale_pd::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
        _mm512_mul_pd(xd, _mm512_set1_pd(FRAC_2_PI_F64)),
    );
    let r = _mm512_fnmadd_pd(
        n,
        _mm512_set1_pd(PIO2_LO),
        _mm512_fnmadd_pd(n, _mm512_set1_pd(PIO2_HI), xd),
    );
    let r_hi = _mm512_cvtpd_ps(r);
    let r_lo = _mm512_cvtpd_ps(_mm512_sub_pd(r, _mm512_cvtps_pd(r_hi)));
    (r_hi, r_lo, _mm512_cvtpd_epi32(n))
}

/// sin, cos or tan of every element of `src` into `dst` (same length) by explicit AVX-512 code:
/// [`trig_reduce`] in double precision eight lanes at a time, then [`sincos_kernel`]'s
/// polynomials on sixteen (fused, so the last bit may differ from the scalar functions');
/// lanes past [`TRIG_FAST_MAX`], inf and NaN are recomputed with libm in the same pass. Within
/// 2 ulp of the correctly rounded value (tested below).
///
/// # Safety
/// The CPU must have AVX-512F (`has_avx512`), and `dst.len() == src.len()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
pub unsafe fn trig_f32_avx512(op: Trig, src: &[f32], dst: &mut [std::mem::MaybeUninit<f32>]) {
    use std::arch::x86_64::*;
    debug_assert_eq!(src.len(), dst.len());
    let body = src.len() / 16 * 16;
    let splat = _mm512_set1_ps;
    let join = |lo: __m256, hi: __m256| {
        _mm512_castpd_ps(_mm512_insertf64x4::<1>(
            _mm512_castps_pd(_mm512_castps256_ps512(lo)),
            _mm256_castps_pd(hi),
        ))
    };
    let one = _mm512_set1_epi32(1);
    for i in (0..body).step_by(16) {
        let x = _mm512_loadu_ps(src.as_ptr().add(i));
        let upper = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(x)));
        let (r0, lo0, n0) = trig_reduce_avx512_half(_mm512_castps512_ps256(x));
        let (r1, lo1, n1) = trig_reduce_avx512_half(upper);
        let (r, r_lo) = (join(r0, r1), join(lo0, lo1));
        let q = _mm512_inserti64x4::<1>(_mm512_castsi256_si512(n0), n1);
        // sincos_kernel, fused.
        let z = _mm512_mul_ps(r, r);
        let mut ps = splat(-1.951_529_6e-4);
        ps = _mm512_fmadd_ps(ps, z, splat(8.332_161e-3));
        ps = _mm512_fmadd_ps(ps, z, splat(-1.666_665_5e-1));
        let sin = _mm512_add_ps(r, _mm512_fmadd_ps(_mm512_mul_ps(ps, z), r, r_lo));
        let mut pc = splat(2.443_315_7e-5);
        pc = _mm512_fmadd_ps(pc, z, splat(-1.388_731_6e-3));
        pc = _mm512_fmadd_ps(pc, z, splat(4.166_664_6e-2));
        let hz = _mm512_mul_ps(splat(0.5), z);
        let w = _mm512_sub_ps(splat(1.0), hz);
        let small = _mm512_fnmadd_ps(r, r_lo, _mm512_mul_ps(_mm512_mul_ps(pc, z), z));
        let cos = _mm512_add_ps(
            w,
            _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(splat(1.0), w), hz), small),
        );
        // n mod 4 picks the function and the sign (as in sin_f32, cos_f32, tan_f32).
        let odd = _mm512_test_epi32_mask(q, one);
        let sign_of =
            |bits: __m512i| _mm512_slli_epi32::<30>(_mm512_and_si512(bits, _mm512_set1_epi32(2)));
        let y = match op {
            Trig::Sin => _mm512_xor_ps(
                _mm512_mask_blend_ps(odd, sin, cos),
                _mm512_castsi512_ps(sign_of(q)),
            ),
            Trig::Cos => _mm512_xor_ps(
                _mm512_mask_blend_ps(odd, cos, sin),
                _mm512_castsi512_ps(sign_of(_mm512_add_epi32(q, one))),
            ),
            Trig::Tan => {
                let t = _mm512_div_ps(
                    _mm512_mask_blend_ps(odd, sin, cos),
                    _mm512_mask_blend_ps(odd, cos, sin),
                );
                _mm512_mask_sub_ps(t, odd, _mm512_setzero_ps(), t)
            }
        };
        // sin(-0.0) = tan(-0.0) = -0.0 (r + r_lo gives +0.0).
        let y = if op == Trig::Cos {
            y
        } else {
            _mm512_mask_blend_ps(
                _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(x, _mm512_setzero_ps()),
                y,
                x,
            )
        };
        _mm512_storeu_ps(dst.as_mut_ptr().add(i).cast::<f32>(), y);
        // Not <= TRIG_FAST_MAX (unordered: NaN too).
        let mut slow = _mm512_cmp_ps_mask::<_CMP_NLE_UQ>(_mm512_abs_ps(x), splat(TRIG_FAST_MAX));
        while slow != 0 {
            let lane = slow.trailing_zeros() as usize;
            dst[i + lane].write(trig_libm(op, src[i + lane]));
            slow &= slow - 1;
        }
    }
    for (d, &v) in dst[body..].iter_mut().zip(&src[body..]) {
        d.write(if trig_needs_slow_path(v) {
            trig_libm(op, v)
        } else {
            trig_f32(op, v)
        });
    }
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

    /// The largest error in ulp of `f` against `reference` (in float64, rounded) over `xs`,
    /// where the reference is finite; NaN must give NaN, and infinite or zero references must
    /// be met exactly (sign included).
    fn worst_ulps(
        xs: impl IntoIterator<Item = f32>,
        f: impl Fn(f32) -> f32,
        reference: impl Fn(f64) -> f64,
    ) -> u32 {
        let mut worst = 0;
        for x in xs {
            let (got, want) = (f(x), reference(x as f64) as f32);
            if want.is_nan() {
                assert!(got.is_nan(), "f({x}) = {got}, want NaN");
            } else if want.is_infinite() || want == 0.0 {
                assert_eq!(got.to_bits(), want.to_bits(), "f({x}) = {got}, want {want}");
            } else {
                let error = ulps(got, want);
                assert!(error <= 8, "f({x}) = {got}, want {want}");
                worst = worst.max(error);
            }
        }
        worst
    }

    /// Every `step` from `lo` to `hi`, then the specials.
    fn grid(lo: f32, hi: f32, step: f32) -> impl Iterator<Item = f32> {
        let n = ((hi - lo) / step) as usize;
        (0..=n).map(move |i| lo + i as f32 * step).chain([
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            f32::MAX,
            f32::MIN,
        ])
    }

    #[test]
    fn expm1_exp2_sinh_cosh_are_within_two_ulp_of_f64_reference() {
        let xs = || float_stride(f32::MAX, true).chain(grid(-20.0, 20.0, 0.000_71));
        assert!(worst_ulps(xs(), expm1_f32, f64::exp_m1) <= 2, "expm1");
        assert!(worst_ulps(xs(), sinh_f32, f64::sinh) <= 2, "sinh");
        assert!(worst_ulps(xs(), cosh_f32, f64::cosh) <= 2, "cosh");
        // 2^x is subnormal below -126: there the float64 reference rounds once and we twice.
        let exp2_xs = xs().filter(|&x| !(-150.0..-126.0).contains(&x));
        assert!(worst_ulps(exp2_xs, exp2_f32, f64::exp2) <= 2, "exp2");
        for x in (0..18_000).map(|i| -150.0 + i as f32 * 0.001_3) {
            let want = (x as f64).exp2() as f32;
            assert!((exp2_f32(x) - want).abs() <= f32::from_bits(1), "exp2({x})");
        }
        // Integers are exact; near 0 the results are x (expm1, sinh) and 1 (cosh).
        for k in -149..=127 {
            assert_eq!(exp2_f32(k as f32), (k as f64).exp2() as f32, "exp2({k})");
        }
        assert_eq!(expm1_f32(1e-30), 1e-30);
        assert_eq!(sinh_f32(-1e-30), -1e-30);
        assert_eq!(cosh_f32(1e-30), 1.0);
        assert_eq!(expm1_f32(-100.0), -1.0);
        assert_eq!(sinh_f32(89.5), f32::INFINITY);
        assert_eq!(cosh_f32(-89.5), f32::INFINITY);
        assert!(cosh_f32(89.4).is_finite() && sinh_f32(-89.4).is_finite());
    }

    fn xs_asinh() -> impl Iterator<Item = f32> {
        float_stride(f32::MAX, true).chain(grid(-5000.0, 5000.0, 0.037))
    }

    #[test]
    fn inverse_functions_are_within_two_ulp_of_f64_reference() {
        let xs = || float_stride(f32::MAX, true).chain(grid(-4.0, 4.0, 0.000_37));
        assert!(worst_ulps(xs(), atan_f32, f64::atan) <= 2, "atan");
        // Every float in [1 - 2^-10, 1], where atanh's argument 1 - x cancels.
        let near_one = ((1.0f32 - 1.0 / 1024.0).to_bits()..=1.0f32.to_bits()).map(f32::from_bits);
        let xs = xs().chain(near_one.clone()).chain(near_one.map(|x| -x));
        assert!(worst_ulps(xs, atanh_f32, f64::atanh) <= 2, "atanh");
        assert_eq!(atan_f32(f32::INFINITY), std::f32::consts::FRAC_PI_2);
        assert!(worst_ulps(xs_asinh(), asinh_f32, f64::asinh) <= 2, "asinh");
        // Every 97th float in [-1, 1] and the ends.
        let unit = || {
            (0..=1.0f32.to_bits())
                .step_by(97)
                .map(f32::from_bits)
                .flat_map(|x| [x, -x])
                .chain([1.0, -1.0, 0.5, -0.5, 1.000_001, -1.5, f32::NAN])
        };
        assert!(worst_ulps(unit(), asin_f32, f64::asin) <= 2, "asin");
        assert!(worst_ulps(unit(), acos_f32, f64::acos) <= 2, "acos");
        assert_eq!(asin_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(atanh_f32(-1.0), f32::NEG_INFINITY);
    }

    /// Floats of every binade up to 2^24 and those nearest to multiples of pi/2 (where the
    /// reduction cancels most), both signs.
    fn trig_inputs() -> Vec<f32> {
        let mut xs: Vec<f32> = grid(-10.0, 10.0, 0.000_37).collect();
        xs.extend(float_stride(TRIG_FAST_MAX, true));
        for k in (1..=10_680_707u32)
            .step_by(1_013)
            .chain([102_940, 6_381_956, 10_680_707])
        {
            let f = (k as f64 * std::f64::consts::FRAC_PI_2) as f32;
            xs.extend([f, f.next_down(), f.next_up(), -f]);
        }
        // Past the fast range (libm's).
        xs.extend([TRIG_FAST_MAX.next_up(), -1e30, 3e38, f32::MAX]);
        xs
    }

    /// libm where [`trig_needs_slow_path`], as the kernels' callers do.
    fn with_slow_path(op: Trig) -> impl Fn(f32) -> f32 {
        move |x| {
            if trig_needs_slow_path(x) {
                trig_libm(op, x)
            } else {
                trig_f32(op, x)
            }
        }
    }

    #[test]
    fn tan_is_within_two_ulp_of_f64_reference() {
        let xs = trig_inputs();
        assert!(worst_ulps(xs.iter().copied(), with_slow_path(Trig::Tan), f64::tan) <= 2);
        assert_eq!(tan_f32(-0.0).to_bits(), (-0.0f32).to_bits());
    }

    #[test]
    fn trig_avx512_matches_f64_reference() {
        if !crate::backend::cpu::has_avx512() {
            return;
        }
        let xs = trig_inputs();
        let mut out = vec![std::mem::MaybeUninit::new(0.0f32); xs.len()];
        for (op, reference, bound) in [
            (Trig::Sin, f64::sin as fn(f64) -> f64, 2),
            (Trig::Cos, f64::cos, 2),
            (Trig::Tan, f64::tan, 2),
        ] {
            // SAFETY: the CPU has AVX-512 (checked above); equal lengths.
            unsafe { trig_f32_avx512(op, &xs, &mut out) };
            // SAFETY: every slot was written.
            let got: std::collections::HashMap<u32, f32> = xs
                .iter()
                .zip(&out)
                .map(|(x, y)| (x.to_bits(), unsafe { y.assume_init() }))
                .collect();
            let kernel = |x: f32| got[&x.to_bits()];
            let worst = worst_ulps(xs.iter().copied(), kernel, reference);
            assert!(worst <= bound, "{op:?}: worst {worst} ulp");
            for &x in &xs {
                if trig_needs_slow_path(x) {
                    assert_eq!(
                        kernel(x).to_bits(),
                        trig_libm(op, x).to_bits(),
                        "{op:?}({x})"
                    );
                }
                if x == 0.0 && op != Trig::Cos {
                    assert_eq!(kernel(x).to_bits(), x.to_bits(), "{op:?}({x})");
                }
            }
        }
    }
}
