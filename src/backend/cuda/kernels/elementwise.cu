// Elementwise kernels over strided views: unary, binary, comparisons, where, casts, copies.
// The ops themselves come from the op table (see the include below).
#include "common.cuh"

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

// The arithmetic the op table's CUDA expressions use: floats as C++ has them, int64 wrapping
// on overflow (as the CPU kernels and PyTorch do) instead of C++'s undefined behaviour.
template <typename T> __device__ __forceinline__ T rg_neg(T v) { return -v; }
__device__ __forceinline__ i64 rg_neg(i64 v) { return (i64)(0ull - (unsigned long long)v); }
template <typename T> __device__ __forceinline__ T rg_abs(T v) { return fabs(v); }
__device__ __forceinline__ i64 rg_abs(i64 v) { return v < 0 ? rg_neg(v) : v; }
template <typename T> __device__ __forceinline__ T rg_add(T x, T y) { return x + y; }
__device__ __forceinline__ i64 rg_add(i64 x, i64 y) {
    return (i64)((unsigned long long)x + (unsigned long long)y);
}
template <typename T> __device__ __forceinline__ T rg_sub(T x, T y) { return x - y; }
__device__ __forceinline__ i64 rg_sub(i64 x, i64 y) {
    return (i64)((unsigned long long)x - (unsigned long long)y);
}
template <typename T> __device__ __forceinline__ T rg_mul(T x, T y) { return x * y; }
__device__ __forceinline__ i64 rg_mul(i64 x, i64 y) {
    return (i64)((unsigned long long)x * (unsigned long long)y);
}
template <typename T> __device__ __forceinline__ T rg_div(T x, T y) { return x / y; }
__device__ __forceinline__ i64 rg_div(i64 x, i64 y) { return y == 0 ? 0 : x / y; }
template <typename T> __device__ __forceinline__ T rg_pow(T x, T y) { return pow(x, y); }
__device__ __forceinline__ i64 rg_pow(i64 x, i64 y) { return int_pow(x, y); }
// PyTorch's special exponents (as the CPU's `pow_scalar`), `pow` otherwise.
template <typename T> __device__ __forceinline__ T rg_pow_scalar(T v, T p) {
    if (p == (T)2) return v * v;
    if (p == (T)3) return v * v * v;
    if (p == (T)0.5) return sqrt(v);
    if (p == (T)-0.5) return (T)1 / sqrt(v);
    if (p == (T)-1) return (T)1 / v;
    if (p == (T)-2) return (T)1 / (v * v);
    return pow(v, p);
}
__device__ __forceinline__ i64 rg_pow_scalar(i64 v, i64 p) { return int_pow(v, p); }
// `hi` wins when `lo > hi`; NaN stays NaN (as in PyTorch).
template <typename T> __device__ __forceinline__ T rg_clamp(T v, T lo, T hi) {
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    return v;
}
template <typename T> __device__ __forceinline__ bool rg_isnan(T v) { return is_nan(v); }
// Whole numbers (integers pass through); `round` ties to even as PyTorch's nearbyint.
template <typename T> __device__ __forceinline__ T rg_floor(T v) { return floor(v); }
__device__ __forceinline__ i64 rg_floor(i64 v) { return v; }
template <typename T> __device__ __forceinline__ T rg_ceil(T v) { return ceil(v); }
__device__ __forceinline__ i64 rg_ceil(i64 v) { return v; }
template <typename T> __device__ __forceinline__ T rg_round(T v) { return rint(v); }
__device__ __forceinline__ i64 rg_round(i64 v) { return v; }
template <typename T> __device__ __forceinline__ T rg_trunc(T v) { return trunc(v); }
__device__ __forceinline__ i64 rg_trunc(i64 v) { return v; }
// PyTorch's round(decimals=d): a negative count divides by the positive power.
template <typename T> __device__ __forceinline__ T rg_round_decimals(T v, T d) {
    if (d >= (T)0) {
        T p = pow((T)10, d);
        return rint(v * p) / p;
    }
    T p = pow((T)10, -d);
    return rint(v / p) * p;
}
__device__ __forceinline__ i64 rg_round_decimals(i64 v, i64) { return v; }
// fmod, Python's remainder and floor division, as the CPU kernels (integer divisors of 0 are
// refused before launch; they give 0 here rather than trap).
template <typename T> __device__ __forceinline__ T rg_fmod(T x, T y) { return fmod(x, y); }
__device__ __forceinline__ i64 rg_fmod(i64 x, i64 y) {
    if (y == 0) return 0;
    if (y == -1) return 0; // (INT64_MIN % -1 overflows)
    return x % y;
}
template <typename T> __device__ __forceinline__ T rg_remainder(T x, T y) {
    T m = rg_fmod(x, y);
    return (m != (T)0 && ((y < (T)0) != (m < (T)0))) ? m + y : m;
}
template <typename T> __device__ __forceinline__ T rg_floor_divide(T x, T y) {
    // PyTorch's div_floor_floating.
    if (y == (T)0) return x / y;
    T m = fmod(x, y);
    T div = (x - m) / y;
    if (m != (T)0 && ((y < (T)0) != (m < (T)0))) div -= (T)1;
    if (div != (T)0) {
        T f = floor(div);
        return div - f > (T)0.5 ? f + (T)1 : f;
    }
    return copysign((T)0, x / y);
}
__device__ __forceinline__ i64 rg_floor_divide(i64 x, i64 y) {
    if (y == 0) return 0;
    if (y == -1) return rg_neg(x);
    i64 q = x / y;
    return (x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q;
}
// Float-only binary functions (integers are promoted before launch; the i64 forms only
// give the switch one signature).
template <typename T> __device__ __forceinline__ T rg_atan2(T x, T y) { return atan2(x, y); }
__device__ __forceinline__ i64 rg_atan2(i64 x, i64 y) { return (i64)atan2((double)x, (double)y); }
template <typename T> __device__ __forceinline__ T rg_hypot(T x, T y) { return hypot(x, y); }
__device__ __forceinline__ i64 rg_hypot(i64 x, i64 y) { return (i64)hypot((double)x, (double)y); }
template <typename T> __device__ __forceinline__ T rg_logaddexp(T x, T y) {
    if (isinf(x) && x == y) return x;
    T m = x > y ? x : y;
    return m + log1p(exp(-fabs(x - y)));
}
__device__ __forceinline__ i64 rg_logaddexp(i64 x, i64 y) {
    return (i64)rg_logaddexp((double)x, (double)y);
}
// The gamma family, by the CPU's algorithms (backend/special.rs, PyTorch's Math.h): the
// zeta sum in double, digamma's reflection through tan in double. Not inlined: the unrolled
// loops would copy these bodies into every unary kernel (megabytes of CUBIN).
template <typename T> __device__ __noinline__ T rg_digamma(T x) {
    const double A[7] = {8.33333333333333333333E-2, -2.10927960927960927961E-2,
                         7.57575757575757575758E-3, -4.16666666666666666667E-3,
                         3.96825396825396825397E-3, -8.33333333333333333333E-3,
                         8.33333333333333333333E-2};
    const double pi = 3.14159265358979323846;
    if (x == (T)0) return copysign((T)rg_inf(), -x);
    T result = (T)0;
    if (x < (T)0) {
        if (x == trunc(x)) return (T)rg_nan();
        double r = (double)x - trunc((double)x);
        result = -(T)(pi / tan(pi * r));
        x = (T)1 - x;
    }
    while (x < (T)10) {
        result -= (T)1 / x;
        x += (T)1;
    }
    if (x == (T)10) return result + (T)2.25175258906672110764;
    T y = (T)0;
    if (x < (T)1.0e17) {
        T z = (T)1 / (x * x), series = (T)0;
        for (int i = 0; i < 7; ++i) series = series * z + (T)A[i];
        y = z * series;
    }
    return result + log(x) - ((T)0.5 / x) - y;
}
template <typename T> __device__ __noinline__ T rg_trigamma(T x) {
    const T pi = (T)3.14159265358979323846;
    T sign = (T)1, result = (T)0;
    if (x < (T)0.5) {
        sign = (T)-1;
        T s = sin(pi * x);
        result -= (pi * pi) / (s * s);
        x = (T)1 - x;
    }
    for (int i = 0; i < 6; ++i) {
        result += (T)1 / (x * x);
        x += (T)1;
    }
    T ixx = (T)1 / (x * x);
    result += ((T)1 + (T)1 / ((T)2 * x) +
               ixx * ((T)1 / (T)6 - ixx * ((T)1 / (T)30 - ixx * ((T)1 / (T)42)))) / x;
    return sign * result;
}
__device__ __noinline__ double rg_zeta(double x, double q) {
    const double MACHEP = 1.11022302462515654042E-16;
    const double A[12] = {12.0, -720.0, 30240.0, -1209600.0, 47900160.0,
                          -1.8924375803183791606e9, 7.47242496e10, -2.950130727918164224e12,
                          1.1646782814350067249e14, -4.5979787224074726105e15,
                          1.8152105401943546773e17, -7.1661652561756670113e18};
    if (x == 1.0) return rg_inf();
    if (x < 1.0) return rg_nan();
    if (q <= 0.0) {
        if (q == floor(q)) return rg_inf();
        if (x != floor(x)) return rg_nan();
    }
    double s = pow(q, -x), a = q, b = 0.0;
    int i = 0;
    while (i < 9 || a <= 9.0) {
        i += 1;
        a += 1.0;
        b = pow(a, -x);
        s += b;
        if (-MACHEP * s < b && b < MACHEP * s) return s;
    }
    double w = a, k = 0.0;
    s += b * w / (x - 1.0);
    s -= 0.5 * b;
    a = 1.0;
    for (int j = 0; j < 12; ++j) {
        a *= x + k;
        b /= w;
        double t = a * b / A[j];
        s += t;
        if (fabs(t / s) < MACHEP) return s;
        k += 1.0;
        a *= x + k;
        b /= w;
        k += 1.0;
    }
    return s;
}
template <typename T> __device__ __noinline__ T rg_polygamma(T x, T n) {
    long long order = (long long)n;
    if (order == 0) return rg_digamma(x);
    if (order == 1) return rg_trigamma(x);
    T sign = order % 2 ? (T)1 : (T)-1;
    return sign * exp(lgamma(n + (T)1)) * (T)rg_zeta((double)(order + 1), (double)x);
}
// Activation backwards from the input `x` (PyTorch's formulas).
template <typename T> __device__ __forceinline__ T rg_gelu_tanh_backward(T g, T x) {
    const T beta = (T)0.79788456080286535588, kappa = (T)0.044715;
    T t = tanh(beta * (x + kappa * x * x * x));
    return g * ((T)0.5 * ((T)1 + t) +
                (T)0.5 * x * ((T)1 - t * t) * beta * ((T)1 + (T)3 * kappa * x * x));
}
template <typename T> __device__ __forceinline__ T rg_silu_backward(T g, T x) {
    T s = (T)1 / ((T)1 + exp(-x));
    return g * s * ((T)1 + x * ((T)1 - s));
}

// unary_any_op, unary_float_op, binary_op, compare_op and activation_backward_op: one switch
// over op codes each, generated from src/backend/op_table.rs.
#include "elementwise_ops.cuh"

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
                                            T *__restrict__ out, T p, T lo, T hi) {             \
        if (is_flat(x)) {                                                                        \
            const T *xf = xp + x.offset;                                                         \
            /* (16-byte packs measured slower here: 38% of copy bandwidth for exp, against  \
               77% with scalar loads; BENCHMARKS.md) */                                          \
            map_unrolled<T, T>(                                                                  \
                n, [&](i64 i) { return xf[i]; },                                                 \
                [&](T v) { return unary_float_op<T>(op, v, p, lo, hi); },                        \
                [&](i64 i, T v) { out[i] = v; });                                                \
            return;                                                                              \
        }                                                                                        \
        FOR_EACH(i, n) out[i] = unary_float_op<T>(op, xp[offset_of(x, i)], p, lo, hi);           \
    }                                                                                            \
    extern "C" __global__ void activation_backward_##NAME(int op, i64 n, Meta g,                \
                                                          const T *__restrict__ gp, Meta y,     \
                                                          const T *__restrict__ yp,             \
                                                          T *__restrict__ out) {                \
        auto grad = [&](T gv, T yv) { return activation_backward_op<T>(op, gv, yv); };           \
        if (is_flat(g) && is_flat(y)) {                                                          \
            const T *gf = gp + g.offset, *yf = yp + y.offset;                                    \
            map_unrolled<Two<T>, T>(                                                             \
                n, [&](i64 i) { return Two<T>{gf[i], yf[i]}; },                                  \
                [&](Two<T> v) { return grad(v.a, v.b); }, [&](i64 i, T v) { out[i] = v; });      \
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
            map_unrolled<Two<T>, T>(                                                             \
                n,                                                                               \
                [&](i64 i) {                                                                     \
                    LOAD_FLAT(T)                                                                 \
                    return Two<T>{x, y};                                                         \
                },                                                                               \
                [&](Two<T> v) { return binary_op<T>(op, v.a, v.b); },                            \
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
            map_unrolled<Two<T>, u8>(                                                            \
                n,                                                                               \
                [&](i64 i) {                                                                     \
                    LOAD_FLAT(T)                                                                 \
                    return Two<T>{x, y};                                                         \
                },                                                                               \
                [&](Two<T> v) { return (u8)compare_op<T>(op, v.a, v.b); },                       \
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
            map_contiguous<T>(n, sf, df, [&](T v) { return v; });                                \
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
                                     i64 *__restrict__ out, i64 p, i64 lo, i64 hi) {
    FOR_EACH(i, n) out[i] = unary_any_op<i64>(op, xp[offset_of(x, i)], p, lo, hi);
}

// Casts between every pair of dtypes; anything nonzero becomes true.
template <typename D, typename S> __device__ __forceinline__ D cast_value(S v) { return (D)v; }
template <> __device__ __forceinline__ u8 cast_value<u8, float>(float v) { return v != 0.0f; }
template <> __device__ __forceinline__ u8 cast_value<u8, double>(double v) { return v != 0.0; }
template <> __device__ __forceinline__ u8 cast_value<u8, i64>(i64 v) { return v != 0; }
template <> __device__ __forceinline__ u8 cast_value<u8, u8>(u8 v) { return v != 0; }

#define CAST(S, SN, D, DN)                                                                       \
    extern "C" __global__ void cast_##SN##_##DN(i64 n, Meta x, const S *__restrict__ xp,        \
                                                D *__restrict__ out) {                           \
        if (is_flat(x)) {                                                                        \
            const S *xf = xp + x.offset;                                                         \
            map_unrolled<S, D>(                                                                  \
                n, [&](i64 i) { return xf[i]; }, [&](S v) { return cast_value<D, S>(v); },       \
                [&](i64 i, D v) { out[i] = v; });                                                \
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

