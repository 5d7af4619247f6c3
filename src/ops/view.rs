//! Helpers for writes through views: where a view's elements sit in its base, and the
//! `CopySlices` node that records a write into part of a tensor.

use std::sync::Arc;

use super::index::index_select;
use super::reduce::sum_to;
use super::shape::reshape;
use super::{nothing, record, Grads};
use crate::autograd::Var;
use crate::error::Result;
use crate::tensor::layout::numel;
use crate::tensor::{DType, Tensor};

/// Records `out` = `prev` with `value` (broadcast to `region_shape`) written at the flat
/// `positions`: the node PyTorch calls `CopySlices`.
pub(crate) fn copy_slices(
    out: Tensor,
    prev: &Var,
    value: &Var,
    positions: Arc<Vec<usize>>,
    region_shape: Vec<usize>,
) -> Var {
    let shape = prev.shape();
    let n = numel(&shape);
    let value_shape = value.shape();
    record(
        out,
        &[prev, value],
        "CopySlices",
        nothing,
        move |g, _, nd| -> Result<Grads> {
            let gprev = super::need(nd[0], || {
                let mut keep = vec![1.0f64; n];
                for &p in positions.iter() {
                    keep[p] = 0.0;
                }
                let keep = Tensor::from_f64s(&keep, &shape, DType::Bool);
                super::masked(g, keep.to_device(g.tensor().device())?)
            })?;
            let gval = super::need(nd[1], || {
                let flat = reshape(g, &[n as i64])?;
                let taken = index_select(&flat, 0, positions.to_vec())?;
                let r: Vec<i64> = region_shape.iter().map(|&d| d as i64).collect();
                sum_to(&reshape(&taken, &r)?, &value_shape)
            })?;
            Ok(vec![gprev, gval])
        },
    )
}

/// Where each element of `view` sits in `base` (row-major flat indices): both share storage.
pub(crate) fn view_positions(base: &Tensor, view: &Tensor) -> Vec<usize> {
    let offsets = base.layout().offsets();
    let len = offsets.iter().max().map_or(0, |m| m + 1);
    let mut index_of = vec![usize::MAX; len];
    for (i, &o) in offsets.iter().enumerate() {
        index_of[o] = i;
    }
    view.layout()
        .offsets()
        .into_iter()
        .map(|o| index_of.get(o).copied().unwrap_or(usize::MAX))
        .collect()
}
