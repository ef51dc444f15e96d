//! The rounds both deploy benchmarks run (process runtime in deploy.rs,
//! compose runtime in deploy_compose.rs), and the figures they print: per
//! phase each lane's requests and failures and the p99 inside the deploy's
//! window versus outside it; the deploy's overhead over the app's boot,
//! measured on an extra deploy per round under the fast lanes only (no slow
//! request's drain counted as overhead); how far past its deadline a broken
//! release was aborted. Prints figures; asserts nothing but exit codes.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::harness::{Load, Report};

/// Rounds per benchmark.
pub const ROUNDS: usize = 5;
/// The boot delay of every release a round deploys.
pub const BOOT_MS: u64 = 1000;
/// The health gate's deadline, which a broken release runs into.
pub const DEADLINE_MS: u64 = 3000;

/// All four lanes, and the fast lanes alone (no slow request in flight, whose
/// drain would otherwise count as overhead).
const ALL_LANES: &str = "get-keepalive,get-new-conn,post-keepalive,slow";
const FAST_LANES: &str = "get-keepalive,get-new-conn,post-keepalive";

/// A deployed stack the rounds drive: its deploy.sh and its load client.
pub trait Target {
    /// deploy.sh with the stack's run-time overrides.
    fn deploy_cmd(&self, args: &[&str]) -> Command;
    /// gl-load through the stack's nginx with extra arguments.
    fn load_with(&self, extra: &[&str]) -> Load;
    /// A scratch path inside the stack's directory.
    fn path(&self, rel: &str) -> PathBuf;
}

/// The releases of one round: each boots in BOOT_MS; `broken` never
/// becomes healthy.
pub struct Releases {
    pub version: String,
    pub broken: String,
    pub quick: String,
}

/// What the rounds add up to.
pub struct Summary {
    pub failures: u64,
    pub race: u64,
    pub overheads: Vec<i64>,
    /// Wall time minus the new color's readiness (start to healthy).
    pub readiness_overheads: Vec<i64>,
    /// Wall time minus the 3 s deadline (container start-up included).
    pub aborts: Vec<i64>,
    /// Exit time minus the health gate's deadline (gate start + 3 s): how
    /// fast a broken release is aborted once its deadline has passed.
    pub aborts_after_gate: Vec<i64>,
}

