//! Every call deploy.sh makes that can block has a deadline: a docker
//! engine that stops answering cannot stretch the health gate past its own
//! deadline, nor hang a deploy before it starts. A fake docker
//! (GREENLIGHT_DOCKER) blocks on chosen questions.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A compose kit behind a fake docker that sleeps a minute whenever its
/// arguments contain `blocking`, and a fake nginx.
fn kit(dir: &Path, blocking: &str) {
    for sub in ["conf.d", "state"] {
        fs::create_dir_all(dir.join(sub)).unwrap();
    }
    fs::set_permissions(dir.join("state"), fs::Permissions::from_mode(0o700)).unwrap();
    let script = |name: &str, text: String| {
        fs::write(dir.join(name), text).unwrap();
        fs::set_permissions(dir.join(name), fs::Permissions::from_mode(0o755)).unwrap();
    };
    script(
        "docker",
        format!("#!/bin/bash\n[[ \" $* \" == *' {blocking} '* ]] && exec sleep 60\nexit 0\n"),
    );
    script("nginx", "#!/bin/sh\nexit 0\n".to_string());
    fs::write(
        dir.join("spec.kdl"),
        r#"greenlight 1
project "dl"
app "web" {
    image "example/web"
    port 8080
    host-ports blue=1 green=2
    health "/healthz" {
        interval "200ms"
        deadline "2s"
    }
}
proxy {
    mode "host"
    listen "127.0.0.1:9"
}
"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_greenlight"))
        .arg("build")
        .arg(dir.join("spec.kdl"))
        .arg("-o")
        .arg(dir.join("kit"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// Runs deploy.sh; returns its exit code, output and wall time.
fn deploy(dir: &Path, timeout: &str) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    let out = Command::new(dir.join("kit/deploy.sh"))
        .args(["deploy", "v1"])
        .env("GREENLIGHT_STATE_DIR", dir.join("state"))
        .env("GREENLIGHT_NGINX_CONF_DIR", dir.join("conf.d"))
        .env("GREENLIGHT_NGINX", dir.join("nginx"))
        .env("GREENLIGHT_DOCKER", dir.join("docker"))
        .env("GREENLIGHT_COMPOSE", "v2")
        .env("GREENLIGHT_CALL_TIMEOUT", timeout)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "{text}exit {:?} after {:?}",
        out.status.code(),
        started.elapsed()
    );
    (out.status.code(), text, started.elapsed())
}

#[test]
fn a_blocked_engine_cannot_stretch_the_health_gate() {
    let dir = tempfile::tempdir().unwrap();
    // `docker ps -q` is what the gate asks about the new color each round.
    kit(dir.path(), "-q");
    let (code, text, took) = deploy(dir.path(), "3");
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("health gate failed"), "{text}");
    // The gate's deadline is 2 s; compose and the cleanup after it are
    // bounded by GREENLIGHT_CALL_TIMEOUT (3 s) but answer at once here.
    assert!(
        took < Duration::from_secs(6),
        "a 2 s health deadline took {took:?} with a blocked engine"
    );
}

#[test]
fn a_blocked_engine_is_refused_within_the_call_timeout() {
    let dir = tempfile::tempdir().unwrap();
    // The listing of the project's containers, the first docker call.
    kit(dir.path(), "-a");
    let (code, text, took) = deploy(dir.path(), "2");
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("did not answer within 2.000 s"), "{text}");
    assert!(took < Duration::from_secs(6), "took {took:?}");
}
