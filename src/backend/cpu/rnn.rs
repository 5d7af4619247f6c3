//! One LSTM layer over a whole sequence (PyTorch's gate order i, f, g, o), forward and
//! backward, on contiguous host memory.
//!
//! Each step is one `[B, H] @ [H, 4H]` product and one pass over the gates. The backward
//! runs the steps in reverse (one `[B, 4H] @ [4H, H]` product each for the hidden state's
//! gradient) and then forms the recurrent weight's gradient as one product over all steps,
//! `[4H, T*B] @ [T*B, H]`, instead of `T` skinny ones.

use std::ops::Range;

use super::elementwise::transpose;
use super::matmul::{gemm_slices, Matrix};
use super::pool::{self, SendPtr};
use super::simd_twins;
use crate::backend::Float;

/// The sizes of one layer: `steps` (T), `batch` (B), `hidden` (H), and whether it runs
/// from the last step to the first (a bidirectional layer's reverse direction).
#[derive(Clone, Copy, Debug)]
pub struct LstmShape {
    pub steps: usize,
    pub batch: usize,
    pub hidden: usize,
    pub reverse: bool,
}

impl LstmShape {
    /// The time index of the `s`-th step run.
    pub fn time(&self, s: usize) -> usize {
        if self.reverse {
            self.steps - 1 - s
        } else {
            s
        }
    }
}

/// What the forward pass makes: every step's hidden and cell state (`[T, B, H]`, at their
/// time index) and the activated gates `[T, B, 4H]` that the backward reads.
pub struct LstmForward<T> {
    pub out: Vec<T>,
    pub cells: Vec<T>,
    pub gates: Vec<T>,
}

/// [`LstmForward`]'s results, borrowed back for the backward pass.
#[derive(Clone, Copy)]
pub struct LstmSaved<'a, T> {
    pub out: &'a [T],
    pub cells: &'a [T],
    pub gates: &'a [T],
}

/// The gradients of one layer: of the gate pre-activations (the input projection) `[T, B,
/// 4H]`, of the initial states `[B, H]`, and of the recurrent weight `[4H, H]`.
pub struct LstmGrads<T> {
    pub proj: Vec<T>,
    pub h0: Vec<T>,
    pub c0: Vec<T>,
    pub w_hh: Vec<T>,
}

/// Below this many multiply-adds per step (`B * H * 4H`) a layer runs on one thread.
const PARALLEL_STEP_FLOPS: usize = 1 << 18;

/// The batch rows each pool thread runs, through every step: rows of a batch never meet, so
/// each thread runs the whole recurrence on its own rows with no synchronisation per step.
fn row_blocks(s: LstmShape) -> Vec<Range<usize>> {
    let work = s.batch * 4 * s.hidden * s.hidden;
    let threads = pool::threads().min(s.batch.div_ceil(4)).max(1);
    let blocks = if work < PARALLEL_STEP_FLOPS {
        1
    } else {
        threads
    };
    let per = s.batch.div_ceil(blocks).max(1);
    (0..s.batch)
        .step_by(per)
        .map(|r| r..(r + per).min(s.batch))
        .collect()
}

/// Rows `rows` of time index `t` in a `[T, B, width]` array behind `p`.
///
/// # Safety
/// `p` addresses `T * B * width` elements, and no other reference to these rows is alive
/// (each pool task owns its rows).
unsafe fn rows_mut<'a, T>(
    p: SendPtr<T>,
    (batch, width): (usize, usize),
    t: usize,
    rows: &Range<usize>,
) -> &'a mut [T] {
    std::slice::from_raw_parts_mut(
        p.get().add((t * batch + rows.start) * width),
        rows.len() * width,
    )
}