/// Which overhead figure an issue's target applies to.
#[allow(dead_code)] // each benchmark names one
pub enum OverheadTarget {
    /// Wall time minus the app's 1 s boot (process runtime).
    OverBoot(u64),
    /// Wall time minus the new color's start-to-healthy time (compose
    /// runtime, where starting a container is part of readiness).
    OverReadiness(u64),
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

/// What one deploy.sh run under load gave.
struct Run {
    code: Option<i32>,
    wall: Duration,
    /// From "starting COLOR" to "COLOR is healthy" in deploy.sh's progress
    /// lines: how long the new color took to become ready.
    readiness_ms: Option<i64>,
    /// When deploy.sh began the health gate (its progress line), in ms.
    gate_ms: Option<i64>,
    report: Report,
}

/// The time of a progress line (`[   1.234s] text`), in ms.
fn line_ms(line: &str) -> Option<i64> {
    let seconds = line.strip_prefix('[')?.split_once("s]")?.0.trim();
    Some((seconds.parse::<f64>().ok()? * 1000.0).round() as i64)
}

/// Readiness of the new color from deploy.sh's progress lines.
fn readiness_ms(stdout: &str) -> Option<i64> {
    let started = stdout
        .lines()
        .find(|l| l.contains(": starting ") && l.contains(" with version "))
        .and_then(line_ms)?;
    let healthy = stdout
        .lines()
        .filter(|l| l.ends_with(" is healthy"))
        .filter_map(line_ms)
        .next_back()?;
    Some(healthy - started)
}

/// When the health gate began, from deploy.sh's progress lines.
fn gate_ms(stdout: &str) -> Option<i64> {
    stdout
        .lines()
        .find(|l| l.contains(": health gate on "))
        .and_then(line_ms)
}

/// Runs one deploy.sh command under load.
fn under_load(target: &impl Target, args: &[&str], lanes: &str) -> Run {
    let window = target.path("window");
    let _ = fs::remove_file(&window);
    let load = target.load_with(&["--window-file", window.to_str().unwrap(), "--lanes", lanes]);
    std::thread::sleep(Duration::from_secs(2));
    let start = now_ms();
    let started = Instant::now();
    let out = target.deploy_cmd(args).output().unwrap();
    let wall = started.elapsed();
    fs::write(&window, format!("{start}\n{}\n", now_ms())).unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    Run {
        code: out.status.code(),
        wall,
        readiness_ms: readiness_ms(&stdout),
        gate_ms: gate_ms(&stdout),
        report: load.finish(),
    }
}

/// Prints one phase's lanes; returns (failures other than the POST race,
/// POST race count).
fn print_lanes(report: &Report) -> (u64, u64) {
    let mut failures = 0;
    let mut race = 0;
    for (name, lane) in report.0["lanes"].as_object().unwrap() {
        let kinds = lane["failure_kinds"].as_object().unwrap();
        for (kind, count) in kinds {
            let count = count.as_u64().unwrap();
            if name == "post-keepalive" && kind == "idle-keepalive-closed" {
                race += count;
            } else {
                failures += count;
            }
        }
        println!(
            "    {name:<15} requests {:>5}  failures {:>2} {:<24} p99 in window {:>6} ms  outside {:>6} ms",
            lane["requests"],
            lane["failures"],
            if kinds.is_empty() { String::new() } else { serde_json::to_string(kinds).unwrap() },
            lane["window_p99_ms"],
            lane["outside_p99_ms"]
        );
    }
    (failures, race)
}

/// ROUNDS rounds of a deploy, a rollback and a broken release under all
/// lanes, plus a deploy under the fast lanes; `releases(round)` names what
/// each round deploys. The stack must have a live release already.
pub fn run(target: &impl Target, releases: impl Fn(usize) -> Releases) -> Summary {
    let mut summary = Summary {
        failures: 0,
        race: 0,
        overheads: Vec::new(),
        readiness_overheads: Vec::new(),
        aborts: Vec::new(),
        aborts_after_gate: Vec::new(),
    };
    for round in 1..=ROUNDS {
        let r = releases(round);
        let phases = [
            ("deploy", vec!["deploy", r.version.as_str()], ALL_LANES),
            ("rollback", vec!["rollback"], ALL_LANES),
            (
                "broken release",
                vec!["deploy", r.broken.as_str()],
                ALL_LANES,
            ),
            (
                "deploy, fast lanes only",
                vec!["deploy", r.quick.as_str()],
                FAST_LANES,
            ),
        ];
        for (phase, args, lanes) in phases {
            let run = under_load(target, &args, lanes);
            let (code, report) = (run.code, &run.report);
            let wall_ms = run.wall.as_millis() as i64;
            let figure = match phase {
                "broken release" => {
                    let gate = run.gate_ms.expect("deploy.sh printed its health gate line");
                    let after_gate = wall_ms - gate - DEADLINE_MS as i64;
                    summary.aborts.push(wall_ms - DEADLINE_MS as i64);
                    summary.aborts_after_gate.push(after_gate);
                    format!(
                        "aborted after {wall_ms} ms ({} ms past the 3 s deadline; {after_gate} ms after the health gate's deadline, which began at {gate} ms)",
                        wall_ms - DEADLINE_MS as i64
                    )
                }
                "deploy, fast lanes only" => {
                    summary.overheads.push(wall_ms - BOOT_MS as i64);
                    let ready = run
                        .readiness_ms
                        .expect("deploy.sh printed its start and health lines");
                    summary.readiness_overheads.push(wall_ms - ready);
                    format!(
                        "wall {wall_ms} ms, overhead {} ms over the 1 s boot, {} ms over the new color's readiness ({ready} ms from start to healthy)",
                        wall_ms - BOOT_MS as i64,
                        wall_ms - ready
                    )
                }
                _ => format!(
                    "wall {wall_ms} ms (includes draining the slow lane's in-flight requests)"
                ),
            };
            println!("round {round} {phase}: exit {code:?}, {figure}");
            let (f, race) = print_lanes(report);
            summary.failures += f;
            summary.race += race;
        }
        // Leave the round's release live for the next round's rollback to
        // have a previous color.
        let out = target.deploy_cmd(&["deploy", &r.version]).output().unwrap();
        assert!(out.status.success(), "redeploy of {} failed", r.version);
    }
    summary.overheads.sort();
    summary.readiness_overheads.sort();
    summary.aborts.sort();
    summary.aborts_after_gate.sort();
    summary
}

/// Prints the summary lines against the targets.
pub fn print_summary(title: &str, summary: &Summary, target: OverheadTarget) {
    let median = |v: &[i64]| v[v.len() / 2];
    let (boot_target, readiness_target) = match target {
        OverheadTarget::OverBoot(ms) => (format!(" (target < {ms} ms)"), String::new()),
        OverheadTarget::OverReadiness(ms) => (String::new(), format!(" (target < {ms} ms)")),
    };
    println!("\nsummary over {ROUNDS} rounds, {title}:");
    println!(
        "  failed requests (all lanes, excluding the POST reload race): {}",
        summary.failures
    );
    println!("  POSTs lost to the nginx reload race: {}", summary.race);
    println!(
        "  deploy overhead over the 1 s boot, no slow request in flight: median {} ms, max {} ms{boot_target}",
        median(&summary.overheads),
        summary.overheads.last().unwrap()
    );
    println!(
        "  deploy overhead over the new color's readiness (start to healthy): median {} ms, max {} ms{readiness_target}",
        median(&summary.readiness_overheads),
        summary.readiness_overheads.last().unwrap()
    );
    println!(
        "  broken release, wall time past the 3 s deadline: median {} ms, max {} ms",
        median(&summary.aborts),
        summary.aborts.last().unwrap()
    );
    println!(
        "  broken release, exit after the health gate's deadline: median {} ms, max {} ms (target < 1000 ms)",
        median(&summary.aborts_after_gate),
        summary.aborts_after_gate.last().unwrap()
    );
}
