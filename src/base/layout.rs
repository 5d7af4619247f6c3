//! Shape, strides and offset: how a tensor's elements sit in its storage.
//! Views (transpose, slice, expand, ...) are new layouts over the same storage.

use smallvec::SmallVec;

use crate::bail;
use crate::error::{Error, Result};

pub type Shape = SmallVec<[usize; 4]>;
pub type Strides = SmallVec<[isize; 4]>;

/// Formats a shape as PyTorch does in messages: `[2, 3]`.
pub fn shape_str(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// The element count of a shape already known to be valid (a tensor's: see
/// [`checked_numel`], which every shape-growing path goes through).
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// The element count of `shape`, or PyTorch's error when it does not fit an `isize` (PyTorch's
/// int64 numel). Every place that makes a shape bigger than its input (creation, `expand`,
/// broadcasting, matmul, `cat`) checks through here, so `numel` and every offset of a tensor's
/// layout fit in `isize` afterwards.
pub fn checked_numel(shape: &[usize]) -> Result<usize> {
    match shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)) {
        Some(n) if n <= isize::MAX as usize => Ok(n),
        _ => bail!(Runtime, "numel: integer multiplication overflow"),
    }
}

/// Row-major strides of a contiguous tensor of this shape. Saturating: only a tensor with no
/// elements can have strides past `isize` (`zeros(0, 2**62, 4)`), and such strides never
/// address anything.
pub fn contiguous_strides(shape: &[usize]) -> Strides {
    let mut strides: Strides = SmallVec::from_elem(0, shape.len());
    let mut acc = 1isize;
    for i in (0..shape.len()).rev() {
        strides[i] = acc;
        acc = acc.saturating_mul(isize::try_from(shape[i].max(1)).unwrap_or(isize::MAX));
    }
    strides
}

/// Wraps a possibly negative dimension, as `maybe_wrap_dim` does in PyTorch.
pub fn wrap_dim(dim: i64, ndim: usize) -> Result<usize> {
    let n = ndim.max(1) as i64;
    if dim < -n || dim >= n {
        bail!(
            Index,
            "Dimension out of range (expected to be in range of [{}, {}], but got {})",
            -n,
            n - 1,
            dim
        );
    }
    Ok(if dim < 0 {
        (dim + n) as usize
    } else {
        dim as usize
    })
}

/// NumPy broadcasting of two shapes.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Result<Shape> {
    let n = a.len().max(b.len());
    let mut out: Shape = SmallVec::from_elem(1, n);
    // (from the last dim, as PyTorch's `infer_size`: the mismatch it names is the rightmost)
    for i in (0..n).rev() {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            bail!(
                Runtime,
                "The size of tensor a ({}) must match the size of tensor b ({}) at non-singleton \
                 dimension {}",
                da,
                db,
                i
            );
        };
    }
    checked_numel(&out)?;
    Ok(out)
}

/// Resolves one `-1` in a requested shape against `numel` elements.
pub fn infer_shape(requested: &[i64], numel: usize) -> Result<Shape> {
    let mut out: Shape = SmallVec::with_capacity(requested.len());
    let mut infer_at = None;
    let mut known = 1usize;
    for (i, &d) in requested.iter().enumerate() {
        if d == -1 {
            if infer_at.is_some() {
                bail!(Runtime, "only one dimension can be inferred");
            }
            infer_at = Some(i);
            out.push(1);
        } else if d < 0 {
            bail!(Runtime, "invalid shape dimension {}", d);
        } else {
            known = known.saturating_mul(d as usize);
            out.push(d as usize);
        }
    }
    let invalid = || {
        let parts: Vec<String> = requested.iter().map(|d| d.to_string()).collect();
        Error::Runtime(format!(
            "shape '[{}]' is invalid for input of size {}",
            parts.join(", "),
            numel
        ))
    };
    match infer_at {
        Some(i) => {
            if known == 0 || !numel.is_multiple_of(known) {
                return Err(invalid());
            }
            out[i] = numel / known;
        }
        None if known != numel => return Err(invalid()),
        None => {}
    }
    Ok(out)
}

#[derive(Debug, PartialEq, Eq)]
pub struct Layout {
    pub shape: Shape,
    pub strides: Strides,
    pub offset: usize,
}

