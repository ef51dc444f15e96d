//! A real compose stack on this machine's Docker Engine for end-to-end tests:
//! the images of `support::images` (built locally, no registry), the
//! generated deploy.sh with the compose runtime, nginx either as a compose
//! service (proxy mode "compose") or Debian's nginx on the host in front of
//! published ports (mode "host"), and gl-load keeping traffic going through
//! nginx.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{free_port, run_ok, Load};
pub use crate::support::images::*;
pub use crate::support::Compose;

/// Where nginx runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Proxy {
    /// nginx as a compose service of the stack (the scratch nginx image).
    Compose,
    /// Debian's nginx on the host, with its own prefix, in front of the
    /// colors' published ports.
    Host,
}

/// The nginx image of a compose proxy.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Nginx {
    /// It loads the njs module: deploy.sh switches without a reload.
    Njs,
    /// Laid out like the official image: the module is there, not loaded;
    /// deploy.sh has it loaded.
    Stock,
    /// No njs module: deploy.sh switches by reload.
    Plain,
}

/// What the spec says beyond the harness's defaults.
pub struct Options {
    pub compose: Compose,
    pub proxy: Proxy,
    pub health: &'static str,
    pub drain: &'static str,
    pub keep_previous: bool,
    /// Proxy mode compose: the nginx image.
    pub nginx: Nginx,
    /// The app's image repository (default: [`APP_IMAGE`]).
    pub app_image: Option<String>,
    /// More lines of the app block; `{dir}` stands for the test's directory.
    pub app_extra: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            compose: Compose::V1,
            proxy: Proxy::Compose,
            health: "interval \"200ms\"\n        timeout \"1s\"\n        deadline \"8s\"",
            drain: "10s",
            keep_previous: true,
            nginx: Nginx::Njs,
            app_image: None,
            app_extra: String::new(),
        }
    }
}

/// The literal value of the app's GL_LITERAL env: compose must not
/// interpolate it.
pub const LITERAL: &str = "cost $5 ${HOME} $$ end";

/// A compose stack for one test, torn down on drop (images are kept).
pub struct ComposeStack {
    pub dir: tempfile::TempDir,
    pub project: String,
    pub compose: Compose,
    pub proxy: Proxy,
    pub proxy_port: u16,
    pub kit: PathBuf,
    /// Dangling volumes that existed before the stack.
    volumes_before: BTreeSet<String>,
}

/// A unique project name per stack, matching [a-z][a-z0-9-]{0,39}.
fn unique_project(tag: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "glc{}-{tag}-{:x}{n}",
        std::process::id() % 100_000,
        nanos % 0xfffff
    )
}

