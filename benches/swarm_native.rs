//! Issue 14's anchor: the same app under the same load deployed side by side
//! on one three-node Docker Swarm of lab hosts (a manager and two workers,
//! two replicas), once with greenlight's swarm kit (`orchestrator "swarm"`,
//! tests/support/swarm_stack.rs) and once with Swarm's own rolling update
//! (`docker service update --detach=false`: start-first, docker's check in
//! each task, rollback on failure, a 5 s monitor). Prints figures and
//! asserts nothing about time: per case, the exit code, the wall time, the
//! failed requests of each of gl-load's four lanes (through each side's own
//! nginx on the manager) and the version served afterwards; then one table,
//! greenlight's median good deploy against native's median good update (the
//! issue's target: within 1.5x), both sides' time to give up a broken
//! release (target: greenlight sooner than native's rollback) and the failed
//! requests of each side (target for greenlight: zero).
//!
//! Cases: N good deploys alternating v2 and v3 (v1 first, not measured),
//! `bad1` (its check fails), `bad2` (exits at boot), `crash2` (passes its
//! check, dies 2 s after it starts); natively also `bad1` and `crash2`
//! without a check (`--no-healthcheck`). The load runs from half a second
//! before each command to 5 s after it. A native time is the CLI's wall time,
//! so it includes the update's 5 s monitor (the CLI waits it out before
//! "Service converged"), as a user waiting for the command would; its exit
//! code is 0 after a rollback too, so the table also shows what each tool
//! said (deploy.sh's reason to fail; the service's update state).
//!
//! The native side is one stack of two services, deployed on the manager
//! with `docker stack deploy`: `native_web` (the test app by image id, the
//! kit's check, interval, timeout, retries, drain and restart policy, dnsrr
//! on the kit's overlay network) and `native_front`, nginx (the kit's
//! image) publishing port 8081 on the manager, proxying to `native_web`
//! resolved per request with the kit's proxy settings.
//!
//! Needs what the lab needs (root, docker, ssh, ...) and curl; says so and
//! does nothing without it. One lab at a time on a machine: this waits for
//! the machine-wide lab lock. GREENLIGHT_BENCH_DEPLOYS sets N (default 3).
//!
//! Run: `cargo bench --bench swarm_native`

#[allow(dead_code)]
#[path = "../tests/support/compose_harness.rs"]
mod compose_harness;
#[path = "../tests/support/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../tests/support/lab/mod.rs"]
mod lab;
#[allow(dead_code)]
#[path = "../tests/support/momo.rs"]
mod momo;
#[allow(dead_code)]
#[path = "../tests/support/registry.rs"]
mod registry;
#[path = "../tests/support/mod.rs"]
mod support;
#[allow(dead_code)]
#[path = "../tests/support/swarm_stack.rs"]
mod swarm_stack;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use harness::Load;
use lab::{text, Host};
use momo::{code, failures};
use support::images::{self, APP_IMAGE};
use swarm_stack::SwarmStack;

/// gl-load's lanes, in the table's order.
const LANES: [&str; 4] = ["get-keepalive", "get-new-conn", "post-keepalive", "slow"];
/// How long the load goes on after a command returned.
const TAIL: Duration = Duration::from_secs(5);
/// The port of the native side's nginx on the manager.
const NATIVE_PORT: u16 = 8081;
/// The native service, as docker stack names it.
const NATIVE_SERVICE: &str = "native_web";
/// The native stack file and nginx conf dir on the manager.
const NATIVE_STACK_FILE: &str = "/srv/native.yml";
const NATIVE_CONF_DIR: &str = "/srv/native-nginx";
/// How long one native command may take (`timeout` on the manager).
const NATIVE_LIMIT_SECS: u32 = 240;

/// One measured case.
struct Row {
    case: String,
    tool: &'static str,
    exit: Option<i32>,
    secs: f64,
    failed: BTreeMap<String, u64>,
    requests: u64,
    served: String,
    /// What the tool said: deploy.sh's reason to fail, or the native
    /// service's update state and message.
    note: String,
}

impl Row {
    fn failed_total(&self) -> u64 {
        self.failed.values().sum()
    }
}

