//! `greenlight check --format github`: drift and spec errors as GitHub
//! Actions `::error` commands, with paths as check reports them, the spec
//! error's line and column, and GitHub's escaping.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use support::root;

/// Runs `greenlight check --format github SPEC` in `dir`.
fn check_github(dir: &Path, spec: &str) -> (Option<i32>, String) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_greenlight"))
        .current_dir(dir)
        .args(["check", "--format", "github", spec])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    (out.status.code(), stdout)
}

/// A temp dir holding the hello spec as `name`, with its kit built.
fn built_hello(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(root().join("specs/hello.kdl"), dir.path().join(name)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_greenlight"))
        .current_dir(dir.path())
        .args(["build", name])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn error_lines(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect()
}

#[test]
fn a_hand_edited_kit_file_is_one_error_naming_it() {
    let dir = built_hello("hello.kdl");
    let (code, stdout) = check_github(dir.path(), "hello.kdl");
    assert_eq!(code, Some(0), "{stdout}");
    assert!(error_lines(&stdout).is_empty(), "{stdout}");

    let conf = dir.path().join("deploy/hello/nginx/site.conf");
    let text = fs::read_to_string(&conf)
        .unwrap()
        .replace("listen 80;", "listen 8080;");
    fs::write(&conf, text).unwrap();
    let (code, stdout) = check_github(dir.path(), "hello.kdl");
    assert_eq!(code, Some(1), "{stdout}");
    let errors = error_lines(&stdout);
    assert_eq!(errors.len(), 1, "{stdout}");
    assert!(
        errors[0].starts_with(
            "::error file=deploy/hello/nginx/site.conf,title=greenlight check::deploy/hello/nginx/site.conf differs"
        ),
        "{stdout}"
    );
    assert!(
        errors[0].contains("run `greenlight build hello.kdl`"),
        "{stdout}"
    );
    assert!(!stdout.contains("listen 8080"), "no diff line: {stdout}");
}

#[test]
fn missing_and_leftover_files_are_errors_too() {
    let dir = built_hello("hello.kdl");
    fs::remove_file(dir.path().join("deploy/hello/PLAN.md")).unwrap();
    let manifest = dir.path().join("deploy/hello/.greenlight-files");
    let mut listed = fs::read_to_string(&manifest).unwrap();
    listed.push_str(
        "0000000000000000000000000000000000000000000000000000000000000000  compose/old-blue.yml\n",
    );
    fs::write(&manifest, listed).unwrap();
    fs::write(dir.path().join("deploy/hello/compose/old-blue.yml"), "x").unwrap();
    let (code, stdout) = check_github(dir.path(), "hello.kdl");
    assert_eq!(code, Some(1), "{stdout}");
    let errors = error_lines(&stdout);
    assert!(
        errors.iter().any(
            |e| e.starts_with("::error file=deploy/hello/PLAN.md,") && e.contains("is missing")
        ),
        "{stdout}"
    );
    assert!(
        errors.iter().any(
            |e| e.starts_with("::error file=deploy/hello/compose/old-blue.yml,")
                && e.contains("no longer generated")
        ),
        "{stdout}"
    );
}

#[test]
fn a_spec_error_points_at_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("bad.kdl"),
        "greenlight 1\nproject \"shop\"\n\napp \"web\" {\n    imgae \"acme/web\"\n    port 8080\n    health \"/healthz\"\n}\n",
    )
    .unwrap();
    let (code, stdout) = check_github(dir.path(), "bad.kdl");
    assert_eq!(code, Some(2), "{stdout}");
    let errors = error_lines(&stdout);
    assert!(
        errors.iter().any(|e| e.starts_with(
            "::error file=bad.kdl,line=5,col=5,title=greenlight::unknown node `imgae` inside `app`%0Ahelp: did you mean `image`?"
        )),
        "{stdout}"
    );
    assert!(
        errors
            .iter()
            .all(|e| e.starts_with("::error file=bad.kdl,line=")),
        "{stdout}"
    );
}

#[test]
fn percent_comma_colon_and_newline_are_escaped() {
    // The spec's name reaches a property (file=) and the message.
    let dir = built_hello("a,b%c:d.kdl");
    fs::write(dir.path().join("deploy/hello/PLAN.md"), "edited\n").unwrap();
    let (code, stdout) = check_github(dir.path(), "a,b%c:d.kdl");
    assert_eq!(code, Some(1), "{stdout}");
    let errors = error_lines(&stdout);
    assert_eq!(errors.len(), 1, "{stdout}");
    assert!(
        errors[0].contains("::deploy/hello/PLAN.md differs from what a,b%25c:d.kdl compiles to"),
        "{stdout}"
    );

    let spec = dir.path().join("a,b%c:d.kdl");
    let text = fs::read_to_string(&spec)
        .unwrap()
        .replace("port 8080", "port 8080\n    x%y 1");
    fs::write(&spec, text).unwrap();
    let (code, stdout) = check_github(dir.path(), "a,b%c:d.kdl");
    assert_eq!(code, Some(2), "{stdout}");
    let errors = error_lines(&stdout);
    assert_eq!(errors.len(), 1, "{stdout}");
    assert!(
        errors[0].starts_with(
            "::error file=a%2Cb%25c%3Ad.kdl,line=8,col=5,title=greenlight::unknown node `x%25y`"
        ),
        "{stdout}"
    );
    assert!(errors[0].contains("%0Ahelp: "), "{stdout}");
    assert!(!errors[0].contains('\n'), "one line");
}
