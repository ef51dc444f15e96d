//! The "momo" topology end to end on the lab of hosts (tests/support/momo.rs):
//! an app on two app servers behind Debian's nginx on a third host, the kit
//! run from this machine over ssh, images sent from this machine's engine.
//! Deploys, a release broken on one host only, a rollback and status under
//! four lanes of load; hosts that hang, lose power or are killed mid-gate;
//! two CI runners at once; a deploy SIGKILLed mid-gate; an accessory on its
//! host; a site that nginx's default server shadows; a host lost between
//! deploys; a failed pull.
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

use std::time::{Duration, Instant};

use momo::{all_text, assert_zero_failures, code, Momo, MomoOptions};

fn momo(options: MomoOptions) -> Option<Momo> {
    Momo::available().then(|| Momo::up(options))
}

/// The accessory of the faults test: on was2 only.
const ACCESSORY_ON_WAS2: &str = r#"accessory "cache" {
    image "greenlight-test/app:acc"
    port 8080
    on "was2"
}"#;

/// Asserts a deploy.sh exit code, with its output in the message.
fn assert_exit(out: &std::process::Output, expected: i32, what: &str) {
    assert_eq!(
        code(out),
        Some(expected),
        "{what}: expected exit {expected}:\n{}",
        all_text(out)
    );
}

/// After a successful deploy of `version`: nginx serves it, and every app
/// host runs it (one running container of it each).
fn assert_live_everywhere(momo: &Momo, version: &str) {
    assert_eq!(momo.served_version(), version, "served through lb");
    for host in ["was1", "was2"] {
        let running = momo.running_versions(host);
        assert!(
            running.iter().filter(|v| *v == version).count() == 1,
            "{host} should run one {version} container: {:?}",
            momo.color_versions(host)
        );
        assert!(
            momo.direct_versions(host).iter().any(|(_, v)| v == version),
            "{host} does not answer {version} on a color port: {:?}",
            momo.direct_versions(host)
        );
    }
}

#[test]
fn momo_deploys_across_hosts_without_a_failed_request() {
    let Some(momo) = momo(MomoOptions::default()) else {
        return;
    };
    let out = momo.deploy(&["deploy", "v1"]);
    assert_exit(&out, 0, "first deploy of v1");
    assert_live_everywhere(&momo, "v1");
    assert!(
        momo.containers("lb").is_empty(),
        "nothing of the app runs on the proxy host: {:?}",
        momo.containers("lb")
    );

    let load = momo.load(4);
    let out = momo.deploy(&["deploy", "v2"]);
    assert_exit(&out, 0, "v1 -> v2");
    assert_live_everywhere(&momo, "v2");

    // v3 is broken on was2 only: the whole deploy fails before the switch.
    momo.unhealthy_on("was2", "v3");
    let out = momo.deploy(&["deploy", "v3"]);
    assert_exit(&out, 1, "v3, unhealthy on was2");
    assert!(
        all_text(&out).contains("was2"),
        "the failure names was2:\n{}",
        all_text(&out)
    );
    assert_live_everywhere(&momo, "v2");
    for host in ["was1", "was2"] {
        let colors = momo.color_versions(host);
        assert!(
            !colors.iter().any(|l| l.contains(" v3 ")),
            "v3 containers left on {host}: {colors:?}"
        );
        assert!(
            !momo.direct_versions(host).iter().any(|(_, v)| v == "v3"),
            "v3 answers on {host}"
        );
    }
    for _ in 0..20 {
        assert_eq!(momo.served_version(), "v2", "after the failed v3");
    }

    let out = momo.deploy(&["rollback"]);
    assert_exit(&out, 0, "rollback");
    assert_live_everywhere(&momo, "v1");

    let out = momo.deploy(&["status"]);
    assert_exit(&out, 0, "status");
    let status = all_text(&out);
    assert!(status.contains("v1"), "status does not say v1:\n{status}");
    // Each app host is named, and said to be healthy.
    for host in ["was1", "was2"] {
        let about: Vec<&str> = status
            .split([',', '\n'])
            .filter(|part| part.contains(host))
            .collect();
        assert!(!about.is_empty(), "status does not name {host}:\n{status}");
        assert!(
            about.iter().any(|p| p.contains("healthy"))
                && about.iter().all(|p| {
                    let p = p.to_lowercase();
                    !p.contains("unhealthy") && !p.contains("unreachable") && !p.contains("down")
                }),
            "status says {host} is not fine while it is:\n{status}"
        );
    }

    let report = load.finish();
    assert_zero_failures(&report, "momo: v1, v2, broken v3, rollback, status");
    momo.lab.down();
}

