//! The injection corpus: hostile values in every field that reaches an output,
//! and hostile arguments to deploy.sh. Each case is either refused by the
//! compiler with a located error, or compiles to a kit that is inert:
//!
//! - every compose file parses as YAML with exactly the key structure of the
//!   same spec with benign values, the env value round-trips exactly, and
//!   `docker-compose config` accepts it;
//! - every nginx file has exactly the directive structure of the benign twin,
//!   and the assembled conf passes `nginx -t` inside Debian's stock nginx.conf;
//! - deploy.sh passes `bash -n`, and `--dry-run deploy` and
//!   `--dry-run deploy v1` create no marker file (docker and nginx are fake
//!   recorders, so nothing is needed but bash);
//! - for the process runtime, a real deploy runs the `before-deploy` hook,
//!   the `start` command and the `on-failure` hook, each a recorder that
//!   writes its argv: every word arrives literally and no marker appears.
//!
//! Hooks and `start` run without a shell: shell syntax outside quotes
//! (`|`, `;`, `&&`, `>`, `$(…)`, backticks, and `$` or backticks inside
//! "…") is refused; the same characters quoted are words, proven inert.
//!
//! Payloads say `@M@` for the marker path; a payload that ran would create it.

#[path = "injection/common.rs"]
mod common;
#[path = "injection/hook_sidecar_secrets.rs"]
mod hook_sidecar_secrets;
mod support;

use common::{kdl, nginx_t};

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use yaml_rust2::{Yaml, YamlLoader};

/// Which base spec a case fills in.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Base {
    /// Process runtime behind a host-mode nginx: start, workdir, hooks, env,
    /// secret, a hook's secret, server-name, listen, route, size, conf-dir,
    /// health.
    Process,
    /// Compose runtime: image, tag, env, volume, command, sidecar and its
    /// secret, accessory, docker-host, tls.
    Compose,
}

const PROCESS: &str = r#"greenlight 1
project {project}
app {app} {
    runtime "process"
    start {start}
    workdir {workdir}
    host-ports blue={blue} green={green}
    env {env_key} {env_value}
    secret {secret_key} from-file={secret_file}
    health {health} {
        interval "100ms"
        deadline "600ms"
    }
    drain "1s"
}
proxy {
    mode "host"
    listen {listen}
    server-name {server_name} "www.example.com"
    client-max-body-size {size}
    conf-dir {conf_dir}
    route {route} app={app}
    trusted-proxies {trusted_proxy}
}
hooks {
    before-deploy {hook} {
        secret {hook_secret_key} from-file={hook_secret_file}
    }
    on-failure {failure_hook}
}
webhook {
    secret-file {webhook_secret}
    listen "127.0.0.1:1"
    tag-prefix {tag_prefix}
}
"#;

const COMPOSE: &str = r#"greenlight 1
project {project}
docker-host {docker_host}
app {app} {
    image {image}
    tag {tag}
    port 8080
    host-ports blue={blue} green={green}
    env {env_key} {env_value}
    volume {volume_src} {volume_target}
    command {command} "--flag"
    health {health}
    sidecar {sidecar} {
        image {image}
        port 80
        env "SIDE" {env_value}
        secret {sidecar_secret_key} from-file={sidecar_secret_file}
    }
}
accessory "cache" {
    image {acc_image}
    env "ACC" {env_value}
    command {command}
}
proxy {
    mode "host"
    listen 443 ssl=#true
    tls certificate={tls_cert} key="/etc/ssl/key.pem"
    server-name {server_name}
    route {route} app={app}
}
"#;

