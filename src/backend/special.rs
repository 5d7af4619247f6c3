//! The gamma family on the CPU: `lgamma`, `digamma`, `polygamma` (and the Hurwitz zeta under
//! it), by PyTorch's own algorithms (`aten/src/ATen/native/Math.h`, from Cephes) in the same
//! precision, so that values agree with PyTorch's CPU kernels to the last bit where the
//! operations are the same: `digamma` and `trigamma` in the element's type (the reflection's
//! `tan` in float64), the zeta sum in float64 for both types. `lgamma` is the C library's,
//! as PyTorch's (the reentrant `lgamma_r`: plain `lgamma` writes the global `signgam`).

use std::f64::consts::PI;

mod ffi {
    use std::ffi::c_int;
    extern "C" {
        pub fn lgamma_r(x: f64, sign: *mut c_int) -> f64;
        pub fn lgammaf_r(x: f32, sign: *mut c_int) -> f32;
    }
}

/// `ln |Γ(x)|` by the C library.
fn lgamma_f64(x: f64) -> f64 {
    let mut sign = 0;
    // SAFETY: a pure function of one number that writes the sign to the given local.
    unsafe { ffi::lgamma_r(x, &mut sign) }
}

fn lgamma_f32(x: f32) -> f32 {
    let mut sign = 0;
    // SAFETY: as `lgamma_f64`.
    unsafe { ffi::lgammaf_r(x, &mut sign) }
}

/// The asymptotic series' coefficients of `digamma` (largest power first), as PyTorch writes
/// them (so the same doubles).
#[allow(clippy::excessive_precision)]
const DIGAMMA_A: [f64; 7] = [
    8.33333333333333333333E-2,
    -2.10927960927960927961E-2,
    7.57575757575757575758E-3,
    -4.16666666666666666667E-3,
    3.96825396825396825397E-3,
    -8.33333333333333333333E-3,
    8.33333333333333333333E-2,
];

/// `digamma(10)`, where the recurrence lands exactly for whole numbers up to 10.
#[allow(clippy::excessive_precision)]
const PSI_10: f64 = 2.25175258906672110764;

macro_rules! gamma_family {
    ($m:ident, $t:ty, $lgamma:ident) => {
        /// The gamma family in this element type.
        pub mod $m {
            use super::{zeta, DIGAMMA_A, PI, PSI_10};

            /// `ln |Γ(x)|` (the C library's, as PyTorch's).
            pub fn lgamma(x: $t) -> $t {
                super::$lgamma(x)
            }

            /// `ψ(x) = d/dx ln Γ(x)`: PyTorch's `calc_digamma` in this type.
            pub fn digamma(x: $t) -> $t {
                if x == 0.0 {
                    // ±0 gives ∓inf, as the C++ standard's gamma functions and SciPy.
                    return <$t>::INFINITY.copysign(-x);
                }
                if x < 0.0 {
                    if x == x.trunc() {
                        return <$t>::NAN;
                    }
                    // tan of the fractional part: π r is exact where π x is not.
                    let r = (x as f64).fract();
                    return digamma(1.0 - x) - (PI / (PI * r).tan()) as $t;
                }
                let (mut x, mut result) = (x, 0.0 as $t);
                while x < 10.0 {
                    result -= 1.0 / x;
                    x += 1.0;
                }
                if x == 10.0 {
                    return result + PSI_10 as $t;
                }
                let mut y = 0.0 as $t;
                if x < 1.0e17 {
                    let z = 1.0 / (x * x);
                    let series = DIGAMMA_A
                        .iter()
                        .fold(0.0 as $t, |acc, &a| acc * z + a as $t);
                    y = z * series;
                }
                result + x.ln() - (0.5 / x) - y
            }

            /// `ψ'(x)`: PyTorch's `calc_trigamma` in this type.
            pub fn trigamma(x: $t) -> $t {
                let (mut x, mut sign, mut result) = (x, 1.0 as $t, 0.0 as $t);
                if x < 0.5 {
                    sign = -1.0;
                    let pi = PI as $t;
                    let sin_pi_x = (pi * x).sin();
                    result -= (pi * pi) / (sin_pi_x * sin_pi_x);
                    x = 1.0 - x;
                }
                for _ in 0..6 {
                    result += 1.0 / (x * x);
                    x += 1.0;
                }
                let ixx = 1.0 / (x * x);
                let tail = 1.0
                    + 1.0 / (2.0 * x)
                    + ixx * (1.0 / 6.0 - ixx * (1.0 / 30.0 - ixx * (1.0 / 42.0)));
                result += tail / x;
                sign * result
            }

            /// `ψ⁽ⁿ⁾(x)`, the n-th derivative of `digamma` (`n` a whole number >= 0, checked
            /// by the caller): `(-1)^(n+1) n! ζ(n + 1, x)` past the first two.
            pub fn polygamma(x: $t, n: $t) -> $t {
                match n as i64 {
                    0 => digamma(x),
                    1 => trigamma(x),
                    n => {
                        let sign: $t = if n % 2 == 1 { 1.0 } else { -1.0 };
                        let factorial = lgamma(n as $t + 1.0).exp();
                        sign * factorial * zeta((n + 1) as f64, x as f64) as $t
                    }
                }
            }
        }
    };
}

