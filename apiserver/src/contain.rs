//! A panic inside the code that serves one request must become a 500 Status, not a
//! dropped connection: calls into patch, admission and rendering code go through here.

use crate::error::ApiError;
use std::panic::{AssertUnwindSafe, catch_unwind};

pub fn contain<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, ApiError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        ApiError::internal(format!("{what} failed: {msg}"))
    })
}
