//! A remote engine over tcp:// (issue #9, item 7): with `tls-dir=`, every
//! docker and compose call deploy.sh makes to the engine carries
//! DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH (the directory exactly as
//! written, never evaluated); with `insecure=#true`, none of them does and
//! PLAN.md opens with a warning. (tests/diagnostics/ pins the refusals.)

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn script(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Builds a one-app kit for `docker_host` (a KDL node) in `dir`/kit and runs
/// a real deploy there against a docker that records, per call, its
/// DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH and its arguments
/// (and answers every call with success and no output: the deploy then
/// fails its health gate, after starting the color through compose).
/// Returns the recorded calls and PLAN.md.
fn deploy_recording_docker(dir: &Path, docker_host: &str) -> (Vec<String>, String) {
    let spec = format!(
        "greenlight 1\nproject \"eng\"\n{docker_host}\napp \"web\" {{\n    image \"ghcr.io/acme/web\"\n    port 8080\n    host-ports blue={} green={}\n    health \"/healthz\" {{\n        interval \"100ms\"\n        deadline \"300ms\"\n    }}\n}}\nproxy {{\n    mode \"host\"\n    listen \"127.0.0.1:{}\"\n}}\n",
        free_port(),
        free_port(),
        free_port()
    );
    let (plan, _) = greenlight::load_text("eng.kdl", spec)
        .unwrap_or_else(|r| panic!("{}", greenlight::diagnostic::render_plain(&r)));
    let kit = greenlight::kit(&plan, greenlight::render::TemplateSource::default()).unwrap();
    let kit_dir = dir.join("kit");
    for (path, content) in &kit {
        let file = kit_dir.join(path.as_str());
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, content).unwrap();
    }
    fs::set_permissions(kit_dir.join("deploy.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    let log = dir.join("docker.log");
    script(
        &dir.join("fake-docker"),
        &format!(
            "#!/bin/sh\nprintf '%s|%s|%s|%s\\n' \"${{DOCKER_HOST-unset}}\" \"${{DOCKER_TLS_VERIFY-unset}}\" \"${{DOCKER_CERT_PATH-unset}}\" \"$*\" >>'{}'\nexit 0\n",
            log.display()
        ),
    );
    script(&dir.join("fake-nginx"), "#!/bin/sh\nexit 0\n");
    fs::create_dir_all(dir.join("conf.d")).unwrap();
    let out = Command::new(kit_dir.join("deploy.sh"))
        .args(["deploy", "v1"])
        .env("GREENLIGHT_STATE_DIR", dir.join("state"))
        .env("GREENLIGHT_NGINX_CONF_DIR", dir.join("conf.d"))
        .env("GREENLIGHT_NGINX", dir.join("fake-nginx"))
        .env("GREENLIGHT_DOCKER", dir.join("fake-docker"))
        .env("GREENLIGHT_COMPOSE", "v2")
        .env("TMPDIR", dir)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the deploy must get as far as its health gate:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    (calls, fs::read_to_string(kit_dir.join("PLAN.md")).unwrap())
}

/// Every call that reaches the engine (all but `compose version`, which
/// only asks the local CLI which compose it has).
fn engine_calls(calls: &[String]) -> Vec<&String> {
    let engine: Vec<&String> = calls
        .iter()
        .filter(|c| !c.ends_with("|compose version"))
        .collect();
    assert!(
        engine.iter().any(|c| c.contains("|ps -a ")),
        "no docker listing: {calls:#?}"
    );
    assert!(
        engine
            .iter()
            .any(|c| c.contains("compose --project-name eng-web-blue")
                && c.ends_with(" up -d --force-recreate --remove-orphans")),
        "no compose up: {calls:#?}"
    );
    engine
}

#[test]
fn a_tls_engine_gets_tls_verify_and_the_cert_path_on_every_call() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker");
    // A directory with a space and a command substitution: one word, as written.
    let certs = format!(
        "{}/certs $(touch {})",
        dir.path().display(),
        marker.display()
    );
    let (calls, plan) = deploy_recording_docker(
        dir.path(),
        &format!(
            "docker-host \"tcp://127.0.0.1:2376\" tls-dir={}",
            serde_json::to_string(&certs).unwrap()
        ),
    );
    for call in engine_calls(&calls) {
        assert!(
            call.starts_with(&format!("tcp://127.0.0.1:2376|1|{certs}|")),
            "{call}"
        );
    }
    assert!(!marker.exists(), "the tls-dir was evaluated");
    assert!(plan.contains("over TLS"), "{plan}");
    assert!(!plan.contains("WARNING"), "{plan}");
}

#[test]
fn an_insecure_engine_gets_no_tls_and_plan_md_warns_first() {
    let dir = tempfile::tempdir().unwrap();
    let (calls, plan) = deploy_recording_docker(
        dir.path(),
        "docker-host \"tcp://127.0.0.1:2375\" insecure=#true",
    );
    for call in engine_calls(&calls) {
        assert!(call.starts_with("tcp://127.0.0.1:2375|||"), "{call}");
    }
    let warning = plan.find("**WARNING: the Docker API").expect("a warning");
    assert!(
        warning < plan.find("## Hosts").unwrap(),
        "the warning comes first:\n{plan}"
    );
}
