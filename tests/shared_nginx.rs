//! Two stacks on ONE nginx (host mode, the same listen address, a server
//! name each), each deployed by its own deploy.sh with the process runtime
//! in front of gl-testapp: each site serves its own app, and a deploy of one
//! never moves the other. Their names are as close as names may be; the
//! pair that used to share an nginx variable (`$gl_sec__x__web`, so that
//! one site served the other's app) is refused.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use support::nginx::{free_port, testapp_binary, LoopbackNginx};
use support::{run, tool_available};

/// One stack: its spec, kit and state directory.
struct Stack {
    dir: tempfile::TempDir,
    app: String,
    server_name: &'static str,
}

impl Stack {
    /// Writes and builds the spec of `project` with one process app.
    fn build(project: &str, app: &str, server_name: &'static str, listen: u16) -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(
            d.join("app.sh"),
            format!(
                "#!/bin/sh\nexec '{}' --listen \"127.0.0.1:$1\" --version \"$2\"\n",
                testapp_binary().display()
            ),
        )
        .unwrap();
        let (ok, out) = run(Command::new("chmod").arg("+x").arg(d.join("app.sh")));
        assert!(ok, "{out}");
        let spec = format!(
            "greenlight 1\nproject \"{project}\"\napp \"{app}\" {{\n    runtime \"process\"\n    start \"{app_sh} {{port}} {{version}}\"\n    host-ports blue={} green={}\n    health \"/healthz\" {{\n        interval \"100ms\"\n        deadline \"10s\"\n    }}\n    drain \"2s\"\n}}\nproxy {{\n    mode \"host\"\n    listen \"127.0.0.1:{listen}\"\n    server-name \"{server_name}\"\n}}\n",
            free_port(),
            free_port(),
            app_sh = d.join("app.sh").display(),
        );
        fs::write(d.join("stack.kdl"), spec).unwrap();
        let (ok, out) = run(Command::new(env!("CARGO_BIN_EXE_greenlight"))
            .args(["build", "-o"])
            .arg(d.join("kit"))
            .arg(d.join("stack.kdl")));
        assert!(ok, "greenlight build {project}:\n{out}");
        Stack {
            dir,
            app: app.to_string(),
            server_name,
        }
    }

    /// Runs this stack's deploy.sh against the shared nginx.
    fn deploy(&self, nginx: &LoopbackNginx, version: &str) {
        let out = Command::new(self.dir.path().join("kit/deploy.sh"))
            .args(["deploy", version])
            .env("GREENLIGHT_STATE_DIR", self.dir.path().join("state"))
            .env("GREENLIGHT_NGINX_CONF_DIR", nginx.conf_d())
            .env("GREENLIGHT_NGINX", nginx.command_line())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "deploy {version} of {}:\n{}",
            self.server_name,
            text(&out)
        );
    }

    /// The pid of a color's process, when the one its pid file names (pid
    /// and start time) still runs: a reused pid is never signalled.
    fn color_pid(&self, color: &str) -> Option<String> {
        let file = self
            .dir
            .path()
            .join(format!("state/run/{}-{color}.pid", self.app));
        let text = fs::read_to_string(file).ok()?;
        let mut words = text.split_whitespace();
        let (pid, started) = (words.next()?, words.next()?);
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let fields: Vec<&str> = stat.rsplit(") ").next()?.split(' ').collect();
        (fields.first() != Some(&"Z") && fields.get(19) == Some(&started)).then(|| pid.to_string())
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        for color in ["blue", "green"] {
            if let Some(pid) = self.color_pid(color) {
                // `--`: without it, kill(1) reads "-PID" as an option.
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{pid}")])
                    .output();
            }
        }
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The version answering `GET /` for a server name on the shared listen.
fn served(port: u16, server_name: &str) -> String {
    let (ok, out) = run(Command::new("curl")
        .args(["-sS", "--max-time", "5", "-H"])
        .arg(format!("Host: {server_name}"))
        .arg(format!("http://127.0.0.1:{port}/")));
    assert!(ok, "curl {server_name}: {out}");
    out.trim().trim_start_matches("version=").to_string()
}

/// What `greenlight validate` says of a spec with these names.
fn validate(dir: &Path, project: &str, app: &str) -> Output {
    let spec: PathBuf = dir.join(format!("{project}.kdl"));
    fs::write(
        &spec,
        format!("greenlight 1\nproject \"{project}\"\napp \"{app}\" {{\n    image \"ghcr.io/acme/web\"\n    port 8080\n    health \"/healthz\"\n}}\n"),
    )
    .unwrap();
    Command::new(env!("CARGO_BIN_EXE_greenlight"))
        .arg("validate")
        .arg(&spec)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn two_stacks_on_one_nginx_each_serve_their_own_app() {
    if !(tool_available("nginx") && tool_available("curl") && tool_available("flock")) {
        return;
    }
    // The pair whose nginx variables were both $gl_sec__x__web is refused.
    let scratch = tempfile::tempdir().unwrap();
    for (project, app) in [("sec", "x--web"), ("sec--x", "web")] {
        let out = validate(scratch.path(), project, app);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{project}/{app}: {}",
            text(&out)
        );
        assert!(text(&out).contains("contains `--`"), "{}", text(&out));
    }

    let mut nginx = LoopbackNginx::new(true, "");
    nginx.start();
    let listen = free_port();
    let a = Stack::build("sec", "x-web", "a.test", listen);
    let b = Stack::build("sec-x", "web", "b.test", listen);
    a.deploy(&nginx, "a1");
    b.deploy(&nginx, "b1");
    assert_eq!(served(listen, "a.test"), "a1");
    assert_eq!(served(listen, "b.test"), "b1");

    a.deploy(&nginx, "a2");
    assert_eq!(served(listen, "a.test"), "a2");
    assert_eq!(
        served(listen, "b.test"),
        "b1",
        "a deploy of sec moved sec-x"
    );
    b.deploy(&nginx, "b2");
    assert_eq!(
        served(listen, "a.test"),
        "a2",
        "a deploy of sec-x moved sec"
    );
    assert_eq!(served(listen, "b.test"), "b2");

    let mut installed: Vec<String> = fs::read_dir(nginx.conf_d())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".conf"))
        .collect();
    installed.sort();
    assert_eq!(installed, ["greenlight-sec-x.conf", "greenlight-sec.conf"]);
}
