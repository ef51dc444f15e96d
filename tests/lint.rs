//! The generated files pass the linters of their formats: deploy.sh, with
//! the parts it sources in place, passes `bash -n` and shellcheck with no
//! finding at any severity, every nginx conf
//! passes `nginx -t` inside Debian's stock nginx.conf (as installed for each
//! color when switching by reload, and as installed for switching through
//! njs), every compose file passes `config` of compose v1 and v2, and every
//! swarm stack file passes `docker stack config`, each value deploy.sh sets
//! read back as it was set.

mod support;

use std::fs;
use std::process::Command;

use support::*;

#[test]
fn deploy_scripts_pass_bash_n_and_shellcheck() {
    if !tool_available("shellcheck") {
        return;
    }
    for spec in example_specs() {
        let (dir, _) = kit_in_tempdir(&spec);
        // deploy.sh as written (its `source` lines followed), then with its
        // parts in place: shellcheck reports only on the file it is given,
        // and a part is checked among the tables and parts it runs with.
        let script = dir.path().join("deploy.sh");
        let (ok, out) = run(Command::new("shellcheck")
            .args(["-x", "--severity=style", "--shell=bash"])
            .arg(&script));
        assert!(ok, "{spec}: shellcheck -x deploy.sh findings:\n{out}");
        let inlined = inline_kit_code(dir.path());
        let (ok, out) = run(Command::new("bash").arg("-n").arg(&inlined));
        assert!(ok, "{spec}: bash -n failed:\n{out}");
        let (ok, out) = run(Command::new("shellcheck")
            .args(["--severity=style", "--shell=bash"])
            .arg(&inlined));
        assert!(ok, "{spec}: shellcheck findings:\n{out}");
    }
}

#[test]
fn nginx_confs_pass_nginx_t_in_a_stock_nginx_conf() {
    if !tool_available("nginx") || !tool_available("openssl") {
        return;
    }
    for spec in example_specs() {
        let (dir, loaded) = kit_in_tempdir(&spec);
        let apps: Vec<String> = loaded.plan.apps.iter().map(|a| a.name.clone()).collect();
        let njs = njs_module_available();
        let variants: &[&str] = if njs {
            &["blue", "green", "njs"]
        } else {
            &["blue", "green"]
        };
        for &variant in variants {
            let nginx = StockNginx::new();
            let conf = if variant == "njs" {
                let js = nginx
                    .conf_d()
                    .join(format!("greenlight-{}.js", loaded.plan.project));
                fs::copy(dir.path().join("nginx/greenlight.js"), js).unwrap();
                assembled_njs_conf(dir.path(), &loaded.plan, &nginx.conf_d())
            } else {
                assembled_conf(dir.path(), &apps, variant)
            };
            nginx.assert_accepts(conf, &loaded.plan, &format!("{spec} ({variant})"));
        }
    }
}

/// Debian's njs module; required in CI (GREENLIGHT_REQUIRE_TOOLS=1).
fn njs_module_available() -> bool {
    let found = std::path::Path::new("/usr/lib/nginx/modules/ngx_http_js_module.so").exists();
    if !found {
        assert!(
            std::env::var("GREENLIGHT_REQUIRE_TOOLS").map_or(true, |v| v != "1"),
            "libnginx-mod-http-js is required (GREENLIGHT_REQUIRE_TOOLS=1) but not installed"
        );
        eprintln!("SKIPPED the njs variant: libnginx-mod-http-js is not installed");
    }
    found
}

#[test]
fn compose_files_pass_docker_compose_config() {
    for compose in [Compose::V1, Compose::V2] {
        if compose.available() {
            compose_files_pass_config_of(compose);
        }
    }
}