// By hand: SmallVec's own `Clone` copies element by element through `Extend`, and a tensor's
// layout is cloned several times per op, which made it a tenth of a small op's bookkeeping.
impl Clone for Layout {
    fn clone(&self) -> Layout {
        Layout {
            shape: copy_small(&self.shape),
            strides: copy_small(&self.strides),
            offset: self.offset,
        }
    }
}

/// A copy of a small vector of plain integers: inline ones bit for bit, spilled ones through
/// the heap.
fn copy_small<T: Copy>(v: &SmallVec<[T; 4]>) -> SmallVec<[T; 4]> {
    if v.spilled() {
        SmallVec::from_slice(v)
    } else {
        // SAFETY: an inline SmallVec owns no heap memory and its elements are `Copy`, so a
        // bitwise copy is an independent, valid value (nothing is freed twice).
        unsafe { std::ptr::read(v) }
    }
}

impl Layout {
    pub fn contiguous(shape: &[usize]) -> Layout {
        Layout {
            shape: Shape::from_slice(shape),
            strides: contiguous_strides(shape),
            offset: 0,
        }
    }

    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    pub fn numel(&self) -> usize {
        numel(&self.shape)
    }

    /// Row-major contiguous (size-1 dimensions may have any stride, as in PyTorch).
    pub fn is_contiguous(&self) -> bool {
        if self.shape.contains(&0) {
            return true; // no element is out of place (PyTorch agrees)
        }
        let mut expected = 1isize;
        for i in (0..self.shape.len()).rev() {
            if self.shape[i] != 1 {
                if self.strides[i] != expected {
                    return false;
                }
                expected *= self.shape[i] as isize;
            }
        }
        true
    }

    /// Whether the strides are exactly `contiguous_strides(shape)` (no size-0 dim), size-1
    /// dims included: the layout every new tensor gets.
    pub fn is_exactly_row_major(&self) -> bool {
        let mut expected = 1isize;
        for (&n, &s) in self.shape.iter().zip(&self.strides).rev() {
            if s != expected || n == 0 {
                return false;
            }
            expected = expected.saturating_mul(n as isize);
        }
        true
    }

    /// PyTorch's `is_contiguous(memory_format=torch.channels_last)` for a 4-d layout (size-1
    /// dims at any stride).
    pub fn is_channels_last(&self) -> bool {
        self.ndim() == 4
            && channels_last_strides(&self.shape)
                .iter()
                .zip(&self.strides)
                .zip(&self.shape)
                .all(|((want, s), &n)| n == 1 || s == want)
    }

    /// PyTorch's `is_non_overlapping_and_dense` exactly: past the dims of size 2 or more,
    /// sorted by stride, each stepping over all the ones inside it, any dim of size 1 may have
    /// any stride; an empty tensor is dense whatever its strides.
    pub fn is_dense_in_some_order(&self) -> bool {
        if self.shape.contains(&0) {
            return true; // (as PyTorch: an empty tensor is contiguous)
        }
        let mut dims: SmallVec<[(usize, isize); 6]> = self
            .shape
            .iter()
            .zip(&self.strides)
            .map(|(&d, &s)| (d, s))
            .collect();
        dims.sort_by_key(|&(d, s)| (d < 2, s));
        let mut expected = 1isize;
        for (d, s) in dims {
            if d < 2 {
                return true;
            }
            if s != expected {
                return false;
            }
            expected = expected.saturating_mul(d as isize);
        }
        true
    }

    /// Whether the elements fill `numel` consecutive slots, in some order of the dims
    /// (PyTorch's `is_non_overlapping_and_dense`: contiguous after a permutation).
    pub fn is_non_overlapping_and_dense(&self) -> bool {
        let mut dims: SmallVec<[(usize, isize); 6]> = self
            .shape
            .iter()
            .zip(&self.strides)
            .filter(|(&d, _)| d != 1)
            .map(|(&d, &s)| (d, s))
            .collect();
        dims.sort_by_key(|&(_, s)| s);
        let mut expected = 1isize;
        for (d, s) in dims {
            if s != expected {
                return false;
            }
            expected *= d as isize;
        }
        true
    }