impl ComposeStack {
    /// Builds the kit of a compose-runtime spec (and, in host mode, starts the
    /// host's nginx). `tag` goes into the project name (a few letters).
    pub fn new(tag: &str, options: Options) -> ComposeStack {
        let images = images();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let project = unique_project(tag);
        assert!(project.len() <= 40, "{project}");
        let proxy_port = free_port();
        let volumes_before: BTreeSet<String> = lines(&docker_ok(&[
            "volume",
            "ls",
            "-q",
            "--filter",
            "dangling=true",
        ]))
        .into_iter()
        .collect();
        let (app_ports, proxy_block) = match options.proxy {
            Proxy::Compose => (
                String::new(),
                format!(
                    "proxy {{\n    mode \"compose\"\n    image \"{}\"\n    listen \"127.0.0.1:{proxy_port}\"\n}}\n",
                    match options.nginx {
                        Nginx::Njs => &images.nginx,
                        Nginx::Stock => &images.nginx_stock,
                        Nginx::Plain => &images.nginx_plain,
                    }
                ),
            ),
            Proxy::Host => {
                for sub in ["ngx/conf.d", "ngx/tmp", "ngx/logs"] {
                    fs::create_dir_all(d.join(sub)).unwrap();
                }
                fs::write(
                    d.join("ngx/nginx.conf"),
                    format!(
                        "worker_processes 2;\npid {p}/nginx.pid;\nerror_log {p}/logs/error.log;\nevents {{ worker_connections 1024; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {p}/tmp;\n  proxy_temp_path {p}/tmp;\n  include {p}/conf.d/*.conf;\n}}\n",
                        p = d.join("ngx").display()
                    ),
                )
                .unwrap();
                (
                    format!(
                        "    host-ports blue={} green={}\n",
                        free_port(),
                        free_port()
                    ),
                    format!(
                        "proxy {{\n    mode \"host\"\n    listen \"127.0.0.1:{proxy_port}\"\n}}\n"
                    ),
                )
            }
        };
        fs::create_dir_all(d.join("markers")).unwrap();
        let spec = format!(
            r#"greenlight 1
project "{project}"
registry "none"
app "web" {{
    image "{app_image}"
    tag "v1"
    port 8080
{app_ports}{app_extra}    env "GL_LITERAL" {literal}
    env-file "./web.env"
    volume "./appdata" "/appdata" read-only=#true
    volume "{project}-web" "/data"
    health "/healthz" {{
        {health}
    }}
    drain "{drain}"
    keep-previous {keep}
}}
accessory "cache" {{
    image "{APP_IMAGE}:acc"
    env-file "./cache.env"
    volume "./cachedata" "/cachedata"
    volume "{project}-cache" "/cache"
    port 8080
}}
{proxy_block}hooks {{
    on-failure "touch {markers}/failed-{{version}}"
    after-switch "touch {markers}/switched-{{version}}"
}}
"#,
            literal = serde_json::to_string(LITERAL).unwrap(),
            app_image = options.app_image.as_deref().unwrap_or(APP_IMAGE),
            app_extra = options.app_extra.replace("{dir}", &d.display().to_string()),
            health = options.health,
            drain = options.drain,
            keep = if options.keep_previous {
                "#true"
            } else {
                "#false"
            },
            markers = d.join("markers").display(),
        );
        fs::write(d.join("spec.kdl"), spec).unwrap();
        run_ok(
            Command::new(env!("CARGO_BIN_EXE_greenlight"))
                .arg("build")
                .arg(d.join("spec.kdl")),
        );
        let kit = d.join("deploy").join(&project);
        // What the spec mounts, relative to the kit directory.
        fs::write(kit.join("web.env"), "FROM_ENV_FILE=web-env-file\n").unwrap();
        fs::write(kit.join("cache.env"), "FROM_ENV_FILE=cache\n").unwrap();
        fs::create_dir_all(kit.join("appdata")).unwrap();
        fs::create_dir_all(kit.join("cachedata")).unwrap();
        let stack = ComposeStack {
            dir,
            project,
            compose: options.compose,
            proxy: options.proxy,
            proxy_port,
            kit,
            volumes_before,
        };
        if stack.proxy == Proxy::Host {
            run_ok(&mut stack.host_nginx(&[]));
        }
        stack
    }

    /// Rebuilds the kit with the proxy on the nginx image that does not
    /// load njs, as a team changing its image would.
    pub fn rebuild_without_njs(&self) {
        let images = images();
        let (from, to) = (&images.nginx, &images.nginx_plain);
        let spec = self.path("spec.kdl");
        let text = fs::read_to_string(&spec).unwrap();
        let old = format!("image \"{from}\"");
        assert!(text.contains(&old), "{text}");
        fs::write(&spec, text.replace(&old, &format!("image \"{to}\""))).unwrap();
        run_ok(
            Command::new(env!("CARGO_BIN_EXE_greenlight"))
                .arg("build")
                .arg(&spec),
        );
    }

