// Elementwise kernels over strided views: unary, binary, comparisons, where, casts, copies.
// Op codes match the Rust enums' `cuda_code()` (checked by the backend mirror test).
#include "common.cuh"

#define UNARY_NEG 0
#define UNARY_ABS 1
#define UNARY_SIGN 2
#define UNARY_EXP 3
#define UNARY_LOG 4
#define UNARY_SQRT 5
#define UNARY_TANH 6
#define UNARY_SIGMOID 7
#define UNARY_RELU 8
#define UNARY_POW_SCALAR 9
#define UNARY_CLAMP 10

#define BINARY_ADD 0
#define BINARY_SUB 1
#define BINARY_MUL 2
#define BINARY_DIV 3
#define BINARY_POW 4
#define BINARY_MAXIMUM 5
#define BINARY_MINIMUM 6

#define COMPARE_EQ 0
#define COMPARE_NE 1
#define COMPARE_LT 2
#define COMPARE_LE 3
#define COMPARE_GT 4
#define COMPARE_GE 5

#define ACTIVATION_THRESHOLD 0
#define ACTIVATION_TANH 1
#define ACTIVATION_SIGMOID 2

// Integer powers, wrapping like the CPU kernel; negative exponents only for |base| == 1.
__device__ __forceinline__ i64 int_pow(i64 base, i64 e) {
    if (e < 0) {
        if (base == 1) return 1;
        if (base == -1) return (e % 2 == 0) ? 1 : -1;
        return 0;
    }
    unsigned long long result = 1, b = (unsigned long long)base;
    while (e > 0) {
        if (e & 1) result *= b;
        b *= b;
        e >>= 1;
    }
    return (i64)result;
}

template <typename T>
__device__ __forceinline__ T unary_float(int op, T v, T p, T lo, T hi, int has_lo, int has_hi) {
    switch (op) {
    case UNARY_NEG: return -v;
    case UNARY_ABS: return fabs(v);
    case UNARY_SIGN: return v > (T)0 ? (T)1 : (v < (T)0 ? (T)-1 : v);
    case UNARY_EXP: return exp(v);
    case UNARY_LOG: return log(v);
    case UNARY_SQRT: return sqrt(v);
    case UNARY_TANH: return tanh(v);
    case UNARY_SIGMOID: return (T)1 / ((T)1 + exp(-v));
    case UNARY_RELU: return v > (T)0 ? v : (T)0;
    case UNARY_POW_SCALAR: return p == (T)2 ? v * v : pow(v, p);
    case UNARY_CLAMP:
        if (has_lo && v < lo) v = lo;
        if (has_hi && v > hi) v = hi;
        return v;
    }
    return v;
}

__device__ __forceinline__ i64 unary_int(int op, i64 v, i64 p, i64 lo, i64 hi, int has_lo, int has_hi) {
    switch (op) {
    case UNARY_NEG: return (i64)(0ull - (unsigned long long)v);
    case UNARY_ABS: return v < 0 ? (i64)(0ull - (unsigned long long)v) : v;
    case UNARY_SIGN: return (v > 0) - (v < 0);
    case UNARY_RELU: return v > 0 ? v : 0;
    case UNARY_POW_SCALAR: return int_pow(v, p);
    case UNARY_CLAMP:
        if (has_lo && v < lo) v = lo;
        if (has_hi && v > hi) v = hi;
        return v;
    }
    return v;
}

template <typename T> __device__ __forceinline__ T binary_op(int op, T x, T y) {
    switch (op) {
    case BINARY_ADD: return x + y;
    case BINARY_SUB: return x - y;
    case BINARY_MUL: return x * y;
    case BINARY_DIV: return x / y;
    case BINARY_POW: return pow(x, y);
    case BINARY_MAXIMUM: return (x >= y || is_nan(x)) ? x : y;
    case BINARY_MINIMUM: return (x <= y || is_nan(x)) ? x : y;
    }
    return x;
}

template <> __device__ __forceinline__ i64 binary_op<i64>(int op, i64 x, i64 y) {
    switch (op) {
    case BINARY_ADD: return (i64)((unsigned long long)x + (unsigned long long)y);
    case BINARY_SUB: return (i64)((unsigned long long)x - (unsigned long long)y);
    case BINARY_MUL: return (i64)((unsigned long long)x * (unsigned long long)y);
    case BINARY_DIV: return y == 0 ? 0 : x / y;
    case BINARY_POW: return int_pow(x, y);
    case BINARY_MAXIMUM: return x >= y ? x : y;
    case BINARY_MINIMUM: return x <= y ? x : y;
    }
    return x;
}

template <typename T> __device__ __forceinline__ bool compare_op(int op, T x, T y) {
    switch (op) {
    case COMPARE_EQ: return x == y;
    case COMPARE_NE: return x != y;
    case COMPARE_LT: return x < y;
    case COMPARE_LE: return x <= y;
    case COMPARE_GT: return x > y;
    case COMPARE_GE: return x >= y;
    }
    return false;
}