/// The layer's forward pass: `gates_t = proj[t] + h_{t-1} @ w_hh^T`, then
/// `c_t = f * c_{t-1} + i * g` and `h_t = o * tanh(c_t)`.
pub fn lstm_forward<T: Float>(
    s: LstmShape,
    proj: &[T],
    h0: &[T],
    c0: &[T],
    w_hh: &[T],
) -> LstmForward<T> {
    let (b, h) = (s.batch, s.hidden);
    let mut out = vec![T::ZERO; s.steps * b * h];
    let mut cells = vec![T::ZERO; s.steps * b * h];
    let mut gates = vec![T::ZERO; s.steps * b * 4 * h];
    let (o_p, c_p, g_p) = (
        SendPtr(out.as_mut_ptr()),
        SendPtr(cells.as_mut_ptr()),
        SendPtr(gates.as_mut_ptr()),
    );
    // w_hh^T `[H, 4H]` in memory once: the steps' products then read it row-major, which
    // gemm takes without a transposing pack, and their long side (4H) is gemm's `m`.
    let mut w_t = vec![T::ZERO; 4 * h * h];
    transpose(w_hh, 4 * h, h, &mut w_t);
    let blocks = row_blocks(s);
    let threaded = blocks.len() == 1;
    pool::for_each_chunk(blocks.len(), &|k| {
        let rows = &blocks[k];
        let n = rows.len();
        let mut recurrent = vec![T::ZERO; n * 4 * h];
        let mut h_prev = h0[rows.start * h..][..n * h].to_vec();
        let mut c_prev = c0[rows.start * h..][..n * h].to_vec();
        for step in 0..s.steps {
            let t = s.time(step);
            // h_{t-1} @ w_hh^T.
            gemm_slices(
                &mut recurrent,
                (n, h, 4 * h),
                None,
                Matrix::new(&h_prev, h as isize, 1),
                Matrix::new(&w_t, 4 * h as isize, 1),
                threaded,
            );
            // SAFETY: the three arrays hold `[T, B, _]` elements, and this task alone
            // touches its rows.
            let (g, c, o) = unsafe {
                (
                    rows_mut(g_p, (b, 4 * h), t, rows),
                    rows_mut(c_p, (b, h), t, rows),
                    rows_mut(o_p, (b, h), t, rows),
                )
            };
            let p = &proj[(t * b + rows.start) * 4 * h..][..n * 4 * h];
            cell_forward(h, p, &recurrent, &c_prev, g, c, o);
            h_prev.copy_from_slice(o);
            c_prev.copy_from_slice(c);
        }
    });
    LstmForward { out, cells, gates }
}

/// The layer's backward pass, from the gradients of every step's output `d_out` `[T, B, H]`
/// and of the last cell state `d_cn` `[B, H]`, and what the forward saved.
#[allow(clippy::too_many_arguments)]
pub fn lstm_backward<T: Float>(
    s: LstmShape,
    d_out: &[T],
    d_cn: &[T],
    h0: &[T],
    c0: &[T],
    w_hh: &[T],
    fwd: LstmSaved<'_, T>,
) -> LstmGrads<T> {
    let (b, h, steps) = (s.batch, s.hidden, s.steps);
    let (bh, bg) = (b * h, b * 4 * h);
    let mut d_proj = vec![T::ZERO; steps * bg];
    let mut d_h0 = vec![T::ZERO; bh];
    let mut d_c0 = d_cn.to_vec();
    let (dp_p, dh_p, dc_p) = (
        SendPtr(d_proj.as_mut_ptr()),
        SendPtr(d_h0.as_mut_ptr()),
        SendPtr(d_c0.as_mut_ptr()),
    );
    let blocks = row_blocks(s);
    let threaded = blocks.len() == 1;
    pool::for_each_chunk(blocks.len(), &|k| {
        let rows = &blocks[k];
        // SAFETY: `d_h0` and `d_c0` hold `[1, B, H]`, and this task alone touches its rows.
        let (dh, dc) = unsafe {
            (
                rows_mut(dh_p, (b, h), 0, rows),
                rows_mut(dc_p, (b, h), 0, rows),
            )
        };
        // This task's rows of time index `t` in a `[T, B, width]` array.
        let row = |t: usize, width: usize| (t * b + rows.start) * width..(t * b + rows.end) * width;
        for step in (0..steps).rev() {
            let t = s.time(step);
            let c_prev = if step == 0 {
                &c0[row(0, h)]
            } else {
                &fwd.cells[row(s.time(step - 1), h)]
            };
            // SAFETY: `d_proj` holds `[T, B, 4H]`, and this task alone touches its rows.
            let dg = unsafe { rows_mut(dp_p, (b, 4 * h), t, rows) };
            let saved = StepSaved {
                gates: &fwd.gates[row(t, 4 * h)],
                c: &fwd.cells[row(t, h)],
                c_prev,
            };
            cell_backward(h, &d_out[row(t, h)], dh, dc, saved, dg);
            // dh_{t-1} = d_gates_t @ w_hh.
            gemm_slices(
                dh,
                (rows.len(), 4 * h, h),
                None,
                Matrix::new(dg, 4 * h as isize, 1),
                Matrix::new(w_hh, h as isize, 1),
                threaded,
            );
        }
    });
    let mut d_w = vec![T::ZERO; 4 * h * h];
    if steps > 0 {
        // d_w_hh = sum over steps of d_gates_t^T @ h_{t-1}: the steps after the first read
        // the outputs of the steps before them, which lie next to each other in `out`.
        let rest = (steps - 1) * b;
        let (gates_rest, hidden_rest) = if s.reverse {
            (&d_proj[..rest * 4 * h], &fwd.out[bh..])
        } else {
            (&d_proj[bg..], &fwd.out[..rest * h])
        };
        gemm_slices(
            &mut d_w,
            (4 * h, rest, h),
            None,
            Matrix::new(gates_rest, 1, 4 * h as isize),
            Matrix::new(hidden_rest, h as isize, 1),
            true,
        );
        gemm_slices(
            &mut d_w,
            (4 * h, b, h),
            Some(T::ONE),
            Matrix::new(&d_proj[s.time(0) * bg..][..bg], 1, 4 * h as isize),
            Matrix::new(h0, h as isize, 1),
            true,
        );
    }
    LstmGrads {
        proj: d_proj,
        h0: d_h0,
        c0: d_c0,
        w_hh: d_w,
    }
}

