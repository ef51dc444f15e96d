//! Deploy wall time of the momo topology on the lab of hosts (prints
//! figures; asserts nothing about time): the median of N deploys of an app on
//! two app hosts against the same app on one, and their ratio (the target
//! is at most 1.3: hosts are started and gated in parallel). Each deploy
//! alternates between two versions whose images are already on the hosts
//! after the first round, so the figure is the deploy itself.
//!
//! Needs what the lab needs (root, docker, ssh, ...); says so and does
//! nothing without it. GREENLIGHT_BENCH_DEPLOYS sets N (default 5).
//!
//! Run: `cargo bench --bench deploy_momo`

#[path = "../tests/support/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../tests/support/lab/mod.rs"]
mod lab;
#[allow(dead_code)]
#[path = "../tests/support/momo.rs"]
mod momo;
#[path = "../tests/support/mod.rs"]
mod support;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use momo::{all_text, code, Momo, MomoOptions};

/// Deploys of v1 and v2 in turn on a fresh momo with these app hosts; the
/// median wall time of those after the first two (which send the images),
/// and the steps deploy.sh printed in the median deploy.
fn deploy_times(app_hosts: &[&str], n: usize) -> (Duration, String) {
    let momo = Momo::up(MomoOptions {
        app_hosts: app_hosts.iter().map(|h| h.to_string()).collect(),
        health: "interval \"100ms\"\n        timeout \"1s\"\n        deadline \"15s\"".to_string(),
        ..MomoOptions::default()
    });
    let deploy = |version: &str| {
        let started = Instant::now();
        let out = momo.deploy_cmd(&["deploy", version]).output().unwrap();
        let took = started.elapsed();
        assert_eq!(
            code(&out),
            Some(0),
            "deploy {version} on {app_hosts:?} failed:\n{}",
            all_text(&out)
        );
        (took, String::from_utf8_lossy(&out.stdout).into_owned())
    };
    // The first deploy sends the images and starts from nothing; v2 is
    // sent by the second, also not timed.
    let (first, _) = deploy("v1");
    let (second, _) = deploy("v2");
    println!(
        "  {app_hosts:?}: first deploy {:.2} s, first of v2 {:.2} s (images sent; not counted)",
        first.as_secs_f64(),
        second.as_secs_f64()
    );
    let mut times: Vec<(Duration, String)> = (0..n)
        .map(|i| {
            let (took, steps) = deploy(if i % 2 == 0 { "v1" } else { "v2" });
            println!(
                "  {app_hosts:?}: deploy {} took {:.2} s",
                i + 1,
                took.as_secs_f64()
            );
            (took, steps)
        })
        .collect();
    if app_hosts.len() == 1 {
        ssh_costs(&momo);
    }
    momo.lab.down();
    times.sort();
    times.swap_remove(times.len() / 2)
}

/// What one ssh call costs over the run's multiplexed connection (as
/// deploy.sh makes them: a master opened once, every call a session on it)
/// and over a connection of its own (as every call was before): the median
/// of 20 `ssh HOST true` and 20 `docker ps` over ssh:// each way.
fn ssh_costs(momo: &Momo) {
    let host = momo.host("was1");
    let dir = tempfile::tempdir().unwrap();
    let control = dir.path().join("%r@%n-%p");
    let config = momo.lab.ssh_config();
    let ssh_opts = |mux: bool| {
        let mut opts = vec![
            "-F".to_string(),
            config.to_string_lossy().into_owned(),
            "-o".to_string(),
            "BatchMode=yes".to_string(),
        ];
        if mux {
            opts.push("-o".to_string());
            opts.push(format!("ControlPath={}", control.display()));
        }
        opts
    };
    let master = std::process::Command::new("ssh")
        .args(ssh_opts(true))
        .args([
            "-o",
            "ControlMaster=yes",
            "-o",
            "ControlPersist=60",
            "-f",
            "-N",
        ])
        .arg(host.ssh_destination())
        .status()
        .unwrap();
    assert!(master.success(), "the master connection did not open");
    // docker runs `ssh` by name: a wrapper with the same options.
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let median = |mux: bool, docker: bool| {
        let wrapper = bin.join("ssh");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nexec /usr/bin/ssh {} \"$@\"\n",
                shell_words::join(ssh_opts(mux))
            ),
        )
        .unwrap();
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut times: Vec<Duration> = (0..20)
            .map(|_| {
                let started = Instant::now();
                let ok = if docker {
                    std::process::Command::new("docker")
                        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
                        .env("DOCKER_HOST", host.docker_host_ssh())
                        .args(["ps", "-q"])
                        .output()
                        .unwrap()
                        .status
                        .success()
                } else {
                    std::process::Command::new(&wrapper)
                        .args([&host.ssh_destination(), "true"])
                        .status()
                        .unwrap()
                        .success()
                };
                assert!(ok, "an ssh call to was1 failed");
                started.elapsed()
            })
            .collect();
        times.sort();
        times[times.len() / 2].as_secs_f64() * 1000.0
    };
    println!(
        "  ssh HOST true: {:.0} ms on the run's connection, {:.0} ms on a new one",
        median(true, false),
        median(false, false)
    );
    println!(
        "  docker ps over ssh://: {:.0} ms on the run's connection, {:.0} ms on a new one",
        median(true, true),
        median(false, true)
    );
}

fn main() {
    if !Momo::available() {
        println!("deploy_momo: the lab is not available here; nothing measured");
        return;
    }
    let n: usize = std::env::var("GREENLIGHT_BENCH_DEPLOYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(5);
    println!("\n=== momo on the lab: {n} deploys each, one app host then two");
    let (one, one_steps) = deploy_times(&["was1"], n);
    let (two, two_steps) = deploy_times(&["was1", "was2"], n);
    println!("\nsteps of the median deploy, 1 app host:\n{one_steps}");
    println!("steps of the median deploy, 2 app hosts:\n{two_steps}");
    let ratio = two.as_secs_f64() / one.as_secs_f64();
    println!(
        "\nmomo deploy, median of {n}: 1 app host {:.2} s, 2 app hosts {:.2} s, ratio {ratio:.2}x (target <= 1.3x)",
        one.as_secs_f64(),
        two.as_secs_f64()
    );
}
