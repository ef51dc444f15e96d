//! A swarm kit (`orchestrator "swarm"`) deployed on real Docker Swarms of
//! lab hosts (tests/support/swarm_stack.rs): a single-node swarm, what a
//! user tries first, and three nodes (a manager and two workers). Under
//! four lanes of load through nginx's published port: first deploy,
//! upgrade, broken releases (unhealthy, exits at boot), rollback, a
//! concurrent deploy refused, a deploy killed then converging, and a worker
//! lost during a deploy, and images pulled from a private registry with the
//! deployer's login. Every lane must lose zero requests.
//!
//! Needs what the lab needs (root, docker, ssh, openssl, iproute2, and
//! debootstrap for a cold host image) and curl; skips with a reason when one
//! is missing, fails when GREENLIGHT_REQUIRE_TOOLS=1. One lab at a time on a
//! machine: Lab::up takes the machine-wide lab lock.

#[allow(dead_code)]
#[path = "support/compose_harness.rs"]
mod compose_harness;
#[path = "support/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "support/lab/mod.rs"]
mod lab;
#[allow(dead_code)]
#[path = "support/momo.rs"]
mod momo;
#[allow(dead_code)]
#[path = "support/registry.rs"]
mod registry;
mod support;
#[allow(dead_code)]
#[path = "support/swarm_stack.rs"]
mod swarm_stack;

use std::process::Output;
use std::time::{Duration, Instant};