#[inline(always)]
fn sigmoid<T: Float>(v: T) -> T {
    T::ONE / (T::ONE + (-v).exp())
}

simd_twins!(fn cell_forward[T: Float](
    h: usize, proj: &[T], recurrent: &[T], c_prev: &[T], gates: &mut [T], c: &mut [T],
    out: &mut [T],
) => cell_forward_body);

/// One step's gates, cell and hidden state, row by row (each gate a contiguous block of
/// `h` in a row of `4h`, so the loops over `j` vectorise).
#[inline(always)]
fn cell_forward_body<T: Float>(
    h: usize,
    proj: &[T],
    recurrent: &[T],
    c_prev: &[T],
    gates: &mut [T],
    c: &mut [T],
    out: &mut [T],
) {
    let rows = gates.chunks_exact_mut(4 * h).zip(c.chunks_exact_mut(h));
    for (r, ((g, c), o)) in rows.zip(out.chunks_exact_mut(h)).enumerate() {
        let (p, m) = (
            &proj[r * 4 * h..][..4 * h],
            &recurrent[r * 4 * h..][..4 * h],
        );
        for ((g, &p), &m) in g.iter_mut().zip(p).zip(m) {
            *g = p + m;
        }
        // i and f, then g, then o: one function per loop, so each vectorises.
        let (gi, rest) = g.split_at_mut(h);
        let (gf, rest) = rest.split_at_mut(h);
        let (gg, go) = rest.split_at_mut(h);
        for v in gi.iter_mut() {
            *v = sigmoid(*v);
        }
        for v in gf.iter_mut() {
            *v = sigmoid(*v);
        }
        for v in gg.iter_mut() {
            *v = v.tanh();
        }
        for v in go.iter_mut() {
            *v = sigmoid(*v);
        }
        let cp = &c_prev[r * h..][..h];
        for j in 0..h {
            c[j] = gf[j] * cp[j] + gi[j] * gg[j];
        }
        for j in 0..h {
            o[j] = go[j] * c[j].tanh();
        }
    }
}

/// What one step's backward reads of its forward: the activated gates and the cell states
/// after and before the step (each these rows' part).
#[derive(Clone, Copy)]
struct StepSaved<'a, T> {
    gates: &'a [T],
    c: &'a [T],
    c_prev: &'a [T],
}

simd_twins!(fn cell_backward[T: Float](
    h: usize, d_out: &[T], dh: &[T], dc: &mut [T], saved: StepSaved<'_, T>, d_gates: &mut [T],
) => cell_backward_body);

/// One step backward: from the gradients reaching `h_t` (`d_out + dh`) and `c_t` (`dc`),
/// the gate pre-activations' gradients, and `dc` becomes the gradient of `c_{t-1}`.
#[inline(always)]
fn cell_backward_body<T: Float>(
    h: usize,
    d_out: &[T],
    dh: &[T],
    dc: &mut [T],
    saved: StepSaved<'_, T>,
    d_gates: &mut [T],
) {
    let StepSaved { gates, c, c_prev } = saved;
    for (r, dg) in d_gates.chunks_exact_mut(4 * h).enumerate() {
        let g = &gates[r * 4 * h..][..4 * h];
        let (gi, gf, gg, go) = (&g[..h], &g[h..2 * h], &g[2 * h..3 * h], &g[3 * h..]);
        let (d_i, rest) = dg.split_at_mut(h);
        let (d_f, rest) = rest.split_at_mut(h);
        let (d_g, d_o) = rest.split_at_mut(h);
        let rows = r * h..(r + 1) * h;
        let dcr = &mut dc[rows.clone()];
        let (dor, dhr, cr, cpr) = (
            &d_out[rows.clone()],
            &dh[rows.clone()],
            &c[rows.clone()],
            &c_prev[rows],
        );
        for j in 0..h {
            let (i, f, gg, o) = (gi[j], gf[j], gg[j], go[j]);
            let d_h = dor[j] + dhr[j];
            let tc = cr[j].tanh();
            let d_c = dcr[j] + d_h * o * (T::ONE - tc * tc);
            d_i[j] = d_c * gg * (i * (T::ONE - i));
            d_f[j] = d_c * cpr[j] * (f * (T::ONE - f));
            d_g[j] = d_c * i * (T::ONE - gg * gg);
            d_o[j] = d_h * tc * (o * (T::ONE - o));
            dcr[j] = d_c * f;
        }
    }
}
