// The CPU emulator's kernels: every kernel source compiled as C++ (see shim.h), and a table
// from kernel name to a function that unpacks `cuLaunchKernel`-style argument pointers.
#include "shim.h"

#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../kernels/common.cuh"
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
    FLOATS(K, sgd_step) FLOATS(K, adam_step)
};

} // namespace

// Runs kernel `name` over the whole grid; returns 0, or 1 when no kernel has that name.
extern "C" int rustgrad_emulator_launch(const char *name, void **params) {
    for (const Entry &e : KERNELS) {
        if (std::strcmp(e.name, name) == 0) {
            e.run(params);
            return 0;
        }
    }
    return 1;
}
