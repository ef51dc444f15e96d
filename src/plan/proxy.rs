//! The proxy: the nginx in front of the colors, where it runs and what it
//! listens on.

use super::context::PlanContext;
use super::defaults::{LISTEN_PORT, NJS_MODULE, PROXY_CONF_DIR, PROXY_IMAGE, QUICK_CONNECT};
use super::hosts::unknown_host;
use super::model::{App, Host, Listen, Proxy, ProxyMode};
use super::names;
use super::ports::PortTable;
use super::routes::routes;
use crate::diagnostic::{Problems, SpecError};
use crate::spec::Spec;

/// The proxy in front of the apps, run by `host`: its listens (claimed in
/// `ports`), TLS, routes and the conf names it installs.
pub(super) fn proxy(
    cx: &PlanContext,
    apps: &[App],
    host: Host,
    ports: &mut PortTable,
    problems: &mut Problems,
) -> Proxy {
    let (spec, mode) = (cx.spec, cx.proxy_mode);
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
            LISTEN_PORT,
            "the proxy".into(),
            p.map_or(spec.top, |p| p.span),
        );
        listen.push(Listen {
            value: LISTEN_PORT.to_string(),
            port: LISTEN_PORT,
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

    let routes = routes(spec, apps, problems);

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
        maintenance_vars: names::maintenance_vars(project),
        mode,
        host,
        image: match mode {
            ProxyMode::Compose => p
                .and_then(|p| p.image.as_ref())
                .map_or(PROXY_IMAGE.to_string(), |i| i.value.clone()),
            _ => String::new(),
        },
        compose_project: format!("{project}-proxy"),
        njs_module: NJS_MODULE.to_string(),
        listen,
        server_names: p.map(|p| p.server_names.clone()).unwrap_or_default(),
        tls,
        trusted_proxies: p.map(|p| p.trusted_proxies.clone()).unwrap_or_default(),
        conf_dir: p
            .and_then(|p| p.conf_dir.as_ref())
            .map_or(PROXY_CONF_DIR.to_string(), |d| d.value.clone()),
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

/// The host nginx runs on: the `on` host of a remote proxy, else the
/// local host (or the first, when none is local).
pub(super) fn proxy_host(
    spec: &Spec,
    hosts: &[Host],
    mode: ProxyMode,
    problems: &mut Problems,
) -> Host {
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

/// A compose proxy can only front apps on its own host: reports the first
/// app that runs elsewhere.
pub(super) fn check_compose_reach(
    spec: &Spec,
    apps: &[App],
    proxy: &Proxy,
    problems: &mut Problems,
) {
    if proxy.mode != ProxyMode::Compose {
        return;
    }
    // An app elsewhere than the proxy's host (several hosts in use means there is one).
    let elsewhere = apps
        .iter()
        .find(|a| a.hosts.iter().any(|h| *h != proxy.host.name));
    let Some(app) = elsewhere else {
        return;
    };
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
        Some(p) => SpecError::new(p.span, message, "proxy in compose mode").also(app_span, runs_on),
        None => SpecError::new(app_span, message, runs_on),
    };
    problems.push(error.help(format!(
        "nginx as a compose service (the default mode) runs on host `{}` only; with several hosts, use proxy {{ mode \"remote\"; on \"lb\" }} or mode \"host\"",
        proxy.host.name
    )));
}
