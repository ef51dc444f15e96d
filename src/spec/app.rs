//! `app "NAME" { … }`: an application deployed blue/green.

use miette::SourceSpan;
use serde::Serialize;

use super::container::{
    check_env_and_secrets, command_node, env_node, image_node, port_node, secret_node, tag_node,
    volume_node, SecretSpec, VolumeSpec, COMMAND_USAGE,
};
use super::health::{health_node, HealthSpec};
use super::keywords::Keyword;
use super::sidecar::{sidecar_node, SidecarSpec};
use super::{check, duration_node, name_arg, values, NodeReader, Spanned};
use crate::diagnostic::{Problems, SpecError};

/// How an app's colors are run. Serialized as its spec word (`compose`,
/// `process`), which is what templates compare `app.runtime` with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    /// A docker compose project per color.
    Compose,
    /// A plain process per color, started from `start`.
    Process,
    /// A Docker Swarm stack per color, under `orchestrator "swarm"` (never
    /// written as `runtime`).
    Swarm,
}

/// `limits memory="700m" cpus=1.8`
#[derive(Debug, Clone, Default)]
pub struct LimitsSpec {
    /// Memory limit in docker's size syntax.
    pub memory: Option<String>,
    /// CPU limit.
    pub cpus: Option<f64>,
}

/// One `app` block as written.
#[derive(Debug, Clone)]
pub struct AppSpec {
    /// The app's name.
    pub name: Spanned<String>,
    /// compose (default) or process.
    pub runtime: Spanned<Runtime>,
    /// Image repository without tag, or pinned by digest (compose).
    pub image: Option<Spanned<String>>,
    /// Default tag (compose).
    pub tag: Option<String>,
    /// Port the app listens on in its container.
    pub port: Option<Spanned<u16>>,
    /// Host ports per color: (blue, green).
    pub host_ports: Option<Spanned<(u16, u16)>>,
    /// Host names; every host when empty.
    pub hosts: Vec<Spanned<String>>,
    /// `env` pairs in order.
    pub env: Vec<(String, String)>,
    /// `env-file` paths.
    pub env_files: Vec<String>,
    /// `secret` nodes, in order.
    pub secrets: Vec<SecretSpec>,
    /// Volumes.
    pub volumes: Vec<VolumeSpec>,
    /// Resource limits.
    pub limits: LimitsSpec,
    /// Command override (compose).
    pub command: Vec<String>,
    /// Health gate.
    pub health: Option<HealthSpec>,
    /// SIGTERM-to-SIGKILL window.
    pub drain: Option<Spanned<values::Duration>>,
    /// Keep the previous color (stopped) for rollback.
    pub keep_previous: Option<bool>,
    /// Process runtime: the command line, with placeholders.
    pub start: Option<Spanned<String>>,
    /// Process runtime: working directory.
    pub workdir: Option<String>,
    /// Process runtime: the user the process runs as.
    pub user: Option<Spanned<String>>,
    /// A path requested through nginx after the switch, which must answer 2xx.
    pub verify: Option<Spanned<String>>,
    /// How long after the switch the new color is watched (alive and
    /// healthy) before the old one is stopped; a failure switches back.
    pub watch: Option<Spanned<values::Duration>>,
    /// At most this many hosts of the app start or stop at once; all at
    /// once when absent.
    pub parallel: Option<Spanned<u32>>,
    /// Sidecars.
    pub sidecars: Vec<SidecarSpec>,
    /// Swarm: the tasks of each color.
    pub replicas: Option<Spanned<u32>>,
    /// Swarm: node labels a task's node must have, as (label, value).
    pub placement: Vec<(String, String)>,
    /// Names of the nodes written in the block, valid or not, with where
    /// each name is: a later check neither calls an invalid node "missing"
    /// nor lets a node that does not apply to the runtime pass unremarked.
    pub written: Vec<(String, SourceSpan)>,
}

impl AppSpec {
    /// Where `keyword` is written in this app, valid or not.
    pub fn written_at(&self, keyword: &str) -> Option<SourceSpan> {
        self.written
            .iter()
            .find(|(name, _)| name == keyword)
            .map(|(_, span)| *span)
    }
}

