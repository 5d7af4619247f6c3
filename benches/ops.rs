//! Criterion benches for the Rust core: per-op overhead on tiny tensors (forward and
//! backward), a 1024x1024 matmul with its backward, and a large elementwise chain.
//! Run: `cargo bench --bench ops` (side-by-side with PyTorch: `benches/compare.py`).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use rustgrad::autograd::{backward, GradModeGuard};
use rustgrad::tensor::{DType, Tensor};
use rustgrad::{ops, Var};

fn leaf(shape: &[usize], fill: f64, dtype: DType) -> Var {
    Var::new(Tensor::full(shape, fill, dtype).unwrap(), true)
}

/// 200 tiny ops (mul, add alternating) on 3-element tensors, then backward.
fn tiny_chain(c: &mut Criterion) {
    let x = leaf(&[3], 1.0, DType::F32);
    let w = Var::new(Tensor::full(&[3], 1.0001, DType::F32).unwrap(), false);
    c.bench_function("tiny chain 200 ops fwd+bwd (3 elements)", |b| {
        b.iter(|| {
            let mut y = x.clone();
            for i in 0..200 {
                y = if i % 2 == 0 {
                    ops::mul(&y, &w).unwrap()
                } else {
                    ops::add(&y, &w).unwrap()
                };
            }
            let s = ops::sum(&y).unwrap();
            backward(&[s], &[None], false, false, None).unwrap();
            x.set_grad(None);
        })
    });
    c.bench_function("tiny op forward only, no grad (3 elements)", |b| {
        let _off = GradModeGuard::new(false);
        b.iter(|| black_box(ops::mul(&x, &w).unwrap()))
    });
}

fn matmul_1024(c: &mut Criterion) {
    let a = leaf(&[1024, 1024], 0.5, DType::F32);
    let b = leaf(&[1024, 1024], 0.25, DType::F32);
    let mut group = c.benchmark_group("matmul");
    group.sample_size(10);
    group.bench_function("1024x1024 f32 forward", |bch| {
        let _off = GradModeGuard::new(false);
        bch.iter(|| black_box(ops::matmul(&a, &b).unwrap()))
    });
    group.bench_function("1024x1024 f32 forward+backward", |bch| {
        bch.iter(|| {
            let y = ops::sum(&ops::matmul(&a, &b).unwrap()).unwrap();
            backward(&[y], &[None], false, false, None).unwrap();
            a.set_grad(None);
            b.set_grad(None);
        })
    });
    group.finish();
}

fn elementwise_4m(c: &mut Criterion) {
    let n = 1 << 22;
    let x = leaf(&[n], 0.5, DType::F32);
    let w = Var::new(Tensor::full(&[n], 0.9, DType::F32).unwrap(), false);
    let mut group = c.benchmark_group("elementwise");
    group.sample_size(10);
    group.bench_function("4M f32 mul/add/exp/sum forward+backward", |bch| {
        bch.iter(|| {
            let y = ops::exp(&ops::add(&ops::mul(&x, &w).unwrap(), &w).unwrap()).unwrap();
            backward(&[ops::sum(&y).unwrap()], &[None], false, false, None).unwrap();
            x.set_grad(None);
        })
    });
    group.finish();
}

criterion_group!(benches, tiny_chain, matmul_1024, elementwise_4m);
criterion_main!(benches);
