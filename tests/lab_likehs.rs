//! The "likehs" topology (specs/likehs.kdl) on the lab of hosts: every
//! container on a remote Docker Engine named by `docker-host` (reached over
//! ssh://, then over tcp:// with TLS verified both ways), nginx a compose
//! service on that engine, an accessory beside it, images sent from this
//! machine's engine (`registry "none"`). Under four lanes of load through
//! the remote nginx: first deploy, v1 to v2, a release that never gets
//! healthy (nothing switches), rollback, status; zero failed requests, and
//! nothing of the stack on this machine's own engine.
//!
//! Needs what the lab needs; skips with a reason without it, fails when
//! GREENLIGHT_REQUIRE_TOOLS=1.

#[path = "support/harness.rs"]
mod harness;
#[allow(dead_code)] // the lab API serves several suites; this one uses a part
#[path = "support/lab/mod.rs"]
mod lab;
#[allow(dead_code)] // momo's helpers: this suite uses the load and output ones
#[path = "support/momo.rs"]
mod momo;
mod support;

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::Load;
use lab::{text, Host, Lab};
use momo::{assert_zero_failures, code, wait_group};
use support::images::{images, APP_IMAGE};

/// nginx's port on the engine's host.
const PROXY_PORT: u16 = 8088;

/// How the kit reaches the engine.
#[derive(Clone, Copy, Debug)]
enum Transport {
    Ssh,
    Tls,
}

/// One likehs kit on the lab engine, with its own state dir.
struct Likehs<'lab> {
    dir: tempfile::TempDir,
    kit: PathBuf,
    engine: &'lab Host,
    ssh_config: PathBuf,
    path_env: std::ffi::OsString,
}

impl<'lab> Likehs<'lab> {
    fn new(lab: &'lab Lab, transport: Transport) -> Likehs<'lab> {
        let engine = lab.host("eng");
        let dir = tempfile::tempdir().unwrap();
        // A repository of its own: the kit's output stays inside it.
        fs::create_dir_all(dir.path().join(".git")).unwrap();
        let docker_host = match transport {
            Transport::Ssh => format!("docker-host \"{}\"", engine.docker_host_ssh()),
            Transport::Tls => {
                let env = engine.tls_env();
                let certs = &env
                    .iter()
                    .find(|(k, _)| *k == "DOCKER_CERT_PATH")
                    .unwrap()
                    .1;
                format!(
                    "docker-host \"tcp://{}:2376\" tls-dir=\"{certs}\"",
                    engine.address()
                )
            }
        };
        let spec = format!(
            r#"// likehs (specs/likehs.kdl) on the lab: a remote engine runs it all.
greenlight 1
project "likehs"
registry "none"
{docker_host}

app "web" {{
    image "{APP_IMAGE}"
    tag "v1"
    port 8080
    host-ports blue=8081 green=8082
    env "APP_UNHEALTHY_IF" "/flags/unhealthy-{{version}}"
    volume "/srv/flags" "/flags"
    health "/healthz" {{
        interval "200ms"
        timeout "1s"
        deadline "10s"
    }}
    drain "5s"
}}

accessory "cache" {{
    image "{APP_IMAGE}:acc"
    port 8080
}}

proxy {{
    mode "compose"
    image "{nginx}"
    listen {PROXY_PORT}
    route "/" app="web"
}}
"#,
            nginx = images().nginx
        );
        let path = dir.path().join("likehs.kdl");
        fs::write(&path, &spec).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_greenlight"))
            .arg("build")
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "build:\n{}\n{spec}", text(&out));
        engine.ssh_ok("mkdir -p /srv/flags && rm -f /srv/flags/*");
        Likehs {
            kit: dir.path().join("deploy/likehs"),
            dir,
            engine,
            ssh_config: lab.ssh_config(),
            path_env: lab.path_env(),
        }
    }

