// Optimizer updates in one pass over a contiguous parameter, in the CPU kernels' order of
// operations (PyTorch's single-tensor rules; `fma` where PyTorch's vectorised CPU kernels fuse:
// add(alpha=), lerp, addcmul). The step's constants come as doubles and are rounded to T here,
// as PyTorch rounds its Python-float scalars; `1 - x` is taken in double first, as in Python.
#include "common.cuh"

// The rules, numbered as `UpdateRule` in src/backend/mod.rs.
#define RULE_SGD 0
#define RULE_ADAM 1
#define RULE_RMSPROP 2
#define RULE_ADAGRAD 3
#define RULE_ADADELTA 4
#define RULE_ADAMAX 5
#define RULE_NADAM 6
#define RULE_RADAM 7

// Bits of `flags`.
#define F_MAXIMIZE 1
#define F_NESTEROV 2
#define F_FIRST 4
#define F_MOMENTUM 8
#define F_CENTERED 16
#define F_AMSGRAD 32

template <typename T> __device__ __forceinline__ T lerp_(T start, T end, T w) {
    T d = end - start;
    return fabs(w) < (T)0.5 ? fma(w, d, start) : fma(-d, (T)1 - w, end);
}

// A product that NVRTC may not fuse into a following add (PyTorch rounds it first).
__device__ __forceinline__ float mul_rn(float a, float b) {
#ifdef __CUDACC_RTC__
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}
__device__ __forceinline__ double mul_rn(double a, double b) {
#ifdef __CUDACC_RTC__
    return __dmul_rn(a, b);
#else
    return a * b;
#endif
}

template <typename T> __device__ __forceinline__ T maximum_(T a, T b) {
    return (a != a || a > b) ? a : b;
}

