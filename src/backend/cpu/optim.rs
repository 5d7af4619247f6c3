//! Optimizer updates, one pass over each parameter's memory (PyTorch's single-tensor rules,
//! same order of operations, so results match it to rounding). Where PyTorch's vectorised CPU
//! kernels fuse a multiply and an add (`add(alpha=)`, `lerp`, `addcmul`) this fuses them too;
//! `addcdiv` is not fused there, nor here.

use rayon::prelude::*;

use crate::backend::{Float, OptimStep, UpdateRule};

/// Elements per rayon task.
const CHUNK: usize = 1 << 14;

/// `a * b + c` rounded once (the standard library's, on the two float types).
pub trait Fma: Copy {
    fn fma(self, b: Self, c: Self) -> Self;
}

impl Fma for f32 {
    #[inline(always)]
    fn fma(self, b: f32, c: f32) -> f32 {
        self.mul_add(b, c)
    }
}

impl Fma for f64 {
    #[inline(always)]
    fn fma(self, b: f64, c: f64) -> f64 {
        self.mul_add(b, c)
    }
}

/// `torch.lerp(start, end, w)` as PyTorch's vectorised kernel computes it.
#[inline(always)]
fn lerp<T: Float + Fma>(start: T, end: T, w: T) -> T {
    let d = end - start;
    if w.abs() < T::from_f64(0.5) {
        w.fma(d, start)
    } else {
        (-d).fma(T::ONE - w, end)
    }
}

/// `torch.maximum`: NaN wins.
#[inline(always)]
fn maximum<T: Float>(a: T, b: T) -> T {
    if a.is_nan() || a > b {
        a
    } else {
        b
    }
}

/// One step over the whole parameter (`states` each as long as `p`, as many as
/// `h.n_states()`), in parallel chunks when it is large.
pub fn step<T: Float + Fma>(p: &mut [T], g: &[T], states: &mut [&mut [T]], h: &OptimStep) {
    if p.len() <= CHUNK || super::pool::threads() == 1 {
        return chunk(p, g, states, h);
    }
    let mut state_chunks: Vec<_> = states.iter_mut().map(|s| s.chunks_mut(CHUNK)).collect();
    let mut work = Vec::with_capacity(p.len().div_ceil(CHUNK));
    for (pc, gc) in p.chunks_mut(CHUNK).zip(g.chunks(CHUNK)) {
        let sc: Vec<&mut [T]> = state_chunks.iter_mut().filter_map(|it| it.next()).collect();
        work.push((pc, gc, sc));
    }
    work.into_par_iter()
        .for_each(|(pc, gc, mut sc)| chunk(pc, gc, &mut sc, h));
}

/// One chunk, from a copy compiled for AVX2 and FMA where the CPU has them (the wheel targets
/// baseline x86-64, where `mul_add` is a library call per element).
fn chunk<T: Float + Fma>(p: &mut [T], g: &[T], st: &mut [&mut [T]], h: &OptimStep) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has the features the copy is compiled for.
        return unsafe { chunk_avx2(p, g, st, h) };
    }
    chunk_body(p, g, st, h)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn chunk_avx2<T: Float + Fma>(p: &mut [T], g: &[T], st: &mut [&mut [T]], h: &OptimStep) {
    chunk_body(p, g, st, h)
}

