//! The generated deploy.sh, run for real: Debian's nginx in host mode on
//! loopback in front of gl-testapp processes, with gl-load keeping four lanes
//! of traffic going through nginx the whole time. Every scenario asserts zero
//! failed requests (POSTs lost to the nginx reload race are counted and
//! printed, not failed on).

#[path = "support/harness.rs"]
mod harness;
mod support;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use harness::*;
use support::dry_run_commands;

/// The scenarios share two cores; running them one at a time keeps the load
/// figures meaningful.
static SERIAL: Mutex<()> = Mutex::new(());

fn ready() -> Option<std::sync::MutexGuard<'static, ()>> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    (support::tool_available("nginx")
        && support::tool_available("curl")
        && support::tool_available("flock"))
    .then_some(guard)
}

#[test]
fn deploys_upgrade_and_roll_back_without_a_failed_request() {
    let Some(_serial) = ready() else { return };
    let stack = Stack::new(AppOptions::default());
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
    assert_eq!(stack.served_version(), "v1");

    let load = stack.load();
    assert_eq!(stack.deploy(&["deploy", "v2"]).status.code(), Some(0));
    assert_eq!(stack.served_version(), "v2");
    stack.version_env("v3", "APP_BOOT_DELAY_MS=3000\n");
    let started = Instant::now();
    assert_eq!(stack.deploy(&["deploy", "v3"]).status.code(), Some(0));
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "the health gate must wait for the 3 s boot"
    );
    assert_eq!(stack.served_version(), "v3");
    std::thread::sleep(Duration::from_millis(500));
    let report = load.finish();
    report.assert_no_failures("v1 -> v2 -> v3");
    assert!(report.versions("get-keepalive").contains(&"v3".to_string()));
    // v3 is live on blue; v2's green is stopped but its state kept for rollback
    assert!(stack.color_alive("blue"));
    assert!(!stack.color_alive("green"), "the old color must be stopped");

    let load = stack.load();
    assert_eq!(stack.deploy(&["rollback"]).status.code(), Some(0));
    assert_eq!(stack.served_version(), "v2");
    load.finish().assert_no_failures("rollback to v2");
    let status = String::from_utf8(stack.deploy(&["status"]).stdout).unwrap();
    assert!(
        status.contains("web: live green v2; previous blue v3"),
        "{status}"
    );
    assert!(
        status.contains("green running v2, healthy (200)"),
        "{status}"
    );
    let log = std::fs::read_to_string(stack.path("state/deploys.log")).unwrap();
    assert_eq!(
        log.lines().filter(|l| l.contains("result=ok")).count(),
        4,
        "{log}"
    );
    assert!(exists(&stack.path("markers/switched-v3")));
}

#[test]
fn a_broken_release_never_takes_traffic() {
    let Some(_serial) = ready() else { return };
    let stack = Stack::new(AppOptions {
        health: "interval \"200ms\"\n        timeout \"1s\"\n        deadline \"3s\"",
        ..AppOptions::default()
    });
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
    let conf_before = stack.site_conf();
    let load = stack.load();
    for (version, env) in [
        ("bad1", "APP_BROKEN=unhealthy\n"),
        ("bad2", "APP_BROKEN=exit-at-boot\n"),
    ] {
        stack.version_env(version, env);
        let started = Instant::now();
        let out = stack.deploy(&["deploy", version]);
        let took = started.elapsed();
        assert_eq!(out.status.code(), Some(1), "{version}");
        assert!(
            took < Duration::from_secs(5),
            "{version}: abort took {took:?}, deadline is 3 s"
        );
        assert_eq!(stack.served_version(), "v1");
        assert_eq!(
            stack.site_conf(),
            conf_before,
            "{version}: the proxy conf changed"
        );
        assert!(
            !stack.color_alive("green"),
            "{version}: the idle color must be stopped"
        );
        assert!(
            exists(&stack.path(&format!("markers/failed-{version}"))),
            "{version}: on-failure did not run"
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("health gate failed") || stdout.contains("not running"),
            "{stdout}"
        );
    }
    load.finish().assert_no_failures("two broken releases");
}

