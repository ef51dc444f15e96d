//! The validated, defaulted model of a stack: what the templates see. Every
//! field is plain data, already checked; templates never decide validity.

use serde::Serialize;

pub use crate::spec::{ProxyMode, Runtime};

/// Everything one deploy kit is rendered from.
#[derive(Debug, Serialize)]
pub struct Plan {
    /// `greenlight <version>`, for file headers.
    pub generator: String,
    /// The spec's file name, for file headers.
    pub spec_file: String,
    /// sha256 of the spec text, hex; recorded in the kit's manifest.
    pub spec_hash: String,
    /// Project name.
    pub project: String,
    /// The docker network all colors, accessories and a compose proxy share.
    pub network: String,
    /// Default state directory on the deploy machine.
    pub state_dir: String,
    /// Hosts, the implicit `local` one when the spec names none.
    pub hosts: Vec<Host>,
    /// Remote docker engine, if any.
    pub docker_host: Option<String>,
    /// The directory with the client certificate and CA for a tcp:// engine
    /// (deploy.sh passes DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to every
    /// docker and compose call to it); None without TLS.
    pub docker_tls_dir: Option<String>,
    /// A tcp:// engine reached without TLS on purpose (`insecure=#true`):
    /// PLAN.md warns about it at the top.
    pub docker_insecure: bool,
    /// Apps in spec order.
    pub apps: Vec<App>,
    /// Accessories in spec order.
    pub accessories: Vec<Accessory>,
    /// The proxy.
    pub proxy: Proxy,
    /// Hooks, as argv lists with placeholders.
    pub hooks: Hooks,
    /// The webhook listener, when the spec has a `webhook` block.
    pub webhook: Option<Webhook>,
    /// The grammar of a tag VERSION as a regular expression, unanchored:
    /// deploy.sh checks a VERSION (and a pushed tag) with it, and the
    /// webhook kit file matches the pushed ref with it.
    pub tag_pattern: &'static str,
    /// The kit's own files and what deploy.sh installs from them.
    pub files: super::KitFiles,
    /// True when any app uses containers (deploy.sh then needs docker).
    pub uses_compose: bool,
    /// True when any app is a plain process.
    pub uses_process: bool,
    /// `orchestrator "swarm"`: every app is a stack per color on a Docker
    /// Swarm, nginx a service of its own; deploy.sh talks to the manager.
    pub swarm: bool,
    /// True when any command goes over ssh.
    pub uses_ssh: bool,
    /// How the version's images reach the hosts: `pull` (each host pulls
    /// them from the registry their names give) or `send` (`registry
    /// "none"`: deploy.sh sends each from the engine of the machine that
    /// runs it, `docker save | docker load`, to the hosts whose image differs).
    pub image_source: &'static str,
    /// The host whose machine holds the stack's deploy lock, always one
    /// reached over ssh: the proxy's host in mode `remote`, else the first
    /// host (in spec order) that runs an app; empty: the machine that runs
    /// deploy.sh.
    pub lock_host: String,
    /// The accessories of each host that runs some, in host order.
    pub host_accessories: Vec<HostAccessories>,
    /// deploy.sh's parts this kit carries, each its own kit file.
    pub parts: super::KitParts,
}

/// The accessories placed on one host (by their `on`, or by default).
#[derive(Debug, Serialize)]
pub struct HostAccessories {
    /// The host's name.
    pub host: String,
    /// Their compose service names in compose/accessories.yml, in spec order.
    pub services: Vec<String>,
    /// Their image references, each once, in spec order.
    pub images: Vec<String>,
}

/// A machine of the stack.
#[derive(Debug, Serialize, Clone)]
pub struct Host {
    /// Name from the spec (`local` when implicit).
    pub name: String,
    /// ssh destination (`user@addr`), empty for the local machine.
    pub ssh: String,
    /// ssh port.
    pub ssh_port: u16,
    /// Address used in URLs and upstreams (`127.0.0.1` for the local machine).
    pub addr: String,
    /// The IP compose publishes container ports on there: `127.0.0.1` on
    /// the machine that runs deploy.sh, else `bind=` or the address's IP
    /// (None: a host reached by name, where nothing may be published).
    /// Never every address: clients would reach the apps around nginx.
    pub bind: Option<String>,
    /// True for the machine that runs deploy.sh.
    pub local: bool,
}

