//! A kit carries only the code its spec uses: no ssh without a remote host,
//! no process code for a compose stack and no compose code for a process
//! one, the primitives of one proxy mode, hooks only where the spec has
//! them; and no function of deploy.sh is longer than a reviewer can take in.
//! The README's table of deploy.sh sizes is checked against the kits.

mod support;

use support::*;

/// The longest function a deploy.sh may have, in lines.
const LONGEST_FUNCTION: usize = 60;

fn deploy_sh_of(spec: &str) -> String {
    let (plan, _) = greenlight::load_text("stack.kdl", spec.to_string())
        .unwrap_or_else(|e| panic!("the spec does not load: {e:?}"));
    let kit =
        greenlight::kit(&plan, greenlight::render::TemplateSource::default()).expect("renders");
    kit_code(&kit)
}

/// Each function of a script (`name() {` at the start of a line, to the
/// first `}` alone on a line) with its length in lines.
fn functions(script: &str) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    let mut open: Option<(String, usize)> = None;
    for (number, line) in script.lines().enumerate() {
        if let Some((name, start)) = &open {
            if line == "}" {
                found.push((name.clone(), number - start + 1));
                open = None;
            }
        } else if let Some((name, rest)) = line.split_once("() {") {
            // `name() {` alone or with a comment naming its arguments; a
            // one-line function (`name() { ...; }`) is one line.
            let opens = rest.is_empty() || rest.starts_with(" #");
            if opens && name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                open = Some((name.to_string(), number));
            }
        }
    }
    assert!(open.is_none(), "unterminated function {open:?}");
    found
}

fn assert_absent(script: &str, what: &str, words: &[&str]) {
    for word in words {
        assert!(!script.contains(word), "{what}: the kit has `{word}`");
    }
}

fn assert_present(script: &str, what: &str, words: &[&str]) {
    for word in words {
        assert!(script.contains(word), "{what}: the kit lacks `{word}`");
    }
}

#[test]
fn no_function_of_an_example_kit_is_longer_than_sixty_lines() {
    for spec in example_specs() {
        let (_, kit) = render(&spec);
        let script = &kit_code(&kit);
        let all = functions(script);
        assert!(all.len() > 50, "{spec}: found only {} functions", all.len());
        let (name, longest) = all.iter().max_by_key(|(_, n)| *n).unwrap();
        println!(
            "{spec}: {} lines, {} functions, longest {name} ({longest} lines)",
            script.lines().count(),
            all.len()
        );
        for (name, lines) in &all {
            assert!(
                *lines <= LONGEST_FUNCTION,
                "{spec}: {name} has {lines} lines"
            );
        }
    }
}

#[test]
fn the_function_finder_sees_functions_and_their_ends() {
    let found = functions(
        "a() {\n  x\n}\n# b() {\nlong_name() { # ARG\n  if x; then\n  fi\n}\nc() { d; } # ARG\n",
    );
    assert_eq!(found, [("a".to_string(), 3), ("long_name".to_string(), 4)]);
}

const COMPOSE_HERE: &str = r#"greenlight 1
project "shop"
app "web" {
    image "ghcr.io/acme/web"
    port 8080
    health "/healthz"
}
"#;

const PROCESS_HOST_NGINX: &str = r#"greenlight 1
project "shop"
app "web" {
    runtime "process"
    start "/srv/web --port {port}"
    host-ports blue=8081 green=8082
    health "/healthz"
}
proxy {
    mode "host"
}
"#;

const COMPOSE_REMOTE_NGINX: &str = r#"greenlight 1
project "shop"
host "lb" address="deploy@10.0.0.10"
host "was1" address="deploy@10.0.0.11"
app "web" {
    image "ghcr.io/acme/web"
    port 8080
    host-ports blue=8081 green=8082
    hosts "was1"
    health "/healthz"
}
proxy {
    mode "remote"
    on "lb"
}
"#;

// What each part defines: its functions and tables.
const SSH_CODE: &[&str] = &[
    "ssh_setup() {",
    "check_hosts() {",
    "host_lost() {",
    "on_host() {",
    "declare -A HOST_SSH=",
];
const PROCESS_CODE: &[&str] = &[
    "process_start() {",
    "setsid \"$BASH\" \"$KIT_DIR/$SUPERVISOR\"",
    "\npid_file() {",
    "declare -A APP_USER=",
    "start_argv() {",
];
const COMPOSE_CODE: &[&str] = &[
    "compose_on() {",
    "docker_on() {",
    "declare -A COMPOSE_PROJECT=",
    "fetch_images() {",
];
const COMPOSE_PROXY: &[&str] = &[
    "proxy_container() {",
    "ensure_proxy() {",
    "restore_proxy_conf() {",
];
const CONF_DIR_PROXY: &[&str] = &[
    "on_proxy() {",
    "find_nginx_pid_file() {",
    "read_conf_file() {",
];

#[test]
fn a_compose_stack_on_one_machine_has_no_ssh_process_or_conf_dir_code() {
    let script = deploy_sh_of(COMPOSE_HERE);
    assert_absent(&script, "compose here", SSH_CODE);
    assert_absent(&script, "compose here", PROCESS_CODE);
    assert_absent(&script, "compose here", CONF_DIR_PROXY);
    assert_absent(
        &script,
        "compose here",
        &["run_hook", "secret_files", "LOCK_HOST"],
    );
    assert_present(&script, "compose here", COMPOSE_CODE);
    assert_present(&script, "compose here", COMPOSE_PROXY);
}

