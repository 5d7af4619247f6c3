// The CPU emulator's kernels: every kernel source compiled as C++ (see shim.h), and a table
// from kernel name to a function that unpacks `cuLaunchKernel`-style argument pointers.
#include "shim.h"

#include <cstdlib>
#include <cstring>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../kernels/common.cuh"
#include "../kernels/conv.cu"
#include "../kernels/elementwise.cu"
#include "../kernels/index.cu"
#include "../kernels/matmul.cu"
#include "../kernels/optim.cu"
#include "../kernels/random.cu"
#include "../kernels/reduce.cu"

namespace {

template <typename... A, std::size_t... I>
void call_with(void (*f)(A...), void **params, std::index_sequence<I...>) {
    f(*static_cast<std::remove_cv_t<std::remove_reference_t<A>> *>(params[I])...);
}

template <typename... A> void call(void (*f)(A...), void **params) {
    call_with(f, params, std::index_sequence_for<A...>{});
}

struct Entry {
    const char *name;
    void (*run)(void **);
};

#define K(name) {#name, [](void **p) { call(name, p); }},
#define FLOATS(F, prefix) F(prefix##_f32) F(prefix##_f64)
#define NUMS(F, prefix) F(prefix##_f32) F(prefix##_f64) F(prefix##_i64)
#define ALL(F, prefix) F(prefix##_f32) F(prefix##_f64) F(prefix##_i64) F(prefix##_bool)
#define CASTS_FROM(S) K(cast_##S##_f32) K(cast_##S##_f64) K(cast_##S##_i64) K(cast_##S##_bool)

const Entry KERNELS[] = {
    FLOATS(K, unary) K(unary_i64)
    FLOATS(K, activation_backward)
    NUMS(K, binary) NUMS(K, add_into)
    ALL(K, compare) ALL(K, where) ALL(K, copy) ALL(K, fill) ALL(K, put)
    CASTS_FROM(f32) CASTS_FROM(f64) CASTS_FROM(i64) CASTS_FROM(bool)
    NUMS(K, sum_rows) NUMS(K, sum_rows_small) NUMS(K, sum_cols)
    NUMS(K, extreme_rows) NUMS(K, extreme_rows_small)
    FLOATS(K, softmax_rows) FLOATS(K, softmax_rows_small)
    ALL(K, index_select) NUMS(K, index_add) NUMS(K, one_hot)
    K(matmul_i64) K(write_bytes)
    FLOATS(K, uniform) FLOATS(K, normal)
    FLOATS(K, optim_step)
    FLOATS(K, im2col) FLOATS(K, col2im)
    FLOATS(K, max_pool2d) FLOATS(K, max_pool2d_backward)
    FLOATS(K, avg_pool2d) FLOATS(K, avg_pool2d_backward)
};

} // namespace

namespace {

// Threads per block to emulate (RUSTGRAD_EMULATOR_THREADS; 1 unless set).
unsigned emulated_threads() {
    static const unsigned threads = [] {
        const char *v = std::getenv("RUSTGRAD_EMULATOR_THREADS");
        unsigned n = v ? (unsigned)std::strtoul(v, nullptr, 10) : 1;
        return n >= 32 ? std::min(1024u, n / 32 * 32) : 1u;
    }();
    return threads;
}

// Runs `run` as `blocks` blocks of `threads` threads, one block after another.
void run_blocks(void (*run)(void **), void **params, unsigned blocks, unsigned threads) {
    blockDim.x = threads;
    gridDim.x = blocks;
    for (unsigned b = 0; b < blocks; ++b) {
        std::barrier<> block_barrier(threads);
        std::vector<std::unique_ptr<std::barrier<>>> warps;
        for (unsigned w = 0; w < (threads + 31) / 32; ++w) {
            warps.push_back(std::make_unique<std::barrier<>>(std::min(32u, threads - 32 * w)));
            emulated_warp_barriers[w] = warps.back().get();
        }
        emulated_block_barrier = &block_barrier;
        std::vector<std::thread> pool;
        for (unsigned t = 0; t < threads; ++t) {
            pool.emplace_back([=] {
                blockIdx.x = b;
                threadIdx.x = t;
                run(params);
            });
        }
        for (std::thread &t : pool) t.join();
    }
}

} // namespace

// Runs kernel `name` over the whole grid (see shim.h for how many threads); returns 0, or 1
// when no kernel has that name.
extern "C" int rustgrad_emulator_launch(const char *name, void **params, unsigned grid,
                                        unsigned block) {
    for (const Entry &e : KERNELS) {
        if (std::strcmp(e.name, name) == 0) {
            unsigned threads = std::min(block, emulated_threads());
            if (threads < 32) {
                run_blocks(e.run, params, 1, 1);
            } else {
                run_blocks(e.run, params, std::min(grid, 3u), threads / 32 * 32);
            }
            return 0;
        }
    }
    return 1;
}
