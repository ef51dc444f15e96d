//! Values deploy.sh reads back at run time are input too: docker's listings,
//! labels, addresses and pids, nginx's output, the state dir, the lock
//! holder, pid files and the live file. A fake docker and a fake nginx
//! (GREENLIGHT_DOCKER, GREENLIGHT_NGINX) answer with hostile values, and
//! hostile files are planted in the state and conf dirs; deploy.sh must run
//! no payload, pass none of them to a command, and print none raw.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Each payload creates a file under the marker dir if it ever runs.
fn payloads(markers: &Path) -> Vec<String> {
    let m = markers.display();
    vec![
        format!("x/;e touch {m}/sed-e;#"),
        format!("$(touch {m}/subst)"),
        format!("`touch {m}/backtick`"),
        format!("a;touch {m}/semicolon"),
        format!("1+a[$(touch {m}/arith)]"),
        "\u{1b}]0;owned\u{7}\u{1b}[2J".to_string(),
    ]
}

struct Work {
    dir: tempfile::TempDir,
}

impl Work {
    fn new() -> Work {
        let work = Work {
            dir: tempfile::tempdir().unwrap(),
        };
        for sub in ["markers", "conf.d", "state/run", "state/nginx"] {
            fs::create_dir_all(work.path(sub)).unwrap();
        }
        fs::set_permissions(work.path("state"), fs::Permissions::from_mode(0o700)).unwrap();
        work
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn script(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        fs::write(&path, text).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn build(&self, spec: &str) -> PathBuf {
        fs::write(self.path("spec.kdl"), spec).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_greenlight"))
            .arg("build")
            .arg(self.path("spec.kdl"))
            .arg("-o")
            .arg(self.path("kit"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        self.path("kit")
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = Command::new(self.path("kit/deploy.sh"))
            .args(args)
            .env("GREENLIGHT_STATE_DIR", self.path("state"))
            .env("GREENLIGHT_NGINX_CONF_DIR", self.path("conf.d"))
            .env("GREENLIGHT_NGINX", self.path("nginx"))
            .env("GREENLIGHT_DOCKER", self.path("docker"))
            .env("GREENLIGHT_COMPOSE", "v2")
            .env("CALLS", self.path("calls"))
            .env("MARKERS", self.path("markers"))
            .output()
            .unwrap();
        eprintln!(
            "$ deploy.sh {}\n{}{}exit {:?}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            out.status.code()
        );
        out
    }

    /// No payload ran, none reached a command's arguments, none was printed
    /// raw (an escape sequence reaching the terminal).
    fn assert_inert(&self, out: &Output, context: &str) {
        let ran: Vec<_> = fs::read_dir(self.path("markers"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(ran.is_empty(), "{context}: payloads ran: {ran:?}");
        let calls = fs::read_to_string(self.path("calls")).unwrap_or_default();
        for line in calls.lines() {
            for bad in ["touch", "$(", "`", "/;e", "\u{1b}"] {
                assert!(
                    !line.contains(bad),
                    "{context}: a value read back reached a command: {line}"
                );
            }
        }
        for stream in [&out.stdout, &out.stderr] {
            assert!(
                !stream.contains(&0x1b),
                "{context}: an escape sequence read back was printed raw"
            );
        }
        assert_ne!(
            out.status.code(),
            None,
            "{context}: deploy.sh died by a signal"
        );
    }
}

/// A docker that answers every question with hostile values: listings
/// whose labels carry payloads (one forging a second line), ids, addresses
/// and pids that are commands, and log lines with escape sequences.
fn fake_docker(work: &Work, project: &str) {
    let hostile = payloads(&work.path("markers"));
    let json = |s: &str| serde_json::to_string(s).unwrap();
    let mut listing = String::new();
    let good_id = "0123456789ab";
    for (i, payload) in hostile.iter().enumerate() {
        // A label as docker's json template prints it.
        listing.push_str(&format!(
            "{good_id}{i:02} running {} \"entry\" {} \"v1\"\n",
            json(&format!("{project}-web-blue")),
            json(payload)
        ));
        listing.push_str(&format!(
            "{good_id}{i:02} running {} {} \"web\" \"v1\"\n",
            json(&format!("{project}-web-green")),
            json(payload)
        ));
    }
    // A newline in a label would forge a line; json keeps it in one.
    listing.push_str(&format!(
        "aaaaaaaaaaaa running \"{project}-web-blue\" \"entry\" {} \"v1\"\n",
        json(&format!(
            "x\nbbbbbbbbbbbb running {project}-web-blue entry web v1"
        ))
    ));
    listing.push_str(&format!(
        "{} running \"{project}-web-blue\" \"entry\" \"web\" \"v1\"\n",
        hostile[1]
    ));
    listing.push_str(&format!(
        "cccccccccccc running \"{project}-web-blue\" \"entry\" \"web\" {}\n",
        json(&hostile[1])
    ));
    // A well-formed proxy container, so the run gets as far as a deploy goes.
    listing.push_str(&format!(
        "dddddddddddd running \"{project}-proxy\" \"proxy\" \"nginx\" \"\"\n"
    ));
    fs::write(work.path("listing"), listing).unwrap();
    let mut ids = String::new();
    let mut values = String::new();
    for payload in &hostile {
        ids.push_str(&format!("{payload}\n"));
        values.push_str(&format!("{payload}\n"));
    }
    fs::write(work.path("ids"), ids).unwrap();
    fs::write(work.path("values"), values).unwrap();
    work.script(
        "docker",
        &format!(
            r#"#!/bin/bash
printf '%s\n' "${{*@Q}}" >>"$CALLS"
w={w}
case $1 in
  compose) exit 0 ;;
  version) echo 20.10.24 ;;
  ps)
    if [[ " $* " == *" -q "* ]]; then cat "$w/ids"; else cat "$w/listing"; fi ;;
  inspect)
    if [[ $* == *RestartCount* ]]; then printf 'true 0\n'; else cat "$w/values"; fi ;;
  logs) printf 'booting\e]0;owned\a\e[2J\n'; cat "$w/values" ;;
  cp) tar -cf - -T /dev/null ;;
  exec) printf 'pid /run/$(touch %s/nginx-pid);\n' "$MARKERS" ;;
  top) cat "$w/values" ;;
esac
exit 0
"#,
            w = work.path("").display()
        ),
    );
}

