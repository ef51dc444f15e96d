//! `orchestrator "swarm"` against the rest of the spec: what a swarm kit
//! takes (replicas, placement, a check per task) and what it leaves to the
//! swarm (hosts, host ports, sidecars), each reported where it is written.

use miette::SourceSpan;

use super::context::PlanContext;
use crate::diagnostic::{Problems, SpecError};
use crate::spec::{AppSpec, ProxyMode};

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
    if let Some(host) = spec.hosts.first() {
        problems.push(needs_hosts(host.name.span, "`host`", "the swarm places each task on one of its nodes: remove the host nodes; deploy.sh talks to the manager, this machine's engine or `docker-host`"));
    }
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