#[test]
fn a_slow_request_on_the_old_color_completes_during_the_switch() {
    let Some(_serial) = ready() else { return };
    let stack = Stack::new(AppOptions::default());
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
    let url = format!("http://127.0.0.1:{}/slow?ms=4000", stack.proxy_port);
    let slow = std::thread::spawn(move || {
        std::process::Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--max-time",
                "20",
            ])
            .arg(url)
            .output()
            .unwrap()
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(stack.deploy(&["deploy", "v2"]).status.code(), Some(0));
    let out = slow.join().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "200",
        "the in-flight request was cut"
    );
}

#[test]
fn nginx_refusing_the_new_conf_restores_the_old_one_without_reload() {
    let Some(_serial) = ready() else { return };
    let stack = Stack::new(AppOptions::default());
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
    let before = stack.site_conf().unwrap();
    let workers = stack.nginx_workers();
    let upstream = stack.kit.join("nginx/web-green.upstream.conf");
    let mut text = std::fs::read_to_string(&upstream).unwrap();
    text.push_str("this_is_not_a_directive;\n");
    support::replace_kit_file(&stack.kit, "nginx/web-green.upstream.conf", &text);
    let load = stack.load();
    let out = stack.deploy(&["deploy", "v2"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stack.site_conf().unwrap(),
        before,
        "old conf not restored byte for byte"
    );
    assert_eq!(stack.nginx_workers(), workers, "nginx was reloaded");
    assert_eq!(stack.served_version(), "v1");
    load.finish().assert_no_failures("refused conf");
}

#[test]
fn a_second_deploy_is_refused_while_one_runs() {
    let Some(_serial) = ready() else { return };
    let stack = Stack::new(AppOptions::default());
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
    stack.version_env("v2", "APP_BOOT_DELAY_MS=2000\n");
    let mut first = stack
        .deploy_cmd(&["deploy", "v2"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let second = stack.deploy(&["deploy", "v3"]);
    assert_eq!(second.status.code(), Some(75));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the refusal must be immediate"
    );
    assert!(String::from_utf8_lossy(&second.stderr).contains("another deploy"));
    assert!(
        first.wait().unwrap().success(),
        "the first deploy was disturbed"
    );
    assert_eq!(stack.served_version(), "v2");
}

/// The progress lines deploy.sh prints at the start of each step, in order.
const STEPS: &[&str] = &[
    "cleaning the idle color",
    "starting",
    "health gate on",
    "is healthy",
    "switching by",
    "live on",
    "draining and stopping",
    "hook after-switch",
];

/// Runs `deploy VERSION` and sends SIGNAL the moment the line of `step` appears.
fn deploy_killed_at(stack: &Stack, version: &str, step: &str, signal: &str) -> bool {
    use std::io::{BufRead, BufReader};
    let mut child = stack
        .deploy_cmd(&["deploy", version])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut seen = false;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if !seen && line.contains(step) {
            seen = true;
            std::process::Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(child.id().to_string())
                .status()
                .unwrap();
        }
    }
    child.wait().unwrap();
    seen
}

#[test]
fn a_deploy_killed_at_any_step_leaves_the_site_up_and_the_next_one_converges() {
    let Some(_serial) = ready() else { return };
    let stack = Stack::new(AppOptions::default());
    assert_eq!(stack.deploy(&["deploy", "v0"]).status.code(), Some(0));
    let load = stack.load();
    let mut live = "v0".to_string();
    for (i, step) in STEPS.iter().enumerate() {
        for signal in ["TERM", "KILL"] {
            let version = format!("v{i}-{}", signal.to_lowercase());
            stack.version_env(&version, "APP_BOOT_DELAY_MS=300\n");
            assert!(
                deploy_killed_at(&stack, &version, step, signal),
                "step {step:?} never printed"
            );
            let served = stack.served_version();
            assert!(
                served == live || served == version,
                "after SIG{signal} at {step:?} the site answered {served:?} (live was {live})"
            );
            let next = format!("{version}-next");
            let out = stack.deploy(&["deploy", &next]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "the deploy after SIG{signal} at {step:?} did not converge"
            );
            assert_eq!(stack.served_version(), next);
            let status = String::from_utf8(stack.deploy(&["status"]).stdout).unwrap();
            assert!(
                status.contains(&format!(" {next};")),
                "status after converging: {status}"
            );
            live = next;
        }
    }
    load.finish()
        .assert_no_failures("deploys killed at every step, each followed by a converging deploy");
}

#[test]
fn the_health_gate_follows_the_spec() {
    let Some(_serial) = ready() else { return };
    // expect 204 and three consecutive successes: a 200 is not healthy
    let stack = Stack::new(AppOptions { health: "expect 204\n        interval \"100ms\"\n        timeout \"1s\"\n        deadline \"2s\"\n        healthy-after 3", ..AppOptions::default() });
    stack.version_env("ok200", "APP_HEALTH_STATUS=200\n");
    let started = Instant::now();
    assert_eq!(
        stack.deploy(&["deploy", "ok200"]).status.code(),
        Some(1),
        "a 200 passed a gate that expects 204"
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(4),
        "the 2 s deadline was not honoured: {took:?}"
    );
    stack.version_env("ok204", "APP_HEALTH_STATUS=204\n");
    let out = stack.deploy(&["deploy", "ok204"]);
    assert_eq!(out.status.code(), Some(0));
    // healthy-after 3 at 100 ms intervals: at least 200 ms between start and healthy
    let log = String::from_utf8(out.stdout).unwrap();
    let at = |needle: &str| -> f64 {
        let line = log
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in {log}"));
        line[1..line.find('s').unwrap()].trim().parse().unwrap()
    };
    let gate = at("is healthy") - at("health gate on");
    assert!(gate >= 0.2, "three probes 100 ms apart took only {gate} s");
}

#[test]
fn dry_run_changes_nothing() {
    let Some(_serial) = ready() else { return };
    let stack = Stack::new(AppOptions::default());
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
    let conf = stack.site_conf();
    let state = std::fs::read(stack.path("state/state")).unwrap();
    let workers = stack.nginx_workers();
    let out = stack.deploy(&["--dry-run", "deploy", "v2"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("[dry-run]"));
    assert_eq!(stack.site_conf(), conf);
    assert_eq!(std::fs::read(stack.path("state/state")).unwrap(), state);
    assert_eq!(stack.nginx_workers(), workers);
    assert!(!stack.color_alive("green"));
    assert_eq!(stack.served_version(), "v1");
}

/// The dry run prints the commands the deploy then runs, in order: the same
/// start, conf writes, reload (without njs) and stops, word for word.
#[test]
fn a_dry_run_prints_the_commands_a_real_run_runs() {
    let Some(_serial) = ready() else { return };
    for njs in [true, false] {
        let stack = if njs {
            Stack::new(AppOptions::default())
        } else {
            Stack::new_without_njs(AppOptions::default())
        };
        assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
        let dry = stack.deploy(&["--dry-run", "deploy", "v2"]);
        assert_eq!(dry.status.code(), Some(0));
        let printed = dry_run_commands(&String::from_utf8_lossy(&dry.stdout), "  [dry-run] ");
        let trace = stack.path("trace");
        let real = stack
            .deploy_cmd(&["deploy", "v2"])
            .env("GREENLIGHT_TRACE", &trace)
            .output()
            .unwrap();
        assert_eq!(
            real.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&real.stderr)
        );
        let ran = dry_run_commands(&std::fs::read_to_string(&trace).unwrap(), "");
        assert!(
            printed
                .iter()
                .any(|c| c.starts_with("setsid ") && c.contains(" env -i "))
                && printed.len() >= 4,
            "njs {njs}: the dry run printed too little: {printed:#?}"
        );
        assert_eq!(
            printed, ran,
            "njs {njs}: dry run (left) and real run (right)"
        );
    }
}

/// The day-two commands on a live stack: the live color's logs, status as
/// JSON, the audit log as a table (a forged line skipped) and a command run
/// as the live color's process runs.
#[test]
fn logs_status_json_history_and_exec_tell_about_the_live_color() {
    let Some(_serial) = ready() else { return };
    let stack = Stack::new(AppOptions::default());
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
    assert_eq!(stack.deploy(&["deploy", "v2"]).status.code(), Some(0));
    let text = |out: &std::process::Output| {
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };

    let logs = text(&stack.deploy(&["logs", "--lines", "1000"]));
    assert!(logs.contains(" starting green v2: "), "{logs}");
    assert!(!logs.contains(" starting blue "), "{logs}");
    let blue = text(&stack.deploy(&["logs", "web", "blue", "--lines", "1000"]));
    assert!(blue.contains(" starting blue v1: "), "{blue}");
    let refused = stack.deploy(&["logs", "--since", "10m"]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "process logs have no timestamps"
    );

    let json: serde_json::Value =
        serde_json::from_str(&text(&stack.deploy(&["status", "--json"]))).unwrap();
    let web = &json["apps"][0];
    assert_eq!(web["name"], "web");
    assert_eq!(web["live"], "green");
    assert_eq!(web["live_version"], "v2");
    assert_eq!(web["previous"], "blue");
    assert_eq!(web["colors"]["green"]["healthy"], true);
    assert_eq!(web["colors"]["green"]["hosts"][0]["status"], 200);
    assert_eq!(
        web["colors"]["blue"]["running"], false,
        "stopped after the switch"
    );
    assert_eq!(json["serving"], true);
    assert_eq!(json["lock"], serde_json::Value::Null);

    let log = stack.path("state/deploys.log");
    let mut forged = std::fs::read_to_string(&log).unwrap();
    forged.push_str(
        "2026-12-03T08:00:00Z user=$(id) command=deploy app=web from=- to=v9 result=ok\n",
    );
    std::fs::write(&log, forged).unwrap();
    let out = stack.deploy(&["history"]);
    let history = text(&out);
    let rows: Vec<&str> = history.lines().collect();
    assert_eq!(rows.len(), 3, "a header and two deploys: {history}");
    assert!(rows[0].starts_with("WHEN "), "{history}");
    for (row, from, to) in [(rows[1], "-", "v1"), (rows[2], "v1", "v2")] {
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(&cells[2..7], ["deploy", "web", from, to, "ok"], "{row}");
        assert!(cells[7].ends_with('s'), "a duration: {row}");
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("that is not a valid deploy log line"));

    let version = text(&stack.deploy(&[
        "exec",
        "web",
        "--",
        "sh",
        "-c",
        "printf '%s %s' \"$GREENLIGHT_VERSION\" \"$GREENLIGHT_COLOR\"",
    ]));
    assert_eq!(version, "v2 e2e/web/green");
    let failing = stack.deploy(&["exec", "web", "--", "sh", "-c", "exit 3"]);
    assert_eq!(failing.status.code(), Some(3), "the command's own status");
    assert!(
        !String::from_utf8_lossy(&failing.stderr).contains("unexpected failure"),
        "{}",
        String::from_utf8_lossy(&failing.stderr)
    );
    let marker = stack.path("exec-ran");
    let dry = text(&stack.deploy(&[
        "--dry-run",
        "exec",
        "web",
        "--",
        "touch",
        marker.to_str().unwrap(),
    ]));
    assert!(dry.contains("[dry-run] env "), "{dry}");
    assert!(!marker.exists(), "a dry run ran the command");
}

/// GET / through nginx as a client sees it: status line and headers, body.
fn get_root(stack: &Stack) -> (String, String) {
    let out = std::process::Command::new("curl")
        .args(["-s", "-D", "-", "--max-time", "5"])
        .arg(format!("http://127.0.0.1:{}/", stack.proxy_port))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.to_string(), body.to_string())
}

