//! The generated deploy.sh with the compose runtime, run for real on this
//! machine's Docker Engine: gl-testapp in FROM scratch images built here (no
//! registry), nginx either as a compose service (a scratch image made from the
//! host's nginx) or on the host in front of published ports, and gl-load
//! keeping four lanes of traffic going through nginx. Every scenario asserts
//! zero failed requests (POSTs lost to the nginx reload race are counted and
//! printed, not failed on).
//!
//! Every scenario runs twice, with the kit told to use compose v1
//! (`docker-compose`) and v2 (`docker compose`): modules `compose_v1` and
//! `compose_v2`.
//!
//! Needs docker (a running engine), both composes, nginx, curl and flock;
//! skips with a reason when one is missing, fails when
//! GREENLIGHT_REQUIRE_TOOLS=1.

#[path = "support/compose_harness.rs"]
mod compose_harness;
#[path = "support/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "support/registry.rs"]
mod registry;
mod support;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use compose_harness::*;
use support::dry_run_commands;

/// The scenarios share two cores and one engine; one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn ready(compose: Compose) -> Option<std::sync::MutexGuard<'static, ()>> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    (support::tool_available("docker")
        && support::tool_available("nginx")
        && support::tool_available("curl")
        && support::tool_available("flock")
        && engine_available()
        && compose.available())
    .then_some(guard)
}

fn code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What a first deploy must have set up, whatever the proxy mode: the
/// accessory with its mounts, the app's env (a literal `$` kept), env file
/// and volumes as written, labels to find everything by.
fn assert_first_deploy(stack: &ComposeStack) {
    assert_eq!(stack.served_version(), "v1");
    let blue = stack.color_ids("blue", true);
    assert_eq!(blue.len(), 1, "one container for web/blue");
    // The compose the kit was told to use is the one that created it.
    let made_by = stack.inspect(
        &blue[0],
        "{{index .Config.Labels \"com.docker.compose.version\"}}",
    );
    assert!(
        made_by.starts_with(stack.compose.label_major()),
        "{:?} asked for, but the container was made by compose {made_by}",
        stack.compose
    );
    let env = stack.inspect(&blue[0], "{{json .Config.Env}}");
    let env: Vec<String> = serde_json::from_str(&env).unwrap();
    assert!(
        env.contains(&format!("GL_LITERAL={LITERAL}")),
        "a literal $ was interpolated: {env:?}"
    );
    assert!(
        env.contains(&"FROM_ENV_FILE=web-env-file".to_string()),
        "env file not applied as written: {env:?}"
    );
    assert!(env.contains(&"APP_VERSION=v1".to_string()), "{env:?}");
    // SIGTERM, then SIGKILL after the spec's drain (10 s).
    assert_eq!(
        stack.inspect(&blue[0], "{{.Config.StopSignal}} {{.Config.StopTimeout}}"),
        "SIGTERM 10",
        "stop signal and timeout"
    );
    let mounts = stack.inspect(
        &blue[0],
        "{{range .Mounts}}{{.Type}} {{if eq .Type \"bind\"}}{{.Source}}{{else}}{{.Name}}{{end}} {{.Destination}} {{.RW}};{{end}}",
    );
    let appdata = stack.kit.join("appdata");
    assert!(
        mounts.contains(&format!("bind {} /appdata false;", appdata.display())),
        "{mounts}"
    );
    assert!(
        mounts.contains(&format!("volume {}-web /data true;", stack.project)),
        "{mounts}"
    );
    let acc = stack.accessory_ids();
    assert_eq!(acc.len(), 1, "one accessory container");
    assert_eq!(stack.inspect(&acc[0], "{{.State.Running}}"), "true");
    let mounts = stack.inspect(
        &acc[0],
        "{{range .Mounts}}{{.Type}} {{if eq .Type \"bind\"}}{{.Source}}{{else}}{{.Name}}{{end}} {{.Destination}};{{end}}",
    );
    let cachedata = stack.kit.join("cachedata");
    assert!(
        mounts.contains(&format!("bind {} /cachedata;", cachedata.display())),
        "{mounts}"
    );
    assert!(
        mounts.contains(&format!("volume {}-cache /cache;", stack.project)),
        "{mounts}"
    );
    let acc_env = stack.inspect(&acc[0], "{{json .Config.Env}}");
    assert!(acc_env.contains("FROM_ENV_FILE=cache"), "{acc_env}");
    // The accessory is on the stack network under its name, where the apps
    // find it.
    let aliases = stack.inspect(
        &acc[0],
        &format!(
            "{{{{json (index .NetworkSettings.Networks \"{}\").Aliases}}}}",
            stack.network()
        ),
    );
    assert!(aliases.contains("\"cache\""), "{aliases}");
}

