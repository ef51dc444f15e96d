//! A hook's and a sidecar's secrets at run time (the corpus in
//! tests/injection.rs refuses hostile keys and paths): the value reaches
//! its owner's environment byte for byte and nothing else, neither the kit,
//! deploy.sh's output, its trace, a command line nor the state dir; a
//! missing file stops a deploy before anything changes.

use std::fs;
use std::path::Path;

use super::{compile, script, walk, write_kit, Base, Work, HOOK_SECRET, SIDE_SECRET};

/// What no output may hold: a word of each hostile value.
const HOOK_WORD: &str = "h00k-VALUE-7";
const SIDE_WORD: &str = "s1de-VALUE-9";

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every file under `dir` (the kit, the state dir) is free of `word`.
fn nowhere_in(dir: &Path, word: &str) {
    for file in walk(dir) {
        let content = fs::read(&file).unwrap();
        assert!(
            !String::from_utf8_lossy(&content).contains(word),
            "{} holds the secret",
            file.display()
        );
    }
}

#[test]
fn a_hook_gets_its_secret_byte_for_byte_in_its_environment_and_nothing_prints_it() {
    let work = Work::new();
    let (_, kit) = compile(&work.spec(Base::Process, None)).unwrap();
    let kit_dir = work.path("kit");
    write_kit(&kit, &kit_dir);
    nowhere_in(&kit_dir, HOOK_WORD);

    // A dry run runs no hook and reads no file: it shows the key.
    let out = work.deploy(&kit_dir, &["--dry-run", "deploy", "v1"]);
    let dry = text(&out);
    assert_eq!(out.status.code(), Some(0), "{dry}");
    assert!(dry.contains("env 'HOOK_SECRET=<secret>' "), "{dry}");
    assert!(!dry.contains(HOOK_WORD), "{dry}");
    assert!(!work.path("hook.args").exists(), "a dry run ran the hook");

    // A real run (its health gate fails): the hook gets the value exactly,
    // the trace says the key as the dry run does.
    let trace = work.path("trace");
    let out = work
        .deploy_command(&kit_dir, &["deploy", "v1"])
        .env("GREENLIGHT_TRACE", &trace)
        .output()
        .unwrap();
    let run = text(&out);
    assert_eq!(out.status.code(), Some(1), "{run}");
    assert_eq!(
        fs::read(work.path("hook.args.hook-secret")).unwrap(),
        work.fill(HOOK_SECRET).as_bytes(),
        "the hook did not get its secret byte for byte"
    );
    let traced = fs::read_to_string(&trace).unwrap();
    assert!(
        traced.contains(&format!(
            "env 'HOOK_SECRET=<secret>' {}",
            work.path("record").display()
        )),
        "{traced}"
    );
    for (what, content) in [("output", &run), ("trace", &traced)] {
        assert!(
            !content.contains(HOOK_WORD),
            "the {what} holds the secret:\n{content}"
        );
    }
    // The hook's command line is its words alone.
    let argv = fs::read_to_string(work.path("hook.args")).unwrap();
    assert!(!argv.contains(HOOK_WORD), "{argv}");
    nowhere_in(&work.path("state"), HOOK_WORD);
    work.no_marker("a real deploy");
}

