//! A real stack on loopback for end-to-end tests: Debian's nginx with its own
//! prefix in host mode, the process runtime running gl-testapp, the generated
//! deploy.sh, and gl-load keeping traffic going through nginx.

#![allow(dead_code)] // each test binary uses a different subset

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Debian's njs module (libnginx-mod-http-js).
pub const NJS_MODULE: &str = "/usr/lib/nginx/modules/ngx_http_js_module.so";

pub use crate::support::nginx::free_port;

/// nginx + state dir + kit for one test, torn down on drop.
pub struct Stack {
    pub dir: tempfile::TempDir,
    pub proxy_port: u16,
    pub kit: PathBuf,
    /// Host ports of the blue and green colors.
    pub ports: (u16, u16),
}

/// What the spec's app block says beyond the defaults the harness needs.
pub struct AppOptions {
    pub health: &'static str,
    pub drain: &'static str,
    pub keep_previous: bool,
    /// More lines for the app block (e.g. `verify "/x"`).
    pub extra: &'static str,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            health: "interval \"200ms\"\n        timeout \"1s\"\n        deadline \"8s\"",
            drain: "10s",
            keep_previous: true,
            extra: "",
        }
    }
}

impl Stack {
    /// Starts nginx (with the njs module when installed, so deploy.sh
    /// switches without reloading) and builds the kit of a process-runtime spec.
    pub fn new(options: AppOptions) -> Stack {
        Stack::start(options, true)
    }

    /// As [`Stack::new`], but nginx without njs: deploy.sh switches by reload.
    pub fn new_without_njs(options: AppOptions) -> Stack {
        Stack::start(options, false)
    }

