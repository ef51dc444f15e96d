//! `greenlight completions SHELL` and `greenlight man`: generated from the
//! command line itself, each naming every subcommand.

use std::io::Write as _;
use std::process::{Command, Stdio};

const SUBCOMMANDS: &[&str] = &[
    "build",
    "check",
    "validate",
    "explain",
    "init",
    "completions",
    "man",
];

fn stdout_of(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_greenlight"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn each_shell_gets_a_script_naming_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout_of(&["completions", shell]);
        assert!(!script.trim().is_empty(), "{shell}");
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell} script lacks {sub}");
        }
    }
}

#[test]
fn bash_accepts_the_bash_script() {
    let script = stdout_of(&["completions", "bash"]);
    let Ok(mut bash) = Command::new("bash").arg("-n").stdin(Stdio::piped()).spawn() else {
        eprintln!("SKIPPED: no bash");
        return;
    };
    bash.stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(bash.wait().unwrap().success(), "bash -n refused:\n{script}");
}

#[test]
fn the_man_page_is_roff_naming_every_subcommand() {
    let page = stdout_of(&["man"]);
    let th = page
        .lines()
        .find(|l| !l.starts_with(".ie") && !l.starts_with(".el"));
    assert!(
        th.is_some_and(|l| l.starts_with(".TH greenlight 1")),
        "{page}"
    );
    for sub in SUBCOMMANDS {
        assert!(
            page.contains(&format!("greenlight\\-{sub}")),
            "the man page lacks {sub}"
        );
    }
}
