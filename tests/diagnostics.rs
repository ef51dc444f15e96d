//! The diagnostics corpus: every `tests/diagnostics/*.kdl` is a bad spec that
//! must be refused, without a panic, with a message pinned by a snapshot.
//! Plus the CLI's exit code and plain output, and file-level refusals.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Command;

use camino::Utf8Path;
use greenlight::diagnostic::render_plain;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics")
}

/// The corpus files, sorted by name.
fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("tests/diagnostics exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
        .collect();
    cases.sort();
    cases
}

/// Loads one case, turning a panic into a test failure that names the case.
fn refuse(path: &Path) -> String {
    let name = path.file_name().unwrap().to_str().unwrap().to_string();
    let text = std::fs::read_to_string(path).expect("case is UTF-8");
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("// "),
        "{name}: the first line must be a `// what this case checks` comment"
    );
    let result = catch_unwind(AssertUnwindSafe(|| greenlight::load_text(&name, text)));
    match result {
        Err(_) => panic!("{name}: loading the spec panicked"),
        Ok(Ok(_)) => panic!("{name}: this bad spec was accepted"),
        Ok(Err(report)) => {
            assert!(
                !report.errors().is_empty(),
                "{name}: a report without errors"
            );
            render_plain(&report)
        }
    }
}

#[test]
fn corpus_is_large_enough() {
    let n = cases().len();
    assert!(
        n >= 40,
        "the diagnostics corpus has {n} cases; keep at least 40"
    );
}

#[test]
fn every_bad_spec_is_refused_with_a_pinned_message() {
    // Every case is compared even after a mismatch, so one run shows (and,
    // with INSTA_UPDATE, records) every changed report.
    let mut changed = Vec::new();
    for path in cases() {
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        let rendered = refuse(&path);
        let compared = catch_unwind(AssertUnwindSafe(|| {
            insta::with_settings!({
                snapshot_path => "snapshots",
                prepend_module_to_snapshot => false,
                description => format!("tests/diagnostics/{stem}.kdl"),
                omit_expression => true,
            }, {
                insta::assert_snapshot!(stem.as_str(), rendered);
            });
        }));
        if compared.is_err() {
            changed.push(stem);
        }
    }
    assert!(
        changed.is_empty(),
        "reports differ from their snapshots: {}",
        changed.join(", ")
    );
}

#[test]
fn every_error_points_at_a_line_and_column() {
    for path in cases() {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let rendered = refuse(&path);
        let located = format!("[{name}:");
        assert!(
            rendered.contains(&located),
            "{name}: the report names no file:line:column\n{rendered}"
        );
    }
}

fn validate(path: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_greenlight"))
        .arg("validate")
        .arg(path)
        .env("NO_COLOR", "1")
        .output()
        .expect("the greenlight binary runs")
}

#[test]
fn cli_validate_exits_2_with_a_plain_located_report() {
    let case = corpus_dir().join("009-string-where-int-expected.kdl");
    let out = validate(&case);
    assert_eq!(out.status.code(), Some(2), "validate exits 2 on a bad spec");
    let stderr = String::from_utf8(out.stderr).expect("stderr is UTF-8");
    // `port "8080"` is on line 7, its value at column 10.
    assert!(
        stderr.contains("009-string-where-int-expected.kdl:7:10"),
        "stderr has no file:line:column location:\n{stderr}"
    );
    assert!(
        !stderr.contains('\x1b'),
        "NO_COLOR output has ANSI escapes:\n{stderr}"
    );
}

#[test]
fn cli_validate_reports_every_spec_and_still_exits_2() {
    let dir = corpus_dir();
    let good = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/hello.kdl");
    let out = Command::new(env!("CARGO_BIN_EXE_greenlight"))
        .arg("validate")
        .arg(dir.join("030-port-zero.kdl"))
        .arg(&good)
        .arg(dir.join("035-bad-size.kdl"))
        .env("NO_COLOR", "1")
        .output()
        .expect("the greenlight binary runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("030-port-zero.kdl:"), "{stderr}");
    assert!(stderr.contains("035-bad-size.kdl:"), "{stderr}");
}

/// `load` of a path must be an `Unreadable` error whose message contains `expected`.
fn assert_unreadable(path: &Path, expected: &str) {
    let path = Utf8Path::from_path(path).expect("temp paths are UTF-8");
    let result = catch_unwind(|| greenlight::load(path, None));
    let error = match result {
        Err(_) => panic!("{path}: load panicked"),
        Ok(Ok(_)) => panic!("{path}: load accepted it"),
        Ok(Err(error)) => error,
    };
    let message = error.to_string();
    assert!(
        matches!(error, greenlight::LoadError::Unreadable { .. }),
        "{path}: expected an unreadable-file error, got: {message}"
    );
    assert!(
        message.contains(path.as_str()) && message.contains(expected),
        "{path}: the message should name the file and say {expected:?}: {message}"
    );
}

#[test]
fn file_level_problems_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();

    assert_unreadable(dir.path(), "is a directory");

    let missing = dir.path().join("missing.kdl");
    assert_unreadable(&missing, "cannot read the spec");

    let binary = dir.path().join("latin1.kdl");
    std::fs::write(&binary, b"greenlight 1\nproject \"caf\xe9\"\n").unwrap();
    assert_unreadable(&binary, "not UTF-8");

    let huge = dir.path().join("huge.kdl");
    let file = std::fs::File::create(&huge).unwrap();
    file.set_len(greenlight::load::MAX_SPEC_BYTES + 1).unwrap();
    drop(file);
    assert_unreadable(&huge, "at most");
}

