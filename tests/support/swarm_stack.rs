//! A swarm kit on a Docker Swarm of lab hosts: host `m` is the manager
//! (deploy.sh reaches its engine as `docker-host "ssh://…"`), any others are
//! workers. The test app's images are sent to every node and the nginx
//! image to the manager (`registry "none"`: no node pulls), or, with
//! [`SwarmStack::up_from_a_private_registry`], pushed to a registry that
//! only deploy.sh's docker client is logged in to; the spec is
//! specs/hello-swarm.kdl's shape with the lab's addresses, its kit built
//! here.
//!
//! ```ignore
//! let Some(stack) = SwarmStack::available().then(|| SwarmStack::up(&["w1", "w2"], 3, "")) else { return };
//! assert_eq!(code(&stack.deploy(&["deploy", "v1"])), Some(0));
//! assert_eq!(stack.served_version(), "v1");
//! let load = stack.load();                      // four lanes through the manager's port 80
//! ```

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::harness::Load;
use crate::lab::swarm::Swarm;
use crate::lab::{text, Host, Lab, GATEWAY};
use crate::momo::wait_group;
use crate::registry::{LocalRegistry, LOGIN};
use crate::support;
use crate::support::images::{self, APP_IMAGE};

/// The spec's project: stacks `shop-web-blue`, `shop-web-green`, `shop-proxy`.
pub const PROJECT: &str = "shop";
/// The test versions every node gets.
pub const VERSIONS: [&str; 5] = ["v1", "v2", "v3", "bad1", "bad2"];
/// How long one deploy.sh run may take before the test fails.
const DEPLOY_LIMIT: Duration = Duration::from_secs(240);

/// A swarm of lab hosts and a kit of the swarm spec.
pub struct SwarmStack {
    /// The kit, built from `dir/shop.kdl`.
    pub kit: PathBuf,
    dir: tempfile::TempDir,
    lab: Lab,
    /// The private registry the nodes pull from, when there is one.
    _registry: Option<LocalRegistry>,
}

impl SwarmStack {
    /// Whether the lab can run here (and curl is there); prints why not, or
    /// panics when GREENLIGHT_REQUIRE_TOOLS=1.
    pub fn available() -> bool {
        Lab::available() && support::tool_available("curl")
    }

    /// Forms a swarm of `m` and `workers`, sends the images and builds the
    /// kit of an app of `replicas` tasks (with `app_extra` lines).
    pub fn up(workers: &[&str], replicas: u32, app_extra: &str) -> SwarmStack {
        SwarmStack::up_with(workers, replicas, app_extra, "60s")
    }

    /// As [`SwarmStack::up`], with this health deadline.
    pub fn up_with(workers: &[&str], replicas: u32, app_extra: &str, deadline: &str) -> SwarmStack {
        let how = (Manager::DockerHost, Delivery::Sent);
        SwarmStack::form(workers, replicas, app_extra, deadline, how)
    }

    /// As [`SwarmStack::up`], the images (v1 and v2 of the app, and nginx)
    /// in a private registry on this machine's lab address that takes only
    /// a login: the spec has a registry, this machine's docker client (the
    /// one deploy.sh runs) is logged in to it, and no node is or has the
    /// images.
    pub fn up_from_a_private_registry(workers: &[&str], replicas: u32) -> SwarmStack {
        let how = (Manager::DockerHost, Delivery::PrivateRegistry);
        SwarmStack::form(workers, replicas, "", "60s", how)
    }

    /// As [`SwarmStack::up`], the manager named as the spec's one host
    /// (`orchestrator "swarm" manager="m"`): its engine over ssh, the lock
    /// on it. nginx's image is then like the official one (the njs module
    /// there, not loaded), so that deploy.sh adds the njs override file to
    /// nginx's stack.
    pub fn up_by_manager_host(workers: &[&str], replicas: u32, app_extra: &str) -> SwarmStack {
        let how = (Manager::Host, Delivery::Sent);
        SwarmStack::form(workers, replicas, app_extra, "60s", how)
    }