    /// Whether every element has a storage slot of its own (dims sorted by stride each step
    /// past all the slots of the dims inside them): false for expanded dims and for
    /// overlapping windows (`unfold` with a step below the size).
    pub fn is_non_overlapping(&self) -> bool {
        let mut dims: SmallVec<[(usize, usize); 6]> = self
            .shape
            .iter()
            .zip(&self.strides)
            .filter(|(&d, _)| d > 1)
            .map(|(&d, &s)| (d, s.unsigned_abs()))
            .collect();
        if dims.iter().any(|&(d, _)| d == 0) {
            return true;
        }
        dims.sort_by_key(|&(_, s)| s);
        let mut span = 0usize; // the farthest slot reached by the dims so far, from the first
        for (d, s) in dims {
            if s <= span {
                return false;
            }
            span = span.saturating_add(s.saturating_mul(d - 1));
        }
        true
    }

    /// Whether two elements share memory (an expanded dimension).
    pub fn has_internal_overlap(&self) -> bool {
        // (no elements, nothing shared: a size-0 tensor's strides address nothing)
        !self.shape.contains(&0)
            && self
                .shape
                .iter()
                .zip(&self.strides)
                .any(|(&d, &s)| d > 1 && s == 0)
    }

    /// Broadcasts to `target` (stride 0 along new or size-1 dimensions), as `expand`.
    pub fn expand(&self, target: &[usize]) -> Result<Layout> {
        if target.len() < self.ndim() {
            bail!(
                Runtime,
                "expand(torch.FloatTensor{{{}}}, size={}): the number of sizes provided ({}) \
                 must be greater or equal to the number of dimensions in the tensor",
                shape_str(&self.shape),
                shape_str(target),
                target.len(),
            );
        }
        let lead = target.len() - self.ndim();
        let mut strides: Strides = SmallVec::from_elem(0, target.len());
        for i in (0..target.len()).rev() {
            if i < lead {
                // A new dim of size 1 steps as a dim outside the next one (PyTorch's
                // `inferExpandGeometry`: its strides are observable), a broadcast one by 0.
                if target[i] == 1 {
                    strides[i] = match target.get(i + 1) {
                        Some(&n) => strides[i + 1].saturating_mul(n as isize),
                        None => 0, // (a 0-d tensor's only dim, as PyTorch's)
                    };
                }
                continue;
            }
            let (d, s) = (self.shape[i - lead], self.strides[i - lead]);
            if d == target[i] {
                strides[i] = s;
            } else if d != 1 {
                bail!(
                    Runtime,
                    "The expanded size of the tensor ({}) must match the existing size ({}) at \
                     non-singleton dimension {}.  Target sizes: {}.  Tensor sizes: {}",
                    target[i],
                    d,
                    i,
                    shape_str(target),
                    shape_str(&self.shape)
                );
            }
        }
        checked_numel(target)?;
        Ok(Layout {
            shape: target.into(),
            strides,
            offset: self.offset,
        })
    }

    /// The largest storage index this layout reaches plus one (0 when it has no elements),
    /// computed with checked arithmetic; `None` on overflow or a negative index.
    pub fn extent(&self) -> Option<usize> {
        if self.shape.contains(&0) {
            return Some(0);
        }
        let mut hi = isize::try_from(self.offset).ok()?;
        let mut lo = hi;
        for (&d, &s) in self.shape.iter().zip(&self.strides) {
            let span = s.checked_mul(isize::try_from(d - 1).ok()?)?;
            if span >= 0 {
                hi = hi.checked_add(span)?;
            } else {
                lo = lo.checked_add(span)?;
            }
        }
        if lo < 0 {
            return None;
        }
        usize::try_from(hi).ok()?.checked_add(1)
    }

    /// Whether every element of this layout lies inside a storage of `len` elements: the
    /// bound kernels rely on, checked once per op rather than per element.
    pub fn fits_in(&self, len: usize) -> bool {
        self.extent().is_some_and(|e| e <= len)
    }

    pub fn permute(&self, dims: &[usize]) -> Layout {
        Layout {
            shape: dims.iter().map(|&d| self.shape[d]).collect(),
            strides: dims.iter().map(|&d| self.strides[d]).collect(),
            offset: self.offset,
        }
    }

    pub fn transpose(&self, a: usize, b: usize) -> Layout {
        let mut out = self.clone();
        out.shape.swap(a, b);
        out.strides.swap(a, b);
        out
    }

