//! `greenlight init`: a commented starter spec from flags, checked with the
//! same loader as `validate` before it is written, and written whole or not
//! at all.

use std::fs;
use std::io::Write as _;

use camino::Utf8Path;
use clap::{Args, ValueEnum};

/// What the starter spec holds: one app, `web`, and its proxy.
#[derive(Args)]
pub struct Starter {
    /// Project name (default: the current directory's name, made into a valid name).
    #[arg(long)]
    project: Option<String>,
    /// How the app runs: a container per color, a plain process per color, or a service of replicas per color on a Docker Swarm.
    #[arg(long, value_enum, default_value_t = RuntimeArg::Compose)]
    runtime: RuntimeArg,
    /// Where nginx runs: as a compose service of the stack, or the machine's own nginx.
    #[arg(long, value_enum, default_value_t = ProxyArg::Compose)]
    proxy: ProxyArg,
    /// The app's image, without a tag (compose runtime; default registry.example.com/PROJECT/web).
    #[arg(long, value_name = "REF")]
    image: Option<String>,
    /// The command that starts one color (process runtime; default a placeholder, /srv/web --port {port}).
    #[arg(long, value_name = "CMD")]
    start: Option<String>,
    /// The app's port: inside its container (compose; with --proxy host the colors get host ports N+1 and N+2), or blue's port (process; green gets N+1).
    #[arg(long, value_name = "N", default_value_t = 8080, value_parser = clap::value_parser!(u16).range(1..))]
    port: u16,
    /// The health check path the new color must answer 2xx on before the switch.
    #[arg(long, value_name = "PATH", default_value = "/healthz")]
    health: String,
}

/// The starter's paragraph on hosts, without a swarm.
const HOSTS_COMMENT: &str = r#"// Hosts: with no `host` line everything runs on the machine that runs
// deploy.sh. Add `host "NAME" address="user@10.0.0.11"` lines to deploy to
// other machines over ssh (then `hosts "NAME" …` in an app picks its hosts)."#;

/// The starter's orchestrator line and its comment, for `--runtime swarm`.
const SWARM_LINES: &str = r#"// The apps run on a Docker Swarm. deploy.sh talks to its manager: this
// machine's docker engine, or `docker-host "ssh://user@10.0.0.10"`, or the
// host `manager="NAME"` names (with a `host "NAME" address="…"` line). It
// never runs `docker swarm init`, `join` or `leave`.
orchestrator "swarm""#;

/// The comment above the health gate, without a swarm.
const HEALTH_COMMENT: &str = r#"    // The health gate: the new color must answer 2xx on this path before
    // nginx is switched to it. Also: `interval "1s"`, `timeout "2s"`,
    // `expect 200`, `healthy-after 1`."#;

/// The comment above the health gate, under a swarm.
const SWARM_HEALTH_COMMENT: &str = r#"    // The health gate: every task of the new color must pass docker's check
    // (by default curl on this path, in the task) before nginx is switched
    // to it. Also: `interval "1s"`, `timeout "2s"`, `start-period "10s"`,
    // `check "/app/healthcheck" "--quiet"` for an image without curl."#;

/// `--runtime`: the spec's `runtime` words, and `swarm` for
/// `orchestrator "swarm"`.
#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum RuntimeArg {
    Compose,
    Process,
    Swarm,
}

/// `--proxy`: the spec's proxy `mode` words this command offers (`remote`
/// needs a host, which a starter spec does not have).
#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum ProxyArg {
    Host,
    Compose,
}

/// Writes the starter spec to `path`; refuses to replace a file unless
/// `force`. Errors are whole sentences for the caller to print.
pub fn run(starter: &Starter, path: &Utf8Path, force: bool) -> Result<(), String> {
    if !force && fs::symlink_metadata(path).is_ok() {
        return Err(format!(
            "{path} already exists; pass --force to replace it, or name another file"
        ));
    }
    let text = starter.render(path)?;
    let file = path.file_name().unwrap_or(path.as_str());
    if let Err(report) = greenlight::load_text(file, text.clone()) {
        return Err(format!(
            "these flags make a spec that does not validate:\n{}",
            greenlight::diagnostic::render_plain(&report)
        ));
    }
    write_whole(path, &text).map_err(|e| format!("cannot write {path}: {e}"))
}

/// Writes `text` to a temporary file beside `path`, then renames it over
/// `path`, so that no reader ever sees half a spec.
fn write_whole(path: &Utf8Path, text: &str) -> std::io::Result<()> {
    let name = path.file_name().unwrap_or("spec");
    let temp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.sync_all()
        })
        .and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

