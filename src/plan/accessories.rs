//! Accessories: the stack's long-lived services (databases, caches), one
//! container each, not deployed blue/green.

use super::context::PlanContext;
use super::hosts::{host_by_name, unknown_host};
use super::model::{Accessory, Host, HostAccessories};
use super::ports::PortTable;
use super::secrets::{check_files, remote_engine, secrets};
use super::volumes::volumes;
use crate::diagnostic::Problems;
use crate::spec;

/// The plan of accessory `a`, claiming its published port in `ports`;
/// its secrets are numbered from `first_secret`.
pub(super) fn accessory(
    cx: &PlanContext,
    a: &spec::AccessorySpec,
    ports: &mut PortTable,
    problems: &mut Problems,
    first_secret: usize,
) -> Option<Accessory> {
    let hosts = cx.hosts;
    let host = match &a.on {
        Some(on) if hosts.iter().any(|h| h.name == on.value) => on.value.clone(),
        Some(on) => {
            problems.push(unknown_host(on, hosts));
            return None;
        }
        None => cx
            .default_hosts
            .first()
            .cloned()
            .unwrap_or_else(|| hosts[0].name.clone()),
    };
    if let (Some(port), true) = (&a.port, a.publish) {
        ports.claim(
            problems,
            &host,
            port.value,
            format!("accessory `{}`", a.name.value),
            port.span,
        );
    }
    let remote_host = Some(host.as_str()).filter(|h| !host_by_name(hosts, h).local);
    check_files(
        &a.secrets,
        remote_engine(cx.spec, remote_host).as_deref(),
        problems,
    );
    Some(Accessory {
        name: a.name.value.clone(),
        image: a.image.value.clone(),
        command: a.command.clone(),
        port: a.port.as_ref().map(|p| p.value),
        publish: a.publish,
        bind: host_by_name(hosts, &host).bind.clone(),
        env: a.env.clone(),
        env_files: a.env_files.clone(),
        secrets: secrets(&a.secrets, first_secret, &a.name.value),
        volumes: volumes(&a.volumes),
        host,
    })
}

/// The accessories of each host that runs some, in host order.
pub(super) fn host_accessories(hosts: &[Host], accessories: &[Accessory]) -> Vec<HostAccessories> {
    hosts
        .iter()
        .filter_map(|h| {
            let placed: Vec<&Accessory> = accessories.iter().filter(|a| a.host == h.name).collect();
            let mut images: Vec<String> = Vec::new();
            for a in &placed {
                if !images.contains(&a.image) {
                    images.push(a.image.clone());
                }
            }
            (!placed.is_empty()).then(|| HostAccessories {
                host: h.name.clone(),
                services: placed.iter().map(|a| a.name.clone()).collect(),
                images,
            })
        })
        .collect()
}
