//! A template override (or a built-in template) that uses an undefined
//! variable: `greenlight build --templates DIR` fails naming the template
//! file and line, the undefined name, and the names the template may use.

use std::path::Path;
use std::process::Command;

/// Builds specs/hello.kdl with `template` (a path under templates/) replaced
/// by the built-in text with `from` replaced by `to`; returns stderr.
fn build_with_override(template: &str, from: &str, to: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let builtin = std::fs::read_to_string(root.join("templates").join(template)).unwrap();
    assert!(builtin.contains(from), "{template} has no {from:?}");
    let dir = tempfile::tempdir().unwrap();
    let overrides = dir.path().join("templates");
    let file = overrides.join(template);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, builtin.replacen(from, to, 1)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_greenlight"))
        .arg("build")
        .arg(root.join("specs/hello.kdl"))
        .arg("-o")
        .arg(dir.path().join("kit"))
        .arg("--templates")
        .arg(&overrides)
        .env("NO_COLOR", "1")
        .output()
        .expect("the greenlight binary runs");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success(), "the build succeeded:\n{stderr}");
    assert!(
        !dir.path().join("kit").exists(),
        "a failed build wrote a kit"
    );
    let path = file.to_str().unwrap();
    assert!(
        stderr.contains(path),
        "the override is not named:\n{stderr}"
    );
    stderr
}

#[test]
fn an_unknown_plan_field_names_the_file_the_line_and_the_fields() {
    let stderr = build_with_override(
        "PLAN.md.j2",
        "# Deploy plan: {{ plan.project }}",
        "# Deploy plan: {{ plan.nosuchfield }}",
    );
    assert!(stderr.contains("PLAN.md.j2, line 4"), "{stderr}");
    assert!(
        stderr.contains("`plan` has no field `nosuchfield`"),
        "{stderr}"
    );
    for field in ["`project`", "`apps`", "`hosts`", "`proxy`", "`hooks`"] {
        assert!(stderr.contains(field), "{field} is not listed:\n{stderr}");
    }
}

#[test]
fn an_unknown_variable_names_the_variables_the_template_may_use() {
    let stderr = build_with_override(
        "PLAN.md.j2",
        "# Deploy plan: {{ plan.project }}",
        "# Deploy plan: {{ nosuchvar }}",
    );
    assert!(stderr.contains("PLAN.md.j2, line 4"), "{stderr}");
    assert!(
        stderr.contains("undefined variable `nosuchvar`; the template may use `diagram`, `plan`"),
        "{stderr}"
    );
}

#[test]
fn a_color_template_lists_app_color_and_plan_and_nested_fields() {
    let stderr = build_with_override(
        "nginx/upstream.conf.j2",
        "{{ header(\"#\") }}",
        "{{ nosuchvar }}",
    );
    assert!(stderr.contains("upstream.conf.j2, line 1"), "{stderr}");
    assert!(
        stderr.contains("the template may use `app`, `color`, `plan`"),
        "{stderr}"
    );
    let stderr = build_with_override(
        "nginx/upstream.conf.j2",
        "{{ color.name|word }}",
        "{{ color.nosuch|word }}",
    );
    assert!(
        stderr.contains("`color` has no field `nosuch`; its fields are `alias`"),
        "{stderr}"
    );
}

#[test]
fn an_undefined_value_through_a_quoting_filter_is_an_error_not_an_empty_word() {
    let stderr = build_with_override(
        "deploy.sh.j2",
        "readonly PROJECT={{ plan.project|sh }}",
        "readonly PROJECT={{ plan.projct|sh }}",
    );
    let line = include_str!("../templates/deploy.sh.j2")
        .lines()
        .position(|l| l.starts_with("readonly PROJECT="))
        .unwrap()
        + 1;
    assert!(
        stderr.contains(&format!("deploy.sh.j2, line {line}")),
        "{stderr}"
    );
    assert!(stderr.contains("`plan` has no field `projct`"), "{stderr}");
}
