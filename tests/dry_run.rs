//! `deploy.sh --dry-run` on a machine with no docker, no nginx and no
//! reachable host: it goes on (what it would read is taken as empty),
//! prints the real commands with the engine or host each goes to, and reads
//! no secret file. (tests/e2e_process.rs compares a dry run's commands with
//! those a real run then runs.)

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn kit(spec: &str, dir: &Path) {
    let (plan, _) = greenlight::load_text("stack.kdl", spec.to_string())
        .unwrap_or_else(|e| panic!("the spec does not load: {e:?}"));
    let kit =
        greenlight::kit(&plan, greenlight::render::TemplateSource::default()).expect("renders");
    let out = camino::Utf8Path::from_path(dir).unwrap();
    greenlight::emit::write(&kit, out).expect("writes the kit");
}

/// A dry run with every tool it could reach pointed at nothing: docker and
/// nginx are missing, and ssh fails at once for every host (nothing leaves
/// the machine).
fn dry_run(dir: &Path, args: &[&str]) -> (Output, String, String) {
    let ssh_config = dir.join("ssh_config");
    std::fs::write(&ssh_config, "Host *\n  ProxyCommand /bin/false\n").unwrap();
    let out = Command::new(dir.join("kit/deploy.sh"))
        .arg("--dry-run")
        .args(args)
        .env("GREENLIGHT_STATE_DIR", dir.join("state"))
        .env("GREENLIGHT_NGINX_CONF_DIR", dir.join("no-such-conf-dir"))
        .env("GREENLIGHT_NGINX", dir.join("no-nginx"))
        .env("GREENLIGHT_DOCKER", dir.join("no-docker"))
        .env("GREENLIGHT_SSH_CONFIG", &ssh_config)
        .env("TMPDIR", dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        !dir.join("state").exists(),
        "a dry run created the state dir"
    );
    (out, stdout, stderr)
}

#[test]
fn a_process_stack_dry_runs_without_nginx_and_reads_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let present = d.join("api-key");
    std::fs::write(&present, "the-secret-value-itself").unwrap();
    let missing = d.join("no-such-secret");
    kit(
        &format!(
            r#"greenlight 1
project "shop"
app "web" {{
    runtime "process"
    start "/srv/web --port {{port}}"
    host-ports blue=18081 green=18082
    health "/healthz"
    env "MODE" "live"
    secret "API_KEY" from-file="{}"
    secret "DB_PASSWORD" from-file="{}"
}}
proxy {{
    mode "host"
    listen "127.0.0.1:18080"
}}
"#,
            present.display(),
            missing.display()
        ),
        &d.join("kit"),
    );
    let (_, stdout, stderr) = dry_run(d, &["deploy", "v2"]);
    assert!(
        stderr.contains("secret DB_PASSWORD: file") && stderr.contains("is missing"),
        "{stderr}"
    );
    assert!(
        !stdout.contains("the-secret-value-itself") && !stderr.contains("the-secret-value-itself")
    );
    let start = stdout
        .lines()
        .find(|l| l.contains("[dry-run] setsid "))
        .unwrap_or_else(|| panic!("no start command: {stdout}"));
    assert!(
        start.ends_with(&format!(
            "/kit/supervise.sh {dir}/state/logs/web-blue.log {dir}/state/run/web-blue.status \
             env -i MODE=live 'API_KEY=<secret>' 'DB_PASSWORD=<secret>' /srv/web --port 18081",
            dir = d.display()
        )),
        "{start}"
    );
    assert!(
        stdout.contains(&format!(
            "[dry-run] {} -s reload",
            d.join("no-nginx").display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("[dry-run] sh -c "),
        "the conf write: {stdout}"
    );
}

#[test]
fn a_stack_on_hosts_dry_runs_without_docker_or_a_reachable_host() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    kit(
        r#"greenlight 1
project "shop"
registry "none"
host "lb" address="deploy@10.0.0.10"
host "was1" address="deploy@10.0.0.11"
host "was2" address="deploy@10.0.0.12" ssh-port=2222
app "api" {
    image "shop/api"
    port 8080
    host-ports blue=8081 green=8082
    hosts "was1" "was2"
    health "/healthz"
}
proxy {
    mode "remote"
    on "lb"
    listen "10.0.0.10:80"
    route "/" app="api"
}
"#,
        &d.join("kit"),
    );
    let (_, stdout, stderr) = dry_run(d, &["deploy", "v2"]);
    assert!(
        stderr.contains("host was1 (deploy@10.0.0.11:22) does not answer over ssh"),
        "{stderr}"
    );
    let docker = d.join("no-docker");
    let kit = d.join("kit");
    for (host, engine) in [
        ("was1", "ssh://deploy@10.0.0.11:22"),
        ("was2", "ssh://deploy@10.0.0.12:2222"),
    ] {
        let up = format!(
            "[dry-run] DOCKER_HOST={engine} {} --project-name shop-api-blue --project-directory {} --file {}/compose/api-blue.yml up -d --force-recreate --remove-orphans",
            "docker-compose",
            kit.display(),
            kit.display()
        );
        let up_v2 = up.replace("docker-compose", &format!("{} compose", docker.display()));
        assert!(
            stdout.contains(&up) || stdout.contains(&up_v2),
            "{host}: {stdout}"
        );
        assert!(
            stdout.contains(&format!(
                "[dry-run] {} save -- shop/api:v2 | DOCKER_HOST={engine} {} load --quiet",
                docker.display(),
                docker.display()
            )),
            "{host}: {stdout}"
        );
    }
    assert!(
        stdout.contains("[dry-run] ssh -p 22 -- deploy@10.0.0.10 'nginx -s reload'"),
        "{stdout}"
    );
}

#[test]
fn a_swarm_stack_dry_runs_without_a_reachable_manager_and_reads_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let secret = d.join("db-password");
    std::fs::write(&secret, "swarm-secret-value-never-printed").unwrap();
    kit(
        &format!(
            r#"greenlight 1
project "shop"
orchestrator "swarm"
docker-host "ssh://deploy@10.0.0.10"
app "web" {{
    image "shop/web"
    port 8080
    replicas 3
    secret "DB_PASSWORD" from-file="{}" as="file"
    health "/healthz"
}}
"#,
            secret.display()
        ),
        &d.join("kit"),
    );
    let (_, stdout, stderr) = dry_run(d, &["deploy", "v2"]);
    let all = format!("{stdout}{stderr}");
    assert!(
        !all.contains("swarm-secret-value-never-printed"),
        "a dry run printed the secret:\n{all}"
    );
    let docker = d.join("no-docker");
    let kit = d.join("kit");
    let engine = "DOCKER_HOST=ssh://deploy@10.0.0.10";
    for line in [
        format!("[dry-run] {engine} {} network create --driver overlay --attachable --label greenlight.project=shop greenlight-shop", docker.display()),
        format!("[dry-run] {engine} {} secret create --label greenlight.project=shop --label greenlight.app=web -- shop-HASH {}", docker.display(), secret.display()),
        format!("[dry-run] {engine} {} stack deploy --prune --with-registry-auth --resolve-image always --compose-file {}/swarm/web-blue.yml shop-web-blue", docker.display(), kit.display()),
        "[dry-run] wait until the 3 tasks of web/blue run, each having passed its check".to_string(),
    ] {
        assert!(stdout.contains(&line), "missing {line:?} in:\n{stdout}");
    }
    assert!(
        stdout.contains(&format!("stack deploy --with-registry-auth --resolve-image always --compose-file {}/swarm/proxy.yml", kit.display())),
        "nginx's stack is deployed:\n{stdout}"
    );
}
