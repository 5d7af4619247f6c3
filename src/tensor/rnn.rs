//! A whole LSTM layer as one call on host tensors (the path `nn.LSTM` takes for float CPU
//! input, where PyTorch calls oneDNN): shape checks, then the kernels of
//! `backend::cpu::rnn`.

use super::host::{slices, HostViews};
use super::storage::Memory;
use super::Tensor;
use crate::backend::cpu::rnn::{self, LstmSaved, LstmShape};
use crate::backend::Float;
use crate::bail;
use crate::base::{DType, Device};
use crate::error::Result;
use parking_lot::RwLockReadGuard;

/// What [`Tensor::lstm_layer`] makes: every step's hidden state `[T, B, H]` (the layer's
/// output), the last cell state `[B, H]`, and for the backward every step's cell state
/// `[T, B, H]` and activated gates `[T, B, 4H]`.
pub struct LstmLayer {
    pub out: Tensor,
    pub c_n: Tensor,
    pub cells: Tensor,
    pub gates: Tensor,
}

/// The gradients [`Tensor::lstm_layer_backward`] returns, one per input of the layer.
pub struct LstmLayerGrads {
    pub proj: Tensor,
    pub h0: Tensor,
    pub c0: Tensor,
    pub w_hh: Tensor,
}

/// The layer's sizes from its operands, with PyTorch-style errors for anything else.
fn layer_shape(proj: &Tensor, h0: &Tensor, c0: &Tensor, w_hh: &Tensor) -> Result<LstmShape> {
    let all = [proj, h0, c0, w_hh];
    if all.iter().any(|t| t.device() != Device::Cpu) {
        bail!(Runtime, "lstm_layer: expected all tensors on the CPU");
    }
    let dtype = proj.dtype();
    if !matches!(dtype, DType::F32 | DType::F64) || all.iter().any(|t| t.dtype() != dtype) {
        bail!(
            Runtime,
            "lstm_layer: expected float32 or float64 tensors of one dtype"
        );
    }
    let &[steps, batch, gates] = proj.shape() else {
        bail!(Runtime, "lstm_layer: expected a 3-d projection [T, B, 4H]");
    };
    let hidden = gates / 4;
    let state = [batch, hidden];
    if gates % 4 != 0
        || h0.shape() != state
        || c0.shape() != state
        || w_hh.shape() != [gates, hidden]
    {
        bail!(
            Runtime,
            "lstm_layer: inconsistent shapes: projection {:?}, h0 {:?}, c0 {:?}, w_hh {:?}",
            proj.shape(),
            h0.shape(),
            c0.shape(),
            w_hh.shape()
        );
    }
    Ok(LstmShape {
        steps,
        batch,
        hidden,
        reverse: false,
    })
}

impl Tensor {
    /// One LSTM layer over `proj` `[T, B, 4H]` (each step's input projection plus biases),
    /// from the states `h0`, `c0` `[B, H]`, with the recurrent weight `w_hh` `[4H, H]`;
    /// `reverse` runs from the last step to the first.
    pub fn lstm_layer(
        proj: &Tensor,
        h0: &Tensor,
        c0: &Tensor,
        w_hh: &Tensor,
        reverse: bool,
    ) -> Result<LstmLayer> {
        let s = LstmShape {
            reverse,
            ..layer_shape(proj, h0, c0, w_hh)?
        };
        let (t, b, h) = (s.steps, s.batch, s.hidden);
        let views = HostViews::new(&[proj, h0, c0, w_hh])?;
        let guards = views.guards();
        fn run<T: Float>(
            s: LstmShape,
            v: &HostViews,
            g: &[RwLockReadGuard<'_, Memory>],
        ) -> Result<[Tensor; 4]> {
            let x = slices::<T>(v, g)?;
            let f = rnn::lstm_forward(s, x[0], x[1], x[2], x[3]);
            let (t, b, h) = (s.steps, s.batch, s.hidden);
            let last = s.time(t.saturating_sub(1)) * b * h;
            let c_n = if t == 0 {
                x[2].to_vec()
            } else {
                f.cells[last..][..b * h].to_vec()
            };
            Ok([
                Tensor::from_vec(f.out, &[t, b, h]),
                Tensor::from_vec(c_n, &[b, h]),
                Tensor::from_vec(f.cells, &[t, b, h]),
                Tensor::from_vec(f.gates, &[t, b, 4 * h]),
            ])
        }
        let [out, c_n, cells, gates] = match proj.dtype() {
            DType::F32 => run::<f32>(s, &views, &guards)?,
            _ => run::<f64>(s, &views, &guards)?,
        };
        debug_assert_eq!(out.shape(), [t, b, h]);
        Ok(LstmLayer {
            out,
            c_n,
            cells,
            gates,
        })
    }

    /// The gradients of [`Tensor::lstm_layer`]'s inputs from those of its output `d_out`
    /// `[T, B, H]` and last cell state `d_cn` `[B, H]`, given what the forward made (its
    /// `out`, `cells` and `gates`).
    pub fn lstm_layer_backward(
        d_out: &Tensor,
        d_cn: &Tensor,
        h0: &Tensor,
        c0: &Tensor,
        w_hh: &Tensor,
        (out, cells, gates): (&Tensor, &Tensor, &Tensor),
        reverse: bool,
    ) -> Result<LstmLayerGrads> {
        let s = LstmShape {
            reverse,
            ..layer_shape(gates, h0, c0, w_hh)?
        };
        let (t, b, h) = (s.steps, s.batch, s.hidden);
        let dtype = gates.dtype();
        for (what, x, shape) in [
            ("d_out", d_out, [t, b, h].as_slice()),
            ("d_cn", d_cn, &[b, h]),
            ("out", out, &[t, b, h]),
            ("cells", cells, &[t, b, h]),
        ] {
            if x.shape() != shape || x.dtype() != dtype || x.device() != Device::Cpu {
                bail!(
                    Runtime,
                    "lstm_layer_backward: {what} should be a {dtype:?} CPU tensor of shape {shape:?}"
                );
            }
        }
        let views = HostViews::new(&[d_out, d_cn, h0, c0, w_hh, out, cells, gates])?;
        let guards = views.guards();
        fn run<T: Float>(
            s: LstmShape,
            v: &HostViews,
            g: &[RwLockReadGuard<'_, Memory>],
        ) -> Result<LstmLayerGrads> {
            let x = slices::<T>(v, g)?;
            let saved = LstmSaved {
                out: x[5],
                cells: x[6],
                gates: x[7],
            };
            let d = rnn::lstm_backward(s, x[0], x[1], x[2], x[3], x[4], saved);
            let (t, b, h) = (s.steps, s.batch, s.hidden);
            Ok(LstmLayerGrads {
                proj: Tensor::from_vec(d.proj, &[t, b, 4 * h]),
                h0: Tensor::from_vec(d.h0, &[b, h]),
                c0: Tensor::from_vec(d.c0, &[b, h]),
                w_hh: Tensor::from_vec(d.w_hh, &[4 * h, h]),
            })
        }
        match dtype {
            DType::F32 => run::<f32>(s, &views, &guards),
            _ => run::<f64>(s, &views, &guards),
        }
    }
}