/// deploy v1, v2, a version with a 3 s boot, then rollback: zero failed
/// requests, the kept color resumed without being recreated, the accessory
/// never restarted, nothing left over.
fn deploy_upgrade_and_roll_back(compose: Compose, proxy: Proxy, tag: &str) {
    let stack = ComposeStack::new(
        tag,
        Options {
            compose,
            proxy,
            ..Options::default()
        },
    );
    let out = stack.deploy(&["deploy", "v1"]);
    assert_eq!(code(&out), Some(0));
    assert_first_deploy(&stack);
    let accessory = stack.accessory_ids();
    let accessory_started = stack.inspect(&accessory[0], "{{.State.StartedAt}}");
    if proxy == Proxy::Compose {
        // The health gate reaches the container on the stack network
        // directly from the host.
        let ip = stack.inspect(
            &stack.color_ids("blue", false)[0],
            &format!(
                "{{{{(index .NetworkSettings.Networks \"{}\").IPAddress}}}}",
                stack.network()
            ),
        );
        assert_eq!(curl_version(&format!("http://{ip}:8080/")), "v1");
    }

    // nginx as a compose service has njs (the image loads it): a switch is
    // a copied live file, not a reload. The host nginx here has no njs.
    let method = match proxy {
        Proxy::Compose => "njs",
        Proxy::Host => "reload",
    };
    let status = stdout(&stack.deploy(&["status"]));
    assert!(
        status.contains(&format!("switching by {method};")),
        "{status}"
    );
    let workers = stack.nginx_workers();
    assert!(!workers.is_empty(), "no nginx workers seen");
    let load = stack.load();
    assert_eq!(code(&stack.deploy(&["deploy", "v2"])), Some(0));
    assert_eq!(stack.served_version(), "v2");
    if method == "njs" {
        assert_eq!(
            stack.nginx_workers(),
            workers,
            "the njs switch reloaded nginx"
        );
    }
    // v1's blue is kept, stopped, and it stopped cleanly on SIGTERM (exit 0,
    // not SIGKILL's 137) after nginx's old workers had finished.
    let blue = stack.color_ids("blue", true);
    assert_eq!(blue.len(), 1);
    assert_eq!(stack.inspect(&blue[0], "{{.State.Running}}"), "false");
    assert_eq!(stack.inspect(&blue[0], "{{.State.ExitCode}}"), "0");
    stack.assert_no_leftovers("green", Some("blue"));

    let started = Instant::now();
    assert_eq!(code(&stack.deploy(&["deploy", "boot3"])), Some(0));
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "the health gate must wait for the 3 s boot"
    );
    assert_eq!(stack.served_version(), "boot3");
    let report = load.finish();
    report.assert_no_failures(&format!("{tag}: v1 -> v2 -> boot3"));
    assert!(report
        .versions("get-keepalive")
        .contains(&"boot3".to_string()));
    assert!(stack.color_alive("blue"));
    assert!(!stack.color_alive("green"), "the old color must be stopped");
    stack.assert_no_leftovers("blue", Some("green"));

    // Rollback resumes the kept green: same container, nothing recreated or
    // pulled.
    let kept = stack.color_ids("green", true);
    let kept_created = stack.inspect(&kept[0], "{{.Created}}");
    let load = stack.load();
    let out = stack.deploy(&["rollback"]);
    assert_eq!(code(&out), Some(0));
    assert_eq!(stack.served_version(), "v2");
    load.finish()
        .assert_no_failures(&format!("{tag}: rollback to v2"));
    assert_eq!(
        stack.color_ids("green", true),
        kept,
        "rollback recreated green"
    );
    assert_eq!(stack.inspect(&kept[0], "{{.Created}}"), kept_created);
    assert!(!stack.color_alive("blue"));
    stack.assert_no_leftovers("green", Some("blue"));

    let status = stdout(&stack.deploy(&["status"]));
    assert!(
        status.contains("web: live green v2; previous blue boot3"),
        "{status}"
    );
    assert!(
        status.contains("green running v2, healthy (200)"),
        "{status}"
    );
    assert!(status.contains("blue  stopped"), "{status}");
    assert!(status.contains("lock: free"), "{status}");
    let log = std::fs::read_to_string(stack.path("state/deploys.log")).unwrap();
    assert_eq!(
        log.lines().filter(|l| l.contains("result=ok")).count(),
        4,
        "{log}"
    );
    assert!(stack.path("markers/switched-boot3").exists());
    // Accessories: never restarted or recreated by a deploy.
    assert_eq!(stack.accessory_ids(), accessory);
    assert_eq!(
        stack.inspect(&accessory[0], "{{.State.StartedAt}}"),
        accessory_started,
        "a deploy restarted the accessory"
    );
}

fn compose_proxy_deploys_upgrades_and_rolls_back_without_a_failed_request(compose: Compose) {
    deploy_upgrade_and_roll_back(compose, Proxy::Compose, "up");
}

fn host_proxy_deploys_upgrades_and_rolls_back_without_a_failed_request(compose: Compose) {
    deploy_upgrade_and_roll_back(compose, Proxy::Host, "hup");
}

/// Broken releases (never healthy; exits at boot) fail within the deadline,
/// never take traffic, and leave the idle color removed.
fn broken_release_never_takes_traffic(compose: Compose, proxy: Proxy, tag: &str) {
    let stack = ComposeStack::new(
        tag,
        Options {
            compose,
            proxy,
            health: "interval \"200ms\"\n        timeout \"1s\"\n        deadline \"3s\"",
            ..Options::default()
        },
    );
    assert_eq!(code(&stack.deploy(&["deploy", "v1"])), Some(0));
    let conf_before = stack.site_conf();
    assert!(conf_before.is_some());
    // A container on the engine with the stack's labels and a compose
    // service label that is a GNU sed program running a shell (`e`): the
    // failed deploy prints the idle color's logs by service, and must
    // neither run it nor use the container.
    let payload_marker = stack.path("markers/label-payload-ran");
    let hostile = docker_ok(&[
        "run",
        "-d",
        "--label",
        &format!("greenlight.project={}", stack.project),
        "--label",
        &format!(
            "com.docker.compose.project={}",
            stack.color_project("green")
        ),
        "--label",
        &format!(
            "com.docker.compose.service=x/;e touch {};#",
            payload_marker.display()
        ),
        &format!("{APP_IMAGE}:v1"),
        "--listen",
        "0.0.0.0:8080",
    ]);
    let hostile = hostile.trim().to_string();
    let load = stack.load();
    for version in ["bad1", "bad2"] {
        let started = Instant::now();
        let out = stack.deploy(&["deploy", version]);
        let took = started.elapsed();
        assert_eq!(code(&out), Some(1), "{version}");
        // deadline 3 s, plus compose starting and removing the color
        assert!(
            took < Duration::from_secs(12),
            "{version}: abort took {took:?}, deadline is 3 s"
        );
        assert_eq!(stack.served_version(), "v1");
        assert_eq!(
            stack.site_conf(),
            conf_before,
            "{version}: the proxy conf changed"
        );
        assert!(
            stack
                .color_ids("green", true)
                .iter()
                .all(|id| hostile.starts_with(id.as_str())),
            "{version}: the idle color must be stopped and removed"
        );
        assert!(
            stack.path(&format!("markers/failed-{version}")).exists(),
            "{version}: on-failure did not run"
        );
        let text = stdout(&out);
        assert!(
            text.contains("health gate failed") || text.contains("not running"),
            "{text}"
        );
        // The failed color's own log lines, by service, from docker logs.
        assert!(
            text.contains("web.green logs (last lines):") && text.contains("web | gl-testapp: "),
            "{text}"
        );
        assert!(text.contains(&format!("version={version} pid=")), "{text}");
        if version == "bad2" {
            // crashes at boot: caught by docker's restart count, not the deadline
            assert!(
                text.contains("crashed and was restarted") || text.contains("not running"),
                "{text}"
            );
        }
        assert!(
            !payload_marker.exists(),
            "{version}: a docker label ran as code"
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("that is not a valid docker listing"),
            "{version}: the hostile container must be named as ignored: {text}"
        );
    }
    docker_ok(&["rm", "--force", "--volumes", &hostile]);
    stack.assert_no_leftovers("blue", None);
    load.finish()
        .assert_no_failures(&format!("{tag}: two broken releases"));
}

