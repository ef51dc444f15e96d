//! `orchestrator "swarm"` against the rest of the spec: what a swarm kit
//! takes (replicas, placement, a check per task) and what it leaves to the
//! swarm (hosts, host ports, sidecars), each reported where it is written.

use miette::SourceSpan;

use super::context::PlanContext;
use crate::diagnostic::{Problems, SpecError};
use crate::spec::{AppSpec, ProxyMode, Spanned, Spec};

/// Reports what the spec says that its orchestrator (a swarm, or hosts)
/// cannot honour.
pub(super) fn check(cx: &PlanContext, problems: &mut Problems) {
    let spec = cx.spec;
    if !cx.swarm {
        for a in &spec.apps {
            swarm_only(a, problems);
        }
        return;
    }
    let needs_hosts = |span: SourceSpan, what: &str, help: &str| {
        SpecError::new(
            span,
            format!("{what} does not apply under orchestrator \"swarm\""),
            "not with a swarm",
        )
        .help(help.to_string())
    };
    check_manager(spec, problems);
    if let Some(accessory) = spec.accessories.first() {
        problems.push(
            SpecError::new(
                accessory.name.span,
                "accessories are not supported under orchestrator \"swarm\" yet",
                "not yet",
            )
            .help("run the accessory as a stack of its own (docker stack deploy) and give the apps its address with `env`"),
        );
    }
    if let Some(proxy) = &spec.proxy {
        if let Some(mode) = proxy
            .mode
            .as_ref()
            .filter(|m| m.value != ProxyMode::Compose)
        {
            problems.push(needs_hosts(
                mode.span,
                "this proxy mode",
                "under a swarm nginx is a service of the swarm, on the manager: remove `mode`",
            ));
        }
        for listen in proxy.listen.iter().filter(|l| !l.address.is_empty()) {
            problems.push(needs_hosts(listen.port.span, "a listen address", "nginx's task publishes its ports on every address of the manager (a swarm's host-mode port takes no address): give the port alone, and keep it from the outside with the manager's firewall if need be"));
        }
    }
    for a in &spec.apps {
        for what in ["runtime", "host-ports", "hosts", "parallel", "sidecar"] {
            if let Some(span) = a.written_at(what) {
                problems.push(needs_hosts(span, &format!("`{what}`"), "a swarm app is one service per color with `replicas` tasks, placed by the swarm (`placement` picks nodes by label), reached by nginx on the stack's overlay network: remove it"));
            }
        }
        for secret in a.secrets.iter().filter(|s| s.as_file.is_none()) {
            problems.push(
                SpecError::new(secret.key.span, "a swarm delivers secrets as files", "as=\"env\"")
                    .help("write as=\"file\": the secret becomes a swarm secret, read by the app at /run/secrets/KEY (a value in the environment would be in the service's spec for anyone who can inspect it)"),
            );
        }
        if let Some(h) = &a.health {
            if h.expect.is_some() {
                problems.push(needs_hosts(h.path.span, "`expect`", "docker's check decides in each task: the default check (curl --fail) passes any status below 400; give a `check` command that tests what you expect"));
            }
            if h.healthy_after.is_some() {
                problems.push(needs_hosts(
                    h.path.span,
                    "`healthy-after`",
                    "docker counts a task healthy after one passing check: remove `healthy-after`",
                ));
            }
        }
    }
}

/// Under a swarm the only `host` is the manager named by `manager=`; it and
/// `docker-host` are two ways to name the manager, so not both.
fn check_manager(spec: &Spec, problems: &mut Problems) {
    let manager = spec.swarm.as_ref().and_then(|s| s.manager.as_ref());
    if let (Some(manager), Some(engine)) = (manager, &spec.docker_host) {
        problems.push(
            SpecError::new(manager.span, "`manager` and `docker-host` both name the swarm's manager", "manager here")
                .also(engine.span, "and here")
                .help("keep one: manager=\"HOST\" reaches that host's engine over ssh (and holds the deploy lock there), docker-host names the engine itself"),
        );
    }
    if let Some(manager) = manager {
        if !spec.hosts.iter().any(|h| h.name.value == manager.value) {
            problems.push(unknown_manager(manager, spec));
        }
    }
    for host in &spec.hosts {
        if manager.is_some_and(|m| m.value == host.name.value) {
            continue;
        }
        problems.push(
            SpecError::new(host.name.span, "under orchestrator \"swarm\" the only host is the manager", "not the manager")
                .help("the swarm places each task on one of its nodes: remove the other host nodes, and name the manager's with orchestrator \"swarm\" manager=\"HOST\" (or leave hosts out: the manager is this machine's engine, or `docker-host`)"),
        );
    }
}

/// `manager="NAME"` naming no host.
fn unknown_manager(manager: &Spanned<String>, spec: &Spec) -> SpecError {
    let known: Vec<&str> = spec.hosts.iter().map(|h| h.name.value.as_str()).collect();
    SpecError::new(
        manager.span,
        format!("manager `{}` is not a host of the spec", manager.value),
        "unknown host",
    )
    .help(if known.is_empty() {
        format!(
            "add it: host \"{}\" address=\"user@ADDRESS\"",
            manager.value
        )
    } else {
        format!(
            "add host \"{}\", or name one of: {}",
            manager.value,
            known.join(", ")
        )
    })
}

/// Under hosts: the keywords only a swarm reads.
fn swarm_only(a: &AppSpec, problems: &mut Problems) {
    let spans = [
        ("replicas", a.replicas.as_ref().map(|r| r.span)),
        ("placement", a.written_at("placement")),
        (
            "check",
            a.health
                .as_ref()
                .and_then(|h| h.check.as_ref().map(|c| c.span)),
        ),
        (
            "start-period",
            a.health
                .as_ref()
                .and_then(|h| h.start_period.as_ref().map(|d| d.span)),
        ),
    ];
    for (what, span) in spans {
        if let Some(span) = span {
            problems.push(
                SpecError::new(span, format!("`{what}` needs orchestrator \"swarm\""), "swarm only")
                    .help("it says how a Docker Swarm runs the app's tasks: add orchestrator \"swarm\" at the top of the spec, or remove it"),
            );
        }
    }
}
