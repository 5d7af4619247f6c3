// Optimizer updates in one pass over a contiguous parameter, in the CPU kernels' order of
// operations (PyTorch's single-tensor rules).
#include "common.cuh"

template <typename T> __device__ __forceinline__ T effective_grad(T g, T p, int maximize, T wd) {
    g = maximize ? -g : g;
    return wd != (T)0 ? g + wd * p : g;
}

// `has_momentum`: keep a buffer; `first`: the buffer was just created (it takes the gradient).
#define SGD(T, NAME)                                                                             \
    extern "C" __global__ void sgd_step_##NAME(i64 n, T *p, const T *g, T *buf, T lr, T mom,    \
                                               T damp, T wd, int nesterov, int maximize,         \
                                               int has_momentum, int first) {                    \
        FOR_EACH(i, n) {                                                                         \
            T d = effective_grad<T>(g[i], p[i], maximize, wd);                                   \
            if (has_momentum) {                                                                  \
                T b = first ? d : buf[i] * mom + ((T)1 - damp) * d;                              \
                buf[i] = b;                                                                      \
                d = nesterov ? d + mom * b : b;                                                  \
            }                                                                                    \
            p[i] = p[i] - lr * d;                                                                \
        }                                                                                        \
    }

#define ADAM(T, NAME)                                                                            \
    extern "C" __global__ void adam_step_##NAME(i64 n, T *p, const T *g, T *m, T *v,            \
                                                T step_size, T b1, T b2, T eps, T wd,            \
                                                T bc2_sqrt, int maximize) {                      \
        FOR_EACH(i, n) {                                                                         \
            T gi = effective_grad<T>(g[i], p[i], maximize, wd);                                  \
            T mi = m[i] + ((T)1 - b1) * (gi - m[i]);                                             \
            T vi = v[i] * b2 + ((T)1 - b2) * gi * gi;                                            \
            m[i] = mi;                                                                           \
            v[i] = vi;                                                                           \
            T denom = sqrt(vi) / bc2_sqrt + eps;                                                 \
            p[i] = p[i] - step_size * (mi / denom);                                              \
        }                                                                                        \
    }

SGD(float, f32)
SGD(double, f64)
ADAM(float, f32)
ADAM(double, f64)
