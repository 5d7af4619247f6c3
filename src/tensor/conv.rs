//! im2col/col2im, convolution and pooling on tensors: the geometry checks (PyTorch's
//! messages for im2col/col2im) before the kernels.

use super::host::{slices, HostViews};
use super::storage::Memory;
use super::{checked_numel, Tensor};
use crate::backend::cpu::conv::{self, ConvShape};
use crate::backend::{AvgDivisor, Float, Windows2d};
use crate::bail;
use crate::base::buffer::check_host_alloc;
use crate::base::{DType, Device};
use crate::error::Result;
use parking_lot::RwLockReadGuard;

/// A sliding window over two spatial dims (`F.unfold`'s arguments).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub kernel: [usize; 2],
    pub dilation: [usize; 2],
    pub padding: [usize; 2],
    pub stride: [usize; 2],
}

impl Window {
    /// The number of window positions along each dim of an image of `size` (below 1 when
    /// the padded image is smaller than the dilated kernel).
    pub(crate) fn blocks(&self, size: [usize; 2]) -> Result<[i64; 2]> {
        let [kh, kw] = self.kernel;
        if kh == 0 || kw == 0 {
            bail!(Runtime, "kernel size should be greater than zero, but got kernel_height: {kh} kernel_width: {kw}");
        }
        let [sh, sw] = self.stride;
        if sh == 0 || sw == 0 {
            bail!(Runtime, "stride should be greater than zero, but got stride_height: {sh} stride_width: {sw}");
        }
        let [dh, dw] = self.dilation;
        if dh == 0 || dw == 0 {
            bail!(Runtime, "dilation should be greater than zero, but got dilation_height: {dh} dilation_width: {dw}");
        }
        // PyTorch's formula in signed arithmetic, divided rounding down (its `div_rtn`), so
        // a window larger than the padded image reports the same block count as PyTorch.
        let along = |i: usize| -> Result<i64> {
            let as_i64 = |v: usize| i64::try_from(v).ok();
            let geometry = (|| {
                let padded = as_i64(self.padding[i])?
                    .checked_mul(2)?
                    .checked_add(as_i64(size[i])?)?;
                let span = (as_i64(self.kernel[i])? - 1)
                    .checked_mul(as_i64(self.dilation[i])?)?
                    .checked_add(1)?;
                Some((padded - span).div_euclid(as_i64(self.stride[i])?) + 1)
            })();
            match geometry {
                Some(v) => Ok(v),
                None => bail!(Runtime, "im2col: integer overflow in the window geometry"),
            }
        };
        Ok([along(0)?, along(1)?])
    }

    fn describe(&self) -> String {
        let pair = |v: [usize; 2]| format!("({}, {})", v[0], v[1]);
        format!(
            "kernel_size={}, dilation={}, padding={}",
            pair(self.kernel),
            pair(self.dilation),
            pair(self.padding)
        )
    }

    fn geometry(
        &self,
        offset: usize,
        planes: usize,
        size: [usize; 2],
        out: [usize; 2],
    ) -> Windows2d {
        Windows2d {
            offset,
            planes,
            size,
            kernel: self.kernel,
            dilation: self.dilation,
            padding: self.padding,
            stride: self.stride,
            out,
        }
    }
}

fn needs_float(t: &Tensor, kernel: &str) -> Result<()> {
    if !t.dtype().is_float() {
        let dev = if t.is_cuda() { "cuda" } else { "cpu" };
        bail!(
            NotImplemented,
            "\"{kernel}_out_{dev}\" not implemented for '{}'",
            t.dtype().scalar_name()
        );
    }
    Ok(())
}