/// Placeholders deploy.sh fills in a process `start` command.
pub const START_PLACEHOLDERS: &[&str] = &["app", "color", "port", "version"];

/// The keywords of an `app` block.
#[derive(Debug, Clone, Copy)]
enum AppKeyword {
    Runtime,
    Image,
    Tag,
    Port,
    HostPorts,
    Hosts,
    Env,
    EnvFile,
    Secret,
    Volume,
    Limits,
    Command,
    Health,
    Drain,
    KeepPrevious,
    Start,
    Workdir,
    User,
    Verify,
    Watch,
    Parallel,
    Sidecar,
    Replicas,
    Placement,
}

const APP_KEYWORDS: &[Keyword<AppKeyword>] = &[
    Keyword::once("runtime", AppKeyword::Runtime),
    Keyword::once("image", AppKeyword::Image),
    Keyword::once("tag", AppKeyword::Tag),
    Keyword::once("port", AppKeyword::Port),
    Keyword::once("host-ports", AppKeyword::HostPorts),
    Keyword::once("hosts", AppKeyword::Hosts),
    Keyword::many("env", AppKeyword::Env),
    Keyword::many("env-file", AppKeyword::EnvFile),
    Keyword::many("secret", AppKeyword::Secret),
    Keyword::many("volume", AppKeyword::Volume),
    Keyword::once("limits", AppKeyword::Limits),
    Keyword::once("command", AppKeyword::Command),
    Keyword::once("health", AppKeyword::Health),
    Keyword::once("drain", AppKeyword::Drain),
    Keyword::once("keep-previous", AppKeyword::KeepPrevious),
    Keyword::once("start", AppKeyword::Start),
    Keyword::once("workdir", AppKeyword::Workdir),
    Keyword::once("user", AppKeyword::User),
    Keyword::once("verify", AppKeyword::Verify),
    Keyword::once("watch", AppKeyword::Watch),
    Keyword::once("parallel", AppKeyword::Parallel),
    Keyword::many("sidecar", AppKeyword::Sidecar),
    Keyword::once("replicas", AppKeyword::Replicas),
    Keyword::once("placement", AppKeyword::Placement),
];
/// Decodes one `app` block.
pub fn decode(problems: &mut Problems, reader: &NodeReader) -> Option<AppSpec> {
    reader.shape(problems, 1, 1, &[], "app \"web\" { … }");
    let name = name_arg(problems, reader, "app name");
    let mut app = AppSpec {
        name: name
            .clone()
            .unwrap_or_else(|| Spanned::new(String::new(), reader.span())),
        runtime: Spanned::new(Runtime::Compose, reader.name_span()),
        image: None,
        tag: None,
        port: None,
        host_ports: None,
        hosts: Vec::new(),
        env: Vec::new(),
        env_files: Vec::new(),
        secrets: Vec::new(),
        volumes: Vec::new(),
        limits: LimitsSpec::default(),
        command: Vec::new(),
        health: None,
        drain: None,
        keep_previous: None,
        start: None,
        workdir: None,
        user: None,
        verify: None,
        watch: None,
        parallel: None,
        sidecars: Vec::new(),
        replicas: None,
        placement: Vec::new(),
        written: Vec::new(),
    };
    if reader.args().is_empty() {
        return None;
    }
    for (keyword, node) in reader.children(problems, APP_KEYWORDS) {
        let r = NodeReader::new(node);
        app.written
            .push((node.name().value().to_string(), r.name_span()));
        match keyword {
            AppKeyword::Runtime => {
                r.shape(problems, 1, 1, &[], "runtime \"compose\"");
                r.no_children(problems);
                if let Some(runtime) = r.string_arg(problems, 0) {
                    match runtime.value.as_str() {
                        "compose" => app.runtime = Spanned::new(Runtime::Compose, runtime.span),
                        "process" => app.runtime = Spanned::new(Runtime::Process, runtime.span),
                        other => problems.push(
                            SpecError::new(
                                runtime.span,
                                format!("unknown runtime `{}`", other.escape_debug()),
                                "unknown runtime",
                            )
                            .help("use \"compose\" or \"process\""),
                        ),
                    }
                }
            }
            AppKeyword::Image => app.image = image_node(problems, &r, false),
            AppKeyword::Tag => app.tag = tag_node(problems, &r).map(|t| t.value),
            AppKeyword::Port => app.port = port_node(problems, &r, &[], "port 8080"),
            AppKeyword::HostPorts => {
                r.shape(
                    problems,
                    0,
                    0,
                    &["blue", "green"],
                    "host-ports blue=8081 green=8080",
                );
                r.no_children(problems);
                let blue = r.int_prop(problems, "blue", 1, 65535);
                let green = r.int_prop(problems, "green", 1, 65535);
                match (blue, green) {
                    (Some(b), Some(g)) if b.value == g.value => problems.push(
                        SpecError::new(
                            g.span,
                            "blue and green need different host ports",
                            "same as blue",
                        )
                        .also(b.span, "blue's port")
                        .help("both colors run at once during a deploy; give each its own port"),
                    ),
                    (Some(b), Some(g)) => {
                        app.host_ports =
                            Some(Spanned::new((b.value as u16, g.value as u16), r.span()))
                    }
                    // A written but invalid port has been reported already.
                    _ if r.has_prop("blue") && r.has_prop("green") => {}
                    (None, None) if !r.has_prop("blue") && !r.has_prop("green") => problems.push(
                        SpecError::new(
                            r.span(),
                            "`host-ports` needs blue= and green=",
                            "missing ports",
                        )
                        .help("write it as: host-ports blue=8081 green=8080"),
                    ),
                    _ => problems.push(
                        SpecError::new(
                            r.span(),
                            "`host-ports` needs both blue= and green=",
                            "incomplete",
                        )
                        .help("write it as: host-ports blue=8081 green=8080"),
                    ),
                }
            }
            AppKeyword::Hosts => {
                r.shape(problems, 1, usize::MAX, &[], "hosts \"was1\" \"was2\"");
                r.no_children(problems);
                app.hosts = r.string_args(problems);
            }
            AppKeyword::Env => app.env.extend(env_node(problems, &r)),
            AppKeyword::EnvFile => {
                r.shape(problems, 1, 1, &[], "env-file \".env\"");
                r.no_children(problems);
                if let Some(file) = r.string_arg(problems, 0) {
                    if check(
                        problems,
                        file.span,
                        values::path(&file.value, "env-file", false),
                    ) {
                        app.env_files.push(file.value);
                    }
                }
            }
            AppKeyword::Secret => app.secrets.extend(secret_node(problems, &r)),
            AppKeyword::Volume => app.volumes.extend(volume_node(problems, &r)),
            AppKeyword::Limits => {
                r.shape(
                    problems,
                    0,
                    0,
                    &["memory", "cpus"],
                    "limits memory=\"700m\" cpus=1.5",
                );
                r.no_children(problems);
                if let Some(memory) = r.string_prop(problems, "memory") {
                    if check(problems, memory.span, values::size(&memory.value)) {
                        app.limits.memory = Some(memory.value);
                    }
                }
                if let Some(cpus) = r.number_prop(problems, "cpus") {
                    if cpus.value > 0.0 && cpus.value <= 1024.0 {
                        app.limits.cpus = Some(cpus.value);
                    } else {
                        problems.push(
                            SpecError::new(
                                cpus.span,
                                format!("cpus={} is out of range", cpus.value),
                                "out of range",
                            )
                            .help("use a number of CPUs above 0, such as 0.5 or 2"),
                        );
                    }
                }
            }
            AppKeyword::Command => app.command = command_node(problems, &r, COMMAND_USAGE),
            AppKeyword::Health => app.health = health_node(problems, &r),
            AppKeyword::Drain => app.drain = duration_node(problems, &r, "drain \"30s\""),
            AppKeyword::KeepPrevious => {
                r.shape(problems, 1, 1, &[], "keep-previous #true");
                r.no_children(problems);
                app.keep_previous = r.bool_arg(problems, 0).map(|b| b.value);
            }
            AppKeyword::Start => {
                r.shape(
                    problems,
                    1,
                    1,
                    &[],
                    "start \"java -Dserver.port={port} -jar app-{version}.jar\"",
                );
                r.no_children(problems);
                app.start = r.string_arg(problems, 0).filter(|s| {
                    check(
                        problems,
                        s.span,
                        values::command(&s.value, "`start`", START_PLACEHOLDERS),
                    )
                });
            }
            AppKeyword::Workdir => {
                r.shape(problems, 1, 1, &[], "workdir \"/opt/app\"");
                r.no_children(problems);
                app.workdir = r
                    .string_arg(problems, 0)
                    .filter(|w| check(problems, w.span, values::path(&w.value, "workdir", true)))
                    .map(|w| w.value);
            }
            AppKeyword::User => {
                r.shape(problems, 1, 1, &[], "user \"www-data\"");
                r.no_children(problems);
                app.user = r
                    .string_arg(problems, 0)
                    .filter(|u| check(problems, u.span, values::user(&u.value)));
            }
            AppKeyword::Verify => {
                r.shape(problems, 1, 1, &[], "verify \"/\"");
                r.no_children(problems);
                app.verify = r
                    .string_arg(problems, 0)
                    .filter(|p| check(problems, p.span, values::health_path(&p.value)));
            }
            AppKeyword::Watch => app.watch = duration_node(problems, &r, "watch \"30s\""),
            AppKeyword::Parallel => app.parallel = parallel_node(problems, &r),
            AppKeyword::Sidecar => app.sidecars.extend(sidecar_node(problems, &r)),
            AppKeyword::Replicas => {
                r.shape(problems, 1, 1, &[], "replicas 3");
                r.no_children(problems);
                app.replicas = r
                    .int_arg(problems, 0, 1, MAX_REPLICAS)
                    .map(|n| Spanned::new(n.value as u32, n.span));
            }
            AppKeyword::Placement => {
                r.shape(problems, 1, usize::MAX, &[], "placement \"zone=eu-1\"");
                r.no_children(problems);
                for pair in r.string_args(problems) {
                    if let Some(label) = check_placement(problems, &pair) {
                        app.placement.push(label);
                    }
                }
            }
        }
    }
    check_env_and_secrets(problems, &app.env, &app.secrets);
    name.map(|_| app)
}

