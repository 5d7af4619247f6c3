//! `nll_loss` of class-index targets without class weights, as PyTorch's nodes: the loss is one
//! `NllLossBackward0` node; its gradient is one `NllLossBackwardBackward0` node over the
//! incoming gradient and the input, linear in the former (its own gradient is `nll_loss` of the
//! incoming one again) and constant in the latter. Weighted losses, targets equal to
//! `ignore_index` and images (`NllLoss2d`) stay with `nn.functional`'s general composite.

use std::sync::Arc;

use super::{constant, record, Grads};
use crate::autograd::{SavedVar, Var};
use crate::bail;
use crate::error::Result;
use crate::tensor::{BinaryOp, DType, Layout, Tensor, UnaryOp};

/// How the per-row losses are combined (PyTorch's `reduction`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    None,
    Mean,
    Sum,
}

/// The picked elements of an `(M, C)` (or unbatched `(C,)`) input: `row * C + target`.
#[derive(Debug)]
pub struct NllRows {
    flat_index: Vec<usize>,
    /// The input's shape: `[M, C]`, or `[C]` unbatched (one row, a 0-d loss).
    shape: Vec<usize>,
    /// The int64 targets, saved by the node as PyTorch's `_saved_target`.
    target: Tensor,
}

impl NllRows {
    /// The rows of `input_shape` (`[M, C]` with a `[M]` target, or `[C]` with a 0-d one)
    /// picked by `target` (int64 or uint8). None when a target equals `ignore_index`, or for
    /// other shapes and dtypes (the general path then checks them and gives PyTorch's errors);
    /// a target outside `[0, C)` is PyTorch's IndexError.
    pub fn new(input_shape: &[usize], target: &Tensor, ignore_index: i64) -> Result<Option<Self>> {
        let (rows, classes) = match (input_shape, target.shape()) {
            (&[m, c], &[n]) if m == n => (m, c),
            (&[c], &[]) => (1, c),
            _ => return Ok(None),
        };
        if !matches!(target.dtype(), DType::I64 | DType::U8) || rows == 0 {
            return Ok(None);
        }
        let targets = target.index_values()?;
        if targets.contains(&ignore_index) {
            return Ok(None);
        }
        let (low, high) = targets
            .iter()
            .fold((i64::MAX, i64::MIN), |(lo, hi), &t| (lo.min(t), hi.max(t)));
        if low < 0 || high >= classes as i64 {
            bail!(
                Index,
                "Target {} is out of bounds.",
                if low < 0 { low } else { high }
            );
        }
        let flat_index = targets
            .iter()
            .enumerate()
            .map(|(row, &t)| row * classes + t as usize)
            .collect();
        Ok(Some(NllRows {
            flat_index,
            shape: input_shape.to_vec(),
            target: target.cast(DType::I64)?,
        }))
    }

    fn rows(&self) -> usize {
        self.flat_index.len()
    }
}

/// `t` (any layout) as a contiguous tensor of `shape` (same element count): a view when `t`
/// is contiguous, else a copy.
fn reshaped(t: &Tensor, shape: &[usize]) -> Result<Tensor> {
    let t = t.contiguous()?;
    let mut l = Layout::contiguous(shape);
    l.offset = t.layout().offset;
    Ok(t.with_layout(l))
}

/// The loss of `x` (log-probabilities of `rows.shape`) at the targets of `rows`: `-x[i, t[i]]`
/// per row, then summed, averaged over the rows, or kept (shape `[M]`, `[]` unbatched).
pub fn nll_loss(x: &Var, rows: Arc<NllRows>, reduction: Reduction) -> Result<Var> {
    let out = nll_forward(&x.tensor(), &rows, reduction)?;
    let saved = |_: &Tensor| {
        vec![
            SavedVar::input(x),
            SavedVar::input(&constant(rows.target.clone())),
        ]
    };
    let r = rows.clone();
    Ok(record(
        out,
        &[x],
        "NllLossBackward0",
        saved,
        move |g, s, _| -> Result<Grads> {
            Ok(vec![Some(nll_loss_backward(
                g,
                &s[0],
                r.clone(),
                reduction,
            )?)])
        },
    ))
}

fn nll_forward(x: &Tensor, rows: &NllRows, reduction: Reduction) -> Result<Tensor> {
    let picked = reshaped(x, &[x.numel()])?.index_select(0, &rows.flat_index)?;
    let per_row = picked.unary(UnaryOp::Neg)?;
    match reduction {
        Reduction::None => {
            let shape: &[usize] = if rows.shape.len() == 1 {
                &[]
            } else {
                &rows.shape[..1]
            };
            reshaped(&per_row, shape)
        }
        Reduction::Sum => per_row.sum_dims(&[0], false),
        Reduction::Mean => per_row.sum_dims(&[0], false)?.binary(
            BinaryOp::Div,
            &Tensor::scalar(rows.rows() as f64, x.dtype()).into_wrapped_number(),
        ),
    }
}

/// The gradient of [`nll_loss`] with respect to `x` given the loss's gradient `g`:
/// `-g` (per row, or over the row count for a mean) at each row's target, 0 elsewhere.
fn nll_loss_backward(g: &Var, x: &Var, rows: Arc<NllRows>, reduction: Reduction) -> Result<Var> {
    let gt = g.tensor();
    let per_row = match reduction {
        Reduction::None => reshaped(&gt, &[rows.rows()])?,
        Reduction::Sum => gt,
        Reduction::Mean => gt.binary(
            BinaryOp::Div,
            &Tensor::scalar(rows.rows() as f64, gt.dtype()).into_wrapped_number(),
        )?,
    };
    let per_row = per_row.unary(UnaryOp::Neg)?;
    let vals = if per_row.ndim() == 0 {
        // (one value for every row: sum and mean)
        let mut l = Layout::contiguous(&[rows.rows()]);
        l.strides[0] = 0;
        l.offset = per_row.layout().offset;
        per_row.with_layout(l)
    } else {
        per_row
    };
    let numel = rows.shape.iter().product::<usize>();
    let flat = vals.index_add_into_zeros(0, &rows.flat_index, &[numel])?;
    let out = reshaped(&flat, &rows.shape)?;
    let r = rows.clone();
    Ok(record(
        out,
        &[g, x],
        "NllLossBackwardBackward0",
        |_: &Tensor| Vec::new(),
        move |gg, _, _| -> Result<Grads> {
            // Linear in `g`: its slope is nll_loss of the incoming gradient; none in `x`.
            let zeros = Tensor::full_on(&r.shape, 0.0, gg.dtype(), gg.tensor().device())?;
            Ok(vec![
                Some(nll_loss(gg, r.clone(), reduction)?),
                Some(constant(zeros)),
            ])
        },
    ))
}
