//! The default CPU generator: xoshiro256** seeded through splitmix64, shared per process
//! like PyTorch's default generator.

use parking_lot::Mutex;

static STATE: Mutex<[u64; 4]> = Mutex::new([
    0x9E37_79B9_7F4A_7C15,
    0xBF58_476D_1CE4_E5B9,
    0x94D0_49BB_1331_11EB,
    0x2545_F491_4F6C_DD1D,
]);

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub fn manual_seed(seed: u64) {
    let mut x = seed;
    *STATE.lock() = [
        splitmix(&mut x),
        splitmix(&mut x),
        splitmix(&mut x),
        splitmix(&mut x),
    ];
}

fn next(s: &mut [u64; 4]) -> u64 {
    let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
    let t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3].rotate_left(45);
    result
}

/// `n` draws from U[0, 1).
pub fn uniform(n: usize) -> Vec<f64> {
    let mut s = STATE.lock();
    (0..n)
        .map(|_| (next(&mut s) >> 11) as f64 * (1.0 / (1u64 << 53) as f64))
        .collect()
}

/// `n` draws from N(0, 1) (Box-Muller).
pub fn normal(n: usize) -> Vec<f64> {
    let mut s = STATE.lock();
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let u1 = ((next(&mut s) >> 11) as f64 + 1.0) * (1.0 / ((1u64 << 53) as f64 + 1.0));
        let u2 = (next(&mut s) >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * u2;
        out.push(r * theta.cos());
        out.push(r * theta.sin());
    }
    out.truncate(n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_draws_repeat_and_have_the_right_moments() {
        manual_seed(7);
        let a = normal(20_000);
        manual_seed(7);
        let b = normal(20_000);
        assert_eq!(a, b);
        let mean = a.iter().sum::<f64>() / a.len() as f64;
        let var = a.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / a.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
        let u = uniform(10_000);
        assert!(u.iter().all(|&v| (0.0..1.0).contains(&v)));
    }
}