    fn form(
        workers: &[&str],
        replicas: u32,
        app_extra: &str,
        deadline: &str,
        (manager, delivery): (Manager, Delivery),
    ) -> SwarmStack {
        // The test images, built (once) before the lab is up.
        images::images();
        let names: Vec<&str> = std::iter::once("m")
            .chain(workers.iter().copied())
            .collect();
        let lab = Lab::up(&names);
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("state")).unwrap();
        fs::create_dir_all(dir.path().join("docker-config")).unwrap();
        // The lab's node heartbeat is docker's default (5 s): a lost node
        // is seen in 12 to 15 s.
        let swarm = Swarm::form(&lab, "m", workers);
        let started = Instant::now();
        let (registry, images) = match delivery {
            Delivery::Sent => {
                for version in VERSIONS {
                    swarm.send_image(&format!("{APP_IMAGE}:{version}"));
                }
                lab.host("m").send_image(nginx_image(manager));
                let images = Images {
                    app: APP_IMAGE.to_string(),
                    nginx: nginx_image(manager).to_string(),
                    registry_none: true,
                };
                (None, images)
            }
            Delivery::PrivateRegistry => {
                let registry = LocalRegistry::start_with_login(GATEWAY);
                let images = Images {
                    app: format!("{}/{APP_IMAGE}", registry.address),
                    nginx: format!("{}/{}", registry.address, nginx_image(manager)),
                    registry_none: false,
                };
                let mut pushes: Vec<(String, String)> = ["v1", "v2"]
                    .iter()
                    .map(|v| (format!("{APP_IMAGE}:{v}"), format!("{}:{v}", images.app)))
                    .collect();
                pushes.push((nginx_image(manager).to_string(), images.nginx.clone()));
                push_through(lab.host("m"), &registry.address, &pushes);
                log_in(&lab, &dir.path().join("docker-config"), &registry.address);
                (Some(registry), images)
            }
        };
        eprintln!(
            "swarm stack: images delivered in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        drop(swarm);
        let spec = spec_text(
            lab.host("m"),
            manager,
            &images,
            replicas,
            app_extra,
            deadline,
        );
        let path = dir.path().join("shop.kdl");
        fs::write(&path, &spec).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_greenlight"))
            .arg("build")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "greenlight build of the swarm spec failed:\n{}\nspec:\n{spec}",
            text(&out)
        );
        SwarmStack {
            kit: dir.path().join("deploy").join(PROJECT),
            dir,
            lab,
            _registry: registry,
        }
    }

    /// A host of the lab (`m`, or a worker).
    pub fn host(&self, name: &str) -> &Host {
        self.lab.host(name)
    }

    /// The state dir of the main runner.
    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// deploy.sh with a state dir, in a process group of its own.
    pub fn deploy_cmd_from(&self, state_dir: &Path, args: &[&str]) -> Command {
        fs::create_dir_all(state_dir).unwrap();
        let mut cmd = Command::new(self.kit.join("deploy.sh"));
        cmd.args(args)
            .env("GREENLIGHT_SSH_CONFIG", self.lab.ssh_config())
            .env("GREENLIGHT_STATE_DIR", state_dir)
            .env("PATH", self.lab.path_env())
            .env("DOCKER_CONFIG", self.dir.path().join("docker-config"))
            .stdin(Stdio::null())
            .process_group(0);
        cmd
    }

    /// Starts deploy.sh (main state dir) with piped output.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.deploy_cmd_from(&self.state_dir(), args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Runs deploy.sh to the end (bounded); prints and returns its output.
    pub fn deploy(&self, args: &[&str]) -> Output {
        let started = Instant::now();
        let out = wait_group(
            self.spawn(args),
            DEPLOY_LIMIT,
            &format!("deploy.sh {args:?}"),
        );
        eprintln!(
            "$ deploy.sh {}  ({:.1}s)\n{}exit {:?}",
            args.join(" "),
            started.elapsed().as_secs_f64(),
            text(&out),
            out.status.code()
        );
        out
    }

    /// The site: port 80 of the manager, where nginx's task publishes it.
    pub fn url(&self) -> String {
        format!("http://{}/", self.host("m").address())
    }

    /// GET / through nginx: the version that answered ("" when none did).
    pub fn served_version(&self) -> String {
        let out = Command::new("curl")
            .args(["-s", "--max-time", "5"])
            .arg(self.url())
            .output()
            .unwrap();
        let body = String::from_utf8_lossy(&out.stdout);
        let first = body.lines().next().unwrap_or("").trim();
        first.strip_prefix("version=").unwrap_or(first).to_string()
    }

    /// `docker service ps --no-trunc` of a color's service, for messages.
    pub fn service_ps(&self, color: &str) -> String {
        text(&self.host("m").docker(&[
            "service",
            "ps",
            "--no-trunc",
            &format!("{PROJECT}-web-{color}_web"),
        ]))
    }

    /// The version label of a color's service ("" when there is none).
    pub fn service_version(&self, color: &str) -> String {
        let out = self.host("m").docker(&[
            "service",
            "inspect",
            "--format",
            "{{index .Spec.Labels \"greenlight.version\"}}",
            &format!("{PROJECT}-web-{color}_web"),
        ]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The nodes of a color's tasks that are running and meant to, sorted.
    pub fn running_nodes(&self, color: &str) -> Vec<String> {
        let out = self.host("m").docker(&[
            "service",
            "ps",
            "--filter",
            "desired-state=running",
            "--format",
            "{{.Node}} {{.CurrentState}}",
            &format!("{PROJECT}-web-{color}_web"),
        ]);
        let mut nodes: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.split_whitespace().nth(1) == Some("Running"))
            .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
            .collect();
        nodes.sort();
        nodes
    }

    /// The names of the project's swarm secrets, sorted.
    pub fn secrets(&self) -> Vec<String> {
        let out = self.host("m").docker(&[
            "secret",
            "ls",
            "--filter",
            &format!("label=greenlight.project={PROJECT}"),
            "--format",
            "{{.Name}}",
        ]);
        assert!(out.status.success(), "secret ls: {}", text(&out));
        let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        names.sort();
        names
    }

    /// The names of the swarm secrets the app's services (either color)
    /// use, sorted.
    pub fn secrets_in_use(&self) -> Vec<String> {
        let mut names = Vec::new();
        for color in ["blue", "green"] {
            let out = self.host("m").docker(&[
                "service",
                "inspect",
                "--format",
                "{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}{{.SecretName}} {{end}}",
                &format!("{PROJECT}-web-{color}_web"),
            ]);
            if out.status.success() {
                names.extend(
                    String::from_utf8_lossy(&out.stdout)
                        .split_whitespace()
                        .map(str::to_string),
                );
            }
        }
        names.sort();
        names.dedup();
        names
    }

    /// Four lanes of gl-load through nginx on the manager.
    pub fn load(&self) -> Load {
        Load::start(
            &images::images().gl_load,
            &format!("http://{}:80", self.host("m").address()),
            self.dir.path(),
            &["--lanes", "get-keepalive,get-new-conn,post-keepalive,slow"],
        )
    }
}

