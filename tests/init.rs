//! `greenlight init`: every runtime × proxy it offers writes a commented
//! spec that `validate` accepts; an existing file is kept unless --force.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn greenlight(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_greenlight"));
    command.current_dir(dir);
    command
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn every_runtime_and_proxy_gives_a_spec_that_validates() {
    let dir = tempfile::tempdir().unwrap();
    for runtime in ["compose", "process", "swarm"] {
        // nginx is a swarm service under a swarm: no host mode.
        let proxies: &[&str] = if runtime == "swarm" {
            &["compose"]
        } else {
            &["host", "compose"]
        };
        for &proxy in proxies {
            let file = format!("{runtime}-{proxy}.kdl");
            let out = greenlight(dir.path())
                .args(["init", &file, "--project", "shop"])
                .args(["--runtime", runtime, "--proxy", proxy])
                .output()
                .unwrap();
            assert!(out.status.success(), "{file}: {}", text(&out));
            let out = greenlight(dir.path())
                .args(["validate", &file])
                .output()
                .unwrap();
            assert!(out.status.success(), "{file}: {}", text(&out));
            let spec = fs::read_to_string(dir.path().join(&file)).unwrap();
            assert!(spec.contains(&format!("mode \"{proxy}\"")), "{spec}");
            for hint in [
                "docs/spec.md",
                "hooks",
                "deadline",
                "drain",
                "host \"NAME\"",
            ] {
                assert!(
                    spec.contains(hint),
                    "{file} does not mention {hint}:\n{spec}"
                );
            }
        }
    }
}

#[test]
fn flags_reach_the_spec_and_every_keyword_line_is_commented() {
    let dir = tempfile::tempdir().unwrap();
    let out = greenlight(dir.path())
        .args(["init", "--project", "api", "--runtime", "process"])
        .args(["--start", "/opt/api/bin/api --listen 127.0.0.1:{port}"])
        .args(["--port", "4000", "--health", "/up", "--proxy", "host"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let spec = fs::read_to_string(dir.path().join("greenlight.kdl")).unwrap();
    for line in [
        "project \"api\"",
        "start \"/opt/api/bin/api --listen 127.0.0.1:{port}\"",
        "host-ports blue=4000 green=4001",
        "health \"/up\" {",
    ] {
        assert!(spec.contains(line), "no `{line}` in:\n{spec}");
    }
    assert!(!spec.contains("placeholder"), "{spec}");
    let lines: Vec<&str> = spec.lines().map(str::trim).collect();
    for (i, line) in lines.iter().enumerate() {
        let keyword = !line.is_empty() && !line.starts_with("//") && !line.starts_with('}');
        if keyword {
            assert!(
                lines[i - 1].starts_with("//"),
                "`{line}` has no comment above it:\n{spec}"
            );
        }
    }
}

/// `--runtime swarm` writes the orchestrator line and replicas, and the
/// kit it builds is a swarm kit.
#[test]
fn the_swarm_starter_builds_a_swarm_kit() {
    let dir = tempfile::tempdir().unwrap();
    let out = greenlight(dir.path())
        .args(["init", "--project", "shop", "--runtime", "swarm"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let spec = fs::read_to_string(dir.path().join("greenlight.kdl")).unwrap();
    for line in ["orchestrator \"swarm\"", "replicas 2", "as=\"file\""] {
        assert!(spec.contains(line), "no `{line}` in:\n{spec}");
    }
    for refused in ["healthy-after", "expect 200", "host-ports", "sidecar"] {
        assert!(
            !spec.contains(refused),
            "a swarm refuses `{refused}`:\n{spec}"
        );
    }
    let out = greenlight(dir.path())
        .args(["build", "greenlight.kdl"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let kit = dir.path().join("deploy/shop");
    for file in ["swarm/web-blue.yml", "swarm/proxy.yml", "lib/swarm.sh"] {
        assert!(kit.join(file).is_file(), "the kit has no {file}");
    }
}

#[test]
fn the_default_project_is_the_directory_name_made_valid() {
    let dir = tempfile::tempdir().unwrap();
    let shop = dir.path().join("My Shop_2");
    fs::create_dir(&shop).unwrap();
    let out = greenlight(&shop).arg("init").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let spec = fs::read_to_string(shop.join("greenlight.kdl")).unwrap();
    assert!(spec.contains("project \"my-shop-2\""), "{spec}");
    assert!(
        spec.contains("image \"registry.example.com/my-shop-2/web\""),
        "{spec}"
    );
}

#[test]
fn an_existing_file_is_kept_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("greenlight.kdl");
    fs::write(&spec, "mine").unwrap();
    let out = greenlight(dir.path()).arg("init").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("already exists"), "{}", text(&out));
    assert!(text(&out).contains("--force"), "{}", text(&out));
    assert_eq!(fs::read_to_string(&spec).unwrap(), "mine");

    let out = greenlight(dir.path())
        .args(["init", "--force", "--project", "shop"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(fs::read_to_string(&spec)
        .unwrap()
        .starts_with("// A greenlight spec"));
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        ["greenlight.kdl"],
        "no temporary file is left beside it"
    );
}

#[test]
fn flags_that_make_no_valid_spec_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--project", "Shop"][..],
        &["--runtime", "process", "--image", "acme/web"],
        &["--start", "/srv/web"],
        &["--proxy", "host", "--port", "65535"],
        &["--runtime", "swarm", "--proxy", "host"],
        &["--runtime", "swarm", "--start", "/srv/web"],
    ] {
        let out = greenlight(dir.path())
            .arg("init")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("error"), "{args:?}: {}", text(&out));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "{args:?}");
    }
}