fn compose_proxy_a_broken_release_never_takes_traffic(compose: Compose) {
    broken_release_never_takes_traffic(compose, Proxy::Compose, "bad");
}

fn host_proxy_a_broken_release_never_takes_traffic(compose: Compose) {
    broken_release_never_takes_traffic(compose, Proxy::Host, "hbad");
}

/// A slow request on the old color completes with 200, and the old color
/// gets SIGTERM (and only SIGTERM) after the request was answered: after a
/// switch by njs deploy.sh waits until the old color has no request in
/// flight, after a reload until nginx's old workers have finished. Without
/// keep-previous the old color is removed with its anonymous volumes.
fn a_slow_request_on_the_old_color_completes_during_the_switch(compose: Compose) {
    slow_request_during_the_switch(compose, true);
}

fn a_slow_request_on_the_old_color_completes_during_a_reload_switch(compose: Compose) {
    slow_request_during_the_switch(compose, false);
}

/// Whether this process sees the engine's processes where deploy.sh looks
/// (GREENLIGHT_HOST_PROC, else /proc): not inside a private pid namespace
/// with its own /proc (as `.ci/run` runs the tests) unless the host's /proc
/// is passed in. Required with GREENLIGHT_REQUIRE_TOOLS=1.
fn engine_processes_visible(stack: &ComposeStack, container: &str) -> bool {
    let pid = stack.inspect(container, "{{.State.Pid}}");
    let proc = std::env::var("GREENLIGHT_HOST_PROC").unwrap_or_else(|_| "/proc".into());
    let visible = std::path::Path::new(&proc)
        .join(&pid)
        .join("net/tcp")
        .exists();
    if !visible {
        assert!(
            std::env::var("GREENLIGHT_REQUIRE_TOOLS").map_or(true, |v| v != "1"),
            "the engine's process {pid} is not visible in {proc}: set GREENLIGHT_HOST_PROC to the host's /proc (GREENLIGHT_REQUIRE_TOOLS=1)"
        );
        eprintln!("SKIPPED the SIGTERM-after-answer check: the engine's processes are not visible in {proc}; set GREENLIGHT_HOST_PROC to the host's /proc");
    }
    visible
}

fn slow_request_during_the_switch(compose: Compose, njs: bool) {
    let stack = ComposeStack::new(
        "slow",
        Options {
            compose,
            keep_previous: false,
            nginx: if njs { Nginx::Njs } else { Nginx::Plain },
            ..Options::default()
        },
    );
    assert_eq!(code(&stack.deploy(&["deploy", "v1"])), Some(0));
    let blue = stack.color_ids("blue", false);
    // After an njs switch deploy.sh reads blue's connections from the
    // engine's /proc; it must see the engine's processes.
    let waits_for_requests = !njs || engine_processes_visible(&stack, &blue[0]);
    let url = format!("http://127.0.0.1:{}/slow?ms=4000", stack.proxy_port);
    let slow = std::thread::spawn(move || {
        let out = std::process::Command::new("curl")
            .args(["-s", "-w", " %{http_code}", "--max-time", "20"])
            .arg(url)
            .output()
            .unwrap();
        (out, std::time::SystemTime::now())
    });
    // Give curl and nginx a moment to have the request in flight on blue.
    std::thread::sleep(Duration::from_millis(300));
    let load = stack.load();
    assert_eq!(code(&stack.deploy(&["deploy", "v2"])), Some(0));
    let (out, answered) = slow.join().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).replace('\n', ""),
        "version=v1 200",
        "the in-flight request was cut"
    );
    load.finish()
        .assert_no_failures("slow request during the switch");
    // blue was removed (keep-previous off); its stop came after the answer.
    assert!(stack.color_ids("blue", true).is_empty());
    // Filtered here, not by `--filter container=`: once a container is
    // removed, docker's own filter misses some of its events. And polled:
    // docker records an event a moment after it happened.
    let kill_events = || -> Vec<(u128, String)> {
        docker_ok(&[
            "events",
            "--since",
            "5m",
            "--until",
            "0s",
            "--filter",
            "type=container",
            "--filter",
            "event=kill",
            "--format",
            "{{.Actor.ID}} {{.TimeNano}} {{.Actor.Attributes.signal}}",
        ])
        .lines()
        .filter_map(|l| {
            let mut fields = l.split(' ');
            let id = fields.next()?;
            let t = fields.next()?.parse().ok()?;
            let signal = fields.next()?.to_string();
            id.starts_with(blue[0].as_str()).then_some((t, signal))
        })
        .collect()
    };
    wait_for(
        Duration::from_secs(10),
        "docker's kill event for blue",
        || !kill_events().is_empty(),
    );
    let kills = kill_events();
    assert!(!kills.is_empty(), "no kill event for blue");
    assert_eq!(
        kills[0].1, "15",
        "the first signal must be SIGTERM: {kills:?}"
    );
    assert!(
        kills.iter().all(|(_, s)| s == "15"),
        "blue needed SIGKILL: {kills:?}"
    );
    let answered_ns = answered
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    // curl returns a moment after nginx sent the answer; the SIGTERM must
    // not come before the request was answered.
    assert!(
        !waits_for_requests || kills[0].0 + 50_000_000 >= answered_ns,
        "blue got SIGTERM {} ms before the slow request was answered",
        (answered_ns - kills[0].0) / 1_000_000
    );
    stack.assert_no_leftovers("green", None);
}

