//! The webhook kit file, proven with the real adnanh/webhook (Debian's
//! `webhook`): `deploy.sh webhook` serves it with the secret read from its
//! file, and only a push of a tag, signed by GitHub's scheme with that
//! secret, runs deploy.sh, which gets exactly the tag. Every other request
//! (unsigned, wrongly signed, a branch, a deleted tag, another event, a tag
//! outside the version grammar or the prefix) runs nothing.
//!
//! The kit is a process app behind a host nginx; its before-deploy hook
//! records the version it is given (and whether the secret reached it) and
//! fails, so the deploy stops before anything starts: no nginx, docker or
//! port of an app is needed.

mod support;

use std::fs;
use std::io::Write;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use camino::Utf8PathBuf;

const SECRET: &str = "0123456789abcdef-webhook-test-secret";

/// The stack: the hook writes "VERSION SECRET-OR-unset" and fails.
fn spec(dir: &Path, port: u16) -> String {
    format!(
        r#"greenlight 1
project "hooked"
app "web" {{
    runtime "process"
    start "/bin/sleep 60 {{port}}"
    host-ports blue=1 green=2
    health "/healthz"
}}
proxy {{
    mode "host"
    listen "127.0.0.1:3"
}}
hooks {{
    before-deploy "./record-version {{version}}"
}}
webhook {{
    secret-file "{dir}/secret"
    listen "127.0.0.1:{port}"
    tag-prefix "v"
}}
"#,
        dir = dir.display()
    )
}

/// A kit of `spec(dir, port)` in `dir/kit`, with the recording hook beside it.
fn kit(dir: &Path, port: u16) -> PathBuf {
    let (plan, _) = greenlight::load_text("stack.kdl", spec(dir, port))
        .unwrap_or_else(|e| panic!("the spec does not load: {e:?}"));
    let kit = greenlight::kit(&plan, greenlight::render::TemplateSource::default()).unwrap();
    let out = dir.join("kit");
    greenlight::emit::write(&kit, &Utf8PathBuf::from_path_buf(out.clone()).unwrap()).unwrap();
    let hook = out.join("record-version");
    fs::write(
        &hook,
        format!(
            "#!/bin/sh\nprintf '%s %s\\n' \"$1\" \"${{GREENLIGHT_WEBHOOK_SECRET:-unset}}\" >>'{}'\nexit 1\n",
            dir.join("marker").display()
        ),
    )
    .unwrap();
    fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();
    fs::create_dir_all(dir.join("conf.d")).unwrap();
    out
}

