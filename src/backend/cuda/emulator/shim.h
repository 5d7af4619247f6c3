// Just enough of CUDA C++ for the kernel sources to compile as ordinary C++ and run on the
// CPU, one thread per block and one block per grid (grid-stride loops then cover every
// element). Test-only: it checks the host code and kernel logic, not GPU behaviour.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static

struct EmulatedDim {
    unsigned x;
};
inline EmulatedDim blockIdx{0}, threadIdx{0}, blockDim{1}, gridDim{1};

inline void __syncthreads() {}
template <typename T> inline T __shfl_down_sync(unsigned, T, int) { return T(0); }

template <typename T> inline T atomicAdd(T *address, T value) {
    T old = *address;
    *address = old + value;
    return old;
}

using std::exp;
using std::fabs;
using std::log;
using std::min;
using std::pow;
using std::sqrt;
using std::tanh;

inline double cospi(double x) { return std::cos(M_PI * x); }
inline float __int_as_float(int bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}
inline double __longlong_as_double(long long bits) {
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
}