    pub fn unsqueeze(&self, dim: usize) -> Layout {
        let mut out = self.clone();
        let stride = if dim < self.ndim() {
            self.strides[dim] * self.shape[dim] as isize
        } else {
            1
        };
        out.shape.insert(dim, 1);
        out.strides.insert(dim, stride);
        out
    }

    pub fn squeeze_dims(&self, dims: &[usize]) -> Layout {
        let mut out = Layout {
            shape: Shape::new(),
            strides: Strides::new(),
            offset: self.offset,
        };
        for i in 0..self.ndim() {
            if !(dims.contains(&i) && self.shape[i] == 1) {
                out.shape.push(self.shape[i]);
                out.strides.push(self.strides[i]);
            }
        }
        out
    }

    pub fn select(&self, dim: usize, index: usize) -> Layout {
        let mut out = self.clone();
        out.offset = (self.offset as isize + self.strides[dim] * index as isize) as usize;
        out.shape.remove(dim);
        out.strides.remove(dim);
        out
    }

    /// Elements `start, start+step, ...` below `end` along `dim` (bounds already clamped).
    pub fn slice(&self, dim: usize, start: usize, end: usize, step: usize) -> Layout {
        let mut out = self.clone();
        let len = if end > start {
            (end - start).div_ceil(step)
        } else {
            0
        };
        if len > 0 {
            out.offset = (self.offset as isize + self.strides[dim] * start as isize) as usize;
        }
        out.shape[dim] = len;
        out.strides[dim] = self.strides[dim] * step as isize;
        out
    }

    /// The strides a `view` to `shape` would have without copying, following PyTorch's
    /// `computeStride`: `None` when the request splits or merges non-contiguous dimensions.
    pub fn view(&self, shape: &[usize]) -> Option<Layout> {
        let old_numel = self.numel();
        if old_numel == 0 || self.ndim() == 0 {
            return Some(Layout {
                shape: shape.into(),
                strides: contiguous_strides(shape),
                offset: self.offset,
            });
        }
        let mut new_strides: Strides = SmallVec::from_elem(0, shape.len());
        let mut view_d = shape.len() as isize - 1;
        let mut chunk_base_stride = *self.strides.last()?;
        let mut tensor_numel = 1usize;
        let mut view_numel = 1usize;
        for tensor_d in (0..self.ndim()).rev() {
            tensor_numel *= self.shape[tensor_d];
            let chunk_ends = tensor_d == 0
                || (self.shape[tensor_d - 1] != 1
                    && self.strides[tensor_d - 1] != (tensor_numel as isize) * chunk_base_stride);
            if chunk_ends {
                while view_d >= 0 && (view_numel < tensor_numel || shape[view_d as usize] == 1) {
                    new_strides[view_d as usize] = view_numel as isize * chunk_base_stride;
                    view_numel *= shape[view_d as usize];
                    view_d -= 1;
                }
                if view_numel != tensor_numel {
                    return None;
                }
                if tensor_d > 0 {
                    chunk_base_stride = self.strides[tensor_d - 1];
                    tensor_numel = 1;
                    view_numel = 1;
                }
            }
        }
        if view_d != -1 {
            return None;
        }
        Some(Layout {
            shape: shape.into(),
            strides: new_strides,
            offset: self.offset,
        })
    }

    /// Calls `f` with the storage offset of every element, in row-major order.
    #[inline]
    pub fn for_each_offset(&self, mut f: impl FnMut(usize)) {
        let n = self.numel();
        if n == 0 {
            return;
        }
        if self.is_contiguous() {
            for i in 0..n {
                f(self.offset + i);
            }
            return;
        }
        let nd = self.ndim();
        let inner = self.shape[nd - 1];
        let inner_stride = self.strides[nd - 1];
        let mut index: SmallVec<[usize; 6]> = SmallVec::from_elem(0, nd);
        let mut base = self.offset as isize;
        loop {
            let mut p = base;
            for _ in 0..inner {
                f(p as usize);
                p += inner_stride;
            }
            // Advance the outer dimensions like an odometer.
            let mut d = nd - 1;
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                index[d] += 1;
                base += self.strides[d];
                if index[d] < self.shape[d] {
                    break;
                }
                base -= self.strides[d] * self.shape[d] as isize;
                index[d] = 0;
            }
        }
    }

    /// Storage offsets of every element, in row-major order.
    pub fn offsets(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.numel());
        self.for_each_offset(|o| out.push(o));
        out
    }
}

