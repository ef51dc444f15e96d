//! The lab's machine-wide lock. The lab's subnet, network, route and
//! container names are fixed, so one lab at a time can exist on a machine:
//! test threads of one binary, test binaries and other worktrees all take
//! this lock (an flock, released by the kernel when its holder dies, so a
//! killed test never leaves it held).

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::Path;

/// Where the lock lives: a fixed path, the same for every worktree and
/// whatever TMPDIR says.
const PATH: &str = "/tmp/greenlight-lab.lock";

/// Holds the lab lock until dropped.
pub struct MachineLock {
    _file: File,
}

impl MachineLock {
    /// Takes the lock, waiting (and saying so) while another test holds it.
    /// Every `flock` is on its own open file, so two threads of one process
    /// exclude each other too; the descriptor is close-on-exec, so nothing
    /// the test starts inherits the lock.
    pub fn acquire() -> MachineLock {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(Path::new(PATH))
            .unwrap_or_else(|e| panic!("lab: cannot open {PATH}: {e}"));
        let fd = file.as_raw_fd();
        // SAFETY: flock on a descriptor this function owns.
        if unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            eprintln!(
                "lab: waiting for {PATH}: another test (maybe in another worktree) has the lab"
            );
            // SAFETY: as above.
            let locked = unsafe { libc::flock(fd, libc::LOCK_EX) };
            assert_eq!(
                locked,
                0,
                "lab: flock {PATH}: {}",
                std::io::Error::last_os_error()
            );
        }
        MachineLock { _file: file }
    }
}
