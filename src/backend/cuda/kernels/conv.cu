// im2col and col2im (F.unfold / F.fold), and pooling, over contiguous [planes, h, w] images and
// [planes, kh * kw, oh * ow] columns. col2im gathers (each pixel sums the columns that read
// it) rather than scattering with atomics, so it is deterministic.
#include "common.cuh"

#define CONV(T, NAME)                                                                            \
    extern "C" __global__ void im2col_##NAME(i64 total, const T *x, i64 h, i64 w, i64 kh,       \
                                             i64 kw, i64 dh, i64 dw, i64 ph, i64 pw, i64 sh,     \
                                             i64 sw, i64 oh, i64 ow, T *out) {                   \
        FOR_EACH(e, total) {                                                                     \
            i64 ox = e % ow, r = e / ow;                                                         \
            i64 oy = r % oh;                                                                     \
            r /= oh;                                                                             \
            i64 kj = r % kw;                                                                     \
            r /= kw;                                                                             \
            i64 ki = r % kh, p = r / kh;                                                         \
            i64 iy = oy * sh + ki * dh - ph, ix = ox * sw + kj * dw - pw;                        \
            out[e] = (iy >= 0 && iy < h && ix >= 0 && ix < w) ? x[(p * h + iy) * w + ix] : (T)0; \
        }                                                                                        \
    }                                                                                            \
    extern "C" __global__ void col2im_##NAME(i64 total, const T *c, i64 h, i64 w, i64 kh,       \
                                             i64 kw, i64 dh, i64 dw, i64 ph, i64 pw, i64 sh,     \
                                             i64 sw, i64 oh, i64 ow, T *out) {                   \
        FOR_EACH(e, total) {                                                                     \
            i64 ix = e % w, r = e / w;                                                           \
            i64 iy = r % h, p = r / h;                                                           \
            T acc = (T)0;                                                                        \
            for (i64 ki = 0; ki < kh; ++ki) {                                                    \
                i64 ty = iy + ph - ki * dh;                                                      \
                if (ty < 0 || ty % sh != 0 || ty / sh >= oh)                                     \
                    continue;                                                                    \
                for (i64 kj = 0; kj < kw; ++kj) {                                                \
                    i64 tx = ix + pw - kj * dw;                                                  \
                    if (tx < 0 || tx % sw != 0 || tx / sw >= ow)                                 \
                        continue;                                                                \
                    acc += c[((p * kh + ki) * kw + kj) * oh * ow + (ty / sh) * ow + tx / sw];    \
                }                                                                                \
            }                                                                                    \
            out[e] = acc;                                                                        \
        }                                                                                        \
    }

CONV(float, f32)
CONV(double, f64)

// Pooling over the same windows: one thread per output (forward) or per input pixel
// (backward, a gather in the order PyTorch's CPU kernel adds, so no atomics and the same
// rounding). Pool arguments after the geometry: the average divisor rule (0: inside the
// padded image, 1: inside the image, 2: `fixed`).
__device__ __forceinline__ i64 avg_span(i64 o, i64 s, i64 p, i64 k, i64 n, i64 *lo, i64 *hi) {
    i64 start = o * s - p, end = min(start + k, n + p);
    *lo = max(start, (i64)0);
    *hi = min(end, n);
    return end - start;
}

__device__ __forceinline__ i64 avg_divisor(i64 rule, i64 fixed, i64 padded, i64 inside) {
    return rule == 2 ? fixed : (rule == 0 ? padded : inside);
}

// The first output along a dim whose window (taps `o * s - p + i * d`, i < k) can reach
// pixel `x`, and one past the last.
__device__ __forceinline__ void reaching(i64 x, i64 s, i64 p, i64 k, i64 d, i64 n_out, i64 *first,
                                         i64 *last) {
    i64 span = (k - 1) * d, top = x + p;
    *first = top < span ? 0 : (top - span + s - 1) / s;
    *last = min(top / s + 1, n_out);
}