/// `docker stack config` of every stack file of the example kits (nginx's
/// with its njs override too), with the variables deploy.sh sets: the
/// docker CLI reads a stack file by rules of its own (in `${VAR:?message}`
/// a `-` in the message once made the value "password"), so each variable
/// the file uses must come back as it was set.
#[test]
fn swarm_stack_files_pass_docker_stack_config() {
    let has_stack_config = Command::new("docker")
        .args(["stack", "config", "--help"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !required(
        has_stack_config,
        "this docker CLI has no `docker stack config` (docker 25 or later has it)",
    ) {
        return;
    }
    let mut checked = 0;
    for spec in example_specs() {
        let (dir, _) = kit_in_tempdir(&spec);
        let stacks = dir.path().join("swarm");
        let Ok(entries) = fs::read_dir(&stacks) else {
            continue;
        };
        for entry in entries {
            let file = entry.unwrap().path();
            let text = fs::read_to_string(&file).unwrap();
            let mut command = Command::new("docker");
            command
                .env("GREENLIGHT_VERSION", "v1-set")
                .env("GREENLIGHT_IMAGE", "ghcr.io/acme/web:v1-set")
                .args(["stack", "config"]);
            let mut expected = Vec::new();
            if text.contains("GREENLIGHT_VERSION") {
                expected.push("greenlight.version: v1-set".to_string());
            }
            if text.contains("GREENLIGHT_IMAGE") {
                expected.push("image: ghcr.io/acme/web:v1-set".to_string());
            }
            for n in 0..10 {
                command.env(format!("GREENLIGHT_SECRET_{n}"), format!("set-secret-{n}"));
                if text.contains(&format!("GREENLIGHT_SECRET_{n}:")) {
                    expected.push(format!("name: set-secret-{n}"));
                }
            }
            if file.ends_with("proxy-njs.yml") {
                command.arg("-c").arg(stacks.join("proxy.yml"));
            }
            let (ok, out) = run(command.arg("-c").arg(&file));
            assert!(
                ok,
                "{spec}: docker stack config failed for {}:\n{out}",
                file.display()
            );
            for value in &expected {
                assert!(
                    out.contains(value.as_str()),
                    "{spec}: {} does not read back `{value}`:\n{out}",
                    file.display()
                );
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 4,
        "expected the stack files of the example kits, checked {checked}"
    );
}

/// `config` of one compose over every compose file of the example kits,
/// and every stack file of a swarm kit (docker 20.10's CLI has no `docker
/// stack config`; `docker stack deploy` reads the same format).
fn compose_files_pass_config_of(compose: Compose) {
    let (mut compose_files, mut stack_files) = (0, 0);
    for spec in example_specs() {
        let (dir, _) = kit_in_tempdir(&spec);
        compose_files += config_of_dir(compose, &spec, dir.path(), "compose");
        stack_files += config_of_dir(compose, &spec, dir.path(), "swarm");
    }
    assert!(
        compose_files >= 8 && stack_files >= 4,
        "expected the compose and stack files of the example kits, checked {compose_files} and {stack_files}"
    );
}

/// `config` of every file in the kit's directory `kind`; how many.
fn config_of_dir(
    compose: Compose,
    spec: &camino::Utf8Path,
    dir: &std::path::Path,
    kind: &str,
) -> usize {
    let mut checked = 0;
    let compose_dir = dir.join(kind);
    let Ok(entries) = fs::read_dir(&compose_dir) else {
        return 0;
    };
    {
        for entry in entries {
            let file = entry.unwrap().path();
            // env files named by the spec live beside the kit on a real host
            let text = fs::read_to_string(&file).unwrap();
            let mut lines = text.lines();
            while let Some(line) = lines.next() {
                if line.trim() == "env_file:" {
                    for item in lines
                        .by_ref()
                        .take_while(|l| l.trim_start().starts_with("- "))
                    {
                        let name = item.trim().trim_start_matches("- ").trim_matches('"');
                        fs::write(dir.join(name), "").unwrap();
                    }
                }
            }
            let mut command = compose.command();
            let mut variables = vec![
                ("GREENLIGHT_VERSION".to_string(), "v1-set".to_string()),
                ("GREENLIGHT_VERSION_REF".to_string(), ":v1-set".to_string()),
                ("GREENLIGHT_BIND".to_string(), "10.0.0.11".to_string()),
                (
                    "GREENLIGHT_IMAGE".to_string(),
                    "ghcr.io/acme/web:v1-set".to_string(),
                ),
            ];
            for n in 0..10 {
                variables.push((format!("GREENLIGHT_SECRET_{n}"), format!("set-secret-{n}")));
            }
            command
                .envs(variables.iter().cloned())
                .arg("--project-directory")
                .arg(dir);
            // The njs override is only ever used on top of nginx's file.
            if file.ends_with("proxy-njs.yml") {
                command.arg("-f").arg(compose_dir.join("proxy.yml"));
            }
            let (ok, out) = run(command.arg("-f").arg(&file).arg("config"));
            assert!(
                ok,
                "{spec}: compose {} config failed for {}:\n{out}",
                compose.name(),
                file.display()
            );
            // Each variable deploy.sh sets comes back as it was set.
            for (name, value) in &variables {
                if text.contains(&format!("${{{name}:")) {
                    assert!(
                        out.contains(value.as_str()),
                        "{spec}: compose {} does not read back {name}={value} in {}:\n{out}",
                        compose.name(),
                        file.display()
                    );
                }
            }
            // Neither deprecated nor obsolete keys: a kit that makes compose
            // warn on every deploy teaches people to ignore its output. A
            // stack file keeps `version`, which compose v2 calls obsolete:
            // docker 20.10's `stack deploy` refuses a file without it.
            let warnings: Vec<&str> = out
                .lines()
                .filter(|l| l.contains("level=warning") || l.contains("WARNING"))
                .filter(|l| !(kind == "swarm" && l.contains("the attribute `version` is obsolete")))
                .collect();
            assert!(
                warnings.is_empty(),
                "{spec}: compose {} warns about {}:\n{out}",
                compose.name(),
                file.display()
            );
            checked += 1;
        }
    }
    checked
}