    fn deploy(&self, args: &[&str]) -> std::process::Output {
        let started = Instant::now();
        let state = self.dir.path().join("state");
        fs::create_dir_all(&state).unwrap();
        let child = Command::new(self.kit.join("deploy.sh"))
            .args(args)
            .env("GREENLIGHT_SSH_CONFIG", &self.ssh_config)
            .env("GREENLIGHT_STATE_DIR", &state)
            .env("PATH", &self.path_env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = wait_group(child, Duration::from_secs(240), "deploy.sh");
        eprintln!(
            "$ deploy.sh {} ({:.1}s)\n{}exit {:?}",
            args.join(" "),
            started.elapsed().as_secs_f64(),
            text(&out),
            out.status.code()
        );
        out
    }

    fn url(&self) -> String {
        format!("http://{}:{PROXY_PORT}", self.engine.address())
    }

    fn served_version(&self) -> String {
        let out = Command::new("curl")
            .args(["-s", "--max-time", "5", &format!("{}/", self.url())])
            .output()
            .unwrap();
        let body = String::from_utf8_lossy(&out.stdout);
        body.split_whitespace()
            .find_map(|w| w.strip_prefix("version="))
            .unwrap_or("")
            .to_string()
    }

    fn load(&self) -> Load {
        Load::start(
            &images().gl_load,
            &self.url(),
            self.dir.path(),
            &["--lanes", "get-keepalive,get-new-conn,post-keepalive,slow"],
        )
    }
}

fn assert_exit(out: &std::process::Output, want: i32, what: &str) {
    assert_eq!(code(out), Some(want), "{what}:\n{}", text(out));
}

/// Containers of the stack on an engine (this machine's when `host` is None).
fn stack_containers(host: Option<&Host>) -> String {
    let args = [
        "ps",
        "-a",
        "--filter",
        "label=greenlight.project=likehs",
        "--format",
        "{{.Names}} {{.State}}",
    ];
    match host {
        Some(h) => h.docker_ok(&args),
        None => {
            let out = Command::new("docker").args(args).output().unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    }
}

fn run_topology(lab: &Lab, transport: Transport) {
    let stack = Likehs::new(lab, transport);
    let context = format!("likehs over {transport:?}");
    assert_exit(&stack.deploy(&["deploy", "v1"]), 0, "first deploy");
    assert_eq!(stack.served_version(), "v1", "{context}");
    let load = stack.load();
    std::thread::sleep(Duration::from_millis(500));
    assert_exit(&stack.deploy(&["deploy", "v2"]), 0, "v1 to v2");
    assert_eq!(stack.served_version(), "v2", "{context}");
    stack.engine.ssh_ok("touch /srv/flags/unhealthy-v3");
    assert_exit(
        &stack.deploy(&["deploy", "v3"]),
        1,
        "a release never healthy",
    );
    assert_eq!(stack.served_version(), "v2", "{context}: nothing switched");
    assert_exit(&stack.deploy(&["rollback"]), 0, "rollback");
    assert_eq!(stack.served_version(), "v1", "{context}");
    let status = stack.deploy(&["status"]);
    assert_exit(&status, 0, "status");
    let said = text(&status);
    assert!(said.contains("web: live"), "{said}");
    std::thread::sleep(Duration::from_millis(500));
    assert_zero_failures(&load.finish(), &context);
    // Everything ran on the engine: the accessory and nginx included, and
    // nothing of the stack on this machine's engine.
    let remote = stack_containers(Some(stack.engine));
    assert!(
        remote.contains("cache") && remote.contains("running"),
        "{remote}"
    );
    assert!(
        remote.contains("proxy") || remote.contains("nginx"),
        "{remote}"
    );
    assert_eq!(
        stack_containers(None).trim(),
        "",
        "{context}: on this machine"
    );
    // The next topology starts from an empty engine.
    let ids = stack
        .engine
        .docker_ok(&["ps", "-aq", "--filter", "label=greenlight.project=likehs"]);
    if !ids.trim().is_empty() {
        stack.engine.ssh_ok(&format!(
            "docker rm -f -v {}",
            ids.split_whitespace().collect::<Vec<_>>().join(" ")
        ));
    }
}

#[test]
fn likehs_deploys_to_a_remote_engine_over_ssh_and_tls_without_a_failed_request() {
    if !Lab::available() || !support::tool_available("curl") {
        return;
    }
    let lab = Lab::up(&["eng"]);
    for transport in [Transport::Ssh, Transport::Tls] {
        run_topology(&lab, transport);
    }
}
