//! Read access to the elements of host tensors, for the kernels that take several at once.

use super::storage::Memory;
use super::Tensor;
use crate::backend::Float;
use crate::error::Result;
use parking_lot::RwLockReadGuard;

/// Contiguous copies of host tensors and read access to their memory.
pub(super) struct HostViews {
    tensors: Vec<Tensor>,
}

impl HostViews {
    pub(super) fn new(tensors: &[&Tensor]) -> Result<HostViews> {
        crate::compile::note_break("a kernel outside the recorded ones ran (conv2d, LSTM)");
        let tensors = tensors
            .iter()
            .map(|t| {
                if t.is_contiguous() {
                    Ok((*t).clone())
                } else {
                    t.contiguous()
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(HostViews { tensors })
    }

    pub(super) fn guards(&self) -> Vec<RwLockReadGuard<'_, Memory>> {
        self.tensors.iter().map(|t| t.storage().read()).collect()
    }
}

/// Each tensor's elements, read through its guard.
pub(super) fn slices<'a, T: Float>(
    views: &'a HostViews,
    guards: &'a [RwLockReadGuard<'a, Memory>],
) -> Result<Vec<&'a [T]>> {
    views
        .tensors
        .iter()
        .zip(guards)
        .map(|(t, g)| Ok(&T::slice(g.host()?)[t.layout().offset..][..t.numel()]))
        .collect()
}
