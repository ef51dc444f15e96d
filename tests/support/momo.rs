//! The "momo" topology (specs/momo.kdl) on the lab of hosts: an app on two
//! app servers (`was1`, `was2`) behind Debian's nginx on a third host (`lb`,
//! proxy mode "remote"), the compose runtime running gl-testapp, images sent
//! from this machine's engine (`registry "none"`), and the kit run from this
//! machine over ssh with the lab's ssh config.
//!
//! ```ignore
//! let Some(momo) = Momo::available().then(|| Momo::up(MomoOptions::default())) else { return };
//! assert_eq!(code(&momo.deploy(&["deploy", "v1"])), Some(0));
//! assert_eq!(momo.served_version(), "v1");
//! momo.unhealthy_on("was2", "v3");            // v3's health says 503 on was2 only
//! let load = momo.load(4);                     // gl-load through lb's nginx
//! let failures = momo.failures(&load.finish(), "context");
//! ```
//!
//! Each app container mounts the host's /srv/flags at /flags and gets
//! APP_UNHEALTHY_IF=/flags/unhealthy-{version}: a file there makes that
//! version unhealthy on that host only.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Load, Report};
use crate::lab::{text, Host, Lab};
use crate::support;
use crate::support::images::{self, APP_IMAGE};

/// The lab's hosts: two app servers and the proxy host.
pub const HOSTS: [&str; 3] = ["was1", "was2", "lb"];
/// The project of the spec (its compose projects are `momo-api-COLOR`).
pub const PROJECT: &str = "momo";
/// Host ports of the blue and green colors on every app host.
pub const PORTS: [u16; 2] = [8081, 8082];
/// Where the flag files live on an app host (mounted at /flags).
pub const FLAGS_DIR: &str = "/srv/flags";
/// The site conf's path on lb.
pub const SITE_CONF: &str = "/etc/nginx/conf.d/greenlight-momo.conf";
/// How long one deploy.sh run may take before the test fails.
const DEPLOY_LIMIT: Duration = Duration::from_secs(240);

/// What the spec says beyond the defaults.
pub struct MomoOptions {
    /// More lines of the app block.
    pub app_extra: String,
    /// More lines of the proxy block.
    pub proxy_extra: String,
    /// The proxy's `listen` value, as written in KDL (default `80`).
    pub listen: String,
    /// More top-level nodes (accessories, hooks).
    pub top_extra: String,
    /// Leave out `registry "none"`: the kit then pulls images on the hosts.
    pub no_registry: bool,
    /// The proxy's `server-name` (None: no server-name line).
    pub server_name: Option<String>,
    /// The app's `hosts`.
    pub app_hosts: Vec<String>,
    /// The health block's lines.
    pub health: String,
    /// The app's drain.
    pub drain: String,
    /// The app's image repository (default: the test app, sent from here).
    pub image: String,
}

impl Default for MomoOptions {
    fn default() -> Self {
        MomoOptions {
            app_extra: String::new(),
            proxy_extra: String::new(),
            listen: "80".to_string(),
            top_extra: String::new(),
            no_registry: false,
            server_name: Some("momo.test".to_string()),
            app_hosts: vec!["was1".to_string(), "was2".to_string()],
            health: "interval \"200ms\"\n        timeout \"1s\"\n        deadline \"15s\""
                .to_string(),
            drain: "5s".to_string(),
            image: APP_IMAGE.to_string(),
        }
    }
}

/// A momo stack on a fresh lab; the lab is torn down on drop.
pub struct Momo {
    pub dir: tempfile::TempDir,
    pub kit: PathBuf,
    pub server_name: Option<String>,
    pub proxy_port: u16,
    pub app_hosts: Vec<String>,
    // Last: the lab goes after the kit's dir.
    pub lab: Lab,
}

/// The exit code of an output.
pub fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

/// stdout and stderr of an output.
pub fn all_text(out: &Output) -> String {
    text(out)
}

impl Momo {
    /// Whether the lab can run here (and curl is there); prints why not, or
    /// panics when GREENLIGHT_REQUIRE_TOOLS=1.
    pub fn available() -> bool {
        Lab::available() && support::tool_available("curl")
    }