#[test]
fn an_empty_file_is_a_spec_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.kdl");
    std::fs::write(&empty, "").unwrap();
    let path = Utf8Path::from_path(&empty).unwrap();
    let result = catch_unwind(|| greenlight::load(path, None));
    let error = match result {
        Err(_) => panic!("load panicked on an empty file"),
        Ok(Ok(_)) => panic!("an empty file was accepted"),
        Ok(Err(error)) => error,
    };
    let rendered = render_plain(&error);
    assert!(
        rendered.contains("the spec is empty"),
        "unclear message for an empty file:\n{rendered}"
    );
    assert!(rendered.contains("empty.kdl:1:1"), "{rendered}");
}

/// A spec from a pull request cannot send its kit out of the repository:
/// `output` is resolved (symlinks included) and must stay inside the git
/// work tree that holds the spec, or the spec's own directory outside one.
/// `--allow-output-outside` and `-o DIR` are the command line's own choice.
#[test]
fn output_outside_the_repository_is_refused_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("specs")).unwrap();
    let spec = repo.join("specs/shop.kdl");
    let write_spec = |output: Option<&str>| {
        let line = output.map_or(String::new(), |o| format!("output \"{o}\"\n"));
        std::fs::write(
            &spec,
            format!("greenlight 1\nproject \"shop\"\n{line}app \"web\" {{\n    image \"ghcr.io/acme/web\"\n    port 8080\n    health \"/healthz\"\n}}\n"),
        )
        .unwrap();
    };
    let greenlight = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_greenlight"))
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .expect("the greenlight binary runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };
    let spec_arg = spec.to_str().unwrap();

    write_spec(Some("../../../../tmp/x"));
    for command in ["validate", "build", "check"] {
        let (code, text) = greenlight(&[command, spec_arg]);
        assert_eq!(code, Some(2), "{command}: {text}");
        assert!(
            text.contains(
                "output `../../../../tmp/x` is outside the repository that holds the spec"
            ) && text.contains("shop.kdl:3:8")
                && text.contains("--allow-output-outside"),
            "{command}: {text}"
        );
    }

    // Inside the repository, beside the specs: fine.
    write_spec(Some("../kits/shop"));
    let (code, text) = greenlight(&["build", spec_arg]);
    assert_eq!(code, Some(0), "{text}");
    assert!(repo.join("kits/shop/deploy.sh").is_file());

    // Out of the repository: only when asked for.
    write_spec(Some("../../outside-kit"));
    let (code, text) = greenlight(&["build", spec_arg]);
    assert_eq!(code, Some(2), "{text}");
    assert!(!dir.path().join("outside-kit").exists());
    let (code, text) = greenlight(&["build", spec_arg, "--allow-output-outside"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(dir.path().join("outside-kit/deploy.sh").is_file());
    let given = dir.path().join("given-kit");
    let (code, text) = greenlight(&["build", spec_arg, "-o", given.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{text}");
    assert!(given.join("deploy.sh").is_file());

    // A symlink in the repository that leads out of it, for `output` and
    // for the default kit directory deploy/<project>.
    std::os::unix::fs::symlink(dir.path(), repo.join("specs/out")).unwrap();
    write_spec(Some("out/linked-kit"));
    let (code, text) = greenlight(&["build", spec_arg]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("output `out/linked-kit` is outside"),
        "{text}"
    );
    assert!(!dir.path().join("linked-kit").exists());
    std::os::unix::fs::symlink(dir.path(), repo.join("specs/deploy")).unwrap();
    write_spec(None);
    let (code, text) = greenlight(&["build", spec_arg]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("the kit directory deploy/shop is outside the repository")
            && text.contains("shop.kdl:2:9"),
        "{text}"
    );
    assert!(!dir.path().join("shop").exists());

    // A directory of specs that is a link out of the repository: the
    // repository is still the one the spec's path is in.
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::copy(&spec, elsewhere.join("shop.kdl")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, repo.join("linked")).unwrap();
    let linked = repo.join("linked/shop.kdl");
    let (code, text) = greenlight(&["build", linked.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{text}");
    assert!(!elsewhere.join("deploy").exists());

    // No repository: the spec's directory is the limit. A `.git` file (a
    // worktree's) marks a repository as a directory does.
    let plain = dir.path().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    let lone = plain.join("lone.kdl");
    std::fs::write(
        &lone,
        std::fs::read_to_string(&spec).unwrap().replacen(
            "greenlight 1\n",
            "greenlight 1\noutput \"../x\"\n",
            1,
        ),
    )
    .unwrap();
    let (code, text) = greenlight(&["validate", lone.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("output `../x` is outside the spec's directory"),
        "{text}"
    );
    std::fs::write(dir.path().join(".git"), "gitdir: /elsewhere\n").unwrap();
    let (code, text) = greenlight(&["validate", lone.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{text}");
}

#[test]
fn a_bare_number_as_a_duration_is_answered_with_a_valid_duration() {
    for keyword in ["drain", "watch"] {
        let spec = format!(
            "greenlight 1\nproject \"shop\"\napp \"web\" {{\n    image \"ghcr.io/acme/web\"\n    port 8080\n    health \"/healthz\"\n    {keyword} 30\n}}\n"
        );
        let report = match greenlight::load_text("case.kdl", spec.clone()) {
            Ok(_) => panic!("`{keyword} 30` was accepted"),
            Err(report) => render_plain(&report),
        };
        let hint = format!("write it as: {keyword} \"30s\"");
        assert!(report.contains(&hint), "no `{hint}` in:\n{report}");
        assert!(!report.contains("quote it"), "{report}");
        // The hint itself is valid.
        let fixed = spec.replace(&format!("{keyword} 30"), &format!("{keyword} \"30s\""));
        assert!(
            greenlight::load_text("case.kdl", fixed).is_ok(),
            "the hinted `{keyword} \"30s\"` is refused"
        );
    }
}