/// Runs `run` under `load` (already started), keeps the load [`TAIL`]
/// longer, then reads the load's report and what `served` says.
fn measure(
    case: &str,
    tool: &'static str,
    load: Load,
    served: impl Fn() -> String,
    run: impl FnOnce() -> (Option<i32>, String),
) -> Row {
    let started = Instant::now();
    let (exit, note) = run();
    let secs = started.elapsed().as_secs_f64();
    std::thread::sleep(TAIL);
    let report = load.finish();
    let requests = LANES
        .iter()
        .map(|lane| report.0["lanes"][lane]["requests"].as_u64().unwrap_or(0))
        .sum();
    let failed = failures(&report, &format!("{tool}: {case}"));
    let served = served();
    let row = Row {
        case: case.to_string(),
        tool,
        exit,
        secs,
        failed,
        requests,
        served,
        note,
    };
    println!(
        "  {tool} {case}: exit {}, {:.2} s, failed per lane {}, serves {}; {}",
        exit_text(row.exit),
        row.secs,
        lanes_text(&row.failed),
        shown(&row.served),
        row.note
    );
    row
}

fn exit_text(exit: Option<i32>) -> String {
    exit.map_or_else(|| "signal".to_string(), |c| c.to_string())
}

fn lanes_text(failed: &BTreeMap<String, u64>) -> String {
    LANES
        .iter()
        .map(|lane| failed.get(*lane).map_or("?".to_string(), u64::to_string))
        .collect::<Vec<_>>()
        .join("/")
}

fn shown(served: &str) -> &str {
    if served.is_empty() {
        "(nothing)"
    } else {
        served
    }
}

/// GET a URL: the version that answered ("" when none did), as
/// SwarmStack::served_version.
fn served_version(url: &str) -> String {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "5", url])
        .output()
        .unwrap();
    let body = String::from_utf8_lossy(&out.stdout);
    let first = body.lines().next().unwrap_or("").trim();
    first.strip_prefix("version=").unwrap_or(first).to_string()
}

fn median(times: &[f64]) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// The image id of a test version on the manager (the same on every node).
fn image_id(m: &Host, image: &str) -> String {
    let id = m
        .docker_ok(&["image", "inspect", "--format", "{{.Id}}", image])
        .trim()
        .to_string();
    assert!(id.starts_with("sha256:"), "{image} on m: id {id:?}");
    id
}

/// The native stack: the app as the kit runs it (check, interval, timeout,
/// retries, drain, restart policy, dnsrr, the kit's network) with Swarm's
/// rolling update and rollback, and nginx on the manager.
fn native_stack_file(nginx_id: &str) -> String {
    format!(
        r#"version: "3.8"
services:
  web:
    image: "${{NATIVE_IMAGE:?set NATIVE_IMAGE}}"
    stop_signal: SIGTERM
    stop_grace_period: 5s
    healthcheck:
      test: ["CMD", "/gl-testapp", "probe", "http://127.0.0.1:8080/healthz"]
      interval: 500ms
      timeout: 2000ms
      retries: 3
      start_period: 0ms
    deploy:
      endpoint_mode: dnsrr
      replicas: 2
      restart_policy:
        condition: any
        delay: 1s
      update_config:
        parallelism: 1
        order: start-first
        failure_action: rollback
        monitor: 5s
      rollback_config:
        parallelism: 1
        order: start-first
        monitor: 5s
  front:
    image: "{nginx_id}"
    ports:
      - target: {NATIVE_PORT}
        published: {NATIVE_PORT}
        protocol: tcp
        mode: host
    volumes:
      - "{NATIVE_CONF_DIR}:/etc/nginx/conf.d:ro"
    deploy:
      replicas: 1
      placement:
        constraints:
          - "node.role == manager"
      restart_policy:
        condition: any
        delay: 1s
networks:
  default:
    name: greenlight-shop
    external: true
"#
    )
}

/// The native nginx's site: the kit's location (nginx/site.conf) with the
/// native service's name, resolved per request by docker's DNS.
fn native_site_conf() -> String {
    format!(
        r#"server {{
    listen {NATIVE_PORT};
    resolver 127.0.0.11 valid=1s ipv6=off;
    resolver_timeout 2s;
    server_tokens off;

    location / {{
        set $native_upstream {NATIVE_SERVICE}:8080;
        proxy_pass http://$native_upstream;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_next_upstream error timeout http_502;
    }}
}}
"#
    )
}

/// Writes a file on a host (ssh, a quoted here-document).
fn write_remote(host: &Host, path: &str, content: &str) {
    assert!(!content.contains("\nGLEOF\n"));
    host.ssh_ok(&format!("cat > {path} <<'GLEOF'\n{content}GLEOF\n"));
}