impl Tensor {
    /// The sliding blocks of a float `[n, c, h, w]` tensor as columns `[n, c * kh * kw,
    /// blocks]` (`F.unfold`).
    pub fn im2col(&self, win: &Window) -> Result<Tensor> {
        let shape = self.shape();
        if shape.len() != 4 || shape[1..].contains(&0) {
            bail!(
                Runtime,
                "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: {}",
                crate::base::layout::shape_str(shape)
            );
        }
        needs_float(self, "im2col")?;
        let size = [shape[2], shape[3]];
        let out = match win.blocks(size)? {
            [a, b] if a > 0 && b > 0 => [a as usize, b as usize],
            blocks => bail!(
                Runtime,
                "Given input with spatial size ({}, {}), {}, calculated shape of the array of sliding blocks as ({}, {}), but its components must be at least one.",
                size[0],
                size[1],
                win.describe(),
                blocks[0],
                blocks[1]
            ),
        };
        let out_shape = [
            shape[0],
            checked_numel(&[shape[1], win.kernel[0], win.kernel[1]])?,
            checked_numel(&out)?,
        ];
        let n = checked_numel(&out_shape)?;
        if self.device() == crate::tensor::Device::Cpu {
            check_host_alloc(self.dtype(), n)?;
        }
        let x = self.contiguous()?;
        let geom = win.geometry(x.layout.offset, shape[0] * shape[1], size, out);
        let mem = x.storage.read().im2col(&geom)?;
        Ok(Tensor::from_memory(mem, &out_shape))
    }

    /// The float `[n, c * kh * kw, blocks]` columns summed back into `[n, c, size...]` images
    /// (`F.fold`, the adjoint of [`Tensor::im2col`]).
    pub fn col2im(&self, size: [usize; 2], win: &Window) -> Result<Tensor> {
        let shape = self.shape();
        if shape.len() != 3 || shape[1..].contains(&0) {
            bail!(
                Runtime,
                "Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and non-zero dimensions for input, but got: {}",
                crate::base::layout::shape_str(shape)
            );
        }
        needs_float(self, "col2im")?;
        let window = win.kernel[0].saturating_mul(win.kernel[1]);
        let blocks = win.blocks(size)?;
        if window == 0 || !shape[1].is_multiple_of(window) {
            bail!(
                Runtime,
                "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size(1)={} and kernel_size=({}, {}).",
                shape[1],
                win.kernel[0],
                win.kernel[1]
            );
        }
        let out = match blocks {
            [a, b] if a > 0 && b > 0 && (a as usize).checked_mul(b as usize) == Some(shape[2]) => {
                [a as usize, b as usize]
            }
            [a, b] => {
                bail!(
                    Runtime,
                    "Given output_size=({}, {}), {}, stride=({}, {}), expected size of input's dimension 2 to match the calculated number of sliding blocks {a} * {b} = {}, but got input.size(2)={}.",
                    size[0],
                    size[1],
                    win.describe(),
                    win.stride[0],
                    win.stride[1],
                    a.saturating_mul(b),
                    shape[2]
                )
            }
        };
        let channels = shape[1] / window;
        let out_shape = [shape[0], channels, size[0], size[1]];
        let n = checked_numel(&out_shape)?;
        if self.device() == crate::tensor::Device::Cpu {
            check_host_alloc(self.dtype(), n)?;
        }
        let c = self.contiguous()?;
        let geom = win.geometry(c.layout.offset, shape[0] * channels, size, out);
        let mem = c.storage.read().col2im(&geom)?;
        Ok(Tensor::from_memory(mem, &out_shape))
    }
}