/// nginx -t refusing the new conf: the old conf is put back byte for byte
/// and nginx is not reloaded.
fn nginx_refusing_the_new_conf_restores_the_old_one_without_reload(compose: Compose) {
    let stack = ComposeStack::new(
        "ngt",
        Options {
            compose,
            ..Options::default()
        },
    );
    assert_eq!(code(&stack.deploy(&["deploy", "v1"])), Some(0));
    let before = stack.site_conf().unwrap();
    let workers = stack.nginx_workers();
    assert!(!workers.is_empty(), "no nginx workers seen");
    let upstream = stack.kit.join("nginx/web-green.upstream.conf");
    let mut text = std::fs::read_to_string(&upstream).unwrap();
    text.push_str("this_is_not_a_directive;\n");
    support::replace_kit_file(&stack.kit, "nginx/web-green.upstream.conf", &text);
    let load = stack.load();
    let out = stack.deploy(&["deploy", "v2"]);
    assert_eq!(code(&out), Some(1));
    assert!(
        stdout(&out).contains("nginx -t refused"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        stack.site_conf().unwrap(),
        before,
        "old conf not restored byte for byte"
    );
    assert_eq!(stack.nginx_workers(), workers, "nginx was reloaded");
    assert_eq!(stack.served_version(), "v1");
    load.finish().assert_no_failures("refused conf");
    stack.assert_no_leftovers("blue", None);
}

fn a_second_deploy_is_refused_while_one_runs(compose: Compose) {
    let stack = ComposeStack::new(
        "lock",
        Options {
            compose,
            ..Options::default()
        },
    );
    assert_eq!(code(&stack.deploy(&["deploy", "v1"])), Some(0));
    let first = stack
        .deploy_cmd(&["deploy", "boot2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Polled: the first deploy holds the lock once lock.holder names it.
    wait_for(
        Duration::from_secs(20),
        "the first deploy to take the lock",
        || {
            std::fs::read_to_string(stack.path("state/lock.holder"))
                .is_ok_and(|h| h.contains(&format!("pid {}", first.id())))
        },
    );
    let started = Instant::now();
    let second = stack.deploy(&["deploy", "v3"]);
    assert_eq!(code(&second), Some(75));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the refusal must be immediate"
    );
    assert!(String::from_utf8_lossy(&second.stderr).contains("another deploy"));
    let first = wait_bounded(first, Duration::from_secs(60), "the first deploy");
    assert!(
        first.status.success(),
        "the first deploy was disturbed:\n{}",
        String::from_utf8_lossy(&first.stdout)
    );
    assert_eq!(stack.served_version(), "boot2");
}

fn a_killed_deploy_leaves_the_site_up_and_the_next_one_converges(compose: Compose) {
    let stack = ComposeStack::new(
        "kill",
        Options {
            compose,
            ..Options::default()
        },
    );
    assert_eq!(code(&stack.deploy(&["deploy", "v1"])), Some(0));
    let load = stack.load();
    for (signal, after_ms) in [("TERM", 500), ("KILL", 500), ("KILL", 2500), ("TERM", 2500)] {
        let mut child = stack
            .deploy_cmd(&["deploy", "boot15"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(after_ms));
        std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "deploy.sh did not exit"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let served = stack.served_version();
        assert!(
            served == "v1" || served == "boot15",
            "after SIG{signal} at {after_ms} ms the site answered {served:?}"
        );
    }
    let out = stack.deploy(&["deploy", "v3"]);
    assert_eq!(code(&out), Some(0), "the next deploy must converge");
    assert_eq!(stack.served_version(), "v3");
    load.finish().assert_no_failures("killed deploys then v3");
    let status = stdout(&stack.deploy(&["status"]));
    let (live, kept) = if status.contains("web: live blue") {
        ("blue", "green")
    } else {
        ("green", "blue")
    };
    // The kept color may be gone if the last killed deploy never got to it.
    let kept = (!stack.color_ids(kept, true).is_empty()).then_some(kept);
    stack.assert_no_leftovers(live, kept);
}

fn dry_run_changes_nothing(compose: Compose) {
    let stack = ComposeStack::new(
        "dry",
        Options {
            compose,
            ..Options::default()
        },
    );
    // On a fresh stack: nothing is created, not even the network.
    let out = stack.deploy(&["--dry-run", "deploy", "v1"]);
    assert_eq!(code(&out), Some(0));
    assert!(stdout(&out).contains("[dry-run]"));
    assert!(stack.containers().is_empty(), "{:?}", stack.containers());
    assert!(!docker(&["network", "inspect", &stack.network()]).0);
    assert!(!stack.path("state/state").exists());

    assert_eq!(code(&stack.deploy(&["deploy", "v1"])), Some(0));
    let conf = stack.site_conf();
    let state = std::fs::read(stack.path("state/state")).unwrap();
    let workers = stack.nginx_workers();
    let containers = stack.containers();
    let blue = stack.color_ids("blue", true);
    let out = stack.deploy(&["--dry-run", "deploy", "v2"]);
    assert_eq!(code(&out), Some(0));
    let text = stdout(&out);
    assert!(text.contains("[dry-run]"), "{text}");
    assert!(
        text.contains(" up -d "),
        "the dry run must show the compose command: {text}"
    );
    assert_eq!(stack.site_conf(), conf);
    assert_eq!(std::fs::read(stack.path("state/state")).unwrap(), state);
    assert_eq!(stack.nginx_workers(), workers);
    assert_eq!(stack.containers(), containers);
    assert_eq!(stack.color_ids("blue", true), blue);
    assert_eq!(stack.served_version(), "v1");
    let status = stdout(&stack.deploy(&["status"]));
    assert!(status.contains("web: live blue v1; previous  "), "{status}");
    assert!(
        status.contains("blue  running v1, healthy (200)"),
        "{status}"
    );
    assert!(status.contains("green stopped"), "{status}");

    // What the dry run printed is what the deploy runs, word for word.
    let trace = stack.path("trace");
    let real = stack
        .deploy_cmd(&["deploy", "v2"])
        .env("GREENLIGHT_TRACE", &trace)
        .output()
        .unwrap();
    assert_eq!(
        code(&real),
        Some(0),
        "{}",
        String::from_utf8_lossy(&real.stderr)
    );
    let printed = dry_run_commands(&text, "  [dry-run] ");
    let ran = dry_run_commands(&std::fs::read_to_string(&trace).unwrap(), "");
    assert!(printed.len() >= 3, "{printed:#?}");
    assert_eq!(printed, ran, "dry run (left) and real run (right)");

    // Day two on compose: the live color's logs, a command in its entry
    // container, status as JSON.
    let logs = stdout(&stack.deploy(&["logs", "--since", "10m"]));
    assert!(
        logs.contains("web | gl-testapp: start version=v2"),
        "{logs}"
    );
    let old = stdout(&stack.deploy(&["logs", "web", "blue"]));
    assert!(old.contains("gl-testapp: start version=v1"), "{old}");
    let usage = stack.deploy(&["exec", "web", "--", "/gl-testapp", "--help"]);
    assert_eq!(code(&usage), Some(0));
    assert!(
        stdout(&usage).starts_with("usage: gl-testapp"),
        "{}",
        stdout(&usage)
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&stack.deploy(&["status", "--json"]))).unwrap();
    assert_eq!(json["apps"][0]["live"], "green");
    assert_eq!(json["apps"][0]["colors"]["green"]["version"], "v2");
    assert_eq!(json["apps"][0]["colors"]["blue"]["running"], false);
    assert_eq!(json["switching"], "njs");
    assert_eq!(json["serving"], true);

    // Maintenance in a compose nginx: the page, then the routes again.
    assert_eq!(code(&stack.deploy(&["maintenance", "on"])), Some(0));
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&stack.deploy(&["status", "--json"]))).unwrap();
    assert_eq!(json["maintenance"], true);
    assert_eq!(json["serving"], false);
    assert_ne!(stack.served_version(), "v2", "the maintenance page answers");
    assert_eq!(code(&stack.deploy(&["maintenance", "off"])), Some(0));
    assert_eq!(stack.served_version(), "v2");
}