    fn start(options: AppOptions, njs: bool) -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for sub in ["ngx/conf.d", "ngx/tmp", "ngx/logs", "versions", "markers"] {
            fs::create_dir_all(d.join(sub)).unwrap();
        }
        let proxy_port = free_port();
        let (blue, green) = (free_port(), free_port());
        fs::write(
            d.join("ngx/nginx.conf"),
            format!(
                "{load}worker_processes 2;\npid {p}/nginx.pid;\nerror_log {p}/logs/error.log;\nevents {{ worker_connections 1024; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {p}/tmp;\n  proxy_temp_path {p}/tmp;\n  include {p}/conf.d/*.conf;\n}}\n",
                p = d.join("ngx").display(),
                load = if njs && Path::new(NJS_MODULE).exists() { format!("load_module {NJS_MODULE};\n") } else { String::new() },
            ),
        )
        .unwrap();
        // The app is started through a wrapper that reads per-version settings
        // (boot delay, broken modes) the test writes into versions/VERSION.env.
        let app = PathBuf::from(env!("CARGO_BIN_EXE_greenlight"))
            .parent()
            .unwrap()
            .join("gl-testapp");
        assert!(
            app.exists(),
            "build gl-testapp first (cargo build -p greenlight-testkit)"
        );
        fs::write(
            d.join("app.sh"),
            format!(
                "#!/bin/sh\nset -a\n[ -f '{v}/'\"$2\".env ] && . '{v}/'\"$2\".env\nexec '{app}' --listen \"127.0.0.1:$1\" --version \"$2\" --health-path /healthz\n",
                v = d.join("versions").display(),
                app = app.display()
            ),
        )
        .unwrap();
        run_ok(Command::new("chmod").arg("+x").arg(d.join("app.sh")));
        let spec = format!(
            "greenlight 1\nproject \"e2e\"\napp \"web\" {{\n    runtime \"process\"\n    start \"{app_sh} {{port}} {{version}}\"\n    host-ports blue={blue} green={green}\n    health \"/healthz\" {{\n        {health}\n    }}\n    drain \"{drain}\"\n    keep-previous {keep}\n    {extra}\n}}\nproxy {{\n    mode \"host\"\n    listen \"127.0.0.1:{proxy_port}\"\n}}\nhooks {{\n    on-failure \"touch {markers}/failed-{{version}}\"\n    after-switch \"touch {markers}/switched-{{version}}\"\n}}\n",
            app_sh = d.join("app.sh").display(),
            health = options.health,
            drain = options.drain,
            extra = options.extra,
            keep = if options.keep_previous { "#true" } else { "#false" },
            markers = d.join("markers").display(),
        );
        fs::write(d.join("e2e.kdl"), spec).unwrap();
        run_ok(
            Command::new(env!("CARGO_BIN_EXE_greenlight"))
                .arg("build")
                .arg(d.join("e2e.kdl")),
        );
        let stack = Stack {
            kit: d.join("deploy/e2e"),
            dir,
            proxy_port,
            ports: (blue, green),
        };
        run_ok(&mut stack.nginx(&[]));
        stack
    }

    /// Starts this stack's nginx (again).
    pub fn start_nginx(&self) {
        run_ok(&mut self.nginx(&[]));
    }

    /// Stops this stack's nginx.
    pub fn stop_nginx(&self) {
        run_ok(&mut self.nginx(&["-s", "stop"]));
        let pid = self.path("ngx/nginx.pid");
        let started = Instant::now();
        while pid.exists() && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Reloads this stack's nginx (after the test changed its conf).
    pub fn reload_nginx(&self) {
        run_ok(&mut self.nginx(&["-s", "reload"]));
        std::thread::sleep(Duration::from_millis(500));
    }

    /// The host port of a color.
    pub fn port(&self, color: &str) -> u16 {
        if color == "blue" {
            self.ports.0
        } else {
            self.ports.1
        }
    }

    /// The color and version `status` names as live, and its exit code.
    pub fn status_live(&self) -> (String, String, Option<i32>) {
        let out = self.deploy(&["status"]);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let line = text
            .lines()
            .find(|l| l.starts_with("web: live "))
            .unwrap_or_else(|| panic!("status names no live color:\n{text}"));
        let mut words = line["web: live ".len()..].split([' ', ';']);
        let color = words.next().unwrap_or_default().to_string();
        let version = words.next().unwrap_or_default().to_string();
        (color, version, out.status.code())
    }

    fn nginx(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("nginx");
        cmd.arg("-p")
            .arg(self.path("ngx"))
            .arg("-c")
            .arg(self.path("ngx/nginx.conf"))
            .args(args);
        cmd
    }

    /// A path inside the test's directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Sets per-version settings of the test app (e.g. `APP_BROKEN=unhealthy`).
    pub fn version_env(&self, version: &str, env: &str) {
        fs::write(self.path(&format!("versions/{version}.env")), env).unwrap();
    }

    /// deploy.sh with the run-time overrides pointing into this stack.
    pub fn deploy_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.kit.join("deploy.sh"));
        cmd.args(args)
            .env("GREENLIGHT_STATE_DIR", self.path("state"))
            .env("GREENLIGHT_NGINX_CONF_DIR", self.path("ngx/conf.d"))
            .env(
                "GREENLIGHT_NGINX",
                format!(
                    "nginx -p {} -c {}",
                    self.path("ngx").display(),
                    self.path("ngx/nginx.conf").display()
                ),
            )
            .stdin(Stdio::null());
        cmd
    }

    /// Runs deploy.sh to the end; returns its output.
    pub fn deploy(&self, args: &[&str]) -> Output {
        let out = self.deploy_cmd(args).output().unwrap();
        eprintln!(
            "$ deploy.sh {}\n{}{}exit {:?}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            out.status.code()
        );
        out
    }

    /// GET / through nginx: the version that answered.
    pub fn served_version(&self) -> String {
        let out = Command::new("curl")
            .args(["-s", "--max-time", "5"])
            .arg(format!("http://127.0.0.1:{}/", self.proxy_port))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .trim_start_matches("version=")
            .to_string()
    }

    /// The installed site conf.
    pub fn site_conf(&self) -> Option<Vec<u8>> {
        fs::read(self.path("ngx/conf.d/greenlight-e2e.conf")).ok()
    }

    /// pids of nginx worker processes of this stack's master.
    pub fn nginx_workers(&self) -> Vec<String> {
        let master = fs::read_to_string(self.path("ngx/nginx.pid")).unwrap();
        let out = Command::new("pgrep")
            .arg("-P")
            .arg(master.trim())
            .output()
            .unwrap();
        let mut pids: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        pids.sort();
        pids
    }

    /// The live process recorded for a color: the pid file names a pid and
    /// its start time, and only a process matching both counts (a pid reused
    /// by another process is never reported, let alone killed).
    pub fn color_pid(&self, color: &str) -> Option<u32> {
        let text = fs::read_to_string(self.path(&format!("state/run/web-{color}.pid"))).ok()?;
        let mut words = text.split_whitespace();
        let (pid, started) = (words.next()?, words.next()?);
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let fields: Vec<&str> = stat.rsplit(") ").next()?.split(' ').collect();
        if fields.first() == Some(&"Z") || fields.get(19) != Some(&started) {
            return None;
        }
        pid.parse().ok()
    }

    /// Whether a color's recorded process is alive.
    /// The app's own process of a color: the child of its supervisor (the
    /// pid file's process) that is not the supervisor's `sleep`.
    pub fn app_pid(&self, color: &str) -> Option<u32> {
        let supervisor = self.color_pid(color)?;
        let children =
            fs::read_to_string(format!("/proc/{supervisor}/task/{supervisor}/children")).ok()?;
        children
            .split_whitespace()
            .filter_map(|pid| pid.parse::<u32>().ok())
            .find(|pid| {
                fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|comm| comm.trim() != "sleep")
            })
    }

    pub fn color_alive(&self, color: &str) -> bool {
        self.color_pid(color).is_some()
    }

    /// Starts the load client through nginx.
    pub fn load(&self) -> Load {
        self.load_with(&[])
    }

    /// Starts the load client with extra gl-load arguments (e.g. a window file).
    pub fn load_with(&self, extra: &[&str]) -> Load {
        let client = PathBuf::from(env!("CARGO_BIN_EXE_greenlight"))
            .parent()
            .unwrap()
            .join("gl-load");
        Load::start(
            &client,
            &format!("http://127.0.0.1:{}", self.proxy_port),
            self.dir.path(),
            extra,
        )
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.nginx(&["-s", "stop"]).output();
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

/// Running load; `finish` stops it and returns the report.
pub struct Load {
    child: Option<Child>,
    stop: PathBuf,
    report: PathBuf,
}

impl Load {
    /// Stops the client and reads its report.
    pub fn finish(mut self) -> Report {
        fs::write(&self.stop, "").unwrap();
        let mut child = self.child.take().unwrap();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "gl-load did not stop"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Report(serde_json::from_str(&fs::read_to_string(&self.report).unwrap()).unwrap())
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// gl-load's JSON report.
pub struct Report(pub Value);

impl Report {
    /// Asserts zero failures in every lane, except POSTs lost to the nginx
    /// reload race (counted and printed, not failed on). Returns that count.
    pub fn assert_no_failures(&self, context: &str) -> u64 {
        let lanes = self.0["lanes"].as_object().unwrap();
        let mut race = 0;
        let mut summary = String::new();
        for (name, lane) in lanes {
            summary.push_str(&format!(
                "  {name}: {} requests, {} failures {}, retries {}, versions {}\n",
                lane["requests"],
                lane["failures"],
                lane["failure_kinds"],
                lane["retries"],
                lane["versions"]
            ));
            assert!(
                lane["requests"].as_u64().unwrap() > 0,
                "{context}: lane {name} sent nothing"
            );
        }
        eprintln!("load during {context}:\n{summary}");
        for (name, lane) in lanes {
            for (kind, count) in lane["failure_kinds"].as_object().unwrap() {
                let count = count.as_u64().unwrap();
                if name == "post-keepalive" && kind == "idle-keepalive-closed" {
                    race += count;
                } else {
                    panic!(
                        "{context}: {count} failed request(s) in lane {name}: {kind}\n{summary}"
                    );
                }
            }
        }
        eprintln!("{context}: POSTs lost to the nginx reload race: {race}");
        race
    }

    /// Versions seen by a lane.
    pub fn versions(&self, lane: &str) -> Vec<String> {
        self.0["lanes"][lane]["versions"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// Runs a command that must succeed.
/// True when something accepts connections on the loopback port.
pub fn listening(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

pub fn run_ok(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether a path exists.
pub fn exists(path: &Path) -> bool {
    path.exists()
}

impl Load {
    /// Starts a gl-load binary against `url`, with its stop and report files
    /// in `dir` (for stacks other than `Stack`, e.g. the compose harness).
    pub fn start(client: &Path, url: &str, dir: &Path, extra: &[&str]) -> Load {
        let stop = dir.join("load.stop");
        let _ = fs::remove_file(&stop);
        let report = dir.join("load.json");
        let _ = fs::remove_file(&report);
        let child = Command::new(client)
            .arg("--url")
            .arg(url)
            .arg("--stop-file")
            .arg(&stop)
            .arg("--report")
            .arg(&report)
            .args(["--rate", "300"])
            .args(extra)
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", client.display()));
        std::thread::sleep(Duration::from_millis(500));
        Load {
            child: Some(child),
            stop,
            report,
        }
    }
}