/// The two colors, in the order deploy.sh prefers for a first deploy.
pub const COLORS: [&str; 2] = ["blue", "green"];

/// An app deployed blue/green.
#[derive(Debug, Serialize)]
pub struct App {
    /// Name.
    pub name: String,
    /// How its colors run; `compose` or `process` to templates.
    pub runtime: Runtime,
    /// Image repository (compose), or the whole reference when the spec
    /// pins it by digest.
    pub image: String,
    /// The whole image reference when it does not follow the deploy's
    /// version (pinned by digest in the spec); None: `image` at the version
    /// deploy.sh is given.
    pub image_ref: Option<String>,
    /// The image repositories that follow the deploy's version: the app's
    /// (unless pinned) and its sidecars' without a tag or digest of their
    /// own. A digest given as the version names one image's content, so
    /// deploy.sh takes one only when these are one repository.
    pub version_images: Vec<String>,
    /// Tag used when deploy is given no version.
    pub tag: String,
    /// Port inside the container (compose).
    pub port: u16,
    /// Names of the hosts it runs on.
    pub hosts: Vec<String>,
    /// Environment, in spec order.
    pub env: Vec<(String, String)>,
    /// env files, relative to the kit directory.
    pub env_files: Vec<String>,
    /// Secrets of the app's own container (or process), read by deploy.sh
    /// at deploy time; never rendered as values.
    pub secrets: Vec<Secret>,
    /// Every secret of a color: the app's, then each sidecar's, numbered
    /// across them (they share one compose file). deploy.sh reads them for
    /// the app and its compose files; the compose file declares the file ones.
    pub all_secrets: Vec<Secret>,
    /// Volumes.
    pub volumes: Vec<Volume>,
    /// Named volumes of the app and its sidecars, in order: shared by both
    /// colors, so deploy.sh creates them and compose takes them as external
    /// (neither color's compose project owns them).
    pub shared_volumes: Vec<String>,
    /// Memory limit.
    pub memory: Option<String>,
    /// CPU limit.
    pub cpus: Option<String>,
    /// Command override (compose).
    pub command: Vec<String>,
    /// Health gate.
    pub health: Health,
    /// Swarm: the tasks of each color (1 otherwise).
    pub replicas: u32,
    /// Swarm: the placement constraints of its tasks
    /// (`node.labels.zone == eu-1`).
    pub placement: Vec<String>,
    /// SIGTERM to SIGKILL, milliseconds.
    pub drain_ms: u64,
    /// Same, whole seconds rounded up (compose stop timeout).
    pub drain_secs: u64,
    /// The drain as the spec writes it (`45s`), or the default (`30s`), for PLAN.md.
    pub drain_text: String,
    /// Keep the previous color stopped for rollback.
    pub keep_previous: bool,
    /// Process runtime: argv with placeholders.
    pub start: Vec<String>,
    /// Process runtime: working directory.
    pub workdir: Option<String>,
    /// Process runtime: the user the process runs as (deploy.sh's own user
    /// when absent).
    pub user: Option<String>,
    /// A path deploy.sh requests through nginx after switching; it must
    /// answer 2xx or the switch is undone.
    pub verify: Option<String>,
    /// Milliseconds the new color is watched after the switch, with the old
    /// color still running to switch back to (0: no watch).
    pub watch_ms: u64,
    /// The watch as the spec writes it, for PLAN.md (`0s` without a watch).
    pub watch_text: String,
    /// At most this many of its hosts start or stop at once (0: all at once).
    pub parallel: u32,
    /// The whole references of its images that do not follow the deploy's
    /// version (pinned in the spec, or a sidecar's own tag), each once.
    pub fixed_images: Vec<String>,
    /// Sidecars.
    pub sidecars: Vec<Sidecar>,
    /// The compose service traffic enters (the app or its entry sidecar).
    pub entry_service: String,
    /// The container port traffic enters.
    pub entry_port: u16,
    /// Compose: the address both colors' host ports are published on, when
    /// it is the same on every host of the app; None when it differs, and
    /// deploy.sh gives compose each host's as GREENLIGHT_BIND.
    pub bind: Option<String>,
    /// The nginx variable (without `$`) that names the upstream of the live
    /// color; the site conf proxies to it.
    pub selector: String,
    /// The variable (without `$`) that, on a verify request only, holds the
    /// selector's value: the route deploy.sh checks after a switch.
    pub verify_var: String,
    /// The two colors.
    pub colors: Vec<Color>,
}

