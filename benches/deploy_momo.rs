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
    momo.lab.down();
    times.sort();
    times.swap_remove(times.len() / 2)
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