#[test]
fn momo_survives_faults_across_machines() {
    let Some(momo) = momo(MomoOptions {
        top_extra: ACCESSORY_ON_WAS2.to_string(),
        ..MomoOptions::default()
    }) else {
        return;
    };
    let (was2, lb) = (momo.host("was2"), momo.host("lb"));
    let nothing_anywhere = |what: &str| {
        for host in ["was1", "was2", "lb"] {
            assert!(
                momo.containers(host).is_empty(),
                "{what}: something started on {host}: {:?}",
                momo.containers(host)
            );
        }
        assert!(
            !momo.site_conf_installed(),
            "{what}: the site conf was installed on lb"
        );
    };

    // A frozen app host: refused within seconds, naming it, nothing started.
    was2.pause();
    let started = Instant::now();
    let out = momo.deploy(&["deploy", "v1"]);
    let took = started.elapsed();
    was2.unpause();
    eprintln!(
        "deploy with was2 frozen: exit {:?} after {took:?}",
        code(&out)
    );
    assert_exit(&out, 2, "deploy with was2 frozen");
    let said = all_text(&out);
    assert!(
        said.contains("was2") && said.contains(&was2.address().to_string()),
        "the refusal names was2 and its address:\n{said}"
    );
    assert!(took < Duration::from_secs(15), "refused after {took:?}");
    nothing_anywhere("was2 frozen");

    // A frozen proxy host: the same.
    lb.pause();
    let started = Instant::now();
    let out = momo.deploy(&["deploy", "v1"]);
    let took = started.elapsed();
    lb.unpause();
    eprintln!(
        "deploy with lb frozen: exit {:?} after {took:?}",
        code(&out)
    );
    assert_exit(&out, 2, "deploy with lb frozen");
    assert!(
        all_text(&out).contains("lb"),
        "the refusal names lb:\n{}",
        all_text(&out)
    );
    assert!(took < Duration::from_secs(15), "refused after {took:?}");
    nothing_anywhere("lb frozen");

    let out = momo.deploy(&["deploy", "v1"]);
    assert_exit(&out, 0, "first deploy of v1");
    assert_live_everywhere(&momo, "v1");
    // The accessory runs on was2 only.
    let accessory = |host: &str| {
        momo.containers(host)
            .into_iter()
            .filter(|l| l.contains("-accessories "))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        accessory("was2"),
        vec!["momo-accessories cache running".to_string()],
        "the accessory on was2: {:?}",
        momo.containers("was2")
    );
    assert!(
        accessory("was1").is_empty(),
        "{:?}",
        momo.containers("was1")
    );
    assert!(accessory("lb").is_empty(), "{:?}", momo.containers("lb"));

    // status with an app host frozen: exit 1, naming it, and still saying
    // what nginx serves.
    was2.pause();
    let out = momo.deploy(&["status"]);
    let json = momo.deploy(&["status", "--json"]);
    was2.unpause();
    assert_exit(&json, 1, "status --json with was2 frozen");
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    for color in ["blue", "green"] {
        let about = &json["apps"][0]["colors"][color];
        assert_eq!(about["running"], serde_json::Value::Null, "{about}");
        assert_eq!(
            about["no_answer_from"],
            serde_json::json!(["was2"]),
            "{about}"
        );
    }
    assert_exit(&out, 1, "status with was2 frozen");
    let said = all_text(&out);
    // A frozen host still completes TCP handshakes (its kernel runs), so
    // nginx may hang on it: status says what nginx answered, if anything,
    // and what its installed conf routes to.
    assert!(
        said.contains("was2")
            && said.contains("blue")
            && said.contains("unknown: no answer from was2"),
        "status names the frozen host and the live color:\n{said}"
    );

    // was2 loses power during the health gate of a deploy: the deploy
    // fails, the old color keeps serving through was1.
    let load = momo.load(4);
    let mut child = momo
        .deploy_cmd(&["deploy", "boot3"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    momo::wait_for(Duration::from_secs(60), "boot3 starting on was2", || {
        assert!(
            child.try_wait().unwrap().is_none(),
            "deploy boot3 ended before boot3 started on was2"
        );
        momo.color_versions("was2")
            .iter()
            .any(|l| l.contains(" boot3 running"))
    });
    was2.stop();
    eprintln!("was2 stopped {:?} into deploy boot3", started.elapsed());
    let out = momo::wait_group(
        child,
        Duration::from_secs(180),
        "deploy boot3 with was2 stopped",
    );
    eprintln!("deploy boot3 with was2 lost mid-gate:\n{}", all_text(&out));
    assert_exit(&out, 1, "deploy boot3 with was2 lost mid-gate");
    for _ in 0..10 {
        assert_eq!(momo.served_version(), "v1", "through was1 after was2 died");
    }
    assert_eq!(momo.running_versions("was1"), vec!["v1".to_string()]);
    let report = load.finish();
    let failures = momo::failures(&report, "was2 lost during the gate of deploy boot3");
    eprintln!("failed requests per lane with was2 lost mid-gate: {failures:?}");
    for lane in ["get-keepalive", "get-new-conn"] {
        assert_eq!(
            failures.get(lane),
            Some(&0),
            "GETs failed in lane {lane} with was2 lost mid-gate: {failures:?}"
        );
    }
    was2.start();
    let out = momo.deploy(&["deploy", "v2"]);
    assert_exit(&out, 0, "deploy v2 after was2 came back");
    assert_live_everywhere(&momo, "v2");

    // Two CI runners at once, each with its own state dir: the lock lives
    // on a lab host, so one of them waits for nothing and exits 75.
    let other_state = momo.dir.path().join("state-runner2");
    let spawn = |state: &std::path::Path| {
        momo.deploy_cmd_from(state, &["deploy", "v3"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(&momo.state_dir()), spawn(&other_state));
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| momo::wait_group(a, Duration::from_secs(180), "runner 1"));
        let b = s.spawn(|| momo::wait_group(b, Duration::from_secs(180), "runner 2"));
        (a.join().unwrap(), b.join().unwrap())
    });
    eprintln!("runner 1:\n{}\nrunner 2:\n{}", all_text(&a), all_text(&b));
    let mut codes = [code(&a), code(&b)];
    codes.sort();
    assert_eq!(codes, [Some(0), Some(75)], "two runners at once");
    let refused = if code(&a) == Some(75) { &a } else { &b };
    assert!(
        all_text(refused).contains("lb"),
        "the refused runner names the lock's host, lb:\n{}",
        all_text(refused)
    );
    assert_live_everywhere(&momo, "v3");

    // A deploy SIGKILLed (all of it) mid-gate; the next deploy converges
    // without a failed request.
    let load = momo.load(4);
    for host in ["was1", "was2"] {
        momo.unhealthy_on(host, "v2");
    }
    let child = momo
        .deploy_cmd(&["deploy", "v2"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut child = child;
    momo::wait_for(
        Duration::from_secs(60),
        "v2 in its gate on both hosts",
        || {
            assert!(
                child.try_wait().unwrap().is_none(),
                "deploy v2 ended before its gate"
            );
            ["was1", "was2"]
                .iter()
                .all(|h| momo.running_versions(h).contains(&"v2".to_string()))
        },
    );
    std::thread::sleep(Duration::from_secs(1));
    momo::kill_group(&child);
    child.wait().unwrap();
    eprintln!("deploy v2 SIGKILLed mid-gate");
    assert_eq!(momo.served_version(), "v3", "after the kill");
    for host in ["was1", "was2"] {
        momo.healthy_on(host, "v2");
    }
    let out = momo.deploy(&["deploy", "v2"]);
    assert_exit(&out, 0, "deploy v2 after a killed deploy");
    assert_live_everywhere(&momo, "v2");
    let report = load.finish();
    assert_zero_failures(&report, "a deploy killed mid-gate, then the next deploy");
    momo.lab.down();
}

#[test]
fn a_default_server_on_the_proxy_host_fails_the_deploy() {
    // No server-name: the stock `default` site on lb holds default_server on
    // port 80 and gets every request; every health gate passes.
    let Some(momo) = momo(MomoOptions {
        server_name: None,
        ..MomoOptions::default()
    }) else {
        return;
    };
    let conf = momo.host("lb").ssh_ok("nginx -T 2>/dev/null");
    assert!(
        conf.contains("listen 80 default_server;"),
        "lb has no stock default site:\n{conf}"
    );
    let out = momo.deploy(&["deploy", "v1"]);
    let served = momo.served_version();
    eprintln!("through lb's nginx after the deploy: {served:?}");
    assert_ne!(
        served, "v1",
        "the default site was expected to shadow the site"
    );
    assert_exit(
        &out,
        1,
        "a deploy whose site nginx never routes to (the default server answers)",
    );
    momo.lab.down();
}

#[test]
fn a_host_lost_between_deploys_costs_no_request() {
    let Some(momo) = momo(MomoOptions::default()) else {
        return;
    };
    let out = momo.deploy(&["deploy", "v1"]);
    assert_exit(&out, 0, "first deploy of v1");
    assert_live_everywhere(&momo, "v1");
    let load = momo.load(4);
    std::thread::sleep(Duration::from_secs(2));
    momo.host("was2").stop();
    let stopped = Instant::now();
    std::thread::sleep(Duration::from_secs(10));
    assert_eq!(momo.served_version(), "v1", "through was1");
    let report = load.finish();
    eprintln!("load ran {:?} after was2 lost power", stopped.elapsed());
    let failures = momo::failures(&report, "was2 lost between deploys");
    for lane in ["get-keepalive", "get-new-conn"] {
        assert_eq!(
            failures.get(lane),
            Some(&0),
            "GETs failed in lane {lane} after was2 was lost: {failures:?}"
        );
    }
    eprintln!("failed requests per lane with was2 lost: {failures:?}");
    momo.lab.down();
}

#[test]
fn a_failed_pull_changes_nothing() {
    let Some(mut momo) = momo(MomoOptions::default()) else {
        return;
    };
    let out = momo.deploy(&["deploy", "v1"]);
    assert_exit(&out, 0, "first deploy of v1 (images sent)");
    assert_live_everywhere(&momo, "v1");
    let before: Vec<Vec<String>> = ["was1", "was2"]
        .iter()
        .map(|h| momo.color_versions(h))
        .collect();
    // Without `registry "none"` the kit pulls on the hosts, here from a
    // registry at a lab address where nothing answers: the pull fails
    // within seconds, and nothing leaves the machine.
    momo.rebuild(MomoOptions {
        no_registry: true,
        image: "172.31.240.254:5000/greenlight-test/app".to_string(),
        ..MomoOptions::default()
    });
    let out = momo.deploy(&["deploy", "v2"]);
    assert!(
        matches!(code(&out), Some(1) | Some(2)),
        "a deploy whose image cannot be pulled exits 1 or 2:\n{}",
        all_text(&out)
    );
    let after: Vec<Vec<String>> = ["was1", "was2"]
        .iter()
        .map(|h| momo.color_versions(h))
        .collect();
    assert_eq!(after, before, "containers changed after a failed pull");
    for _ in 0..10 {
        assert_eq!(momo.served_version(), "v1", "after the failed pull");
    }
    momo.lab.down();
}
