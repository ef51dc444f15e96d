//! The hosts of a stack: decoded `host` nodes (or the implicit local one)
//! turned into where ssh, nginx and the health gate reach each machine.

use super::defaults::{LOCAL_HOST, SSH_PORT};
use super::model::Host;
use crate::diagnostic::{twice, Problems, SpecError};
use crate::spec::{self, Spanned, Spec};

/// The hosts the stack runs on: those the spec defines, or the one
/// implicit local host (behind a `docker-host` engine, when given).
pub(super) fn hosts(spec: &Spec, problems: &mut Problems) -> Vec<Host> {
    check_unique_hosts(spec, problems);
    if let (Some(docker), Some(host)) = (&spec.docker_host, spec.hosts.first()) {
        problems.push(
            SpecError::new(docker.span, "`docker-host` cannot be combined with `host` nodes", "remote engine")
                .also(host.name.span, "hosts declared here")
                .help("use `docker-host` for a single remote engine, or `host` nodes reached over ssh, not both"),
        );
    }
    if spec.hosts.is_empty() {
        let addr = spec
            .docker_host
            .as_ref()
            .and_then(|d| docker_host_addr(&d.value))
            .unwrap_or_else(|| "127.0.0.1".to_string());
        let bind = spec.docker_host_bind.as_ref().map(|b| b.value.clone());
        return vec![Host {
            name: LOCAL_HOST.into(),
            ssh: String::new(),
            ssh_port: SSH_PORT,
            bind: bind.or_else(|| spec::as_bind_address(&addr)),
            addr,
            local: true,
        }];
    }
    spec.hosts
        .iter()
        .map(|h| {
            let local = h.address.value == "local";
            let addr = if local {
                "127.0.0.1".to_string()
            } else {
                h.address
                    .value
                    .rsplit('@')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            };
            let bind = h.bind.as_ref().map(|b| b.value.clone());
            Host {
                name: h.name.value.clone(),
                ssh: if local {
                    String::new()
                } else {
                    h.address.value.clone()
                },
                ssh_port: h.ssh_port.unwrap_or(SSH_PORT),
                bind: bind.or_else(|| spec::as_bind_address(&addr)),
                addr,
                local,
            }
        })
        .collect()
}

/// The address part of `tcp://addr:port` / `ssh://user@addr`, where published ports are reached.
fn docker_host_addr(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("tcp://")
        .or_else(|| url.strip_prefix("ssh://"))?;
    let rest = rest.rsplit('@').next()?;
    let addr = match rest.rsplit_once(':') {
        Some((a, p)) if p.chars().all(|c| c.is_ascii_digit()) => a,
        _ => rest,
    };
    Some(addr.to_string())
}

/// Each host is defined once: its name is how apps, accessories and the
/// proxy say where they run.
fn check_unique_hosts(spec: &Spec, problems: &mut Problems) {
    for (i, host) in spec.hosts.iter().enumerate() {
        if let Some(first) = spec.hosts[..i]
            .iter()
            .find(|h| h.name.value == host.name.value)
        {
            problems.push(twice(
                &format!("host `{}`", host.name.value),
                "defined",
                host.name.span,
                first.name.span,
            ));
        }
    }
}

/// The host named `name`; names are checked before this is asked.
pub(super) fn host_by_name<'a>(hosts: &'a [Host], name: &str) -> &'a Host {
    hosts.iter().find(|h| h.name == name).unwrap_or(&hosts[0])
}

/// "unknown host", suggesting the closest defined one.
pub(super) fn unknown_host(name: &Spanned<String>, hosts: &[Host]) -> SpecError {
    let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
    SpecError::new(
        name.span,
        format!("unknown host `{}`", name.value),
        "no such host",
    )
    .help(crate::spec::unknown_help(&name.value, &names))
}