/// The most tasks a color may run on a swarm.
const MAX_REPLICAS: i128 = 100;

/// One `placement` argument, `LABEL=VALUE`: a node label the swarm places
/// the app's tasks by, each part in a grammar YAML and docker take as is.
fn check_placement(problems: &mut Problems, pair: &Spanned<String>) -> Option<(String, String)> {
    let label = pair
        .value
        .split_once('=')
        .filter(|(key, value)| values::node_label(key).is_ok() && values::tag(value).is_ok());
    if label.is_none() {
        problems.push(
            SpecError::new(pair.span, format!("placement `{}` is not LABEL=VALUE", pair.value.escape_debug()), "invalid placement")
                .help("write a node label and its value, such as placement \"zone=eu-1\": the label is lowercase letters, digits, `.` and `-` (set with docker node update --label-add zone=eu-1 NODE), the value letters, digits, `_`, `.` and `-`"),
        );
    }
    label.map(|(key, value)| (key.to_string(), value.to_string()))
}

/// The most hosts `parallel` may name: more than any stack has.
const MAX_PARALLEL: i64 = 1000;

/// `parallel N`: a whole number from 1 to [`MAX_PARALLEL`].
fn parallel_node(problems: &mut Problems, r: &NodeReader) -> Option<Spanned<u32>> {
    r.shape(problems, 1, 1, &[], "parallel 2");
    r.no_children(problems);
    let mut typed = Problems::default();
    let n = r.int_arg(&mut typed, 0, i64::MIN.into(), i64::MAX.into());
    problems.append_with_help(typed, "write a whole number of hosts, such as: parallel 2");
    let n = n?;
    if (1..=MAX_PARALLEL).contains(&n.value) {
        return Some(Spanned::new(n.value as u32, n.span));
    }
    problems.push(
        SpecError::new(n.span, format!("`parallel` is {}, out of range", n.value), "out of range")
            .help(format!("at most this many hosts of the app start or stop at once: a whole number from 1 to {MAX_PARALLEL}; leave `parallel` out to use every host at once")),
    );
    None
}
