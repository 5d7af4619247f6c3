//! im2col and col2im (`F.unfold`/`F.fold`): each is the other's backward, so gradients of
//! any order follow.

use super::{nothing, record};
use crate::autograd::Var;
use crate::error::Result;
use crate::tensor::Window;

/// The sliding blocks of `[n, c, h, w]` as columns `[n, c * kh * kw, blocks]`.
pub fn im2col(x: &Var, win: Window) -> Result<Var> {
    let out = x.tensor().im2col(&win)?;
    let shape = x.shape();
    let size = [shape[2], shape[3]];
    Ok(record(
        out,
        &[x],
        "Im2ColBackward0",
        nothing,
        move |g, _, _| Ok(vec![Some(col2im(g, size, win)?)]),
    ))
}

/// Columns `[n, c * kh * kw, blocks]` summed into `[n, c, size...]` images.
pub fn col2im(x: &Var, size: [usize; 2], win: Window) -> Result<Var> {
    let out = x.tensor().col2im(size, &win)?;
    Ok(record(
        out,
        &[x],
        "Col2ImBackward0",
        nothing,
        move |g, _, _| Ok(vec![Some(im2col(g, win)?)]),
    ))
}