#[test]
fn a_missing_hook_secret_stops_a_deploy_before_anything_changes() {
    let work = Work::new();
    let (_, kit) = compile(&work.spec(Base::Process, None)).unwrap();
    let kit_dir = work.path("kit");
    write_kit(&kit, &kit_dir);
    fs::remove_file(work.path("hook-secret")).unwrap();
    let missing = format!(
        "secret HOOK_SECRET: file {} is missing or unreadable",
        work.path("hook-secret").display()
    );

    let out = work.deploy(&kit_dir, &["--dry-run", "deploy", "v1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("warning: {missing}")),
        "{}",
        text(&out)
    );

    let out = work.deploy(&kit_dir, &["deploy", "v1"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains(&missing), "{}", text(&out));
    assert!(!work.path("state").exists(), "the state dir was created");
    assert!(!work.path("hook.args").exists(), "the hook ran");
    assert!(!work.path("start.args").exists(), "the app started");

    // A switch runs no before-deploy hook, so it does not need its secret.
    let out = work.deploy(&kit_dir, &["switch", "blue"]);
    let switch = text(&out);
    assert!(switch.contains("is not running"), "{switch}");
    assert!(!switch.contains("HOOK_SECRET"), "{switch}");
}

/// A compose app whose sidecar has a secret, on this machine's (fake) docker.
const SIDECAR_STACK: &str = r#"greenlight 1
project "shop"
app "web" {
    image "ghcr.io/acme/web"
    port 8080
    host-ports blue=@BLUE@ green=@GREEN@
    secret "APP_SECRET" from-file="@D@/app-secret"
    health "/healthz" {
        interval "100ms"
        deadline "300ms"
    }
    drain "1s"
    sidecar "edge" {
        image "ghcr.io/acme/edge"
        secret "SIDE_SECRET" from-file="@D@/side-secret"
    }
}
proxy {
    mode "host"
    listen "127.0.0.1:@LISTEN@"
}
"#;

#[test]
fn a_sidecar_secret_reaches_compose_byte_for_byte_and_no_command_line() {
    let work = Work::new();
    let spec = work
        .fill(SIDECAR_STACK)
        .replace("@BLUE@", &super::free_port().to_string())
        .replace("@GREEN@", &super::free_port().to_string())
        .replace("@LISTEN@", &super::free_port().to_string());
    let (plan, kit) = compile(&spec).unwrap();
    let sidecar = &plan.apps[0].sidecars[0].secrets[0];
    assert_eq!(sidecar.index, 1, "numbered after the app's secret");
    // Both colors' compose files are the sidecar's, in deploy.sh's table.
    let script = &kit["deploy.sh"];
    assert!(
        script.contains(
            "web | compose/web-blue.yml | compose/web-green.yml) SECRETS=( APP_SECRET 0 "
        ),
        "{script}"
    );
    for color in ["blue", "green"] {
        let compose = &kit[&format!("compose/web-{color}.yml")];
        assert!(
            compose.contains("\"SIDE_SECRET\": \"${GREENLIGHT_SECRET_1:?"),
            "{compose}"
        );
    }
    let kit_dir = work.path("kit");
    write_kit(&kit, &kit_dir);
    nowhere_in(&kit_dir, SIDE_WORD);

    // docker records its arguments, and what compose would read from its
    // environment.
    let docker = work.path("env-docker");
    script_recording_env(&docker, &work.path("docker.log"), &work.path("compose"));
    let trace = work.path("trace");
    let out = work
        .deploy_command(&kit_dir, &["deploy", "v1"])
        .env("GREENLIGHT_DOCKER", &docker)
        .env("GREENLIGHT_TRACE", &trace)
        .output()
        .unwrap();
    let run = text(&out);
    assert_eq!(out.status.code(), Some(1), "{run}");
    assert_eq!(
        fs::read(work.path("compose.1")).unwrap(),
        work.fill(SIDE_SECRET).as_bytes(),
        "compose did not get the sidecar's secret byte for byte:\n{run}"
    );
    assert_eq!(
        fs::read(work.path("compose.0")).unwrap(),
        b"s3cret-VALUE-42"
    );
    let log = fs::read_to_string(work.path("docker.log")).unwrap();
    assert!(
        log.contains("compose --project-name shop-web-blue"),
        "{log}"
    );
    let traced = fs::read_to_string(&trace).unwrap();
    for (what, content) in [
        ("output", &run),
        ("trace", &traced),
        ("docker's arguments", &log),
    ] {
        assert!(
            !content.contains(SIDE_WORD),
            "the {what} holds the secret:\n{content}"
        );
    }
    nowhere_in(&work.path("state"), SIDE_WORD);
    work.no_marker("a compose deploy");
}

/// A fake docker: appends its arguments to `log`, and writes each
/// GREENLIGHT_SECRET_N deploy.sh gave it (compose's own environment) to
/// `PREFIX.N`.
fn script_recording_env(path: &Path, log: &Path, prefix: &Path) {
    let (log, prefix) = (log.display(), prefix.display());
    let mut text = format!("#!/bin/sh\nprintf '%s\\n' \"$*\" >>'{log}'\n");
    for n in 0..2 {
        text += &format!(
            "if [ -n \"${{GREENLIGHT_SECRET_{n}+set}}\" ]; then printf '%s' \"$GREENLIGHT_SECRET_{n}\" >'{prefix}.{n}'; fi\n"
        );
    }
    script(path, &text);
}