/// Benign values of every field; a case replaces one.
fn defaults() -> BTreeMap<&'static str, String> {
    [
        ("project", "shop"),
        ("app", "web"),
        ("start", "@R@ @D@/start.args {port} {version}"),
        ("workdir", "@D@"),
        ("env_key", "GREETING"),
        ("env_value", "hello"),
        ("secret_key", "APP_SECRET"),
        ("secret_file", "@D@/app-secret"),
        ("hook_secret_key", "HOOK_SECRET"),
        ("hook_secret_file", "@D@/hook-secret"),
        ("sidecar_secret_key", "SIDE_SECRET"),
        ("sidecar_secret_file", "@D@/side-secret"),
        ("health", "/healthz"),
        ("listen", "127.0.0.1:8080"),
        ("server_name", "example.com"),
        ("size", "10m"),
        ("conf_dir", "/etc/nginx/conf.d"),
        ("trusted_proxy", "10.0.0.0/8"),
        ("route", "/"),
        ("hook", "@R@ @D@/hook.args {version}"),
        ("failure_hook", "@R@ @D@/failure.args {version}"),
        ("webhook_secret", "@D@/webhook-secret"),
        ("tag_prefix", "v"),
        ("docker_host", "unix:///var/run/docker.sock"),
        ("image", "ghcr.io/acme/web"),
        ("tag", "stable"),
        ("volume_src", "/srv/data"),
        ("volume_target", "/data"),
        ("command", "serve"),
        ("sidecar", "edge"),
        ("acc_image", "redis:7.2"),
        ("tls_cert", "/etc/ssl/cert.pem"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

/// What a case must come to.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Refused; the report contains this text.
    Refused(&'static str),
    /// Compiled; the kit must be inert.
    Inert,
}
use Expect::*;

struct Case {
    name: &'static str,
    base: Base,
    field: &'static str,
    payload: String,
    expect: Expect,
}

fn case(
    name: &'static str,
    base: Base,
    field: &'static str,
    payload: impl Into<String>,
    expect: Expect,
) -> Case {
    Case {
        name,
        base,
        field,
        payload: payload.into(),
        expect,
    }
}

/// Prefix of the recorder commands: hooks and start get payload words after it.
const HOOK: &str = "@R@ @D@/hook.args {version} ";
const START: &str = "@R@ @D@/start.args {port} {version} ";
/// What a refused command with shell syntax says.
const SHELL: &str = "has shell syntax";

fn cases() -> Vec<Case> {
    use Base::*;
    let name = "is not a valid name";
    let long = "x".repeat(5000);
    vec![
        // Names: project, app, sidecar.
        case(
            "project-subst",
            Process,
            "project",
            "shop$(touch @M@)",
            Refused(name),
        ),
        case(
            "project-semicolon",
            Process,
            "project",
            "shop;touch @M@",
            Refused(name),
        ),
        case(
            "project-newline",
            Compose,
            "project",
            "shop\nevil: 1",
            Refused(name),
        ),
        case(
            "app-backtick",
            Process,
            "app",
            "web`touch @M@`",
            Refused(name),
        ),
        case("app-quote", Compose, "app", "web'x", Refused(name)),
        case(
            "app-yaml-key",
            Compose,
            "app",
            "web: {evil: 1}",
            Refused(name),
        ),
        case("app-lookalike", Compose, "app", "wеb", Refused(name)),
        case(
            "sidecar-dollar",
            Compose,
            "sidecar",
            "edge$HOME",
            Refused(name),
        ),
        // Images and tags.
        case(
            "image-semicolon",
            Compose,
            "image",
            "ghcr.io/acme/web;touch @M@",
            Refused("not a valid image name"),
        ),
        case(
            "image-subst",
            Compose,
            "image",
            "ghcr.io/acme/$(touch @M@)",
            Refused("not a valid image name"),
        ),
        case(
            "image-yaml",
            Compose,
            "image",
            "web\"\n    privileged: true",
            Refused("not a valid image name"),
        ),
        case(
            "tag-subst",
            Compose,
            "tag",
            "v1$(touch @M@)",
            Refused("not a valid image tag"),
        ),
        case(
            "tag-yaml",
            Compose,
            "tag",
            "v1\n    privileged: true",
            Refused("not a valid image tag"),
        ),
        case(
            "accessory-image-subst",
            Compose,
            "acc_image",
            "redis:7$(touch @M@)",
            Refused("is not a valid image"),
        ),
        case(
            "accessory-image-comment",
            Compose,
            "acc_image",
            "redis #x",
            Refused("not a valid image name"),
        ),
        // Env keys and values.
        case(
            "env-key-semicolon",
            Process,
            "env_key",
            "A;touch @M@",
            Refused("not a valid environment variable name"),
        ),
        case(
            "env-key-yaml",
            Compose,
            "env_key",
            "A: b",
            Refused("not a valid environment variable name"),
        ),
        case(
            "env-value-subst",
            Process,
            "env_value",
            "$(touch @M@)",
            Inert,
        ),
        case(
            "env-value-backtick",
            Process,
            "env_value",
            "`touch @M@`",
            Inert,
        ),
        case(
            "env-value-quote-break",
            Process,
            "env_value",
            "x'; touch @M@; echo '",
            Inert,
        ),
        case(
            "env-value-yaml-subst",
            Compose,
            "env_value",
            "$(touch @M@) ${HOME} $$ $",
            Inert,
        ),
        case(
            "env-value-yaml-key",
            Compose,
            "env_value",
            "x: y #z \"q\" ', privileged: true",
            Inert,
        ),
        case(
            "env-value-yaml-flow",
            Compose,
            "env_value",
            "{a: 1}, [b], &c *d !e |f >g %h @i",
            Inert,
        ),
        case(
            "env-value-lookalike",
            Compose,
            "env_value",
            "раssword ü € 𝔘 \\ \\n",
            Inert,
        ),
        case(
            "env-value-newline",
            Compose,
            "env_value",
            "a\n    privileged: true",
            Refused("control character"),
        ),
        case(
            "env-value-nul",
            Process,
            "env_value",
            "a\u{0}b",
            Refused("control character"),
        ),
        case(
            "env-value-bidi",
            Process,
            "env_value",
            "safe\u{202E}$(touch @M@)",
            Refused("invisible character U+202E"),
        ),
        case(
            "env-value-line-separator",
            Compose,
            "env_value",
            "a\u{2028}b: c",
            Refused("invisible character U+2028"),
        ),
        case(
            "env-value-over-4kib",
            Compose,
            "env_value",
            long.clone(),
            Refused("bytes long"),
        ),
        // Volumes.
        case(
            "volume-source-subst",
            Compose,
            "volume_src",
            "/srv/$(touch @M@)/${HOME}",
            Inert,
        ),
        case(
            "volume-source-colon",
            Compose,
            "volume_src",
            "/srv:/etc",
            Refused("contains `:`"),
        ),
        case(
            "volume-target-newline",
            Compose,
            "volume_target",
            "/data\n    privileged: true",
            Refused("control character"),
        ),
        case(
            "volume-target-relative",
            Compose,
            "volume_target",
            "data",
            Refused("is not absolute"),
        ),
        // Commands (compose), start words and hooks (process).
        case("command-subst", Compose, "command", "$(touch @M@)", Inert),
        case(
            "command-yaml",
            Compose,
            "command",
            "\"; touch @M@; \" - privileged: true",
            Inert,
        ),
        case(
            "start-subst-quoted",
            Process,
            "start",
            format!("{START}'$(touch @M@)' '`touch @M@`' \\$HOME"),
            Inert,
        ),
        case(
            "start-subst-in-double-quotes",
            Process,
            "start",
            format!("{START}\"`touch @M@`\""),
            Refused(SHELL),
        ),
        case(
            "start-semicolon",
            Process,
            "start",
            format!("{START}a; touch @M@ && touch @M@ | touch @M@"),
            Refused(SHELL),
        ),
        case(
            "start-operators-quoted",
            Process,
            "start",
            format!("{START}'a; touch @M@ && touch @M@ | touch @M@ > @M@' \"< (x) &\""),
            Inert,
        ),
        case(
            "start-quotes",
            Process,
            "start",
            format!("{START}\"it's\" 'say \"hi\"' \\$HOME {{app}}-{{color}}"),
            Inert,
        ),
        case(
            "start-unclosed",
            Process,
            "start",
            format!("{START}'$(touch @M@)"),
            Refused("unclosed quote"),
        ),
        case(
            "start-comment-only",
            Process,
            "start",
            "# touch @M@",
            Refused("has no words"),
        ),
        case(
            "start-unknown-placeholder",
            Process,
            "start",
            format!("{START}{{evil}}"),
            Refused("unknown placeholder"),
        ),
        case(
            "start-newline",
            Process,
            "start",
            format!("{START}x\ntouch @M@"),
            Refused("control character"),
        ),
        case(
            "hook-subst",
            Process,
            "hook",
            format!("{HOOK}$(touch @M@) `touch @M@`"),
            Refused(SHELL),
        ),
        case(
            "hook-operators",
            Process,
            "hook",
            format!("{HOOK}x && touch @M@ ; touch @M@ > @M@"),
            Refused(SHELL),
        ),
        case(
            "hook-placeholder-in-word",
            Process,
            "hook",
            format!("{HOOK}--tag={{version}}$(touch @M@)"),
            Refused(SHELL),
        ),
        case(
            "hook-placeholder-in-quoted-word",
            Process,
            "hook",
            format!("{HOOK}--tag={{version}}'$(touch @M@) | x'"),
            Inert,
        ),
        case(
            "failure-hook-subst",
            Process,
            "failure_hook",
            "@R@ @D@/failure.args {version} '$(touch @M@)'".to_string(),
            Inert,
        ),
        case(
            "hook-newline",
            Process,
            "hook",
            format!("{HOOK}x\ntouch @M@"),
            Refused("control character"),
        ),
        case(
            "workdir-subst",
            Process,
            "workdir",
            "/tmp/$(touch @M@)",
            Inert,
        ),
        // nginx values.
        case(
            "server-name-semicolon",
            Process,
            "server_name",
            "a.com; return 301 http://evil",
            Refused("nginx would read as syntax"),
        ),
        case(
            "server-name-brace",
            Process,
            "server_name",
            "a.com}",
            Refused("nginx would read as syntax"),
        ),
        case(
            "server-name-comment",
            Process,
            "server_name",
            "#a.com",
            Refused("nginx would read as syntax"),
        ),
        case(
            "server-name-variable",
            Process,
            "server_name",
            "$host",
            Refused("nginx would read as syntax"),
        ),
        case(
            "server-name-quote",
            Process,
            "server_name",
            "a.com\"",
            Refused("nginx would read as syntax"),
        ),
        case(
            "server-name-lookalike",
            Process,
            "server_name",
            "exаmple.com",
            Refused("non-ASCII"),
        ),
        case(
            "listen-directive",
            Process,
            "listen",
            "127.0.0.1:80; include /etc/passwd",
            Refused("not a listen address"),
        ),
        case(
            "listen-extra-word",
            Process,
            "listen",
            "0.0.0.0:80 ssl",
            Refused("not a listen address"),
        ),
        case(
            "trusted-proxy-directive",
            Process,
            "trusted_proxy",
            "10.0.0.0/8; real_ip_header X-Evil",
            Refused("not an address or network"),
        ),
        case(
            "trusted-proxy-variable",
            Process,
            "trusted_proxy",
            "$http_x_evil",
            Refused("not an address or network"),
        ),
        case(
            "trusted-proxy-everyone",
            Process,
            "trusted_proxy",
            "0.0.0.0/0",
            Refused("trusts every address"),
        ),
        case(
            "route-semicolon",
            Process,
            "route",
            "/api; return 200",
            Refused("not a valid route path"),
        ),
        case(
            "route-brace",
            Process,
            "route",
            "/api{",
            Refused("not a valid route path"),
        ),
        case(
            "route-comment",
            Process,
            "route",
            "/a#b",
            Refused("not a valid route path"),
        ),
        case(
            "route-variable",
            Process,
            "route",
            "/a$b",
            Refused("not a valid route path"),
        ),
        case(
            "route-quote",
            Compose,
            "route",
            "/a\"b",
            Refused("not a valid route path"),
        ),
        case(
            "route-odd-but-valid",
            Process,
            "route",
            "/a%7Bb~c.d_e-f",
            Inert,
        ),
        case(
            "size-directive",
            Process,
            "size",
            "10m; evil",
            Refused("not a size"),
        ),
        case(
            "conf-dir-subst",
            Process,
            "conf_dir",
            "/etc/$(touch @M@)",
            Refused("nginx would read as syntax"),
        ),
        case(
            "conf-dir-semicolon",
            Process,
            "conf_dir",
            "/etc/nginx;x",
            Refused("nginx would read as syntax"),
        ),
        case(
            "health-subst",
            Process,
            "health",
            "/h$(touch @M@)",
            Refused("not a valid health path"),
        ),
        case("health-query", Process, "health", "/h?a=1&b=2+3%20", Inert),
        case(
            "tls-semicolon",
            Compose,
            "tls_cert",
            "/etc/ssl/a;b",
            Refused("nginx would read as syntax"),
        ),
        case(
            "tls-colon",
            Compose,
            "tls_cert",
            "/etc/ssl/a:b",
            Refused("contains `:`"),
        ),
        // docker-host.
        case(
            "docker-host-semicolon",
            Compose,
            "docker_host",
            "tcp://h:2375;touch @M@",
            Refused("not a docker engine address"),
        ),
        case(
            "docker-host-subst",
            Compose,
            "docker_host",
            "ssh://u@h$(touch @M@)",
            Refused("not a docker engine address"),
        ),
        case(
            "docker-host-socket-subst",
            Compose,
            "docker_host",
            "unix:///run/$(touch @M@).sock",
            Inert,
        ),
        // Secrets.
        case(
            "secret-key-subst",
            Process,
            "secret_key",
            "K$(touch @M@)",
            Refused("not a valid environment variable name"),
        ),
        case(
            "secret-file-relative",
            Process,
            "secret_file",
            "secrets/db",
            Refused("is not absolute"),
        ),
        case(
            "secret-file-subst",
            Process,
            "secret_file",
            "@D@/s$(touch marker)",
            Inert,
        ),
        // The webhook: its secret file reaches deploy.sh, its tag prefix
        // the hooks file (a Go template) as a regex.
        case(
            "webhook-secret-file-subst",
            Process,
            "webhook_secret",
            "@D@/w$(touch @M@)`touch @M@`",
            Inert,
        ),
        case(
            "webhook-secret-file-relative",
            Process,
            "webhook_secret",
            "webhook-secret",
            Refused("is not absolute"),
        ),
        case(
            "webhook-tag-prefix-subst",
            Process,
            "tag_prefix",
            "v$(touch @M@)",
            Refused("not a valid image tag"),
        ),
        case(
            "webhook-tag-prefix-go-template",
            Process,
            "tag_prefix",
            "v{{getenv `HOME`}}",
            Refused("not a valid image tag"),
        ),
        case(
            "webhook-tag-prefix-regex",
            Process,
            "tag_prefix",
            "v.*|",
            Refused("not a valid image tag"),
        ),
        // A hook's secrets and a sidecar's: the same grammar as an app's.
        case(
            "hook-secret-key-subst",
            Process,
            "hook_secret_key",
            "K$(touch @M@)",
            Refused("not a valid environment variable name"),
        ),
        case(
            "hook-secret-key-assignment",
            Process,
            "hook_secret_key",
            "PATH=/tmp/evil",
            Refused("not a valid environment variable name"),
        ),
        case(
            "hook-secret-key-newline",
            Process,
            "hook_secret_key",
            "K\ntouch @M@",
            Refused("not a valid environment variable name"),
        ),
        case(
            "hook-secret-file-relative",
            Process,
            "hook_secret_file",
            "secrets/slack",
            Refused("is not absolute"),
        ),
        case(
            "hook-secret-file-newline",
            Process,
            "hook_secret_file",
            "/run/keys/x\ntouch @M@",
            Refused("control character"),
        ),
        case(
            "hook-secret-file-subst",
            Process,
            "hook_secret_file",
            "@D@/h$(touch marker) `touch marker` 'q' \"d\"",
            Inert,
        ),
        case(
            "sidecar-secret-key-yaml",
            Compose,
            "sidecar_secret_key",
            "A: b",
            Refused("not a valid environment variable name"),
        ),
        case(
            "sidecar-secret-key-subst",
            Compose,
            "sidecar_secret_key",
            "K${HOME}",
            Refused("not a valid environment variable name"),
        ),
        case(
            "sidecar-secret-file-relative",
            Compose,
            "sidecar_secret_file",
            "./side",
            Refused("is not absolute"),
        ),
        case(
            "sidecar-secret-file-yaml",
            Compose,
            "sidecar_secret_file",
            "/run/x\n    privileged: true",
            Refused("control character"),
        ),
        case(
            "sidecar-secret-file-subst",
            Compose,
            "sidecar_secret_file",
            "@D@/s$(touch marker) ${HOME} 'q'",
            Inert,
        ),
    ]
}

/// The value of the before-deploy hook's secret (`@M@`: the marker): quotes,
/// `$(…)`, backticks, shell operators, a newline and a backslash. The hook
/// gets it byte for byte in its environment; nothing runs or prints it.
const HOOK_SECRET: &str =
    "h00k-VALUE-7 $(touch @M@) `touch @M@` \"dq\" 'sq' ; | & > <\nline 2 \\ ${HOME}";
/// The value of the sidecar's secret, which compose reads from the
/// environment deploy.sh gives it: also YAML syntax and `$$`.
const SIDE_SECRET: &str = "s1de-VALUE-9 $(touch @M@) `touch @M@` \"dq\" 'sq'\n#x: y ${HOME} $$";

/// A case's working directory: recorders, fakes, the secret files, the marker.
struct Work {
    dir: tempfile::TempDir,
}

impl Work {
    fn new() -> Work {
        let work = Work {
            dir: tempfile::tempdir().unwrap(),
        };
        let d = work.path("");
        fs::create_dir_all(d.join("conf.d")).unwrap();
        // Writes its argv after the first (the output file), one per line.
        script(
            &d.join("record"),
            "#!/bin/sh\nout=$1\nshift\n: >\"$out\"\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >>\"$out\"; done\nprintf '%s' \"${APP_SECRET-}\" >\"$out.secret\"\nprintf '%s' \"${GREETING-}\" >\"$out.env\"\nif [ -n \"${HOOK_SECRET+set}\" ]; then printf '%s' \"$HOOK_SECRET\" >\"$out.hook-secret\"; fi\n",
        );
        // docker and nginx: record the call, change nothing.
        let fake = format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >>'{}'\nexit 0\n",
            d.join("fake.log").display()
        );
        script(&d.join("fake-docker"), &fake);
        script(&d.join("fake-nginx"), &fake);
        fs::write(d.join("app-secret"), "s3cret-VALUE-42\n").unwrap();
        fs::write(
            d.join("hook-secret"),
            format!("{}\n", work.fill(HOOK_SECRET)),
        )
        .unwrap();
        fs::write(
            d.join("side-secret"),
            format!("{}\n", work.fill(SIDE_SECRET)),
        )
        .unwrap();
        work
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn marker(&self) -> PathBuf {
        self.path("marker")
    }

    /// Replaces the test placeholders in a value.
    fn fill(&self, value: &str) -> String {
        value
            .replace("@M@", self.marker().to_str().unwrap())
            .replace("@R@", self.path("record").to_str().unwrap())
            .replace("@D@", self.dir.path().to_str().unwrap())
    }

    /// The spec text of `base` with `field` set to `payload` (or all defaults).
    fn spec(&self, base: Base, field: Option<(&str, &str)>) -> String {
        let mut values = defaults();
        if let Some((field, payload)) = field {
            values.insert(
                Box::leak(field.to_string().into_boxed_str()),
                payload.to_string(),
            );
        }
        let mut text = match base {
            Base::Process => PROCESS,
            Base::Compose => COMPOSE,
        }
        .to_string();
        let blue = free_port();
        let green = free_port();
        text = text
            .replace("{blue}", &blue.to_string())
            .replace("{green}", &green.to_string());
        for (key, value) in values {
            text = text.replace(&format!("{{{key}}}"), &kdl(&self.fill(&value)));
        }
        text
    }

    /// deploy.sh of the kit in `kit` with every run-time path inside this dir.
    fn deploy(&self, kit: &Path, args: &[&str]) -> Output {
        self.deploy_command(kit, args).output().unwrap()
    }

    /// The command [`Work::deploy`] runs, for a test to add to.
    fn deploy_command(&self, kit: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(kit.join("deploy.sh"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("GREENLIGHT_STATE_DIR", self.path("state"))
            .env("GREENLIGHT_NGINX_CONF_DIR", self.path("conf.d"))
            .env("GREENLIGHT_NGINX", self.path("fake-nginx"))
            .env("GREENLIGHT_DOCKER", self.path("fake-docker"))
            .env("TMPDIR", self.dir.path())
            .stdin(std::process::Stdio::null());
        command
    }

    fn no_marker(&self, context: &str) {
        assert!(
            !self.marker().exists() && !self.path("marker").exists(),
            "{context}: the marker file was created: a payload ran"
        );
    }
}

fn script(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

type Kit = BTreeMap<String, String>;

fn compile(text: &str) -> Result<(greenlight::plan::Plan, Kit), String> {
    match greenlight::load_text("case.kdl", text.to_string()) {
        Ok((plan, _)) => {
            let kit = greenlight::kit(&plan, greenlight::render::TemplateSource::default())
                .expect("a plan that loads renders");
            let kit = kit.into_iter().map(|(p, c)| (p.to_string(), c)).collect();
            Ok((plan, kit))
        }
        Err(report) => Err(greenlight::diagnostic::render_plain(&report)),
    }
}

fn write_kit(kit: &Kit, dir: &Path) {
    for (path, content) in kit {
        let file = dir.join(path);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, content).unwrap();
    }
    fs::set_permissions(dir.join("deploy.sh"), fs::Permissions::from_mode(0o755)).unwrap();
}

/// The shape of a YAML document: mapping keys and sequence lengths, scalars
/// reduced to their kind.
fn shape(yaml: &Yaml) -> String {
    match yaml {
        Yaml::Hash(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", k.as_str().unwrap_or("?"), shape(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Yaml::Array(items) => format!(
            "[{}]",
            items.iter().map(shape).collect::<Vec<_>>().join(", ")
        ),
        Yaml::String(_) => "str".into(),
        Yaml::Integer(_) | Yaml::Real(_) => "num".into(),
        Yaml::Boolean(_) => "bool".into(),
        Yaml::Null => "null".into(),
        other => format!("{other:?}"),
    }
}

fn parse_yaml(text: &str, context: &str) -> Yaml {
    let docs = YamlLoader::load_from_str(text)
        .unwrap_or_else(|e| panic!("{context}: the YAML does not parse: {e}\n{text}"));
    assert_eq!(docs.len(), 1, "{context}: one YAML document expected");
    docs.into_iter().next().unwrap()
}

/// nginx tokens: words (quotes removed, escapes kept), `;`, `{`, `}`.
fn nginx_tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    let mut word = String::new();
    let flush = |word: &mut String, tokens: &mut Vec<String>| {
        if !word.is_empty() {
            tokens.push(std::mem::take(word));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '#' if word.is_empty() => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '"' | '\'' if word.is_empty() => {
                let quote = c;
                let mut quoted = String::from("q:");
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            quoted.push(c);
                            quoted.extend(chars.next());
                        }
                        c if c == quote => break,
                        c => quoted.push(c),
                    }
                }
                tokens.push(quoted);
            }
            ';' | '{' | '}' => {
                flush(&mut word, &mut tokens);
                tokens.push(c.to_string());
            }
            c if c.is_whitespace() => flush(&mut word, &mut tokens),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut tokens);
    tokens
}

/// The directive structure of an nginx file: each directive's name, its
/// number of arguments, and the blocks it opens and closes.
fn nginx_structure(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for token in nginx_tokens(text) {
        match token.as_str() {
            ";" | "{" => {
                let name = current.first().cloned().unwrap_or_default();
                out.push(format!("{name}/{}{token}", current.len().saturating_sub(1)));
                current.clear();
            }
            "}" => out.push("}".into()),
            _ => current.push(token),
        }
    }
    assert!(current.is_empty(), "an unterminated directive: {current:?}");
    out
}

/// The recorded argv of a recorder call, or None if it never ran.
fn recorded(work: &Work, file: &str) -> Option<Vec<String>> {
    fs::read_to_string(work.path(file))
        .ok()
        .map(|t| t.lines().map(str::to_string).collect())
}

/// The words a command line of the spec becomes at run time.
fn expected_words(work: &Work, command: &str, version: &str, port: u16) -> Vec<String> {
    shell_words::split(&work.fill(command))
        .unwrap()
        .into_iter()
        .map(|w| {
            w.replace("{version}", version)
                .replace("{app}", "web")
                .replace("{color}", "blue")
                .replace("{port}", &port.to_string())
        })
        .collect()
}

fn check_inert(case: &Case, work: &Work, plan: &greenlight::plan::Plan, kit: &Kit) {
    let ctx = case.name;
    let payload = work.fill(&case.payload);
    // The benign twin, for the structure of every YAML and nginx file.
    let twin_work = Work::new();
    let (_, twin) = compile(&twin_work.spec(case.base, None)).expect("the benign twin compiles");
    let kit_dir = work.path("kit");
    write_kit(kit, &kit_dir);

    assert_eq!(
        kit.keys().collect::<Vec<_>>(),
        twin.keys().collect::<Vec<_>>(),
        "{ctx}: the kit has other files than its benign twin"
    );
    for (path, content) in kit {
        if path.ends_with(".yml") {
            let doc = parse_yaml(content, &format!("{ctx}: {path}"));
            let twin_doc = parse_yaml(&twin[path], &format!("{ctx} (twin): {path}"));
            assert_eq!(
                shape(&doc),
                shape(&twin_doc),
                "{ctx}: {path} has other keys than its benign twin"
            );
            if case.field == "env_value" {
                // compose reads `$$` as `$`: the value compose passes on is exactly the payload.
                let services = &doc["services"];
                let (service, key) = if path.contains("accessories") {
                    ("cache", "ACC")
                } else {
                    ("web", "GREETING")
                };
                let value = services[service]["environment"][key]
                    .as_str()
                    .unwrap_or_else(|| panic!("{ctx}: {path}: no {service}.environment.{key}"));
                assert_eq!(
                    value.replace("$$", "$"),
                    payload,
                    "{ctx}: {path}: the env value changed"
                );
            }
        } else if path.ends_with(".conf") {
            assert_eq!(
                nginx_structure(content),
                nginx_structure(&twin[path]),
                "{ctx}: {path} has other directives than its benign twin"
            );
        }
    }

    let (ok, out) = support::run(
        Command::new("bash")
            .arg("-n")
            .arg(kit_dir.join("deploy.sh")),
    );
    assert!(ok, "{ctx}: bash -n: {out}");
    if support::tool_available("nginx") && support::tool_available("openssl") {
        nginx_t(&kit_dir, plan, ctx);
    }
    if case.base == Base::Compose && support::tool_available("docker-compose") {
        let sidecar = &plan.apps[0].sidecars[0];
        let side = &sidecar.secrets[0];
        let side_value = work.fill(SIDE_SECRET);
        for path in kit.keys().filter(|p| p.ends_with(".yml")) {
            let (ok, out) = support::run(
                Command::new("docker-compose")
                    .env("GREENLIGHT_VERSION", "v1")
                    .env("GREENLIGHT_VERSION_REF", ":v1")
                    .env(format!("GREENLIGHT_SECRET_{}", side.index), &side_value)
                    .arg("--project-directory")
                    .arg(&kit_dir)
                    .arg("-f")
                    .arg(kit_dir.join(path))
                    .args(["config"]),
            );
            assert!(ok, "{ctx}: docker-compose config {path}:\n{out}");
            if case.field == "env_value" && path.contains("web-blue") {
                let doc = parse_yaml(&out, &format!("{ctx}: config of {path}"));
                let value = doc["services"]["web"]["environment"]["GREETING"]
                    .as_str()
                    .unwrap_or_default();
                assert_eq!(
                    value.replace("$$", "$"),
                    payload,
                    "{ctx}: docker-compose sees another value"
                );
            }
            if path.contains("/web-") {
                // Both colors: the sidecar's variable holds the secret, exactly.
                let doc = parse_yaml(&out, &format!("{ctx}: config of {path}"));
                let value = doc["services"][sidecar.name.as_str()]["environment"]
                    [side.key.as_str()]
                .as_str()
                .unwrap_or_else(|| panic!("{ctx}: {path}: the sidecar has no {}", side.key));
                assert_eq!(
                    value.replace("$$", "$"),
                    side_value,
                    "{ctx}: {path}: the sidecar's secret changed"
                );
            }
        }
    }

    // Dry runs change nothing and run nothing.
    match case.field {
        "secret_file" => fs::write(&payload, "s3cret-VALUE-42\n").unwrap(),
        "hook_secret_file" => fs::write(&payload, format!("{}\n", work.fill(HOOK_SECRET))).unwrap(),
        "sidecar_secret_file" => {
            fs::write(&payload, format!("{}\n", work.fill(SIDE_SECRET))).unwrap()
        }
        _ => {}
    }
    for args in [&["--dry-run", "deploy"][..], &["--dry-run", "deploy", "v1"]] {
        let out = work.deploy(&kit_dir, args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{ctx}: deploy.sh {args:?} failed:\n{text}"
        );
        for secret in ["s3cret-VALUE-42", "h00k-VALUE-7", "s1de-VALUE-9"] {
            assert!(
                !text.contains(secret),
                "{ctx}: a dry run printed the secret {secret}:\n{text}"
            );
        }
        work.no_marker(&format!("{ctx}: deploy.sh {args:?}"));
        assert!(
            !work.path("state/state").exists(),
            "{ctx}: a dry run wrote state"
        );
    }

    // Process runtime: a real deploy runs before-deploy, start and (as the
    // health gate fails) on-failure, each recording its argv.
    if case.base == Base::Process && case.field != "workdir" {
        let out = work.deploy(&kit_dir, &["deploy", "v1"]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "{ctx}: the deploy should fail its health gate:\n{text}"
        );
        work.no_marker(&format!("{ctx}: a real deploy"));
        let values = {
            let mut v = defaults();
            v.insert(case.field, case.payload.clone());
            v
        };
        let blue = plan.apps[0].colors[0].host_port.unwrap();
        for (field, file) in [
            ("hook", "hook.args"),
            ("start", "start.args"),
            ("failure_hook", "failure.args"),
        ] {
            let got =
                recorded(work, file).unwrap_or_else(|| panic!("{ctx}: {field} never ran:\n{text}"));
            // The recorder drops its own path and output file.
            let want: Vec<String> = expected_words(work, &values[field], "v1", blue)
                .into_iter()
                .skip(2)
                .collect();
            assert_eq!(got, want, "{ctx}: {field} did not get its words literally");
        }
        let env = fs::read_to_string(work.path("start.args.env")).unwrap();
        let want = if case.field == "env_value" {
            payload.clone()
        } else {
            "hello".to_string()
        };
        assert_eq!(env, want, "{ctx}: the process got another env value");
        let secret = fs::read_to_string(work.path("start.args.secret")).unwrap();
        assert_eq!(
            secret, "s3cret-VALUE-42",
            "{ctx}: the process did not get its secret"
        );
        // The before-deploy hook gets its own secret, byte for byte, and
        // not the app's; neither the process nor the other hook gets it.
        let hook_secret = fs::read(work.path("hook.args.hook-secret"))
            .unwrap_or_else(|_| panic!("{ctx}: the hook got no HOOK_SECRET:\n{text}"));
        assert_eq!(
            hook_secret,
            work.fill(HOOK_SECRET).as_bytes(),
            "{ctx}: the hook did not get its secret byte for byte"
        );
        assert_eq!(
            fs::read_to_string(work.path("hook.args.secret")).unwrap(),
            "",
            "{ctx}: the hook got the app's secret"
        );
        for other in ["start.args", "failure.args"] {
            assert!(
                !work.path(&format!("{other}.hook-secret")).exists(),
                "{ctx}: {other} got the before-deploy hook's secret"
            );
        }
        for secret in ["s3cret-VALUE-42", "h00k-VALUE-7"] {
            assert!(
                !text.contains(secret),
                "{ctx}: deploy.sh printed the secret {secret}"
            );
            for entry in walk(&work.path("state")) {
                let content = fs::read(&entry).unwrap();
                assert!(
                    !String::from_utf8_lossy(&content).contains(secret),
                    "{ctx}: {} holds the secret {secret}",
                    entry.display()
                );
            }
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.extend(walk(&path));
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn corpus_is_large_enough() {
    let n = cases().len();
    assert!(
        n >= 40,
        "the injection corpus has {n} cases; keep at least 40"
    );
}

#[test]
fn every_hostile_value_is_refused_or_inert() {
    let mut failures = Vec::new();
    for case in cases() {
        let work = Work::new();
        let text = work.spec(case.base, Some((case.field, &case.payload)));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            match (compile(&text), case.expect) {
                (Err(report), Refused(expected)) => {
                    assert!(
                        report.contains(expected),
                        "{}: refused, but the report does not say {expected:?}:\n{report}",
                        case.name
                    );
                    assert!(
                        report.contains("[case.kdl:"),
                        "{}: the error is not located:\n{report}",
                        case.name
                    );
                }
                (Err(report), Inert) => panic!("{}: refused, expected inert:\n{report}", case.name),
                (Ok(_), Refused(expected)) => {
                    panic!(
                        "{}: accepted, expected a refusal saying {expected:?}",
                        case.name
                    )
                }
                (Ok((plan, kit)), Inert) => check_inert(&case, &work, &plan, &kit),
            }
            work.no_marker(case.name);
        }));
        if let Err(panic) = result {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(message);
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Hostile arguments to deploy.sh: refused with exit 2 before anything
/// happens (no state directory, no docker or nginx call, no marker).
#[test]
fn deploy_arguments_outside_the_grammar_exit_2_before_doing_anything() {
    let work = Work::new();
    let (_, kit) = compile(&work.spec(Base::Process, None)).unwrap();
    let kit_dir = work.path("kit");
    write_kit(&kit, &kit_dir);
    let m = work.marker();
    let m = m.to_str().unwrap();
    let long = format!("v{}", "1".repeat(128));
    let table: Vec<Vec<String>> = [
        vec!["deploy".to_string(), format!("$(touch {m})")],
        vec!["deploy".into(), format!("`touch {m}`")],
        vec!["deploy".into(), format!("v1;touch {m}")],
        vec!["deploy".into(), format!("v1\ntouch {m}")],
        vec!["deploy".into(), format!("v1 && touch {m}")],
        vec!["deploy".into(), format!("v1'\"")],
        vec!["deploy".into(), "-v1".into()],
        vec!["deploy".into(), ".v1".into()],
        vec!["deploy".into(), "../../etc/passwd".into()],
        vec!["deploy".into(), "v1/../x".into()],
        vec!["deploy".into(), "v1:latest".into()],
        vec!["deploy".into(), "v1$IFS".into()],
        vec!["deploy".into(), "vё1".into()],
        vec!["deploy".into(), long],
        // Digests: sha256: and exactly 64 lowercase hex digits; and a
        // process app, which has no image, takes none.
        vec!["deploy".into(), "sha256:xyz".into()],
        vec!["deploy".into(), format!("sha256:{}", "a".repeat(63))],
        vec!["deploy".into(), format!("sha256:{}", "a".repeat(65))],
        vec!["deploy".into(), format!("sha256:{}", "A".repeat(64))],
        vec!["deploy".into(), format!("sha256:{}", "a".repeat(64))],
        vec!["deploy".into(), "".into()],
        vec!["deploy".into(), "v1".into(), "v2".into()],
        vec!["deploy".into(), "--app".into(), format!("$(touch {m})")],
        // A pushed ref (what the webhook passes): refs/tags/ and a tag.
        vec![
            "deploy".into(),
            "--ref".into(),
            format!("refs/tags/$(touch {m})"),
        ],
        vec![
            "deploy".into(),
            "--ref".into(),
            format!("refs/tags/v1;touch {m}"),
        ],
        vec![
            "deploy".into(),
            "--ref".into(),
            format!("refs/tags/v1\ntouch {m}"),
        ],
        vec![
            "deploy".into(),
            "--ref".into(),
            "refs/tags/../../etc/passwd".into(),
        ],
        vec!["deploy".into(), "--ref".into(), "refs/heads/main".into()],
        vec!["deploy".into(), "--ref".into(), "v1".into()],
        vec!["deploy".into(), "--ref".into()],
        vec!["switch".into(), format!("blue;touch {m}")],
        vec!["rollback".into(), format!("$(touch {m})")],
        vec![format!("$(touch {m})")],
    ]
    .into_iter()
    .collect();
    for args in &table {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = work.deploy(&kit_dir, &argv);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "deploy.sh {args:?} must exit 2:\n{stderr}"
        );
        work.no_marker(&format!("deploy.sh {args:?}"));
        assert!(
            !work.path("state").exists(),
            "deploy.sh {args:?} created the state directory"
        );
        assert!(
            !work.path("fake.log").exists(),
            "deploy.sh {args:?} called docker or nginx"
        );
    }
    // The longest valid version still passes.
    let longest = format!("v{}", "1".repeat(127));
    let out = work.deploy(&kit_dir, &["--dry-run", "deploy", &longest]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Secrets: the value is in no kit file, in no dry-run output; a missing
/// secret file stops deploy.sh with exit 2 before it changes anything.
#[test]
fn secrets_never_reach_the_kit_and_a_missing_one_exits_2() {
    let work = Work::new();
    for base in [Base::Process, Base::Compose] {
        let mut text = work.spec(base, None);
        if base == Base::Compose {
            text = text.replace(
                "    health \"/healthz\"\n",
                &format!(
                    "    secret \"DB_PASSWORD\" from-file={}\n    health \"/healthz\"\n",
                    kdl(&work.fill("@D@/app-secret"))
                ),
            );
            text = text.replace(
                "    env \"ACC\"",
                &format!(
                    "    secret \"REDIS_PASSWORD\" from-file={}\n    env \"ACC\"",
                    kdl(&work.fill("@D@/app-secret"))
                ),
            );
        }
        let (_, kit) = compile(&text).unwrap();
        for (path, content) in &kit {
            assert!(
                !content.contains("s3cret-VALUE-42"),
                "{base:?}: {path} holds the secret"
            );
        }
        if base == Base::Compose {
            for path in ["compose/web-blue.yml", "compose/accessories.yml"] {
                assert!(
                    kit[path].contains("${GREENLIGHT_SECRET_0:?"),
                    "{path}:\n{}",
                    kit[path]
                );
            }
        }
        let kit_dir = work.path(&format!("kit-{base:?}"));
        write_kit(&kit, &kit_dir);
        let out = work.deploy(&kit_dir, &["--dry-run", "deploy", "v1"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !stdout.contains("s3cret-VALUE-42"),
            "{base:?}: the dry run printed the secret"
        );
        if base == Base::Process {
            assert!(stdout.contains("APP_SECRET=<secret>"), "{stdout}");
        }
    }
    // Compose: docker-compose reads the value from GREENLIGHT_SECRET_0, exactly.
    if support::tool_available("docker-compose") {
        let kit_dir = work.path("kit-Compose");
        let hostile = "p$a'ss\"w\\o rd\n#x: y ${HOME}";
        let (ok, out) = support::run(
            Command::new("docker-compose")
                .env("GREENLIGHT_VERSION", "v1")
                .env("GREENLIGHT_VERSION_REF", ":v1")
                .env("GREENLIGHT_SECRET_0", hostile)
                .env("GREENLIGHT_SECRET_1", work.fill(SIDE_SECRET))
                .arg("--project-directory")
                .arg(&kit_dir)
                .arg("-f")
                .arg(kit_dir.join("compose/web-blue.yml"))
                .arg("config"),
        );
        assert!(ok, "{out}");
        let doc = parse_yaml(&out, "config");
        let value = doc["services"]["web"]["environment"]["DB_PASSWORD"]
            .as_str()
            .unwrap();
        assert_eq!(value.replace("$$", "$"), hostile);
        // The sidecar's secret is numbered after the app's.
        let value = doc["services"]["edge"]["environment"]["SIDE_SECRET"]
            .as_str()
            .unwrap();
        assert_eq!(value.replace("$$", "$"), work.fill(SIDE_SECRET));
    }
    // A missing secret file: exit 2, nothing done.
    fs::remove_file(work.path("app-secret")).unwrap();
    for base in ["kit-Process", "kit-Compose"] {
        let _ = fs::remove_dir_all(work.path("state"));
        let _ = fs::remove_file(work.path("fake.log"));
        let out = work.deploy(&work.path(base), &["deploy", "v1"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{base}: {stderr}");
        assert!(
            stderr.contains("is missing or unreadable"),
            "{base}: {stderr}"
        );
        assert!(
            !work.path("state").exists(),
            "{base}: state dir created before the secret check"
        );
    }
}

/// The state directory (logs, lock, pids) is created 0700.
#[test]
fn the_state_directory_is_private() {
    let work = Work::new();
    let (_, kit) = compile(&work.spec(Base::Process, None)).unwrap();
    let kit_dir = work.path("kit");
    write_kit(&kit, &kit_dir);
    let _ = work.deploy(&kit_dir, &["deploy", "v1"]);
    let mode = fs::metadata(work.path("state"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o700, "state dir mode {mode:o}");
}

/// No input crashes the compiler: a directory, a missing, empty, non-UTF-8,
/// oversized or unreadable file is refused by the CLI with exit 2 and a
/// message naming the file, never a panic.
#[test]
fn the_cli_refuses_what_cannot_be_a_spec_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("latin1.kdl"), b"greenlight 1\nproject \"caf\xe9\"\n").unwrap();
    fs::write(d.join("empty.kdl"), "").unwrap();
    fs::write(d.join("nul.kdl"), "greenlight 1\0\n").unwrap();
    let huge = fs::File::create(d.join("huge.kdl")).unwrap();
    huge.set_len(greenlight::load::MAX_SPEC_BYTES + 1).unwrap();
    drop(huge);
    fs::create_dir(d.join("dir.kdl")).unwrap();
    fs::write(d.join("locked.kdl"), "greenlight 1\n").unwrap();
    fs::set_permissions(d.join("locked.kdl"), fs::Permissions::from_mode(0o000)).unwrap();
    // root reads a 000 file anyway; then it is an ordinary bad spec.
    let root = fs::read(d.join("locked.kdl")).is_ok();
    let cases = [
        ("dir.kdl", "is a directory"),
        ("missing.kdl", "cannot read the spec"),
        ("latin1.kdl", "not UTF-8"),
        ("empty.kdl", "the spec is empty"),
        ("nul.kdl", "KDL syntax"),
        ("huge.kdl", "at most"),
        (
            "locked.kdl",
            if root {
                "the spec has no `project`"
            } else {
                "cannot read the spec"
            },
        ),
    ];
    for (file, expected) in cases {
        for command in ["validate", "build", "check", "explain"] {
            let out = Command::new(env!("CARGO_BIN_EXE_greenlight"))
                .arg(command)
                .arg(d.join(file))
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{command} {file}: {stderr}");
            assert!(
                stderr.contains(file) && stderr.contains(expected),
                "{command} {file}: expected a message naming the file and saying {expected:?}:\n{stderr}"
            );
            assert!(!stderr.contains("panicked"), "{command} {file}: {stderr}");
        }
    }
    assert!(!d.join("deploy").exists(), "a refused spec wrote a kit");
}