impl Starter {
    /// The spec text, commented line by line; `path` is where it goes.
    fn render(&self, path: &Utf8Path) -> Result<String, String> {
        let project = match &self.project {
            Some(name) => name.clone(),
            None => default_project()?,
        };
        let swarm = self.runtime == RuntimeArg::Swarm;
        let app = match self.runtime {
            RuntimeArg::Compose | RuntimeArg::Swarm => self.compose_app(&project)?,
            RuntimeArg::Process => self.process_app()?,
        };
        let health = kdl_string(&self.health);
        let (mode, mode_comment) = match self.proxy {
            ProxyArg::Compose if swarm => (
                "compose",
                "\"compose\": nginx runs as a swarm service of its own, one task on the\n    // manager publishing the listen ports there (the only mode under a swarm).",
            ),
            ProxyArg::Host if swarm => {
                return Err("--proxy host is not offered with --runtime swarm: nginx runs as a swarm service (--proxy compose)".into())
            }
            ProxyArg::Compose => (
                "compose",
                "\"compose\": nginx runs as a compose service of this stack (`image`\n    // \"nginx:1.27.5\" by default); \"host\" uses the machine's own nginx.",
            ),
            ProxyArg::Host => (
                "host",
                "\"host\": the nginx of the machine that runs deploy.sh, with a site conf\n    // in `conf-dir` (default /etc/nginx/conf.d); \"remote\" with `on \"HOST\"`\n    // uses another host's.",
            ),
        };
        Ok(format!(
            r#"// A greenlight spec, written by `greenlight init`. The language is KDL v2;
// every keyword, its default and what else may go where is in greenlight's
// docs/spec.md. `greenlight validate {file}` checks this file and
// `greenlight build {file}` writes its deploy kit (deploy/{project}/ beside it).

// The spec format version; it must come first.
greenlight 1

// Names the stack: its compose projects, containers, the docker network
// greenlight-{project} and the state directory /var/lib/greenlight/{project}.
// Add `output "DIR"` to write the kit somewhere else than deploy/{project}.
project {project_kdl}

{hosts}

// An app deployed blue/green: a deploy starts the idle color with the new
// version, waits for its health gate, switches nginx to it, then drains and
// stops the old color. Add more `app` blocks for more apps, and `accessory`
// blocks for shared services (a database, a cache) that are never colored.
app "web" {{
{app}

{health_comment}
    health {health} {{
        // The deploy aborts when the gate has not passed by then, and the
        // live color keeps serving.
        deadline "120s"
    }}
    // On stop: SIGTERM, then this long for in-flight requests before SIGKILL.
    drain "30s"
    // Also: `verify "/"` (asked through nginx after the switch), `watch "30s"`
    // (the new color must stay healthy this long), `keep-previous #false`.
}}

// The nginx in front of the apps.
proxy {{
    // {mode_comment}
    mode "{mode}"
    // The public port. For https add `listen 443 ssl=#true` and
    // `tls certificate="/etc/ssl/…/fullchain.pem" key="/etc/ssl/…/privkey.pem"`.
    listen 80
    // Also: `server-name "example.com"` to answer one name, and
    // `route "/api" app="api"` per app (the only app gets "/" by default).
}}

// Commands around a deploy, run on the machine that runs deploy.sh; no shell
// runs them (put pipes and variables in a script). Uncomment what you need:
// hooks {{
//     before-deploy "./bin/migrate"               // failure aborts before anything starts
//     after-healthy "./bin/smoke-test {{url}}"      // against the new color, before the switch
//     after-switch "./bin/notify deployed {{version}}"
//     on-failure "./bin/notify failed {{version}}"
// }}

// A push of a tag to GitHub, signed with a shared secret, deploys that tag:
// `./deploy.sh webhook` runs adnanh/webhook (Debian's `webhook`). Uncomment:
// webhook {{
//     secret-file "/etc/greenlight/webhook-secret"  // openssl rand -hex 32; never in the kit
//     tag-prefix "v"                                 // only tags such as v1.2.3 deploy
// }}
"#,
            file = path.as_str().escape_debug(),
            project_kdl = kdl_string(&project),
            hosts = if swarm { SWARM_LINES } else { HOSTS_COMMENT },
            health_comment = if swarm {
                SWARM_HEALTH_COMMENT
            } else {
                HEALTH_COMMENT
            },
        ))
    }