/// Maintenance: every request gets a 503 page with Retry-After (the text
/// escaped), status says so and exits 1, a deploy keeps it on, and it goes
/// off only when the live color passes its health gate.
#[test]
fn maintenance_answers_503_and_opens_again_only_on_a_healthy_color() {
    let Some(_serial) = ready() else { return };
    let stack = Stack::new(AppOptions {
        health: "interval \"200ms\"\n        timeout \"1s\"\n        deadline \"3s\"",
        ..AppOptions::default()
    });
    let sick = stack.path("sick");
    stack.version_env("v2", &format!("APP_UNHEALTHY_IF={}", sick.display()));
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));

    let on = stack.deploy(&[
        "maintenance",
        "on",
        "--message",
        "Back at <b>10:00</b> & \"soon\" $HOME",
    ]);
    assert_eq!(
        on.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&on.stderr)
    );
    let (head, body) = get_root(&stack);
    assert!(
        head.starts_with("HTTP/1.1 503"),
        "{head}\n{}\n{}",
        String::from_utf8_lossy(&stack.site_conf().unwrap()),
        String::from_utf8_lossy(&on.stdout)
    );
    assert!(head.to_lowercase().contains("retry-after: 300"), "{head}");
    assert!(
        head.to_lowercase().contains("x-greenlight-maintenance: on"),
        "{head}"
    );
    assert!(
        body.contains("Back at &lt;b&gt;10:00&lt;/b&gt; &amp; &quot;soon&quot; &#36;HOME"),
        "{body}"
    );
    let status = stack.deploy(&["status"]);
    assert_eq!(status.status.code(), Some(1), "maintenance is not serving");
    assert!(String::from_utf8_lossy(&status.stdout).contains("maintenance: on"));

    // A deploy goes on behind the page, which stays.
    assert_eq!(stack.deploy(&["deploy", "v2"]).status.code(), Some(0));
    assert!(get_root(&stack).0.starts_with("HTTP/1.1 503"));

    // v2 turns sick: the routes stay closed.
    std::fs::write(&sick, "").unwrap();
    let off = stack.deploy(&["maintenance", "off"]);
    assert_eq!(off.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&off.stderr).contains("maintenance stays on"));
    assert!(get_root(&stack).0.starts_with("HTTP/1.1 503"));

    std::fs::remove_file(&sick).unwrap();
    let off = stack.deploy(&["maintenance", "off"]);
    assert_eq!(
        off.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&off.stderr)
    );
    assert_eq!(stack.served_version(), "v2");
    assert_eq!(stack.deploy(&["status"]).status.code(), Some(0));
}