/// nginx's image: the stock-like one when the manager is the spec's host.
fn nginx_image(manager: Manager) -> &'static str {
    let images = images::images();
    match manager {
        Manager::DockerHost => &images.nginx,
        Manager::Host => &images.nginx_stock,
    }
}

/// How the nodes get the images.
#[derive(Clone, Copy)]
enum Delivery {
    /// Sent to every node (`registry "none"`).
    Sent,
    /// Pushed to a private registry; no node has them or a login.
    PrivateRegistry,
}

/// The images the spec names.
struct Images {
    /// The app's image, without a tag.
    app: String,
    /// nginx's image.
    nginx: String,
    /// The spec says `registry "none"`.
    registry_none: bool,
}

/// Pushes each (local image, registry name) through host `via`: the image
/// is sent to its engine, tagged, pushed with a login made for the push
/// alone, and removed again, so that the host keeps neither.
fn push_through(via: &Host, registry: &str, images: &[(String, String)]) {
    for (local, _) in images {
        via.send_image(local);
    }
    let mut script = format!(
        "set -e; printf '%s' {} | docker login -u {} --password-stdin {registry} >/dev/null\n",
        shell_words::quote(LOGIN.1),
        LOGIN.0
    );
    for (local, named) in images {
        let (local, named) = (shell_words::quote(local), shell_words::quote(named));
        script.push_str(&format!(
            "docker tag {local} {named}; docker push -q {named} >/dev/null; docker rmi {local} {named} >/dev/null\n"
        ));
    }
    script.push_str(&format!("docker logout {registry} >/dev/null\n"));
    via.ssh_ok(&script);
}

/// Logs this machine's docker client in to the registry, its credentials
/// kept in `config_dir` (deploy.sh's DOCKER_CONFIG); docker checks them
/// through the manager's engine, which knows the registry as insecure.
fn log_in(lab: &Lab, config_dir: &Path, registry: &str) {
    let mut login = Command::new("docker")
        .env("DOCKER_CONFIG", config_dir)
        .env("DOCKER_HOST", lab.host("m").docker_host_ssh())
        .env("PATH", lab.path_env())
        .args(["login", "-u", LOGIN.0, "--password-stdin", registry])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    login
        .stdin
        .take()
        .unwrap()
        .write_all(LOGIN.1.as_bytes())
        .unwrap();
    let out = login.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "docker login to {registry}: {}",
        text(&out)
    );
}

/// How the spec names the swarm's manager.
#[derive(Clone, Copy)]
enum Manager {
    /// `docker-host "ssh://root@M"`.
    DockerHost,
    /// `orchestrator "swarm" manager="m"` and `host "m"`.
    Host,
}

/// The swarm spec: hello's app under `orchestrator "swarm"`, with the lab's
/// manager as docker-host or as the spec's host, images already on the
/// nodes, the test app's own probe as the check.
fn spec_text(
    m: &Host,
    manager: Manager,
    images: &Images,
    replicas: u32,
    app_extra: &str,
    deadline: &str,
) -> String {
    let engine = match manager {
        Manager::DockerHost => format!(
            "orchestrator \"swarm\"\ndocker-host \"{}\"",
            m.docker_host_ssh()
        ),
        Manager::Host => format!(
            "orchestrator \"swarm\" manager=\"m\"\nhost \"m\" address=\"{}\"",
            m.ssh_destination()
        ),
    };
    let registry = if images.registry_none {
        "registry \"none\""
    } else {
        ""
    };
    let (app, nginx) = (&images.app, &images.nginx);
    format!(
        r#"greenlight 1
project "{PROJECT}"
{engine}
{registry}

app "web" {{
    image "{app}"
    tag "v1"
    port 8080
    replicas {replicas}
    health "/healthz" {{
        check "/gl-testapp" "probe" "http://127.0.0.1:8080/healthz"
        interval "500ms"
        deadline "{deadline}"
    }}
    drain "5s"
{app_extra}
}}

proxy {{
    image "{nginx}"
    listen 80
    route "/" app="web"
}}
"#
    )
}