    /// The lines of a compose app: its image and port, and host ports when
    /// the host's nginx must reach it.
    fn compose_app(&self, project: &str) -> Result<String, String> {
        if self.start.is_some() {
            return Err(
                "--start is for --runtime process; a compose app runs its image's command".into(),
            );
        }
        let image = self
            .image
            .clone()
            .unwrap_or_else(|| format!("registry.example.com/{project}/web"));
        let mut lines = format!(
            r#"    // The image, without a tag: each deploy is given its version
    // (`./deploy.sh deploy v42`); `tag "latest"` is the one deployed without.
    image {image}
    // Where the app listens inside its container.
    port {port}
"#,
            image = kdl_string(&image),
            port = self.port,
        );
        if self.runtime == RuntimeArg::Swarm {
            lines.push_str(
                r#"    // The tasks of each color, spread over the swarm's nodes.
    replicas 2
    // Also: `env "KEY" "VALUE"`, `env-file ".env"`, `secret "KEY" from-file="/etc/…" as="file"`
    // (a swarm secret), `volume "SRC" "TARGET"`, `limits memory="512m" cpus=1`,
    // `command "ARG" …`, `placement "zone=a"` (node labels)."#,
            );
            return Ok(lines);
        }
        if self.proxy == ProxyArg::Host {
            let (blue, green) = (self.port_after(1)?, self.port_after(2)?);
            lines.push_str(&format!(
                r#"    // The host port of each color, published on 127.0.0.1, where the
    // host's nginx and the health gate reach it.
    host-ports blue={blue} green={green}
"#
            ));
        }
        lines.push_str(
            r#"    // Also: `env "KEY" "VALUE"`, `env-file ".env"`, `secret "KEY" from-file="/etc/…"`,
    // `volume "SRC" "TARGET"`, `limits memory="512m" cpus=1`, `command "ARG" …`,
    // `sidecar "NAME" { … }`, `hosts "NAME" …`."#,
        );
        Ok(lines)
    }

    /// The lines of a process app: its start command and each color's port.
    fn process_app(&self) -> Result<String, String> {
        if self.image.is_some() {
            return Err("--image is for --runtime compose; a process app has no image".into());
        }
        let (start, replace) = match &self.start {
            Some(command) => (command.as_str(), ""),
            None => (
                "/srv/web --port {port}",
                "\n    // This one is a placeholder: replace it with your app's command.",
            ),
        };
        let green = self.port_after(1)?;
        Ok(format!(
            r#"    // No container: each color is a process that deploy.sh starts.
    runtime "process"
    // The command that starts one color, split into words as a shell would
    // but run without one: {{port}} is the color's port, {{version}} the version
    // deployed, {{color}} blue or green.{replace}
    start {start}
    // The port of each color, given to its process as {{port}}.
    host-ports blue={blue} green={green}
    // Also: `workdir "/srv/web"`, `user "web"`, `env "KEY" "VALUE"`,
    // `secret "KEY" from-file="/etc/…"`."#,
            start = kdl_string(start),
            blue = self.port,
        ))
    }

    /// `--port` plus `step`, for the colors' ports; none past 65535.
    fn port_after(&self, step: u16) -> Result<u16, String> {
        self.port.checked_add(step).ok_or_else(|| {
            format!(
                "--port {} leaves no room for the colors' ports (up to {} + {step}); choose a lower port",
                self.port, self.port
            )
        })
    }
}

/// The current directory's name made into a valid project name: lowercase,
/// every run of other characters one `-`, starting with a letter, at most
/// 40 characters; `app` when nothing is left.
fn default_project() -> Result<String, String> {
    let dir = std::env::current_dir()
        .map_err(|e| format!("cannot read the current directory ({e}); pass --project NAME"))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(as_name(&name))
}

/// See [`default_project`].
fn as_name(raw: &str) -> String {
    let mut name = String::new();
    for c in raw.chars().map(|c| c.to_ascii_lowercase()) {
        if c.is_ascii_lowercase() || (c.is_ascii_digit() && !name.is_empty()) {
            name.push(c);
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    name.truncate(40);
    let name = name.trim_end_matches('-');
    if name.is_empty() {
        "app".into()
    } else {
        name.into()
    }
}

/// `value` as a quoted KDL v2 string.
fn kdl_string(value: &str) -> String {
    let mut out = String::from('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_names_become_valid_names() {
        assert_eq!(as_name("My Shop"), "my-shop");
        assert_eq!(as_name("2024_web--api-"), "web-api");
        assert_eq!(as_name("---"), "app");
        assert_eq!(as_name(&"a".repeat(50)).len(), 40);
        assert_eq!(as_name(&format!("{}-y", "x".repeat(39))), "x".repeat(39));
    }

    #[test]
    fn strings_are_quoted_for_kdl() {
        assert_eq!(kdl_string(r#"a "b" \ c"#), r#""a \"b\" \\ c""#);
        assert_eq!(kdl_string("x\ny"), r#""x\ny""#);
    }
}
