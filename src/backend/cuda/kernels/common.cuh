// Shared by every kernel source: the strided-layout descriptor and launch helpers.
// NVRTC sees this text pasted in place of the include (no include paths are needed); the CPU
// emulator used by tests includes it once for all sources.
#ifndef RUSTGRAD_COMMON_CUH
#define RUSTGRAD_COMMON_CUH

typedef long long i64;
typedef unsigned char u8;

#define MAX_DIMS 8

// A view of memory: element `i` (row-major over `shape`) lives at `offset + sum(coord * stride)`.
// The host merges dimensions first, so the common contiguous case is ndim == 1, stride 1.
struct Meta {
    i64 ndim;
    i64 offset;
    i64 shape[MAX_DIMS];
    i64 strides[MAX_DIMS];
};

__device__ __forceinline__ i64 offset_of(const Meta &m, i64 i) {
    if (m.ndim == 1) {
        return m.offset + i * m.strides[0];
    }
    i64 off = m.offset;
    for (int d = (int)m.ndim - 1; d > 0; --d) {
        i64 s = m.shape[d], q;
        if ((((unsigned long long)i | (unsigned long long)s) >> 32) == 0) {
            // 32-bit division is several times cheaper than 64-bit on the GPU.
            unsigned ui = (unsigned)i, us = (unsigned)s, uq = ui / us;
            off += (i64)(ui - uq * us) * m.strides[d];
            q = uq;
        } else {
            q = i / s;
            off += (i - q * s) * m.strides[d];
        }
        i = q;
    }
    return off + i * m.strides[0]; // the outermost index needs no modulo
}

// Whether a view is plain contiguous memory from its offset on.
__device__ __forceinline__ bool is_flat(const Meta &m) { return m.ndim == 1 && m.strides[0] == 1; }

// Grid-stride loop over `n` elements.
#define FOR_EACH(i, n) \
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)blockDim.x * gridDim.x)

// Two operands loaded together (binary and backward kernels).
template <typename T> struct Two {
    T a, b;
};

// How many elements a thread takes per step of `map_unrolled`.
#define RG_UNROLL 8

// Grid-stride loop over `n` outputs, RG_UNROLL per thread per step: every `load(i)` of a step
// is issued before any `f` (which may branch on an op code: a branch between two loads
// serialises them) and before the stores, so RG_UNROLL loads per thread are in flight, which
// contiguous elementwise kernels need to approach memory bandwidth.
template <typename In, typename Out, typename Load, typename F, typename Store>
__device__ __forceinline__ void map_unrolled(i64 n, Load load, F f, Store store) {
    i64 step = (i64)blockDim.x * gridDim.x;
    for (i64 base = (i64)blockIdx.x * blockDim.x + threadIdx.x; base < n;
         base += RG_UNROLL * step) {
        In x[RG_UNROLL];
#pragma unroll
        for (int u = 0; u < RG_UNROLL; ++u) {
            i64 i = base + u * step;
            if (i < n) x[u] = load(i);
        }
#pragma unroll
        for (int u = 0; u < RG_UNROLL; ++u) {
            i64 i = base + u * step;
            if (i < n) store(i, (Out)f(x[u]));
        }
    }
}

// 16 bytes of T: one vector load or store.
template <typename T> struct alignas(16) Pack16 {
    T v[16 / sizeof(T)];
};