/// One color of an app.
#[derive(Debug, Serialize)]
pub struct Color {
    /// `blue` or `green`.
    pub name: &'static str,
    /// Host port, when the app publishes one.
    pub host_port: Option<u16>,
    /// Compose: `BIND:PORT` per host of the app, where the host port is
    /// published (for reviewers; the compose file says it as `app.bind`).
    pub published: Vec<String>,
    /// Compose project name of this color.
    pub compose_project: String,
    /// Kit-relative compose file.
    pub compose_file: String,
    /// The nginx upstream of this color.
    pub upstream: String,
    /// What nginx proxies to for this color (select file and njs module):
    /// its upstream, or in compose mode its name on the stack network,
    /// resolved per request so that a stopped color never breaks nginx.
    pub route: String,
    /// Kit-relative nginx upstream file.
    pub upstream_file: String,
    /// Kit-relative file that selects this color when switching by reload.
    pub select_file: String,
    /// Process runtime: the color's pid file, relative to the state dir.
    pub pid_file: String,
    /// Process runtime: the line its supervisor keeps about it ("up
    /// RESTARTS" or "down RESTARTS STATUS"), relative to the state dir.
    pub status_file: String,
    /// Process runtime: the color's log, relative to the state dir.
    pub log_file: String,
    /// Process runtime: what the color's process carries in its environment
    /// (GREENLIGHT_COLOR), proof that a leftover on its port is the kit's own.
    pub mark: String,
    /// Name the color has on the stack network.
    pub alias: String,
    /// nginx `server` addresses for this color.
    pub servers: Vec<String>,
    /// Several servers (the app runs on several hosts): nginx marks one that
    /// fails a request down for a while rather than waiting on it for every
    /// request, and passes the request to the next.
    pub several_servers: bool,
    /// The other color's addresses, as backup servers: a request routed to
    /// this color just before a switch away from it falls back to the new
    /// color instead of failing. Empty in compose mode, where the stopped
    /// color's name does not resolve.
    pub backup_servers: Vec<String>,
    /// Base URLs the health gate probes, one per host; empty when the probe
    /// must find the container's address at run time.
    pub probe_bases: Vec<String>,
}

/// A value deploy.sh reads from a file on the deploy machine. Only the key
/// and the file's path reach the kit: compose files refer to
/// `${GREENLIGHT_SECRET_<index>}`, which deploy.sh sets in the environment
/// of the compose command alone; a process or a hook gets the key in its
/// environment.
/// With `as_file`, compose mounts the file read-only at /run/secrets/KEY
/// instead, and the value is in no environment (`docker inspect` shows none).
#[derive(Debug, Serialize, Clone)]
pub struct Secret {
    /// The environment variable name inside the app (the file's name in
    /// /run/secrets with `as_file`).
    pub key: String,
    /// Absolute path of the file holding the value.
    pub from_file: String,
    /// Number of the `GREENLIGHT_SECRET_<index>` variable, unique within one compose file.
    pub index: usize,
    /// Reaches the container as a file, not an environment variable.
    pub as_file: bool,
    /// The compose secret's name, `OWNER-KEY`: unique within a compose file
    /// (names have no `_`, keys no `-`).
    pub compose_name: String,
}