/// An nginx image without njs: deploy.sh switches by copying in a new conf
/// and reloading, then waits for the old workers before stopping the old
/// color. Zero failures; POSTs lost to the reload race are counted.
fn compose_proxy_without_njs_switches_by_reload(compose: Compose) {
    let stack = ComposeStack::new(
        "rld",
        Options {
            compose,
            nginx: Nginx::Plain,
            ..Options::default()
        },
    );
    assert_eq!(code(&stack.deploy(&["deploy", "v1"])), Some(0));
    let status = stdout(&stack.deploy(&["status"]));
    assert!(status.contains("switching by reload;"), "{status}");
    let load = stack.load();
    for args in [&["deploy", "v2"][..], &["rollback"], &["deploy", "v3"]] {
        let workers = stack.nginx_workers();
        assert_eq!(code(&stack.deploy(args)), Some(0), "{args:?}");
        assert_ne!(stack.nginx_workers(), workers, "{args:?}: no reload");
    }
    assert_eq!(stack.served_version(), "v3");
    load.finish()
        .assert_no_failures("compose nginx without njs: v2, rollback, v3");
    stack.assert_no_leftovers("green", Some("blue"));
}

/// The official nginx image ships the njs module without loading it; a
/// test image laid out the same way gets it loaded by deploy.sh when it
/// starts nginx, so every switch is by njs: no reload (the same workers
/// before and after), no POST lost on a kept-alive connection.
fn a_stock_nginx_image_switches_by_njs(compose: Compose) {
    let stack = ComposeStack::new(
        "stk",
        Options {
            compose,
            nginx: Nginx::Stock,
            ..Options::default()
        },
    );
    let out = stack.deploy(&["deploy", "v1"]);
    assert_eq!(code(&out), Some(0));
    assert!(
        stdout(&out).contains("loading its image's njs module"),
        "{}",
        stdout(&out)
    );
    let status = stdout(&stack.deploy(&["status"]));
    assert!(status.contains("switching by njs;"), "{status}");
    let load = stack.load();
    for args in [&["deploy", "v2"][..], &["rollback"], &["deploy", "v3"]] {
        let workers = stack.nginx_workers();
        assert_eq!(code(&stack.deploy(args)), Some(0), "{args:?}");
        assert_eq!(stack.nginx_workers(), workers, "{args:?}: nginx reloaded");
    }
    assert_eq!(stack.served_version(), "v3");
    let lost = load
        .finish()
        .assert_no_failures("stock nginx image: v2, rollback, v3");
    assert_eq!(lost, 0, "POSTs lost with njs loaded");
}

