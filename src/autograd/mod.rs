//! The autograd core: variables, the graph arena, grad mode and the backward engine.

pub mod anomaly;
pub mod arena;
pub mod engine;
pub mod grad_mode;
pub mod var;

pub use arena::{Backward, Edge, Edges, LayoutFn, NodeId, NodeRef, SavedVar};
pub use engine::{backward, grad};
pub use grad_mode::{grad_mode_flag, is_grad_enabled, set_grad_enabled, GradModeGuard};
pub use var::{HookHandle, Var, ViewCreation, ViewReplay};

use std::sync::Arc;

/// A gradient hook: sees the gradient computed for a tensor and may return a replacement.
pub type GradHook = Arc<dyn Fn(&Var) -> crate::error::Result<Option<Var>> + Send + Sync>;
