//! Waiting for a socket to become readable with a timeout: `poll(2)`, which
//! std does not expose. Lets the accept loop sleep until a connection
//! arrives while still checking the stop flag regularly.

use std::ffi::{c_int, c_short, c_ulong};
use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

/// `POLLIN` from `<poll.h>`.
const POLLIN: c_short = 0x1;

/// `struct pollfd` from `<poll.h>`.
#[repr(C)]
struct PollFd {
    fd: c_int,
    events: c_short,
    revents: c_short,
}

extern "C" {
    fn poll(fds: *mut PollFd, nfds: c_ulong, timeout_ms: c_int) -> c_int;
}

/// Waits up to `timeout` for `socket` to be readable (for a listener: a
/// connection to accept). A signal interrupting the wait counts as "not yet".
pub fn readable(socket: &impl AsRawFd, timeout: Duration) -> io::Result<bool> {
    let mut fds = PollFd {
        fd: socket.as_raw_fd(),
        events: POLLIN,
        revents: 0,
    };
    let timeout_ms = c_int::try_from(timeout.as_millis()).unwrap_or(c_int::MAX);
    // SAFETY: `fds` is one valid, exclusively borrowed `pollfd` for the call.
    match unsafe { poll(&mut fds, 1, timeout_ms) } {
        -1 => match io::Error::last_os_error() {
            e if e.kind() == io::ErrorKind::Interrupted => Ok(false),
            e => Err(e),
        },
        ready => Ok(ready > 0),
    }
}
