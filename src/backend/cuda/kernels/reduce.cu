// Reductions over contiguous rows: sums, max/min with index, softmax.
#include "common.cuh"

// Sums `x[row, chunk]` pieces: block `b` sums row `b / chunks`, elements
// [c * chunk_len, min((c + 1) * chunk_len, n_red)) of it, into out[b]. With chunks == 1 this is a
// plain row sum; long rows are split over several blocks and summed again (deterministic).
#define SUM_ROWS(T, NAME)                                                                        \
    extern "C" __global__ void sum_rows_##NAME(i64 n_out, i64 n_red, i64 chunks, i64 chunk_len, \
                                               const T *x, T *out) {                             \
        for (i64 b = blockIdx.x; b < n_out * chunks; b += gridDim.x) {                           \
            i64 row = b / chunks, c = b % chunks;                                                \
            i64 start = c * chunk_len, end = min(start + chunk_len, n_red);                      \
            const T *r = x + row * n_red;                                                        \
            T acc = 0;                                                                           \
            for (i64 j = start + threadIdx.x; j < end; j += blockDim.x) acc += r[j];            \
            acc = block_sum<T>(acc);                                                             \
            if (threadIdx.x == 0) out[b] = acc;                                                  \
        }                                                                                        \
    }                                                                                            \
    /* Short rows: one thread per row. */                                                     \
    extern "C" __global__ void sum_rows_small_##NAME(i64 n_out, i64 n_red, const T *x, T *out) { \
        FOR_EACH(row, n_out) {                                                                   \
            const T *r = x + row * n_red;                                                        \
            T acc = 0;                                                                           \
            for (i64 j = 0; j < n_red; ++j) acc += r[j];                                         \
            out[row] = acc;                                                                      \
        }                                                                                        \
    }                                                                                            \
    /* Sums over the leading dim of a contiguous [n_red, n_out] block: thread t sums column */  \
    /* t % n_out over rows [c * chunk_len, (c + 1) * chunk_len), c = t / n_out, into */          \
    /* out[c, col] (a second pass adds the chunks). Neighbouring threads read neighbouring */    \
    /* columns, so loads coalesce. */                                                            \
    extern "C" __global__ void sum_cols_##NAME(i64 n_red, i64 n_out, i64 chunks, i64 chunk_len, \
                                               const T *x, T *out) {                             \
        FOR_EACH(t, n_out * chunks) {                                                            \
            i64 col = t % n_out, c = t / n_out;                                                  \
            i64 end = min((c + 1) * chunk_len, n_red);                                           \
            T acc = 0;                                                                           \
            for (i64 r = c * chunk_len; r < end; ++r) acc += x[r * n_out + col];                 \
            out[t] = acc;                                                                        \
        }                                                                                        \
    }

SUM_ROWS(float, f32)
SUM_ROWS(double, f64)
SUM_ROWS(i64, i64)

// Whether `v` (at `j`) beats `best` (at `at`): NaN wins, then the larger (smaller) value, then the
// first index, as the CPU kernel scans.
template <typename T> __device__ __forceinline__ bool better(T v, i64 j, T best, i64 at, int max) {
    bool vn = is_nan(v), bn = is_nan(best);
    if (bn || vn) return vn && (!bn || j < at);
    if (v == best) return j < at;
    return max ? v > best : v < best;
}