/// The order of an elementwise result's dims, outermost first, as PyTorch lays the result out
/// (TensorIterator's `reorder_dimensions`): the dims sorted by the operands' strides, broadcast
/// to `shape`, the first operand deciding first (a broadcast dim defers to the next operand,
/// equal strides put the smaller dim inside). A transposed or channels-last input thus gives a
/// result with its strides, so a later `view` aliases or fails as in PyTorch. `None` where that
/// order is row-major (every operand contiguous: the common case, decided without sorting).
pub fn elementwise_order(shape: &[usize], operands: &[&Layout]) -> Option<Shape> {
    let n = shape.len();
    if n < 2 || operands.iter().all(|l| l.is_contiguous()) {
        return None;
    }
    iterator_order(shape, operands)
}

/// How PyTorch lays out a new elementwise result of `operands` broadcast to `shape`.
#[derive(Debug, PartialEq)]
pub enum ResultLayout {
    /// Row-major (`contiguous_strides`).
    RowMajor,
    /// Dense with the dims in this order, outermost first.
    Ordered(Shape),
    /// Exactly these strides: dense, with those of size-1 dims as PyTorch gives them.
    Strided(Strides),
}

/// TensorIterator's layout of an elementwise result, size-1 dims' strides included. Operands
/// of one shape take its fast path (`fast_set_up`): row-major when all are contiguous,
/// channels-last when all are (4-d), the operands' own strides when all are dense with the
/// same ones. Otherwise the dims are sorted by the operands' strides ([`iterator_order`]) and
/// the result is dense in that order.
pub fn elementwise_layout(shape: &[usize], operands: &[&Layout]) -> ResultLayout {
    // The common case, decided without sorting: every operand at exactly row-major strides
    // (broadcast ones too) sorts to the identity. (An empty one may not: a size-1 dim inside
    // a size-0 one has the larger size.)
    if operands.iter().all(|l| l.is_exactly_row_major()) {
        return ResultLayout::RowMajor;
    }
    if operands.iter().all(|l| l.shape[..] == shape[..]) {
        if operands.iter().all(|l| l.is_contiguous()) {
            return ResultLayout::RowMajor;
        }
        if shape.len() == 4 && operands.iter().all(|l| l.is_channels_last()) {
            return ResultLayout::Strided(channels_last_strides(shape));
        }
        let last = &operands[operands.len() - 1].strides;
        if operands
            .iter()
            .all(|l| l.strides == *last && l.is_dense_in_some_order())
        {
            return ResultLayout::Strided(last.clone());
        }
    }
    if shape.len() < 2 {
        return ResultLayout::RowMajor;
    }
    match iterator_order(shape, operands) {
        // (an empty result's strides: its dims' products in that order, a size-0 dim zeroing
        // those outside it, as TensorIterator's `compatible_stride`)
        Some(order) if shape.contains(&0) => {
            let mut strides: Strides = SmallVec::from_elem(0, shape.len());
            let mut step = 1isize;
            for &d in order.iter().rev() {
                strides[d] = step;
                step = step.saturating_mul(isize::try_from(shape[d]).unwrap_or(isize::MAX));
            }
            ResultLayout::Strided(strides)
        }
        Some(order) => ResultLayout::Ordered(order),
        None => ResultLayout::RowMajor,
    }
}

/// The layout of a copy of `l` that keeps its format (PyTorch's `empty_like` with
/// `preserve_format`, behind `clone()` and `.to(dtype)`): its very strides where it is
/// dense, else dense in the order of its strides (`infer_dense_strides`).
pub fn preserved_layout(l: &Layout) -> ResultLayout {
    if l.is_exactly_row_major() {
        return ResultLayout::RowMajor;
    }
    if l.is_dense_in_some_order() {
        return ResultLayout::Strided(l.strides.clone());
    }
    match iterator_order(&l.shape, &[l]) {
        Some(order) if l.ndim() >= 2 => ResultLayout::Ordered(order),
        _ => ResultLayout::RowMajor,
    }
}