#[test]
fn deploy_refuses_a_version_outside_the_tag_grammar() {
    let Some(_serial) = ready() else { return };
    let stack = Stack::new(AppOptions::default());
    for bad in ["v1;touch x", "$(id)", "-v", "a b", ".hidden", ""] {
        let out = stack.deploy(&["deploy", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad:?} was not refused");
    }
    assert!(
        !stack.path("state/state").exists(),
        "a refused version changed state"
    );
}

#[test]
fn switching_by_reload_when_nginx_has_no_njs() {
    let Some(_serial) = ready() else { return };
    let stack = Stack::new_without_njs(AppOptions::default());
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
    let load = stack.load();
    let out = stack.deploy(&["deploy", "v2"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("switching by a new conf and nginx reload")
    );
    assert_eq!(stack.served_version(), "v2");
    assert_eq!(stack.deploy(&["rollback"]).status.code(), Some(0));
    assert_eq!(stack.served_version(), "v1");
    load.finish()
        .assert_no_failures("deploy and rollback switching by reload");
    let status = String::from_utf8(stack.deploy(&["status"]).stdout).unwrap();
    assert!(
        status.contains("switching by reload") && status.contains("web: live blue v1"),
        "{status}"
    );
}

/// nginx routes every app, so a first `deploy --app` of a stack with two
/// apps is refused (exit 2) before anything starts, naming the app that was
/// never deployed.
#[test]
fn a_first_deploy_of_one_app_of_several_is_refused() {
    let Some(_serial) = ready() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("conf.d")).unwrap();
    let spec = format!(
        r#"greenlight 1
project "two"
app "web" {{
    runtime "process"
    start "sleep 600"
    host-ports blue={} green={}
    health "/healthz"
}}
app "api" {{
    runtime "process"
    start "sleep 600"
    host-ports blue={} green={}
    health "/healthz"
}}
proxy {{
    mode "host"
    listen "127.0.0.1:{}"
    route "/" app="web"
    route "/api" app="api"
}}
"#,
        free_port(),
        free_port(),
        free_port(),
        free_port(),
        free_port()
    );
    std::fs::write(d.join("two.kdl"), spec).unwrap();
    run_ok(
        std::process::Command::new(env!("CARGO_BIN_EXE_greenlight"))
            .arg("build")
            .arg(d.join("two.kdl")),
    );
    let out = std::process::Command::new(d.join("deploy/two/deploy.sh"))
        .args(["deploy", "--app", "web", "v1"])
        .env("GREENLIGHT_STATE_DIR", d.join("state"))
        .env("GREENLIGHT_NGINX_CONF_DIR", d.join("conf.d"))
        .env(
            "GREENLIGHT_NGINX",
            format!("nginx -p {} -c {}/nginx.conf", d.display(), d.display()),
        )
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("api has never been deployed: deploy every app first (without --app)"),
        "{stderr}"
    );
    let started: Vec<_> = std::fs::read_dir(d.join("state/run"))
        .map(|entries| entries.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(started.is_empty(), "something was started: {started:?}");
    assert_eq!(
        std::fs::read_dir(d.join("conf.d")).unwrap().count(),
        0,
        "a conf was installed"
    );
}

/// A live color's process that crashes is started again by its supervisor
/// (nginx serves it again within seconds, nothing redeployed), `status`
/// and `status --json` say how often, and the log says why; a color that
/// keeps crashing is reported down, not running. The log is capped.
#[test]
fn a_crashed_color_is_started_again_and_status_says_so() {
    let Some(_serial) = ready() else { return };
    let stack = Stack::new(AppOptions::default());
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
    let first = stack
        .app_pid("blue")
        .expect("blue's app runs under its supervisor");
    run_ok(std::process::Command::new("kill").args(["-KILL", &first.to_string()]));
    let started = Instant::now();
    loop {
        let now = stack.app_pid("blue");
        if now.is_some_and(|pid| pid != first) && listening(stack.port("blue")) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the crashed app was not started again"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(stack.served_version(), "v1");
    let status = stack.deploy(&["status"]);
    let said = String::from_utf8_lossy(&status.stdout).into_owned();
    assert_eq!(status.status.code(), Some(0), "{said}");
    assert!(
        said.contains("blue  running v1, restarts 1, healthy"),
        "{said}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&stack.deploy(&["status", "--json"]).stdout).unwrap();
    assert_eq!(json["apps"][0]["colors"]["blue"]["restarts"], 1, "{json}");
    let log = std::fs::read_to_string(stack.path("state/logs/web-blue.log")).unwrap();
    assert!(
        log.contains("exited on its own with status 137: start 2 in 1s"),
        "{log}"
    );

    // Crashing again and again: down between tries, said so, exit 1.
    stack.version_env("v1", "APP_BROKEN=exit-at-boot\n");
    let pid = stack.app_pid("blue").unwrap();
    run_ok(std::process::Command::new("kill").args(["-KILL", &pid.to_string()]));
    let started = Instant::now();
    loop {
        let status = stack.deploy(&["status"]);
        let said = String::from_utf8_lossy(&status.stdout).into_owned();
        if said.contains("blue  down: it ended on its own (restarts ") {
            assert_eq!(status.status.code(), Some(1), "{said}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{said}");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::remove_file(stack.path("versions/v1.env")).unwrap();

    // A log past 10 MiB is moved to .1 within the supervisor's 5 s check.
    let log = stack.path("state/logs/web-blue.log");
    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    std::io::Write::write_all(&mut file, &vec![b'x'; 11 << 20]).unwrap();
    drop(file);
    let started = Instant::now();
    while std::fs::metadata(&log).unwrap().len() > 10 << 20 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the log was not capped"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        std::fs::metadata(stack.path("state/logs/web-blue.log.1"))
            .unwrap()
            .len()
            > 10 << 20
    );
    // Stopping the color stops its supervisor too: nothing is started again.
    assert_eq!(stack.deploy(&["deploy", "v2"]).status.code(), Some(0));
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !listening(stack.port("blue")),
        "blue was started again after its stop"
    );
    assert!(!stack.path("state/run/web-blue.status").exists());
}

/// A color whose supervisor waits to start its crashed app again, with its
/// pid file lost, is still found (by the mark its supervisor carries, as
/// nothing listens on its port): `status` says it is down, and the next
/// deploy stops it with the old color instead of leaving it to restart.
#[test]
fn a_crash_looping_color_without_its_pid_file_is_found_and_stopped() {
    let Some(_serial) = ready() else { return };
    let stack = Stack::new(AppOptions::default());
    for version in ["v1", "v2"] {
        assert_eq!(stack.deploy(&["deploy", version]).status.code(), Some(0));
    }
    let supervisor = stack.color_pid("green").expect("green runs");
    stack.version_env("v2", "APP_BROKEN=exit-at-boot\n");
    let app = stack.app_pid("green").unwrap();
    run_ok(std::process::Command::new("kill").args(["-KILL", &app.to_string()]));
    std::fs::remove_file(stack.path("state/run/web-green.pid")).unwrap();
    let started = Instant::now();
    loop {
        let status = stack.deploy(&["status"]);
        let said = String::from_utf8_lossy(&status.stdout).into_owned();
        if said.contains("green down: it ended on its own (restarts ") {
            assert_eq!(status.status.code(), Some(1), "{said}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{said}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = stack.deploy(&["deploy", "v3"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(stack.served_version(), "v3");
    let started = Instant::now();
    // Gone, or a zombie nobody reaps (the tests' pid namespace in CI).
    let running = || {
        std::fs::read_to_string(format!("/proc/{supervisor}/stat")).is_ok_and(|stat| {
            stat.rsplit_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with('Z'))
        })
    };
    while running() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "green's supervisor still runs after the deploy that retired green"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