#[inline(always)]
fn chunk_body<T: Float + Fma>(p: &mut [T], g: &[T], st: &mut [&mut [T]], h: &OptimStep) {
    if st.len() != h.n_states() || st.iter().any(|s| s.len() != p.len()) || g.len() != p.len() {
        return; // the tensor layer checks these; nothing out of bounds either way
    }
    let c = T::from_f64;
    let s = h.s.map(c);
    // `1 - x` of the host's f64 scalars, rounded once as PyTorch's Python floats are.
    let one_minus = |i: usize| c(1.0 - h.s[i]);
    let (wd, decay) = (c(h.weight_decay), c(h.decay));
    let (has_wd, has_decay) = (h.weight_decay != 0.0, h.decay != 1.0);
    // The gradient a step uses (negated for `maximize`, L2 decay added) after the decoupled
    // decay of the parameter.
    let grad = |p: &mut T, gi: T| -> T {
        if has_decay {
            *p = *p * decay;
        }
        let gi = if h.maximize { -gi } else { gi };
        if has_wd {
            wd.fma(*p, gi)
        } else {
            gi
        }
    };
    let n = p.len();
    match h.rule {
        UpdateRule::Sgd => {
            let (neg_lr, mom, damp) = (c(-h.s[0]), s[1], one_minus(2));
            for i in 0..n {
                let mut d = grad(&mut p[i], g[i]);
                if let Some(b) = st.first_mut() {
                    b[i] = if h.first { d } else { damp.fma(d, b[i] * mom) };
                    d = if h.nesterov { mom.fma(b[i], d) } else { b[i] };
                }
                p[i] = neg_lr.fma(d, p[i]);
            }
        }
        UpdateRule::Adam => {
            let (w1, w2) = (one_minus(0), one_minus(1));
            let (b2, eps, neg_ss, bc2) = (s[1], s[2], c(-h.s[3]), s[4]);
            let (m, rest) = st.split_at_mut(1);
            let (v, max) = rest.split_at_mut(1);
            let (m, v) = (&mut m[0], &mut v[0]);
            for i in 0..n {
                let gi = grad(&mut p[i], g[i]);
                m[i] = lerp(m[i], gi, w1);
                v[i] = (w2 * gi).fma(gi, v[i] * b2);
                let mut vi = v[i];
                if let Some(mx) = max.first_mut() {
                    mx[i] = maximum(mx[i], vi);
                    vi = mx[i];
                }
                let denom = vi.sqrt() / bc2 + eps;
                p[i] = p[i] + neg_ss * m[i] / denom;
            }
        }
        UpdateRule::RMSprop => {
            let (neg_lr, alpha, w, eps, mom) = (c(-h.s[0]), s[1], one_minus(1), s[2], s[3]);
            let (sq, rest) = st.split_at_mut(1);
            let sq = &mut sq[0];
            let (buf, rest) = if h.momentum {
                let (b, r) = rest.split_at_mut(1);
                (b.first_mut(), r)
            } else {
                (None, rest)
            };
            let mut grad_avg = rest.first_mut();
            let mut buf = buf;
            for i in 0..n {
                let gi = grad(&mut p[i], g[i]);
                sq[i] = (w * gi).fma(gi, sq[i] * alpha);
                let avg = match grad_avg.as_mut() {
                    Some(ga) => {
                        ga[i] = lerp(ga[i], gi, w);
                        (-ga[i]).fma(ga[i], sq[i]).sqrt()
                    }
                    None => sq[i].sqrt(),
                } + eps;
                match buf.as_mut() {
                    Some(b) => {
                        b[i] = b[i] * mom + gi / avg;
                        p[i] = neg_lr.fma(b[i], p[i]);
                    }
                    None => p[i] = p[i] + neg_lr * gi / avg,
                }
            }
        }
        UpdateRule::Adagrad => {
            let (neg_clr, eps) = (c(-h.s[0]), s[1]);
            let sum = &mut st[0];
            for i in 0..n {
                let gi = grad(&mut p[i], g[i]);
                sum[i] = gi.fma(gi, sum[i]);
                let std = sum[i].sqrt() + eps;
                p[i] = p[i] + neg_clr * gi / std;
            }
        }
        UpdateRule::Adadelta => {
            let (neg_lr, rho, w, eps) = (c(-h.s[0]), s[1], one_minus(1), s[2]);
            let (sq, acc) = st.split_at_mut(1);
            let (sq, acc) = (&mut sq[0], &mut acc[0]);
            for i in 0..n {
                let gi = grad(&mut p[i], g[i]);
                sq[i] = (w * gi).fma(gi, sq[i] * rho);
                let std = (sq[i] + eps).sqrt();
                let delta = (acc[i] + eps).sqrt() / std * gi;
                acc[i] = (w * delta).fma(delta, acc[i] * rho);
                p[i] = neg_lr.fma(delta, p[i]);
            }
        }
        UpdateRule::Adamax => {
            let (w1, b2, eps, neg_clr) = (one_minus(0), s[1], s[2], c(-h.s[3]));
            let (m, u) = st.split_at_mut(1);
            let (m, u) = (&mut m[0], &mut u[0]);
            for i in 0..n {
                let gi = grad(&mut p[i], g[i]);
                m[i] = lerp(m[i], gi, w1);
                u[i] = maximum(u[i] * b2, gi.abs() + eps);
                p[i] = p[i] + neg_clr * m[i] / u[i];
            }
        }
        UpdateRule::NAdam => {
            let (w1, b2, w2, eps) = (one_minus(0), s[1], one_minus(1), s[2]);
            let (bc2, cg, cm) = (s[3], s[4], s[5]);
            let (m, v) = st.split_at_mut(1);
            let (m, v) = (&mut m[0], &mut v[0]);
            for i in 0..n {
                let gi = grad(&mut p[i], g[i]);
                m[i] = lerp(m[i], gi, w1);
                v[i] = (w2 * gi).fma(gi, v[i] * b2);
                let denom = (v[i] / bc2).sqrt() + eps;
                p[i] = p[i] + cg * gi / denom;
                p[i] = p[i] + cm * m[i] / denom;
            }
        }
        UpdateRule::RAdam => {
            let (w1, b2, w2, eps) = (one_minus(0), s[1], one_minus(1), s[2]);
            let (bc1, lr, bc2_sqrt, rect) = (s[3], s[4], s[5], s[6]);
            let rectified = h.s[6] != 0.0;
            let (m, v) = st.split_at_mut(1);
            let (m, v) = (&mut m[0], &mut v[0]);
            for i in 0..n {
                let gi = grad(&mut p[i], g[i]);
                m[i] = lerp(m[i], gi, w1);
                v[i] = (w2 * gi).fma(gi, v[i] * b2);
                let mut update = m[i] / bc1 * lr;
                if rectified {
                    update = update * (bc2_sqrt / (v[i].sqrt() + eps)) * rect;
                }
                p[i] = (-T::ONE).fma(update, p[i]);
            }
        }
    }
}
