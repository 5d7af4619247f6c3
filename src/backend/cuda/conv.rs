//! Launches of `kernels/conv.cu`: im2col and col2im (`F.unfold`/`F.fold`) and pooling.

use super::buffer::CudaBuffer;
use super::compile::Source;
use super::ops::{arg, elementwise, suffix};
use crate::backend::{AvgDivisor, Windows2d};
use crate::base::DType;
use crate::error::Result;

/// Launches `{family}_{dtype}` over `total` elements: its arguments are the count, the
/// `inputs`' addresses, the geometry, `extra`, and the `outputs`' addresses.
fn launch(
    family: &str,
    g: &Windows2d,
    total: usize,
    inputs: &[u64],
    extra: &[i64],
    outputs: &[&CudaBuffer],
) -> Result<()> {
    let i = |v: usize| v as i64;
    let total = i(total);
    let dims = [
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
    let out_ptrs: Vec<u64> = outputs.iter().map(|o| o.ptr()).collect();
    let mut params = vec![arg(&total)];
    params.extend(inputs.iter().map(arg));
    params.extend(dims.iter().map(arg));
    params.extend(extra.iter().map(arg));
    params.extend(out_ptrs.iter().map(arg));
    let first = outputs[0];
    elementwise(
        first.device(),
        Source::Conv,
        &format!("{family}_{}", suffix(first.dtype())),
        total as usize,
        &mut params,
    )
}

/// The rule and fixed divisor arguments of the average-pooling kernels.
fn divisor_args(divisor: AvgDivisor) -> [i64; 2] {
    match divisor {
        AvgDivisor::IncludePad => [0, 0],
        AvgDivisor::ExcludePad => [1, 0],
        AvgDivisor::Fixed(d) => [2, d],
    }
}

/// The columns `[planes, kh * kw, oh * ow]` of the images in `x`.
pub fn im2col(x: &CudaBuffer, g: &Windows2d) -> Result<CudaBuffer> {
    let total = g.planes * g.kernel[0] * g.kernel[1] * g.out[0] * g.out[1];
    let out = CudaBuffer::alloc(x.device(), x.dtype(), total)?;
    launch("im2col", g, total, &[x.ptr_at(g.offset)], &[], &[&out])?;
    Ok(out)
}

/// The images `[planes, h, w]` that sum the columns in `c`.
pub fn col2im(c: &CudaBuffer, g: &Windows2d) -> Result<CudaBuffer> {
    let total = g.planes * g.size[0] * g.size[1];
    let out = CudaBuffer::alloc(c.device(), c.dtype(), total)?;
    launch("col2im", g, total, &[c.ptr_at(g.offset)], &[], &[&out])?;
    Ok(out)
}

/// The maxima of the windows and their positions in the plane (int64).
pub fn max_pool2d(x: &CudaBuffer, g: &Windows2d) -> Result<(CudaBuffer, CudaBuffer)> {
    let total = g.planes * g.out[0] * g.out[1];
    let values = CudaBuffer::alloc(x.device(), x.dtype(), total)?;
    let indices = CudaBuffer::alloc(x.device(), DType::I64, total)?;
    let inputs = [x.ptr_at(g.offset)];
    launch("max_pool2d", g, total, &inputs, &[], &[&values, &indices])?;
    Ok((values, indices))
}

/// The images' gradient: each window's gradient at its maximum's position.
pub fn max_pool2d_backward(
    grad: &CudaBuffer,
    (indices, at): (&CudaBuffer, usize),
    g: &Windows2d,
) -> Result<CudaBuffer> {
    let total = g.planes * g.size[0] * g.size[1];
    let out = CudaBuffer::alloc(grad.device(), grad.dtype(), total)?;
    let inputs = [grad.ptr_at(g.offset), indices.ptr_at(at)];
    launch("max_pool2d_backward", g, total, &inputs, &[], &[&out])?;
    Ok(out)
}

/// The mean of each window.
pub fn avg_pool2d(x: &CudaBuffer, g: &Windows2d, divisor: AvgDivisor) -> Result<CudaBuffer> {
    let total = g.planes * g.out[0] * g.out[1];
    let out = CudaBuffer::alloc(x.device(), x.dtype(), total)?;
    let inputs = [x.ptr_at(g.offset)];
    launch(
        "avg_pool2d",
        g,
        total,
        &inputs,
        &divisor_args(divisor),
        &[&out],
    )?;
    Ok(out)
}

/// The images' gradient: each window's share added to its pixels.
pub fn avg_pool2d_backward(
    grad: &CudaBuffer,
    g: &Windows2d,
    divisor: AvgDivisor,
) -> Result<CudaBuffer> {
    let total = g.planes * g.size[0] * g.size[1];
    let out = CudaBuffer::alloc(grad.device(), grad.dtype(), total)?;
    let inputs = [grad.ptr_at(g.offset)];
    launch(
        "avg_pool2d_backward",
        g,
        total,
        &inputs,
        &divisor_args(divisor),
        &[&out],
    )?;
    Ok(out)
}
