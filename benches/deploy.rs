//! The deploy benchmark of the process runtime (prints figures; asserts
//! nothing): the rounds of benches/rounds (a deploy, a rollback and a broken
//! release under gl-load's four lanes, plus a deploy under the fast lanes to
//! measure overhead) against gl-testapp processes behind Debian's nginx with
//! njs.
//!
//! Run: `cargo build --release --workspace && cargo bench --bench deploy`

#[path = "../tests/support/harness.rs"]
mod harness;
mod rounds;
#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::process::Command;

use harness::{AppOptions, Load, Stack};
use rounds::{Releases, Target, BOOT_MS};

impl Target for Stack {
    fn deploy_cmd(&self, args: &[&str]) -> Command {
        Stack::deploy_cmd(self, args)
    }
    fn load_with(&self, extra: &[&str]) -> Load {
        Stack::load_with(self, extra)
    }
    fn path(&self, rel: &str) -> PathBuf {
        Stack::path(self, rel)
    }
}

fn main() {
    let stack = Stack::new(AppOptions {
        health: "interval \"50ms\"\n        timeout \"1s\"\n        deadline \"3s\"",
        drain: "10s",
        keep_previous: true,
        extra: "",
    });
    assert_eq!(
        stack.deploy(&["deploy", "v0"]).status.code(),
        Some(0),
        "first deploy failed"
    );
    let summary = rounds::run(&stack, |round| {
        let releases = Releases {
            version: format!("r{round}"),
            broken: format!("r{round}-broken"),
            quick: format!("r{round}-quick"),
        };
        let boot = format!("APP_BOOT_DELAY_MS={BOOT_MS}\n");
        stack.version_env(&releases.version, &boot);
        stack.version_env(&releases.broken, "APP_BROKEN=unhealthy\n");
        stack.version_env(&releases.quick, &boot);
        releases
    });
    rounds::print_summary(
        "process runtime, host nginx with njs",
        &summary,
        rounds::OverheadTarget::OverBoot(500),
    );
}