#define OPTIM(T, NAME)                                                                           \
    extern "C" __global__ void optim_step_##NAME(i64 n, int rule, int flags, T *p, const T *g,   \
                                                 T *s0, T *s1, T *s2, double a0, double a1,      \
                                                 double a2, double a3, double a4, double a5,     \
                                                 double a6, double wd_, double decay_) {         \
        const T wd = (T)wd_, decay = (T)decay_;                                                  \
        const bool has_wd = wd_ != 0.0, has_decay = decay_ != 1.0;                               \
        FOR_EACH(i, n) {                                                                         \
            T pi = p[i];                                                                         \
            if (has_decay) pi = pi * decay;                                                      \
            T gi = (flags & F_MAXIMIZE) ? -g[i] : g[i];                                          \
            if (has_wd) gi = fma(wd, pi, gi);                                                    \
            switch (rule) {                                                                      \
            case RULE_SGD: {                                                                     \
                T d = gi, mom = (T)a1;                                                           \
                if (flags & F_MOMENTUM) {                                                        \
                    T b = (flags & F_FIRST) ? d : fma((T)(1.0 - a2), d, s0[i] * mom);           \
                    s0[i] = b;                                                                   \
                    d = (flags & F_NESTEROV) ? fma(mom, b, d) : b;                               \
                }                                                                                \
                pi = fma((T)(-a0), d, pi);                                                       \
                break;                                                                           \
            }                                                                                    \
            case RULE_ADAM: {                                                                    \
                T w2 = (T)(1.0 - a1);                                                            \
                T m = lerp_<T>(s0[i], gi, (T)(1.0 - a0));                                        \
                T v = fma(w2 * gi, gi, s1[i] * (T)a1);                                           \
                s0[i] = m;                                                                       \
                s1[i] = v;                                                                       \
                if (flags & F_AMSGRAD) {                                                         \
                    v = maximum_<T>(s2[i], v);                                                   \
                    s2[i] = v;                                                                   \
                }                                                                                \
                T denom = sqrt(v) / (T)a4 + (T)a2;                                               \
                pi = pi + (T)(-a3) * m / denom;                                                  \
                break;                                                                           \
            }                                                                                    \
            case RULE_RMSPROP: {                                                                 \
                T alpha = (T)a1, w = (T)(1.0 - a1), eps = (T)a2;                                 \
                T sq = fma(w * gi, gi, s0[i] * alpha);                                           \
                s0[i] = sq;                                                                      \
                T avg;                                                                           \
                if (flags & F_CENTERED) {                                                        \
                    T *ga = (flags & F_MOMENTUM) ? s2 : s1;                                      \
                    T gai = lerp_<T>(ga[i], gi, w);                                              \
                    ga[i] = gai;                                                                 \
                    avg = sqrt(fma(-gai, gai, sq));                                              \
                } else {                                                                         \
                    avg = sqrt(sq);                                                              \
                }                                                                                \
                avg = avg + eps;                                                                 \
                if (flags & F_MOMENTUM) {                                                        \
                    T b = mul_rn(s1[i], (T)a3) + gi / avg;                                              \
                    s1[i] = b;                                                                   \
                    pi = fma((T)(-a0), b, pi);                                                   \
                } else {                                                                         \
                    pi = pi + (T)(-a0) * gi / avg;                                               \
                }                                                                                \
                break;                                                                           \
            }                                                                                    \
            case RULE_ADAGRAD: {                                                                 \
                T sum = fma(gi, gi, s0[i]);                                                      \
                s0[i] = sum;                                                                     \
                pi = pi + (T)(-a0) * gi / (sqrt(sum) + (T)a1);                                   \
                break;                                                                           \
            }                                                                                    \
            case RULE_ADADELTA: {                                                                \
                T rho = (T)a1, w = (T)(1.0 - a1), eps = (T)a2;                                   \
                T sq = fma(w * gi, gi, s0[i] * rho);                                             \
                s0[i] = sq;                                                                      \
                T delta = sqrt(s1[i] + eps) / sqrt(sq + eps) * gi;                               \
                s1[i] = fma(w * delta, delta, s1[i] * rho);                                      \
                pi = fma((T)(-a0), delta, pi);                                                   \
                break;                                                                           \
            }                                                                                    \
            case RULE_ADAMAX: {                                                                  \
                T m = lerp_<T>(s0[i], gi, (T)(1.0 - a0));                                        \
                T u = maximum_<T>(s1[i] * (T)a1, fabs(gi) + (T)a2);                              \
                s0[i] = m;                                                                       \
                s1[i] = u;                                                                       \
                pi = pi + (T)(-a3) * m / u;                                                      \
                break;                                                                           \
            }                                                                                    \
            case RULE_NADAM: {                                                                   \
                T m = lerp_<T>(s0[i], gi, (T)(1.0 - a0));                                        \
                T v = fma((T)(1.0 - a1) * gi, gi, s1[i] * (T)a1);                                \
                s0[i] = m;                                                                       \
                s1[i] = v;                                                                       \
                T denom = sqrt(v / (T)a3) + (T)a2;                                               \
                pi = pi + (T)a4 * gi / denom;                                                    \
                pi = pi + (T)a5 * m / denom;                                                     \
                break;                                                                           \
            }                                                                                    \
            case RULE_RADAM: {                                                                   \
                T m = lerp_<T>(s0[i], gi, (T)(1.0 - a0));                                        \
                T v = fma((T)(1.0 - a1) * gi, gi, s1[i] * (T)a1);                                \
                s0[i] = m;                                                                       \
                s1[i] = v;                                                                       \
                T update = m / (T)a3 * (T)a4;                                                    \
                if (a6 != 0.0) update = update * ((T)a5 / (sqrt(v) + (T)a2)) * (T)a6;            \
                pi = fma((T)-1, update, pi);                                                     \
                break;                                                                           \
            }                                                                                    \
            }                                                                                    \
            p[i] = pi;                                                                           \
        }                                                                                        \
    }

OPTIM(float, f32)
OPTIM(double, f64)
