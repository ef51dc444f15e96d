//! The proxy's routes: which path goes to which app, each app reached.

use super::model::{App, Route};
use crate::diagnostic::{twice, Problems, SpecError};
use crate::spec::Spec;

/// The routes as written, or `/` to the only app; reports repeated paths,
/// unknown apps and apps that get no traffic.
pub(super) fn routes(spec: &Spec, apps: &[App], problems: &mut Problems) -> Vec<Route> {
    let p = spec.proxy.as_ref();
    let written = p.map(|p| p.routes.as_slice()).unwrap_or_default();
    let mut routes: Vec<Route> = Vec::new();
    for (i, r) in written.iter().enumerate() {
        if let Some(first) = written[..i].iter().find(|o| o.path.value == r.path.value) {
            problems.push(twice(
                &format!("route `{}`", r.path.value),
                "given",
                r.path.span,
                first.path.span,
            ));
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
    routes
}