    /// Brings up the lab (was1, was2, lb with nginx enabled), writes the
    /// spec with the lab's addresses and builds its kit.
    pub fn up(options: MomoOptions) -> Momo {
        images::images();
        let lab = Lab::up(&HOSTS);
        lab.host("lb").enable_nginx();
        for name in ["was1", "was2"] {
            lab.host(name).ssh_ok(&format!("mkdir -p {FLAGS_DIR}"));
        }
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("state")).unwrap();
        let mut momo = Momo {
            kit: dir.path().join("deploy").join(PROJECT),
            dir,
            server_name: None,
            proxy_port: 80,
            app_hosts: Vec::new(),
            lab,
        };
        momo.rebuild(options);
        momo
    }

    /// Rewrites the spec with these options and builds its kit again (the
    /// state dirs stay).
    pub fn rebuild(&mut self, options: MomoOptions) {
        let spec = self.spec_text(&options);
        let path = self.dir.path().join("momo.kdl");
        fs::write(&path, &spec).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_greenlight"))
            .arg("build")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "greenlight build of the momo spec failed:\n{}\nspec:\n{spec}",
            text(&out)
        );
        self.server_name = options.server_name;
        self.app_hosts = options.app_hosts;
        let port = options.listen.trim_matches('"');
        self.proxy_port = port
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("listen {:?}: no port", options.listen));
    }

    fn spec_text(&self, o: &MomoOptions) -> String {
        let hosts: String = self
            .lab
            .hosts()
            .iter()
            .map(|h| {
                format!(
                    "host \"{}\" address=\"{}\"\n",
                    h.name(),
                    h.ssh_destination()
                )
            })
            .collect();
        let app_hosts: String = o.app_hosts.iter().map(|h| format!(" \"{h}\"")).collect();
        let server_name = o
            .server_name
            .as_ref()
            .map(|n| format!("    server-name \"{n}\"\n"))
            .unwrap_or_default();
        format!(
            r#"// momo (specs/momo.kdl) on the lab of hosts.
greenlight 1
project "{PROJECT}"
{registry}
{hosts}
app "api" {{
    image "{image}"
    tag "v1"
    port 8080
    host-ports blue={blue} green={green}
    hosts{app_hosts}
    env "APP_UNHEALTHY_IF" "/flags/unhealthy-{{version}}"
    volume "{FLAGS_DIR}" "/flags"
    health "/healthz" {{
        {health}
    }}
    drain "{drain}"
    keep-previous #true
{app_extra}
}}

proxy {{
    mode "remote"
    on "lb"
    listen {listen}
{server_name}    conf-dir "/etc/nginx/conf.d"
    route "/" app="api"
{proxy_extra}
}}
{top_extra}
"#,
            registry = if o.no_registry {
                ""
            } else {
                "registry \"none\""
            },
            blue = PORTS[0],
            green = PORTS[1],
            health = o.health,
            drain = o.drain,
            image = o.image,
            app_extra = o.app_extra,
            listen = o.listen,
            proxy_extra = o.proxy_extra,
            top_extra = o.top_extra,
        )
    }

    /// A lab host.
    pub fn host(&self, name: &str) -> &Host {
        self.lab.host(name)
    }

    /// The main state dir (one CI runner).
    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// The kit's deploy.sh with the main state dir.
    pub fn deploy_cmd(&self, args: &[&str]) -> Command {
        self.deploy_cmd_from(&self.state_dir(), args)
    }

    /// The kit's deploy.sh with another state dir (another CI runner), in a
    /// process group of its own (so a test can kill all of it).
    pub fn deploy_cmd_from(&self, state_dir: &Path, args: &[&str]) -> Command {
        fs::create_dir_all(state_dir).unwrap();
        let mut cmd = Command::new(self.kit.join("deploy.sh"));
        cmd.args(args)
            .env("GREENLIGHT_SSH_CONFIG", self.lab.ssh_config())
            .env("GREENLIGHT_STATE_DIR", state_dir)
            .env("PATH", self.lab.path_env())
            .stdin(Stdio::null())
            .process_group(0);
        cmd
    }

    /// Runs deploy.sh to the end (bounded); prints and returns its output.
    pub fn deploy(&self, args: &[&str]) -> Output {
        self.deploy_from(&self.state_dir(), args)
    }

    /// As [`Momo::deploy`] with another state dir.
    pub fn deploy_from(&self, state_dir: &Path, args: &[&str]) -> Output {
        let started = Instant::now();
        let child = self
            .deploy_cmd_from(state_dir, args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = wait_group(child, DEPLOY_LIMIT, &format!("deploy.sh {args:?}"));
        eprintln!(
            "$ deploy.sh {}  ({:.1}s)\n{}exit {:?}",
            args.join(" "),
            started.elapsed().as_secs_f64(),
            text(&out),
            out.status.code()
        );
        out
    }

    /// The URL of the site on lb.
    pub fn url(&self) -> String {
        format!("http://{}:{}/", self.host("lb").address(), self.proxy_port)
    }

    /// GET / through lb's nginx (with the server name as Host): the version
    /// that answered, "" when none did, or the first line of what answered
    /// when it is not the app.
    pub fn served_version(&self) -> String {
        self.get(&self.url())
    }

    /// GET a URL with the site's Host header: as [`Momo::served_version`].
    pub fn get(&self, url: &str) -> String {
        let mut cmd = Command::new("curl");
        cmd.args(["-s", "--max-time", "5"]);
        if let Some(name) = &self.server_name {
            cmd.args(["-H", &format!("Host: {name}")]);
        }
        let out = cmd.arg(url).output().unwrap();
        let body = String::from_utf8_lossy(&out.stdout);
        let first = body.lines().next().unwrap_or("").trim();
        first.strip_prefix("version=").unwrap_or(first).to_string()
    }

    /// What answers directly on each color's host port of an app host:
    /// [(port, version or "")].
    pub fn direct_versions(&self, host: &str) -> Vec<(u16, String)> {
        let address = self.host(host).address();
        PORTS
            .iter()
            .map(|&port| {
                let out = Command::new("curl")
                    .args(["-s", "--max-time", "3"])
                    .arg(format!("http://{address}:{port}/"))
                    .output()
                    .unwrap();
                let body = String::from_utf8_lossy(&out.stdout);
                (port, body.trim().trim_start_matches("version=").to_string())
            })
            .collect()
    }

    /// The app's containers on a host, any state: "COLOR VERSION STATE"
    /// lines, sorted (from the labels greenlight.color, greenlight.version
    /// and the compose project of each).
    pub fn color_versions(&self, host: &str) -> Vec<String> {
        let out = self.host(host).docker_ok(&[
            "ps",
            "-a",
            "--filter",
            &format!("label=greenlight.project={PROJECT}"),
            "--filter",
            "label=greenlight.app=api",
            "--format",
            "{{.Label \"com.docker.compose.project\"}} {{.Label \"greenlight.color\"}} {{.Label \"greenlight.version\"}} {{.State}}",
        ]);
        images::lines(&out)
            .into_iter()
            .map(|line| {
                let mut words = line.split_whitespace();
                let project = words.next().unwrap_or("");
                let rest: Vec<&str> = words.collect();
                assert_eq!(
                    rest.len(),
                    3,
                    "unexpected container line on {host}: {line:?}"
                );
                assert_eq!(
                    project,
                    format!("{PROJECT}-api-{}", rest[0]),
                    "compose project of a {} container on {host}",
                    rest[0]
                );
                rest.join(" ")
            })
            .collect()
    }

    /// The versions running (state "running") on a host.
    pub fn running_versions(&self, host: &str) -> Vec<String> {
        self.color_versions(host)
            .iter()
            .filter(|l| l.ends_with(" running"))
            .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
            .collect()
    }

    /// Every container of the project on a host (apps and accessories, any
    /// state): "COMPOSE-PROJECT NAME-LABEL STATE" lines, sorted.
    pub fn containers(&self, host: &str) -> Vec<String> {
        let out = self.host(host).docker_ok(&[
            "ps",
            "-a",
            "--filter",
            &format!("label=greenlight.project={PROJECT}"),
            "--format",
            "{{.Label \"com.docker.compose.project\"}} {{.Label \"greenlight.app\"}}{{.Label \"greenlight.accessory\"}} {{.State}}",
        ]);
        images::lines(&out)
    }

    /// Makes `version` unhealthy on `host` (its health answers 503 there).
    pub fn unhealthy_on(&self, host: &str, version: &str) {
        self.host(host)
            .ssh_ok(&format!("touch {FLAGS_DIR}/unhealthy-{version}"));
    }

    /// Makes `version` healthy on `host` again.
    pub fn healthy_on(&self, host: &str, version: &str) {
        self.host(host)
            .ssh_ok(&format!("rm -f {FLAGS_DIR}/unhealthy-{version}"));
    }

    /// Whether lb has the site conf installed.
    pub fn site_conf_installed(&self) -> bool {
        self.host("lb")
            .ssh(&format!("test -e {SITE_CONF}"))
            .status
            .success()
    }

    /// Starts gl-load through lb's nginx: `lanes` of get-keepalive,
    /// get-new-conn, post-keepalive, slow (in that order), with the server
    /// name as Host header.
    pub fn load(&self, lanes: usize) -> Load {
        let all = ["get-keepalive", "get-new-conn", "post-keepalive", "slow"];
        assert!((1..=4).contains(&lanes), "1 to 4 lanes");
        let mut extra = vec!["--lanes".to_string(), all[..lanes].join(",")];
        if let Some(name) = &self.server_name {
            extra.push("--host-header".to_string());
            extra.push(name.clone());
        }
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        Load::start(
            &images::images().gl_load,
            &format!("http://{}:{}", self.host("lb").address(), self.proxy_port),
            self.dir.path(),
            &extra,
        )
    }

    /// Failed requests per lane (every failure kind counted), printed with
    /// the lane's figures.
    pub fn failures(&self, report: &Report, context: &str) -> BTreeMap<String, u64> {
        failures(report, context)
    }
}

