//! KDL text → typed [`Spec`], one file per section of the language. Decoding
//! checks shapes, types and value grammars; cross-checks that need the whole
//! spec (names, ports, routes) live in [`crate::plan`].

mod accessory;
mod addresses;
mod app;
mod container;
mod docker_host;
mod health;
mod hooks;
mod host;
mod keywords;
mod orchestrator;
mod proxy;
mod reader;
mod shell_syntax;
mod sidecar;
mod suggest;
mod tls;
mod webhook;
pub use suggest::unknown_help;
pub mod values;

use std::sync::Arc;

use kdl::{KdlDocument, KdlNode};
use miette::SourceSpan;

pub use accessory::AccessorySpec;
pub use addresses::as_bind_address;
pub use app::{AppSpec, LimitsSpec, Runtime};
pub use container::{SecretSpec, VolumeSpec};
pub use health::HealthSpec;
pub use hooks::{HookSpec, HooksSpec};
pub use host::HostSpec;
pub use orchestrator::SwarmSpec;
pub use proxy::{ListenSpec, ProxyMode, ProxySpec, RouteSpec};
pub use reader::Spanned;
pub use sidecar::SidecarSpec;
pub use tls::{HstsSpec, TlsSpec};
pub use webhook::WebhookSpec;

use crate::diagnostic::{Problems, SpecError, SpecReport};
use keywords::Keyword;
use reader::NodeReader;

/// A decoded spec: what the file says, with spans kept for later checks.
#[derive(Debug)]
pub struct Spec {
    /// `project "NAME"`.
    pub project: Spanned<String>,
    /// `output "DIR"`, relative to the spec file.
    pub output: Option<Spanned<String>>,
    /// `host` nodes, in order.
    pub hosts: Vec<HostSpec>,
    /// `docker-host "URL"`.
    pub docker_host: Option<Spanned<String>>,
    /// `docker-host … bind="IP"`: where that engine publishes ports.
    pub docker_host_bind: Option<Spanned<String>>,
    /// `docker-host "tcp://…" tls-dir="/abs"`: the client certificate and CA
    /// deploy.sh reaches that engine with (DOCKER_CERT_PATH).
    pub docker_host_tls_dir: Option<String>,
    /// `docker-host "tcp://…" insecure=#true`: its API without TLS, on purpose.
    pub docker_host_insecure: bool,
    /// `app` blocks, in order.
    pub apps: Vec<AppSpec>,
    /// `accessory` blocks, in order.
    pub accessories: Vec<AccessorySpec>,
    /// `registry "none"`: the stack has no image registry; deploy.sh sends
    /// each image from the engine of the machine that runs it to the hosts.
    pub no_registry: bool,
    /// `orchestrator "swarm"`: the apps run as services of a Docker Swarm.
    pub swarm: Option<SwarmSpec>,
    /// The `proxy` block, if written.
    pub proxy: Option<ProxySpec>,
    /// The `hooks` block (empty when not written).
    pub hooks: HooksSpec,
    /// The `webhook` block, if written.
    pub webhook: Option<WebhookSpec>,
    /// Where the document starts, for errors about something missing.
    pub top: SourceSpan,
}

/// The keywords at the top of a spec.
#[derive(Debug, Clone, Copy)]
enum TopKeyword {
    Greenlight,
    Project,
    Output,
    Registry,
    Host,
    DockerHost,
    App,
    Accessory,
    Proxy,
    Hooks,
    Webhook,
    Strategy,
    Orchestrator,
}

const TOP_LEVEL: &[Keyword<TopKeyword>] = &[
    Keyword::once("greenlight", TopKeyword::Greenlight),
    Keyword::once("project", TopKeyword::Project),
    Keyword::once("output", TopKeyword::Output),
    Keyword::once("registry", TopKeyword::Registry),
    Keyword::many("host", TopKeyword::Host),
    Keyword::once("docker-host", TopKeyword::DockerHost),
    Keyword::many("app", TopKeyword::App),
    Keyword::many("accessory", TopKeyword::Accessory),
    Keyword::once("proxy", TopKeyword::Proxy),
    Keyword::once("hooks", TopKeyword::Hooks),
    Keyword::once("webhook", TopKeyword::Webhook),
    Keyword::once("strategy", TopKeyword::Strategy),
    Keyword::once("orchestrator", TopKeyword::Orchestrator),
];

/// Parses and decodes spec text; `file` names the source in errors. Syntax
/// errors end decoding at once; every other problem is recorded in `problems`
/// and decoding goes on, so that later checks can report theirs too.
pub fn decode(
    file: &str,
    text: Arc<String>,
    problems: &mut Problems,
) -> Result<Option<Spec>, SpecReport> {
    match KdlDocument::parse_v2(&text) {
        Ok(doc) => Ok(decode_document(problems, &doc)),
        Err(error) => Err(syntax_report(file, text, error)),
    }
}