// Max (or min) of pieces of rows and the index of the first occurrence: block b takes row
// b / chunks, elements [c * chunk_len, min((c + 1) * chunk_len, n)) for c = b % chunks (every
// piece nonempty). Indices are `idx_in[row * n + j]` when given (a second pass over the
// pieces' winners), else j.
#define EXTREME_ROWS(T, NAME)                                                                    \
    extern "C" __global__ void extreme_rows_##NAME(i64 n_out, i64 n, i64 chunks, i64 chunk_len, \
                                                   const T *x, const i64 *idx_in, T *values,    \
                                                   i64 *indices, int max) {                      \
        /* The tree below halves blockDim.x: a power of two, at most RG_BLOCK. */             \
        if (blockDim.x > RG_BLOCK || (blockDim.x & (blockDim.x - 1)) != 0) __trap();             \
        __shared__ T best_v[RG_BLOCK];                                                           \
        __shared__ i64 best_i[RG_BLOCK];                                                         \
        for (i64 b = blockIdx.x; b < n_out * chunks; b += gridDim.x) {                           \
            i64 row = b / chunks, c = b % chunks;                                                \
            i64 start = c * chunk_len, end = min(start + chunk_len, n);                          \
            const T *r = x + row * n;                                                            \
            const i64 *ri = idx_in ? idx_in + row * n : nullptr;                                 \
            T bv = r[start];                                                                     \
            i64 bi = ri ? ri[start] : start;                                                     \
            for (i64 j = start + threadIdx.x; j < end; j += blockDim.x) {                        \
                i64 at = ri ? ri[j] : j;                                                         \
                if (better<T>(r[j], at, bv, bi, max)) { bv = r[j]; bi = at; }                    \
            }                                                                                    \
            __syncthreads();                                                                     \
            best_v[threadIdx.x] = bv;                                                            \
            best_i[threadIdx.x] = bi;                                                            \
            __syncthreads();                                                                     \
            for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {                                  \
                if (threadIdx.x < s) {                                                           \
                    T ov = best_v[threadIdx.x + s];                                              \
                    i64 oi = best_i[threadIdx.x + s];                                            \
                    if (better<T>(ov, oi, best_v[threadIdx.x], best_i[threadIdx.x], max)) {     \
                        best_v[threadIdx.x] = ov;                                                \
                        best_i[threadIdx.x] = oi;                                                \
                    }                                                                            \
                }                                                                                \
                __syncthreads();                                                                 \
            }                                                                                    \
            if (threadIdx.x == 0) { values[b] = best_v[0]; indices[b] = best_i[0]; }             \
        }                                                                                        \
    }                                                                                            \
    /* Short rows (n > 0): one thread per row. */                                                \
    extern "C" __global__ void extreme_rows_small_##NAME(i64 n_out, i64 n, const T *x,          \
                                                         T *values, i64 *indices, int max) {    \
        FOR_EACH(row, n_out) {                                                                   \
            const T *r = x + row * n;                                                            \
            T bv = r[0];                                                                         \
            i64 bi = 0;                                                                          \
            for (i64 j = 1; j < n; ++j) {                                                        \
                if (better<T>(r[j], j, bv, bi, max)) { bv = r[j]; bi = j; }                      \
            }                                                                                    \
            values[row] = bv;                                                                    \
            indices[row] = bi;                                                                   \
        }                                                                                        \
    }

EXTREME_ROWS(float, f32)
EXTREME_ROWS(double, f64)
EXTREME_ROWS(i64, i64)

// Softmax (or log-softmax) of each row, shifted by the row maximum; one block per row.
#define SOFTMAX_ROWS(T, NAME, NEG_INF)                                                           \
    extern "C" __global__ void softmax_rows_##NAME(i64 n_out, i64 n, const T *x, T *out,        \
                                                   int log_softmax) {                            \
        for (i64 row = blockIdx.x; row < n_out; row += gridDim.x) {                              \
            const T *r = x + row * n;                                                            \
            T *o = out + row * n;                                                                \
            T m = NEG_INF;                                                                       \
            for (i64 j = threadIdx.x; j < n; j += blockDim.x) m = r[j] > m ? r[j] : m;           \
            m = block_max<T>(m);                                                                 \
            if (m == NEG_INF) m = 0;                                                             \
            T total = 0;                                                                         \
            for (i64 j = threadIdx.x; j < n; j += blockDim.x) total += exp(r[j] - m);            \
            total = block_sum<T>(total);                                                         \
            if (log_softmax) {                                                                   \
                T lse = log(total);                                                              \
                for (i64 j = threadIdx.x; j < n; j += blockDim.x) o[j] = r[j] - m - lse;         \
            } else {                                                                             \
                for (i64 j = threadIdx.x; j < n; j += blockDim.x) o[j] = exp(r[j] - m) / total;  \
            }                                                                                    \
        }                                                                                        \
    }                                                                                            \
    /* Short rows: one thread per row. */                                                        \
    extern "C" __global__ void softmax_rows_small_##NAME(i64 n_out, i64 n, const T *x, T *out, \
                                                         int log_softmax) {                      \
        FOR_EACH(row, n_out) {                                                                   \
            const T *r = x + row * n;                                                            \
            T *o = out + row * n;                                                                \
            T m = NEG_INF;                                                                       \
            for (i64 j = 0; j < n; ++j) m = r[j] > m ? r[j] : m;                                 \
            if (m == NEG_INF) m = 0;                                                             \
            T total = 0;                                                                         \
            for (i64 j = 0; j < n; ++j) total += exp(r[j] - m);                                  \
            if (log_softmax) {                                                                   \
                T lse = log(total);                                                              \
                for (i64 j = 0; j < n; ++j) o[j] = r[j] - m - lse;                               \
            } else {                                                                             \
                for (i64 j = 0; j < n; ++j) o[j] = exp(r[j] - m) / total;                        \
            }                                                                                    \
        }                                                                                        \
    }

SOFTMAX_ROWS(float, f32, __int_as_float(0xff800000))
SOFTMAX_ROWS(double, f64, __longlong_as_double(0xfff0000000000000ll))
