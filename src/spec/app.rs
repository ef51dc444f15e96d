//! `app "NAME" { … }`: an application deployed blue/green, and the container
//! pieces (env, volumes, image) that accessories and sidecars share.

use kdl::KdlNode;
use miette::SourceSpan;

use super::{check, duration_of, name_arg, values, NodeReader, Spanned};
use crate::diagnostic::{Problems, SpecError};

/// How an app's colors are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// A docker compose project per color.
    Compose,
    /// A plain process per color, started from `start`.
    Process,
}

/// A bind mount or named volume.
#[derive(Debug, Clone)]
pub struct VolumeSpec {
    /// Host path (absolute or `./relative` to the kit) or a named volume.
    pub source: Spanned<String>,
    /// Absolute path inside the container.
    pub target: String,
    /// Mounted read-only.
    pub read_only: bool,
}

/// `secret "KEY" from-file="/run/secrets/x" as="env|file"`: a value read on
/// the deploy machine at deploy time, never written into the kit; it reaches
/// the app as the environment variable KEY, or (`as="file"`, containers
/// only) as the file /run/secrets/KEY, which `docker inspect` does not show.
#[derive(Debug, Clone)]
pub struct SecretSpec {
    /// The environment variable name (with `as="file"`, the file's name).
    pub key: Spanned<String>,
    /// Absolute path of the file holding the value, on the machine that runs deploy.sh.
    pub from_file: String,
    /// Where `as="file"` is written; None: the secret is an environment variable.
    pub as_file: Option<SourceSpan>,
}

/// `limits memory="700m" cpus=1.8`
#[derive(Debug, Clone, Default)]
pub struct LimitsSpec {
    /// Memory limit in docker's size syntax.
    pub memory: Option<String>,
    /// CPU limit.
    pub cpus: Option<f64>,
}

/// `health "/path" { … }`: the gate a new color must pass before it gets traffic.
#[derive(Debug, Clone)]
pub struct HealthSpec {
    /// The path probed on each host of the new color.
    pub path: Spanned<String>,
    /// The expected status; any 2xx when absent.
    pub expect: Option<u16>,
    /// Time between probes.
    pub interval: Option<Spanned<values::Duration>>,
    /// Bound of one probe.
    pub timeout: Option<Spanned<values::Duration>>,
    /// Give up after this long.
    pub deadline: Option<Spanned<values::Duration>>,
    /// Consecutive successes needed.
    pub healthy_after: Option<u32>,
}

/// A second container of each color, versioned with the app (nginx before php-fpm).
#[derive(Debug, Clone)]
pub struct SidecarSpec {
    /// The sidecar's name.
    pub name: Spanned<String>,
    /// Traffic for the app enters here.
    pub entry: bool,
    /// Image without tag, or pinned by digest (`repo@sha256:…`).
    pub image: Option<Spanned<String>>,
    /// Own tag; the deploy's version when absent.
    pub tag: Option<String>,
    /// Container port (for the entry sidecar: where the proxy sends traffic).
    pub port: Option<Spanned<u16>>,
    /// Mount the app's volumes (compose `volumes_from`).
    pub volumes_from_app: bool,
    /// Environment.
    pub env: Vec<(String, String)>,
    /// Volumes.
    pub volumes: Vec<VolumeSpec>,
    /// Command override.
    pub command: Vec<String>,
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
    /// Names of the nodes written in the block, valid or not, with where
    /// each name is: a later check neither calls an invalid node "missing"
    /// nor lets a node that does not apply to the runtime pass unremarked.
    pub written: Vec<(String, SourceSpan)>,
}

/// Placeholders deploy.sh fills in a process `start` command.
pub const START_PLACEHOLDERS: &[&str] = &["app", "color", "port", "version"];