/// Turns KDL syntax errors into a report, with a hint when the text is valid KDL v1.
fn syntax_report(file: &str, text: Arc<String>, error: kdl::KdlError) -> SpecReport {
    let is_v1 = KdlDocument::parse_v1(&text).is_ok();
    let errors = error
        .diagnostics
        .iter()
        .map(|d| {
            let message = d.message.clone().unwrap_or_else(|| "invalid KDL".into());
            let token = text.get(d.span.offset()..d.span.offset() + d.span.len()).unwrap_or_default();
            if matches!(token, "true" | "false" | "null") {
                return SpecError::new(d.span, format!("KDL syntax: a bare `{token}` is KDL v1"), format!("write #{token}"))
                    .help(format!("KDL v2 writes booleans and null with a #: #{token} (greenlight specs are KDL v2)"));
            }
            let mut e = SpecError::new(d.span, format!("KDL syntax: {message}"), d.label.clone().unwrap_or_else(|| "here".into()));
            if is_v1 {
                e = e.help("this looks like KDL v1; greenlight specs are KDL v2: write #true, #false and #null, raw strings as #\"…\"#, and quote strings such as \"1.2\"");
            } else if let Some(help) = &d.help {
                e = e.help(help.clone());
            }
            e
        })
        .collect::<Vec<_>>();
    let errors = if errors.is_empty() {
        vec![SpecError::new(
            SourceSpan::from(0..0),
            "KDL syntax error",
            "here",
        )]
    } else {
        errors
    };
    SpecReport::new(file, text, errors)
}

fn decode_document(problems: &mut Problems, doc: &KdlDocument) -> Option<Spec> {
    let top = doc
        .nodes()
        .first()
        .map_or(SourceSpan::from(0..0), |n| n.name().span());
    check_format_version(problems, doc.nodes(), top);
    if doc.nodes().is_empty() {
        // "the spec is empty" says it all; no project and no app would only repeat it.
        return None;
    }
    let nodes = keywords::lookup(problems, doc.nodes(), TOP_LEVEL, None);

    let mut project = None;
    let mut output = None;
    let mut hosts = Vec::new();
    let mut docker_engine = docker_host::DockerHostSpec::default();
    let mut apps = Vec::new();
    let mut accessories = Vec::new();
    let mut no_registry = false;
    let mut swarm = None;
    let mut proxy = None;
    let mut hooks = HooksSpec::default();
    let mut webhook = None;
    for (keyword, node) in nodes {
        let reader = NodeReader::new(node);
        match keyword {
            // Checked first of all, by check_format_version.
            TopKeyword::Greenlight => {}
            TopKeyword::Project => {
                // An invalid name is reported and kept, so the rest of the spec is still checked.
                reader.shape(problems, 1, 1, &[], "project \"NAME\"");
                reader.no_children(problems);
                project = reader.string_arg(problems, 0).inspect(|n| {
                    check(problems, n.span, values::name(&n.value, "project"));
                });
            }
            TopKeyword::Output => {
                reader.shape(problems, 1, 1, &[], "output \"DIR\"");
                reader.no_children(problems);
                output = reader.string_arg(problems, 0).filter(|dir| {
                    check(
                        problems,
                        dir.span,
                        values::path(&dir.value, "output", false),
                    )
                });
            }
            TopKeyword::Registry => no_registry = decode_registry(problems, &reader),
            TopKeyword::Host => hosts.extend(host::decode(problems, &reader)),
            TopKeyword::DockerHost => docker_engine = docker_host::decode(problems, &reader),
            TopKeyword::App => apps.extend(app::decode(problems, &reader)),
            TopKeyword::Accessory => accessories.extend(accessory::decode(problems, &reader)),
            TopKeyword::Proxy => proxy = Some(proxy::decode(problems, &reader)),
            TopKeyword::Hooks => hooks = hooks::decode(problems, &reader),
            TopKeyword::Webhook => webhook = Some(webhook::decode(problems, &reader)),
            TopKeyword::Strategy => decode_strategy(problems, &reader),
            TopKeyword::Orchestrator => swarm = orchestrator::decode(problems, &reader),
        }
    }
    if project.is_none() && !doc.nodes().iter().any(|n| n.name().value() == "project") {
        problems.push(
            SpecError::new(
                top,
                "the spec has no `project`",
                "expected `project \"NAME\"` in this spec",
            )
            .help("add a line such as: project \"shop\""),
        );
    }
    if apps.is_empty() && !doc.nodes().iter().any(|n| n.name().value() == "app") {
        problems.push(
            SpecError::new(
                top,
                "the spec has no `app`",
                "expected at least one `app` block",
            )
            .help("add: app \"web\" { image \"registry/web\"; port 8080; health \"/healthz\" }"),
        );
    }
    Some(Spec {
        project: project?,
        output,
        hosts,
        docker_host: docker_engine.url,
        docker_host_bind: docker_engine.bind,
        docker_host_tls_dir: docker_engine.tls_dir,
        docker_host_insecure: docker_engine.insecure,
        apps,
        accessories,
        no_registry,
        swarm,
        proxy,
        hooks,
        webhook,
        top,
    })
}

