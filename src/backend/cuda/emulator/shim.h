// Just enough of CUDA C++ for the kernel sources to compile as ordinary C++ and run on the
// CPU. By default a launch runs one thread per block and one block per grid (grid-stride loops
// then cover every element), which is fast. With RUSTGRAD_EMULATOR_THREADS=N (a multiple of
// 32) a launch runs up to N real threads per block and a few blocks, one block after another,
// with `__syncthreads` as a barrier and warp shuffles through shared slots, so the block-wide
// reductions are exercised too. Test-only: it checks kernel logic, not GPU speed or memory
// ordering.
#pragma once

#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>

#define __global__
#define __device__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __shared__ static

struct EmulatedDim {
    unsigned x;
};
// Set by the launcher before the threads of a launch start (the start orders the writes).
inline EmulatedDim blockDim{1}, gridDim{1};
inline thread_local EmulatedDim blockIdx{0}, threadIdx{0};

// The barriers of the block being run: one for the block, one per warp.
inline std::barrier<> *emulated_block_barrier = nullptr;
inline std::barrier<> *emulated_warp_barriers[32] = {};
inline unsigned long long emulated_warp_slots[32][32];

// A kernel's own assertion failed: on a GPU the launch fails; here the process stops.
[[noreturn]] inline void __trap() { std::abort(); }

inline void __syncthreads() {
    if (blockDim.x > 1) emulated_block_barrier->arrive_and_wait();
}

// Every lane of the warp calls this together (as on the GPU): each publishes its value, then
// reads its neighbour's; lanes past the end keep their own value, as CUDA's shuffle does.
template <typename T> inline T __shfl_down_sync(unsigned, T v, int offset) {
    static_assert(sizeof(T) <= sizeof(unsigned long long), "8-byte values at most");
    unsigned lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    std::memcpy(&emulated_warp_slots[warp][lane], &v, sizeof(T));
    emulated_warp_barriers[warp]->arrive_and_wait();
    T out = v;
    if (lane + offset < 32) std::memcpy(&out, &emulated_warp_slots[warp][lane + offset], sizeof(T));
    emulated_warp_barriers[warp]->arrive_and_wait();
    return out;
}

// Atomic adds (threads of a block run at once): integers directly, floats by compare-and-swap
// on their bits.
template <typename T> inline T atomicAdd(T *address, T value) {
    if constexpr (std::is_integral_v<T>) {
        return __atomic_fetch_add(address, value, __ATOMIC_RELAXED);
    } else {
        using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
        Bits *bits = reinterpret_cast<Bits *>(address);
        Bits expected = __atomic_load_n(bits, __ATOMIC_RELAXED), desired;
        T old;
        do {
            std::memcpy(&old, &expected, sizeof(T));
            T updated = old + value;
            std::memcpy(&desired, &updated, sizeof(T));
        } while (!__atomic_compare_exchange_n(bits, &expected, desired, false, __ATOMIC_RELAXED,
                                              __ATOMIC_RELAXED));
        return old;
    }
}

// The CUDA math library's functions, as the standard library's (every one an op in
// `op_table.rs` may use, so adding an op never touches this file).
using std::acos;
using std::acosh;
using std::asin;
using std::asinh;
using std::atan;
using std::atan2;
using std::atanh;
using std::cbrt;
using std::ceil;
using std::copysign;
using std::cos;
using std::cosh;
using std::erf;
using std::erfc;
using std::exp;
using std::exp2;
using std::expm1;
using std::fabs;
using std::floor;
using std::fma;
using std::fmod;
using std::hypot;
using std::isinf;
using std::lgamma;
using std::log;
using std::log10;
using std::log1p;
using std::log2;
using std::max;
using std::min;
using std::pow;
using std::rint;
using std::round;
using std::sin;
using std::sinh;
using std::sqrt;
using std::tan;
using std::tanh;
using std::trunc;

// CUDA's erfinv (not in C++): PyTorch's calc_erfinv in double, as the CPU kernel computes it.
inline double erfinv_double(double y) {
    using T = double;
    const T a[4] = {(T)0.886226899, (T)-1.645349621, (T)0.914624893, (T)-0.140543331};
    const T b[4] = {(T)-2.118377725, (T)1.442710462, (T)-0.329097515, (T)0.012229801};
    const T c[4] = {(T)-1.970840454, (T)-1.624906493, (T)3.429567803, (T)1.641345311};
    const T d[2] = {(T)3.543889200, (T)1.637067800};
    T y_abs = std::fabs(y);
    if (y_abs > (T)1) return std::numeric_limits<T>::quiet_NaN();
    if (y_abs == (T)1) return std::copysign(std::numeric_limits<T>::infinity(), y);
    T x;
    if (y_abs <= (T)0.7) {
        T z = y * y;
        T num = ((a[3] * z + a[2]) * z + a[1]) * z + a[0];
        T dem = (((b[3] * z + b[2]) * z + b[1]) * z + b[0]) * z + (T)1;
        x = y * num / dem;
    } else {
        T z = std::sqrt(-std::log(((T)1 - y_abs) / (T)2));
        T num = ((c[3] * z + c[2]) * z + c[1]) * z + c[0];
        T dem = (d[1] * z + d[0]) * z + (T)1;
        x = std::copysign(num, y) / dem;
    }
    const T two_over_sqrt_pi = (T)(2.0 / std::sqrt(M_PI));
    if (y_abs <= (T)0.7) {
        for (int i = 0; i < 2; ++i) x = x - (std::erf(x) - y) / (two_over_sqrt_pi * std::exp(-x * x));
        return x;
    }
    // The tails solve erfc(|x|) = 1 - |y|, as the CPU kernel does.
    T t = (T)1 - y_abs, ax = std::fabs(x);
    for (int i = 0; i < 2; ++i) ax = ax + (std::erfc(ax) - t) / (two_over_sqrt_pi * std::exp(-ax * ax));
    return std::copysign(ax, y);
}
inline double erfinv(double y) { return erfinv_double(y); }
inline float erfinv(float y) { return (float)erfinv_double(y); }

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