/// A volume mount.
#[derive(Debug, Serialize, Clone)]
pub struct Volume {
    /// Source path or volume name.
    pub source: String,
    /// Target path.
    pub target: String,
    /// Read-only.
    pub read_only: bool,
}

/// The health gate, with defaults filled.
#[derive(Debug, Serialize)]
pub struct Health {
    /// Path probed.
    pub path: String,
    /// Expected status; 0 means any 2xx.
    pub expect: u16,
    /// Milliseconds between probes.
    pub interval_ms: u64,
    /// Milliseconds one probe may take.
    pub timeout_ms: u64,
    /// Milliseconds before the gate gives up.
    pub deadline_ms: u64,
    /// The interval as the spec writes it, or the default, for PLAN.md.
    pub interval_text: String,
    /// The timeout as the spec writes it, or the default, for PLAN.md.
    pub timeout_text: String,
    /// The deadline as the spec writes it, or the default, for PLAN.md.
    pub deadline_text: String,
    /// Consecutive successes needed.
    pub healthy_after: u32,
    /// Swarm: the command docker runs in each task to check it (exec form).
    pub check: Vec<String>,
    /// Swarm: milliseconds a task may fail its checks while it boots.
    pub start_period_ms: u64,
}

/// A second container of each color.
#[derive(Debug, Serialize)]
pub struct Sidecar {
    /// Name (compose service name).
    pub name: String,
    /// Image without tag, or pinned by digest.
    pub image: String,
    /// The whole image reference when it does not follow the deploy's
    /// version (its own tag, or a digest); None: `image` at that version.
    pub image_ref: Option<String>,
    /// Container port.
    pub port: Option<u16>,
    /// Mount the app's volumes.
    pub volumes_from_app: bool,
    /// Environment.
    pub env: Vec<(String, String)>,
    /// Secrets of its container, numbered after its app's (see [`App::all_secrets`]).
    pub secrets: Vec<Secret>,
    /// Volumes.
    pub volumes: Vec<Volume>,
    /// Command override.
    pub command: Vec<String>,
}

/// A shared, uncolored service.
#[derive(Debug, Serialize)]
pub struct Accessory {
    /// Name, also its network alias.
    pub name: String,
    /// Image with tag.
    pub image: String,
    /// Command override.
    pub command: Vec<String>,
    /// Container port.
    pub port: Option<u16>,
    /// Publish the port on the host.
    pub publish: bool,
    /// Where its host publishes ports (see [`Host::bind`]).
    pub bind: Option<String>,
    /// Environment.
    pub env: Vec<(String, String)>,
    /// env files.
    pub env_files: Vec<String>,
    /// Secrets, read by deploy.sh at deploy time; never rendered as values.
    pub secrets: Vec<Secret>,
    /// Volumes.
    pub volumes: Vec<Volume>,
    /// Host it runs on.
    pub host: String,
}

/// The proxy, with defaults filled.
#[derive(Debug, Serialize)]
pub struct Proxy {
    /// Where nginx runs; `compose`, `host` or `remote` to templates.
    pub mode: ProxyMode,
    /// The host nginx runs on.
    pub host: Host,
    /// compose: the nginx image; empty in the other modes.
    pub image: String,
    /// compose: the proxy's compose project.
    pub compose_project: String,
    /// compose: the njs module file an image may have without loading it.
    pub njs_module: String,
    /// Listen lines.
    pub listen: Vec<Listen>,
    /// server_name values.
    pub server_names: Vec<String>,
    /// TLS files and policy.
    pub tls: Option<Tls>,
    /// Addresses and networks whose X-Forwarded-For nginx believes (its
    /// realip module); empty: the client is the connection's peer.
    pub trusted_proxies: Vec<String>,
    /// Where the site conf is installed (host/remote; compose: inside the container).
    pub conf_dir: String,
    /// File name of the installed site conf.
    pub site_conf_name: String,
    /// The njs module name, for switching without a reload.
    pub js_module: String,
    /// Routes, longest path first is nginx's business; kept in spec order.
    pub routes: Vec<Route>,
    /// client_max_body_size.
    pub client_max_body_size: Option<String>,
    /// proxy_connect_timeout of the proxied locations when an upstream has
    /// several servers: a connection to a dead host fails quickly and the
    /// request goes to the next server. None: nginx's default.
    pub connect_timeout: Option<String>,
    /// Where deploy.sh asks nginx which color each route reaches.
    pub verify: Verify,
    /// The nginx variable (without `$`) that, on a verify request only,
    /// holds the upstream address nginx used.
    pub verify_upstream_var: String,
    /// The nginx variables of maintenance mode: on, its page, this request's
    /// answer (see `names::maintenance_vars`).
    pub maintenance_vars: [String; 3],
}

