//! Optimizer updates, one pass over each parameter's memory (PyTorch's single-tensor rules,
//! same order of operations, so results match it to rounding). Where PyTorch's vectorised CPU
//! kernels fuse a multiply and an add (`add(alpha=)`, `lerp`, `addcmul`) this fuses them too;
//! `addcdiv` is not fused there, nor here.

use super::pool::{self, SendPtr};
use super::simd_twins;
use crate::backend::{Float, OptimStep, UpdateRule};

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
/// `h.n_states()`), in parallel pieces on our pool when it is large.
pub fn step<T: Float + Fma>(p: &mut [T], g: &[T], states: &mut [&mut [T]], h: &OptimStep) {
    let n = p.len();
    let threads = pool::threads();
    if n < super::PARALLEL_THRESHOLD || threads == 1 || states.iter().any(|s| s.len() != n) {
        return chunk(p, g, states, h);
    }
    let piece = n.div_ceil(threads);
    let p_ptr = SendPtr(p.as_mut_ptr());
    let s_ptrs: Vec<SendPtr<T>> = states.iter_mut().map(|s| SendPtr(s.as_mut_ptr())).collect();
    pool::for_each_chunk(n.div_ceil(piece), &|k| {
        let (start, len) = (k * piece, piece.min(n - k * piece));
        // SAFETY: `p` and every state hold `n` elements; the pieces `[start, start + len)`
        // are disjoint and each index `k` runs once, so no two threads touch one element.
        let (pc, mut sc): (&mut [T], Vec<&mut [T]>) = unsafe {
            (
                std::slice::from_raw_parts_mut(p_ptr.get().add(start), len),
                s_ptrs
                    .iter()
                    .map(|s| std::slice::from_raw_parts_mut(s.get().add(start), len))
                    .collect(),
            )
        };
        chunk(pc, &g[start..start + len], &mut sc, h);
    });
}

simd_twins!(fn chunk[T: Float + Fma](p: &mut [T], g: &[T], st: &mut [&mut [T]], h: &OptimStep) => chunk_body);

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
    // Slices of exactly `n` (here and below) so the loops carry no bounds checks.
    let g = &g[..n];
    match h.rule {
        UpdateRule::Sgd => {
            let (neg_lr, mom, damp) = (c(-h.s[0]), s[1], one_minus(2));
            // One loop per case, each without a branch inside, so each vectorises.
            match st.first_mut() {
                None => {
                    for i in 0..n {
                        let d = grad(&mut p[i], g[i]);
                        p[i] = neg_lr.fma(d, p[i]);
                    }
                }
                Some(b) => {
                    let b = &mut b[..n];
                    for i in 0..n {
                        let mut d = grad(&mut p[i], g[i]);
                        b[i] = if h.first { d } else { damp.fma(d, b[i] * mom) };
                        d = if h.nesterov { mom.fma(b[i], d) } else { b[i] };
                        p[i] = neg_lr.fma(d, p[i]);
                    }
                }
            }
        }
        UpdateRule::Adam => {
            let (w1, w2) = (one_minus(0), one_minus(1));
            let (b2, eps, neg_ss, bc2) = (s[1], s[2], c(-h.s[3]), s[4]);
            let (m, rest) = st.split_at_mut(1);
            let (v, max) = rest.split_at_mut(1);
            let (m, v) = (&mut m[0][..n], &mut v[0][..n]);
            // One loop without amsgrad's maximum and one with it, each branch-free. (No
            // helper closures: a closure is not compiled with the twin's target features.)
            match max.first_mut() {
                None => {
                    for i in 0..n {
                        let gi = grad(&mut p[i], g[i]);
                        m[i] = lerp(m[i], gi, w1);
                        v[i] = (w2 * gi).fma(gi, v[i] * b2);
                        let denom = v[i].sqrt() / bc2 + eps;
                        p[i] = p[i] + neg_ss * m[i] / denom;
                    }
                }
                Some(mx) => {
                    let mx = &mut mx[..n];
                    for i in 0..n {
                        let gi = grad(&mut p[i], g[i]);
                        m[i] = lerp(m[i], gi, w1);
                        v[i] = (w2 * gi).fma(gi, v[i] * b2);
                        mx[i] = maximum(mx[i], v[i]);
                        let denom = mx[i].sqrt() / bc2 + eps;
                        p[i] = p[i] + neg_ss * m[i] / denom;
                    }
                }
            }
        }
        UpdateRule::RMSprop => {
            let (neg_lr, alpha, w, eps, mom) = (c(-h.s[0]), s[1], one_minus(1), s[2], s[3]);
            let (sq, rest) = st.split_at_mut(1);
            let sq = &mut sq[0][..n];
            let (buf, rest) = if h.momentum {
                let (b, r) = rest.split_at_mut(1);
                (b.first_mut(), r)
            } else {
                (None, rest)
            };
            let grad_avg = rest.first_mut().map(|a| &mut a[..n]);
            let buf = buf.map(|b| &mut b[..n]);
            // One loop per combination of `centered` and `momentum`, each branch-free.
            macro_rules! rmsprop_loop {
                ($i:ident, $gi:ident, $avg:ident => $avg_expr:expr; $update:block) => {
                    for $i in 0..n {
                        let $gi = grad(&mut p[$i], g[$i]);
                        sq[$i] = (w * $gi).fma($gi, sq[$i] * alpha);
                        let $avg = $avg_expr + eps;
                        $update
                    }
                };
            }
            match (grad_avg, buf) {
                (None, None) => rmsprop_loop!(i, gi, avg => sq[i].sqrt(); {
                    p[i] = p[i] + neg_lr * gi / avg
                }),
                (None, Some(b)) => rmsprop_loop!(i, gi, avg => sq[i].sqrt(); {
                    b[i] = b[i] * mom + gi / avg;
                    p[i] = neg_lr.fma(b[i], p[i]);
                }),
                (Some(ga), None) => rmsprop_loop!(i, gi, avg => {
                    ga[i] = lerp(ga[i], gi, w);
                    (-ga[i]).fma(ga[i], sq[i]).sqrt()
                }; {
                    p[i] = p[i] + neg_lr * gi / avg
                }),
                (Some(ga), Some(b)) => rmsprop_loop!(i, gi, avg => {
                    ga[i] = lerp(ga[i], gi, w);
                    (-ga[i]).fma(ga[i], sq[i]).sqrt()
                }; {
                    b[i] = b[i] * mom + gi / avg;
                    p[i] = neg_lr.fma(b[i], p[i]);
                }),
            }
        }
        UpdateRule::Adagrad => {
            let (neg_clr, eps) = (c(-h.s[0]), s[1]);
            let sum = &mut st[0][..n];
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
            let (sq, acc) = (&mut sq[0][..n], &mut acc[0][..n]);
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
            let (m, u) = (&mut m[0][..n], &mut u[0][..n]);
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
            let (m, v) = (&mut m[0][..n], &mut v[0][..n]);
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
            let (m, v) = (&mut m[0][..n], &mut v[0][..n]);
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