/// deploy.sh of `kit` with every run-time path inside `dir`.
fn deploy_sh(kit: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(kit.join("deploy.sh"));
    cmd.env("GREENLIGHT_STATE_DIR", dir.join("state"))
        .env("GREENLIGHT_NGINX_CONF_DIR", dir.join("conf.d"))
        .env("GREENLIGHT_NGINX", "true")
        .env("TMPDIR", dir)
        .stdin(Stdio::null());
    cmd
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `deploy.sh webhook` running (as webhook itself, after its exec); killed
/// when dropped. Its output goes to `log`.
struct Served {
    child: Child,
    log: PathBuf,
}

impl Served {
    fn start(kit: &Path, dir: &Path, port: u16) -> Served {
        let log = dir.join("webhook.log");
        let out = fs::File::create(&log).unwrap();
        let child = deploy_sh(kit, dir)
            .arg("webhook")
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let mut served = Served { child, log };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = served.child.try_wait().unwrap() {
                panic!("deploy.sh webhook exited ({status}):\n{}", served.log());
            }
            assert!(
                Instant::now() < deadline,
                "webhook never listened:\n{}",
                served.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        served
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GitHub's X-Hub-Signature-256 of `body` with `secret`: `sha256=` and the
/// hex HMAC-SHA256, computed by openssl.
fn signature(secret: &str, body: &str) -> String {
    let mut openssl = Command::new("openssl")
        .args(["dgst", "-sha256", "-hmac", secret])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    openssl
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = openssl.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl dgst failed");
    let text = String::from_utf8(out.stdout).unwrap();
    let hex = text.split_whitespace().last().unwrap();
    assert_eq!(hex.len(), 64, "openssl printed {text:?}");
    format!("sha256={hex}")
}

/// POSTs `body` as GitHub does (JSON, the event header, the signature when
/// given); returns the status and the body of the answer.
fn post(port: u16, event: &str, body: &str, signature: Option<&str>) -> (u16, String) {
    let mut curl = Command::new("curl");
    curl.args([
        "-sS",
        "--max-time",
        "10",
        "-w",
        "\n%{http_code}",
        "-X",
        "POST",
    ])
    .args(["-H", "Content-Type: application/json"])
    .args(["-H", &format!("X-GitHub-Event: {event}")]);
    if let Some(signature) = signature {
        curl.args(["-H", &format!("X-Hub-Signature-256: {signature}")]);
    }
    let out = curl
        .args(["--data-binary", body])
        .arg(format!("http://127.0.0.1:{port}/hooks/deploy-hooked"))
        .output()
        .unwrap();
    assert!(out.status.success(), "curl failed: {out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let (answer, code) = text.rsplit_once('\n').unwrap();
    (code.parse().unwrap(), answer.to_string())
}

/// A push event's payload (the fields the hook reads).
fn push(git_ref: &str, deleted: bool) -> String {
    serde_json::json!({
        "ref": git_ref,
        "before": "0000000000000000000000000000000000000000",
        "after": "1111111111111111111111111111111111111111",
        "created": !deleted,
        "deleted": deleted,
        "repository": { "full_name": "acme/hooked" },
    })
    .to_string()
}

/// How a test request is signed: not at all, rightly (the secret, its own
/// body), or with this secret over this body.
enum Signed<'a> {
    Not,
    Right,
    With(&'a str, &'a str),
}

fn tools() -> bool {
    support::tool_available("webhook")
        && support::tool_available("openssl")
        && support::tool_available("curl")
}

/// The one request that deploys, among every one that must not.
#[test]
fn only_a_signed_push_of_a_tag_runs_deploy_sh_and_it_gets_exactly_the_tag() {
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let port = free_port();
    let kit = kit(dir, port);
    let secret_file = dir.join("secret");
    fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    fs::set_permissions(&secret_file, fs::Permissions::from_mode(0o600)).unwrap();
    let started = Instant::now();
    let served = Served::start(&kit, dir, port);
    println!("webhook listening {:?} after start", started.elapsed());

    let good = push("refs/tags/v1.2.3", false);
    let other_body = push("refs/tags/v9.9.9", false);
    let refused = [
        ("unsigned", "push", &good, Signed::Not),
        (
            "signed with another secret",
            "push",
            &good,
            Signed::With("another-secret-of-some-length", &good),
        ),
        (
            "a signature of another body",
            "push",
            &good,
            Signed::With(SECRET, &other_body),
        ),
        (
            "a branch",
            "push",
            &push("refs/heads/main", false),
            Signed::Right,
        ),
        (
            "a deleted tag",
            "push",
            &push("refs/tags/v1.2.3", true),
            Signed::Right,
        ),
        ("another event", "create", &good, Signed::Right),
        (
            "a shell payload",
            "push",
            &push("refs/tags/v1;rm -rf", false),
            Signed::Right,
        ),
        (
            "a path",
            "push",
            &push("refs/tags/../x", false),
            Signed::Right,
        ),
        (
            "a newline",
            "push",
            &push("refs/tags/v1\nv2", false),
            Signed::Right,
        ),
        (
            "outside the prefix",
            "push",
            &push("refs/tags/1.2.3", false),
            Signed::Right,
        ),
        (
            "a tag too long",
            "push",
            &push(&format!("refs/tags/v{}", "1".repeat(128)), false),
            Signed::Right,
        ),
    ];
    for (what, event, body, signed) in refused {
        let signature = match signed {
            Signed::Not => None,
            Signed::Right => Some(signature(SECRET, body)),
            Signed::With(secret, signed_body) => Some(signature(secret, signed_body)),
        };
        let (code, answer) = post(port, event, body, signature.as_deref());
        assert!(
            answer != "deploy started\n" && (code == 200 || code == 500),
            "{what}: webhook answered {code} {answer:?}\n{}",
            served.log()
        );
    }

    let asked = Instant::now();
    let (code, answer) = post(port, "push", &good, Some(&signature(SECRET, &good)));
    assert_eq!((code, answer.as_str()), (200, "deploy started\n"));
    let marker = dir.join("marker");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !served.log().contains("finished handling deploy-hooked") {
        assert!(
            Instant::now() < deadline,
            "the deploy never ended:\n{}",
            served.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    println!(
        "the hook's deploy ended {:?} after the request",
        asked.elapsed()
    );
    let log = served.log();
    assert_eq!(
        fs::read_to_string(&marker).unwrap(),
        "v1.2.3 unset\n",
        "deploy.sh must get exactly the tag, and never the secret:\n{log}"
    );
    assert_eq!(
        log.matches("executing ./deploy.sh").count(),
        1,
        "only the signed push of a tag may run deploy.sh:\n{log}"
    );
    assert!(
        log.contains(r#"["./deploy.sh" "deploy" "--ref" "refs/tags/v1.2.3"]"#),
        "{log}"
    );
    assert!(
        !log.contains(SECRET),
        "webhook's log shows the secret:\n{log}"
    );
}

/// deploy.sh checks the ref again, whoever runs it: anything but
/// `refs/tags/` and a tag of the version grammar exits 2 before anything.
#[test]
fn deploy_ref_outside_the_grammar_exits_2_before_anything() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let kit = kit(dir, 9);
    for bad in [
        "refs/tags/v1;rm -rf",
        "refs/tags/../x",
        "refs/tags/v1/../x",
        "refs/tags/$(touch x)",
        "refs/tags/v1\nv2",
        "refs/tags/",
        "refs/tags/-v1",
        "refs/heads/main",
        "v1.2.3",
        "refs/tags/sha256:0000000000000000000000000000000000000000000000000000000000000000",
    ] {
        let out = deploy_sh(&kit, dir)
            .args(["deploy", "--ref", bad])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--ref {bad:?}: {stderr}");
        assert!(
            stderr.contains("--ref takes refs/tags/TAG"),
            "{bad:?}: {stderr}"
        );
        assert!(!dir.join("marker").exists(), "--ref {bad:?} ran the hook");
        assert!(!dir.join("state").exists(), "--ref {bad:?} took the lock");
    }
    for args in [
        &["deploy", "v1", "--ref", "refs/tags/v2"][..],
        &["status", "--ref", "refs/tags/v2"][..],
    ] {
        let out = deploy_sh(&kit, dir).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    let out = deploy_sh(&kit, dir)
        .args(["deploy", "--ref", "refs/tags/v1.2.3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the hook fails the deploy");
    assert_eq!(
        fs::read_to_string(dir.join("marker")).unwrap(),
        "v1.2.3 unset\n"
    );
}

/// `deploy.sh webhook` reads the secret file when it starts: a missing file
/// or a weak secret is refused (exit 2) before webhook runs, and a dry run
/// prints webhook's command line without reading it.
#[test]
fn the_webhook_command_refuses_a_missing_or_weak_secret() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let kit = kit(dir, 9);
    let out = deploy_sh(&kit, dir)
        .args(["--dry-run", "webhook"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout.contains(&format!(
            "[dry-run] webhook -template -verbose -hooks {}/webhook/hooks.json -port 9 -ip 127.0.0.1",
            kit.display()
        )),
        "{stdout}"
    );
    if !support::tool_available("webhook") {
        return;
    }
    let secret_file = dir.join("secret");
    for (secret, message) in [
        (None, "is missing or unreadable"),
        (Some("short-secret\n"), "16 or more printable ASCII"),
        (
            Some("has a space in it, sixteen+\n"),
            "16 or more printable ASCII",
        ),
        (
            Some("quote'd-secret-0123456789\n"),
            "16 or more printable ASCII",
        ),
    ] {
        match secret {
            Some(text) => fs::write(&secret_file, text).unwrap(),
            None => {
                let _ = fs::remove_file(&secret_file);
            }
        }
        let out = deploy_sh(&kit, dir).arg("webhook").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{secret:?}: {stderr}");
        assert!(stderr.contains(message), "{secret:?}: {stderr}");
    }
}

/// The kit file is JSON webhook reads: one hook, signed with HMAC-SHA256,
/// the ref matched with the plan's version grammar, the secret in it only
/// as webhook's `getenv`, and none in a kit without a `webhook` block.
#[test]
fn the_hooks_file_is_json_and_only_in_a_kit_with_a_webhook() {
    let devrank = support::root().join("specs/devrank.kdl");
    let (loaded, kit) = support::render(&Utf8PathBuf::from_path_buf(devrank).unwrap());
    let text = &kit[&Utf8PathBuf::from("webhook/hooks.json")];
    let hooks: serde_json::Value = serde_json::from_str(text).expect("hooks.json is JSON");
    let hook = &hooks.as_array().expect("an array of hooks")[0];
    assert_eq!(hooks.as_array().unwrap().len(), 1);
    assert_eq!(hook["id"], "deploy-devrank");
    assert_eq!(hook["execute-command"], "./deploy.sh");
    let rules = hook["trigger-rule"]["and"].as_array().unwrap();
    let first = &rules[0]["match"];
    assert_eq!(first["type"], "payload-hmac-sha256");
    assert_eq!(first["parameter"]["name"], "X-Hub-Signature-256");
    assert_eq!(
        first["secret"],
        "{{ getenv `GREENLIGHT_WEBHOOK_SECRET` | js }}"
    );
    let tag_rule = format!("^refs/tags/{}$", loaded.plan.tag_pattern);
    assert!(
        rules
            .iter()
            .any(|r| r["match"]["regex"] == tag_rule.as_str()),
        "no rule matches the ref with {tag_rule}"
    );
    assert_eq!(text.matches("{{").count(), 1, "one Go template action only");

    let hello = support::root().join("specs/hello.kdl");
    let (_, kit) = support::render(&Utf8PathBuf::from_path_buf(hello).unwrap());
    assert!(kit.keys().all(|p| !p.starts_with("webhook/")));
    let script = &support::kit_code(&kit);
    for word in ["cmd_webhook", "--ref", "WEBHOOK_"] {
        assert!(!script.contains(word), "hello's deploy.sh has {word}");
    }
}