/// The strides of `empty(shape, memory_format=channels_last)` (NHWC): as PyTorch's
/// `get_channels_last_strides_2d`, a dim of size 0 zeroes the strides outside it.
pub fn channels_last_strides(shape: &[usize]) -> Strides {
    let mut strides: Strides = SmallVec::from_elem(0, 4);
    let mut step = 1isize;
    for d in [1, 3, 2, 0] {
        strides[d] = step;
        step = step.saturating_mul(isize::try_from(shape[d]).unwrap_or(isize::MAX));
    }
    strides
}

/// The dims, outermost first, by decreasing stride (ties in place): an order in which a
/// dense layout's elements are row-major.
pub fn order_of_strides(strides: &[isize]) -> Shape {
    let mut order: Shape = (0..strides.len()).collect();
    order.sort_by_key(|&d| std::cmp::Reverse(strides[d]));
    order
}

/// TensorIterator's `reorder_dimensions`: the dims sorted by the operands' strides (see
/// [`elementwise_order`]); `None` where that is row-major.
fn iterator_order(shape: &[usize], operands: &[&Layout]) -> Option<Shape> {
    let n = shape.len();
    let strides: SmallVec<[Strides; 3]> = operands
        .iter()
        .map(|l| {
            // (an operand's leading missing dims and broadcast dims have stride 0; a size-1
            // dim of a size-1 result keeps its stride, as PyTorch's `compute_strides`)
            let lead = n - l.ndim().min(n);
            (0..n)
                .map(|i| match i.checked_sub(lead) {
                    Some(j) if l.shape[j] == shape[i] => l.strides[j],
                    _ => 0,
                })
                .collect()
        })
        .collect();
    // 1: dim a goes inside dim b; -1: outside; 0: no operand decides.
    let inside = |a: usize, b: usize| -> i32 {
        for s in &strides {
            let (sa, sb) = (s[a], s[b]);
            if sa == 0 || sb == 0 {
                continue;
            }
            if sa != sb {
                return if sa < sb { -1 } else { 1 };
            }
            if shape[a] > shape[b] {
                return 1;
            }
        }
        0
    };
    // `perm[0]` is the innermost dim; insertion sort that leaves undecided pairs in place.
    let mut perm: Shape = (0..n).rev().collect();
    for i in 1..n {
        let mut moving = i;
        for j in (0..i).rev() {
            match inside(perm[j], perm[moving]) {
                c if c > 0 => {
                    perm.swap(j, moving);
                    moving = j;
                }
                c if c < 0 => break,
                _ => {}
            }
        }
    }
    perm.reverse();
    perm.iter()
        .enumerate()
        .any(|(k, &d)| k != d)
        .then_some(perm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elementwise_order_follows_the_first_deciding_operand() {
        let rows = Layout::contiguous(&[2, 3]);
        let cols = rows.transpose(0, 1); // shape [3, 2], strides [1, 3]
                                         // a transposed operand alone: its own order (the result gets its strides)
        assert_eq!(
            elementwise_order(&[3, 2], &[&cols]).as_deref(),
            Some(&[1, 0][..])
        );
        // a contiguous first operand decides for both
        let c32 = Layout::contiguous(&[3, 2]);
        assert_eq!(elementwise_order(&[3, 2], &[&c32, &cols]), None);
        assert_eq!(
            elementwise_order(&[3, 2], &[&cols, &c32]).as_deref(),
            Some(&[1, 0][..])
        );
        // a broadcast first operand defers to the next
        let bias = Layout::contiguous(&[2]);
        assert_eq!(
            elementwise_order(&[3, 2], &[&bias, &cols]).as_deref(),
            Some(&[1, 0][..])
        );
        // channels-last (N, C, H, W) keeps C innermost
        let nhwc = Layout::contiguous(&[2, 4, 5, 3]).permute(&[0, 3, 1, 2]);
        assert_eq!(
            elementwise_order(&[2, 3, 4, 5], &[&nhwc]).as_deref(),
            Some(&[0, 2, 3, 1][..])
        );
        // every operand contiguous, or one dim: row-major
        assert_eq!(elementwise_order(&[3, 2], &[&c32, &c32]), None);
        assert_eq!(
            elementwise_order(&[3], &[&Layout::contiguous(&[6]).slice(0, 0, 6, 2)]),
            None
        );
    }

    #[test]
    fn contiguous_strides_are_row_major() {
        assert_eq!(contiguous_strides(&[2, 3, 4]).as_slice(), &[12, 4, 1]);
        assert!(Layout::contiguous(&[2, 3]).is_contiguous());
        assert!(!Layout::contiguous(&[2, 3]).transpose(0, 1).is_contiguous());
    }

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(
            broadcast_shapes(&[2, 1, 3], &[4, 1]).unwrap().as_slice(),
            &[2, 4, 3]
        );
        assert_eq!(broadcast_shapes(&[], &[5]).unwrap().as_slice(), &[5]);
        let err = broadcast_shapes(&[2, 3], &[4, 3]).unwrap_err();
        assert!(err.to_string().contains("size of tensor a (2) must match"));
    }

    #[test]
    fn overlap_is_told_from_strides() {
        let grid = Layout::contiguous(&[6, 7]);
        assert!(grid.is_non_overlapping());
        assert!(grid.transpose(0, 1).is_non_overlapping());
        assert!(grid.slice(1, 1, 5, 2).is_non_overlapping());
        assert!(grid.select(1, 3).is_non_overlapping());
        // unfold(1, 3, 1): windows share elements; with step 3 they do not.
        let windows = |step: isize, n: usize| Layout {
            shape: [6, n, 3].as_slice().into(),
            strides: [7, step, 1].as_slice().into(),
            offset: 0,
        };
        assert!(!windows(1, 5).is_non_overlapping());
        assert!(windows(3, 2).is_non_overlapping());
        assert!(!Layout::contiguous(&[1, 4])
            .expand(&[3, 4])
            .unwrap()
            .is_non_overlapping());
        assert!(Layout::contiguous(&[0, 4])
            .expand(&[0, 4])
            .unwrap()
            .is_non_overlapping());
    }

    #[test]
    fn expand_uses_zero_strides() {
        let l = Layout::contiguous(&[3, 1]).expand(&[2, 3, 4]).unwrap();
        assert_eq!(l.strides.as_slice(), &[0, 1, 0]);
        assert_eq!(
            l.offsets(),
            (0..2)
                .flat_map(|_| (0..3).flat_map(|i| [i; 4]))
                .collect::<Vec<_>>()
        );
        assert!(Layout::contiguous(&[3]).expand(&[4]).is_err());
    }

    #[test]
    fn strided_offsets_match_naive_indexing() {
        let l = Layout::contiguous(&[2, 3, 4]).permute(&[2, 0, 1]);
        let mut naive = vec![];
        for k in 0..4 {
            for i in 0..2 {
                for j in 0..3 {
                    naive.push(i * 12 + j * 4 + k);
                }
            }
        }
        assert_eq!(l.offsets(), naive);
        let s = Layout::contiguous(&[10]).slice(0, 1, 8, 3);
        assert_eq!(s.offsets(), vec![1, 4, 7]);
        let sel = Layout::contiguous(&[3, 4]).select(1, 2);
        assert_eq!(sel.offsets(), vec![2, 6, 10]);
    }

    #[test]
    fn view_follows_pytorch_rules() {
        let l = Layout::contiguous(&[2, 3, 4]);
        assert_eq!(l.view(&[6, 4]).unwrap().strides.as_slice(), &[4, 1]);
        let t = l.transpose(1, 2); // shape [2, 4, 3]
        assert!(t.view(&[8, 3]).is_none());
        assert_eq!(
            t.view(&[2, 4, 3, 1]).unwrap().shape.as_slice(),
            &[2, 4, 3, 1]
        );
        assert_eq!(t.view(&[2, 12]), None);
        let e = Layout::contiguous(&[2, 3]).transpose(0, 1); // [3, 2]
        assert_eq!(e.view(&[3, 2, 1]).unwrap().strides.as_slice(), &[1, 3, 3]); // as torch
    }

    #[test]
    fn infer_shape_resolves_minus_one() {
        assert_eq!(infer_shape(&[-1, 3], 6).unwrap().as_slice(), &[2, 3]);
        let e = infer_shape(&[4, -1], 6).unwrap_err();
        assert_eq!(
            e.to_string(),
            "shape '[4, -1]' is invalid for input of size 6"
        );
        assert!(infer_shape(&[-1, -1], 6).is_err());
    }

    #[test]
    fn wrap_dim_errors_like_pytorch() {
        assert_eq!(wrap_dim(-1, 3).unwrap(), 2);
        let e = wrap_dim(3, 3).unwrap_err();
        assert!(matches!(e, Error::Index(_)));
        assert!(e.to_string().contains("[-3, 2], but got 3"));
    }

    /// Property test (a seeded generator in place of the `proptest` crate): random view
    /// chains (permute, expand, slice, select, narrow, unsqueeze, squeeze, view) over random
    /// shapes with size-0 and size-1 dims; every offset a chain's layout yields lies inside
    /// its storage and matches `extent`, and overflowing shapes are errors, never wraps.
    #[test]
    fn random_view_chains_stay_inside_their_storage() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut rnd = move |n: usize| -> usize {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n.max(1) as u64) as usize
        };
        for _ in 0..3000 {
            let nd = rnd(4) + 1;
            let shape: Vec<usize> = (0..nd).map(|_| [0, 1, 1, 2, 3, 5][rnd(6)]).collect();
            let storage = numel(&shape);
            let mut l = Layout::contiguous(&shape);
            for _ in 0..rnd(6) {
                let nd = l.ndim();
                match rnd(7) {
                    0 if nd > 0 => {
                        let mut p: Vec<usize> = (0..nd).collect();
                        for i in (1..nd).rev() {
                            p.swap(i, rnd(i + 1));
                        }
                        l = l.permute(&p);
                    }
                    1 => {
                        let mut t: Vec<usize> = vec![rnd(3) + 1];
                        t.extend(l.shape.iter().map(|&d| if d == 1 { rnd(4) } else { d }));
                        l = l.expand(&t).unwrap();
                    }
                    2 if nd > 0 => {
                        let d = rnd(nd);
                        let len = l.shape[d];
                        let start = rnd(len + 1);
                        let end = start + rnd(len - start + 1);
                        l = l.slice(d, start, end, rnd(3) + 1);
                    }
                    3 if nd > 0 && l.shape.iter().all(|&d| d > 0) => {
                        let d = rnd(nd);
                        l = l.select(d, rnd(l.shape[d]));
                    }
                    4 => l = l.unsqueeze(rnd(nd + 1)),
                    5 if nd > 0 => l = l.squeeze_dims(&[rnd(nd)]),
                    _ => {
                        let flat = [l.numel()];
                        if let Some(v) = l.view(&flat) {
                            l = v;
                        }
                    }
                }
                // As `Tensor::with_layout` does: an empty view addresses nothing.
                if l.shape.contains(&0) {
                    l.offset = 0;
                }
                let offsets = l.offsets();
                assert_eq!(offsets.len(), l.numel());
                assert!(l.fits_in(storage), "{l:?} over {storage}");
                let max = offsets.iter().max().map_or(0, |&m| m + 1);
                assert!(max <= l.extent().unwrap(), "{l:?}");
                assert!(offsets.iter().all(|&o| o < storage));
            }
        }
    }

    #[test]
    fn overflowing_shapes_are_errors() {
        assert!(checked_numel(&[1 << 62, 4]).is_err());
        assert!(checked_numel(&[1 << 62, 2]).is_err()); // past isize::MAX
        assert_eq!(checked_numel(&[0, 1 << 62, 4]).unwrap(), 0);
        let l = Layout::contiguous(&[1, 1]);
        assert!(l.expand(&[(1 << 62) + 1, 4]).is_err());
        assert!(broadcast_shapes(&[(1 << 62) + 1, 1], &[1, 4]).is_err());
        // Strides of an empty tensor saturate instead of wrapping.
        let e = Layout::contiguous(&[0, 1 << 62, 4]);
        assert_eq!(e.strides[0], isize::MAX);
        assert_eq!(e.extent(), Some(0));
        let far = Layout {
            shape: [2].into_iter().collect(),
            strides: [isize::MAX].into_iter().collect(),
            offset: 1,
        };
        assert_eq!(far.extent(), None);
        assert!(!far.fits_in(usize::MAX));
    }
}