#define POOL(T, NAME)                                                                            \
    extern "C" __global__ void max_pool2d_##NAME(i64 total, const T *x, i64 h, i64 w, i64 kh,   \
                                                 i64 kw, i64 dh, i64 dw, i64 ph, i64 pw, i64 sh, \
                                                 i64 sw, i64 oh, i64 ow, T *values, i64 *idx) {  \
        FOR_EACH(e, total) {                                                                     \
            i64 ox = e % ow, r = e / ow;                                                         \
            i64 oy = r % oh, p = r / oh;                                                         \
            i64 y0 = oy * sh - ph, x0 = ox * sw - pw;                                            \
            i64 y1 = min(y0 + (kh - 1) * dh + 1, h), x1 = min(x0 + (kw - 1) * dw + 1, w);       \
            if (y0 < 0) y0 += (-y0 + dh - 1) / dh * dh; /* the first tap inside the image */  \
            if (x0 < 0) x0 += (-x0 + dw - 1) / dw * dw;                                          \
            const T *plane = x + p * h * w;                                                      \
            T best = -(T)rg_inf();                                                                \
            i64 at = -1;                                                                         \
            if (y0 < y1 && x0 < x1) {                                                            \
                at = y0 * w + x0;                                                                \
                for (i64 y = y0; y < y1; y += dh)                                                \
                    for (i64 xx = x0; xx < x1; xx += dw) {                                       \
                        T v = plane[y * w + xx];                                                 \
                        if (v > best || is_nan(v)) {                                             \
                            best = v;                                                            \
                            at = y * w + xx;                                                     \
                        }                                                                        \
                    }                                                                            \
            }                                                                                    \
            values[e] = best;                                                                    \
            idx[e] = at;                                                                         \
        }                                                                                        \
    }                                                                                            \
    extern "C" __global__ void max_pool2d_backward_##NAME(                                       \
        i64 total, const T *g, const i64 *idx, i64 h, i64 w, i64 kh, i64 kw, i64 dh, i64 dw,     \
        i64 ph, i64 pw, i64 sh, i64 sw, i64 oh, i64 ow, T *out) {                                \
        FOR_EACH(e, total) {                                                                     \
            i64 xx = e % w, r = e / w;                                                           \
            i64 y = r % h, p = r / h;                                                            \
            i64 fy, ly, fx, lx;                                                                  \
            reaching(y, sh, ph, kh, dh, oh, &fy, &ly);                                           \
            reaching(xx, sw, pw, kw, dw, ow, &fx, &lx);                                          \
            const T *gp = g + p * oh * ow;                                                       \
            const i64 *ip = idx + p * oh * ow;                                                   \
            T acc = (T)0;                                                                        \
            for (i64 oy = fy; oy < ly; ++oy)                                                     \
                for (i64 ox = fx; ox < lx; ++ox)                                                 \
                    if (ip[oy * ow + ox] == y * w + xx) acc += gp[oy * ow + ox];                 \
            out[e] = acc;                                                                        \
        }                                                                                        \
    }                                                                                            \
    extern "C" __global__ void avg_pool2d_##NAME(i64 total, const T *x, i64 h, i64 w, i64 kh,   \
                                                 i64 kw, i64 dh, i64 dw, i64 ph, i64 pw, i64 sh, \
                                                 i64 sw, i64 oh, i64 ow, i64 rule, i64 fixed,    \
                                                 T *out) {                                       \
        (void)dh, (void)dw; /* average pooling has no dilation */                                \
        FOR_EACH(e, total) {                                                                     \
            i64 ox = e % ow, r = e / ow;                                                         \
            i64 oy = r % oh, p = r / oh;                                                         \
            i64 y0, y1, x0, x1;                                                                  \
            i64 py = avg_span(oy, sh, ph, kh, h, &y0, &y1);                                      \
            i64 px = avg_span(ox, sw, pw, kw, w, &x0, &x1);                                      \
            T res = (T)0;                                                                        \
            if (y0 < y1 && x0 < x1) {                                                            \
                const T *plane = x + p * h * w;                                                  \
                T sum = (T)0;                                                                    \
                for (i64 y = y0; y < y1; ++y)                                                    \
                    for (i64 xx = x0; xx < x1; ++xx) sum += plane[y * w + xx];                   \
                res = sum / (T)avg_divisor(rule, fixed, py * px, (y1 - y0) * (x1 - x0));        \
            }                                                                                    \
            out[e] = res;                                                                        \
        }                                                                                        \
    }                                                                                            \
    extern "C" __global__ void avg_pool2d_backward_##NAME(                                       \
        i64 total, const T *g, i64 h, i64 w, i64 kh, i64 kw, i64 dh, i64 dw, i64 ph, i64 pw,     \
        i64 sh, i64 sw, i64 oh, i64 ow, i64 rule, i64 fixed, T *out) {                           \
        (void)dh, (void)dw;                                                                      \
        FOR_EACH(e, total) {                                                                     \
            i64 xx = e % w, r = e / w;                                                           \
            i64 y = r % h, p = r / h;                                                            \
            i64 fy, ly, fx, lx;                                                                  \
            reaching(y, sh, ph, kh, 1, oh, &fy, &ly);                                            \
            reaching(xx, sw, pw, kw, 1, ow, &fx, &lx);                                           \
            const T *gp = g + p * oh * ow;                                                       \
            T acc = (T)0;                                                                        \
            for (i64 oy = fy; oy < ly; ++oy) {                                                   \
                i64 y0, y1;                                                                      \
                i64 py = avg_span(oy, sh, ph, kh, h, &y0, &y1);                                  \
                for (i64 ox = fx; ox < lx; ++ox) {                                               \
                    i64 x0, x1;                                                                  \
                    i64 px = avg_span(ox, sw, pw, kw, w, &x0, &x1);                              \
                    i64 d = avg_divisor(rule, fixed, py * px, (y1 - y0) * (x1 - x0));            \
                    acc += gp[oy * ow + ox] / (T)d;                                              \
                }                                                                                \
            }                                                                                    \
            out[e] = acc;                                                                        \
        }                                                                                        \
    }

POOL(float, f32)
POOL(double, f64)
