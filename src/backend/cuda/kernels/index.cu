// Gathers and scatters along one dimension of contiguous [outer, n, inner] blocks.
#include "common.cuh"

// out[o, k, i] = x[o, index[k], i]
#define INDEX_SELECT(T, NAME)                                                                    \
    extern "C" __global__ void index_select_##NAME(i64 total, const T *x, i64 n, i64 inner,     \
                                                   const i64 *index, i64 k, T *out) {            \
        FOR_EACH(e, total) {                                                                     \
            i64 i = e % inner, rest = e / inner;                                                 \
            i64 j = rest % k, o = rest / k;                                                      \
            out[e] = x[(o * n + index[j]) * inner + i];                                          \
        }                                                                                        \
    }

#define INDEX_ADD(T, NAME, ATOMIC)                                                               \
    /* out[o, index[k], i] += g[o, k, i]; `out` starts zeroed, repeated indices accumulate. */    \
    extern "C" __global__ void index_add_##NAME(i64 total, const T *g, i64 n, i64 inner,        \
                                                const i64 *index, i64 k, T *out) {               \
        FOR_EACH(e, total) {                                                                     \
            i64 i = e % inner, rest = e / inner;                                                 \
            i64 j = rest % k, o = rest / k;                                                      \
            atomicAdd((ATOMIC *)&out[(o * n + index[j]) * inner + i], (ATOMIC)g[e]);            \
        }                                                                                        \
    }                                                                                            \
    /* out[o, j, i] = (indices[o, i] == j): the one-hot of `indices` along a new dim of size n. */ \
    extern "C" __global__ void one_hot_##NAME(i64 total, const i64 *indices, i64 n, i64 inner,  \
                                              T *out) {                                          \
        FOR_EACH(e, total) {                                                                     \
            i64 i = e % inner, rest = e / inner;                                                 \
            i64 j = rest % n, o = rest / n;                                                      \
            out[e] = indices[o * inner + i] == j ? (T)1 : (T)0;                                  \
        }                                                                                        \
    }

INDEX_SELECT(float, f32)
INDEX_SELECT(double, f64)
INDEX_SELECT(i64, i64)
INDEX_SELECT(u8, bool)
INDEX_ADD(float, f32, float)
INDEX_ADD(double, f64, double)
INDEX_ADD(i64, i64, unsigned long long)
