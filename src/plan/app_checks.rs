//! What an app must say, and must not, for its runtime and for where its
//! proxy and engine run: each missing or misplaced keyword is reported.

use miette::SourceSpan;

use super::context::PlanContext;
use super::model::{ProxyMode, Runtime};
use crate::diagnostic::{Problems, SpecError};
use crate::spec::AppSpec;

/// Reports the keywords `a` lacks or should not have. Keywords written but
/// invalid were reported by the decoder and are not called missing here.
pub(super) fn check_app_keywords(cx: &PlanContext, a: &AppSpec, problems: &mut Problems) {
    let name = &a.name.value;
    let runtime = cx.runtime(a);
    let written = |what: &str| a.written_at(what).is_some();
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
        Runtime::Compose | Runtime::Swarm => {
            let word = if runtime == Runtime::Swarm {
                "swarm"
            } else {
                "compose"
            };
            if !written("image") {
                problems.push(missing("image", "image \"registry.example.com/team/web\""));
            }
            if !written("port") {
                problems.push(missing("port", "port 8080"));
            }
            if let Some(start) = &a.start {
                problems.push(misplaced(start.span, "start", word).help(format!(
                    "`start` is for runtime \"process\"; {word} apps run their image"
                )));
            }
            if let Some(span) = a.written_at("workdir") {
                problems.push(misplaced(span, "workdir", word).help(format!(
                    "a {word} app runs in its image's working directory: remove `workdir`"
                )));
            }
            if let Some(user) = &a.user {
                problems.push(misplaced(user.span, "user", word).help(format!(
                    "a {word} app runs as its image's user (USER in its Dockerfile): remove `user`"
                )));
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
            if let Some(span) = a.written_at("limits") {
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
    if !written("host-ports") && cx.proxy_mode != ProxyMode::Compose && runtime == Runtime::Compose
    {
        problems.push(missing_because(
            "host-ports",
            "host-ports blue=8081 green=8082",
            "nginx outside compose reaches each color through a host port",
        ));
    }
    if !written("host-ports") && cx.spec.docker_host.is_some() && runtime != Runtime::Swarm {
        problems.push(missing_because(
            "host-ports",
            "host-ports blue=8081 green=8082",
            "with a remote docker engine the health gate reaches each color through a host port",
        ));
    }
    if !written("health") {
        problems.push(missing_because(
            "health",
            "health \"/healthz\"",
            "the health gate decides whether the new color may take traffic",
        ));
    }
}
