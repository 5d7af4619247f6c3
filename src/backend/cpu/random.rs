//! CPU generators: xoshiro256** seeded through splitmix64. [`Rng`] is one generator's state
//! (`torch.Generator` holds one); [`DEFAULT`] is the process's default generator, shared like
//! PyTorch's, behind `rand`, `randn` and `manual_seed`.

use std::sync::{Arc, LazyLock};

use parking_lot::Mutex;

/// PyTorch's default seed (`torch.initial_seed()` of a fresh process).
pub const DEFAULT_SEED: u64 = 67_280_421_310_721;

/// The default generator (`torch.default_generator`).
pub static DEFAULT: LazyLock<Arc<Mutex<Rng>>> =
    LazyLock::new(|| Arc::new(Mutex::new(Rng::seeded(DEFAULT_SEED))));

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One generator's whole state: the seed it started from and xoshiro256**'s four words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    seed: u64,
    s: [u64; 4],
}

impl Rng {
    pub fn seeded(seed: u64) -> Rng {
        let mut x = seed;
        let s = [
            splitmix(&mut x),
            splitmix(&mut x),
            splitmix(&mut x),
            splitmix(&mut x),
        ];
        Rng { seed, s }
    }

    pub fn initial_seed(&self) -> u64 {
        self.seed
    }

    /// `[seed, s0, s1, s2, s3]`: everything [`Rng::from_state`] needs.
    pub fn state(&self) -> [u64; 5] {
        [self.seed, self.s[0], self.s[1], self.s[2], self.s[3]]
    }

    /// None for an all-zero xoshiro state (a fixed point that would draw only zeros).
    pub fn from_state(v: [u64; 5]) -> Option<Rng> {
        let s = [v[1], v[2], v[3], v[4]];
        (s != [0; 4]).then_some(Rng { seed: v[0], s })
    }

    fn next(&mut self) -> u64 {
        let s = &mut self.s;
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

    /// A draw from U[0, 1) with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `n` draws from U[0, 1).
    pub fn uniform(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.next_f64()).collect()
    }

    /// `n` draws from N(0, 1) (Box-Muller).
    pub fn normal(&mut self, n: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(n + 1);
        while out.len() < n {
            let u1 = ((self.next() >> 11) as f64 + 1.0) * (1.0 / ((1u64 << 53) as f64 + 1.0));
            let u2 = self.next_f64();
            let r = (-2.0 * u1.ln()).sqrt();
            let theta = 2.0 * std::f64::consts::PI * u2;
            out.push(r * theta.cos());
            out.push(r * theta.sin());
        }
        out.truncate(n);
        out
    }
}

pub fn manual_seed(seed: u64) {
    *DEFAULT.lock() = Rng::seeded(seed);
}

/// `n` draws from U[0, 1) of the default generator.
pub fn uniform(n: usize) -> Vec<f64> {
    DEFAULT.lock().uniform(n)
}

/// `n` draws from N(0, 1) of the default generator.
pub fn normal(n: usize) -> Vec<f64> {
    DEFAULT.lock().normal(n)
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

    #[test]
    fn a_generator_is_its_own_stream_and_its_state_round_trips() {
        let mut g = Rng::seeded(3);
        let first = g.uniform(5);
        let saved = g.state();
        let next = g.uniform(5);
        assert_ne!(first, next);
        let mut h = Rng::from_state(saved).unwrap();
        assert_eq!(h.uniform(5), next);
        assert_eq!(h.initial_seed(), 3);
        assert_eq!(Rng::seeded(3).uniform(5), first);
        assert!(Rng::from_state([1, 0, 0, 0, 0]).is_none());
    }
}
