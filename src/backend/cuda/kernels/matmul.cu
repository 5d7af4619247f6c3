// Integer matrix products (floating ones go through cuBLAS): contiguous [batch, m, k] x
// [batch, k, n], wrapping like the CPU kernel.
#include "common.cuh"

extern "C" __global__ void matmul_i64(i64 batch, i64 m, i64 k, i64 n, const i64 *a, const i64 *b,
                                      i64 *out) {
    FOR_EACH(e, batch * m * n) {
        i64 col = e % n, rest = e / n;
        i64 row = rest % m, bi = rest / m;
        const i64 *ar = a + (bi * m + row) * k;
        const i64 *bc = b + bi * k * n + col;
        unsigned long long acc = 0;
        for (i64 j = 0; j < k; ++j) acc += (unsigned long long)ar[j] * (unsigned long long)bc[j * n];
        out[e] = (i64)acc;
    }
}
