//! A stack on many machines, as compiled: the header of deploy.sh (read by
//! bash itself) names where the lock lives, how images reach the hosts,
//! each app's parallel bound and fixed images, the accessories of each host
//! and the compose nginx image; nginx leaves a dead host out quickly; and
//! PLAN.md says all of it.

mod support;

use std::process::Command;

use camino::Utf8PathBuf;
use support::kit_code;

/// A momo-like stack: an app on two hosts, nginx on a third, an accessory
/// on the second host and one on the default host (the first app host).
const MOMO_LIKE: &str = r#"greenlight 1
project "momo"

host "was1" address="ubuntu@10.0.0.11"
host "was2" address="ubuntu@10.0.0.12"
host "lb" address="ubuntu@10.0.0.10"

app "api" {
    image "10.0.0.5:8080/momo-api"
    port 8080
    host-ports blue=8081 green=8082
    health "/actuator/health"
    parallel 1
    sidecar "logs" {
        image "fluent/fluent-bit"
        tag "2.2"
    }
    sidecar "metrics" {
        image "prom/statsd-exporter@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
    }
}

accessory "redis" {
    image "redis:7.2"
    port 6379 publish=#true
    on "was2"
}

accessory "cache" {
    image "memcached:1.6"
}

accessory "queue" {
    image "redis:7.2"
    on "was2"
}

proxy {
    mode "remote"
    on "lb"
}
"#;

/// The kit of a spec given as text.
fn kit(spec: &str) -> greenlight::render::Kit {
    let (plan, _) = greenlight::load_text("stack.kdl", spec.to_string())
        .unwrap_or_else(|e| panic!("the spec does not load: {e:?}"));
    greenlight::kit(&plan, greenlight::render::TemplateSource::default()).expect("renders")
}

fn file<'a>(kit: &'a greenlight::render::Kit, path: &str) -> &'a str {
    kit.get(&Utf8PathBuf::from(path))
        .unwrap_or_else(|| panic!("the kit has no {path}"))
}

/// What bash makes of `expression` after the header of deploy.sh (the
/// stack as compiled, up to its first function).
fn header_value(kit: &greenlight::render::Kit, expression: &str) -> String {
    let script = file(kit, "deploy.sh");
    let start = script.find("readonly PROJECT=").expect("the header");
    let end = script
        .match_indices("() {")
        .map(|(at, _)| script[..at].rfind('\n').map_or(0, |line| line + 1))
        .next()
        .expect("the first function");
    let program = format!("{}\nprintf '%s' \"{expression}\"\n", &script[start..end]);
    let out = Command::new("bash")
        .arg("-c")
        .arg(program)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "bash refused the header: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_header_names_lock_images_parallel_and_accessories_per_host() {
    let kit = kit(MOMO_LIKE);
    let value = |e: &str| header_value(&kit, e);
    assert_eq!(value("$IMAGE_SOURCE"), "pull");
    assert_eq!(value("$LOCK_HOST"), "lb");
    assert_eq!(value("${HOST_SSH[$LOCK_HOST]}"), "ubuntu@10.0.0.10");
    assert_eq!(value("${APP_PARALLEL[api]}"), "1");
    assert_eq!(
        value("${APP_FIXED_IMAGES[api]}"),
        "fluent/fluent-bit:2.2 prom/statsd-exporter@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
    );
    assert_eq!(
        value("${APP_VERSION_IMAGES[api]}"),
        "10.0.0.5:8080/momo-api"
    );
    assert_eq!(
        value("${!HOST_ACCESSORIES[*]}"),
        "was1 was2",
        "only hosts that run some"
    );
    assert_eq!(
        value("${HOST_ACCESSORIES[was1]}"),
        "cache",
        "the default: the first app host"
    );
    assert_eq!(value("${HOST_ACCESSORIES[was2]}"), "redis queue");
    assert_eq!(value("${HOST_ACCESSORY_IMAGES[was1]}"), "memcached:1.6");
    assert_eq!(
        value("${HOST_ACCESSORY_IMAGES[was2]}"),
        "redis:7.2",
        "each image once"
    );
    assert_eq!(value("$ACCESSORIES_PROJECT"), "momo-accessories");
    assert_eq!(value("$PROXY_IMAGE"), "", "nginx is not in compose");
    for present in [
        "ssh_setup() {",
        "check_hosts() {",
        "acquire_remote_lock() {",
    ] {
        assert!(kit_code(&kit).contains(present), "{present}");
    }
    // The accessory publishes on its own host's address.
    assert!(file(&kit, "compose/accessories.yml").contains("\"10.0.0.12:6379:6379\""));
}