/// prune removes the images of versions no longer deployed, on the app's
/// host, and never the live or the kept color's: four versions deployed
/// from a repository of the test's own, `prune --keep 1` leaves the live v4
/// and the previous v3 (kept for a rollback, which still works), removes
/// v1 and v2, and leaves an image of another repository alone. A dry run
/// prints the removals and removes nothing.
fn prune_removes_only_images_of_versions_no_longer_deployed(compose: Compose) {
    images();
    let repo = format!("greenlight-test/prune-{}", std::process::id());
    for tag in ["v1", "v2", "v3", "v4"] {
        let source = if tag == "v4" { "v1" } else { tag };
        docker_ok(&[
            "tag",
            &format!("{APP_IMAGE}:{source}"),
            &format!("{repo}:{tag}"),
        ]);
    }
    let stack = ComposeStack::new(
        "prn",
        Options {
            compose,
            app_image: Some(repo.clone()),
            ..Options::default()
        },
    );
    for version in ["v1", "v2", "v3", "v4"] {
        assert_eq!(
            code(&stack.deploy(&["deploy", version])),
            Some(0),
            "{version}"
        );
    }
    let tags = || lines(&docker_ok(&["image", "ls", "--format", "{{.Tag}}", &repo]));
    let dry = stdout(&stack.deploy(&["--dry-run", "prune", "--keep", "1"]));
    assert!(dry.contains(&format!("image rm {repo}:v1")), "{dry}");
    assert_eq!(tags(), ["v1", "v2", "v3", "v4"], "a dry run removed images");
    let out = stack.deploy(&["prune", "--keep", "1"]);
    assert_eq!(code(&out), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("2 image(s) removed"),
        "{}",
        stdout(&out)
    );
    assert_eq!(tags(), ["v3", "v4"]);
    assert!(docker(&["image", "inspect", &format!("{APP_IMAGE}:v2")]).0);
    assert_eq!(code(&stack.deploy(&["rollback"])), Some(0));
    assert_eq!(stack.served_version(), "v3");
    let refused = stack.deploy(&["prune", "--keep", "0"]);
    assert_eq!(code(&refused), Some(2));
    drop(stack);
    for tag in ["v3", "v4"] {
        docker(&["image", "rm", &format!("{repo}:{tag}")]);
    }
}

/// nginx reaches colors by name; a stopped color never stops nginx from
/// starting or reloading: the nginx container restarted while the live color
/// is down comes back, and the next deploy heals the site.
fn a_stopped_color_never_breaks_nginx(compose: Compose) {
    let stack = ComposeStack::new(
        "stop",
        Options {
            compose,
            ..Options::default()
        },
    );
    assert_eq!(code(&stack.deploy(&["deploy", "v1"])), Some(0));
    assert_eq!(code(&stack.deploy(&["deploy", "v2"])), Some(0));
    // green live, blue kept stopped: a restart of nginx serves green.
    let proxy = stack.proxy_id().unwrap();
    docker_ok(&["restart", "--time", "5", &proxy]);
    wait_for(
        Duration::from_secs(20),
        "nginx to serve after a restart",
        || stack.served_version() == "v2",
    );
    // The live color dies; nginx restarts (e.g. a reboot) and must run.
    let green = stack.color_ids("green", false);
    docker_ok(&["stop", "--time", "5", &green[0]]);
    docker_ok(&["restart", "--time", "5", &proxy]);
    wait_for(
        Duration::from_secs(20),
        "nginx workers after the restart",
        || stack.proxy_id().is_some() && !stack.nginx_workers().is_empty(),
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        stack.inspect(&proxy, "{{.State.Running}} {{.RestartCount}}"),
        "true 0",
        "nginx failed to start with the live color stopped:\n{}",
        docker(&["logs", "--tail", "20", &proxy]).2
    );
    let out = stack.deploy(&["deploy", "v3"]);
    assert_eq!(code(&out), Some(0));
    assert_eq!(stack.served_version(), "v3");
}

/// A removed nginx container is started again by the next deploy with the
/// conf (and live file) the previous one had, so it routes as before even
/// when that deploy fails; one of another image, without njs, refuses that
/// conf and gets one that routes the same way and switches by reload.
fn a_replaced_nginx_container_routes_as_before(compose: Compose) {
    let stack = ComposeStack::new(
        "renx",
        Options {
            compose,
            health: "interval \"200ms\"\n        timeout \"1s\"\n        deadline \"2s\"",
            ..Options::default()
        },
    );
    assert_eq!(code(&stack.deploy(&["deploy", "v1"])), Some(0));
    assert_eq!(code(&stack.deploy(&["deploy", "v2"])), Some(0));
    for (njs, method) in [(true, "njs"), (false, "reload")] {
        let proxy = stack.proxy_id().unwrap();
        docker_ok(&["rm", "--force", &proxy]);
        if !njs {
            stack.rebuild_without_njs();
        }
        // A broken release: nginx comes back routing to v2 all the same.
        let out = stack.deploy(&["deploy", "bad1"]);
        assert_eq!(code(&out), Some(1));
        let text = stdout(&out);
        assert!(text.contains("proxy: starting nginx"), "{text}");
        assert_eq!(
            text.contains("refuses the saved conf"),
            !njs,
            "{method}: {text}"
        );
        assert_eq!(stack.served_version(), "v2", "{method}");
        let status = stdout(&stack.deploy(&["status"]));
        assert!(
            status.contains(&format!("switching by {method};")),
            "{status}"
        );
    }
    let load = stack.load();
    assert_eq!(code(&stack.deploy(&["deploy", "v3"])), Some(0));
    assert_eq!(stack.served_version(), "v3");
    load.finish()
        .assert_no_failures("a deploy by reload after nginx was replaced");
    stack.assert_no_leftovers("blue", Some("green"));
}

