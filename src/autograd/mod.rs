//! The autograd core: variables, the graph arena, grad mode and the backward engine.

pub mod arena;
pub mod engine;
pub mod grad_mode;
pub mod var;

pub use arena::{Backward, Edge, NodeId, NodeRef, SavedVar};
pub use engine::{backward, grad};
pub use grad_mode::{is_grad_enabled, set_grad_enabled, GradModeGuard};
pub use var::Var;