    fn host_nginx(&self, args: &[&str]) -> Command {
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

    /// The docker network of the stack.
    pub fn network(&self) -> String {
        format!("greenlight-{}", self.project)
    }

    /// The compose project of a color of the app.
    pub fn color_project(&self, color: &str) -> String {
        format!("{}-web-{color}", self.project)
    }

    /// deploy.sh with the run-time overrides pointing into this stack.
    pub fn deploy_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.kit.join("deploy.sh"));
        cmd.args(args)
            .env("GREENLIGHT_STATE_DIR", self.path("state"))
            .env("GREENLIGHT_COMPOSE", self.compose.name())
            .stdin(Stdio::null());
        if self.proxy == Proxy::Host {
            cmd.env("GREENLIGHT_NGINX_CONF_DIR", self.path("ngx/conf.d"))
                .env(
                    "GREENLIGHT_NGINX",
                    format!(
                        "nginx -p {} -c {}",
                        self.path("ngx").display(),
                        self.path("ngx/nginx.conf").display()
                    ),
                );
        }
        cmd
    }

    /// Runs deploy.sh to the end (bounded: 120 s); returns its output.
    pub fn deploy(&self, args: &[&str]) -> Output {
        let started = Instant::now();
        let child = self
            .deploy_cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = wait_bounded(
            child,
            Duration::from_secs(120),
            &format!("deploy.sh {args:?}"),
        );
        eprintln!(
            "$ deploy.sh {}  ({:.1}s)\n{}{}exit {:?}",
            args.join(" "),
            started.elapsed().as_secs_f64(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            out.status.code()
        );
        out
    }

    /// GET / through nginx: the version that answered.
    pub fn served_version(&self) -> String {
        curl_version(&format!("http://127.0.0.1:{}/", self.proxy_port))
    }

    /// Container ids of a color's compose project (`all`: stopped ones too).
    pub fn color_ids(&self, color: &str, all: bool) -> Vec<String> {
        let filter = format!(
            "label=com.docker.compose.project={}",
            self.color_project(color)
        );
        let mut args = vec!["ps", "-q", "--no-trunc", "--filter", &filter];
        if all {
            args.push("-a");
        }
        lines(&docker_ok(&args))
    }

    /// Whether a color runs (a running container in its project).
    pub fn color_alive(&self, color: &str) -> bool {
        !self.color_ids(color, false).is_empty()
    }

    /// Every container of the stack (label greenlight.project), any state:
    /// "compose-project state" lines, sorted.
    pub fn containers(&self) -> Vec<String> {
        let filter = format!("label=greenlight.project={}", self.project);
        lines(&docker_ok(&[
            "ps",
            "-a",
            "--filter",
            &filter,
            "--format",
            "{{.Label \"com.docker.compose.project\"}} {{.State}}",
        ]))
    }

    /// `docker inspect --format FORMAT ID`.
    pub fn inspect(&self, id: &str, format: &str) -> String {
        docker_ok(&["inspect", "--format", format, id])
            .trim()
            .to_string()
    }

    /// The running nginx container (compose proxy mode).
    pub fn proxy_id(&self) -> Option<String> {
        let filter = format!("label=com.docker.compose.project={}-proxy", self.project);
        lines(&docker_ok(&["ps", "-q", "--no-trunc", "--filter", &filter]))
            .into_iter()
            .next()
    }

    /// The accessory's container ids.
    pub fn accessory_ids(&self) -> Vec<String> {
        let filter = format!(
            "label=com.docker.compose.project={}-accessories",
            self.project
        );
        lines(&docker_ok(&[
            "ps",
            "-aq",
            "--no-trunc",
            "--filter",
            &filter,
        ]))
    }

    fn site_conf_name(&self) -> String {
        format!("greenlight-{}.conf", self.project)
    }

    /// The installed site conf.
    pub fn site_conf(&self) -> Option<Vec<u8>> {
        match self.proxy {
            Proxy::Host => {
                fs::read(self.path(&format!("ngx/conf.d/{}", self.site_conf_name()))).ok()
            }
            Proxy::Compose => {
                let id = self.proxy_id()?;
                let out = Command::new("sh")
                    .arg("-c")
                    .arg("docker cp \"$1\" - | tar -xO")
                    .arg("sh")
                    .arg(format!("{id}:/etc/nginx/conf.d/{}", self.site_conf_name()))
                    .output()
                    .unwrap();
                (out.status.success() && !out.stdout.is_empty()).then_some(out.stdout)
            }
        }
    }

    /// pids of nginx's worker processes (host pids).
    pub fn nginx_workers(&self) -> Vec<String> {
        match self.proxy {
            Proxy::Host => {
                let master = fs::read_to_string(self.path("ngx/nginx.pid")).unwrap();
                let out = Command::new("pgrep")
                    .arg("-P")
                    .arg(master.trim())
                    .output()
                    .unwrap();
                lines(&String::from_utf8_lossy(&out.stdout))
            }
            Proxy::Compose => {
                let id = self.proxy_id().expect("the nginx container runs");
                docker_ok(&["top", &id, "-o", "pid,args"])
                    .lines()
                    .filter(|l| l.contains("nginx: worker process"))
                    .filter_map(|l| l.split_whitespace().next().map(str::to_string))
                    .collect()
            }
        }
    }

    /// Starts the load client through nginx.
    pub fn load(&self) -> Load {
        self.load_with(&[])
    }

    /// Starts the load client with extra gl-load arguments (e.g. a window file).
    pub fn load_with(&self, extra: &[&str]) -> Load {
        Load::start(
            &images().gl_load,
            &format!("http://127.0.0.1:{}", self.proxy_port),
            self.dir.path(),
            extra,
        )
    }

    /// Asserts nothing of the stack is left over beyond what should be there:
    /// the live color running, the kept color stopped (or nothing with
    /// keep-previous off), the accessory and (compose mode) nginx running;
    /// no other network than the stack's; no new dangling volume.
    pub fn assert_no_leftovers(&self, live: &str, kept: Option<&str>) {
        let mut expected = vec![
            format!("{}-accessories running", self.project),
            format!("{} running", self.color_project(live)),
        ];
        if let Some(kept) = kept {
            expected.push(format!("{} exited", self.color_project(kept)));
        }
        if self.proxy == Proxy::Compose {
            expected.push(format!("{}-proxy running", self.project));
        }
        expected.sort();
        assert_eq!(self.containers(), expected, "containers of the stack");
        let filter = format!("name={}", self.project);
        assert_eq!(
            lines(&docker_ok(&[
                "network",
                "ls",
                "--filter",
                &filter,
                "--format",
                "{{.Name}}"
            ])),
            vec![self.network()],
            "networks of the stack"
        );
        let dangling: Vec<String> = lines(&docker_ok(&[
            "volume",
            "ls",
            "-q",
            "--filter",
            "dangling=true",
        ]))
        .into_iter()
        .filter(|v| !self.volumes_before.contains(v))
        .collect();
        assert!(dangling.is_empty(), "dangling volumes left: {dangling:?}");
    }
}

