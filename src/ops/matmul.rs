//! Matrix products: `dot`, `mv`, `mm`, batched `bmm`, and `matmul` that picks among them.

use super::reduce::sum_to;
use super::shape::{expand, squeeze_named, t, transpose, unsafe_view, unsqueeze};
use super::{mul, record, scalar_like, Grads};
use crate::autograd::{SavedVar, Var};
use crate::bail;
use crate::error::Result;
use crate::tensor::layout::{broadcast_shapes, shape_str};
use crate::tensor::layout::{Shape, Strides};
use crate::tensor::{Layout, Scalar, Tensor};

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
        // (each of PyTorch's kernels words it its own way)
        let (sa, sb) = (da.scalar_name(), db.scalar_name());
        match kernel {
            "dot" => bail!(
                Runtime,
                "dot : expected both vectors to have same dtype, but found {sa} and {sb}"
            ),
            "bmm" => bail!(Runtime, "expected scalar type {sa} but found {sb}"),
            "addmv_impl_cpu" => bail!(
                Runtime,
                "addmv input tensors must have the same dtype, but got {sb}, {sa}, and {sb}"
            ),
            _ => bail!(
                Runtime,
                "expected m1 and m2 to have the same dtype, but got: {} != {}",
                da.c_name(),
                db.c_name()
            ),
        }
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

/// `v * s`, or `v` itself when `s` is 1 (PyTorch's `maybe_multiply`: no node for a scale of 1).
fn maybe_multiply(v: &Var, s: Scalar) -> Result<Var> {
    if s.to_f64() == 1.0 {
        Ok(v.clone())
    } else {
        mul(v, &scalar_like(s, v.dtype()))
    }
}

/// The fused products: `addmm` of matrices, `baddbmm` of batches of them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fused {
    Addmm,
    Baddbmm,
}

impl Fused {
    fn node_name(self) -> &'static str {
        match self {
            Fused::Addmm => "AddmmBackward0",
            Fused::Baddbmm => "BaddbmmBackward0",
        }
    }

    /// The kernel PyTorch's dtype errors name.
    fn kernel_name(self) -> &'static str {
        match self {
            Fused::Addmm => "addmm_impl_cpu_",
            Fused::Baddbmm => "baddbmm",
        }
    }
}

/// `beta * input + alpha * (a @ b)` (`mm` or `bmm` as `fused` says), `input` broadcast to
/// its shape: one pass on the backends that fuse it (gemm and cuBLAS accumulate onto
/// `input`'s copy). `beta == 0` ignores `input` (NaN included); integer operands truncate the
/// scales, as PyTorch. The callers check shapes and dtypes.
fn scaled_product(
    [input, a, b]: [&Var; 3],
    beta: Scalar,
    alpha: Scalar,
    fused: Fused,
) -> Result<Var> {
    let (ti, ta, tb) = (input.tensor(), a.tensor(), b.tensor());
    let products = ta.numel().saturating_mul(tb.shape()[tb.ndim() - 1]);
    check_dtypes(a, b, fused.kernel_name(), products)?;
    let out = Tensor::batched_addmm(&ti, &ta, &tb, beta, alpha)?;
    let input_shape = Shape::from_slice(ti.shape());
    let batched = fused == Fused::Baddbmm;
    let product = move |x: &Var, y: &Var| if batched { bmm(x, y) } else { mm(x, y) };
    let tr = move |x: &Var| if batched { transpose(x, -1, -2) } else { t(x) };
    Ok(record(
        out,
        &[input, a, b],
        fused.node_name(),
        move |_| {
            vec![
                SavedVar::input_if(b.requires_grad(), a),
                SavedVar::input_if(a.requires_grad(), b),
            ]
        },
        move |g, s, n| -> Result<Grads> {
            Ok(vec![
                super::need(n[0], || sum_to(&maybe_multiply(g, beta)?, &input_shape))?,
                super::need(n[1], || maybe_multiply(&product(g, &tr(&s[1])?)?, alpha))?,
                super::need(n[2], || maybe_multiply(&product(&tr(&s[0])?, g)?, alpha))?,
            ])
        },
    ))
}

