//! CPU generators, draw for draw PyTorch's: the mt19937 engine of its `CPUGeneratorImpl` and
//! the transformations its CPU kernels apply to the engine's 32-bit words, so that a seeded
//! program draws PyTorch's numbers (`manual_seed(0); rand(3)` prints what PyTorch prints).
//! [`Rng`] is one generator's whole state (`torch.Generator` holds one); [`DEFAULT`] is the
//! process's default generator, shared like PyTorch's, behind `rand`, `randn` and
//! `manual_seed`.

use std::sync::{Arc, LazyLock};

use parking_lot::Mutex;

use super::simd_twins;
use crate::base::dtype::DType;

/// PyTorch's default seed (`torch.initial_seed()` of a fresh process).
pub const DEFAULT_SEED: u64 = 67_280_421_310_721;

/// The default generator (`torch.default_generator`).
pub static DEFAULT: LazyLock<Arc<Mutex<Rng>>> =
    LazyLock::new(|| Arc::new(Mutex::new(Rng::seeded(DEFAULT_SEED))));

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;

/// The byte size of PyTorch's `CPUGeneratorImplState`, the `uint8` tensor `get_rng_state`
/// returns: seed, `left`, `seeded`, `next`, the 624 words as `uint64`, three legacy doubles
/// (the second is the cached double normal sample), its validity flag, then the cached float
/// normal sample and its flag.
pub const STATE_BYTES: usize = 5056;
const WORDS_AT: usize = 24;
const NORMAL_Y_AT: usize = WORDS_AT + 8 * N + 8;
const NORMAL_VALID_AT: usize = NORMAL_Y_AT + 16;
const FLOAT_NORMAL_AT: usize = NORMAL_VALID_AT + 8;

/// One generator's whole state: mt19937's words and position, the seed it started from, and
/// the second Box-Muller sample PyTorch keeps for the next single normal draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Rng {
    seed: u64,
    left: u32,
    next: u32,
    words: Box<[u32; N]>,
    next_double_normal: Option<f64>,
    next_float_normal: Option<f32>,
}

impl Rng {
    pub fn seeded(seed: u64) -> Rng {
        let mut words = Box::new([0u32; N]);
        words[0] = seed as u32;
        for j in 1..N {
            let prev = words[j - 1];
            words[j] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(j as u32);
        }
        Rng {
            seed,
            left: 1,
            next: 0,
            words,
            next_double_normal: None,
            next_float_normal: None,
        }
    }

    pub fn initial_seed(&self) -> u64 {
        self.seed
    }

    fn twist(&mut self) {
        for i in 0..N {
            let (u, v) = (self.words[i], self.words[(i + 1) % N]);
            let mixed = (u & 0x8000_0000) | (v & 0x7fff_ffff);
            let twisted = (mixed >> 1) ^ if v & 1 == 1 { MATRIX_A } else { 0 };
            self.words[i] = self.words[(i + M) % N] ^ twisted;
        }
        self.left = N as u32;
        self.next = 0;
    }