/// The faults of tests/e2e_faults.rs that reach the compose runtime, in
/// sequence on one stack: after each, the exit code, `status` naming the
/// version nginx serves (read from the containers' label), and no failed
/// request (but while a live color has crashed: see below). A verify path
/// answering 500 and a crash inside the watch window (docker's restart
/// policy bringing it back counts as a crash) switch back; a state dir
/// refusing writes after the switch is reported as live; a lost state dir
/// loses nothing.
fn faults_after_the_switch_are_reported_as_nginx_serves(compose: Compose) {
    let stack = ComposeStack::new(
        "flt",
        Options {
            compose,
            app_extra: "    verify \"/?page=1\"\n    watch \"3s\"\n".into(),
            ..Options::default()
        },
    );
    let truthful = |version: &str, context: &str| {
        assert_eq!(stack.served_version(), version, "{context}");
        let out = stack.deploy(&["status"]);
        assert_eq!(code(&out), Some(0), "{context}: status");
        let text = stdout(&out);
        let live = text
            .lines()
            .find(|l| l.starts_with("web: live "))
            .unwrap_or_default();
        assert!(
            live.split([' ', ';']).nth(3) == Some(version),
            "{context}: status says {live}"
        );
    };
    assert_eq!(code(&stack.deploy(&["deploy", "v1"])), Some(0));
    let load = stack.load();
    let out = stack.deploy(&["deploy", "page500"]);
    assert_eq!(code(&out), Some(1));
    assert!(stdout(&out).contains("switching back"), "{}", stdout(&out));
    truthful("v1", "a verify path answering 500");
    load.finish()
        .assert_no_failures("a verify path answering 500, compose");
    // In compose mode nginx has no backup for a live color that crashes
    // (it names each color by its network alias, per request): requests
    // fail until the watch switches back, so none are counted here; the
    // switch back itself must happen, and serve v1 again.
    let out = stack.deploy(&["deploy", "crash2"]);
    assert_eq!(code(&out), Some(1));
    assert!(stdout(&out).contains("watch window"), "{}", stdout(&out));
    truthful("v1", "a crash in the watch window");
    let load = stack.load();
    let state = stack.path("state/state");
    std::fs::remove_file(&state).unwrap();
    std::fs::create_dir_all(state.join("blocked")).unwrap();
    let out = stack.deploy(&["deploy", "v2"]);
    assert_eq!(code(&out), Some(0));
    truthful("v2", "a state dir refusing writes after the switch");
    std::fs::remove_dir_all(stack.path("state")).unwrap();
    assert_eq!(code(&stack.deploy(&["deploy", "v3"])), Some(0));
    truthful("v3", "a lost state dir");
    load.finish()
        .assert_no_failures("faults after the switch, compose");
}

/// A digest as VERSION (issue #9, item 9). The test image gets a digest by a
/// push to a registry on loopback, which is stopped again before the
/// deploy: the engine resolves `repo@sha256:…` from its own store, with no
/// registry. Under load: deploy v1 by tag, then v2 by its digest (the
/// container runs exactly that reference and reports the digest as its
/// version), then a rollback to v1; zero failed requests.
fn a_digest_version_deploys_that_image(compose: Compose) {
    if !support::tool_available("docker-registry") {
        return;
    }
    images();
    let mut registry = registry::LocalRegistry::start();
    let v1 = registry.tag(&format!("{APP_IMAGE}:v1"));
    let v2 = registry.tag(&format!("{APP_IMAGE}:v2"));
    let digest = registry.push(&v2);
    registry.stop();
    let repo = v1.rsplit_once(':').unwrap().0.to_string();
    let stack = ComposeStack::new(
        "dig",
        Options {
            compose,
            app_image: Some(repo.clone()),
            ..Options::default()
        },
    );
    assert_eq!(code(&stack.deploy(&["deploy", "v1"])), Some(0));
    let load = stack.load();
    let out = stack.deploy(&["deploy", &digest]);
    assert_eq!(code(&out), Some(0));
    assert_eq!(stack.served_version(), "v2");
    let green = stack.color_ids("green", false);
    assert_eq!(green.len(), 1, "one container for web/green");
    assert_eq!(
        stack.inspect(
            &green[0],
            "{{.Config.Image}} {{index .Config.Labels \"greenlight.version\"}}"
        ),
        format!("{repo}@{digest} {digest}")
    );
    let status = stdout(&stack.deploy(&["status"]));
    assert!(
        status.contains(&format!("web: live green {digest}; previous blue v1")),
        "{status}"
    );
    assert_eq!(code(&stack.deploy(&["rollback"])), Some(0));
    assert_eq!(stack.served_version(), "v1");
    load.finish()
        .assert_no_failures("deploy by digest and roll back");
    stack.assert_no_leftovers("blue", Some("green"));
}