use momo::{all_text, assert_zero_failures, code};
use support::images::APP_IMAGE;
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
    // The manager named as the spec's host: its engine over ssh, the lock
    // on it. The app has a secret file, whose content changes between
    // deploys: each content becomes a swarm secret of its own.
    let secrets = tempfile::tempdir().unwrap();
    let secret = secrets.path().join("db-password");
    std::fs::write(&secret, "one").unwrap();
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let app_extra = format!(
        "    secret \"DB_PASSWORD\" from-file=\"{}\" as=\"file\"",
        secret.display()
    );
    let Some(stack) =
        SwarmStack::available().then(|| SwarmStack::up_by_manager_host(&[], 2, &app_extra))
    else {
        return;
    };
    let out = stack.deploy(&["deploy", "v1"]);
    assert_exit(&out, 0, "first deploy of v1");
    assert_eq!(stack.served_version(), "v1");

    let load = stack.load();
    std::fs::write(&secret, "two").unwrap();
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
    assert_zero_failures(
        &load.finish(),
        "single-node swarm: v2, bad1, bad2, rollback",
    );

    // The lock is on the manager: a second runner, with a state dir of its
    // own (another control machine), is refused while a deploy holds it.
    std::fs::write(&secret, "three").unwrap();
    let first = stack.spawn(&["deploy", "v3"]);
    momo::wait_for(
        Duration::from_secs(60),
        "deploy v3 started its color",
        || stack.service_version("green") == "v3",
    );
    let other = stack.state_dir().with_file_name("other-runner");
    let refused = momo::wait_group(
        stack
            .deploy_cmd_from(&other, &["deploy", "v2"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
        Duration::from_secs(60),
        "a second runner",
    );
    assert_exit(
        &refused,
        75,
        "a deploy from another control machine during deploy v3",
    );
    assert!(
        all_text(&refused).contains(" m"),
        "the refusal names the lock's host:\n{}",
        all_text(&refused)
    );
    let out = momo::wait_group(first, Duration::from_secs(240), "deploy v3");
    assert_exit(&out, 0, "deploy v3");
    let out = stack.deploy(&["status"]);
    assert_exit(&out, 0, "status");
    let status = all_text(&out);
    assert!(
        status.matches("task shop-web-").count() >= 2
            && status.contains("2/2 tasks passed")
            && status.contains("swarm nodes: m (manager, ready)"),
        "status names each task of the live color:\n{status}"
    );

    // prune: of the three secret contents' swarm secrets, those no
    // service uses go; the live and kept colors' stay, and a rollback to
    // the kept color still has its secret. The site serves throughout.
    let load = stack.load();
    let in_use = stack.secrets_in_use();
    assert!(
        stack.secrets().len() > in_use.len(),
        "three contents, two colors: a secret is unused before prune\n{:?} in use of {:?}",
        in_use,
        stack.secrets()
    );
    let out = stack.deploy(&["prune"]);
    assert_exit(&out, 0, "prune");
    let said = all_text(&out);
    assert!(
        said.contains("removed swarm secret ") && said.contains("other nodes keep their images"),
        "prune names what it removed:\n{said}"
    );
    assert_eq!(
        stack.secrets(),
        in_use,
        "after prune: the secrets in use, only"
    );
    // The failed versions' images go from the manager; the deployed stay.
    for version in ["bad1", "bad2"] {
        assert!(
            said.contains(&format!("removed {APP_IMAGE}:{version} on m")),
            "prune removes {version}:\n{said}"
        );
    }
    for version in ["v1", "v2", "v3"] {
        let image = format!("{APP_IMAGE}:{version}");
        assert!(
            stack
                .host("m")
                .docker(&["image", "inspect", &image])
                .status
                .success(),
            "prune kept {image}:\n{said}"
        );
    }
    assert_eq!(stack.served_version(), "v3", "after prune");
    let out = stack.deploy(&["rollback"]);
    assert_exit(&out, 0, "rollback after prune");
    assert_eq!(
        stack.served_version(),
        "v1",
        "after the rollback that followed prune"
    );
    assert_zero_failures(&load.finish(), "single-node swarm: prune, rollback");
}

/// The images in a private registry that takes only a login, which this
/// machine's docker client has and no node has: every node pulls its task's
/// image with the login deploy.sh passes along with the stack, for the
/// first deploy and for an upgrade under load.
#[test]
fn a_three_node_swarm_pulls_each_release_from_a_private_registry_with_the_deployers_login() {
    let Some(stack) =
        SwarmStack::available().then(|| SwarmStack::up_from_a_private_registry(&["w1", "w2"], 3))
    else {
        return;
    };
    let out = stack.deploy(&["deploy", "v1"]);
    assert_exit(&out, 0, "first deploy of v1");
    assert_eq!(stack.served_version(), "v1");
    let every_node = ["m", "w1", "w2"].map(String::from).to_vec();
    assert_eq!(
        stack.running_nodes("blue"),
        every_node,
        "a task of v1 on each node, each pulled:\n{}",
        stack.service_ps("blue")
    );
    let load = stack.load();
    let out = stack.deploy(&["deploy", "v2"]);
    assert_exit(&out, 0, "deploy of v2");
    assert_eq!(stack.served_version(), "v2");
    assert_eq!(
        stack.running_nodes("green"),
        every_node,
        "a task of v2 on each node, each pulled:\n{}",
        stack.service_ps("green")
    );
    assert_zero_failures(
        &load.finish(),
        "three-node swarm from a private registry: v2",
    );
}

#[test]
fn a_three_node_swarm_deploys_without_a_failed_request_refuses_a_second_runner_and_converges_after_a_kill(
) {
    let Some(stack) = stack(&["w1", "w2"], 3) else {
        return;
    };
    let out = stack.deploy(&["deploy", "v1"]);
    assert_exit(&out, 0, "first deploy of v1");
    assert_eq!(stack.served_version(), "v1");
    let nodes = stack.running_nodes("blue");
    assert_eq!(
        nodes,
        ["m", "w1", "w2"],
        "the swarm spreads the 3 tasks over the 3 nodes:\n{}",
        stack.service_ps("blue")
    );

    let load = stack.load();
    let out = stack.deploy(&["deploy", "v2"]);
    assert_exit(&out, 0, "deploy of v2");
    assert_eq!(stack.served_version(), "v2");
    let out = stack.deploy(&["deploy", "bad1"]);
    assert_exit(&out, 1, "deploy of bad1 (its check fails)");
    assert!(
        all_text(&out).contains("a task failed"),
        "the failure names a failed task:\n{}",
        all_text(&out)
    );
    assert_eq!(stack.served_version(), "v2", "after bad1");
    let out = stack.deploy(&["rollback"]);
    assert_exit(&out, 0, "rollback");
    assert_eq!(stack.served_version(), "v1", "after the rollback");

    // A second runner while a deploy holds the lock: refused, exit 75.
    let first = stack.spawn(&["deploy", "v3"]);
    momo::wait_for(
        Duration::from_secs(60),
        "deploy v3 started its color",
        || stack.service_version("green") == "v3",
    );
    let refused = stack.deploy(&["deploy", "v2"]);
    assert_exit(&refused, 75, "a second deploy during deploy v3");
    let out = momo::wait_group(first, Duration::from_secs(240), "deploy v3");
    assert_exit(&out, 0, "deploy v3 beside a refused runner");
    assert_eq!(stack.served_version(), "v3");

    // A deploy SIGKILLed (all of it) mid-gate; the next deploy converges.
    let mut child = stack.spawn(&["deploy", "v2"]);
    momo::wait_for(
        Duration::from_secs(60),
        "deploy v2 started its color",
        || {
            assert!(
                child.try_wait().unwrap().is_none(),
                "deploy v2 ended before its gate"
            );
            stack.service_version("blue") == "v2"
        },
    );
    momo::kill_group(&child);
    child.wait().unwrap();
    eprintln!("deploy v2 SIGKILLed in its gate");
    assert_eq!(stack.served_version(), "v3", "after the kill");
    let out = stack.deploy(&["deploy", "v2"]);
    assert_exit(&out, 0, "deploy v2 after a killed deploy");
    assert_eq!(stack.served_version(), "v2");
    assert_eq!(
        stack.running_nodes("blue").len(),
        3,
        "{}",
        stack.service_ps("blue")
    );
    assert_zero_failures(
        &load.finish(),
        "three-node swarm: v2, bad1, rollback, a refused runner, v3, a killed deploy, v2",
    );
}

#[test]
fn a_worker_lost_during_a_deploy_completes_with_its_task_run_elsewhere_and_the_next_deploy_converges(
) {
    worker_lost_during_a_deploy("60s", 0);
}

#[test]
fn a_worker_lost_during_a_short_gate_aborts_with_the_old_color_serving_and_the_next_deploy_converges(
) {
    // The swarm sees a lost node after 12 to 15 s: a 10 s gate ends first.
    worker_lost_during_a_deploy("10s", 1);
}

/// w2 loses power while deploy v2 waits for its tasks; the deploy exits
/// `expected` (0: completed, the lost task run again elsewhere; 1: aborted,
/// v1 serving), then deploy v3 converges with w2 still down.
fn worker_lost_during_a_deploy(deadline: &str, expected: i32) {
    let Some(stack) =
        SwarmStack::available().then(|| SwarmStack::up_with(&["w1", "w2"], 3, "", deadline))
    else {
        return;
    };
    let out = stack.deploy(&["deploy", "v1"]);
    assert_exit(&out, 0, "first deploy of v1");
    let load = stack.load();
    let child = stack.spawn(&["deploy", "v2"]);
    momo::wait_for(
        Duration::from_secs(60),
        "deploy v2 started its color",
        || stack.service_version("green") == "v2",
    );
    let lost = Instant::now();
    stack.host("w2").stop();
    eprintln!("w2 lost during the gate of deploy v2");
    let out = momo::wait_group(child, Duration::from_secs(240), "deploy v2");
    eprintln!(
        "deploy v2 ended {:.1} s after w2 was lost, exit {:?}",
        lost.elapsed().as_secs_f64(),
        out.status.code()
    );
    let served = stack.served_version();
    assert_exit(&out, expected, "deploy v2 with w2 lost");
    if expected == 0 {
        // Completed: the swarm ran w2's task elsewhere, every task passed.
        assert_eq!(served, "v2", "a deploy that says 0 serves v2");
        let nodes = stack.running_nodes("green");
        assert!(
            nodes.len() == 3 && !nodes.contains(&"w2".to_string()),
            "v2 runs 3 tasks, none on w2: {nodes:?}\n{}",
            stack.service_ps("green")
        );
    } else {
        // Aborted: the old color serves, whole.
        assert_eq!(served, "v1", "a failed deploy leaves v1 serving");
    }
    // Once the swarm sees w2 gone (12 to 15 s after the loss), status says so.
    momo::wait_for(
        Duration::from_secs(60),
        "the manager to mark w2 down",
        || {
            let out =
                stack
                    .host("m")
                    .docker(&["node", "ls", "--format", "{{.Hostname}} {{.Status}}"]);
            String::from_utf8_lossy(&out.stdout).contains("w2 Down")
        },
    );
    let status = stack.deploy(&["status"]);
    assert!(
        all_text(&status).contains("w2 (worker, down)"),
        "status names the lost node:\n{}",
        all_text(&status)
    );
    let out = stack.deploy(&["deploy", "v3"]);
    assert_exit(&out, 0, "deploy v3 with w2 still down");
    assert_eq!(stack.served_version(), "v3");
    let live = if stack.service_version("blue") == "v3" {
        "blue"
    } else {
        "green"
    };
    let nodes = stack.running_nodes(live);
    assert!(
        nodes.len() == 3 && !nodes.contains(&"w2".to_string()),
        "v3 runs 3 tasks on m and w1: {nodes:?}\n{}",
        stack.service_ps(live)
    );
    let report = load.finish();
    let failures = momo::failures(&report, "w2 lost during deploy v2, then deploy v3");
    eprintln!("failed requests per lane with w2 lost: {failures:?}");
}
