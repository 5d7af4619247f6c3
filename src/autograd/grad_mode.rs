//! Grad mode is per thread, as in PyTorch: `no_grad()` in one thread leaves others recording.

use std::cell::Cell;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether ops record a graph: grad mode is on and inference mode off (PyTorch's inference
/// mode records nothing even under `enable_grad`).
pub fn is_grad_enabled() -> bool {
    grad_mode_flag() && !crate::tensor::storage::is_inference_mode()
}

/// Grad mode as set (`torch.is_grad_enabled()`), whatever inference mode says.
pub fn grad_mode_flag() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

pub fn set_grad_enabled(enabled: bool) {
    GRAD_ENABLED.with(|g| g.set(enabled));
}

/// Sets grad mode for a scope and restores the previous mode on drop.
pub struct GradModeGuard {
    previous: bool,
}

impl GradModeGuard {
    pub fn new(enabled: bool) -> GradModeGuard {
        let previous = grad_mode_flag();
        set_grad_enabled(enabled);
        GradModeGuard { previous }
    }
}

impl Drop for GradModeGuard {
    fn drop(&mut self) {
        set_grad_enabled(self.previous);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_restores_and_is_thread_local() {
        assert!(is_grad_enabled());
        {
            let _g = GradModeGuard::new(false);
            assert!(!is_grad_enabled());
            std::thread::spawn(|| assert!(is_grad_enabled()))
                .join()
                .unwrap();
        }
        assert!(is_grad_enabled());
    }
}