impl Window {
    /// The pooling windows over the `[planes, size]` images from `offset`, `out` per plane,
    /// refused where a kernel's index arithmetic could overflow (the kernels clip every
    /// window to the image, so any `out` stays in bounds).
    fn pooling(
        &self,
        what: &str,
        offset: usize,
        planes: usize,
        size: [usize; 2],
        out: [usize; 2],
    ) -> Result<Windows2d> {
        let fits = (0..2).all(|d| {
            let reach = out[d]
                .checked_mul(self.stride[d])
                .zip(self.kernel[d].checked_mul(self.dilation[d]))
                .and_then(|(a, b)| a.checked_add(b)?.checked_add(self.padding[d]))
                .and_then(|r| r.checked_add(size[d]));
            // Every window starts inside the padded image (the kernels walk each window's
            // rows and columns up to the kernel's reach, clipped to the image).
            let padded = size[d].saturating_add(self.padding[d].saturating_mul(2));
            reach.is_some_and(|r| r <= i64::MAX as usize / 2)
                && (out[d] == 0 || (out[d] - 1).saturating_mul(self.stride[d]) < padded.max(1))
                && self.padding[d] <= self.kernel[d].saturating_mul(self.dilation[d])
        });
        if [self.kernel, self.stride, self.dilation]
            .iter()
            .any(|v| v.contains(&0))
            || !fits
        {
            bail!(
                Runtime,
                "{what}: invalid window {self:?} for an input of size {size:?} and output {out:?}"
            );
        }
        // The CPU kernels list each output row's and column's taps (three words each).
        check_host_alloc(DType::I64, out[0].saturating_add(out[1]).saturating_mul(3))?;
        Ok(self.geometry(offset, planes, size, out))
    }
}

/// The leading dims and the plane `[H, W]` of a 3-d or 4-d pooling operand.
fn pooled_dims<'a>(t: &'a Tensor, what: &str) -> Result<(&'a [usize], [usize; 2])> {
    let shape = t.shape();
    if !matches!(shape.len(), 3 | 4) {
        bail!(
            Runtime,
            "{what}: expected a 3-d or 4-d tensor, got {}",
            crate::base::layout::shape_str(shape)
        );
    }
    let (lead, plane) = shape.split_at(shape.len() - 2);
    needs_float(t, what)?;
    Ok((lead, [plane[0], plane[1]]))
}

/// Room for a pooling result of `shape` in `dtype`, where it lives on the host.
fn pooled_result(like: &Tensor, shape: &[usize], dtype: DType) -> Result<()> {
    let n = checked_numel(shape)?;
    if like.device() == Device::Cpu {
        check_host_alloc(dtype, n)?;
    }
    Ok(())
}

impl Tensor {
    /// 2-d max pooling of a float `[N, C, H, W]` or `[C, H, W]` tensor (PyTorch's
    /// `max_pool2d_with_indices`): the maxima `[.., out]` and the flat `h * W + w` position
    /// of each in its plane (int64).
    pub fn max_pool2d(&self, win: &Window, out: [usize; 2]) -> Result<(Tensor, Tensor)> {
        let (lead, size) = pooled_dims(self, "max_pool2d")?;
        let out_shape = [lead, &out].concat();
        pooled_result(self, &out_shape, self.dtype())?;
        pooled_result(self, &out_shape, DType::I64)?;
        let x = self.contiguous()?;
        let geom = win.pooling(
            "max_pool2d",
            x.layout.offset,
            lead.iter().product(),
            size,
            out,
        )?;
        let (values, indices) = x.storage.read().max_pool2d(&geom)?;
        Ok((
            Tensor::from_memory(values, &out_shape),
            Tensor::from_memory(indices, &out_shape),
        ))
    }

    /// The input gradient of [`Tensor::max_pool2d`] (`[.., H, W]` for `input` `[H, W]`):
    /// each of `grad`'s elements added at its maximum's position from `indices`.
    pub fn max_pool2d_backward(
        grad: &Tensor,
        indices: &Tensor,
        input: [usize; 2],
        win: &Window,
    ) -> Result<Tensor> {
        let (lead, out) = pooled_dims(grad, "max_pool2d_backward")?;
        if indices.shape() != grad.shape() || indices.dtype() != DType::I64 {
            bail!(
                Runtime,
                "max_pool2d_backward: indices must be int64 of the gradient's shape {:?}",
                grad.shape()
            );
        }
        if indices.device() != grad.device() {
            bail!(
                Runtime,
                "max_pool2d_backward: the indices must be on the gradient's device"
            );
        }
        let shape = [lead, &input].concat();
        pooled_result(grad, &shape, grad.dtype())?;
        let (g, i) = (grad.contiguous()?, indices.contiguous()?);
        let planes = lead.iter().product();
        let geom = win.pooling("max_pool2d_backward", g.layout.offset, planes, input, out)?;
        let mem = g
            .storage
            .read()
            .max_pool2d_backward((&i.storage.read(), i.layout.offset), &geom)?;
        Ok(Tensor::from_memory(mem, &shape))
    }