const APP_NODES: &[&str] = &[
    "runtime",
    "image",
    "tag",
    "port",
    "host-ports",
    "hosts",
    "env",
    "env-file",
    "secret",
    "volume",
    "limits",
    "command",
    "health",
    "drain",
    "keep-previous",
    "start",
    "workdir",
    "user",
    "verify",
    "watch",
    "parallel",
    "sidecar",
];
const APP_ONCE: &[&str] = &[
    "runtime",
    "image",
    "tag",
    "port",
    "host-ports",
    "hosts",
    "limits",
    "command",
    "health",
    "drain",
    "keep-previous",
    "start",
    "workdir",
    "user",
    "verify",
    "watch",
    "parallel",
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
        written: Vec::new(),
    };
    if reader.args().is_empty() {
        return None;
    }
    for node in reader.children(problems, APP_NODES, APP_ONCE) {
        let r = NodeReader::new(node);
        app.written
            .push((node.name().value().to_string(), r.name_span()));
        match node.name().value() {
            "runtime" => {
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
            "image" => app.image = image_node(problems, &r, false),
            "tag" => app.tag = tag_node(problems, &r).map(|t| t.value),
            "port" => app.port = port_node(problems, &r, &[], "port 8080"),
            "host-ports" => {
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
            "hosts" => {
                r.shape(problems, 1, usize::MAX, &[], "hosts \"was1\" \"was2\"");
                r.no_children(problems);
                app.hosts = r.string_args(problems);
            }
            "env" => app.env.extend(env_node(problems, &r)),
            "env-file" => {
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
            "secret" => app.secrets.extend(secret_node(problems, &r)),
            "volume" => app.volumes.extend(volume_node(problems, &r)),
            "limits" => {
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
            "command" => app.command = command_node(problems, &r),
            "health" => app.health = health_node(problems, &r),
            "drain" => app.drain = duration_node(problems, &r, "drain \"30s\""),
            "keep-previous" => {
                r.shape(problems, 1, 1, &[], "keep-previous #true");
                r.no_children(problems);
                app.keep_previous = r.bool_arg(problems, 0).map(|b| b.value);
            }
            "start" => {
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
            "workdir" => {
                r.shape(problems, 1, 1, &[], "workdir \"/opt/app\"");
                r.no_children(problems);
                app.workdir = r
                    .string_arg(problems, 0)
                    .filter(|w| check(problems, w.span, values::path(&w.value, "workdir", true)))
                    .map(|w| w.value);
            }
            "user" => {
                r.shape(problems, 1, 1, &[], "user \"www-data\"");
                r.no_children(problems);
                app.user = r
                    .string_arg(problems, 0)
                    .filter(|u| check(problems, u.span, values::user(&u.value)));
            }
            "verify" => {
                r.shape(problems, 1, 1, &[], "verify \"/\"");
                r.no_children(problems);
                app.verify = r
                    .string_arg(problems, 0)
                    .filter(|p| check(problems, p.span, values::health_path(&p.value)));
            }
            "watch" => app.watch = duration_node(problems, &r, "watch \"30s\""),
            "parallel" => app.parallel = parallel_node(problems, &r),
            "sidecar" => app.sidecars.extend(sidecar_node(problems, &r)),
            _ => {}
        }
    }
    check_env_and_secrets(problems, &app.env, &app.secrets);
    name.map(|_| app)
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

/// `secret "KEY" from-file="/run/secrets/key" as="env|file"`
pub(super) fn secret_node(problems: &mut Problems, r: &NodeReader) -> Option<SecretSpec> {
    let usage = "secret \"DB_PASSWORD\" from-file=\"/run/secrets/db\"";
    r.shape(problems, 1, 1, &["from-file", "as"], usage);
    let as_file = match r.string_prop(problems, "as") {
        Some(how) if how.value == "file" => Some(Some(how.span)),
        Some(how) if how.value == "env" => Some(None),
        Some(how) => {
            problems.push(
                SpecError::new(
                    how.span,
                    format!("unknown as=\"{}\"", how.value.escape_debug()),
                    "env or file",
                )
                .help("as=\"env\" (the default) sets the environment variable; as=\"file\" mounts the file at /run/secrets/KEY"),
            );
            None
        }
        None if r.has_prop("as") => None,
        None => Some(None),
    };
    r.no_children(problems);
    let key = r.string_arg(problems, 0)?;
    let key_ok = check(problems, key.span, values::env_key(&key.value));
    let Some(file) = r.string_prop(problems, "from-file") else {
        if !r.has_prop("from-file") {
            problems.push(
                SpecError::new(
                    r.span(),
                    "`secret` needs `from-file=`",
                    "where is the value?",
                )
                .help(format!(
                    "write it as: {usage} (the file is read on the deploy machine at deploy time)"
                )),
            );
        }
        return None;
    };
    let file_ok = check(
        problems,
        file.span,
        values::path(&file.value, "from-file", true),
    );
    let as_file = as_file?;
    (key_ok && file_ok).then_some(SecretSpec {
        key,
        from_file: file.value,
        as_file,
    })
}

/// A key is set once: by `env` or by `secret`, and each `secret` key once.
pub(super) fn check_env_and_secrets(
    problems: &mut Problems,
    env: &[(String, String)],
    secrets: &[SecretSpec],
) {
    for (i, secret) in secrets.iter().enumerate() {
        if let Some(first) = secrets[..i]
            .iter()
            .find(|s| s.key.value == secret.key.value)
        {
            problems.push(
                SpecError::new(
                    secret.key.span,
                    format!("secret `{}` is given twice", secret.key.value),
                    "again here",
                )
                .also(first.key.span, "first here"),
            );
        } else if env.iter().any(|(key, _)| *key == secret.key.value) {
            problems.push(
                SpecError::new(
                    secret.key.span,
                    format!(
                        "`{}` is set both by `env` and by `secret`",
                        secret.key.value
                    ),
                    "also an env",
                )
                .help("a variable is either plain (`env`) or secret (`secret`): remove one"),
            );
        }
    }
}

/// `image "repo"`; `with_tag` allows `repo:tag` (accessories, the proxy).
/// Either may be pinned to one content by a digest, `repo@sha256:…` (and
/// `repo:tag@sha256:…` where a tag is allowed), kept as written.
pub(super) fn image_node(
    problems: &mut Problems,
    r: &NodeReader,
    with_tag: bool,
) -> Option<Spanned<String>> {
    let usage = if with_tag {
        "image \"redis:7.2\""
    } else {
        "image \"registry.example.com/team/web\""
    };
    r.shape(problems, 1, 1, &[], usage);
    r.no_children(problems);
    let image = r.string_arg(problems, 0)?;
    let (name, digest) = values::split_digest(&image.value);
    if let Some(digest) = digest {
        if !check(problems, image.span, values::digest(digest)) {
            return None;
        }
    }
    let (repository, tag) = values::split_image(name);
    if let Some(tag) = tag {
        if !with_tag {
            if !check(problems, image.span, values::image_repository(repository)) {
                return None;
            }
            problems.push(
                SpecError::new(image.span, "an app's image is written without its tag", "tag here")
                    .help(format!(
                        "write image \"{repository}\" and tag \"{}\": deploy.sh sets the tag per deploy",
                        tag.escape_debug()
                    )),
            );
            return None;
        }
        if !check(problems, image.span, values::tag(tag)) {
            return None;
        }
    }
    check(problems, image.span, values::image_repository(repository)).then_some(image)
}

fn tag_node(problems: &mut Problems, r: &NodeReader) -> Option<Spanned<String>> {
    r.shape(problems, 1, 1, &[], "tag \"latest\"");
    r.no_children(problems);
    let tag = r.string_arg(problems, 0)?;
    check(problems, tag.span, values::tag(&tag.value)).then_some(tag)
}

/// `port N` with the properties in `props` allowed.
pub(super) fn port_node(
    problems: &mut Problems,
    r: &NodeReader,
    props: &[&str],
    usage: &str,
) -> Option<Spanned<u16>> {
    r.shape(problems, 1, 1, props, usage);
    r.no_children(problems);
    r.int_arg(problems, 0, 1, 65535)
        .map(|p| Spanned::new(p.value as u16, p.span))
}

/// `env "KEY" "VALUE"`
pub(super) fn env_node(problems: &mut Problems, r: &NodeReader) -> Option<(String, String)> {
    r.shape(problems, 2, 2, &[], "env \"PROFILE\" \"prod\"");
    r.no_children(problems);
    let key = r.string_arg(problems, 0)?;
    let value = r.string_arg(problems, 1)?;
    let key_ok = check(problems, key.span, values::env_key(&key.value));
    let value_ok = check(
        problems,
        value.span,
        values::plain_text(&value.value, "the env value"),
    );
    (key_ok && value_ok).then_some((key.value, value.value))
}

/// `volume "SOURCE" "TARGET" read-only=#false`
pub(super) fn volume_node(problems: &mut Problems, r: &NodeReader) -> Option<VolumeSpec> {
    r.shape(
        problems,
        2,
        2,
        &["read-only"],
        "volume \"/srv/logs\" \"/logs\" read-only=#false",
    );
    r.no_children(problems);
    let source = r.string_arg(problems, 0)?;
    let target = r.string_arg(problems, 1)?;
    let read_only = r.bool_prop(problems, "read-only").is_some_and(|b| b.value);
    let source_ok = check(problems, source.span, volume_source(&source.value));
    let target_ok = check(
        problems,
        target.span,
        values::path(&target.value, "the volume target", true),
    ) && check(problems, target.span, no_colon(&target.value));
    (source_ok && target_ok).then_some(VolumeSpec {
        source,
        target: target.value,
        read_only,
    })
}

fn no_colon(value: &str) -> Result<(), values::Invalid> {
    if value.contains(':') {
        Err(values::Invalid {
            message: format!("`{value}` contains `:`"),
            help: "compose splits volumes at `:`; use a path without it".into(),
        })
    } else {
        Ok(())
    }
}

/// A volume source: an absolute path, a path starting `./` or `../` (relative
/// to the kit directory), or a named volume.
fn volume_source(value: &str) -> Result<(), values::Invalid> {
    values::path(value, "the volume source", false)?;
    no_colon(value)?;
    let is_path = value.starts_with('/') || value.starts_with("./") || value.starts_with("../");
    let is_name = value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if is_path || is_name {
        Ok(())
    } else {
        Err(values::Invalid {
            message: format!(
                "`{}` is neither a path nor a volume name",
                value.escape_debug()
            ),
            help:
                "write an absolute path, a path starting with ./, or a volume name such as \"data\""
                    .into(),
        })
    }
}

/// `command "arg" "arg" …`, kept as separate arguments.
pub(super) fn command_node(problems: &mut Problems, r: &NodeReader) -> Vec<String> {
    r.shape(
        problems,
        1,
        usize::MAX,
        &[],
        "command \"yarn\" \"start:prod\"",
    );
    r.no_children(problems);
    r.string_args(problems)
        .into_iter()
        .filter(|a| {
            check(
                problems,
                a.span,
                values::plain_text(&a.value, "a command argument"),
            )
        })
        .map(|a| a.value)
        .collect()
}

fn duration_node(
    problems: &mut Problems,
    r: &NodeReader,
    usage: &str,
) -> Option<Spanned<values::Duration>> {
    r.shape(problems, 1, 1, &[], usage);
    r.no_children(problems);
    let value = r.duration_arg(problems, 0);
    duration_of(problems, value)
}

const HEALTH_NODES: &[&str] = &["expect", "interval", "timeout", "deadline", "healthy-after"];

fn health_node(problems: &mut Problems, r: &NodeReader) -> Option<HealthSpec> {
    r.shape(
        problems,
        1,
        1,
        &[],
        "health \"/healthz\" { interval \"1s\" }",
    );
    let path = r
        .string_arg(problems, 0)
        .filter(|p| check(problems, p.span, values::health_path(&p.value)));
    let mut health = HealthSpec {
        path: path
            .clone()
            .unwrap_or_else(|| Spanned::new(String::new(), r.span())),
        expect: None,
        interval: None,
        timeout: None,
        deadline: None,
        healthy_after: None,
    };
    for node in r.children(problems, HEALTH_NODES, HEALTH_NODES) {
        let c = NodeReader::new(node);
        match node.name().value() {
            "expect" => {
                c.shape(problems, 1, 1, &[], "expect 200");
                c.no_children(problems);
                health.expect = c.int_arg(problems, 0, 100, 599).map(|s| s.value as u16);
            }
            "interval" => health.interval = duration_node(problems, &c, "interval \"1s\""),
            "timeout" => health.timeout = duration_node(problems, &c, "timeout \"2s\""),
            "deadline" => health.deadline = duration_node(problems, &c, "deadline \"120s\""),
            _ => {
                c.shape(problems, 1, 1, &[], "healthy-after 3");
                c.no_children(problems);
                health.healthy_after = c.int_arg(problems, 0, 1, 100).map(|n| n.value as u32);
            }
        }
    }
    path.map(|_| health)
}

const SIDECAR_NODES: &[&str] = &[
    "image",
    "tag",
    "port",
    "volumes-from-app",
    "env",
    "volume",
    "command",
];
const SIDECAR_ONCE: &[&str] = &["image", "tag", "port", "volumes-from-app", "command"];

fn sidecar_node(problems: &mut Problems, r: &NodeReader) -> Option<SidecarSpec> {
    r.shape(
        problems,
        1,
        1,
        &["entry"],
        "sidecar \"web\" entry=#true { image \"team/nginx\"; port 80 }",
    );
    let name = name_arg(problems, r, "sidecar name")?;
    let mut sidecar = SidecarSpec {
        name,
        entry: r.bool_prop(problems, "entry").is_some_and(|b| b.value),
        image: None,
        tag: None,
        port: None,
        volumes_from_app: false,
        env: Vec::new(),
        volumes: Vec::new(),
        command: Vec::new(),
    };
    let children: Vec<&KdlNode> = r.children(problems, SIDECAR_NODES, SIDECAR_ONCE);
    let mut tag = None;
    for node in children {
        let c = NodeReader::new(node);
        match node.name().value() {
            "image" => sidecar.image = image_node(problems, &c, false),
            "tag" => tag = tag_node(problems, &c),
            "port" => sidecar.port = port_node(problems, &c, &[], "port 80"),
            "volumes-from-app" => {
                c.shape(problems, 1, 1, &[], "volumes-from-app #true");
                c.no_children(problems);
                sidecar.volumes_from_app = c.bool_arg(problems, 0).is_some_and(|b| b.value);
            }
            "env" => sidecar.env.extend(env_node(problems, &c)),
            "volume" => sidecar.volumes.extend(volume_node(problems, &c)),
            _ => sidecar.command = command_node(problems, &c),
        }
    }
    if sidecar.image.is_none() {
        problems.push(
            SpecError::new(
                r.span(),
                format!("sidecar `{}` has no `image`", sidecar.name.value),
                "missing image",
            )
            .help("add: image \"team/nginx\""),
        );
        return None;
    }
    let pinned = sidecar
        .image
        .as_ref()
        .filter(|i| values::split_digest(&i.value).1.is_some());
    if let (Some(image), Some(tag)) = (pinned, &tag) {
        problems.push(
            SpecError::new(
                tag.span,
                "a sidecar pinned by digest takes no `tag`",
                "tag here",
            )
            .also(image.span, "pinned here")
            .help("the digest names the image's content: remove `tag`, or pin no digest"),
        );
    }
    sidecar.tag = tag.map(|t| t.value);
    Some(sidecar)
}