// `scalar_side`: 0 = both operands are tensors, 1 = `b` is the scalar, 2 = `a` is the scalar.
#define LOAD_OPERANDS(T)                                                         \
    T x = scalar_side == 2 ? scalar : ap[offset_of(a, i)];                       \
    T y = scalar_side == 1 ? scalar : bp[offset_of(b, i)];

// Whether both operands are contiguous (or a scalar): the unrolled path, no index arithmetic.
#define FLAT_OPERANDS (scalar_side == 2 || is_flat(a)) && (scalar_side == 1 || is_flat(b))
#define LOAD_FLAT(T)                                                             \
    T x = scalar_side == 2 ? scalar : af[i];                                     \
    T y = scalar_side == 1 ? scalar : bf[i];
#define FLAT_POINTERS(T)                                                         \
    const T *af = ap + a.offset, *bf = bp + b.offset;

#define FLOAT_KERNELS(T, NAME)                                                                   \
    extern "C" __global__ void unary_##NAME(int op, i64 n, Meta x, const T *__restrict__ xp,    \
                                            T *__restrict__ out, T p, T lo, T hi, int has_lo,   \
                                            int has_hi) {                                        \
        if (is_flat(x)) {                                                                        \
            const T *xf = xp + x.offset;                                                         \
            map_unrolled<T>(                                                                     \
                n, [&](i64 i) { return unary_float<T>(op, xf[i], p, lo, hi, has_lo, has_hi); }, \
                [&](i64 i, T v) { out[i] = v; });                                                \
            return;                                                                              \
        }                                                                                        \
        FOR_EACH(i, n) out[i] = unary_float<T>(op, xp[offset_of(x, i)], p, lo, hi, has_lo, has_hi); \
    }                                                                                            \
    extern "C" __global__ void activation_backward_##NAME(int op, i64 n, Meta g,                \
                                                          const T *__restrict__ gp, Meta y,     \
                                                          const T *__restrict__ yp,             \
                                                          T *__restrict__ out) {                \
        auto grad = [&](T gv, T yv) {                                                            \
            if (op == ACTIVATION_THRESHOLD) return yv > (T)0 ? gv : (T)0;                        \
            if (op == ACTIVATION_TANH) return gv * ((T)1 - yv * yv);                             \
            return gv * (yv * ((T)1 - yv));                                                      \
        };                                                                                       \
        if (is_flat(g) && is_flat(y)) {                                                          \
            const T *gf = gp + g.offset, *yf = yp + y.offset;                                    \
            map_unrolled<T>(                                                                     \
                n, [&](i64 i) { return grad(gf[i], yf[i]); }, [&](i64 i, T v) { out[i] = v; }); \
            return;                                                                              \
        }                                                                                        \
        FOR_EACH(i, n) out[i] = grad(gp[offset_of(g, i)], yp[offset_of(y, i)]);                  \
    }