/// An nginx whose -T and -V name hostile pid files.
fn fake_nginx(work: &Work) {
    work.script(
        "nginx",
        r#"#!/bin/bash
printf '%s\n' "${*@Q}" >>"$CALLS"
case " $* " in
  *" -T "*) printf 'pid /run/x;touch %s/pid-t;\n' "$MARKERS" ;;
  *" -V "*) printf 'nginx version: x\n--pid-path=$(touch %s/pid-v)\n' "$MARKERS" >&2 ;;
esac
exit 0
"#,
    );
}

#[test]
fn docker_listings_labels_addresses_and_pids_never_run_as_code() {
    let work = Work::new();
    fake_docker(&work, "rb");
    fake_nginx(&work);
    work.build(
        r#"greenlight 1
project "rb"
app "web" {
    image "example/web"
    port 8080
    health "/healthz" {
        interval "200ms"
        timeout "1s"
        deadline "1s"
    }
}
proxy {
    mode "compose"
    listen 8080
}
"#,
    );
    let out = work.run(&["deploy", "v2"]);
    work.assert_inert(&out, "compose deploy");
    assert_eq!(
        out.status.code(),
        Some(1),
        "no address fits: the gate fails"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("that is not a valid docker listing"),
        "{stderr}"
    );
    let calls = fs::read_to_string(work.path("calls")).unwrap();
    for forged in ["aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc"] {
        assert!(
            !calls.contains(forged),
            "a container from a listing line that does not fit was used: {forged}"
        );
    }
    let out = work.run(&["status"]);
    work.assert_inert(&out, "compose status");
}

#[test]
fn state_pending_lock_pid_and_live_files_are_checked_before_use() {
    let work = Work::new();
    fake_nginx(&work);
    work.script("docker", "#!/bin/sh\nexit 1\n");
    let markers = work.path("markers");
    let hostile = payloads(&markers);
    work.build(&format!(
        r#"greenlight 1
project "rb"
app "web" {{
    runtime "process"
    start "{sleep} 600"
    host-ports blue=1 green=2
    health "/healthz"
}}
proxy {{
    mode "host"
    listen "127.0.0.1:9"
}}
"#,
        sleep = "/bin/sleep"
    ));
    let mut state = String::new();
    for payload in hostile.iter().rev() {
        state.push_str(&format!(
            "live web green {payload}\nprevious web blue {payload}\n"
        ));
    }
    fs::write(work.path("state/state"), state).unwrap();
    fs::write(
        work.path("state/pending"),
        format!("web green {}\n", hostile[1]),
    )
    .unwrap();
    fs::write(
        work.path("state/lock.holder"),
        format!(
            "pid 1 started {} by {} since x: deploy\n",
            hostile[1], hostile[5]
        ),
    )
    .unwrap();
    fs::write(
        work.path("state/run/web-blue.pid"),
        format!("{} {}\n", hostile[4], hostile[1]),
    )
    .unwrap();
    fs::write(
        work.path("conf.d/greenlight-rb.conf"),
        "js_import gl_rb from x;\n",
    )
    .unwrap();
    fs::write(
        work.path("conf.d/greenlight-rb.live"),
        format!("web {}\nweb green\n", hostile[0]),
    )
    .unwrap();
    let out = work.run(&["status"]);
    work.assert_inert(&out, "status");
    // No nginx answers here: status says so, from the one valid live line.
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("nginx serves no route of web") && stdout.contains("conf says green"),
        "{stdout}"
    );
    let out = work.run(&["--dry-run", "deploy", "v2"]);
    work.assert_inert(&out, "dry-run deploy");
    let out = work.run(&["rollback"]);
    work.assert_inert(&out, "rollback");
    assert_ne!(out.status.code(), Some(0), "no valid previous version");
}

