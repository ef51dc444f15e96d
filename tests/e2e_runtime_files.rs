//! What deploy.sh leaves on the machine, run for real with the process
//! runtime: an app gets a clean environment (none of the deployer's tokens)
//! and runs as the spec's `user`; the state dir is private, must belong to
//! the deploying user and holds no symlink deploy.sh would follow; secret
//! files readable by others are flagged; the audit log names the user
//! behind sudo.

#[path = "support/harness.rs"]
mod harness;
mod support;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::sync::Mutex;

use harness::*;

static SERIAL: Mutex<()> = Mutex::new(());

fn ready() -> Option<std::sync::MutexGuard<'static, ()>> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    (support::tool_available("nginx")
        && support::tool_available("curl")
        && support::tool_available("setpriv")
        && support::tool_available("ss"))
    .then_some(guard)
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The environment of a live process, as NAME=value strings.
fn environ(pid: u32) -> Vec<String> {
    fs::read(format!("/proc/{pid}/environ"))
        .unwrap()
        .split(|b| *b == 0)
        .map(|v| String::from_utf8_lossy(v).to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The pid of the app itself: the leader runs app.sh, which execs it.
fn app_pid(stack: &Stack, color: &str) -> u32 {
    stack
        .app_pid(color)
        .unwrap_or_else(|| panic!("{color} does not run"))
}

fn mode(path: &std::path::Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn an_app_gets_a_clean_environment_and_the_kits_files_their_modes() {
    let Some(_serial) = ready() else { return };
    let stack = Stack::new(AppOptions {
        extra: "env \"APP_SETTING\" \"on\"",
        ..AppOptions::default()
    });
    let out = stack
        .deploy_cmd(&["deploy", "v1"])
        .env("AWS_SECRET_ACCESS_KEY", "deployer-token")
        .env("SSH_AUTH_SOCK", "/tmp/deployer-agent")
        .env("SUDO_USER", "alice")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let env = environ(app_pid(&stack, "blue"));
    for leaked in [
        "AWS_SECRET_ACCESS_KEY",
        "SSH_AUTH_SOCK",
        "SUDO_USER",
        "GREENLIGHT_STATE_DIR",
    ] {
        assert!(
            !env.iter().any(|v| v.starts_with(&format!("{leaked}="))),
            "{leaked} reached the app: {env:?}"
        );
    }
    for expected in [
        "APP_SETTING=on",
        "GREENLIGHT_COLOR=e2e/web/blue",
        "GREENLIGHT_VERSION=v1",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ] {
        assert!(
            env.iter().any(|v| v == expected),
            "{expected} missing: {env:?}"
        );
    }
    // umask 077 for what deploy.sh keeps; 0644 for what nginx's workers read.
    assert_eq!(mode(&stack.path("state")), 0o700);
    for private in [
        "state/state",
        "state/lock",
        "state/deploys.log",
        "state/run/web-blue.pid",
    ] {
        assert_eq!(
            mode(&stack.path(private)) & 0o077,
            0,
            "{private} is readable by others"
        );
    }
    for public in [
        "ngx/conf.d/greenlight-e2e.conf",
        "ngx/conf.d/greenlight-e2e.live",
        "ngx/conf.d/greenlight-e2e.js",
    ] {
        assert_eq!(mode(&stack.path(public)), 0o644, "{public}");
    }
    let log = fs::read_to_string(stack.path("state/deploys.log")).unwrap();
    assert!(log.contains(" sudo_user=alice "), "{log}");
    // A SUDO_USER that is not a user name is not written as it is.
    let out = stack
        .deploy_cmd(&["deploy", "v2"])
        .env("SUDO_USER", "$(touch x)\nresult=ok")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let log = fs::read_to_string(stack.path("state/deploys.log")).unwrap();
    assert!(log.contains(" sudo_user=unknown "), "{log}");
    assert_eq!(log.lines().count(), 2, "{log}");
}

#[test]
fn an_app_runs_as_its_user() {
    let Some(_serial) = ready() else { return };
    let stack = Stack::new(AppOptions {
        extra: "user \"nobody\"",
        ..AppOptions::default()
    });
    // nobody must reach the app's wrapper and settings.
    fs::set_permissions(stack.dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let out = stack.deploy(&["deploy", "v1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let pid = app_pid(&stack, "blue");
    let uid = fs::metadata(format!("/proc/{pid}")).unwrap().uid();
    assert_eq!(uid, 65534, "the app runs as uid {uid}, not nobody");
    assert_eq!(stack.served_version(), "v1");
}

#[test]
fn the_state_dir_must_be_private_and_holds_no_symlink_deploy_sh_follows() {
    let Some(_serial) = ready() else { return };
    let stack = Stack::new(AppOptions::default());
    assert_eq!(stack.deploy(&["deploy", "v1"]).status.code(), Some(0));
    let state = stack.path("state");

    fs::set_permissions(&state, fs::Permissions::from_mode(0o770)).unwrap();
    let out = stack.deploy(&["deploy", "v2"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("writable by group or others"),
        "{}",
        text(&out)
    );
    fs::set_permissions(&state, fs::Permissions::from_mode(0o700)).unwrap();

    std::os::unix::fs::chown(&state, Some(65534), None).unwrap();
    let out = stack.deploy(&["deploy", "v2"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("belongs to uid 65534"),
        "{}",
        text(&out)
    );
    std::os::unix::fs::chown(&state, Some(0), None).unwrap();

    let target = stack.path("planted");
    fs::remove_file(state.join("deploys.log")).unwrap();
    std::os::unix::fs::symlink(&target, state.join("deploys.log")).unwrap();
    let out = stack.deploy(&["deploy", "v2"]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("is a symlink"), "{}", text(&out));
    assert!(!target.exists(), "deploy.sh wrote through a symlink");
    fs::remove_file(state.join("deploys.log")).unwrap();
    assert_eq!(stack.served_version(), "v1");
    assert_eq!(stack.deploy(&["deploy", "v2"]).status.code(), Some(0));
}

#[test]
fn secret_files_readable_by_others_are_flagged() {
    let Some(_serial) = ready() else { return };
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("token");
    fs::write(&secret, "s3cret").unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o644)).unwrap();
    let extra: &'static str =
        Box::leak(format!("secret \"TOKEN\" from-file=\"{}\"", secret.display()).into_boxed_str());
    let stack = Stack::new(AppOptions {
        extra,
        ..AppOptions::default()
    });
    let out = stack.deploy(&["deploy", "v1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("is readable by every user (mode 644)"),
        "{}",
        text(&out)
    );
    let env = environ(app_pid(&stack, "blue"));
    assert!(env.iter().any(|v| v == "TOKEN=s3cret"), "{env:?}");
    let out = stack
        .deploy_cmd(&["deploy", "v2"])
        .env("GREENLIGHT_STRICT_SECRETS", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(stack.served_version(), "v1");
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
    let out = stack
        .deploy_cmd(&["deploy", "v2"])
        .env("GREENLIGHT_STRICT_SECRETS", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("warning: secret"), "{}", text(&out));
}