    /// 2-d average pooling of a float `[N, C, H, W]` or `[C, H, W]` tensor to `[.., out]`
    /// (PyTorch's `avg_pool2d`; `win.dilation` must be 1).
    pub fn avg_pool2d(&self, win: &Window, out: [usize; 2], divisor: AvgDivisor) -> Result<Tensor> {
        let (lead, size) = pooled_dims(self, "avg_pool2d")?;
        check_divisor(win, divisor)?;
        let out_shape = [lead, &out].concat();
        pooled_result(self, &out_shape, self.dtype())?;
        let x = self.contiguous()?;
        let geom = win.pooling(
            "avg_pool2d",
            x.layout.offset,
            lead.iter().product(),
            size,
            out,
        )?;
        let mem = x.storage.read().avg_pool2d(&geom, divisor)?;
        Ok(Tensor::from_memory(mem, &out_shape))
    }

    /// The input gradient `[.., input]` of [`Tensor::avg_pool2d`] from the output's `grad`.
    pub fn avg_pool2d_backward(
        grad: &Tensor,
        input: [usize; 2],
        win: &Window,
        divisor: AvgDivisor,
    ) -> Result<Tensor> {
        let (lead, out) = pooled_dims(grad, "avg_pool2d_backward")?;
        check_divisor(win, divisor)?;
        let shape = [lead, &input].concat();
        pooled_result(grad, &shape, grad.dtype())?;
        let g = grad.contiguous()?;
        let planes = lead.iter().product();
        let geom = win.pooling("avg_pool2d_backward", g.layout.offset, planes, input, out)?;
        let mem = g.storage.read().avg_pool2d_backward(&geom, divisor)?;
        Ok(Tensor::from_memory(mem, &shape))
    }
}

/// Average pooling has no dilation, and never divides by zero.
fn check_divisor(win: &Window, divisor: AvgDivisor) -> Result<()> {
    if win.dilation != [1, 1] {
        bail!(Runtime, "avg_pool2d: the window has no dilation");
    }
    if divisor == AvgDivisor::Fixed(0) {
        bail!(Runtime, "divisor must be not zero");
    }
    Ok(())
}

/// The sizes of a convolution of `x` `[n, c, h, w]` by `weight` `[o, c / groups, kh, kw]`
/// through `win`, checked as the kernels need them: float32/float64 CPU tensors of one
/// dtype, channels the groups divide, at least one window, sizes that fit.
fn conv_shape(x: &Tensor, weight: &Tensor, win: &Window, groups: usize) -> Result<ConvShape> {
    let (Ok([n, c, h, w]), Ok([o, cg, kh, kw])) = (
        <[usize; 4]>::try_from(x.shape()),
        <[usize; 4]>::try_from(weight.shape()),
    ) else {
        bail!(Runtime, "conv2d: expected a 4-d input and a 4-d weight");
    };
    if x.device() != Device::Cpu
        || weight.device() != Device::Cpu
        || !matches!(x.dtype(), DType::F32 | DType::F64)
        || weight.dtype() != x.dtype()
    {
        bail!(
            Runtime,
            "conv2d: expected float32 or float64 CPU tensors of one dtype"
        );
    }
    if groups == 0
        || !o.is_multiple_of(groups)
        || cg.checked_mul(groups) != Some(c)
        || [kh, kw] != win.kernel
    {
        bail!(
            Runtime,
            "conv2d: a weight of shape {:?} does not fit {} input channels in {} groups",
            weight.shape(),
            c,
            groups
        );
    }
    let out = match win.blocks([h, w])? {
        [a, b] if a > 0 && b > 0 => [a as usize, b as usize],
        blocks => bail!(Runtime, "conv2d: no window fits (blocks {blocks:?})"),
    };
    // Every buffer the kernels make: output, input gradient, one image's columns.
    for shape in [
        [n, o, out[0], out[1]],
        [n, c, h, w],
        [c, kh * kw, out[0], out[1]],
    ] {
        check_host_alloc(x.dtype(), checked_numel(&shape)?)?;
    }
    Ok(ConvShape {
        images: n,
        channels: c,
        out_channels: o,
        groups,
        window: win.geometry(0, c, [h, w], out),
    })
}

