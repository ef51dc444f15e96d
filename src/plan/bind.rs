//! Where compose publishes ports. Docker's port forwarding passes by the
//! host's firewall, so a port published on every address lets clients reach
//! an app around nginx and TLS: every machine that publishes one needs an IP
//! to bind it to, and a `bind=` that publishes nothing is a mistake.

use super::model::{Accessory, App, Host, Runtime};
use crate::diagnostic::{Problems, SpecError};
use crate::spec::{Spanned, Spec};

/// Checks every host's bind address against what is published on it.
pub fn check(
    spec: &Spec,
    hosts: &[Host],
    apps: &[App],
    accessories: &[Accessory],
    problems: &mut Problems,
) {
    for host in hosts {
        let publishes = apps.iter().any(|a| {
            a.runtime == Runtime::Compose
                && a.colors.iter().any(|c| c.host_port.is_some())
                && a.hosts.contains(&host.name)
        }) || accessories
            .iter()
            .any(|a| a.publish && a.port.is_some() && a.host == host.name);
        let (address, written) = written(spec, &host.name);
        if publishes && host.bind.is_none() {
            if let Some(address) = address {
                let (what, fix) = if spec.hosts.is_empty() {
                    (
                        "the docker engine is".to_string(),
                        "add bind=\"IP\" to `docker-host`",
                    )
                } else {
                    (
                        format!("host `{}` is", host.name),
                        "add bind=\"IP\" to the host",
                    )
                };
                problems.push(
                    SpecError::new(address.span, format!("{what} reached by a name, but compose publishes ports on an IP address"), "not an IP address")
                        .help(format!("{fix}: the address that nginx and deploy.sh reach it at (publishing on every address would let clients around nginx)")),
                );
            }
        }
        // On a local host, decoding already refused it.
        let local = address.is_some_and(|a| a.value == "local");
        match written {
            Some(_) if local => {}
            Some(bind) if !publishes => problems.push(
                SpecError::new(bind.span, format!("nothing is published on host `{}`", host.name), "has no use")
                    .help("bind= is where compose apps with host-ports and accessories with publish=#true listen; remove it"),
            ),
            Some(bind) if is_socket(spec) => problems.push(
                SpecError::new(bind.span, "a docker engine on this machine publishes on 127.0.0.1", "cannot apply")
                    .help("deploy.sh reaches the ports of a unix:// engine on 127.0.0.1: remove bind="),
            ),
            _ => {}
        }
    }
}

/// A host's address as written (the `docker-host` URL for the implicit
/// host), and its `bind=` if written.
fn written<'a>(
    spec: &'a Spec,
    host: &str,
) -> (Option<&'a Spanned<String>>, Option<&'a Spanned<String>>) {
    match spec.hosts.iter().find(|h| h.name.value == host) {
        Some(h) => (Some(&h.address), h.bind.as_ref()),
        None => (spec.docker_host.as_ref(), spec.docker_host_bind.as_ref()),
    }
}

/// Whether the stack's engine is reached through a local socket.
fn is_socket(spec: &Spec) -> bool {
    spec.docker_host
        .as_ref()
        .is_some_and(|d| d.value.starts_with("unix://"))
}
