//! Matrix products: `dot`, `mv`, `mm`, batched `bmm`, and `matmul` that picks among them.

use super::shape::{expand, squeeze_named, t, transpose, unsafe_view, unsqueeze};
use super::{mul, record, Grads};
use crate::autograd::{SavedVar, Var};
use crate::bail;
use crate::error::Result;
use crate::tensor::layout::{broadcast_shapes, shape_str};
use crate::tensor::layout::{Shape, Strides};
use crate::tensor::{Layout, Tensor};

fn saved_both<'a>(a: &'a Var, b: &'a Var) -> impl FnOnce(&Tensor) -> Vec<SavedVar> + 'a {
    // Each input's gradient reads only the other (as PyTorch saves them).
    move |_| {
        vec![
            SavedVar::input_if(b.requires_grad(), a),
            SavedVar::input_if(a.requires_grad(), b),
        ]
    }
}

/// Operands of one dtype, which has a kernel: PyTorch has no bool products (`kernel` is its
/// kernel's name, which its error message shows) but only reaches the kernel when there are
/// products to compute (`products`: the result's elements times the inner size).
fn check_dtypes(a: &Var, b: &Var, kernel: &str, products: usize) -> Result<()> {
    let (da, db) = (a.dtype(), b.dtype());
    if da != db {
        bail!(
            Runtime,
            "expected m1 and m2 to have the same dtype, but got: {} != {}",
            da.name(),
            db.name()
        );
    }
    if da == crate::tensor::DType::Bool && products > 0 {
        super::refuse_dtype(kernel, da)?;
    }
    Ok(())
}

/// `[m, k] @ [k, n]`.
pub fn mm(a: &Var, b: &Var) -> Result<Var> {
    let (ta, tb) = (a.tensor(), b.tensor());
    if ta.ndim() != 2 || tb.ndim() != 2 {
        bail!(Runtime, "self must be a matrix");
    }
    if ta.shape()[1] != tb.shape()[0] {
        bail!(
            Runtime,
            "mat1 and mat2 shapes cannot be multiplied ({}x{} and {}x{})",
            ta.shape()[0],
            ta.shape()[1],
            tb.shape()[0],
            tb.shape()[1]
        );
    }
    let products = ta.shape()[0] * ta.shape()[1] * tb.shape()[1];
    check_dtypes(a, b, "addmm_impl_cpu_", products)?;
    let out = Tensor::batched_matmul(&ta, &tb);
    Ok(record(
        out?,
        &[a, b],
        "MmBackward0",
        saved_both(a, b),
        |g, s, n| -> Result<Grads> {
            Ok(vec![
                super::need(n[0], || mm(g, &t(&s[1])?))?,
                super::need(n[1], || mm(&t(&s[0])?, g))?,
            ])
        },
    ))
}

/// `[k] . [k]`.
pub fn dot(a: &Var, b: &Var) -> Result<Var> {
    let (ta, tb) = (a.tensor(), b.tensor());
    if ta.ndim() != 1 || tb.ndim() != 1 {
        bail!(
            Runtime,
            "1D tensors expected, but got {}D and {}D tensors",
            ta.ndim(),
            tb.ndim()
        );
    }
    if ta.numel() != tb.numel() {
        bail!(
            Runtime,
            "inconsistent tensor size, expected tensor [{}] and src [{}] to have the same number \
             of elements, but got {} and {} elements respectively",
            ta.numel(),
            tb.numel(),
            ta.numel(),
            tb.numel()
        );
    }
    check_dtypes(a, b, "dot", 1)?;
    let k = ta.numel();
    let row = ta.with_layout(Layout {
        shape: Shape::from_slice(&[1, k]),
        strides: Strides::from_slice(&[0, ta.layout().strides[0]]),
        offset: ta.layout().offset,
    });
    let col = tb.with_layout(Layout {
        shape: Shape::from_slice(&[k, 1]),
        strides: Strides::from_slice(&[tb.layout().strides[0], 0]),
        offset: tb.layout().offset,
    });
    let out = Tensor::batched_matmul(&row, &col);
    let out = out?.with_layout(Layout::contiguous(&[]));
    Ok(record(
        out,
        &[a, b],
        "DotBackward0",
        saved_both(a, b),
        |g, s, n| -> Result<Grads> {
            Ok(vec![
                super::need(n[0], || mul(g, &s[1]))?,
                super::need(n[1], || mul(g, &s[0]))?,
            ])
        },
    ))
}