    /// The engine's next 32-bit word (`CPUGeneratorImpl::random`).
    pub fn random(&mut self) -> u32 {
        self.left -= 1;
        if self.left == 0 {
            self.twist();
        }
        let mut y = self.words[self.next as usize];
        self.next += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// Two words as one, the first high (`CPUGeneratorImpl::random64`).
    pub fn random64(&mut self) -> u64 {
        let hi = self.random() as u64;
        (hi << 32) | self.random() as u64
    }

    /// A draw from U[0, 1) with 53 random bits (PyTorch's `uniform_real_distribution<double>`).
    pub fn next_f64(&mut self) -> f64 {
        (self.random64() & ((1 << 53) - 1)) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A draw from U[0, 1) with 24 random bits (PyTorch's `uniform_real_distribution<float>`).
    pub fn next_f32(&mut self) -> f32 {
        (self.random() & ((1 << 24) - 1)) as f32 * (1.0 / (1u32 << 24) as f32)
    }

    /// `n` draws from U[from, to) as PyTorch's `uniform_` draws them for `dtype`: 53 bits
    /// scaled in float64 for float64, 24 in float32 for the others (rounded to a half type).
    /// PyTorch's compiler fuses `u * (to - from) + from` into one multiply-add; so do we.
    pub fn uniform_fill(&mut self, n: usize, dtype: DType, from: f64, to: f64) -> Vec<f64> {
        let mut values: Vec<f64> = match dtype {
            DType::F64 => (0..n).map(|_| self.next_f64()).collect(),
            // The half types draw in float32 (their opmath type), then round.
            _ => (0..n).map(|_| self.next_f32() as f64).collect(),
        };
        scale_uniform(&mut values, dtype, from, to);
        values
    }

    /// One N(mean, std²) draw as PyTorch's `normal_distribution<double>`: Box-Muller on two
    /// float64 uniforms, the sine's sample kept for the next call.
    pub fn normal_one(&mut self, mean: f64, std: f64) -> f64 {
        if let Some(z) = self.next_double_normal.take() {
            return z.mul_add(std, mean);
        }
        let u1 = self.next_f64();
        let u2 = self.next_f64();
        let r = (-2.0 * (-u2).ln_1p()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * u1;
        self.next_double_normal = Some(r * theta.sin());
        (r * theta.cos()).mul_add(std, mean)
    }

    /// `n` draws from N(mean, std²) as PyTorch's `normal_` fills a tensor of `dtype`: a
    /// contiguous one of at least 16 elements by Box-Muller over blocks of 16 uniforms (in
    /// float32 with the AVX2 kernel's own log and sincos), anything else one
    /// [`Rng::normal_one`] at a time (`serial`: a non-contiguous tensor).
    pub fn normal_fill(
        &mut self,
        n: usize,
        dtype: DType,
        mean: f64,
        std: f64,
        serial: bool,
    ) -> Vec<f64> {
        if n < 16 || serial {
            return (0..n)
                .map(|_| {
                    let z = self.normal_one(mean, std);
                    match dtype {
                        DType::F64 => z,
                        DType::F32 => z as f32 as f64,
                        _ => round_to(dtype, z),
                    }
                })
                .collect();
        }
        match dtype {
            DType::F64 => {
                let mut data: Vec<f64> = (0..n).map(|_| self.next_f64()).collect();
                normal_blocks_f64(&mut data, mean, std);
                if let Some(tail) = tail_16(&mut data) {
                    tail.iter_mut().for_each(|v| *v = self.next_f64());
                    normal_blocks_f64(tail, mean, std);
                }
                data
            }
            _ => {
                // The half types compute in float32 and round; their kernel draws only the
                // whole blocks' uniforms before the redrawn tail.
                let drawn = if dtype == DType::F32 { n } else { n - n % 16 };
                let mut data: Vec<f64> = (0..n)
                    .map(|i| {
                        if i < drawn {
                            self.next_f32() as f64
                        } else {
                            0.0
                        }
                    })
                    .collect();
                let (mean, std) = (mean as f32, std as f32);
                normal_blocks_f32(&mut data, mean, std);
                if let Some(tail) = tail_16(&mut data) {
                    tail.iter_mut().for_each(|v| *v = self.next_f32() as f64);
                    normal_blocks_f32(tail, mean, std);
                }
                if dtype != DType::F32 {
                    data.iter_mut().for_each(|v| *v = round_to(dtype, *v));
                }
                data
            }
        }
    }

    /// `n` draws from Exp(lambd) as PyTorch's CPU `exponential_`: `-1/lambd * log1p(-u)` of
    /// float64 uniforms, in float64.
    pub fn exponential_fill(&mut self, n: usize, lambd: f64) -> Vec<f64> {
        (0..n)
            .map(|_| -1.0 / lambd * (-self.next_f64()).ln_1p())
            .collect()
    }

    /// `n` integers `word % range + base` as PyTorch's `random_(from, to)` draws them: a
    /// 64-bit word when `wide` (a range of 2²⁸ or more, in PyTorch's release builds), else a
    /// 32-bit one. `random_()` without bounds is the same with `base` 0 and the dtype's
    /// range.
    pub fn random_ints(&mut self, n: usize, range: u64, base: i64, wide: bool) -> Vec<i64> {
        (0..n)
            .map(|_| {
                let word = if wide {
                    self.random64()
                } else {
                    self.random() as u64
                };
                (word % range).wrapping_add(base as u64) as i64
            })
            .collect()
    }

    /// A random permutation of `0..n` by PyTorch's CPU shuffle (one 32-bit word per swap,
    /// below 2³²/20 elements; the inside-out shuffle on 64-bit words above).
    pub fn randperm(&mut self, n: usize) -> Vec<i64> {
        let mut perm: Vec<i64> = (0..n as i64).collect();
        if (n as u64) < u64::from(u32::MAX) / 20 {
            for i in 0..n.saturating_sub(1) {
                let z = self.random() as usize % (n - i);
                perm.swap(i, z + i);
            }
        } else {
            for i in 0..n {
                let z = (self.random64() % (i as u64 + 1)) as usize;
                perm[i] = perm[z];
                perm[z] = i as i64;
            }
        }
        perm
    }

    /// PyTorch's `CPUGeneratorImplState` bytes (what `torch.get_rng_state()` holds).
    pub fn state_bytes(&self) -> Vec<u8> {
        let mut b = vec![0u8; STATE_BYTES];
        b[0..8].copy_from_slice(&self.seed.to_le_bytes());
        b[8..12].copy_from_slice(&(self.left as i32).to_le_bytes());
        b[12..16].copy_from_slice(&1i32.to_le_bytes()); // seeded
        b[16..24].copy_from_slice(&u64::from(self.next).to_le_bytes());
        for (i, w) in self.words.iter().enumerate() {
            let at = WORDS_AT + 8 * i;
            b[at..at + 8].copy_from_slice(&u64::from(*w).to_le_bytes());
        }
        if let Some(z) = self.next_double_normal {
            b[NORMAL_Y_AT..NORMAL_Y_AT + 8].copy_from_slice(&z.to_le_bytes());
            b[NORMAL_VALID_AT..NORMAL_VALID_AT + 4].copy_from_slice(&1i32.to_le_bytes());
        }
        if let Some(z) = self.next_float_normal {
            b[FLOAT_NORMAL_AT..FLOAT_NORMAL_AT + 4].copy_from_slice(&z.to_le_bytes());
            b[FLOAT_NORMAL_AT + 4] = 1;
        }
        b
    }

    /// The state in `bytes` (from [`Rng::state_bytes`] or PyTorch's `get_rng_state`), or None
    /// where it is not a valid mt19937 state (PyTorch's "Invalid mt19937 state").
    pub fn from_state_bytes(b: &[u8]) -> Option<Rng> {
        if b.len() != STATE_BYTES {
            return None;
        }
        let u64_at = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
        let i32_at = |at: usize| i32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        let (left, seeded, next) = (i32_at(8), i32_at(12), u64_at(16) as u32);
        if seeded == 0 || left <= 0 || left > N as i32 || next > N as u32 {
            return None;
        }
        let mut words = Box::new([0u32; N]);
        for (i, w) in words.iter_mut().enumerate() {
            *w = u64_at(WORDS_AT + 8 * i) as u32;
        }
        Some(Rng {
            seed: u64_at(0),
            left: left as u32,
            next,
            words,
            next_double_normal: (i32_at(NORMAL_VALID_AT) != 0)
                .then(|| f64::from_bits(u64_at(NORMAL_Y_AT))),
            next_float_normal: (b[FLOAT_NORMAL_AT + 4] != 0).then(|| {
                f32::from_le_bytes(b[FLOAT_NORMAL_AT..FLOAT_NORMAL_AT + 4].try_into().unwrap())
            }),
        })
    }
}

/// PyTorch keeps `uniform_` in `[from, to)`: a draw that rounds up to `to` reads `from`.
#[inline(always)]
fn below(v: f64, from: f64, to: f64) -> f64 {
    if v == to && from != to {
        from
    } else {
        v
    }
}

/// The last 16 elements of `data` when its length is not a multiple of 16: PyTorch's
/// `normal_fill` redraws them whole and transforms them again.
fn tail_16(data: &mut [f64]) -> Option<&mut [f64]> {
    let n = data.len();
    (!n.is_multiple_of(16)).then(|| &mut data[n - 16..])
}

// The transformations, compiled for FMA too: on baseline x86-64 (the wheel's target) every
// `mul_add` would be a library call.
simd_twins!(fn scale_uniform [] (values: &mut [f64], dtype: DType, from: f64, to: f64) => scale_uniform_body);
simd_twins!(fn normal_blocks_f64 [] (data: &mut [f64], mean: f64, std: f64) => normal_blocks_f64_body);
simd_twins!(fn normal_blocks_f32 [] (data: &mut [f64], mean: f32, std: f32) => normal_blocks_f32_body);

/// Unit draws `u` scaled to `[from, to)` as PyTorch's kernel does for `dtype`.
#[inline(always)]
fn scale_uniform_body(values: &mut [f64], dtype: DType, from: f64, to: f64) {
    if dtype == DType::F64 {
        for v in values.iter_mut() {
            *v = below(v.mul_add(to - from, from), from, to);
        }
        return;
    }
    let (from32, to32) = (from as f32, to as f32);
    let (low, high) = (round_to(dtype, from), round_to(dtype, to));
    for v in values.iter_mut() {
        let u = (*v as f32).mul_add(to32 - from32, from32) as f64;
        *v = below(round_to(dtype, u), low, high);
    }
}

#[inline(always)]
fn normal_blocks_f64_body(data: &mut [f64], mean: f64, std: f64) {
    for block in data.chunks_exact_mut(16) {
        normal_16_f64(block, mean, std);
    }
}

#[inline(always)]
fn normal_blocks_f32_body(data: &mut [f64], mean: f32, std: f32) {
    for block in data.chunks_exact_mut(16) {
        normal_16_f32(block, mean, std);
    }
}

/// PyTorch's `normal_fill_16` in float64 (the C library's log, cos and sin).
#[inline(always)]
fn normal_16_f64(d: &mut [f64], mean: f64, std: f64) {
    for j in 0..8 {
        let u1 = 1.0 - d[j];
        let u2 = d[j + 8];
        let radius = (-2.0 * u1.ln()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * u2;
        d[j] = (radius * theta.cos()).mul_add(std, mean);
        d[j + 8] = (radius * theta.sin()).mul_add(std, mean);
    }
}

/// PyTorch's `normal_fill_16_AVX2` one lane at a time: the same float32 operations in the
/// same order, with `avx_mathfun`'s log and sincos, so each value is bit for bit its own.
#[inline(always)]
fn normal_16_f32(d: &mut [f64], mean: f32, std: f32) {
    let two_pi = (2.0 * std::f64::consts::PI) as f32;
    for j in 0..8 {
        let u1 = 1.0 - d[j] as f32;
        let u2 = d[j + 8] as f32;
        let radius = (-2.0 * cephes_logf(u1)).sqrt();
        let (sin, cos) = cephes_sincosf(two_pi * u2);
        d[j] = (radius * cos).mul_add(std, mean) as f64;
        d[j + 8] = (radius * sin).mul_add(std, mean) as f64;
    }
}

#[inline(always)]
fn c(v: f64) -> f32 {
    v as f32
}

/// `log256_ps` of PyTorch's `avx_mathfun.h` (Cephes' logf) for one lane.
#[inline(always)]
fn cephes_logf(x: f32) -> f32 {
    let invalid = x <= 0.0;
    let x = x.max(f32::MIN_POSITIVE);
    let exponent = (x.to_bits() >> 23) as i32 - 0x7f;
    let mut x = f32::from_bits((x.to_bits() & !0x7f80_0000) | 0.5f32.to_bits());
    let mut e = exponent as f32 + 1.0;
    let below = x < c(std::f64::consts::FRAC_1_SQRT_2);
    let tmp = if below { x } else { 0.0 };
    x -= 1.0;
    e -= if below { 1.0 } else { 0.0 };
    x += tmp;
    // PyTorch's compiler contracts each multiply whose only use is an add into a fused
    // multiply-add (the first multiply of an add of two products); the lines below do the same.
    let z = x * x;
    let mut y = c(7.037_683_629_2E-2);
    for p in [
        -1.151_461_031_0E-1,
        1.167_699_874_0E-1,
        -1.242_014_084_6E-1,
        1.424_932_278_7E-1,
        -1.666_805_766_5E-1,
        2.000_071_476_5E-1,
        -2.499_999_399_3E-1,
        3.333_333_117_4E-1,
    ] {
        y = y.mul_add(x, c(p));
    }
    y *= x;
    y = y.mul_add(z, e * c(-2.121_944_40e-4));
    y = (-z).mul_add(0.5, y);
    x += y;
    x = e.mul_add(c(0.693_359_375), x);
    if invalid {
        f32::NAN
    } else {
        x
    }
}

/// `sincos256_ps` of PyTorch's `avx_mathfun.h` (Cephes' sinf and cosf) for one lane.
#[allow(clippy::excessive_precision)] // the constants as the C source spells them
#[inline(always)]
fn cephes_sincosf(x: f32) -> (f32, f32) {
    let sign_in = x.to_bits() & 0x8000_0000;
    let mut x = f32::from_bits(x.to_bits() & 0x7fff_ffff);
    let mut j = (x * c(1.273_239_544_735_16)) as i32;
    j = j.wrapping_add(1) & !1;
    let y = j as f32;
    let sign_sin = sign_in ^ (((j & 4) as u32) << 29);
    let sign_cos = ((!j.wrapping_sub(2) & 4) as u32) << 29;
    let sine_first = j & 2 == 0;
    x = y.mul_add(c(-0.785_156_25), x);
    x = y.mul_add(c(-2.418_756_484_985_351_562_5e-4), x);
    x = y.mul_add(c(-3.774_894_977_445_941_08e-8), x);
    let z = x * x;
    let mut yc = c(2.443_315_711_809_948E-5).mul_add(z, c(-1.388_731_625_493_765E-3));
    yc = yc.mul_add(z, c(4.166_664_568_298_827E-2));
    yc *= z;
    yc = yc.mul_add(z, -(z * 0.5));
    yc += 1.0;
    let mut ys = c(-1.951_529_589_1E-4).mul_add(z, c(8.332_160_873_6E-3));
    ys = ys.mul_add(z, c(-1.666_665_461_1E-1));
    ys *= z;
    ys = ys.mul_add(x, x);
    // The kernel selects by masking and adds the zeroed other polynomial.
    let (s, co) = if sine_first { (ys, yc) } else { (yc, ys) };
    let (s, co) = (0.0 + s, co + 0.0);
    (
        f32::from_bits(s.to_bits() ^ sign_sin),
        f32::from_bits(co.to_bits() ^ sign_cos),
    )
}

/// `v` rounded to the half type `dtype` through float32, as PyTorch's half types convert
/// (float32 otherwise).
#[inline(always)]
fn round_to(dtype: DType, v: f64) -> f64 {
    let v = v as f32;
    match dtype {
        DType::F16 => half::f16::from_f32(v).to_f64(),
        DType::BF16 => half::bf16::from_f32(v).to_f64(),
        _ => v as f64,
    }
}

pub fn manual_seed(seed: u64) {
    *DEFAULT.lock() = Rng::seeded(seed);
}

/// `n` float64 draws from U[0, 1) of the default generator.
pub fn uniform(n: usize) -> Vec<f64> {
    DEFAULT.lock().uniform_fill(n, DType::F64, 0.0, 1.0)
}

/// `n` float64 draws from N(0, 1) of the default generator.
pub fn normal(n: usize) -> Vec<f64> {
    DEFAULT.lock().normal_fill(n, DType::F64, 0.0, 1.0, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_is_mt19937() {
        // The reference implementation's 10000th output for the default seed 5489.
        let mut g = Rng::seeded(5489);
        let mut last = 0;
        for _ in 0..10_000 {
            last = g.random();
        }
        assert_eq!(last, 4_123_659_995);
    }

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
        let first = g.uniform_fill(5, DType::F32, 0.0, 1.0);
        g.normal_one(0.0, 1.0); // leaves a cached sample, which the state keeps
        let saved = g.state_bytes();
        let next = g.normal_fill(5, DType::F64, 0.0, 1.0, true);
        assert_ne!(first, next);
        let mut h = Rng::from_state_bytes(&saved).unwrap();
        assert_eq!(h.normal_fill(5, DType::F64, 0.0, 1.0, true), next);
        assert_eq!(h.initial_seed(), 3);
        assert_eq!(Rng::seeded(3).uniform_fill(5, DType::F32, 0.0, 1.0), first);
        assert!(Rng::from_state_bytes(&saved[1..]).is_none());
        let mut bad = saved.clone();
        bad[8..12].copy_from_slice(&0i32.to_le_bytes());
        assert!(Rng::from_state_bytes(&bad).is_none());
    }

    #[test]
    fn cephes_functions_are_close_to_the_true_ones() {
        for i in 1..1000 {
            let x = i as f32 / 1000.0;
            assert!((cephes_logf(x) - x.ln()).abs() <= 2e-7 * x.ln().abs().max(1.0));
            let t = x * std::f32::consts::TAU;
            let (s, co) = cephes_sincosf(t);
            assert!(
                (s - t.sin()).abs() < 2e-7 && (co - t.cos()).abs() < 2e-7,
                "{t}"
            );
        }
    }

    #[test]
    fn randperm_is_a_permutation() {
        let mut g = Rng::seeded(1);
        let mut p = g.randperm(1000);
        p.sort();
        assert_eq!(p, (0..1000).collect::<Vec<_>>());
        assert!(g.randperm(0).is_empty());
    }
}