/// Failed requests per lane of a gl-load report (every kind counted),
/// printed with each lane's requests, failure kinds and versions seen.
pub fn failures(report: &Report, context: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    let mut summary = String::new();
    for (name, lane) in report.0["lanes"].as_object().unwrap() {
        let failed = lane["failures"].as_u64().unwrap();
        summary.push_str(&format!(
            "  {name}: {} requests, {failed} failed {}, retries {}, versions {}\n",
            lane["requests"], lane["failure_kinds"], lane["retries"], lane["versions"]
        ));
        assert!(
            lane["requests"].as_u64().unwrap() > 0,
            "{context}: lane {name} sent nothing"
        );
        counts.insert(name.clone(), failed);
    }
    eprintln!("load during {context}:\n{summary}");
    counts
}

/// Asserts that no lane lost a request.
pub fn assert_zero_failures(report: &Report, context: &str) {
    let counts = failures(report, context);
    assert!(
        counts.values().all(|&n| n == 0),
        "{context}: failed requests per lane: {counts:?}"
    );
}

/// Waits for a child in its own process group with piped output; kills the
/// whole group after `limit`.
pub fn wait_group(mut child: Child, limit: Duration, what: &str) -> Output {
    let started = Instant::now();
    // Drain the pipes while waiting: a chatty child must not block on them.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut buf).ok();
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut buf).ok();
        buf
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            kill_group(&child);
            let status = child.wait().unwrap();
            let out = Output {
                status,
                stdout: out_reader.join().unwrap(),
                stderr: err_reader.join().unwrap(),
            };
            panic!("{what} did not finish within {limit:?}:\n{}", text(&out));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // A background process of the group may hold the pipes open: bound that.
    let out = join_bounded(out_reader, Duration::from_secs(10));
    let err = join_bounded(err_reader, Duration::from_secs(10));
    Output {
        status,
        stdout: out,
        stderr: err,
    }
}

fn join_bounded(handle: std::thread::JoinHandle<Vec<u8>>, limit: Duration) -> Vec<u8> {
    let started = Instant::now();
    while !handle.is_finished() {
        if started.elapsed() > limit {
            return b"(output still held open by a leftover process)\n".to_vec();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    handle.join().unwrap()
}

/// SIGKILL to a child's whole process group (it leads its own group).
pub fn kill_group(child: &Child) {
    // SAFETY: kill(2) on the group our child leads.
    unsafe {
        libc::kill(-(child.id() as i32), libc::SIGKILL);
    }
}

/// Polls `cond` every 100 ms until it holds or `limit` passes.
pub fn wait_for(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let started = Instant::now();
    while !cond() {
        assert!(
            started.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
