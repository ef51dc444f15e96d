//! Faults nobody named before, on the process runtime behind Debian's
//! nginx, each once switching by njs and once by reload. After every fault
//! the suite asserts three things: deploy.sh's exit code, that `status`
//! names the color and version nginx really serves, and that the next
//! deploy, under four lanes of load, loses nothing.

#[path = "support/harness.rs"]
mod harness;
mod support;

use std::fs;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use harness::*;

/// The scenarios share two cores; one at a time keeps the load meaningful.
static SERIAL: Mutex<()> = Mutex::new(());

fn ready() -> Option<std::sync::MutexGuard<'static, ()>> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    (support::tool_available("nginx")
        && support::tool_available("curl")
        && support::tool_available("flock")
        && support::tool_available("ss"))
    .then_some(guard)
}

fn stack(njs: bool, options: AppOptions) -> Stack {
    if njs {
        Stack::new(options)
    } else {
        Stack::new_without_njs(options)
    }
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// What status says is what nginx serves.
fn assert_truthful(stack: &Stack, version: &str, context: &str) {
    assert_eq!(stack.served_version(), version, "{context}: nginx serves");
    let (_, said, code) = stack.status_live();
    assert_eq!(said, version, "{context}: status names another version");
    assert_eq!(code, Some(0), "{context}: status exit code");
}

/// The next deploy, under load, loses nothing and serves its version.
fn next_deploy_loses_nothing(stack: &Stack, version: &str, context: &str) {
    let load = stack.load();
    let out = stack.deploy(&["deploy", version]);
    assert_eq!(out.status.code(), Some(0), "{context}: next deploy");
    assert_eq!(stack.served_version(), version);
    std::thread::sleep(Duration::from_millis(300));
    load.finish()
        .assert_no_failures(&format!("{context}: the next deploy"));
    assert_truthful(stack, version, &format!("{context}: after the next deploy"));
}

/// A process the kit did not start, answering on a port.
fn impostor(port: u16, version: &str) -> Child {
    let app = std::path::PathBuf::from(env!("CARGO_BIN_EXE_greenlight"))
        .parent()
        .unwrap()
        .join("gl-testapp");
    let child = Command::new(app)
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--version",
            version,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while Command::new("curl")
        .args(["-sf", &format!("http://127.0.0.1:{port}/healthz")])
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "impostor did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// A stray process on the idle color's port is never gated on: the deploy
/// is refused naming its pid and command, and the live color is untouched.
fn a_stray_process_on_the_idle_port_is_refused(njs: bool) {
    let stack = stack(njs, AppOptions::default());
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
    let mut stray = impostor(stack.port("green"), "impostor");
    let out = stack.deploy(&["deploy", "v2"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("held by pid {}", stray.id())),
        "{}",
        text(&out)
    );
    assert_truthful(&stack, "v1", "stray process");
    stray.kill().unwrap();
    stray.wait().unwrap();
    next_deploy_loses_nothing(&stack, "v3", "stray process");
}

/// With the state dir deleted, the kit's own processes are still found by
/// their mark: nothing orphaned is ever gated on or left running.
fn a_lost_state_dir_leaves_no_orphan(njs: bool) {
    let stack = stack(njs, AppOptions::default());
    for version in ["v1", "v2"] {
        assert_eq!(stack.deploy(&["deploy", version]).status.code(), Some(0));
    }
    fs::remove_dir_all(stack.path("state")).unwrap();
    let out = stack.deploy(&["deploy", "v3"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_truthful(&stack, "v3", "state dir deleted");
    assert!(
        !listening(stack.port("green")),
        "the old color (v2, its pid file lost) still runs"
    );
    next_deploy_loses_nothing(&stack, "v4", "state dir deleted");
    assert!(!listening(stack.port("blue")), "v3 still runs after v4");
}

/// A pid file that cannot be written stops the process it was for: no
/// untracked process is left for the next deploy to gate on.
fn an_unwritable_pid_file_leaves_no_untracked_process(njs: bool) {
    let stack = stack(njs, AppOptions::default());
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
    // deploy.sh writes the pid file as PIDFILE.tmp.<its pid>, then renames
    // it: a directory in that place makes the write fail as a full disk
    // would, while everything before it works.
    let mut deploy = stack
        .deploy_cmd(&["deploy", "v2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid_file = stack.path(&format!("state/run/web-green.pid.tmp.{}", deploy.id()));
    fs::create_dir_all(pid_file.join("x")).unwrap();
    let started = Instant::now();
    while deploy.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = deploy.wait_with_output().unwrap();
    eprintln!("{}", text(&out));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("cannot record the pid"),
        "{}",
        text(&out)
    );
    assert!(!listening(stack.port("green")), "an untracked v2 runs");
    assert_truthful(&stack, "v1", "unwritable pid file");
    fs::remove_dir_all(&pid_file).unwrap();
    next_deploy_loses_nothing(&stack, "v3", "unwritable pid file");
}

/// The state dir refusing writes after nginx switched is no "nothing
/// changed": the deploy is live and says so, status names it, and the next
/// deploy does not stop what really serves.
fn a_state_dir_failing_after_the_switch_is_reported_as_live(njs: bool) {
    let stack = stack(njs, AppOptions::default());
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
    fs::remove_file(stack.path("state/state")).unwrap();
    fs::create_dir_all(stack.path("state/state/blocked")).unwrap();
    let saved = stack.path("state/nginx/greenlight-e2e.conf");
    let _ = fs::remove_file(&saved);
    fs::create_dir_all(saved.join("blocked")).unwrap();
    let out = stack.deploy(&["deploy", "v2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("not touched"), "{}", text(&out));
    assert_truthful(&stack, "v2", "state dir refusing writes");
    let load = stack.load();
    let out = stack.deploy(&["deploy", "v3"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    load.finish()
        .assert_no_failures("the deploy after a state dir refused writes");
    assert_truthful(&stack, "v3", "state dir refusing writes, next deploy");
    fs::remove_dir_all(stack.path("state/state")).unwrap();
    fs::remove_dir_all(&saved).unwrap();
    next_deploy_loses_nothing(&stack, "v4", "state dir writable again");
}

/// nginx stopped: the deploy refuses before starting anything, status says
/// nginx serves nothing; once nginx is back the next deploy converges.
fn a_stopped_nginx_is_refused_and_status_says_so(njs: bool) {
    let stack = stack(njs, AppOptions::default());
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
    stack.stop_nginx();
    let out = stack.deploy(&["deploy", "v2"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("nginx does not serve"),
        "{}",
        text(&out)
    );
    assert!(!listening(stack.port("green")), "v2 was started");
    let status = stack.deploy(&["status"]);
    assert_eq!(status.status.code(), Some(1));
    assert!(
        text(&status).contains("nginx serves no route of web"),
        "{}",
        text(&status)
    );
    stack.start_nginx();
    std::thread::sleep(Duration::from_millis(300));
    assert_truthful(&stack, "v1", "nginx started again");
    next_deploy_loses_nothing(&stack, "v2", "nginx started again");
}

/// Another server block that is default_server on the same address takes
/// the requests of a spec without server-name: the first deploy fails
/// naming that, never reports success.
fn a_default_server_taking_the_requests_fails_the_deploy(njs: bool) {
    let stack = stack(njs, AppOptions::default());
    fs::write(
        stack.path("ngx/conf.d/default.conf"),
        format!(
            "server {{\n    listen 127.0.0.1:{} default_server;\n    location / {{ return 200 \"Welcome to nginx!\\n\"; }}\n}}\n",
            stack.proxy_port
        ),
    )
    .unwrap();
    stack.reload_nginx();
    let out = stack.deploy(&["deploy", "v1"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("another server block"),
        "{}",
        text(&out)
    );
    let status = stack.deploy(&["status"]);
    assert_eq!(status.status.code(), Some(1), "{}", text(&status));
    fs::remove_file(stack.path("ngx/conf.d/default.conf")).unwrap();
    stack.reload_nginx();
    next_deploy_loses_nothing(&stack, "v2", "default server removed");
}

/// `verify "/?page=1"` answering 500 through nginx switches back.
fn a_failing_verify_path_switches_back(njs: bool) {
    let stack = stack(
        njs,
        AppOptions {
            extra: "verify \"/?page=1\"",
            ..AppOptions::default()
        },
    );
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
    stack.version_env("v2", "APP_ERROR_PATH='/?page=1'\n");
    let load = stack.load();
    let out = stack.deploy(&["deploy", "v2"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("switching back"), "{}", text(&out));
    load.finish().assert_no_failures("a verify path failing");
    assert_truthful(&stack, "v1", "verify path failing");
    assert!(
        !listening(stack.port("green")),
        "the failed color still runs"
    );
    next_deploy_loses_nothing(&stack, "v3", "verify path failing");
}

/// A release that dies 1.5 s after going live, inside `watch "4s"`, is
/// switched back from, with the old color still running.
fn a_crash_in_the_watch_window_switches_back(njs: bool) {
    let stack = stack(
        njs,
        AppOptions {
            extra: "watch \"4s\"",
            ..AppOptions::default()
        },
    );
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
    stack.version_env("v2", "APP_CRASH_AFTER_MS=1500\n");
    // No load here: a crash drops the requests in flight at that instant
    // (a POST is not retried); what must hold is the switch back, and a
    // next deploy that loses nothing.
    let out = stack.deploy(&["deploy", "v2"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("watch window"), "{}", text(&out));
    assert_truthful(&stack, "v1", "crash in the watch window");
    next_deploy_loses_nothing(&stack, "v3", "crash in the watch window");
}

/// A rollback after the state was lost is refused (no version is
/// guessed); a switch after a killed deploy records the version the color
/// really runs.
fn versions_are_read_from_the_colors(njs: bool) {
    let stack = stack(
        njs,
        AppOptions {
            keep_previous: true,
            ..AppOptions::default()
        },
    );
    for version in ["v1", "v2"] {
        assert_eq!(stack.deploy(&["deploy", version]).status.code(), Some(0));
    }
    // v3 healthy on blue, then the deploy is killed (SIGKILL to its whole
    // process group, as a CI runner's kill does) before its switch.
    stack.version_env("v3", "APP_BOOT_DELAY_MS=1500\n");
    let mut deploy = stack
        .deploy_cmd(&["deploy", "v3"])
        .process_group(0)
        .spawn()
        .unwrap();
    let started = Instant::now();
    while stack.color_pid("blue").is_none() || !listening(stack.port("blue")) {
        assert!(started.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
    Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", deploy.id())])
        .status()
        .unwrap();
    deploy.wait().unwrap();
    let out = stack.deploy(&["switch", "blue"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_truthful(&stack, "v3", "switch after a killed deploy");
    assert_eq!(stack.status_live().0, "blue");
    fs::remove_dir_all(stack.path("state")).unwrap();
    let out = stack.deploy(&["rollback"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no previous color"), "{}", text(&out));
    assert_truthful(&stack, "v3", "rollback without state");
    next_deploy_loses_nothing(&stack, "v4", "versions");
}

/// Messages name the real cause: an nginx conf dir that refuses the file,
/// a read-only state dir (exit 2 before anything), `help` after a command.
fn messages_name_the_real_cause(njs: bool) {
    let stack = stack(njs, AppOptions::default());
    let out = stack.deploy(&["deploy", "help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).contains("Usage: ./deploy.sh"), "{}", text(&out));
    assert!(!stack.path("state").exists(), "`deploy help` deployed");
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
    let blocker = stack.path("ngx/conf.d/.greenlight-e2e.live.new");
    let blocker = if njs {
        blocker
    } else {
        stack.path("ngx/conf.d/.greenlight-e2e.conf.new")
    };
    fs::create_dir_all(blocker.join("x")).unwrap();
    let out = stack.deploy(&["deploy", "v2"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("into nginx's conf dir"),
        "{}",
        text(&out)
    );
    assert!(
        !text(&out).contains("refused the new conf"),
        "{}",
        text(&out)
    );
    assert_truthful(&stack, "v1", "conf dir refusing the file");
    fs::remove_dir_all(&blocker).unwrap();
    let out = stack
        .deploy_cmd(&["deploy", "v2"])
        .env("GREENLIGHT_STATE_DIR", "/sys/kernel")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not writable"), "{}", text(&out));
    assert_truthful(&stack, "v1", "read-only state dir");
    next_deploy_loses_nothing(&stack, "v2", "messages");
}

/// deploy.sh terminated in its first moments (30 tries, 0 to 58 ms after
/// it starts): it ends by the signal, never by a parse error or an
/// unexpected failure, leaves no empty pid file and no process running, and
/// the next deploy converges.
fn a_deploy_terminated_at_once_leaves_nothing_behind(njs: bool) {
    let stack = stack(njs, AppOptions::default());
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
    for i in 0..30u64 {
        let mut deploy = stack
            .deploy_cmd(&["deploy", &format!("t{i}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(i * 2));
        Command::new("kill")
            .args(["-TERM", &deploy.id().to_string()])
            .status()
            .unwrap();
        let started = Instant::now();
        while deploy.try_wait().unwrap().is_none() {
            assert!(started.elapsed() < Duration::from_secs(20), "try {i} hangs");
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = deploy.wait_with_output().unwrap();
        let said = text(&out);
        assert!(
            matches!(out.status.code(), None | Some(143)),
            "try {i}: exit {:?}\n{said}",
            out.status.code()
        );
        assert!(!said.contains("unexpected"), "try {i}: {said}");
        // bash reports a killed job unless it is reaped quietly.
        assert!(!said.contains(" Killed "), "try {i}: {said}");
        if let Ok(pid) = fs::read_to_string(stack.path("state/run/web-green.pid")) {
            assert!(!pid.trim().is_empty(), "try {i}: an empty pid file");
        }
        let lingering = Instant::now();
        while listening(stack.port("green")) {
            // Stopped by the signal handler: SIGTERM, then the app drains.
            assert!(
                lingering.elapsed() < Duration::from_secs(5),
                "try {i}: the started color still runs\n{said}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    assert_truthful(&stack, "v1", "deploys terminated at once");
    next_deploy_loses_nothing(&stack, "v2", "deploys terminated at once");
}

/// deploy.sh alone killed with SIGKILL while its new color boots: its
/// worker notices at its next step and stops what it started; nginx never
/// switched, and the next deploy converges.
fn a_deploy_killed_alone_stops_what_it_started(njs: bool) {
    let stack = stack(njs, AppOptions::default());
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
    stack.version_env("v2", "APP_BOOT_DELAY_MS=1000\n");
    let mut deploy = stack.deploy_cmd(&["deploy", "v2"]).spawn().unwrap();
    let started = Instant::now();
    while stack.color_pid("green").is_none() {
        assert!(started.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
    deploy.kill().unwrap();
    deploy.wait().unwrap();
    let started = Instant::now();
    while stack.color_pid("green").is_some() || listening(stack.port("green")) {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the killed deploy's color still runs"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_truthful(&stack, "v1", "a deploy killed alone");
    next_deploy_loses_nothing(&stack, "v3", "a deploy killed alone");
}

/// Switching by reload, the old color waits for nginx's old workers (a slow
/// request in flight); the new color crashing meanwhile is noticed before
/// the old one is stopped: nginx goes back to it.
fn a_crash_while_the_old_color_drains_switches_back(njs: bool) {
    let stack = stack(njs, AppOptions::default());
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
    stack.version_env("v2", "APP_CRASH_AFTER_MS=1000\n");
    let slow = Command::new("curl")
        .args(["-s", "--max-time", "20"])
        .arg(format!(
            "http://127.0.0.1:{}/slow?ms=4000",
            stack.proxy_port
        ))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // No load here: the crash drops what is in flight on the new color at
    // that instant; the slow request on the old one must be answered.
    let out = stack.deploy(&["deploy", "v2"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("switching back"), "{}", text(&out));
    let answer = slow.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&answer.stdout).trim(), "version=v1");
    assert_truthful(&stack, "v1", "crash while the old color drains");
    next_deploy_loses_nothing(&stack, "v3", "crash while the old color drains");
}

/// One `#[test]` per scenario and switching method.
macro_rules! both_methods {
    ($($scenario:ident),* $(,)?) => {
        mod njs {
            use super::*;
            $(
                #[test]
                fn $scenario() {
                    let Some(_serial) = ready() else { return };
                    super::$scenario(true);
                }
            )*
        }
        mod reload {
            use super::*;
            $(
                #[test]
                fn $scenario() {
                    let Some(_serial) = ready() else { return };
                    super::$scenario(false);
                }
            )*
        }
    };
}

both_methods!(
    a_stray_process_on_the_idle_port_is_refused,
    a_lost_state_dir_leaves_no_orphan,
    an_unwritable_pid_file_leaves_no_untracked_process,
    a_state_dir_failing_after_the_switch_is_reported_as_live,
    a_stopped_nginx_is_refused_and_status_says_so,
    a_default_server_taking_the_requests_fails_the_deploy,
    a_failing_verify_path_switches_back,
    a_crash_in_the_watch_window_switches_back,
    versions_are_read_from_the_colors,
    messages_name_the_real_cause,
    a_deploy_terminated_at_once_leaves_nothing_behind,
    a_deploy_killed_alone_stops_what_it_started,
);

/// Only switching by reload waits for the old color's requests before
/// stopping it (with njs on a host the old color drains after SIGTERM).
#[test]
fn reload_a_crash_while_the_old_color_drains_switches_back() {
    let Some(_serial) = ready() else { return };
    a_crash_while_the_old_color_drains_switches_back(false);
}
