//! Builds the [`Plan`] from a decoded [`Spec`], collecting every problem.

use miette::SourceSpan;

use super::durations;
use super::model::*;
use super::names;
use super::ports::PortTable;
use super::secrets::{check_files, remote_engine, secrets};
use crate::diagnostic::{Problems, SpecError};
use crate::spec::{self, AppSpec, ProxyMode, Runtime, Spanned, Spec};

/// Defaults the language names, in milliseconds.
const DEFAULT_INTERVAL_MS: u64 = 1_000;
const DEFAULT_TIMEOUT_MS: u64 = 2_000;
const DEFAULT_DEADLINE_MS: u64 = 120_000;
const DEFAULT_DRAIN_MS: u64 = 30_000;
/// A pinned nginx release, not a floating `stable` or `latest`: the same kit
/// runs the same nginx until someone changes it in review. (A digest would pin
/// it further, but one cannot be looked up without reaching a registry.)
const DEFAULT_PROXY_IMAGE: &str = "nginx:1.27.5";
const DEFAULT_CONF_DIR: &str = "/etc/nginx/conf.d";
/// nginx's connect timeout when an upstream has several servers: a dead
/// host costs a request this long before it goes to the next server
/// (nginx's own default is 60s).
const QUICK_CONNECT: &str = "2s";
/// Name of the implicit host when a spec names none.
const LOCAL: &str = "local";

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

    let mut ports = PortTable::default();
    let apps: Vec<App> = spec
        .apps
        .iter()
        .filter_map(|a| {
            app(
                spec,
                a,
                &hosts,
                &app_host_default,
                proxy_mode,
                &mut ports,
                problems,
            )
        })
        .collect();
    // All accessories share one compose file: their secrets are numbered across them.
    let mut next_secret = 0;
    let accessories: Vec<Accessory> = spec
        .accessories
        .iter()
        .filter_map(|a| {
            let acc = accessory(
                spec,
                a,
                &hosts,
                &app_host_default,
                &mut ports,
                problems,
                next_secret,
            );
            next_secret += a.secrets.len();
            acc
        })
        .collect();
    super::bind::check(spec, &hosts, &apps, &accessories, problems);
    let proxy = proxy(spec, &apps, proxy_mode, proxy_host, &mut ports, problems);
    let hooks = hooks(spec, problems);

    if proxy_mode == ProxyMode::Compose {
        // An app elsewhere than the proxy's host (several hosts in use means there is one).
        let elsewhere = apps
            .iter()
            .find(|a| a.hosts.iter().any(|h| *h != proxy.host.name));
        if let Some(app) = elsewhere {
            let message = "a compose proxy can only front apps on its own host";
            let runs_on = format!(
                "runs on {}",
                app.hosts
                    .iter()
                    .map(|h| format!("`{h}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let app_span = spec
                .apps
                .iter()
                .find(|s| s.name.value == app.name)
                .map_or(spec.top, |s| s.name.span);
            let error = match &spec.proxy {
                Some(p) => {
                    SpecError::new(p.span, message, "proxy in compose mode").also(app_span, runs_on)
                }
                None => SpecError::new(app_span, message, runs_on),
            };
            problems.push(error.help(format!(
                "nginx as a compose service (the default mode) runs on host `{}` only; with several hosts, use proxy {{ mode \"remote\"; on \"lb\" }} or mode \"host\"",
                proxy.host.name
            )));
        }
    }
    let uses_compose = apps.iter().any(|a| a.runtime == "compose") || !spec.accessories.is_empty();
    let uses_process = apps.iter().any(|a| a.runtime == "process");
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
    Some(Plan {
        generator: format!("greenlight {}", env!("CARGO_PKG_VERSION")),
        spec_file: spec_file.to_string(),
        spec_hash: spec_hash.to_string(),
        network: format!("greenlight-{project}"),
        state_dir: format!("/var/lib/greenlight/{project}"),
        project,
        hosts,
        docker_host: spec.docker_host.as_ref().map(|d| d.value.clone()),
        docker_tls_dir: spec.docker_host_tls_dir.clone(),
        docker_insecure: spec.docker_host_insecure,
        apps,
        accessories,
        proxy,
        hooks,
        uses_compose,
        uses_process,
        uses_ssh,
        image_source: if spec.no_registry { "send" } else { "pull" },
        lock_host,
        host_accessories,
    })
}

/// Where the stack's deploy lock lives (see [`Plan::lock_host`]): on a
/// machine every deploy touches, so that two control machines exclude each
/// other.
fn lock_host(hosts: &[Host], apps: &[App], proxy: &Proxy) -> String {
    if proxy.mode == "remote" && !proxy.host.local {
        return proxy.host.name.clone();
    }
    hosts
        .iter()
        .find(|h| !h.local && apps.iter().any(|a| a.hosts.contains(&h.name)))
        .map_or_else(String::new, |h| h.name.clone())
}

/// The accessories of each host that runs some, in host order.
fn host_accessories(hosts: &[Host], accessories: &[Accessory]) -> Vec<HostAccessories> {
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

fn host_by_name<'a>(hosts: &'a [Host], name: &str) -> &'a Host {
    hosts.iter().find(|h| h.name == name).unwrap_or(&hosts[0])
}

/// Apps, accessories and sidecars share one namespace: compose service names
/// on the stack network, where docker's DNS answers a name with every
/// container that has it.
fn check_unique_names(spec: &Spec, problems: &mut Problems) {
    // Each name with its owner: the app's index for an app and its sidecars,
    // None for an accessory. Clashes inside one app are reported with the
    // app's sidecars.
    let mut seen: Vec<(&Spanned<String>, Option<usize>)> = Vec::new();
    let names = spec
        .apps
        .iter()
        .enumerate()
        .flat_map(|(i, a)| {
            std::iter::once((&a.name, Some(i)))
                .chain(a.sidecars.iter().map(move |s| (&s.name, Some(i))))
        })
        .chain(spec.accessories.iter().map(|a| (&a.name, None)));
    for (name, owner) in names {
        match seen.iter().find(|(n, _)| n.value == name.value) {
            Some((first, first_owner)) if owner.is_none() || *first_owner != owner => {
                problems.push(
                    SpecError::new(
                        name.span,
                        format!("the name `{}` is used twice", name.value),
                        "used again here",
                    )
                    .also(first.span, "first used here")
                    .help("apps, accessories and sidecars share the names of the stack network: each needs its own"),
                );
            }
            Some(_) => {}
            None => seen.push((name, owner)),
        }
    }
    for (i, host) in spec.hosts.iter().enumerate() {
        if let Some(first) = spec.hosts[..i]
            .iter()
            .find(|h| h.name.value == host.name.value)
        {
            problems.push(
                SpecError::new(
                    host.name.span,
                    format!("host `{}` is defined twice", host.name.value),
                    "defined again here",
                )
                .also(first.name.span, "first defined here"),
            );
        }
    }
}

fn hosts(spec: &Spec, problems: &mut Problems) -> Vec<Host> {
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
            name: LOCAL.into(),
            ssh: String::new(),
            ssh_port: 22,
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
                ssh_port: h.ssh_port,
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

fn proxy_host(spec: &Spec, hosts: &[Host], mode: ProxyMode, problems: &mut Problems) -> Host {
    let proxy = spec.proxy.as_ref();
    let on = proxy.and_then(|p| p.on.as_ref());
    match (mode, on) {
        (ProxyMode::Remote, Some(on)) => match hosts.iter().find(|h| h.name == on.value) {
            Some(host) => return host.clone(),
            None => problems.push(unknown_host(on, hosts)),
        },
        (ProxyMode::Remote, None) => problems.push(
            SpecError::new(
                proxy.map_or(spec.top, |p| p.span),
                "a remote proxy needs `on`",
                "which host runs nginx?",
            )
            .help("add `on \"lb\"` naming one of the `host` nodes"),
        ),
        (_, Some(on)) => problems.push(
            SpecError::new(on.span, "`on` only applies to mode \"remote\"", "not used")
                .help("add mode \"remote\", or remove `on`"),
        ),
        _ => {}
    }
    let local = hosts.iter().find(|h| h.local).cloned();
    local.unwrap_or_else(|| hosts[0].clone())
}

fn unknown_host(name: &Spanned<String>, hosts: &[Host]) -> SpecError {
    let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
    SpecError::new(
        name.span,
        format!("unknown host `{}`", name.value),
        "no such host",
    )
    .help(crate::spec::unknown_help(&name.value, &names))
}

/// The named volumes (not host paths) among an app's and its sidecars'
/// volumes, each once, in order.
fn shared_volumes(a: &spec::AppSpec) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let all = a
        .volumes
        .iter()
        .chain(a.sidecars.iter().flat_map(|s| &s.volumes));
    for v in all {
        let name = &v.source.value;
        if !name.starts_with('/') && !name.starts_with('.') && !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

fn volumes(list: &[spec::VolumeSpec]) -> Vec<Volume> {
    list.iter()
        .map(|v| Volume {
            source: v.source.value.clone(),
            target: v.target.clone(),
            read_only: v.read_only,
        })
        .collect()
}

/// Splits a command line into words the way a shell would, without running one.
fn argv(problems: &mut Problems, command: &Spanned<String>) -> Vec<String> {
    match shell_words::split(&command.value) {
        Ok(words) if words.is_empty() => {
            problems.push(
                SpecError::new(command.span, "the command has no words", "nothing to run")
                    .help("commands are split into words like a shell does, and `#` starts a comment: give a program to run"),
            );
            Vec::new()
        }
        Ok(words) => words,
        Err(_) => {
            problems.push(
                SpecError::new(
                    command.span,
                    "the command has an unclosed quote",
                    "unbalanced quote",
                )
                .help("commands are split into words like a shell does; close every ' and \""),
            );
            Vec::new()
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn app(
    spec: &Spec,
    a: &AppSpec,
    hosts: &[Host],
    default_hosts: &[String],
    proxy_mode: ProxyMode,
    ports: &mut PortTable,
    problems: &mut Problems,
) -> Option<App> {
    let name = a.name.value.clone();
    let project = &spec.project.value;
    let runtime = a.runtime.value;
    let written_at = |what: &str| {
        a.written
            .iter()
            .find(|(name, _)| name == what)
            .map(|(_, span)| *span)
    };
    let written = |what: &str| written_at(what).is_some();
    let missing_because = |what: &str, example: &str, why: &str| {
        SpecError::new(
            a.name.span,
            format!("app `{name}` has no `{what}`"),
            format!("`{what}` missing in this app"),
        )
        .help(format!("{why}: add {example}"))
    };
    let missing = |what: &str, example: &str| {
        SpecError::new(
            a.name.span,
            format!("app `{name}` has no `{what}`"),
            format!("`{what}` missing in this app"),
        )
        .help(format!("add: {example}"))
    };
    let misplaced = |span: SourceSpan, what: &str, runtime: &str| {
        SpecError::new(
            span,
            format!("`{what}` does not apply to the {runtime} runtime"),
            "not used by this runtime",
        )
    };
    match runtime {
        Runtime::Compose => {
            if !written("image") {
                problems.push(missing("image", "image \"registry.example.com/team/web\""));
            }
            if !written("port") {
                problems.push(missing("port", "port 8080"));
            }
            if let Some(start) = &a.start {
                problems.push(
                    misplaced(start.span, "start", "compose")
                        .help("`start` is for runtime \"process\"; compose apps run their image"),
                );
            }
            if let Some(span) = written_at("workdir") {
                problems.push(
                    misplaced(span, "workdir", "compose").help(
                        "a compose app runs in its image's working directory: remove `workdir`",
                    ),
                );
            }
            if let Some(user) = &a.user {
                problems.push(misplaced(user.span, "user", "compose").help(
                    "a compose app runs as its image's user (USER in its Dockerfile): remove `user`",
                ));
            }
        }
        Runtime::Process => {
            if !written("start") {
                problems.push(missing(
                    "start",
                    "start \"java -Dserver.port={port} -jar /opt/app/{version}/app.jar\"",
                ));
            }
            if !written("host-ports") {
                problems.push(missing_because(
                    "host-ports",
                    "host-ports blue=4000 green=4001",
                    "a process listens on its color's host port, given to it as {port}",
                ));
            }
            if let Some(image) = &a.image {
                problems.push(
                    misplaced(image.span, "image", "process")
                        .help("remove `image`, or use runtime \"compose\""),
                );
            }
            if let Some(parallel) = &a.parallel {
                problems.push(
                    SpecError::new(parallel.span, "`parallel` does not apply to a process app (it runs on this machine only)", "process runtime")
                        .help("a process app runs on the machine that runs deploy.sh, one host: remove `parallel`"),
                );
            }
            if let Some(span) = written_at("limits") {
                problems.push(misplaced(span, "limits", "process").help(
                    "deploy.sh starts a process as it is, without cgroup limits: remove `limits`, or limit it in `start` (e.g. java -Xmx700m)",
                ));
            }
            if !a.sidecars.is_empty()
                || !a.env_files.is_empty()
                || !a.volumes.is_empty()
                || !a.command.is_empty()
            {
                problems.push(
                    SpecError::new(
                        a.runtime.span,
                        "sidecar, env-file, volume and command need runtime \"compose\"",
                        "process runtime",
                    )
                    .help("a process app takes `start`, `workdir`, `user`, `env` and `host-ports`"),
                );
            }
        }
    }
    if !written("host-ports") && proxy_mode != ProxyMode::Compose && runtime == Runtime::Compose {
        problems.push(missing_because(
            "host-ports",
            "host-ports blue=8081 green=8082",
            "nginx outside compose reaches each color through a host port",
        ));
    }
    if !written("host-ports") && spec.docker_host.is_some() {
        problems.push(missing_because(
            "host-ports",
            "host-ports blue=8081 green=8082",
            "with a remote docker engine the health gate reaches each color through a host port",
        ));
    }
    let health = match &a.health {
        Some(h) => Some(health(h, problems)),
        None if written("health") => None,
        None => {
            problems.push(missing_because(
                "health",
                "health \"/healthz\"",
                "the health gate decides whether the new color may take traffic",
            ));
            None
        }
    };

    let app_hosts: Vec<String> = if a.hosts.is_empty() {
        default_hosts.to_vec()
    } else {
        a.hosts
            .iter()
            .filter(|h| {
                let known = hosts.iter().any(|k| k.name == h.value);
                if !known {
                    problems.push(unknown_host(h, hosts));
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
    let remote_host = app_hosts.iter().find(|h| !host_by_name(hosts, h).local);
    check_files(
        &a.secrets,
        runtime == Runtime::Process,
        remote_engine(spec, remote_host.map(String::as_str)).as_deref(),
        problems,
    );
    if runtime == Runtime::Process {
        if let Some(remote) = remote_host {
            problems.push(
                SpecError::new(a.runtime.span, format!("the process runtime runs on the local machine only; host `{remote}` is remote"), "process runtime")
                    .help("run deploy.sh on that host, or use runtime \"compose\" for remote hosts"),
            );
        }
    }
    if let Some(hp) = &a.host_ports {
        for host in &app_hosts {
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

    let entries: Vec<&spec::SidecarSpec> = a.sidecars.iter().filter(|s| s.entry).collect();
    if entries.len() > 1 {
        problems.push(
            SpecError::new(
                entries[1].name.span,
                "only one sidecar can be the entry",
                "second entry",
            )
            .also(entries[0].name.span, "first entry"),
        );
    }
    for (i, s) in a.sidecars.iter().enumerate() {
        if s.name.value == name || a.sidecars[..i].iter().any(|o| o.name.value == s.name.value) {
            problems.push(SpecError::new(
                s.name.span,
                format!(
                    "sidecar name `{}` is already used in app `{name}`",
                    s.name.value
                ),
                "duplicate",
            ));
        }
    }
    let entry = entries.first();
    if let Some(entry) = entry {
        if entry.port.is_none() {
            problems.push(
                SpecError::new(
                    entry.name.span,
                    format!("entry sidecar `{}` has no `port`", entry.name.value),
                    "missing port",
                )
                .help("add: port 80"),
            );
        }
    }
    let (entry_service, entry_port) = match entry {
        Some(s) => (s.name.value.clone(), s.port.as_ref().map_or(0, |p| p.value)),
        None => (name.clone(), a.port.as_ref().map_or(0, |p| p.value)),
    };

    let selector = names::selector(project, &name);
    let servers_of = |i: usize| -> Vec<String> {
        let host_port = a
            .host_ports
            .as_ref()
            .map(|hp| if i == 0 { hp.value.0 } else { hp.value.1 });
        match (proxy_mode, runtime, host_port) {
            (ProxyMode::Compose, Runtime::Compose, _) => {
                vec![format!("{name}-{}:{entry_port}", COLORS[i])]
            }
            (_, _, Some(port)) => app_hosts
                .iter()
                .map(|h| format!("{}:{port}", nginx_addr(host_by_name(hosts, h), proxy_mode)))
                .collect(),
            _ => Vec::new(),
        }
    };
    let binds: Vec<Option<&String>> = app_hosts
        .iter()
        .map(|h| host_by_name(hosts, h).bind.as_ref())
        .collect();
    let bind = match binds.first() {
        Some(Some(first)) if binds.iter().all(|b| *b == Some(*first)) => Some((*first).clone()),
        _ => None,
    };
    let colors = COLORS
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
            let upstream = names::upstream(project, &name, color);
            let route = match (proxy_mode, runtime) {
                (ProxyMode::Compose, Runtime::Compose) => servers[0].clone(),
                _ => upstream.clone(),
            };
            let backup_servers = if proxy_mode == ProxyMode::Compose {
                Vec::new()
            } else {
                servers_of(1 - i)
            };
            let probe_bases = match host_port {
                Some(port) => app_hosts
                    .iter()
                    .map(|h| format!("http://{}:{port}", host_by_name(hosts, h).addr))
                    .collect(),
                None => Vec::new(),
            };
            Color {
                name: color,
                host_port,
                published,
                compose_project: format!("{project}-{name}-{color}"),
                compose_file: format!("compose/{name}-{color}.yml"),
                upstream,
                route,
                upstream_file: format!("nginx/{name}-{color}.upstream.conf"),
                select_file: format!("nginx/{name}-{color}.select.conf"),
                alias,
                several_servers: servers.len() > 1,
                servers,
                backup_servers,
                probe_bases,
            }
        })
        .collect();

    let drain_ms = a.drain.as_ref().map_or(DEFAULT_DRAIN_MS, |d| d.value.0);
    let image = a
        .image
        .as_ref()
        .map(|i| i.value.clone())
        .unwrap_or_default();
    let sidecars: Vec<Sidecar> = a.sidecars.iter().map(sidecar).collect();
    let image_ref = pinned(&image);
    let mut version_images: Vec<String> = Vec::new();
    if runtime == Runtime::Compose && image_ref.is_none() {
        version_images.push(image.clone());
    }
    for s in sidecars.iter().filter(|s| s.image_ref.is_none()) {
        if !version_images.contains(&s.image) {
            version_images.push(s.image.clone());
        }
    }
    let mut fixed_images: Vec<String> = Vec::new();
    for image in image_ref
        .iter()
        .chain(sidecars.iter().filter_map(|s| s.image_ref.as_ref()))
    {
        if !fixed_images.contains(image) {
            fixed_images.push(image.clone());
        }
    }
    Some(App {
        runtime: match runtime {
            Runtime::Compose => "compose",
            Runtime::Process => "process",
        },
        image,
        image_ref,
        version_images,
        tag: a.tag.clone().unwrap_or_else(|| "latest".into()),
        port: a.port.as_ref().map_or(0, |p| p.value),
        hosts: app_hosts,
        env: a.env.clone(),
        env_files: a.env_files.clone(),
        secrets: secrets(&a.secrets, 0, &name),
        volumes: volumes(&a.volumes),
        shared_volumes: shared_volumes(a),
        memory: a.limits.memory.clone(),
        cpus: a.limits.cpus.map(|c| c.to_string()),
        command: a.command.clone(),
        health: health?,
        drain_ms,
        drain_secs: drain_ms.div_ceil(1000),
        drain_text: durations::text(a.drain.as_ref(), DEFAULT_DRAIN_MS),
        keep_previous: a.keep_previous.unwrap_or(true),
        start: a
            .start
            .as_ref()
            .map(|s| argv(problems, s))
            .unwrap_or_default(),
        workdir: a.workdir.clone(),
        user: a.user.as_ref().map(|u| u.value.clone()),
        verify: a.verify.as_ref().map(|v| v.value.clone()),
        watch_ms: a.watch.as_ref().map_or(0, |w| w.value.0),
        watch_text: durations::text(a.watch.as_ref(), 0),
        parallel: a.parallel.as_ref().map_or(0, |p| p.value),
        fixed_images,
        sidecars,
        entry_service,
        entry_port,
        verify_var: names::verify_var(&selector),
        bind,
        selector,
        colors,
        name,
    })
}

/// The image reference as written when the spec pins it by digest.
fn pinned(image: &str) -> Option<String> {
    spec::values::split_digest(image)
        .1
        .map(|_| image.to_string())
}

fn sidecar(s: &spec::SidecarSpec) -> Sidecar {
    let image = s
        .image
        .as_ref()
        .map(|i| i.value.clone())
        .unwrap_or_default();
    let image_ref = pinned(&image).or_else(|| s.tag.as_ref().map(|t| format!("{image}:{t}")));
    Sidecar {
        name: s.name.value.clone(),
        image_ref,
        image,
        port: s.port.as_ref().map(|p| p.value),
        volumes_from_app: s.volumes_from_app,
        env: s.env.clone(),
        volumes: volumes(&s.volumes),
        command: s.command.clone(),
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

fn health(h: &spec::HealthSpec, problems: &mut Problems) -> Health {
    let interval_ms = h
        .interval
        .as_ref()
        .map_or(DEFAULT_INTERVAL_MS, |d| d.value.0);
    let timeout_ms = h.timeout.as_ref().map_or(DEFAULT_TIMEOUT_MS, |d| d.value.0);
    let deadline_ms = h
        .deadline
        .as_ref()
        .map_or(DEFAULT_DEADLINE_MS, |d| d.value.0);
    for (value, what) in [(&h.interval, "interval"), (&h.timeout, "timeout")] {
        if let Some(v) = value {
            if v.value.0 < 10 {
                problems.push(
                    SpecError::new(
                        v.span,
                        format!("a health {what} under 10ms cannot be honoured"),
                        "too short",
                    )
                    .help("use at least \"10ms\""),
                );
            }
        }
    }
    if let Some(deadline) = &h.deadline {
        if deadline.value.0 < interval_ms {
            problems.push(
                SpecError::new(deadline.span, "the health deadline is shorter than the interval", "too short")
                    .help(format!("give the gate time for at least one probe: a deadline of at least {interval_ms}ms")),
            );
        }
    }
    Health {
        path: h.path.value.clone(),
        expect: h.expect.unwrap_or(0),
        interval_ms,
        timeout_ms,
        deadline_ms,
        interval_text: durations::text(h.interval.as_ref(), DEFAULT_INTERVAL_MS),
        timeout_text: durations::text(h.timeout.as_ref(), DEFAULT_TIMEOUT_MS),
        deadline_text: durations::text(h.deadline.as_ref(), DEFAULT_DEADLINE_MS),
        healthy_after: h.healthy_after.unwrap_or(1),
    }
}

fn accessory(
    spec: &Spec,
    a: &spec::AccessorySpec,
    hosts: &[Host],
    default_hosts: &[String],
    ports: &mut PortTable,
    problems: &mut Problems,
    first_secret: usize,
) -> Option<Accessory> {
    let host = match &a.on {
        Some(on) if hosts.iter().any(|h| h.name == on.value) => on.value.clone(),
        Some(on) => {
            problems.push(unknown_host(on, hosts));
            return None;
        }
        None => default_hosts
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
        false,
        remote_engine(spec, remote_host).as_deref(),
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

fn proxy(
    spec: &Spec,
    apps: &[App],
    mode: ProxyMode,
    host: Host,
    ports: &mut PortTable,
    problems: &mut Problems,
) -> Proxy {
    let p = spec.proxy.as_ref();
    let project = &spec.project.value;
    let mut listen: Vec<Listen> = Vec::new();
    for l in p.map(|p| p.listen.as_slice()).unwrap_or_default() {
        ports.claim(
            problems,
            &host.name,
            l.port.value,
            "the proxy".into(),
            l.port.span,
        );
        let value = if l.address.is_empty() {
            l.port.value.to_string()
        } else {
            format!("{}:{}", l.address, l.port.value)
        };
        listen.push(Listen {
            value,
            port: l.port.value,
            ssl: l.ssl,
            redirect: false,
        });
    }
    if listen.is_empty() {
        ports.claim(
            problems,
            &host.name,
            80,
            "the proxy".into(),
            p.map_or(spec.top, |p| p.span),
        );
        listen.push(Listen {
            value: "80".into(),
            port: 80,
            ssl: false,
            redirect: false,
        });
    }
    let tls = super::tls::tls(p, &mut listen, p.map_or(spec.top, |p| p.span), problems);
    if mode == ProxyMode::Compose {
        if let Some(conf_dir) = p.and_then(|p| p.conf_dir.as_ref()) {
            problems.push(
                SpecError::new(
                    conf_dir.span,
                    "`conf-dir` applies to mode \"host\" and \"remote\"",
                    "not used",
                )
                .help("remove it, or set mode"),
            );
        }
    } else if let Some(image) = p.and_then(|p| p.image.as_ref()) {
        problems.push(
            SpecError::new(
                image.span,
                "`image` applies to a compose proxy only",
                "not used",
            )
            .help("remove it, or use mode \"compose\""),
        );
    }

    let mut routes: Vec<Route> = Vec::new();
    let written = p.map(|p| p.routes.as_slice()).unwrap_or_default();
    for (i, r) in written.iter().enumerate() {
        if let Some(first) = written[..i].iter().find(|o| o.path.value == r.path.value) {
            problems.push(
                SpecError::new(
                    r.path.span,
                    format!("route `{}` is given twice", r.path.value),
                    "again here",
                )
                .also(first.path.span, "first here"),
            );
        }
        match apps.iter().find(|a| a.name == r.app.value) {
            Some(app) => routes.push(Route {
                path: r.path.value.clone(),
                app: app.name.clone(),
                selector: app.selector.clone(),
                verify_var: app.verify_var.clone(),
            }),
            None if spec.apps.iter().any(|a| a.name.value == r.app.value) => {}
            None => {
                let names: Vec<&str> = spec.apps.iter().map(|a| a.name.value.as_str()).collect();
                problems.push(
                    SpecError::new(
                        r.app.span,
                        format!("route to unknown app `{}`", r.app.value),
                        "no such app",
                    )
                    .help(crate::spec::unknown_help(&r.app.value, &names)),
                );
            }
        }
    }
    if written.is_empty() {
        match apps {
            [only] => routes.push(Route {
                path: "/".into(),
                app: only.name.clone(),
                selector: only.selector.clone(),
                verify_var: only.verify_var.clone(),
            }),
            [] => {}
            _ => {
                let message = "with several apps, the proxy needs a `route` for each";
                let error = match (p, spec.apps.as_slice()) {
                    (Some(p), _) => SpecError::new(p.span, message, "no routes"),
                    (None, [first, second, ..]) => {
                        SpecError::new(second.name.span, message, "a second app")
                            .also(first.name.span, "the first app")
                    }
                    (None, _) => SpecError::new(spec.top, message, "no routes"),
                };
                problems.push(error.help(
                    "add e.g. proxy { route \"/\" app=\"web\"; route \"/api\" app=\"api\" }",
                ));
            }
        }
    }
    if !written.is_empty() {
        for app in &spec.apps {
            if !written.iter().any(|r| r.app.value == app.name.value) {
                problems.push(
                    SpecError::new(
                        app.name.span,
                        format!("app `{}` has no route", app.name.value),
                        "gets no traffic",
                    )
                    .help(format!(
                        "add route \"/{}\" app=\"{}\" to `proxy`",
                        app.name.value, app.name.value
                    )),
                );
            }
        }
    }

    let local_nginx = mode == ProxyMode::Host
        || (mode == ProxyMode::Compose && host.local && spec.docker_host.is_none());
    let verify = super::verify::verify(
        &listen,
        &p.map(|p| p.server_names.clone()).unwrap_or_default(),
        &host,
        local_nginx,
    );
    Proxy {
        verify,
        verify_upstream_var: names::verify_upstream_var(project),
        mode: match mode {
            ProxyMode::Compose => "compose",
            ProxyMode::Host => "host",
            ProxyMode::Remote => "remote",
        },
        host,
        image: match mode {
            ProxyMode::Compose => p
                .and_then(|p| p.image.as_ref())
                .map_or(DEFAULT_PROXY_IMAGE.to_string(), |i| i.value.clone()),
            _ => String::new(),
        },
        compose_project: format!("{project}-proxy"),
        listen,
        server_names: p.map(|p| p.server_names.clone()).unwrap_or_default(),
        tls,
        trusted_proxies: p.map(|p| p.trusted_proxies.clone()).unwrap_or_default(),
        conf_dir: p
            .and_then(|p| p.conf_dir.as_ref())
            .map_or(DEFAULT_CONF_DIR.to_string(), |d| d.value.clone()),
        site_conf_name: names::site_conf(project),
        js_module: names::js_module(project),
        routes,
        client_max_body_size: p.and_then(|p| p.client_max_body_size.clone()),
        connect_timeout: apps
            .iter()
            .flat_map(|a| &a.colors)
            .any(|c| c.several_servers)
            .then(|| QUICK_CONNECT.to_string()),
    }
}

fn hooks(spec: &Spec, problems: &mut Problems) -> Hooks {
    let h = &spec.hooks;
    let mut split = |hook: &Option<Spanned<String>>| {
        hook.as_ref().map(|c| argv(problems, c)).unwrap_or_default()
    };
    Hooks {
        before_deploy: split(&h.before_deploy),
        after_healthy: split(&h.after_healthy),
        after_switch: split(&h.after_switch),
        on_failure: split(&h.on_failure),
    }
}
