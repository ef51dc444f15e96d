//! Apps: each decoded `app` block checked against the whole spec and
//! filled with defaults.

use super::app_checks::check_app_keywords;
use super::colors::{colors, shared_bind};
use super::context::PlanContext;
use super::defaults::{
    DRAIN_MS, KEEP_PREVIOUS, PARALLEL_ALL, REPLICAS, SWARM_WATCH_MS, TAG, WATCH_MS,
};
use super::durations;
use super::health::health;
use super::hooks::argv;
use super::hosts::{host_by_name, unknown_host};
use super::model::{App, Runtime, Sidecar};
use super::names;
use super::ports::PortTable;
use super::secrets::{check_files, refuse_files, remote_engine, secrets};
use super::sidecars::{entry, pinned, sidecar};
use super::volumes::{shared_volumes, volumes};
use crate::diagnostic::{Problems, SpecError};
use crate::spec::AppSpec;

/// The plan of app `a`, claiming its host ports in `ports`; None when a
/// problem leaves nothing to plan.
pub(super) fn app(
    cx: &PlanContext,
    a: &AppSpec,
    ports: &mut PortTable,
    problems: &mut Problems,
) -> Option<App> {
    let name = a.name.value.clone();
    let runtime = cx.runtime(a);
    check_app_keywords(cx, a, problems);
    let health = a
        .health
        .as_ref()
        .map(|h| health(h, a.port.as_ref().map_or(0, |p| p.value), problems));
    let app_hosts = app_hosts(cx, a, problems);
    check_remote_hosts(cx, a, &app_hosts, problems);
    claim_host_ports(a, &app_hosts, ports, problems);

    let entry = entry(a, problems);
    let selector = names::selector(&cx.spec.project.value, &name);
    let colors = colors(cx, a, &app_hosts, entry.port);
    let bind = shared_bind(cx.hosts, &app_hosts);

    let drain_ms = a.drain.as_ref().map_or(DRAIN_MS, |d| d.value.0);
    let default_watch = if runtime == Runtime::Swarm {
        SWARM_WATCH_MS
    } else {
        WATCH_MS
    };
    let image = a
        .image
        .as_ref()
        .map(|i| i.value.clone())
        .unwrap_or_default();
    // The app and its sidecars share each color's compose file: their
    // secrets are numbered across them.
    let mut next_secret = a.secrets.len();
    let sidecars: Vec<Sidecar> = a
        .sidecars
        .iter()
        .map(|s| {
            let planned = sidecar(s, next_secret);
            next_secret += s.secrets.len();
            planned
        })
        .collect();
    let own_secrets = secrets(&a.secrets, 0, &name);
    let all_secrets = own_secrets
        .iter()
        .chain(sidecars.iter().flat_map(|s| &s.secrets))
        .cloned()
        .collect();
    let image_ref = pinned(&image);
    let (version_images, fixed_images) = images(runtime, &image, image_ref.as_ref(), &sidecars);
    Some(App {
        runtime,
        image,
        image_ref,
        version_images,
        tag: a.tag.clone().unwrap_or_else(|| TAG.into()),
        port: a.port.as_ref().map_or(0, |p| p.value),
        hosts: app_hosts,
        env: a.env.clone(),
        env_files: a.env_files.clone(),
        secrets: own_secrets,
        all_secrets,
        volumes: volumes(&a.volumes),
        shared_volumes: shared_volumes(a),
        memory: a.limits.memory.clone(),
        cpus: a.limits.cpus.map(|c| c.to_string()),
        command: a.command.clone(),
        health: health?,
        replicas: a.replicas.as_ref().map_or(REPLICAS, |r| r.value),
        placement: a
            .placement
            .iter()
            .map(|(label, value)| format!("node.labels.{label} == {value}"))
            .collect(),
        drain_ms,
        drain_secs: drain_ms.div_ceil(1000),
        drain_text: durations::text(a.drain.as_ref(), DRAIN_MS),
        keep_previous: a.keep_previous.unwrap_or(KEEP_PREVIOUS),
        start: a
            .start
            .as_ref()
            .map(|s| argv(problems, s))
            .unwrap_or_default(),
        workdir: a.workdir.clone(),
        user: a.user.as_ref().map(|u| u.value.clone()),
        verify: a.verify.as_ref().map(|v| v.value.clone()),
        watch_ms: a.watch.as_ref().map_or(default_watch, |w| w.value.0),
        watch_text: durations::text(a.watch.as_ref(), default_watch),
        parallel: a.parallel.as_ref().map_or(PARALLEL_ALL, |p| p.value),
        fixed_images,
        sidecars,
        entry_service: entry.service,
        entry_port: entry.port,
        verify_var: names::verify_var(&selector),
        bind,
        selector,
        colors,
        name,
    })
}

