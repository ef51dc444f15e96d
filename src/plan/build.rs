//! Builds the [`Plan`] from a decoded [`Spec`], collecting every problem:
//! hosts first, then apps and accessories placed on them, then the proxy
//! in front of the apps.

use super::accessories::{accessory, host_accessories};
use super::apps::app;
use super::context::PlanContext;
use super::hooks::hooks;
use super::hosts::{host_by_name, hosts};
use super::model::*;
use super::ports::PortTable;
use super::proxy::{check_compose_reach, proxy, proxy_host};
use super::service_names::check_unique_names;
use crate::diagnostic::Problems;
use crate::spec::Spec;

/// Checks the spec as a whole and fills defaults. `spec_file` and `spec_hash`
/// go into every generated file's header.
pub fn build(
    spec: &Spec,
    spec_file: &str,
    spec_hash: &str,
    problems: &mut Problems,
) -> Option<Plan> {
    let project = spec.project.value.clone();
    check_unique_names(spec, problems);
    let hosts = hosts(spec, problems);
    let proxy_mode = spec
        .proxy
        .as_ref()
        .and_then(|p| p.mode.as_ref())
        .map_or(ProxyMode::Compose, |m| m.value);
    let proxy_host = proxy_host(spec, &hosts, proxy_mode, problems);
    let app_host_default: Vec<String> = hosts
        .iter()
        .filter(|h| proxy_mode != ProxyMode::Remote || h.name != proxy_host.name)
        .map(|h| h.name.clone())
        .collect();
    let cx = PlanContext {
        spec,
        hosts: &hosts,
        default_hosts: &app_host_default,
        proxy_mode,
        swarm: spec.swarm.is_some(),
    };
    super::swarm::check(&cx, problems);

    let mut ports = PortTable::default();
    let apps: Vec<App> = spec
        .apps
        .iter()
        .filter_map(|a| app(&cx, a, &mut ports, problems))
        .collect();
    // All accessories share one compose file: their secrets are numbered across them.
    let mut next_secret = 0;
    let accessories: Vec<Accessory> = spec
        .accessories
        .iter()
        .filter_map(|a| {
            let acc = accessory(&cx, a, &mut ports, problems, next_secret);
            next_secret += a.secrets.len();
            acc
        })
        .collect();
    super::bind::check(spec, &hosts, &apps, &accessories, problems);
    let proxy = proxy(&cx, &apps, proxy_host, &mut ports, problems);
    let hooks = hooks(spec, problems);
    let webhook = super::webhook::webhook(spec, &hosts, &mut ports, problems);
    check_compose_reach(spec, &apps, &proxy, problems);

    let uses_compose =
        apps.iter().any(|a| a.runtime == Runtime::Compose) || !spec.accessories.is_empty();
    let uses_process = apps.iter().any(|a| a.runtime == Runtime::Process);
    let uses_ssh = !proxy.host.local
        || apps
            .iter()
            .any(|a| a.hosts.iter().any(|h| !host_by_name(&hosts, h).local))
        || accessories
            .iter()
            .any(|a| !host_by_name(&hosts, &a.host).local);
    let lock_host = lock_host(&hosts, &apps, &proxy);
    let host_accessories = host_accessories(&hosts, &accessories);
    if !problems.is_empty() {
        return None;
    }
    let mut plan = Plan {
        generator: format!("greenlight {}", env!("CARGO_PKG_VERSION")),
        spec_file: spec_file.to_string(),
        spec_hash: spec_hash.to_string(),
        network: format!("greenlight-{project}"),
        state_dir: format!("/var/lib/greenlight/{project}"),
        files: super::KitFiles::new(&project, spec.swarm.is_some()),
        project,
        hosts,
        docker_host: spec.docker_host.as_ref().map(|d| d.value.clone()),
        docker_tls_dir: spec.docker_host_tls_dir.clone(),
        docker_insecure: spec.docker_host_insecure,
        apps,
        accessories,
        proxy,
        hooks,
        webhook,
        tag_pattern: crate::spec::values::TAG_PATTERN,
        uses_compose,
        uses_process,
        swarm: spec.swarm.is_some(),
        uses_ssh,
        image_source: if spec.no_registry { "send" } else { "pull" },
        lock_host,
        host_accessories,
        parts: super::KitParts::default(),
    };
    plan.parts = super::KitParts::of(&plan);
    Some(plan)
}

/// Where the stack's deploy lock lives (see [`Plan::lock_host`]): on a
/// machine every deploy touches, so that two control machines exclude each
/// other.
fn lock_host(hosts: &[Host], apps: &[App], proxy: &Proxy) -> String {
    if proxy.mode == ProxyMode::Remote && !proxy.host.local {
        return proxy.host.name.clone();
    }
    hosts
        .iter()
        .find(|h| !h.local && apps.iter().any(|a| a.hosts.contains(&h.name)))
        .map_or_else(String::new, |h| h.name.clone())
}