#define NUM_KERNELS(T, NAME)                                                                     \
    extern "C" __global__ void binary_##NAME(int op, i64 n, Meta a, const T *__restrict__ ap,   \
                                             Meta b, const T *__restrict__ bp,                  \
                                             T *__restrict__ out, int scalar_side, T scalar) {  \
        if (FLAT_OPERANDS) {                                                                     \
            FLAT_POINTERS(T)                                                                     \
            map_unrolled<T>(                                                                     \
                n,                                                                               \
                [&](i64 i) {                                                                     \
                    LOAD_FLAT(T)                                                                 \
                    return binary_op<T>(op, x, y);                                               \
                },                                                                               \
                [&](i64 i, T v) { out[i] = v; });                                                \
            return;                                                                              \
        }                                                                                        \
        FOR_EACH(i, n) {                                                                         \
            LOAD_OPERANDS(T)                                                                     \
            out[i] = binary_op<T>(op, x, y);                                                     \
        }                                                                                        \
    }                                                                                            \
    extern "C" __global__ void add_into_##NAME(i64 n, Meta dst, T *dp, const T *src) {          \
        FOR_EACH(i, n) atomicAdd((ATOMIC_##NAME *)&dp[offset_of(dst, i)], (ATOMIC_##NAME)src[i]); \
    }

#define ATOMIC_f32 float
#define ATOMIC_f64 double
#define ATOMIC_i64 unsigned long long

#define ALL_KERNELS(T, NAME)                                                                     \
    extern "C" __global__ void compare_##NAME(int op, i64 n, Meta a, const T *__restrict__ ap,  \
                                              Meta b, const T *__restrict__ bp,                 \
                                              u8 *__restrict__ out, int scalar_side, T scalar) { \
        if (FLAT_OPERANDS) {                                                                     \
            FLAT_POINTERS(T)                                                                     \
            map_unrolled<u8>(                                                                    \
                n,                                                                               \
                [&](i64 i) {                                                                     \
                    LOAD_FLAT(T)                                                                 \
                    return (u8)compare_op<T>(op, x, y);                                          \
                },                                                                               \
                [&](i64 i, u8 v) { out[i] = v; });                                               \
            return;                                                                              \
        }                                                                                        \
        FOR_EACH(i, n) {                                                                         \
            LOAD_OPERANDS(T)                                                                     \
            out[i] = compare_op<T>(op, x, y);                                                    \
        }                                                                                        \
    }                                                                                            \
    extern "C" __global__ void where_##NAME(i64 n, Meta c, const u8 *__restrict__ cp, Meta a,   \
                                            const T *__restrict__ ap, Meta b,                   \
                                            const T *__restrict__ bp, T *__restrict__ out) {    \
        FOR_EACH(i, n) out[i] = cp[offset_of(c, i)] ? ap[offset_of(a, i)] : bp[offset_of(b, i)]; \
    }                                                                                            \
    /* `src` and `dst` never overlap: callers copy from fresh or private buffers. */             \
    extern "C" __global__ void copy_##NAME(i64 n, Meta src, const T *__restrict__ sp, Meta dst, \
                                           T *__restrict__ dp) {                                 \
        if (is_flat(src) && is_flat(dst)) {                                                      \
            const T *sf = sp + src.offset;                                                       \
            T *df = dp + dst.offset;                                                             \
            map_unrolled<T>(n, [&](i64 i) { return sf[i]; }, [&](i64 i, T v) { df[i] = v; });   \
            return;                                                                              \
        }                                                                                        \
        FOR_EACH(i, n) dp[offset_of(dst, i)] = sp[offset_of(src, i)];                            \
    }                                                                                            \
    extern "C" __global__ void fill_##NAME(i64 n, Meta dst, T *dp, T value) {                   \
        FOR_EACH(i, n) dp[offset_of(dst, i)] = value;                                            \
    }                                                                                            \
    extern "C" __global__ void put_##NAME(i64 n, const i64 *positions, T *dp, i64 offset,       \
                                          const T *values) {                                     \
        FOR_EACH(i, n) dp[offset + positions[i]] = values[i];                                    \
    }

FLOAT_KERNELS(float, f32)
FLOAT_KERNELS(double, f64)
NUM_KERNELS(float, f32)
NUM_KERNELS(double, f64)
NUM_KERNELS(i64, i64)
ALL_KERNELS(float, f32)
ALL_KERNELS(double, f64)
ALL_KERNELS(i64, i64)
ALL_KERNELS(u8, bool)

extern "C" __global__ void unary_i64(int op, i64 n, Meta x, const i64 *__restrict__ xp,
                                     i64 *__restrict__ out, i64 p, i64 lo, i64 hi, int has_lo,
                                     int has_hi) {
    FOR_EACH(i, n) out[i] = unary_int(op, xp[offset_of(x, i)], p, lo, hi, has_lo, has_hi);
}

// Casts between every pair of dtypes; anything nonzero becomes true.
template <typename D, typename S> __device__ __forceinline__ D cast_value(S v) { return (D)v; }
template <> __device__ __forceinline__ u8 cast_value<u8, float>(float v) { return v != 0.0f; }
template <> __device__ __forceinline__ u8 cast_value<u8, double>(double v) { return v != 0.0; }
template <> __device__ __forceinline__ u8 cast_value<u8, i64>(i64 v) { return v != 0; }

#define CAST(S, SN, D, DN)                                                                       \
    extern "C" __global__ void cast_##SN##_##DN(i64 n, Meta x, const S *__restrict__ xp,        \
                                                D *__restrict__ out) {                           \
        if (is_flat(x)) {                                                                        \
            const S *xf = xp + x.offset;                                                         \
            map_unrolled<D>(                                                                     \
                n, [&](i64 i) { return cast_value<D, S>(xf[i]); }, [&](i64 i, D v) { out[i] = v; }); \
            return;                                                                              \
        }                                                                                        \
        FOR_EACH(i, n) out[i] = cast_value<D, S>(xp[offset_of(x, i)]);                           \
    }
#define CAST_FROM(S, SN)                                                                         \
    CAST(S, SN, float, f32) CAST(S, SN, double, f64) CAST(S, SN, i64, i64) CAST(S, SN, u8, bool)
CAST_FROM(float, f32)
CAST_FROM(double, f64)
CAST_FROM(i64, i64)
CAST_FROM(u8, bool)

// Small host-to-device copies as a kernel argument: a copy from pageable host memory is staged
// by the driver (which may wait for the stream); a launch never waits.
#define SMALL_UPLOAD_BYTES 256
struct SmallBytes {
    u8 bytes[SMALL_UPLOAD_BYTES];
};

extern "C" __global__ void write_bytes(u8 *dst, SmallBytes data, int len) {
    for (int i = threadIdx.x; i < len; i += blockDim.x) dst[i] = data.bytes[i];
}

