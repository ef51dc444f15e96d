//! Random valid specs: names, ports, images, tags, env values of arbitrary
//! printable Unicode (`$ ' " ; { } #` included), volumes, commands, hooks,
//! secrets, routes, a webhook, both runtimes and every proxy mode. Every kit
//! must build deterministically, and its files must pass their linters:
//! `bash -n` and `shellcheck --severity=style`, `nginx -t` in Debian's
//! stock nginx.conf, `docker-compose config`, and webhook's hooks file must
//! be JSON; and no app or accessory port may be published on every address.
//!
//! 20 cases by default (PROPTEST_CASES overrides it); the linters are
//! required tools in CI.

#[path = "injection/common.rs"]
mod common;
mod support;

use std::process::Command;

use common::{kdl, nginx_t};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use support::run;

/// Printable text as a spec may carry it: no control, format (bidi,
/// zero-width), private-use or unassigned characters, no line separators.
fn text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        // Mostly the characters shells, nginx and YAML treat specially.
        proptest::string::string_regex(&format!(
            r##"[ a-zA-Z0-9$'"`;{{}}#:&|<>()\[\]*?!~%@\\=,.^-]{{0,{max}}}"##
        ))
        .unwrap(),
        proptest::string::string_regex(&format!(r"[^\p{{C}}\p{{Zl}}\p{{Zp}}]{{0,{max}}}")).unwrap(),
    ]
}

/// A command word: printable, without `{` `}` (braces are placeholders).
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::string::string_regex(r##"[a-zA-Z0-9$'"`;#:&|<>()*?!~%@\\=,. -]{1,8}"##).unwrap(),
        proptest::string::string_regex(r"[^\p{C}\p{Zl}\p{Zp}{}]{1,8}").unwrap(),
        Just("{version}".to_string()),
        Just("--port={port}".to_string()),
    ]
}

/// A command line that splits back into `program` and the words.
fn command(program: &'static str) -> impl Strategy<Value = String> {
    proptest::collection::vec(word(), 0..4).prop_map(move |words| {
        std::iter::once(program.to_string())
            .chain(words.iter().map(|w| {
                // Placeholders stay outside quotes only when they are the whole word.
                if w.starts_with('{') || w.starts_with("--port={") {
                    w.clone()
                } else {
                    shell_words::quote(w).into_owned()
                }
            }))
            .collect::<Vec<_>>()
            .join(" ")
    })
}

fn name() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4})?").unwrap()
}

fn env_key() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[A-Za-z_][A-Za-z0-9_]{0,10}").unwrap()
}

#[derive(Debug, Clone)]
struct AppGen {
    process: bool,
    image: String,
    tag: String,
    env: Vec<(String, String)>,
    volume: Option<String>,
    command: Option<String>,
    start: String,
    secret: bool,
    health: String,
    sidecar: bool,
}