/// The hosts app `a` runs on: those it names (each checked), else the
/// default ones.
fn app_hosts(cx: &PlanContext, a: &AppSpec, problems: &mut Problems) -> Vec<String> {
    let name = &a.name.value;
    let app_hosts: Vec<String> = if a.hosts.is_empty() {
        cx.default_hosts.to_vec()
    } else {
        a.hosts
            .iter()
            .filter(|h| {
                let known = cx.hosts.iter().any(|k| k.name == h.value);
                if !known {
                    problems.push(unknown_host(h, cx.hosts));
                }
                known
            })
            .map(|h| h.value.clone())
            .collect()
    };
    if app_hosts.is_empty() {
        problems.push(
            SpecError::new(
                a.name.span,
                format!("app `{name}` runs on no host"),
                "no host",
            )
            .help("list its hosts with `hosts \"was1\"`"),
        );
    }
    app_hosts
}

/// What a remote host rules out: secret files its engine cannot read (of
/// the app and its sidecars), and the process runtime, which runs on this
/// machine only. A process has no container for a secret file at all.
fn check_remote_hosts(
    cx: &PlanContext,
    a: &AppSpec,
    app_hosts: &[String],
    problems: &mut Problems,
) {
    let runtime = cx.runtime(a);
    let remote_host = app_hosts.iter().find(|h| !host_by_name(cx.hosts, h).local);
    if runtime == Runtime::Process {
        refuse_files(&a.secrets, "process", "process runtime", problems);
    } else if runtime == Runtime::Compose {
        // A swarm secret is made by the docker CLI from the file on this
        // machine, wherever the manager is.
        let remote = remote_engine(cx.spec, remote_host.map(String::as_str));
        for list in std::iter::once(&a.secrets).chain(a.sidecars.iter().map(|s| &s.secrets)) {
            check_files(list, remote.as_deref(), problems);
        }
    }
    if runtime == Runtime::Process {
        if let Some(remote) = remote_host {
            problems.push(
                SpecError::new(a.runtime.span, format!("the process runtime runs on the local machine only; host `{remote}` is remote"), "process runtime")
                    .help("run deploy.sh on that host, or use runtime \"compose\" for remote hosts"),
            );
        }
    }
}

/// Claims both colors' host ports on each of the app's hosts.
fn claim_host_ports(
    a: &AppSpec,
    app_hosts: &[String],
    ports: &mut PortTable,
    problems: &mut Problems,
) {
    let name = &a.name.value;
    if let Some(hp) = &a.host_ports {
        for host in app_hosts {
            ports.claim(
                problems,
                host,
                hp.value.0,
                format!("app `{name}` (blue)"),
                hp.span,
            );
            ports.claim(
                problems,
                host,
                hp.value.1,
                format!("app `{name}` (green)"),
                hp.span,
            );
        }
    }
}

/// The images of an app and its sidecars: those tagged with the deploy's
/// version, and those fixed by a digest or their own tag, each once.
fn images(
    runtime: Runtime,
    image: &str,
    image_ref: Option<&String>,
    sidecars: &[Sidecar],
) -> (Vec<String>, Vec<String>) {
    let mut version_images: Vec<String> = Vec::new();
    if runtime != Runtime::Process && image_ref.is_none() {
        version_images.push(image.to_string());
    }
    for s in sidecars.iter().filter(|s| s.image_ref.is_none()) {
        if !version_images.contains(&s.image) {
            version_images.push(s.image.clone());
        }
    }
    let mut fixed_images: Vec<String> = Vec::new();
    for image in image_ref
        .into_iter()
        .chain(sidecars.iter().filter_map(|s| s.image_ref.as_ref()))
    {
        if !fixed_images.contains(image) {
            fixed_images.push(image.clone());
        }
    }
    (version_images, fixed_images)
}
