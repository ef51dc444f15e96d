//! SIGTERM/SIGINT handling with the standard library only.
//!
//! The handler just records the signal number in an atomic, which is
//! async-signal-safe; the server polls [`received`]. This is required when
//! running as PID 1 in a container: the kernel gives PID 1 no default action
//! for SIGTERM, so without a handler `docker stop` waits and then SIGKILLs.

use std::ffi::c_int;
use std::sync::atomic::{AtomicI32, Ordering};

const SIGINT: c_int = 2;
const SIGTERM: c_int = 15;
/// `SIG_ERR` as returned by `signal(2)`.
const SIG_ERR: usize = usize::MAX;

static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" {
    /// glibc `signal(2)`: installs a persistent handler with `SA_RESTART`.
    fn signal(signum: c_int, handler: extern "C" fn(c_int)) -> usize;
}

extern "C" fn on_signal(signum: c_int) {
    RECEIVED.store(signum, Ordering::SeqCst);
}

/// Installs the flag-raising handler for SIGTERM and SIGINT.
pub fn install() -> std::io::Result<()> {
    for signum in [SIGTERM, SIGINT] {
        // SAFETY: the handler only performs an atomic store, which is
        // async-signal-safe, and has the C ABI `signal` expects.
        if unsafe { signal(signum, on_signal) } == SIG_ERR {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The name of the stop signal received so far (`SIGTERM`/`SIGINT`), if any.
pub fn received() -> Option<&'static str> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        SIGINT => Some("SIGINT"),
        _ => Some("SIGTERM"),
    }
}
