//! A private nginx on loopback (Debian's binary with its own prefix), for
//! tests that send real requests through what a kit installs: gl-testapp
//! processes behind it, sites installed into its conf.d/.

use std::collections::BTreeSet;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::run;

/// Debian's njs module (libnginx-mod-http-js).
pub const NJS_MODULE: &str = "/usr/lib/nginx/modules/ngx_http_js_module.so";

/// A free loopback port (bound once, then released), never one this process
/// was given before.
pub fn free_port() -> u16 {
    // The kernel may hand a just-released port out again: a stack that
    // asks for three ports would then get one twice.
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if given.insert(port) {
            return port;
        }
    }
}

/// nginx with a prefix in a temporary directory; stopped on drop.
pub struct LoopbackNginx {
    dir: tempfile::TempDir,
    started: bool,
}

impl LoopbackNginx {
    /// Writes nginx.conf: the njs module when asked for and installed,
    /// `http_extra` at http level, then every conf.d/*.conf.
    pub fn new(njs: bool, http_extra: &str) -> LoopbackNginx {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        for sub in ["conf.d", "tmp", "logs"] {
            fs::create_dir_all(p.join(sub)).unwrap();
        }
        let load = if njs && Path::new(NJS_MODULE).exists() {
            format!("load_module {NJS_MODULE};\n")
        } else {
            String::new()
        };
        fs::write(
            p.join("nginx.conf"),
            format!(
                "{load}worker_processes 1;\npid {p}/nginx.pid;\nerror_log {p}/logs/error.log;\nevents {{ worker_connections 256; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {p}/tmp;\n  proxy_temp_path {p}/tmp;\n{http_extra}\n  include {p}/conf.d/*.conf;\n}}\n",
                p = p.display(),
            ),
        )
        .unwrap();
        LoopbackNginx {
            dir,
            started: false,
        }
    }

    /// Where sites are installed.
    pub fn conf_d(&self) -> PathBuf {
        self.dir.path().join("conf.d")
    }

    /// A path inside the prefix.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The command line deploy.sh gets as GREENLIGHT_NGINX.
    pub fn command_line(&self) -> String {
        format!(
            "nginx -p {} -c {}",
            self.dir.path().display(),
            self.path("nginx.conf").display()
        )
    }

    /// nginx with this prefix and `args`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("nginx");
        cmd.arg("-p")
            .arg(self.dir.path())
            .arg("-c")
            .arg(self.path("nginx.conf"))
            .args(args);
        cmd
    }

    /// Starts nginx, which must accept its conf.
    pub fn start(&mut self) {
        let (ok, out) = run(&mut self.command(&[]));
        assert!(ok, "nginx did not start:\n{out}");
        self.started = true;
    }
}

impl Drop for LoopbackNginx {
    fn drop(&mut self) {
        if self.started {
            let _ = self.command(&["-s", "stop"]).output();
        }
    }
}

/// gl-testapp, built beside the greenlight binary.
pub fn testapp_binary() -> PathBuf {
    let app = PathBuf::from(env!("CARGO_BIN_EXE_greenlight"))
        .parent()
        .unwrap()
        .join("gl-testapp");
    assert!(
        app.exists(),
        "build gl-testapp first (cargo build -p greenlight-testkit)"
    );
    app
}

/// A gl-testapp serving `version` on a loopback port; killed on drop.
pub struct TestApp(Child);

impl TestApp {
    /// Starts it and waits until it answers.
    pub fn start(port: u16, version: &str) -> TestApp {
        let child = Command::new(testapp_binary())
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(["--version", version])
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "gl-testapp did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        TestApp(child)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
