//! The deploy benchmark of the compose runtime (prints figures; asserts
//! nothing): the rounds of benches/rounds (a deploy, a rollback and a broken
//! release under gl-load's four lanes, plus a deploy under the fast lanes to
//! measure overhead over the container's 1 s boot) on this machine's Docker
//! Engine, nginx as a compose service. Four setups: compose v2 and v1 with
//! an nginx image that loads njs (switch without reload), compose v2 with
//! one laid out like the official image (the module there, not loaded:
//! deploy.sh loads it), and compose v2 with one without njs (switch by
//! reload). Arguments filter the setups by name (`cargo bench --bench
//! deploy_compose -- v1`).
//!
//! Run: `cargo build --release --workspace && cargo bench --bench deploy_compose`

#[allow(dead_code)]
#[path = "../tests/support/compose_harness.rs"]
mod compose_harness;
#[path = "../tests/support/harness.rs"]
mod harness;
mod rounds;
#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::process::Command;

use compose_harness::{ComposeStack, Nginx, Options};
use harness::Load;
use rounds::{Releases, Target};
use support::Compose;

impl Target for ComposeStack {
    fn deploy_cmd(&self, args: &[&str]) -> Command {
        ComposeStack::deploy_cmd(self, args)
    }
    fn load_with(&self, extra: &[&str]) -> Load {
        ComposeStack::load_with(self, extra)
    }
    fn path(&self, rel: &str) -> PathBuf {
        ComposeStack::path(self, rel)
    }
}

fn main() {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let setups = [
        (
            "compose v2, nginx in compose with njs",
            Compose::V2,
            Nginx::Njs,
        ),
        (
            "compose v1, nginx in compose with njs",
            Compose::V1,
            Nginx::Njs,
        ),
        (
            "compose v2, stock-layout nginx (njs loaded by deploy.sh)",
            Compose::V2,
            Nginx::Stock,
        ),
        (
            "compose v2, nginx in compose without njs (reload)",
            Compose::V2,
            Nginx::Plain,
        ),
    ];
    let mut summaries = Vec::new();
    for (title, compose, nginx) in setups {
        if !filters.is_empty() && !filters.iter().any(|f| title.contains(f.as_str())) {
            continue;
        }
        println!("\n=== {title}");
        let stack = ComposeStack::new(
            "bench",
            Options {
                compose,
                nginx,
                health: "interval \"50ms\"\n        timeout \"1s\"\n        deadline \"3s\"",
                ..Options::default()
            },
        );
        assert_eq!(
            stack.deploy(&["deploy", "v1"]).status.code(),
            Some(0),
            "first deploy failed"
        );
        let summary = rounds::run(&stack, |round| {
            let (version, quick) = if round % 2 == 1 {
                ("boot1a", "boot1b")
            } else {
                ("boot1b", "boot1a")
            };
            Releases {
                version: version.into(),
                broken: "bad1".into(),
                quick: quick.into(),
            }
        });
        summaries.push((title, summary));
    }
    for (title, summary) in &summaries {
        rounds::print_summary(title, summary, rounds::OverheadTarget::OverReadiness(1000));
    }
}