/// `[m, k] @ [k]`.
pub fn mv(a: &Var, v: &Var) -> Result<Var> {
    let (ta, tv) = (a.tensor(), v.tensor());
    if ta.shape()[1] != tv.shape()[0] {
        bail!(
            Runtime,
            "size mismatch, got input ({}), mat ({}x{}), vec ({})",
            ta.shape()[0],
            ta.shape()[0],
            ta.shape()[1],
            tv.shape()[0]
        );
    }
    check_dtypes(a, v, "addmv_impl_cpu", ta.numel())?;
    let col = tv.with_layout(tv.layout().unsqueeze(1));
    let out = Tensor::batched_matmul(&ta, &col);
    let out = out?.with_layout(Layout::contiguous(&[ta.shape()[0]]));
    Ok(record(
        out,
        &[a, v],
        "MvBackward0",
        saved_both(a, v),
        |g, s, n| -> Result<Grads> {
            Ok(vec![
                // outer(g, v)
                super::need(n[0], || mm(&unsqueeze(g, 1)?, &unsqueeze(&s[1], 0)?))?,
                super::need(n[1], || mv(&t(&s[0])?, g))?,
            ])
        },
    ))
}

/// Batched product of `[..b, m, k]` and `[..b, k, n]` with equal batch shapes.
pub fn bmm(a: &Var, b: &Var) -> Result<Var> {
    let out = Tensor::batched_matmul(&a.tensor(), &b.tensor());
    Ok(record(
        out?,
        &[a, b],
        "BmmBackward0",
        saved_both(a, b),
        |g, s, n| -> Result<Grads> {
            Ok(vec![
                super::need(n[0], || bmm(g, &transpose(&s[1], -1, -2)?))?,
                super::need(n[1], || bmm(&transpose(&s[0], -1, -2)?, g))?,
            ])
        },
    ))
}

/// `a @ b` with NumPy's matmul rules (1-D operands promoted and squeezed back; batch
/// dimensions broadcast).
pub fn matmul(a: &Var, b: &Var) -> Result<Var> {
    let (sa, sb) = (a.shape(), b.shape());
    match (sa.len(), sb.len()) {
        (0, _) | (_, 0) => bail!(
            Runtime,
            "both arguments to matmul need to be at least 1D, but they are {}D and {}D",
            sa.len(),
            sb.len()
        ),
        (1, 1) => dot(a, b),
        (2, 1) => mv(a, b),
        (1, 2) => squeeze_named(&mm(&unsqueeze(a, 0)?, b)?, &[0], "SqueezeBackward4"),
        (2, 2) => mm(a, b),
        _ => {
            let a2 = if sa.len() == 1 {
                unsqueeze(a, 0)?
            } else {
                a.clone()
            };
            let b2 = if sb.len() == 1 {
                unsqueeze(b, -1)?
            } else {
                b.clone()
            };
            let (xa, xb) = (a2.shape(), b2.shape());
            let (m, k, k2, n) = (
                xa[xa.len() - 2],
                xa[xa.len() - 1],
                xb[xb.len() - 2],
                xb[xb.len() - 1],
            );
            if k != k2 {
                bail!(
                    Runtime,
                    "Expected size for first two dimensions of batch2 tensor to be: {} but got: {}.",
                    shape_str(&[xa[..xa.len() - 2].iter().product::<usize>(), k]),
                    shape_str(&[xb[..xb.len() - 2].iter().product::<usize>(), k2])
                );
            }
            let batch = broadcast_shapes(&xa[..xa.len() - 2], &xb[..xb.len() - 2])?;
            check_dtypes(a, b, "bmm", batch.iter().product::<usize>() * m * k * n)?;
            let target = |r: usize, c: usize| -> Vec<i64> {
                batch
                    .iter()
                    .map(|&d| d as i64)
                    .chain([r as i64, c as i64])
                    .collect()
            };
            let ea = if xa[..xa.len() - 2] == batch[..] {
                a2
            } else {
                expand(&a2, &target(m, k))?
            };
            let eb = if xb[..xb.len() - 2] == batch[..] {
                b2
            } else {
                expand(&b2, &target(k, n))?
            };
            let mut out = bmm(&ea, &eb)?;
            let mut shape: Vec<usize> = batch.to_vec();
            if sa.len() > 1 {
                shape.push(m);
            }
            if sb.len() > 1 {
                shape.push(n);
            }
            out = unsafe_view(&out, &shape)?;
            Ok(out)
        }
    }
}
