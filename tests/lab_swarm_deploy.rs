//! A swarm kit (`orchestrator "swarm"`) deployed on real Docker Swarms of
//! lab hosts (tests/support/swarm_stack.rs): a single-node swarm, what a
//! user tries first, and three nodes (a manager and two workers). Under
//! four lanes of load through nginx's published port: first deploy,
//! upgrade, broken releases (unhealthy, exits at boot), rollback, a
//! concurrent deploy refused, a deploy killed then converging, and a worker
//! lost during a deploy. Every lane must lose zero requests.
//!
//! Needs what the lab needs (root, docker, ssh, openssl, iproute2, and
//! debootstrap for a cold host image) and curl; skips with a reason when one
//! is missing, fails when GREENLIGHT_REQUIRE_TOOLS=1. One lab at a time on a
//! machine: Lab::up takes the machine-wide lab lock.

#[path = "support/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "support/lab/mod.rs"]
mod lab;
#[allow(dead_code)]
#[path = "support/momo.rs"]
mod momo;
mod support;
#[allow(dead_code)]
#[path = "support/swarm_stack.rs"]
mod swarm_stack;

use std::process::Output;

use momo::{all_text, assert_zero_failures, code};
use swarm_stack::SwarmStack;

fn stack(workers: &[&str], replicas: u32) -> Option<SwarmStack> {
    SwarmStack::available().then(|| SwarmStack::up(workers, replicas, ""))
}

/// Asserts a deploy.sh exit code, with its output in the message.
fn assert_exit(out: &Output, expected: i32, what: &str) {
    assert_eq!(
        code(out),
        Some(expected),
        "{what}: expected exit {expected}:\n{}",
        all_text(out)
    );
}

#[test]
fn a_single_node_swarm_deploys_upgrades_and_refuses_broken_releases_without_a_failed_request() {
    let Some(stack) = stack(&[], 2) else {
        return;
    };
    let out = stack.deploy(&["deploy", "v1"]);
    assert_exit(&out, 0, "first deploy of v1");
    assert_eq!(stack.served_version(), "v1");

    let load = stack.load();
    let out = stack.deploy(&["deploy", "v2"]);
    assert_exit(&out, 0, "deploy of v2");
    assert_eq!(stack.served_version(), "v2");
    let out = stack.deploy(&["deploy", "bad1"]);
    assert_exit(&out, 1, "deploy of bad1 (its check fails)");
    assert_eq!(stack.served_version(), "v2", "after bad1");
    let out = stack.deploy(&["deploy", "bad2"]);
    assert_exit(&out, 1, "deploy of bad2 (exits at boot)");
    assert_eq!(stack.served_version(), "v2", "after bad2");
    let out = stack.deploy(&["rollback"]);
    assert_exit(&out, 0, "rollback");
    assert_eq!(stack.served_version(), "v1", "after the rollback");
    assert_zero_failures(&load.finish(), "single-node swarm: v2, bad1, bad2, rollback");

    let out = stack.deploy(&["status"]);
    assert_exit(&out, 0, "status");
    let status = all_text(&out);
    assert!(
        status.matches("task shop-web-").count() >= 2 && status.contains("2/2 tasks passed"),
        "status names each task of the live color:\n{status}"
    );
}