/// docker's progress without its countdown and repeated lines, for the log.
fn condensed(text: &str) -> String {
    let mut lines: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim_end) {
        if !line.trim().is_empty()
            && !line.starts_with("verify: Waiting")
            && lines.last() != Some(&line)
        {
            lines.push(line);
        }
    }
    lines.join("\n")
}

/// Runs deploy.sh: its exit code and, when it failed, why (its first
/// "deploy failed" line).
fn greenlight(stack: &SwarmStack, args: &[&str]) -> (Option<i32>, String) {
    let out = stack.deploy(args);
    let all = text(&out);
    let why = all
        .lines()
        .find_map(|line| line.split_once("deploy failed: ").map(|(_, why)| why))
        .unwrap_or("");
    (code(&out), why.to_string())
}

/// The native side, on the manager.
struct Native<'a> {
    m: &'a Host,
    url: String,
    load_dir: tempfile::TempDir,
}

impl Native<'_> {
    fn served(&self) -> String {
        served_version(&self.url)
    }

    fn load(&self) -> Load {
        Load::start(
            &images::images().gl_load,
            &format!("http://{}:{NATIVE_PORT}", self.m.address()),
            self.load_dir.path(),
            &["--lanes", &LANES.join(",")],
        )
    }

    /// `docker stack deploy` of the native stack at this image.
    fn stack_deploy(&self, image: &str) {
        self.m.ssh_ok(&format!(
            "NATIVE_IMAGE={image} docker stack deploy --resolve-image never -c {NATIVE_STACK_FILE} native"
        ));
    }

    /// `docker service update --detach=false --no-resolve-image ARGS
    /// native_web` on the manager: its exit code, and the service's update
    /// state and message then.
    fn update(&self, args: &[&str]) -> (Option<i32>, String) {
        let line = format!(
            "docker service update --detach=false --no-resolve-image {} {NATIVE_SERVICE}",
            shell_words::join(args)
        );
        let started = Instant::now();
        let out = self
            .m
            .ssh(&format!("timeout {NATIVE_LIMIT_SECS} {line} 2>&1"));
        eprintln!(
            "$ {line}  ({:.1}s)\n{}\nexit {:?}",
            started.elapsed().as_secs_f64(),
            condensed(&text(&out)),
            out.status.code()
        );
        let state = self.m.docker(&[
            "service",
            "inspect",
            "--format",
            "{{if .UpdateStatus}}{{.UpdateStatus.State}}: {{.UpdateStatus.Message}}{{end}}",
            NATIVE_SERVICE,
        ]);
        (
            out.status.code(),
            String::from_utf8_lossy(&state.stdout).trim().to_string(),
        )
    }

    /// Waits until the service has its 2 tasks running, no update under
    /// way, and its nginx serves `version` three times in a row.
    fn wait_converged(&self, version: &str, limit: Duration) {
        let started = Instant::now();
        let mut good = 0;
        let mut last = String::new();
        while good < 3 {
            let state = self
                .m
                .docker(&[
                    "service",
                    "inspect",
                    "--format",
                    "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}",
                    NATIVE_SERVICE,
                ])
                .stdout;
            let state = String::from_utf8_lossy(&state).trim().to_string();
            let replicas = self
                .m
                .docker(&[
                    "service",
                    "ls",
                    "--filter",
                    &format!("name={NATIVE_SERVICE}"),
                    "--format",
                    "{{.Name}} {{.Replicas}}",
                ])
                .stdout;
            let replicas = String::from_utf8_lossy(&replicas).trim().to_string();
            let served = self.served();
            last = format!("update state {state:?}, replicas {replicas:?}, serves {served:?}");
            let settled = matches!(state.as_str(), "" | "completed" | "rollback_completed");
            if settled && replicas == format!("{NATIVE_SERVICE} 2/2") && served == version {
                good += 1;
            } else {
                good = 0;
            }
            assert!(
                started.elapsed() < limit,
                "native: not converged on {version} after {limit:?}: {last}\n{}",
                text(&self.m.docker(&["service", "ps", NATIVE_SERVICE]))
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        eprintln!(
            "native: converged on {version} in {:.1} s ({last})",
            started.elapsed().as_secs_f64()
        );
    }
}

fn main() {
    if !SwarmStack::available() {
        println!("swarm_native: the lab is not available here; nothing measured");
        return;
    }
    let n: usize = std::env::var("GREENLIGHT_BENCH_DEPLOYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(3);
    let images = images::images();
    println!("\n=== swarm_native: greenlight's swarm kit against Swarm's rolling update");
    println!(
        "  three nodes (m, w1, w2), 2 replicas, {n} good deploys each, load through nginx on m"
    );
    let stack = SwarmStack::up(&["w1", "w2"], 2, "");
    let m = stack.host("m");

    // crash2 is not among the fixture's versions: sent here to every node.
    let crash2 = format!("{APP_IMAGE}:crash2");
    std::thread::scope(|s| {
        for name in ["m", "w1", "w2"] {
            let (host, image) = (stack.host(name), crash2.as_str());
            s.spawn(move || host.send_image(image));
        }
    });
    let ids: Vec<String> = ["m", "w1", "w2"]
        .iter()
        .map(|name| image_id(stack.host(name), &crash2))
        .collect();
    assert!(
        ids.iter().all(|id| id == &ids[0]),
        "crash2 has different ids on the nodes: {ids:?}"
    );

    let mut rows: Vec<Row> = Vec::new();
    let good_versions = ["v2", "v3"];

    // greenlight: v1 first (creates the network and nginx), not measured.
    println!("\n--- greenlight");
    let out = stack.deploy(&["deploy", "v1"]);
    assert_eq!(
        code(&out),
        Some(0),
        "greenlight: the first deploy of v1 failed:\n{}",
        text(&out)
    );
    let gl_served = || stack.served_version();
    let mut gl_good = Vec::new();
    for i in 0..n {
        let version = good_versions[i % 2];
        let row = measure(
            &format!("good {} ({version})", i + 1),
            "greenlight",
            stack.load(),
            gl_served,
            || greenlight(&stack, &["deploy", version]),
        );
        if row.exit == Some(0) {
            gl_good.push(row.secs);
        }
        rows.push(row);
    }
    let gl_cases = [
        ("bad1 (check fails)", "bad1"),
        ("bad2 (exits at boot)", "bad2"),
        ("crash2 (dies 2 s in)", "crash2"),
    ];
    for (case, version) in gl_cases {
        let row = measure(case, "greenlight", stack.load(), gl_served, || {
            greenlight(&stack, &["deploy", version])
        });
        let live_broken = row.exit == Some(0);
        rows.push(row);
        if live_broken {
            // A broken release went live: a good one again before the
            // native side runs (its tasks would restart meanwhile).
            let out = stack.deploy(&["deploy", "v3"]);
            println!(
                "  greenlight: {version} went live; deploy v3 again: exit {}, serves {}",
                exit_text(code(&out)),
                shown(&stack.served_version())
            );
        }
    }
    eprintln!(
        "greenlight's services after its cases:\n{}",
        text(&m.docker(&["service", "ls"]))
    );

    // native: one stack on the manager, v1 first, not measured.
    println!("\n--- native (docker service update)");
    let version_ids: BTreeMap<&str, String> = ["v1", "v2", "v3", "bad1", "bad2", "crash2"]
        .into_iter()
        .map(|v| (v, image_id(m, &format!("{APP_IMAGE}:{v}"))))
        .collect();
    let nginx_id = image_id(m, &images.nginx);
    m.ssh_ok(&format!("mkdir -p {NATIVE_CONF_DIR}"));
    write_remote(
        m,
        &format!("{NATIVE_CONF_DIR}/native.conf"),
        &native_site_conf(),
    );
    write_remote(m, NATIVE_STACK_FILE, &native_stack_file(&nginx_id));
    let native = Native {
        m,
        url: format!("http://{}:{NATIVE_PORT}/", m.address()),
        load_dir: tempfile::tempdir().unwrap(),
    };
    let started = Instant::now();
    native.stack_deploy(&version_ids["v1"]);
    native.wait_converged("v1", Duration::from_secs(120));
    println!(
        "  native: stack deployed with v1 in {:.1} s (not measured)",
        started.elapsed().as_secs_f64()
    );
    let native_served = || native.served();
    let mut native_good = Vec::new();
    for i in 0..n {
        let version = good_versions[i % 2];
        let image = &version_ids[version];
        let row = measure(
            &format!("good {} ({version})", i + 1),
            "native",
            native.load(),
            native_served,
            || native.update(&["--image", image]),
        );
        if row.exit == Some(0) && row.served == version {
            native_good.push(row.secs);
        }
        rows.push(row);
    }
    for (case, version) in gl_cases {
        let image = &version_ids[version];
        rows.push(measure(
            case,
            "native",
            native.load(),
            native_served,
            || native.update(&["--image", image]),
        ));
    }
    // Without a check: bad1 answers its requests (only its /healthz says
    // 503), so nothing stops it; the stack file (check and all) is deployed
    // again at a good version before crash2.
    let last_good = good_versions[(n - 1) % 2];
    let after_bad = native.served();
    if after_bad != last_good {
        println!(
            "  native: serves {} after the broken releases; stack deploy of {last_good} again",
            shown(&after_bad)
        );
        native.stack_deploy(&version_ids[last_good]);
        native.wait_converged(last_good, Duration::from_secs(180));
    }
    rows.push(measure(
        "bad1, no check",
        "native",
        native.load(),
        native_served,
        || native.update(&["--no-healthcheck", "--image", &version_ids["bad1"]]),
    ));
    let started = Instant::now();
    native.stack_deploy(&version_ids[last_good]);
    native.wait_converged(last_good, Duration::from_secs(180));
    println!(
        "  native: stack deploy of {last_good} (check back) converged in {:.1} s (not measured)",
        started.elapsed().as_secs_f64()
    );
    rows.push(measure(
        "crash2, no check",
        "native",
        native.load(),
        native_served,
        || native.update(&["--no-healthcheck", "--image", &version_ids["crash2"]]),
    ));
    eprintln!(
        "native service after its cases:\n{}",
        text(&m.docker(&["service", "ps", NATIVE_SERVICE]))
    );

    print_table(&rows);
    let gl_median = (!gl_good.is_empty()).then(|| median(&gl_good));
    let native_median = (!native_good.is_empty()).then(|| median(&native_good));
    match (gl_median, native_median) {
        (Some(g), Some(nat)) => println!(
            "\ngood deploy, median: greenlight {g:.2} s ({} of {n}), native {nat:.2} s ({} of {n}); ratio {:.2}x (target <= 1.5x)",
            gl_good.len(),
            native_good.len(),
            g / nat
        ),
        _ => println!(
            "\ngood deploy, median: greenlight {gl_median:?} s ({} of {n} succeeded), native {native_median:?} s ({} of {n}); no ratio",
            gl_good.len(),
            native_good.len()
        ),
    }
    let row = |tool: &str, case: &str| rows.iter().find(|r| r.tool == tool && r.case == case);
    if let (Some(g), Some(nat)) = (
        row("greenlight", gl_cases[0].0),
        row("native", gl_cases[0].0),
    ) {
        println!(
            "broken release (bad1): greenlight gives up after {:.2} s (exit {}), native's rollback returns after {:.2} s (exit {}) (target: greenlight sooner)",
            g.secs,
            exit_text(g.exit),
            nat.secs,
            exit_text(nat.exit)
        );
    }
    let total = |tool: &str| -> (u64, u64) {
        rows.iter()
            .filter(|r| r.tool == tool)
            .fold((0, 0), |(f, q), r| (f + r.failed_total(), q + r.requests))
    };
    let (gl_failed, gl_requests) = total("greenlight");
    let (native_failed, native_requests) = total("native");
    println!(
        "failed requests over every case: greenlight {gl_failed} of {gl_requests} (target 0), native {native_failed} of {native_requests}"
    );
}

fn print_table(rows: &[Row]) {
    println!("\n=== swarm_native: greenlight's swarm kit and Swarm's rolling update, 2 replicas on 3 nodes");
    println!(
        "{:<22} | {:<10} | {:>4} | {:>6} | {:<64} | {:>8} | {:<12} | what the tool said",
        "case",
        "tool",
        "exit",
        "time s",
        "failed per lane (get-keepalive/get-new-conn/post-keepalive/slow)",
        "requests",
        "served after"
    );
    for r in rows {
        println!(
            "{:<22} | {:<10} | {:>4} | {:>6.2} | {:<64} | {:>8} | {:<12} | {}",
            r.case,
            r.tool,
            exit_text(r.exit),
            r.secs,
            lanes_text(&r.failed),
            r.requests,
            shown(&r.served),
            r.note
        );
    }
}
