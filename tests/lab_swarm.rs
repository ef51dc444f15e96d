//! What a three-node Docker Swarm of lab hosts can do (issue 14's
//! groundwork), proven on a swarm formed here (tests/support/lab/swarm.rs):
//! one manager and two workers, each a lab host's own dockerd, joined over
//! the lab network.
//!
//! - Images reach every node without a registry (docker save | load), and a
//!   service run by the image's id starts at once; a service by tag first
//!   tries to pull the tag and starts only after that failed.
//! - A service with replicas on both workers (node labels, at most one per
//!   node), `--endpoint-mode dnsrr`, on an attachable overlay network; its
//!   host-mode published port answers this test process on each worker's
//!   lab address.
//! - Overlay (vxlan) traffic between the nested engines: an nginx task on the
//!   manager reaches both worker tasks by the service's name through
//!   Docker's DNS.
//! - A swarm secret, read by a service from /run/secrets/NAME.
//! - This kernel has no IPVS (CONFIG_IP_VS unset, no loadable modules), so a
//!   service's virtual IP and the ingress routing mesh cannot work: a port
//!   published in ingress mode is refused on every node and the VIP does not
//!   answer. Where the kernel has IPVS, the same test asserts that both work.
//! - A worker lost (its host container killed): how long until the manager
//!   marks it down and its tasks run again on the other worker, what
//!   `docker service ps` shows meanwhile, and what happens when it is back;
//!   then the same with a 1 s dispatcher heartbeat and no restart delay.
//!
//! Needs what the lab needs (root, docker, ssh, openssl, iproute2, and
//! debootstrap for a cold host image) and curl; skips with a reason when one
//! is missing, fails when GREENLIGHT_REQUIRE_TOOLS=1. One lab at a time on a
//! machine: Lab::up takes the machine-wide lab lock.

#[allow(dead_code)] // the lab API serves several suites; this one uses a part
#[path = "support/lab/mod.rs"]
mod lab;
mod support;

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use lab::swarm::{Swarm, Task};
use lab::Lab;

/// The swarm secret's value, as the front service must serve it.
const SECRET: &str = "greenlight-lab-swarm-secret-7f3a";

/// How long a task may take to run when its image is local.
const TASK_LIMIT: Duration = Duration::from_secs(60);

fn lab(names: &[&str]) -> Option<Lab> {
    (support::tool_available("curl") && Lab::available()).then(|| Lab::up(names))
}

/// A GET by curl from this test process: (status, head, body without its
/// trailing newline), or None when nothing answered within 5 s.
fn get(url: &str) -> Option<(u16, String, String)> {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "5", "--include", url])
        .output()
        .unwrap();
    if !out.status.success() {
        return None;
    }
    let all = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = all.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, head.to_string(), body.trim_end().to_string()))
}