#[test]
fn registry_none_sends_images_and_a_local_stack_keeps_its_lock() {
    let sent = kit(&MOMO_LIKE.replace(
        "project \"momo\"\n",
        "project \"momo\"\nregistry \"none\"\n",
    ));
    assert_eq!(header_value(&sent, "$IMAGE_SOURCE"), "send");
    assert!(file(&sent, "PLAN.md").contains("`docker save | docker load`"));

    let local = kit(r#"greenlight 1
project "hello"

app "web" {
    image "ghcr.io/acme/web"
    port 8080
    health "/healthz"
}
"#);
    let value = |e: &str| header_value(&local, e);
    let script = kit_code(&local);
    for absent in [
        "LOCK_HOST",
        "APP_PARALLEL",
        "HOST_ACCESSORIES",
        "ssh_setup",
        "acquire_remote_lock",
    ] {
        assert!(
            !script.contains(absent),
            "a one-machine kit has no {absent}"
        );
    }
    assert_eq!(value("${APP_FIXED_IMAGES[web]}"), "");
    assert_eq!(value("$PROXY_IMAGE"), "nginx:1.27.5");
    assert!(file(&local, "PLAN.md")
        .contains("the stack's deploy lock is in the state directory on the control machine"));
}

#[test]
fn without_a_remote_proxy_the_lock_is_on_the_first_app_host_reached_over_ssh() {
    let kit = kit(r#"greenlight 1
project "shop"

host "here" address="local"
host "was1" address="deploy@10.0.0.11"
host "was2" address="deploy@10.0.0.12"

app "web" {
    image "ghcr.io/acme/web"
    port 8080
    host-ports blue=8081 green=8082
    hosts "here" "was2"
    health "/healthz"
}

proxy {
    mode "host"
}
"#);
    assert_eq!(header_value(&kit, "$LOCK_HOST"), "was2", "was1 runs no app");
    assert!(file(&kit, "PLAN.md").contains("2. Takes the lock on host **was2**"));
}

#[test]
fn nginx_leaves_a_dead_host_out_only_where_an_upstream_has_several() {
    let several = kit(MOMO_LIKE);
    let upstream = file(&several, "nginx/api-blue.upstream.conf");
    for server in [
        "server 10.0.0.11:8081 max_fails=1 fail_timeout=10s;",
        "server 10.0.0.12:8081 max_fails=1 fail_timeout=10s;",
        "server 10.0.0.11:8082 max_fails=1 fail_timeout=10s backup;",
        "server 10.0.0.12:8082 max_fails=1 fail_timeout=10s backup;",
    ] {
        assert!(upstream.contains(server), "{server}\n{upstream}");
    }
    assert!(file(&several, "nginx/site.conf").contains("        proxy_connect_timeout 2s;\n"));

    let one = kit(&MOMO_LIKE.replace("app \"api\" {\n", "app \"api\" {\n    hosts \"was1\"\n"));
    let upstream = file(&one, "nginx/api-blue.upstream.conf");
    assert!(
        upstream.contains("server 10.0.0.11:8081 max_fails=0;"),
        "{upstream}"
    );
    assert!(!upstream.contains("fail_timeout"), "{upstream}");
    assert!(!file(&one, "nginx/site.conf").contains("proxy_connect_timeout"));
}

#[test]
fn plan_md_says_where_deploy_sh_runs_and_the_parallel_bound() {
    let kit = kit(MOMO_LIKE);
    let plan = file(&kit, "PLAN.md");
    for said in [
        "deploy.sh runs on the control machine, the one it is started on, and reaches over ssh:\n  - **was1**\n  - **was2**\n  - **lb**\n",
        "the stack's deploy lock is on **lb**",
        "every host pulls the version's images",
        "on hosts, at most 1 at once (a color starts and stops on that many hosts at a time):\n  - was1\n  - was2\n",
        "- **redis**: `redis:7.2`, port 6379 (published on 10.0.0.12:6379 only), on was2",
    ] {
        assert!(plan.contains(said), "PLAN.md does not say {said:?}:\n{plan}");
    }
}