/// GET a URL: the version that answered ("" when none).
pub fn curl_version(url: &str) -> String {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "5"])
        .arg(url)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_start_matches("version=")
        .to_string()
}

/// Waits for a child with piped output, killing it after `limit`.
pub fn wait_bounded(mut child: std::process::Child, limit: Duration, what: &str) -> Output {
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{what} did not finish within {limit:?}:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
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

impl Drop for ComposeStack {
    fn drop(&mut self) {
        if self.proxy == Proxy::Host {
            let _ = self.host_nginx(&["-s", "stop"]).output();
        }
        let compose = |project: &str, file: &str| {
            let _ = self
                .compose
                .command()
                .arg("--project-name")
                .arg(project)
                .arg("--project-directory")
                .arg(&self.kit)
                .arg("--file")
                .arg(self.kit.join(file))
                .args(["down", "-v", "--remove-orphans", "--timeout", "1"])
                .env("GREENLIGHT_VERSION", "-")
                .env("GREENLIGHT_VERSION_REF", ":-")
                .stdin(Stdio::null())
                .output();
        };
        for color in ["blue", "green"] {
            compose(
                &self.color_project(color),
                &format!("compose/web-{color}.yml"),
            );
        }
        compose(
            &format!("{}-accessories", self.project),
            "compose/accessories.yml",
        );
        if self.kit.join("compose/proxy.yml").exists() {
            compose(&format!("{}-proxy", self.project), "compose/proxy.yml");
        }
        // Whatever compose did not remove (e.g. a file that no longer parses).
        let filter = format!("label=greenlight.project={}", self.project);
        let (_, ids, _) = docker(&["ps", "-aq", "--filter", &filter]);
        let ids = lines(&ids);
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(ids.iter().map(String::as_str));
            let _ = docker(&args);
        }
        let _ = docker(&["network", "rm", &self.network()]);
        let _ = docker(&[
            "volume",
            "rm",
            &format!("{}-web", self.project),
            &format!("{}-cache", self.project),
        ]);
    }
}
