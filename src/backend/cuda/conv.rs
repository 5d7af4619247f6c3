//! Launches of `kernels/conv.cu`: im2col and col2im (`F.unfold`/`F.fold`).

use super::buffer::CudaBuffer;
use super::compile::Source;
use super::ops::{arg, elementwise, suffix};
use crate::backend::Im2Col;
use crate::error::Result;

/// Launches `{family}_{dtype}` over `total` output elements with the geometry's arguments.
fn launch(
    family: &str,
    src: &CudaBuffer,
    g: &Im2Col,
    out: &CudaBuffer,
    total: usize,
) -> Result<()> {
    let i = |v: usize| v as i64;
    let dims = [
        i(total),
        i(g.size[0]),
        i(g.size[1]),
        i(g.kernel[0]),
        i(g.kernel[1]),
        i(g.dilation[0]),
        i(g.dilation[1]),
        i(g.padding[0]),
        i(g.padding[1]),
        i(g.stride[0]),
        i(g.stride[1]),
        i(g.out[0]),
        i(g.out[1]),
    ];
    let (sp, op) = (src.ptr_at(g.offset), out.ptr());
    let mut params = vec![arg(&dims[0]), arg(&sp)];
    params.extend(dims[1..].iter().map(arg));
    params.push(arg(&op));
    elementwise(
        out.device(),
        Source::Conv,
        &format!("{family}_{}", suffix(out.dtype())),
        total,
        &mut params,
    )
}

/// The columns `[planes, kh * kw, oh * ow]` of the images in `x`.
pub fn im2col(x: &CudaBuffer, g: &Im2Col) -> Result<CudaBuffer> {
    let total = g.planes * g.kernel[0] * g.kernel[1] * g.out[0] * g.out[1];
    let out = CudaBuffer::alloc(x.device(), x.dtype(), total)?;
    launch("im2col", x, g, &out, total)?;
    Ok(out)
}

/// The images `[planes, h, w]` that sum the columns in `c`.
pub fn col2im(c: &CudaBuffer, g: &Im2Col) -> Result<CudaBuffer> {
    let total = g.planes * g.size[0] * g.size[1];
    let out = CudaBuffer::alloc(c.device(), c.dtype(), total)?;
    launch("col2im", c, g, &out, total)?;
    Ok(out)
}
