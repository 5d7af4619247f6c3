// Counter-based random numbers: element i of a draw is a hash of (seed, offset + i), so a
// seeded sequence is reproducible whatever the launch shape.
#include "common.cuh"

__device__ __forceinline__ unsigned long long mix64(unsigned long long z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// A uniform double in [0, 1) from the top 53 bits.
__device__ __forceinline__ double uniform01(unsigned long long seed, unsigned long long counter) {
    return (double)(mix64(seed ^ mix64(counter)) >> 11) * (1.0 / 9007199254740992.0);
}

#define RANDOM(T, NAME)                                                                          \
    extern "C" __global__ void uniform_##NAME(i64 n, unsigned long long seed,                   \
                                              unsigned long long offset, T *out) {               \
        FOR_EACH(i, n) {                                                                         \
            T u = (T)uniform01(seed, offset + (unsigned long long)i);                            \
            out[i] = u < (T)1 ? u : (T)0; /* rounding to float32 may reach 1 */                  \
        }                                                                                        \
    }                                                                                            \
    /* Box-Muller: two uniforms per normal, from counters 2i and 2i + 1. */                      \
    extern "C" __global__ void normal_##NAME(i64 n, unsigned long long seed,                    \
                                             unsigned long long offset, T *out) {                \
        FOR_EACH(i, n) {                                                                         \
            unsigned long long c = offset + 2ull * (unsigned long long)i;                       \
            double u1 = 1.0 - uniform01(seed, c); /* (0, 1]: log stays finite */                 \
            double u2 = uniform01(seed, c + 1);                                                  \
            out[i] = (T)(sqrt(-2.0 * log(u1)) * cospi(2.0 * u2));                                \
        }                                                                                        \
    }

RANDOM(float, f32)
RANDOM(double, f64)
