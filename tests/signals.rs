//! deploy.sh's signal handling, run on its own functions: the committed
//! hello kit's code with a stand-in `work`, and a signal sent at the one
//! moment a deploy under load rarely hits (CI hit it once in hundreds of
//! runs of the fault suite).

mod support;

use std::process::Command;
use std::time::Duration;

use support::*;

/// The hello kit's code, with `run_worker` driven by a `work` that leaves
/// a marker file 0.3 s after it starts, and a SIGTERM sent to deploy.sh
/// from a DEBUG trap just before it reads the worker's pid (`$!`): bash
/// runs a signal's trap between two commands, and this is the moment it
/// ran it in 135 of 300 runs where the worker signalled deploy.sh at once.
fn kit_signalled_before_the_workers_pid_is_read() -> String {
    let kit = root().join("specs/deploy/hello");
    let code = kit_code_with(|path| {
        std::fs::read_to_string(kit.join(path))
            .unwrap_or_else(|e| panic!("cannot read kit file {path}: {e}"))
    });
    let driver = r#"
RUN_TMP=$(mktemp -d)
trap cleanup_tmp EXIT
COMMAND=deploy
work() {
  sleep 0.3
  : >"$MARKER"
}
set -o functrace
trap '[[ $BASH_COMMAND != "WORKER=\$!" || $BASHPID != "$$" ]] || kill -TERM "$$"' DEBUG
run_worker
"#;
    for line in ["\ncheck_kit\n", "\nmain \"$@\"\n", "\n  WORKER=$!\n"] {
        assert!(code.contains(line), "the kit has no {line:?} line");
    }
    code.replace("\ncheck_kit\n", "\n")
        .replace("\nmain \"$@\"\n", driver)
}

/// A SIGTERM that comes after the worker is forked and before its pid is
/// known still stops the worker: deploy.sh exits 143 and the worker never
/// goes on to its next step.
#[test]
fn a_signal_while_the_worker_is_forked_stops_the_worker() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("the-worker-went-on");
    let script = dir.path().join("deploy.sh");
    std::fs::write(&script, kit_signalled_before_the_workers_pid_is_read()).unwrap();
    let out = Command::new("bash")
        .arg(&script)
        .env("MARKER", &marker)
        .env("TMPDIR", dir.path())
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(143), "{said}");
    assert!(said.contains("interrupted by SIGTERM"), "{said}");
    // The worker sleeps 0.3 s before its marker; give it three times that.
    std::thread::sleep(Duration::from_millis(900));
    assert!(
        !marker.exists(),
        "the worker went on after deploy.sh was terminated\n{said}"
    );
}