/// A docker for a swarm kit whose every answer about the swarm is hostile:
/// task names, states, nodes and errors (`service ps`), the version label
/// (`service inspect`), node names (`node ls`), log lines, and the image
/// tags and secret names prune reads (`image ls`, `secret ls`).
fn fake_swarm_docker(work: &Work, project: &str) {
    let hostile = payloads(&work.path("markers"));
    let mut tasks = String::new();
    let mut nodes = String::new();
    for payload in &hostile {
        let service = format!("{project}-web-blue_web");
        tasks.push_str(&format!("{payload}|Running|m|Running 2 seconds ago\n"));
        tasks.push_str(&format!("{service}.1|{payload}|m|Running 2 seconds ago\n"));
        tasks.push_str(&format!(
            "{service}.2|Running|{payload}|Running 2 seconds ago\n"
        ));
        tasks.push_str(&format!("{service}.3|Running|m|{payload}\n"));
        nodes.push_str(&format!("{payload} Leader Ready\n"));
    }
    fs::write(work.path("tasks"), tasks).unwrap();
    fs::write(work.path("nodes"), nodes).unwrap();
    fs::write(work.path("values"), hostile.join("\n") + "\n").unwrap();
    fs::write(
        work.path("listing"),
        format!(
            "dddddddddddd running \"{project}-proxy\" \"proxy\" \"{project}-proxy_nginx\" \"\"\n"
        ),
    )
    .unwrap();
    work.script(
        "docker",
        &format!(
            r#"#!/bin/bash
printf '%s\n' "${{*@Q}}" >>"$CALLS"
w={w}
case "$1 $2" in
  "service ps")
    if [[ $* == *Error* ]]; then printf 'Failed 1 second ago|$(touch %s/error)\e[2J\n' "$MARKERS"; else cat "$w/tasks"; fi ;;
  "service inspect") [[ $* != *greenlight.version* ]] || head -n 2 "$w/values" | tail -n 1 ;;
  "service logs") printf 'web.1@m | booting\e]0;owned\a\e[2J\n'; cat "$w/values" ;;
  "node ls") cat "$w/nodes" ;;
  "image inspect" | "image ls" | "secret ls") cat "$w/values" ;;
  version*) echo 20.10.24 ;;
  ps*) if [[ " $* " == *" -q "* ]]; then cat "$w/values"; else cat "$w/listing"; fi ;;
  inspect*) cat "$w/values" ;;
  cp*) tar -cf - -T /dev/null ;;
  exec*) printf 'pid /run/$(touch %s/nginx-pid);\n' "$MARKERS" ;;
  top*) cat "$w/values" ;;
esac
exit 0
"#,
            w = work.path("").display()
        ),
    );
}

#[test]
fn a_swarm_s_tasks_nodes_labels_and_errors_never_run_as_code() {
    let work = Work::new();
    fake_swarm_docker(&work, "sw");
    fake_nginx(&work);
    let secret = work.path("db-password");
    fs::write(&secret, "s3cret").unwrap();
    work.build(&format!(
        r#"greenlight 1
project "sw"
orchestrator "swarm"
app "web" {{
    image "example/web"
    port 8080
    replicas 3
    secret "DB_PASSWORD" from-file="{}" as="file"
    health "/healthz" {{
        interval "200ms"
        timeout "1s"
        deadline "1s"
    }}
}}
"#,
        secret.display()
    ));
    let out = work.run(&["deploy", "v2"]);
    work.assert_inert(&out, "swarm deploy");
    assert_eq!(
        out.status.code(),
        Some(1),
        "no task line fits: no task runs, the gate fails"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("that is not a valid task"), "{stderr}");
    for args in [&["status"][..], &["status", "--json"], &["logs", "web"]] {
        let out = work.run(args);
        work.assert_inert(&out, &format!("swarm {args:?}"));
    }
    let out = work.run(&["prune"]);
    work.assert_inert(&out, "swarm prune");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("that is not a valid secret"), "{stderr}");
}