/// `greenlight 1` must come first, so that a future format is refused, not misread.
fn check_format_version(problems: &mut Problems, nodes: &[KdlNode], top: SourceSpan) {
    let Some(first) = nodes.first() else {
        problems.push(
            SpecError::new(top, "the spec is empty", "expected `greenlight 1` here")
                .help("start the spec with `greenlight 1` and a `project`"),
        );
        return;
    };
    if first.name().value() != "greenlight" {
        problems.push(
            SpecError::new(
                first.name().span(),
                "the spec must start with `greenlight 1`",
                "expected `greenlight 1` before this",
            )
            .help("add `greenlight 1` as the first line: it names the spec format version"),
        );
        return;
    }
    let reader = NodeReader::new(first);
    reader.shape(problems, 1, 1, &[], "greenlight 1");
    reader.no_children(problems);
    if let Some(version) = reader.int_arg(problems, 0, i64::MIN as i128, i64::MAX as i128) {
        if version.value != 1 {
            problems.push(
                SpecError::new(
                    version.span,
                    format!("spec format version {} is not supported", version.value),
                    "unsupported version",
                )
                .help("this greenlight reads format version 1: write `greenlight 1`"),
            );
        }
    }
}

fn decode_strategy(problems: &mut Problems, reader: &NodeReader) {
    reader.shape(problems, 1, 1, &[], "strategy \"blue-green\"");
    reader.no_children(problems);
    if let Some(strategy) = reader.string_arg(problems, 0) {
        match strategy.value.as_str() {
            "blue-green" => {}
            "rolling" | "canary" => problems.push(
                SpecError::new(
                    strategy.span,
                    format!("strategy `{}` is not supported yet", strategy.value),
                    "not yet",
                )
                .help("v1 deploys blue-green only: write strategy \"blue-green\" or leave it out"),
            ),
            other => problems.push(
                SpecError::new(
                    strategy.span,
                    format!("unknown strategy `{}`", other.escape_debug()),
                    "unknown strategy",
                )
                .help("the only strategy is \"blue-green\""),
            ),
        }
    }
}

/// `registry "none"`: true when written so. "none" is the only value: with
/// a registry, each image's name says where it is pulled from.
fn decode_registry(problems: &mut Problems, reader: &NodeReader) -> bool {
    let usage = "registry \"none\"";
    reader.shape(problems, 1, 1, &[], usage);
    reader.no_children(problems);
    let mut typed = Problems::default();
    let registry = reader.string_arg(&mut typed, 0);
    problems.append_with_help(typed, &format!("write {usage}, or leave `registry` out"));
    let Some(registry) = registry else {
        return false;
    };
    if registry.value == "none" {
        return true;
    }
    problems.push(
        SpecError::new(
            registry.span,
            format!("unknown registry `{}`", registry.value.escape_debug()),
            "expected \"none\"",
        )
        .help("the only value is \"none\": hosts get each image from the docker engine of the machine that runs deploy.sh; leave `registry` out to have every host pull the images from the registry their names give"),
    );
    false
}

/// The first positional argument as a checked name.
fn name_arg(problems: &mut Problems, reader: &NodeReader, what: &str) -> Option<Spanned<String>> {
    reader
        .string_arg(problems, 0)
        .filter(|n| check(problems, n.span, values::name(&n.value, what)))
}

/// Records `result`'s error at `span`; true when the value is valid.
fn check<T>(problems: &mut Problems, span: SourceSpan, result: Result<T, values::Invalid>) -> bool {
    match result {
        Ok(_) => true,
        Err(invalid) => {
            problems
                .push(SpecError::new(span, invalid.message, "invalid value").help(invalid.help));
            false
        }
    }
}

/// A duration property or argument, decoded.
fn duration_of(
    problems: &mut Problems,
    value: Option<Spanned<String>>,
) -> Option<Spanned<values::Duration>> {
    let value = value?;
    match values::duration(&value.value) {
        Ok(millis) => Some(Spanned::new(
            values::Duration {
                millis,
                text: value.value,
            },
            value.span,
        )),
        Err(invalid) => {
            problems.push(
                SpecError::new(value.span, invalid.message, "invalid duration").help(invalid.help),
            );
            None
        }
    }
}

/// A node whose one value is a duration (`drain "30s"`); `usage` shows the form.
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