// `out[i] = f(x[i])` over contiguous `x` and `out` of one element size: whole 16-byte packs
// (one vector load and store each, RG_UNROLL in flight per thread) when both addresses are
// 16-byte aligned, then the few elements left; element by element otherwise. For copies and
// other cheap `f`: with the op table's switch as `f` (RG_UNROLL x W copies of it) the unary
// kernels ran at half the speed of scalar loads on an H200.
template <typename T, typename F>
__device__ __forceinline__ void map_contiguous(i64 n, const T *x, T *out, F f) {
    constexpr int W = 16 / sizeof(T);
    if (W > 1 && (unsigned long long)x % 16 == 0 && (unsigned long long)out % 16 == 0) {
        i64 packs = n / W;
        const Pack16<T> *xp = reinterpret_cast<const Pack16<T> *>(x);
        Pack16<T> *op = reinterpret_cast<Pack16<T> *>(out);
        map_unrolled<Pack16<T>, Pack16<T>>(
            packs, [&](i64 i) { return xp[i]; },
            [&](Pack16<T> p) {
#pragma unroll
                for (int k = 0; k < W; ++k) p.v[k] = f(p.v[k]);
                return p;
            },
            [&](i64 i, Pack16<T> p) { op[i] = p; });
        FOR_EACH(j, n - packs * W) out[packs * W + j] = f(x[packs * W + j]);
        return;
    }
    map_unrolled<T, T>(n, [&](i64 i) { return x[i]; }, f, [&](i64 i, T v) { out[i] = v; });
}

__device__ __forceinline__ double rg_inf() { return __longlong_as_double(0x7ff0000000000000LL); }
__device__ __forceinline__ double rg_nan() { return __longlong_as_double(0x7ff8000000000000LL); }
__device__ __forceinline__ bool is_nan(float v) { return v != v; }
__device__ __forceinline__ bool is_nan(double v) { return v != v; }
__device__ __forceinline__ bool is_nan(i64) { return false; }
__device__ __forceinline__ bool is_nan(u8) { return false; }

template <typename T> __device__ __forceinline__ T to_t(double v) { return (T)v; }
template <> __device__ __forceinline__ u8 to_t<u8>(double v) { return v != 0.0; }

// The block size every kernel is launched with (`BLOCK` in device.rs; a Rust test checks that
// they agree): the reductions' shared arrays are sized from it.
#define RG_BLOCK 256
#define RG_WARPS (RG_BLOCK / 32)

// Block-wide reductions shuffle with a full warp mask and keep one shared slot per warp: they
// need whole warps, at most RG_BLOCK threads. A launch that breaks this stops the kernel (a
// launch error on the host) instead of reading past a shared array. The emulator's one-thread
// mode (blockDim.x == 1) takes the shortcuts below and is allowed.
__device__ __forceinline__ void assert_whole_warps() {
    if (blockDim.x != 1 && (blockDim.x % 32 != 0 || blockDim.x > RG_BLOCK)) __trap();
}

// Block-wide sum; every thread gets the result.
template <typename T> __device__ T block_sum(T v) {
    assert_whole_warps();
    // The CPU emulator's default mode runs one thread per block; its threaded mode
    // (RUSTGRAD_EMULATOR_THREADS) and real GPUs run the warp and shared-memory code below.
    if (blockDim.x == 1) return v;
    __shared__ T warp_sums[RG_WARPS];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffff, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();
    if (lane == 0) warp_sums[warp] = v;
    __syncthreads();
    int warps = (blockDim.x + 31) >> 5;
    v = (int)threadIdx.x < warps ? warp_sums[threadIdx.x] : (T)0;
    if (warp == 0) {
        for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffff, v, o);
        if (lane == 0) warp_sums[0] = v;
    }
    __syncthreads();
    return warp_sums[0];
}

// Block-wide max; every thread gets the result.
template <typename T> __device__ T block_max(T v) {
    assert_whole_warps();
    if (blockDim.x == 1) return v;
    __shared__ T warp_max[RG_WARPS];
    for (int o = 16; o > 0; o >>= 1) {
        T other = __shfl_down_sync(0xffffffff, v, o);
        v = other > v ? other : v;
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();
    if (lane == 0) warp_max[warp] = v;
    __syncthreads();
    int warps = (blockDim.x + 31) >> 5;
    if (warp == 0) {
        v = lane < warps ? warp_max[lane] : warp_max[0];
        for (int o = 16; o > 0; o >>= 1) {
            T other = __shfl_down_sync(0xffffffff, v, o);
            v = other > v ? other : v;
        }
        if (lane == 0) warp_max[0] = v;
    }
    __syncthreads();
    return warp_max[0];
}

#endif // RUSTGRAD_COMMON_CUH