/// How deploy.sh reaches nginx's own listen address after a switch.
#[derive(Debug, Serialize)]
pub struct Verify {
    /// `scheme://name-or-address:port`, to which a route path is appended.
    pub base: String,
    /// curl's `--resolve host:port:address` when the base names a server
    /// name; empty otherwise.
    pub resolve: String,
}

/// A listen line.
#[derive(Debug, Serialize)]
pub struct Listen {
    /// The nginx listen value (`80`, `127.0.0.1:8080`, `[::1]:8080`).
    pub value: String,
    /// Port alone.
    pub port: u16,
    /// TLS.
    pub ssl: bool,
    /// A plain listen of a TLS proxy: served by its own server block, which
    /// only redirects to https.
    pub redirect: bool,
}

/// TLS files, and what greenlight decides around them.
#[derive(Debug, Serialize)]
pub struct Tls {
    /// Certificate chain.
    pub certificate: String,
    /// Key.
    pub key: String,
    /// The port https is served on (the first ssl listen): where plain
    /// HTTP is redirected.
    pub https_port: u16,
    /// max-age of the Strict-Transport-Security header, seconds; None when
    /// the spec turns it off.
    pub hsts_max_age: Option<u32>,
}

/// A route.
#[derive(Debug, Serialize)]
pub struct Route {
    /// Location prefix.
    pub path: String,
    /// App name.
    pub app: String,
    /// The app's selector variable (without `$`).
    pub selector: String,
    /// The app's verify variable (see [`App::verify_var`]).
    pub verify_var: String,
}

/// The deploy hooks; None when not set.
#[derive(Debug, Serialize, Default)]
pub struct Hooks {
    /// before-deploy.
    pub before_deploy: Option<Hook>,
    /// after-healthy.
    pub after_healthy: Option<Hook>,
    /// after-switch.
    pub after_switch: Option<Hook>,
    /// on-failure.
    pub on_failure: Option<Hook>,
}

/// One hook: what deploy.sh runs, and the secrets it puts in that
/// command's environment alone.
#[derive(Debug, Serialize)]
pub struct Hook {
    /// Its name in the spec, which is how deploy.sh calls it (`after-switch`).
    pub name: &'static str,
    /// The command, word by word, with placeholders.
    pub argv: Vec<String>,
    /// Read by deploy.sh when the hook runs, exported under their keys;
    /// never rendered as values.
    pub secrets: Vec<Secret>,
    /// What deploy.sh's secret_files knows the hook's secrets by
    /// (`hook:NAME`): never an app's name or a compose file.
    pub secrets_owner: String,
}

/// What `deploy.sh webhook` serves with adnanh/webhook: GitHub's signed
/// push of a tag runs `deploy.sh deploy --ref REF`.
#[derive(Debug, Serialize)]
pub struct Webhook {
    /// The hook's id: GitHub posts to `/hooks/ID`.
    pub id: String,
    /// The file holding the shared secret, read when webhook starts; never
    /// in the kit.
    pub secret_file: String,
    /// webhook's `-ip` (empty: every address).
    pub ip: String,
    /// webhook's `-port`.
    pub port: u16,
    /// `tag-prefix`: only tags starting with it deploy (empty: every tag).
    pub tag_prefix: String,
    /// Regular expressions (RE2) the pushed ref must match, each one: a tag
    /// of the version grammar, and the tag prefix when there is one.
    pub ref_patterns: Vec<String>,
}