#[test]
fn a_swarm_stack_has_its_runtime_and_no_compose_process_or_conf_dir_code() {
    let script = deploy_sh_of(
        "greenlight 1\nproject \"shop\"\norchestrator \"swarm\"\napp \"web\" {\n    image \"shop/web\"\n    port 8080\n    replicas 2\n    health \"/healthz\"\n}\n",
    );
    for code in [SSH_CODE, PROCESS_CODE, CONF_DIR_PROXY] {
        assert_absent(&script, "swarm", code);
    }
    assert_absent(
        &script,
        "swarm",
        &[
            "compose_on() {",
            "compose_on \"",
            "compose_start",
            "find_compose",
            "COMPOSE_CMD",
            "secret_files",
        ],
    );
    assert_present(
        &script,
        "swarm",
        &[
            "swarm_start",
            "swarm_ready",
            "stack deploy",
            "--driver overlay",
        ],
    );
    assert_present(&script, "swarm", COMPOSE_PROXY);
    // ... and a compose kit has none of the swarm's.
    let compose = deploy_sh_of(COMPOSE_HERE);
    assert_absent(
        &compose,
        "compose here",
        &["swarm_", "stack deploy", "--driver overlay"],
    );
}

#[test]
fn a_process_stack_with_a_host_nginx_has_no_docker_or_ssh_code() {
    let script = deploy_sh_of(PROCESS_HOST_NGINX);
    assert_absent(&script, "process", SSH_CODE);
    assert_absent(&script, "process", COMPOSE_CODE);
    assert_absent(&script, "process", COMPOSE_PROXY);
    assert_absent(&script, "process", &["DOCKER_CMD", "GREENLIGHT_DOCKER "]);
    assert_present(&script, "process", PROCESS_CODE);
    assert_present(&script, "process", CONF_DIR_PROXY);
}

#[test]
fn a_remote_nginx_is_reached_over_ssh_and_only_its_mode_is_in_the_kit() {
    let script = deploy_sh_of(COMPOSE_REMOTE_NGINX);
    assert_present(&script, "remote", SSH_CODE);
    assert_present(&script, "remote", &["on_host \"$PROXY_HOST\" nginx"]);
    assert_present(&script, "remote", CONF_DIR_PROXY);
    assert_absent(&script, "remote", COMPOSE_PROXY);
    assert_absent(&script, "remote", PROCESS_CODE);
}

#[test]
fn only_the_hooks_a_spec_sets_are_in_its_kit() {
    let script = deploy_sh_of(&COMPOSE_HERE.replace(
        "project \"shop\"\n",
        "project \"shop\"\nhooks {\n    after-switch \"/srv/notify {version}\"\n}\n",
    ));
    assert_present(
        &script,
        "after-switch",
        &["run_hook after-switch", "fill() {"],
    );
    for hook in ["before-deploy", "after-healthy", "on-failure"] {
        assert_absent(&script, "after-switch only", &[&format!("run_hook {hook}")]);
    }
}

/// A hook's secret brings the secret reader and the hooks' table of owners;
/// a kit whose only secrets are a hook's has none of the apps' secret code,
/// and hooks without secrets bring none of it.
#[test]
fn a_hook_secret_brings_only_the_secret_code_hooks_use() {
    let hook = "after-switch \"/srv/notify {version}\"";
    let with_secret = deploy_sh_of(&COMPOSE_HERE.replace(
        "project \"shop\"\n",
        &format!("project \"shop\"\nhooks {{\n    {hook} {{\n        secret \"SLACK_WEBHOOK_URL\" from-file=\"/etc/shop/slack\"\n    }}\n}}\n"),
    ));
    assert_present(
        &with_secret,
        "a hook secret",
        &[
            "hook:after-switch) SECRETS=( SLACK_WEBHOOK_URL 0 /etc/shop/slack )",
            "[after-switch]=hook:after-switch",
            "check_hook_secrets() {",
            "export_secrets \"$owner\" key",
        ],
    );
    assert_absent(
        &with_secret,
        "only a hook secret",
        &[
            "check_secrets \"${SELECTED[@]}\"",
            "export_secrets \"$file\" index",
        ],
    );
    let without = deploy_sh_of(&COMPOSE_HERE.replace(
        "project \"shop\"\n",
        &format!("project \"shop\"\nhooks {{\n    {hook}\n}}\n"),
    ));
    assert_absent(
        &without,
        "a hook without secrets",
        &[
            "secret_files",
            "HOOK_SECRETS",
            "export_secrets",
            "check_hook_secrets",
        ],
    );
}

/// The README's table of kit sizes says what the kits hold: deploy.sh's
/// lines, how many parts it sources from lib/ and their lines, and the
/// longest function of all of it.
#[test]
fn the_readme_table_of_kit_sizes_is_true() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for spec in example_specs() {
        let name = spec.file_stem().unwrap();
        let (_, kit) = render(&spec);
        let script = &kit[&camino::Utf8PathBuf::from("deploy.sh")];
        let parts: Vec<&String> = kit
            .iter()
            .filter(|(path, _)| path.starts_with("lib"))
            .map(|(_, text)| text)
            .collect();
        let part_lines: usize = parts.iter().map(|t| t.lines().count()).sum();
        let longest = functions(&kit_code(&kit))
            .iter()
            .map(|(_, n)| *n)
            .max()
            .unwrap();
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| {name} ")))
            .unwrap_or_else(|| panic!("README has no size row for {name}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let expected =
            [script.lines().count(), parts.len(), part_lines, longest].map(|n| n.to_string());
        assert_eq!(cells[2..6], expected, "README row {row:?}");
    }
}
