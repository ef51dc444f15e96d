//! The two colors of an app: where each runs, how nginx reaches it and how
//! the health gate probes it.

use super::context::PlanContext;
use super::hosts::host_by_name;
use super::model::{Color, Host, ProxyMode, Runtime, COLORS};
use super::names;
use crate::spec::AppSpec;

/// Blue and green of app `a`, which runs on `app_hosts` and takes traffic
/// on `entry_port` of its entry container.
pub(super) fn colors(
    cx: &PlanContext,
    a: &AppSpec,
    app_hosts: &[String],
    entry_port: u16,
) -> Vec<Color> {
    let name = &a.name.value;
    let project = &cx.spec.project.value;
    let runtime = cx.runtime(a);
    let servers_of = |i: usize| -> Vec<String> {
        let host_port = a
            .host_ports
            .as_ref()
            .map(|hp| if i == 0 { hp.value.0 } else { hp.value.1 });
        match (cx.proxy_mode, runtime, host_port) {
            (ProxyMode::Compose, Runtime::Compose | Runtime::Swarm, _) => {
                vec![format!("{name}-{}:{entry_port}", COLORS[i])]
            }
            (_, _, Some(port)) => app_hosts
                .iter()
                .map(|h| {
                    format!(
                        "{}:{port}",
                        nginx_addr(host_by_name(cx.hosts, h), cx.proxy_mode)
                    )
                })
                .collect(),
            _ => Vec::new(),
        }
    };
    let binds = binds(cx.hosts, app_hosts);
    COLORS
        .iter()
        .enumerate()
        .map(|(i, color)| {
            let host_port = a
                .host_ports
                .as_ref()
                .map(|hp| if i == 0 { hp.value.0 } else { hp.value.1 });
            let published = match (runtime, host_port) {
                (Runtime::Compose, Some(port)) => binds
                    .iter()
                    .flatten()
                    .map(|b| format!("{b}:{port}"))
                    .collect(),
                _ => Vec::new(),
            };
            let alias = format!("{name}-{color}");
            let servers = servers_of(i);
            let upstream = names::upstream(project, name, color);
            let route = match (cx.proxy_mode, runtime) {
                (ProxyMode::Compose, Runtime::Compose | Runtime::Swarm) => servers[0].clone(),
                _ => upstream.clone(),
            };
            let backup_servers = if cx.proxy_mode == ProxyMode::Compose {
                Vec::new()
            } else {
                servers_of(1 - i)
            };
            let probe_bases = match host_port {
                Some(port) => app_hosts
                    .iter()
                    .map(|h| format!("http://{}:{port}", host_by_name(cx.hosts, h).addr))
                    .collect(),
                None => Vec::new(),
            };
            Color {
                name: color,
                host_port,
                published,
                compose_project: format!("{project}-{name}-{color}"),
                compose_file: if runtime == Runtime::Swarm {
                    format!("swarm/{name}-{color}.yml")
                } else {
                    format!("compose/{name}-{color}.yml")
                },
                upstream,
                route,
                upstream_file: format!("nginx/{name}-{color}.upstream.conf"),
                select_file: format!("nginx/{name}-{color}.select.conf"),
                pid_file: format!("run/{name}-{color}.pid"),
                status_file: format!("run/{name}-{color}.status"),
                log_file: format!("logs/{name}-{color}.log"),
                mark: format!("{project}/{name}/{color}"),
                alias,
                several_servers: servers.len() > 1,
                servers,
                backup_servers,
                probe_bases,
            }
        })
        .collect()
}

/// The bind address of each of the app's hosts, where its ports are published.
fn binds<'a>(hosts: &'a [Host], app_hosts: &[String]) -> Vec<Option<&'a String>> {
    app_hosts
        .iter()
        .map(|h| host_by_name(hosts, h).bind.as_ref())
        .collect()
}

/// The bind address all the app's hosts share, if they share one.
pub(super) fn shared_bind(hosts: &[Host], app_hosts: &[String]) -> Option<String> {
    let binds = binds(hosts, app_hosts);
    match binds.first() {
        Some(Some(first)) if binds.iter().all(|b| *b == Some(*first)) => Some((*first).clone()),
        _ => None,
    }
}

/// How nginx reaches a host: loopback when nginx runs on it, else its address.
fn nginx_addr(host: &Host, mode: ProxyMode) -> String {
    if mode == ProxyMode::Host && host.local {
        "127.0.0.1".into()
    } else {
        host.addr.clone()
    }
}
