//! Anomaly mode (`detect_anomaly()`): nodes remember where they were created, and a NaN
//! produced by a backward formula raises naming the node and that place.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

static ENABLED: AtomicBool = AtomicBool::new(false);

type TraceProvider = Box<dyn Fn() -> Option<String> + Send + Sync>;
static TRACE_PROVIDER: OnceLock<TraceProvider> = OnceLock::new();

pub fn is_enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

pub fn set_enabled(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// Whether anomaly mode checks backward's results for NaN (`check_nan=`, on by default).
static CHECK_NAN: AtomicBool = AtomicBool::new(true);

pub fn set_check_nan(check: bool) {
    CHECK_NAN.store(check, Ordering::Relaxed);
}

pub fn is_check_nan_enabled() -> bool {
    CHECK_NAN.load(Ordering::Relaxed)
}

/// Installs the function that describes the caller's current location (the binding layer
/// provides the Python stack). Only the first call takes effect.
pub fn set_trace_provider(provider: TraceProvider) {
    let _ = TRACE_PROVIDER.set(provider);
}

/// Where the current op is being recorded, when anomaly mode is on.
pub fn capture() -> Option<String> {
    if !is_enabled() {
        return None;
    }
    TRACE_PROVIDER.get().and_then(|p| p())
}