impl Tensor {
    /// The 2-d convolution `[n, o, oh, ow]` of a float CPU `[n, c, h, w]` tensor by
    /// `weight` `[o, c / groups, kh, kw]` (and `bias` `[o]`) without history: per image, its
    /// columns and one product per group (the batch's columns are never made).
    pub fn conv2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        win: &Window,
        groups: usize,
    ) -> Result<Tensor> {
        let s = conv_shape(self, weight, win, groups)?;
        if let Some(b) = bias {
            if b.shape() != [s.out_channels]
                || b.dtype() != self.dtype()
                || b.device() != Device::Cpu
            {
                bail!(
                    Runtime,
                    "conv2d: expected a bias of shape [{}] and the input's dtype",
                    s.out_channels
                );
            }
        }
        let mut operands = vec![self, weight];
        operands.extend(bias);
        let views = HostViews::new(&operands)?;
        let guards = views.guards();
        fn run<T: Float>(
            s: &ConvShape,
            v: &HostViews,
            g: &[RwLockReadGuard<'_, Memory>],
        ) -> Result<Vec<T>> {
            let t = slices::<T>(v, g)?;
            Ok(conv::conv2d(t[0], t[1], t.get(2).copied(), s))
        }
        let shape = [s.images, s.out_channels, s.window.out[0], s.window.out[1]];
        Ok(match self.dtype() {
            DType::F32 => Tensor::from_vec(run::<f32>(&s, &views, &guards)?, &shape),
            _ => Tensor::from_vec(run::<f64>(&s, &views, &guards)?, &shape),
        })
    }

    /// The gradients of [`Tensor::conv2d`]'s input and weight (each only when asked for)
    /// from the output's gradient `grad`, without history.
    pub fn conv2d_backward(
        x: &Tensor,
        weight: &Tensor,
        grad: &Tensor,
        win: &Window,
        groups: usize,
        need: (bool, bool),
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let s = conv_shape(x, weight, win, groups)?;
        let out_shape = [s.images, s.out_channels, s.window.out[0], s.window.out[1]];
        if grad.shape() != out_shape || grad.dtype() != x.dtype() || grad.device() != Device::Cpu {
            bail!(
                Runtime,
                "conv2d_backward: expected a gradient of shape {out_shape:?} and the input's dtype"
            );
        }
        let views = HostViews::new(&[x, weight, grad])?;
        let guards = views.guards();
        let (x_shape, w_shape) = (x.shape().to_vec(), weight.shape().to_vec());
        fn run<T: Float>(
            s: &ConvShape,
            v: &HostViews,
            g: &[RwLockReadGuard<'_, Memory>],
            need: (bool, bool),
            (x_shape, w_shape): (&[usize], &[usize]),
        ) -> Result<(Option<Tensor>, Option<Tensor>)> {
            let t = slices::<T>(v, g)?;
            let (dx, dw) = conv::conv2d_backward(t[0], t[1], t[2], s, need);
            Ok((
                dx.map(|d| Tensor::from_vec(d, x_shape)),
                dw.map(|d| Tensor::from_vec(d, w_shape)),
            ))
        }
        let shapes = (x_shape.as_slice(), w_shape.as_slice());
        match x.dtype() {
            DType::F32 => run::<f32>(&s, &views, &guards, need, shapes),
            _ => run::<f64>(&s, &views, &guards, need, shapes),
        }
    }
}