/// As [`get`], retried for up to 10 s until something answers.
fn get_answer(url: &str) -> (u16, String, String) {
    let started = Instant::now();
    loop {
        if let Some(answer) = get(url) {
            return answer;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nothing answers {url}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A POST of `bytes` zero bytes by curl from this test process: the
/// response body without its trailing newline.
fn post(url: &str, bytes: usize) -> String {
    use std::io::Write;
    let mut curl = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--data-binary", "@-", url])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    curl.stdin
        .take()
        .unwrap()
        .write_all(&vec![0; bytes])
        .unwrap();
    let out = curl.wait_with_output().unwrap();
    assert!(out.status.success(), "POST {url}: {}", lab::text(&out));
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

/// The value of a response header (case-insensitive name).
fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

/// The hosts of some tasks, sorted.
fn hosts(tasks: &[Task]) -> Vec<String> {
    let mut hosts: Vec<String> = tasks.iter().map(|t| t.host.clone()).collect();
    hosts.sort();
    hosts
}

/// The front service's nginx site: `/` proxies to the `app` service by name
/// (Docker's DNS at 127.0.0.11, one address per task with dnsrr, looked up
/// again every second) and says which task answered; `/vip` does the same
/// for the `mesh` service (a virtual IP); `/secret` is the swarm secret.
const FRONT_CONF: &str = r#"server {
    listen 80;
    resolver 127.0.0.11 valid=1s ipv6=off;
    proxy_connect_timeout 2s;
    client_max_body_size 8m;
    client_body_buffer_size 8m;
    add_header X-Upstream $upstream_addr always;
    location = /secret {
        default_type text/plain;
        alias /run/secrets/greeting;
    }
    location = /vip {
        set $mesh http://mesh:8080;
        proxy_pass $mesh;
    }
    location / {
        set $app http://app:8080;
        proxy_pass $app;
    }
}
"#;

#[test]
fn a_three_node_swarm_runs_a_dnsrr_service_over_its_overlay_with_host_ports_and_a_secret() {
    let Some(lab) = lab(&["m", "w1", "w2"]) else {
        return;
    };
    let images = support::images::images();
    let swarm = Swarm::form(&lab, "m", &["w1", "w2"]);
    let (m, w1, w2) = (lab.host("m"), lab.host("w1"), lab.host("w2"));
    let ids: BTreeSet<&str> = ["m", "w1", "w2"]
        .into_iter()
        .map(|h| swarm.node_id(h))
        .collect();
    assert_eq!(ids.len(), 3, "three distinct nodes: {ids:?}");
    let managers = m.docker_ok(&["node", "ls", "--filter", "role=manager", "-q"]);
    assert_eq!(managers.trim(), swarm.node_id("m"), "m is the one manager");

    let app_tag = format!("{}:v1", support::images::APP_IMAGE);
    let started = Instant::now();
    let app = swarm.send_image(&app_tag);
    let nginx = swarm.send_image(&images.nginx_plain);
    eprintln!(
        "swarm: 2 images sent to 3 nodes in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // By tag, for comparison: the task tries to pull first (checked last).
    let bytag_created = Instant::now();
    m.docker_ok(&[
        "service",
        "create",
        "--detach",
        "--name",
        "bytag",
        "--constraint",
        "node.hostname==w1",
        "--no-resolve-image",
        &app_tag,
    ]);

    for worker in ["w1", "w2"] {
        swarm.label(worker, "role=app");
    }
    m.docker_ok(&[
        "network",
        "create",
        "--driver",
        "overlay",
        "--attachable",
        "appnet",
    ]);
    m.ssh_ok(&format!(
        "printf %s {SECRET} | docker secret create greeting - >/dev/null"
    ));
    m.ssh_ok(&format!(
        "docker config create front.conf - >/dev/null <<'EOF'\n{FRONT_CONF}EOF"
    ));
    let created = Instant::now();
    m.docker_ok(&[
        "service",
        "create",
        "--detach",
        "--name",
        "app",
        "--network",
        "appnet",
        "--endpoint-mode",
        "dnsrr",
        "--replicas",
        "2",
        "--replicas-max-per-node",
        "1",
        "--constraint",
        "node.labels.role==app",
        "--publish",
        "mode=host,target=8080,published=8080",
        "--no-resolve-image",
        &app,
    ]);
    let app_tasks = swarm.wait_running("app", 2, TASK_LIMIT);
    eprintln!(
        "swarm: app (2 replicas, by image id) running {:.1} s after docker service create",
        created.elapsed().as_secs_f64()
    );
    assert_eq!(hosts(&app_tasks), ["w1", "w2"], "one replica per worker");
    m.docker_ok(&[
        "service",
        "create",
        "--detach",
        "--name",
        "front",
        "--network",
        "appnet",
        "--endpoint-mode",
        "dnsrr",
        "--constraint",
        "node.role==manager",
        "--secret",
        "greeting",
        "--config",
        "src=front.conf,target=/etc/nginx/conf.d/front.conf",
        "--publish",
        "mode=host,target=80,published=8000",
        "--no-resolve-image",
        &nginx,
    ]);
    // A VIP service (the default endpoint mode) with a port in the ingress
    // routing mesh (the default publish mode), on w1 only.
    m.docker_ok(&[
        "service",
        "create",
        "--detach",
        "--name",
        "mesh",
        "--network",
        "appnet",
        "--constraint",
        "node.hostname==w1",
        "--publish",
        "published=8090,target=8080",
        "--no-resolve-image",
        &app,
    ]);
    let front = swarm.wait_running("front", 1, TASK_LIMIT);
    assert_eq!(hosts(&front), ["m"]);
    swarm.wait_running("mesh", 1, TASK_LIMIT);

    // Host-mode published ports: each worker's own task, on its lab address.
    for host in [w1, w2] {
        let url = format!("http://{}:8080/", host.address());
        let (status, _, body) = get_answer(&url);
        assert_eq!((status, body.as_str()), (200, "version=v1"), "{url}");
    }
    assert!(
        get(&format!("http://{}:8080/", m.address())).is_none(),
        "the manager runs no app task: nothing of it on m:8080"
    );

    // Overlay: nginx on the manager reaches both worker tasks by the
    // service's name, at their overlay addresses.
    let task_addresses: BTreeSet<String> = app_tasks
        .iter()
        .flat_map(|t| t.addresses.iter().map(|a| format!("{a}:8080")))
        .collect();
    assert_eq!(task_addresses.len(), 2, "{app_tasks:?}");
    let front_url = format!("http://{}:8000/", m.address());
    let started = Instant::now();
    let mut upstreams = BTreeSet::new();
    for _ in 0..40 {
        let (status, head, body) = get_answer(&front_url);
        assert_eq!((status, body.as_str()), (200, "version=v1"), "{head}");
        upstreams.insert(header(&head, "X-Upstream").unwrap_or_default());
        if upstreams == task_addresses {
            break;
        }
    }
    assert_eq!(
        upstreams, task_addresses,
        "nginx on m reached these upstreams; the app tasks on w1 and w2 are at these"
    );
    eprintln!(
        "swarm: nginx on m reached both worker tasks over the overlay {upstreams:?} in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Full-size packets through the vxlan tunnel (inner MTU 1450 on the
    // lab's 1500): 4 MiB posted through nginx to a worker task.
    let started = Instant::now();
    for _ in 0..2 {
        assert_eq!(post(&front_url, 4 << 20), "version=v1 posted=4194304");
    }
    // The front task's interfaces and MTUs (overlay and docker_gwbridge).
    let mtu = m.ssh_ok(concat!(
        "pid=$(docker inspect --format '{{.State.Pid}}' $(docker ps -q --filter name=front)); ",
        "nsenter -t $pid -n ip -o -4 addr | while read -r _ dev _ addr _; do ",
        "echo \"$dev $addr $(nsenter -t $pid -n ip -o link show dev $dev | grep -o 'mtu [0-9]*')\"; done"
    ));
    eprintln!(
        "swarm: 2 POSTs of 4 MiB through the overlay in {:.1} s (front's interfaces: {})",
        started.elapsed().as_secs_f64(),
        mtu.trim().replace('\n', ", ")
    );

    // The secret, as the front task reads it from /run/secrets/greeting;
    // the manager never shows its value.
    let (status, _, body) = get_answer(&format!("http://{}:8000/secret", m.address()));
    assert_eq!((status, body.as_str()), (200, SECRET));
    let inspected = m.docker_ok(&["secret", "inspect", "greeting"]);
    assert!(!inspected.contains(SECRET), "{inspected}");

    // Virtual IP and ingress routing mesh: IPVS or nothing.
    let ipvs = w1.ssh("test -e /proc/net/ip_vs").status.success();
    let (status, head, body) = get_answer(&format!("http://{}:8000/vip", m.address()));
    let upstream = header(&head, "X-Upstream").unwrap_or_default();
    eprintln!("swarm: IPVS in this kernel: {ipvs}; the mesh service's VIP {upstream} through nginx: {status}");
    if ipvs {
        assert_eq!((status, body.as_str()), (200, "version=v1"), "{head}");
    } else {
        assert!(
            matches!(status, 502 | 504),
            "the VIP {upstream} answered without IPVS:\n{head}{body}"
        );
        let vip = m.docker_ok(&[
            "service",
            "inspect",
            "--format",
            "{{range .Endpoint.VirtualIPs}}{{.Addr}} {{end}}",
            "mesh",
        ]);
        assert!(
            vip.split_whitespace()
                .any(|a| a.split('/').next() == upstream.split(':').next()),
            "nginx tried {upstream}, not one of mesh's VIPs {vip}"
        );
        let log =
            w1.ssh_ok("grep -c 'ipvs is not enabled in your kernel' /var/log/dockerd.log || true");
        assert_ne!(
            log.trim(),
            "0",
            "w1's dockerd did not report the missing IPVS"
        );
    }
    for host in lab.hosts() {
        let addr = SocketAddr::from((host.address(), 8090));
        let connect = TcpStream::connect_timeout(&addr, Duration::from_secs(3));
        eprintln!(
            "swarm: ingress port {addr} ({}): {:?}",
            host.name(),
            connect
                .as_ref()
                .map(|_| "connected")
                .map_err(|e| e.to_string())
        );
        if ipvs {
            let (status, _, body) = get_answer(&format!("http://{addr}/"));
            assert_eq!((status, body.as_str()), (200, "version=v1"), "{addr}");
        } else {
            let err = connect.expect_err("an ingress port answered without IPVS");
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{addr}: {err}");
        }
    }

    // The service by tag: its task runs, after a failed pull logged by w1's
    // dockerd; no task by image id tried to pull.
    let bytag = swarm.wait_running("bytag", 1, TASK_LIMIT);
    eprintln!(
        "swarm: bytag (by tag) running {:.1} s after docker service create",
        bytag_created.elapsed().as_secs_f64()
    );
    let pulls = w1.ssh_ok("grep 'pulling image failed' /var/log/dockerd.log || true");
    assert!(
        pulls.contains(&format!("task.id={}", bytag[0].id)),
        "w1's dockerd logged no failed pull for the task by tag:\n{pulls}"
    );
    for task in &app_tasks {
        assert!(
            !pulls.contains(&task.id),
            "a task by image id tried to pull:\n{pulls}"
        );
    }
    lab.down();
}

#[test]
fn a_lost_worker_is_marked_down_and_its_tasks_run_again_on_the_other_worker() {
    let Some(lab) = lab(&["m", "w1", "w2"]) else {
        return;
    };
    support::images::images();
    let swarm = Swarm::form(&lab, "m", &["w1", "w2"]);
    let (m, w1, w2) = (lab.host("m"), lab.host("w1"), lab.host("w2"));
    let app = swarm.send_image(&format!("{}:v1", support::images::APP_IMAGE));
    // Two replicas on the workers: spread one per worker, free to move.
    // "pinned" publishes a host-mode port: one task per node at most.
    for (name, extra) in [
        ("app", None),
        ("pinned", Some("mode=host,target=8080,published=8080")),
    ] {
        let mut args = vec![
            "service",
            "create",
            "--detach",
            "--name",
            name,
            "--endpoint-mode",
            "dnsrr",
            "--replicas",
            "2",
            "--constraint",
            "node.role==worker",
            "--no-resolve-image",
        ];
        if let Some(publish) = extra {
            args.extend(["--publish", publish]);
        }
        args.push(&app);
        m.docker_ok(&args);
    }
    let before = swarm.wait_running("app", 2, TASK_LIMIT);
    assert_eq!(hosts(&before), ["w1", "w2"], "spread over the workers");
    assert_eq!(
        hosts(&swarm.wait_running("pinned", 2, TASK_LIMIT)),
        ["w1", "w2"]
    );
    let lost = before.iter().find(|t| t.host == "w2").unwrap().id.clone();

    w2.stop();
    let stopped = Instant::now();
    let down = swarm.wait_node("w2", "down", Duration::from_secs(60));
    // Running again: two tasks meant to run and running, both on w1.
    let moved = loop {
        let running: Vec<Task> = swarm
            .tasks("app")
            .into_iter()
            .filter(|t| t.desired == "running" && t.state == "running")
            .collect();
        if hosts(&running) == ["w1", "w1"] {
            break stopped.elapsed();
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(90),
            "app not back to 2 tasks on w1:\n{}",
            swarm.service_ps("app")
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let ps = swarm.service_ps("app");
    eprintln!(
        "swarm: w2 stopped; marked down after {:.1} s; its app task running again on w1 {:.1} s after the stop\n{ps}",
        down.as_secs_f64(),
        moved.as_secs_f64()
    );
    // The lost task: shut down as far as the manager is concerned, its state
    // the last one w2 reported.
    let old = swarm
        .tasks("app")
        .into_iter()
        .find(|t| t.id == lost)
        .unwrap();
    assert_eq!(
        (old.host.as_str(), old.desired.as_str(), old.state.as_str()),
        ("w2", "shutdown", "running"),
        "{ps}"
    );
    // The host-mode port allows one task per node: the replacement waits.
    let started = Instant::now();
    let pending = loop {
        let pending: Vec<Task> = swarm
            .tasks("pinned")
            .into_iter()
            .filter(|t| t.desired == "running" && t.state == "pending")
            .collect();
        if !pending.is_empty() || started.elapsed() > Duration::from_secs(20) {
            break pending;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let ps = swarm.service_ps("pinned");
    assert_eq!(pending.len(), 1, "{ps}");
    assert_eq!(pending[0].host, "", "a pending task has no node: {ps}");
    assert!(ps.contains("no suitable node"), "{ps}");
    let (status, _, body) = get_answer(&format!("http://{}:8080/", w1.address()));
    assert_eq!((status, body.as_str()), (200, "version=v1"), "w1's port");

    // Back: w2 is ready again, the pending task runs there; the moved app
    // task stays on w1 (a swarm does not rebalance).
    w2.start();
    let ready = swarm.wait_node("w2", "ready", Duration::from_secs(60));
    let started = Instant::now();
    assert_eq!(
        hosts(&swarm.wait_running("pinned", 2, TASK_LIMIT)),
        ["w1", "w2"]
    );
    eprintln!(
        "swarm: w2 booted; ready {:.1} s after its engine answered; pinned's pending task running there {:.1} s later",
        ready.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    let (status, _, body) = get_answer(&format!("http://{}:8080/", w2.address()));
    assert_eq!((status, body.as_str()), (200, "version=v1"), "w2's port");
    assert_eq!(
        hosts(&swarm.wait_running("app", 2, TASK_LIMIT)),
        ["w1", "w1"],
        "{}",
        swarm.service_ps("app")
    );

    // Faster: nodes send a heartbeat every second instead of every 5 s
    // (each takes the new period with its next heartbeat, up to 5 s after
    // the update: until then the manager gives it the old deadline), and a
    // lost task is replaced without the default 5 s restart delay.
    m.docker_ok(&["swarm", "update", "--dispatcher-heartbeat", "1s"]);
    let updated = Instant::now();
    m.docker_ok(&[
        "service",
        "create",
        "--detach",
        "--name",
        "quick",
        "--endpoint-mode",
        "dnsrr",
        "--replicas",
        "2",
        "--restart-delay",
        "0s",
        "--constraint",
        "node.role==worker",
        "--no-resolve-image",
        &app,
    ]);
    assert_eq!(
        hosts(&swarm.wait_running("quick", 2, TASK_LIMIT)),
        ["w1", "w2"]
    );
    std::thread::sleep(Duration::from_secs(6).saturating_sub(updated.elapsed()));
    w1.stop();
    let stopped = Instant::now();
    let quick_down = swarm.wait_node("w1", "down", Duration::from_secs(60));
    let quick_moved = loop {
        let running: Vec<Task> = swarm
            .tasks("quick")
            .into_iter()
            .filter(|t| t.desired == "running" && t.state == "running")
            .collect();
        if hosts(&running) == ["w2", "w2"] {
            break stopped.elapsed();
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(60),
            "quick not back to 2 tasks on w2:\n{}",
            swarm.service_ps("quick")
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    eprintln!(
        "swarm: heartbeat 1 s, restart delay 0 s: w1 stopped; marked down after {:.1} s; its task running again on w2 {:.1} s after the stop",
        quick_down.as_secs_f64(),
        quick_moved.as_secs_f64()
    );
    assert!(
        quick_down < down,
        "a 1 s heartbeat found the lost node after {quick_down:?}, the default 5 s one after {down:?}"
    );
    lab.down();
}