fn app() -> impl Strategy<Value = AppGen> {
    (
        any::<bool>(),
        proptest::string::string_regex(
            "([a-z0-9]{1,6}\\.example(:5000)?/)?[a-z0-9]{1,6}(/[a-z0-9]{1,6})?",
        )
        .unwrap(),
        proptest::string::string_regex("[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}").unwrap(),
        proptest::collection::vec((env_key(), text(24)), 0..4),
        proptest::option::of(
            proptest::string::string_regex(r##"[a-zA-Z0-9 $'"#;{}.,_-]{1,12}"##).unwrap(),
        ),
        proptest::option::of(command("serve")),
        command("/usr/local/bin/app"),
        any::<bool>(),
        proptest::string::string_regex("/[a-z0-9._~%-]{0,8}(\\?[a-z0-9=&+]{1,8})?").unwrap(),
        any::<bool>(),
    )
        .prop_map(
            |(process, image, tag, env, volume, command, start, secret, health, sidecar)| AppGen {
                process,
                image,
                tag,
                env,
                volume,
                command,
                start,
                secret,
                health,
                sidecar,
            },
        )
}

#[derive(Debug, Clone)]
struct SpecGen {
    project: String,
    names: Vec<String>,
    apps: Vec<AppGen>,
    mode: u8,
    ports: Vec<u16>,
    listen_addr: bool,
    server_names: Vec<String>,
    size: Option<String>,
    route: String,
    hook: Option<String>,
    failure_hook: Option<String>,
    accessory_env: Option<String>,
    webhook: Option<WebhookGen>,
}

/// A `webhook` block: its secret file (under /etc/), a listen address or
/// not, a tag prefix or not.
#[derive(Debug, Clone)]
struct WebhookGen {
    secret_file: String,
    listen_addr: bool,
    tag_prefix: Option<String>,
}

fn webhook() -> impl Strategy<Value = WebhookGen> {
    (
        text(24),
        any::<bool>(),
        proptest::option::of(
            proptest::string::string_regex("[A-Za-z0-9_][A-Za-z0-9_.-]{0,6}").unwrap(),
        ),
    )
        .prop_map(|(file, listen_addr, tag_prefix)| WebhookGen {
            secret_file: format!("/etc/{file}"),
            listen_addr,
            tag_prefix,
        })
}

fn spec() -> impl Strategy<Value = SpecGen> {
    (
        name(),
        proptest::collection::btree_set(name(), 1..3),
        proptest::collection::vec(app(), 2),
        0u8..3,
        proptest::collection::btree_set(1024u16..60000, 6),
        any::<bool>(),
        proptest::collection::vec(
            prop_oneof![
                proptest::string::string_regex("[a-z0-9-]{1,8}\\.example\\.com").unwrap(),
                Just("*.example.org".to_string()),
                Just("_".to_string()),
            ],
            0..3,
        ),
        proptest::option::of(proptest::string::string_regex("[1-9][0-9]{0,3}[kmgKMG]").unwrap()),
        proptest::string::string_regex("/[a-z0-9._~%-]{1,8}").unwrap(),
        proptest::option::of(command("./bin/hook")),
        proptest::option::of(command("/usr/bin/notify")),
        (
            proptest::option::of(text(24)),
            proptest::option::of(webhook()),
        ),
    )
        .prop_map(
            |(
                project,
                names,
                apps,
                mode,
                ports,
                listen_addr,
                server_names,
                size,
                route,
                hook,
                failure_hook,
                (accessory_env, webhook),
            )| {
                let names: Vec<String> = names.into_iter().collect();
                let mut ports: Vec<u16> = ports.into_iter().collect();
                // Deterministic order but not sorted by size.
                ports.reverse();
                let apps = apps.into_iter().take(names.len()).collect();
                SpecGen {
                    project,
                    names,
                    apps,
                    mode,
                    ports,
                    listen_addr,
                    server_names,
                    size,
                    route,
                    hook,
                    failure_hook,
                    accessory_env,
                    webhook,
                }
            },
        )
}

/// The spec text. Modes: 0 compose proxy, 1 host proxy, 2 remote proxy
/// (apps on a remote host, so compose runtime only).
fn render_spec(s: &SpecGen) -> String {
    let mode = ["compose", "host", "remote"][s.mode as usize];
    let mut out = format!("greenlight 1\nproject {}\n", kdl(&s.project));
    if mode == "remote" {
        out.push_str("host \"lb\" address=\"deploy@10.0.0.5\"\nhost \"was1\" address=\"deploy@10.0.0.6\" ssh-port=2222\n");
    }
    for (i, (name, a)) in s.names.iter().zip(&s.apps).enumerate() {
        // The app names must differ from the accessory's.
        let process = a.process && mode != "remote";
        out.push_str(&format!("app {} {{\n", kdl(name)));
        if process {
            out.push_str(&format!(
                "    runtime \"process\"\n    start {}\n",
                kdl(&a.start)
            ));
        } else {
            out.push_str(&format!(
                "    image {}\n    tag {}\n    port 8080\n",
                kdl(&a.image),
                kdl(&a.tag)
            ));
            if let Some(v) = &a.volume {
                out.push_str(&format!(
                    "    volume {} \"/data\" read-only=#true\n",
                    kdl(&format!("/srv/{v}"))
                ));
            }
            if let Some(c) = &a.command {
                let words = shell_words::split(c).unwrap();
                out.push_str(&format!(
                    "    command {}\n",
                    words.iter().map(|w| kdl(w)).collect::<Vec<_>>().join(" ")
                ));
            }
            if a.sidecar {
                out.push_str(&format!(
                    "    sidecar \"edge-side-{i}\" entry=#true {{\n        image \"nginx\"\n        port 80\n        env \"UPSTREAM\" {}\n    }}\n",
                    kdl(&a.env.first().map(|e| e.1.clone()).unwrap_or_default())
                ));
            }
        }
        if process || mode != "compose" {
            out.push_str(&format!(
                "    host-ports blue={} green={}\n",
                s.ports[2 * i],
                s.ports[2 * i + 1]
            ));
        }
        let mut keys = Vec::new();
        for (k, v) in &a.env {
            if !keys.contains(k) {
                keys.push(k.clone());
                out.push_str(&format!("    env {} {}\n", kdl(k), kdl(v)));
            }
        }
        if a.secret && !keys.iter().any(|k| k == "DB_PASSWORD") {
            out.push_str("    secret \"DB_PASSWORD\" from-file=\"/run/secrets/db\"\n");
        }
        out.push_str(&format!("    health {}\n}}\n", kdl(&a.health)));
    }
    if let Some(value) = &s.accessory_env {
        if mode != "remote" {
            out.push_str(&format!(
                "accessory \"cache-acc-x\" {{\n    image \"redis:7.2\"\n    env \"NOTE\" {}\n    secret \"REDIS_PASSWORD\" from-file=\"/run/secrets/redis\"\n}}\n",
                kdl(value)
            ));
        }
    }
    out.push_str(&format!("proxy {{\n    mode {}\n", kdl(mode)));
    if mode == "remote" {
        out.push_str("    on \"lb\"\n");
    }
    let port = s.ports[4];
    if s.listen_addr && mode != "compose" {
        out.push_str(&format!("    listen \"127.0.0.1:{port}\"\n"));
    } else {
        out.push_str(&format!("    listen {port}\n"));
    }
    if !s.server_names.is_empty() {
        out.push_str(&format!(
            "    server-name {}\n",
            s.server_names
                .iter()
                .map(|n| kdl(n))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    if let Some(size) = &s.size {
        out.push_str(&format!("    client-max-body-size {}\n", kdl(size)));
    }
    if s.names.len() > 1 {
        out.push_str(&format!(
            "    route \"/\" app={}\n    route {} app={}\n",
            kdl(&s.names[0]),
            kdl(&s.route),
            kdl(&s.names[1])
        ));
    }
    out.push_str("}\n");
    if s.hook.is_some() || s.failure_hook.is_some() {
        out.push_str("hooks {\n");
        if let Some(h) = &s.hook {
            out.push_str(&format!("    after-healthy {}\n", kdl(h)));
        }
        if let Some(h) = &s.failure_hook {
            out.push_str(&format!("    on-failure {}\n", kdl(h)));
        }
        out.push_str("}\n");
    }
    if let Some(w) = &s.webhook {
        out.push_str(&format!(
            "webhook {{\n    secret-file {}\n",
            kdl(&w.secret_file)
        ));
        let port = s.ports[5];
        if w.listen_addr {
            out.push_str(&format!("    listen \"127.0.0.1:{port}\"\n"));
        } else {
            out.push_str(&format!("    listen {port}\n"));
        }
        if let Some(prefix) = &w.tag_prefix {
            out.push_str(&format!("    tag-prefix {}\n", kdl(prefix)));
        }
        out.push_str("}\n");
    }
    out
}

fn check(s: &SpecGen) -> Result<(), TestCaseError> {
    let text = render_spec(s);
    let (plan, _) = greenlight::load_text("prop.kdl", text.clone()).map_err(|report| {
        TestCaseError::fail(format!(
            "a valid spec was refused:\n{text}\n{}",
            greenlight::diagnostic::render_plain(&report)
        ))
    })?;
    let source = greenlight::render::TemplateSource::default();
    let kit = greenlight::kit(&plan, source.clone()).expect("renders");
    let again = greenlight::kit(&plan, source).expect("renders");
    prop_assert_eq!(&kit, &again, "two renders differ");
    let (plan2, _) = greenlight::load_text("prop.kdl", text.clone()).unwrap();
    let third = greenlight::kit(&plan2, greenlight::render::TemplateSource::default()).unwrap();
    prop_assert_eq!(&kit, &third, "two loads render differently");

    let dir = tempfile::tempdir().unwrap();
    let out = camino::Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap();
    greenlight::emit::write(&kit, &out).unwrap();

    // The linters run side by side: shellcheck is the slow one.
    let script = support::inline_kit_code(dir.path());
    let shellcheck = Command::new("shellcheck")
        .args(["--severity=style", "--shell=bash"])
        .arg(&script)
        .output();
    let (ok, output) = run(Command::new("bash").arg("-n").arg(&script));
    prop_assert!(ok, "bash -n:\n{}\n{}", output, text);
    for (path, content) in kit.iter().filter(|(p, _)| p.as_str().ends_with(".yml")) {
        if path.as_str() == "compose/proxy.yml" {
            continue;
        }
        for (service, address) in support::published_ports(content) {
            prop_assert!(
                support::is_one_address(&address),
                "{} publishes {}'s port on every address:\n{}",
                path,
                service,
                text
            );
        }
    }
    if let Some(hooks) = kit.get(&camino::Utf8PathBuf::from("webhook/hooks.json")) {
        let parsed: Result<serde_json::Value, _> = serde_json::from_str(hooks);
        prop_assert!(
            parsed.is_ok(),
            "webhook/hooks.json is no JSON:\n{}\n{}",
            hooks,
            text
        );
    }
    let mut compose_checks = Vec::new();
    for path in kit.keys().filter(|p| p.as_str().ends_with(".yml")) {
        // One color of each app is enough: the other differs in names only.
        if path.as_str().ends_with("-green.yml") {
            continue;
        }
        let mut cmd = Command::new("docker-compose");
        cmd.env("GREENLIGHT_VERSION", "v1")
            .env("GREENLIGHT_VERSION_REF", ":v1")
            .env("GREENLIGHT_SECRET_0", "s$cr'et\"\n")
            .env("GREENLIGHT_SECRET_1", "x")
            .arg("--project-directory")
            .arg(dir.path());
        // The njs override is only ever used on top of nginx's file.
        if path.as_str() == "compose/proxy-njs.yml" {
            cmd.arg("-f").arg(dir.path().join("compose/proxy.yml"));
        }
        cmd.arg("-f")
            .arg(dir.path().join(path.as_str()))
            .args(["config", "-q"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        compose_checks.push((path.to_string(), cmd.spawn().unwrap()));
    }
    nginx_t(dir.path(), &plan, &text);
    for (path, child) in compose_checks {
        let out = child.wait_with_output().unwrap();
        prop_assert!(
            out.status.success(),
            "docker-compose config {}:\n{}\n{}",
            path,
            String::from_utf8_lossy(&out.stderr),
            text
        );
    }
    let shellcheck = shellcheck.unwrap();
    prop_assert!(
        shellcheck.status.success(),
        "shellcheck:\n{}\n{}",
        String::from_utf8_lossy(&shellcheck.stdout),
        text
    );
    Ok(())
}

#[test]
fn random_valid_specs_build_deterministically_and_pass_every_linter() {
    if !["shellcheck", "nginx", "openssl", "docker-compose"]
        .iter()
        .all(|t| support::tool_available(t))
    {
        return;
    }
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        // Each step runs the linters: keep shrinking a failure short.
        max_shrink_iters: 24,
        ..Config::default()
    });
    let started = std::time::Instant::now();
    runner
        .run(&spec(), |s| check(&s))
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("{cases} random specs checked in {:.1?}", started.elapsed());
}

#[test]
fn the_generator_covers_every_proxy_mode_and_runtime() {
    // A sample of the generator, checked for variety (no linters).
    let mut runner = TestRunner::deterministic();
    let mut modes = [false; 3];
    let mut process = false;
    let mut webhook = false;
    for _ in 0..64 {
        let s = spec().new_tree(&mut runner).unwrap().current();
        modes[s.mode as usize] = true;
        process |= s.mode != 2 && s.apps.iter().any(|a| a.process);
        webhook |= s.webhook.is_some();
        let text = render_spec(&s);
        assert!(
            greenlight::load_text("prop.kdl", text.clone()).is_ok(),
            "a generated spec is refused:\n{text}"
        );
    }
    assert!(
        modes.iter().all(|m| *m) && process && webhook,
        "{modes:?} {process} {webhook}"
    );
}