gamma_family!(f64s, f64, lgamma_f64);
gamma_family!(f32s, f32, lgamma_f32);

/// The Hurwitz zeta function `ζ(x, q) = Σ_k (k + q)^-x`: PyTorch's `zeta` (Cephes), a direct
/// sum to k = 9 then the Euler-Maclaurin tail, in float64.
pub fn zeta(x: f64, q: f64) -> f64 {
    const MACHEP: f64 = f64::EPSILON / 2.0;
    #[allow(clippy::excessive_precision)]
    const A: [f64; 12] = [
        12.0,
        -720.0,
        30240.0,
        -1209600.0,
        47900160.0,
        -1.8924375803183791606e9,
        7.47242496e10,
        -2.950130727918164224e12,
        1.1646782814350067249e14,
        -4.5979787224074726105e15,
        1.8152105401943546773e17,
        -7.1661652561756670113e18,
    ];
    if x == 1.0 {
        return f64::INFINITY;
    }
    if x < 1.0 {
        return f64::NAN;
    }
    if q <= 0.0 {
        if q == q.floor() {
            return f64::INFINITY;
        }
        if x != x.floor() {
            return f64::NAN;
        }
    }
    let mut s = q.powf(-x);
    let (mut a, mut b) = (q, 0.0);
    let mut i = 0;
    while i < 9 || a <= 9.0 {
        i += 1;
        a += 1.0;
        b = a.powf(-x);
        s += b;
        if -MACHEP * s < b && b < MACHEP * s {
            return s;
        }
    }
    let w = a;
    s += b * w / (x - 1.0);
    s -= 0.5 * b;
    let (mut a, mut k) = (1.0, 0.0);
    for coefficient in A {
        a *= x + k;
        b /= w;
        let t = a * b / coefficient;
        s += t;
        if (t / s).abs() < MACHEP {
            return s;
        }
        k += 1.0;
        a *= x + k;
        b /= w;
        k += 1.0;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // ψ(1) = -γ, ψ'(1) = π²/6, ψ''(1) = -2 ζ(3), ln Γ(5) = ln 24.
        let euler_gamma = 0.577_215_664_901_532_9;
        assert!((f64s::digamma(1.0) + euler_gamma).abs() < 1e-15);
        // (PyTorch's trigamma: six steps of the recurrence, then the series: 8e-10 off)
        assert!((f64s::trigamma(1.0) - PI * PI / 6.0).abs() < 1e-9);
        assert_eq!(f64s::trigamma(1.0), 1.644_934_067_638_337_5); // PyTorch's value
        assert!((f64s::polygamma(1.0, 2.0) + 2.0 * 1.202_056_903_159_594_2).abs() < 1e-13);
        assert!((f64s::lgamma(5.0) - 24f64.ln()).abs() < 1e-15);
        assert!((f32s::digamma(0.5) - (-euler_gamma - 2.0 * 2f64.ln()) as f32).abs() < 1e-6);
    }

    #[test]
    fn poles_and_signs() {
        assert_eq!(f64s::digamma(0.0), f64::NEG_INFINITY);
        assert_eq!(f64s::digamma(-0.0), f64::INFINITY);
        assert!(f64s::digamma(-2.0).is_nan());
        assert_eq!(zeta(1.0, 2.0), f64::INFINITY);
        assert!(zeta(0.5, 2.0).is_nan());
        // the reflection: ψ(1 - x) - ψ(x) = π cot(π x)
        let x = 0.3;
        let cot = 1.0 / (PI * x).tan();
        assert!((f64s::digamma(1.0 - x) - f64s::digamma(x) - PI * cot).abs() < 1e-12);
    }
}
