// im2col and col2im (F.unfold / F.fold) over contiguous [planes, h, w] images and
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