/// A secret as a file (issue #9, item 8): compose mounts it read-only at
/// /run/secrets/KEY from this machine, with the file's exact bytes (its path
/// holds a `$` and a space), and its value is in no environment: `docker
/// inspect` of the container shows neither the value nor the key.
fn a_secret_file_reaches_the_container_as_a_file_only(compose: Compose) {
    let stack = ComposeStack::new(
        "sec",
        Options {
            compose,
            app_extra: "    secret \"DB_PASSWORD\" from-file=\"{dir}/keys/db $pass\" as=\"file\"\n"
                .into(),
            ..Options::default()
        },
    );
    let value = "s3cret-FILE-value\n";
    let file = stack.path("keys/db $pass");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, value).unwrap();
    std::fs::set_permissions(
        &file,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600),
    )
    .unwrap();
    for (version, color) in [("v1", "blue"), ("v2", "green")] {
        assert_eq!(code(&stack.deploy(&["deploy", version])), Some(0));
        assert_eq!(stack.served_version(), version);
        let ids = stack.color_ids(color, false);
        assert_eq!(ids.len(), 1, "one container for web/{color}");
        let read = std::process::Command::new("sh")
            .arg("-c")
            .arg("docker cp \"$1\" - | tar -xO")
            .arg("sh")
            .arg(format!("{}:/run/secrets/DB_PASSWORD", ids[0]))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&read.stdout),
            value,
            "the file in {color}: {}",
            String::from_utf8_lossy(&read.stderr)
        );
        let mounts = stack.inspect(
            &ids[0],
            "{{range .Mounts}}{{.Type}} {{.Source}} {{.Destination}} {{.RW}};{{end}}",
        );
        assert!(
            mounts.contains(&format!(
                "bind {} /run/secrets/DB_PASSWORD false;",
                file.display()
            )),
            "{mounts}"
        );
        let inspect = docker_ok(&["inspect", &ids[0]]);
        assert!(!inspect.contains("s3cret-FILE-value"), "{inspect}");
        let env = stack.inspect(&ids[0], "{{json .Config.Env}}");
        assert!(!env.contains("DB_PASSWORD"), "{env}");
    }
}

/// A sidecar's secret (issue #13, item 7) reaches the sidecar's container
/// in both colors, byte for byte (quotes, `$(…)`, backticks, a newline and
/// `$$` taken literally), and not the app's container.
fn a_sidecar_secret_reaches_its_container_in_both_colors(compose: Compose) {
    let stack = ComposeStack::new(
        "side",
        Options {
            compose,
            app_extra: format!(
                "    sidecar \"side\" {{\n        image \"{APP_IMAGE}\"\n        secret \"SIDE_TOKEN\" from-file=\"{{dir}}/keys/side\"\n    }}\n"
            ),
            ..Options::default()
        },
    );
    let value = "side $(touch /tmp/gl-x) `id` \"q\" 'r'\nline 2 ${HOME} $$";
    let file = stack.path("keys/side");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, format!("{value}\n")).unwrap();
    std::fs::set_permissions(
        &file,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600),
    )
    .unwrap();
    let env_of = |color: &str, service: &str| -> Vec<String> {
        let project = format!(
            "label=com.docker.compose.project={}",
            stack.color_project(color)
        );
        let service = format!("label=com.docker.compose.service={service}");
        let ids = lines(&docker_ok(&[
            "ps",
            "-q",
            "--no-trunc",
            "--filter",
            &project,
            "--filter",
            &service,
        ]));
        assert_eq!(ids.len(), 1, "one {service} container of {color}");
        serde_json::from_str(&stack.inspect(&ids[0], "{{json .Config.Env}}")).unwrap()
    };
    for (version, color) in [("v1", "blue"), ("v2", "green")] {
        assert_eq!(code(&stack.deploy(&["deploy", version])), Some(0));
        assert_eq!(stack.served_version(), version);
        let side = env_of(color, "side");
        assert!(
            side.iter()
                .any(|e| e.strip_prefix("SIDE_TOKEN=") == Some(value)),
            "the sidecar of {color} lacks its secret: {side:?}"
        );
        let app = env_of(color, "web");
        assert!(
            !app.iter().any(|e| e.starts_with("SIDE_TOKEN=")),
            "the app of {color} got the sidecar's secret: {app:?}"
        );
    }
}

/// One `#[test]` per scenario and compose version.
macro_rules! scenarios {
    ($module:ident, $compose:expr, [$($scenario:ident),* $(,)?]) => {
        mod $module {
            use super::*;
            $(
                #[test]
                fn $scenario() {
                    let Some(_serial) = ready($compose) else { return };
                    super::$scenario($compose);
                }
            )*
        }
    };
}

macro_rules! both_composes {
    ($($scenario:ident),* $(,)?) => {
        scenarios!(compose_v1, Compose::V1, [$($scenario),*]);
        scenarios!(compose_v2, Compose::V2, [$($scenario),*]);
    };
}

scenarios!(
    compose_v2_prune,
    Compose::V2,
    [prune_removes_only_images_of_versions_no_longer_deployed]
);

both_composes!(
    compose_proxy_deploys_upgrades_and_rolls_back_without_a_failed_request,
    host_proxy_deploys_upgrades_and_rolls_back_without_a_failed_request,
    compose_proxy_a_broken_release_never_takes_traffic,
    host_proxy_a_broken_release_never_takes_traffic,
    a_slow_request_on_the_old_color_completes_during_the_switch,
    a_slow_request_on_the_old_color_completes_during_a_reload_switch,
    nginx_refusing_the_new_conf_restores_the_old_one_without_reload,
    a_second_deploy_is_refused_while_one_runs,
    a_killed_deploy_leaves_the_site_up_and_the_next_one_converges,
    dry_run_changes_nothing,
    compose_proxy_without_njs_switches_by_reload,
    a_stock_nginx_image_switches_by_njs,
    a_stopped_color_never_breaks_nginx,
    a_replaced_nginx_container_routes_as_before,
    faults_after_the_switch_are_reported_as_nginx_serves,
    a_digest_version_deploys_that_image,
    a_secret_file_reaches_the_container_as_a_file_only,
    a_sidecar_secret_reaches_its_container_in_both_colors,
);