/// `beta * input + alpha * (mat1 @ mat2)` of two matrices (`nn.Linear`'s product).
pub fn addmm(input: &Var, mat1: &Var, mat2: &Var, beta: Scalar, alpha: Scalar) -> Result<Var> {
    for (name, m) in [("mat1", mat1), ("mat2", mat2)] {
        if m.tensor().ndim() != 2 {
            bail!(
                Runtime,
                "{name} must be a matrix, got {}-D tensor",
                m.tensor().ndim()
            );
        }
    }
    for (what, x) in [("self", input), ("mat1", mat1)] {
        if x.dtype() != mat2.dtype() {
            bail!(
                Runtime,
                "{what} and mat2 must have the same dtype, but got {} and {}",
                x.dtype().scalar_name(),
                mat2.dtype().scalar_name()
            );
        }
    }
    let (sa, sb) = (mat1.shape(), mat2.shape());
    if sa[1] != sb[0] {
        bail!(
            Runtime,
            "mat1 and mat2 shapes cannot be multiplied ({}x{} and {}x{})",
            sa[0],
            sa[1],
            sb[0],
            sb[1]
        );
    }
    scaled_product([input, mat1, mat2], beta, alpha, Fused::Addmm)
}

/// `beta * input + alpha * bmm(batch1, batch2)` of two `[b, m, k]`, `[b, k, n]` batches.
pub fn baddbmm(
    input: &Var,
    batch1: &Var,
    batch2: &Var,
    beta: Scalar,
    alpha: Scalar,
) -> Result<Var> {
    // PyTorch first expands `input` to the result's size, read as batch1's first two sizes
    // and batch2's third: a batch of too few dims is that read's IndexError, an input that
    // does not fit is the expand's error; the 3-D checks come after.
    let size = |m: &Var, dim: i64| -> Result<usize> {
        let shape = m.shape();
        if shape.is_empty() {
            bail!(
                Index,
                "dimension specified as {dim} but tensor has no dimensions"
            );
        }
        Ok(shape[crate::base::layout::wrap_dim(dim, shape.len())?])
    };
    let out = [size(batch1, 0)?, size(batch1, 1)?, size(batch2, 2)?];
    input.tensor().layout().expand(&out)?;
    for (name, m) in [("batch1", batch1), ("batch2", batch2)] {
        if m.tensor().ndim() != 3 {
            bail!(Runtime, "{name} must be a 3D tensor");
        }
    }
    let (sa, sb) = (batch1.shape(), batch2.shape());
    if sb[0] != sa[0] || sb[1] != sa[2] {
        bail!(
            Runtime,
            "Expected size for first two dimensions of batch2 tensor to be: [{}, {}] but got: \
             [{}, {}].",
            sa[0],
            sa[2],
            sb[0],
            sb[1]
        );
    }
    let dtypes = [input.dtype(), batch1.dtype(), batch2.dtype()];
    if dtypes[0] != dtypes[1] || dtypes[1] != dtypes[2] {
        bail!(
            Runtime,
            "Input dtypes must be the same, got: input {}, batch1: {}, batch2: {}",
            dtypes[0].c_name(),
            dtypes[1].c_name(),
            dtypes[2].c_name()
        );
    }
    scaled_product([input, batch1, batch2], beta, alpha, Fused::Baddbmm)
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
        (n1, n2) if n1 >= 3 && n2 <= 2 && should_fold(a, b) => {
            // `[..., m, k] @ [k, n]` as one `[... * m, k] @ [k, n]` product (PyTorch's fold):
            // one large product instead of a batch of small ones, and the weight's gradient a
            // single product too.
            let k = sa[n1 - 1];
            let rows = crate::tensor::layout::checked_numel(&sa[..n1 - 1])?;
            let folded = super::shape::reshape(a, &[rows as i64, k as i64])?;
            let mut shape = sa[..n1 - 1].to_vec();
            let out = if n2 == 2 {
                shape.push(sb[1]);
                mm(&folded, b)?
            } else {
                mv(&folded, b)?
            };
            unsafe_view(&out, &shape)
        }
        (n1, n2) if n1 <= 2 && n2 >= 3 && should_fold_transposed(a, b) => {
            // `[k] @ [..., k, n]` or `[m, k] @ [..., k, n]` through `b`'s transpose folded into
            // one matrix (PyTorch's transposed fold; the reshape copies `b.mT`).
            let bt = transpose(b, -1, -2)?;
            let st = bt.shape();
            let k = st[n2 - 1];
            let rows = crate::tensor::layout::checked_numel(&st[..n2 - 1])?;
            let folded = super::shape::reshape(&bt, &[rows as i64, k as i64])?;
            let mut shape = st[..n2 - 1].to_vec();
            if n1 == 2 {
                let at = t(a)?;
                shape.push(at.shape()[1]);
                let out = unsafe_view(&mm(&folded, &at)?, &shape)?;
                super::shape::contiguous(&transpose(&out, -1, -2)?)
            } else {
                unsafe_view(&mv(&folded, a)?, &shape)
            }
        }
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
            let products = batch.iter().product::<usize>() * m * k * n;
            // PyTorch's batched kernel is picked by the first operand's dtype before the
            // second one's is compared: bool @ float is its NotImplementedError.
            if a.dtype() == crate::tensor::DType::Bool && products > 0 {
                super::refuse_dtype("bmm", a.dtype())?;
            }
            check_dtypes(a, b, "bmm", products)?;
            let target = |r: usize, c: usize| -> Vec<i64> {
                batch
                    .iter()
                    .map(|&d| d as i64)
                    .chain([r as i64, c as i64])
                    .collect()
            };
            // An operand broadcast along the batch dims is expanded, and copied where PyTorch's
            // `reshape` of the expansion into one batch dim copies (it cannot be viewed so):
            // `bmm` then saves the copy, so writing the operand before backward raises no
            // version error, as in PyTorch; where the reshape is a view, it does.
            let batch_numel = batch.iter().product::<usize>();
            let broadcast = |x: Var, own: &[usize], shape: Vec<i64>| -> Result<Var> {
                if own == &batch[..] {
                    return Ok(x);
                }
                let expanded = expand(&x, &shape)?;
                let t = expanded.tensor();
                let folded = [
                    batch_numel,
                    t.shape()[t.ndim() - 2],
                    t.shape()[t.ndim() - 1],
                ];
                if t.layout().view(&folded).is_some() {
                    Ok(expanded)
                } else {
                    super::shape::contiguous(&expanded)
                }
            };
            let ea = broadcast(a2, &xa[..xa.len() - 2], target(m, k))?;
            let eb = broadcast(b2, &xb[..xb.len() - 2], target(k, n))?;
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

/// PyTorch's `should_fold` for a matrix or vector `a` times `b` of 3 or more dims (the fold
/// of `b`'s transpose): when `a` requires grad; never for a matrix `a` otherwise (the result
/// would need a transposing copy); else when `b.mT`'s leading dims merge without a copy.
fn should_fold_transposed(a: &Var, b: &Var) -> bool {
    if a.requires_grad() {
        return true;
    }
    if a.shape().len() == 2 {
        return false;
    }
    let tb = b.tensor();
    if tb.numel() == 0 {
        return true;
    }
    let n = tb.ndim();
    let mut shape = tb.shape().to_vec();
    let mut strides = tb.layout().strides.to_vec();
    shape.swap(n - 2, n - 1);
    strides.swap(n - 2, n - 1);
    (0..n - 2).all(|i| strides[i] == strides[i + 1] * shape[i + 1] as isize)
}

/// PyTorch's `should_fold` for `a` of 3 or more dims times a matrix or vector `b`: fold when
/// `b` requires grad (its gradient is then one product) or when `a`'s leading dims merge
/// into one without a copy.
fn should_fold(a: &Var, b: &Var) -> bool {
    if b.requires_grad() {
        return true;
    }
    let ta = a.tensor();
    if ta.numel() == 0 {
        return true;
    }
    let (shape, strides) = (ta.shape(), &ta.layout().strides);
    (0..shape.len() - 2).all(|i| strides[i] == strides[i + 1] * shape[i + 1] as isize)
}
