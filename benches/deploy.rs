//! The deploy benchmark (prints figures; asserts nothing): five rounds of a
//! deploy, a rollback and a broken release of the process runtime behind
//! Debian's nginx, each under gl-load's four lanes. Per phase it prints each
//! lane's requests and failures and the p99 inside the deploy's window versus
//! outside it, and how long a broken release took to abort past its 3 s
//! deadline. The deploy's overhead (wall time minus the app's 1 s boot) is
//! measured on an extra deploy per round under the fast lanes only, so that
//! no slow request's drain is counted as overhead.
//!
//! Run: `cargo build --release --workspace && cargo bench --bench deploy`

#[path = "../tests/support/harness.rs"]
mod harness;

use std::fs;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use harness::{AppOptions, Report, Stack};

const ROUNDS: usize = 5;
const BOOT_MS: u64 = 1000;
const DEADLINE_MS: u64 = 3000;

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

/// All four lanes, and the fast lanes alone (no slow request in flight, whose
/// drain would otherwise count as overhead).
const ALL_LANES: &str = "get-keepalive,get-new-conn,post-keepalive,slow";
const FAST_LANES: &str = "get-keepalive,get-new-conn,post-keepalive";

/// Runs one deploy.sh command under load; returns its exit code, wall time and the load report.
fn under_load(stack: &Stack, args: &[&str], lanes: &str) -> (Option<i32>, Duration, Report) {
    let window = stack.path("window");
    let _ = fs::remove_file(&window);
    let load = stack.load_with(&["--window-file", window.to_str().unwrap(), "--lanes", lanes]);
    std::thread::sleep(Duration::from_secs(2));
    let start = now_ms();
    let started = Instant::now();
    let out = stack.deploy_cmd(args).output().unwrap();
    let wall = started.elapsed();
    fs::write(&window, format!("{start}\n{}\n", now_ms())).unwrap();
    std::thread::sleep(Duration::from_secs(1));
    (out.status.code(), wall, load.finish())
}

/// Prints one phase's lanes; returns (failures other than the POST race, POST race count).
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

fn main() {
    let stack = Stack::new(AppOptions {
        health: "interval \"50ms\"\n        timeout \"1s\"\n        deadline \"3s\"",
        drain: "10s",
        keep_previous: true,
    });
    assert_eq!(
        stack.deploy(&["deploy", "v0"]).status.code(),
        Some(0),
        "first deploy failed"
    );
    let (mut failures, mut race) = (0, 0);
    let (mut overheads, mut aborts) = (Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        let version = format!("r{round}");
        stack.version_env(&version, &format!("APP_BOOT_DELAY_MS={BOOT_MS}\n"));
        let broken = format!("r{round}-broken");
        stack.version_env(&broken, "APP_BROKEN=unhealthy\n");
        let quick = format!("r{round}-quick");
        stack.version_env(&quick, &format!("APP_BOOT_DELAY_MS={BOOT_MS}\n"));
        let phases = [
            ("deploy", vec!["deploy", version.as_str()], ALL_LANES),
            ("rollback", vec!["rollback"], ALL_LANES),
            ("broken release", vec!["deploy", broken.as_str()], ALL_LANES),
            (
                "deploy, fast lanes only",
                vec!["deploy", quick.as_str()],
                FAST_LANES,
            ),
        ];
        for (phase, args, lanes) in phases {
            let (code, wall, report) = under_load(&stack, &args, lanes);
            let wall_ms = wall.as_millis() as i64;
            let figure = match phase {
                "broken release" => {
                    aborts.push(wall_ms - DEADLINE_MS as i64);
                    format!(
                        "aborted after {wall_ms} ms ({} ms past the deadline)",
                        wall_ms - DEADLINE_MS as i64
                    )
                }
                "deploy, fast lanes only" => {
                    overheads.push(wall_ms - BOOT_MS as i64);
                    format!(
                        "wall {wall_ms} ms, overhead {} ms over the 1 s boot",
                        wall_ms - BOOT_MS as i64
                    )
                }
                _ => format!(
                    "wall {wall_ms} ms (includes draining the slow lane's in-flight requests)"
                ),
            };
            println!("round {round} {phase}: exit {code:?}, {figure}");
            let (f, r) = print_lanes(&report);
            failures += f;
            race += r;
        }
        // leave r{round} live for the next round's rollback to have a previous color
        assert_eq!(stack.deploy(&["deploy", &version]).status.code(), Some(0));
    }
    overheads.sort();
    aborts.sort();
    println!("\nsummary over {ROUNDS} rounds:");
    println!("  failed requests (all lanes, excluding the POST reload race): {failures}");
    println!("  POSTs lost to the nginx reload race: {race}");
    println!("  deploy overhead with no slow request in flight: median {} ms, max {} ms (target < 500 ms)", overheads[overheads.len() / 2], overheads.last().unwrap());
    println!(
        "  broken release past deadline: median {} ms, max {} ms (target < 1000 ms)",
        aborts[aborts.len() / 2],
        aborts.last().unwrap()
    );
}
