//! The lab of hosts (tests/support/lab) proven: hosts answer over ssh with
//! the lab's own config; each host's engine answers over ssh:// (docker's
//! connection helper through the lab's ssh wrapper) and over tcp with TLS,
//! and a plain tcp engine is there on demand; an image sent without a
//! registry runs on a host and answers over the lab network; nginx runs
//! with njs and Debian's stock default site; with the lab network gone a
//! lab address fails at once; a stopped, frozen or disconnected host fails
//! ssh within seconds and comes back. Lab::up prints the time the host
//! image (a cold build or the cache) and the hosts took.
//!
//! Needs root, docker (a running engine), ssh, openssl, iproute2 and, for a
//! cold build of the host image, debootstrap; skips with a reason when one
//! is missing, fails when GREENLIGHT_REQUIRE_TOOLS=1.

#[allow(dead_code)] // the lab API serves the multi-host suites; this one uses a part
#[path = "support/lab/mod.rs"]
mod lab;
mod support;

use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use lab::{text, Lab};

fn lab(names: &[&str]) -> Option<Lab> {
    Lab::available().then(|| Lab::up(names))
}

/// The docker CLI of this machine with no engine setting of its own.
fn docker_cli() -> Command {
    let mut cmd = Command::new("docker");
    for var in [
        "DOCKER_HOST",
        "DOCKER_CONTEXT",
        "DOCKER_TLS_VERIFY",
        "DOCKER_CERT_PATH",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn stdout_ok(out: Output, what: &str) -> String {
    assert!(out.status.success(), "{what} failed:\n{}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn every_host_answers_over_ssh_and_its_engine_over_ssh_and_tls() {
    if !support::tool_available("curl") {
        return;
    }
    let Some(lab) = lab(&["web1", "web2", "lb"]) else {
        return;
    };
    // Nothing on the lab network has a way off the machine.
    let out = docker_cli()
        .args([
            "network",
            "inspect",
            "--format",
            "{{.Internal}}",
            lab::NETWORK,
        ])
        .output()
        .unwrap();
    assert_eq!(stdout_ok(out, "docker network inspect"), "true");
    for host in lab.hosts() {
        let name = host.name();
        assert_eq!(host.ssh_ok("hostname").trim(), name);
        // PID 1 is tini, and it reaps an orphan that exits.
        let zombies = host.ssh_ok(
            "(sleep 0.2 &); sleep 1; echo $(ps -o comm= -p 1) $(ps -eo stat= | grep -c '^Z')",
        );
        assert_eq!(zombies.trim(), "tini 0", "PID 1 and zombies on {name}");
        // The user's own ssh setup plays no part: plain ssh with the lab's
        // config file, by name and by address.
        for dest in [name.to_string(), host.ssh_destination()] {
            let out = Command::new("ssh")
                .arg("-F")
                .arg(lab.ssh_config())
                .args([&dest, "cat /etc/hostname"])
                .output()
                .unwrap();
            assert_eq!(stdout_ok(out, &format!("ssh {dest}")), name);
        }
        // docker over ssh:// runs `ssh` by name: the lab's wrapper.
        let out = docker_cli()
            .env("PATH", lab.path_env())
            .env("DOCKER_HOST", host.docker_host_ssh())
            .args(["version", "--format", "{{.Server.Version}}"])
            .output()
            .unwrap();
        let version = stdout_ok(out, "docker version over ssh://");
        assert!(version.starts_with("20.10"), "{version}");
        let out = docker_cli()
            .env("PATH", lab.path_env())
            .env("DOCKER_HOST", host.docker_host_ssh())
            .args(["info", "--format", "{{.Name}} {{.Driver}}"])
            .output()
            .unwrap();
        let info = stdout_ok(out, "docker info over ssh://");
        assert_eq!(info, format!("{name} overlay2"), "the host's own engine");
        // tcp with TLS verified both ways.
        let out = docker_cli()
            .envs(host.tls_env())
            .args(["info", "--format", "{{.Name}}"])
            .output()
            .unwrap();
        assert_eq!(stdout_ok(out, "docker info over tcp+TLS"), name);
        // The server verifies the client: the lab's CA alone gets no answer.
        let certs = &host.tls_env()[2].1;
        let url = format!("https://{}:2376/version", host.address());
        let curl = |client_cert: bool| {
            let mut cmd = Command::new("curl");
            cmd.args(["-sS", "--max-time", "5", "--cacert"])
                .arg(format!("{certs}/ca.pem"));
            if client_cert {
                cmd.arg("--cert")
                    .arg(format!("{certs}/cert.pem"))
                    .arg("--key")
                    .arg(format!("{certs}/key.pem"));
            }
            cmd.arg(&url).output().unwrap()
        };
        assert!(curl(true).status.success(), "{}", text(&curl(true)));
        let refused = curl(false);
        assert!(
            !refused.status.success(),
            "{url} answered without a client cert"
        );
        // Both composes, on the host.
        let composes =
            host.ssh_ok("docker-compose version --short && docker compose version --short");
        let majors: Vec<char> = composes
            .lines()
            .filter_map(|l| l.trim().chars().next())
            .collect();
        assert_eq!(majors, ['1', '2'], "compose v1 then v2:\n{composes}");
        eprintln!(
            "{name}: engine {version}, compose {}",
            composes.replace('\n', " ")
        );
    }
    // An unauthenticated engine, on demand.
    let web2 = lab.host("web2");
    let plain = web2.plain_tcp_engine();
    let out = docker_cli()
        .env("DOCKER_HOST", &plain)
        .args(["info", "--format", "{{.Name}}"])
        .output()
        .unwrap();
    assert_eq!(stdout_ok(out, &format!("docker info on {plain}")), "web2");
    lab.down();
}

#[test]
fn an_image_sent_without_a_registry_runs_and_answers_over_the_lab_network() {
    if !support::tool_available("curl") {
        return;
    }
    let Some(lab) = lab(&["web1", "lb"]) else {
        return;
    };
    let image = format!("{}:v1", support::images::APP_IMAGE);
    support::images::images();
    let web1 = lab.host("web1");
    let started = Instant::now();
    web1.send_image(&image);
    eprintln!("{image} sent to web1 in {:?}", started.elapsed());
    web1.docker_ok(&["run", "-d", "--name", "app", "-p", "8080:8080", &image]);
    let url = format!("http://{}:8080/", web1.address());
    let started = Instant::now();
    let answer = loop {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "2", &url])
            .output()
            .unwrap();
        if out.status.success() || started.elapsed() > Duration::from_secs(10) {
            break stdout_ok(out, &format!("curl {url}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(answer, "version=v1", "from the test process");
    // From another host, by name.
    let answer = lab
        .host("lb")
        .ssh_ok("curl -sS --max-time 2 http://web1:8080/");
    assert_eq!(answer.trim(), "version=v1", "from lb");
    lab.down();
}

#[test]
fn nginx_runs_with_njs_and_the_stock_default_site_also_after_a_reboot() {
    if !support::tool_available("curl") {
        return;
    }
    let Some(lab) = lab(&["lb"]) else {
        return;
    };
    let lb = lab.host("lb");
    lb.enable_nginx();
    lb.ssh_ok("nginx -t");
    let conf = lb.ssh_ok("nginx -T 2>/dev/null");
    assert!(
        conf.contains("load_module modules/ngx_http_js_module.so;"),
        "njs is not loaded:\n{conf}"
    );
    assert!(
        conf.contains("listen 80 default_server;"),
        "no stock default site:\n{conf}"
    );
    let welcome = || {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "2"])
            .arg(format!("http://{}/", lb.address()))
            .output()
            .unwrap();
        stdout_ok(out, "curl lb:80")
    };
    assert!(welcome().contains("Welcome to nginx!"));
    lb.stop();
    lb.start();
    assert!(
        welcome().contains("Welcome to nginx!"),
        "nginx after a reboot"
    );
    lab.down();
}

#[test]
fn without_the_lab_network_lab_addresses_fail_at_once() {
    let Some(lab) = lab(&["solo"]) else {
        return;
    };
    let addr = SocketAddr::from((lab.host("solo").address(), 22));
    TcpStream::connect_timeout(&addr, Duration::from_secs(3)).expect("sshd answers");
    lab.remove_network();
    let started = Instant::now();
    let err = TcpStream::connect_timeout(&addr, Duration::from_secs(3))
        .expect_err("connected to a lab address without the lab network");
    let elapsed = started.elapsed();
    eprintln!("connect to {addr} without the network: {err} after {elapsed:?}");
    assert_eq!(err.raw_os_error(), Some(libc::EHOSTUNREACH), "{err}");
    assert!(elapsed < Duration::from_millis(500), "{elapsed:?}");
    let out = lab.host("solo").ssh("true");
    assert!(!out.status.success());
    assert!(text(&out).contains("No route to host"), "{}", text(&out));
    lab.down();
}

#[test]
fn a_host_stopped_frozen_or_disconnected_fails_ssh_within_seconds_and_comes_back() {
    let Some(lab) = lab(&["web1", "web2"]) else {
        return;
    };
    let (web1, web2) = (lab.host("web1"), lab.host("web2"));
    // What a host has on disk survives a power cut.
    web2.docker_ok(&["network", "create", "kept"]);
    type Action = fn(&lab::Host);
    let faults: [(&str, Action, Action); 3] = [
        ("stopped", lab::Host::stop, lab::Host::start),
        ("frozen", lab::Host::pause, lab::Host::unpause),
        ("disconnected", lab::Host::disconnect, lab::Host::connect),
    ];
    for (what, fault, repair) in faults {
        fault(web2);
        let started = Instant::now();
        let out = web2.ssh("true");
        let elapsed = started.elapsed();
        eprintln!(
            "ssh to web2 {what}: failed after {elapsed:?}: {}",
            text(&out).trim()
        );
        assert!(!out.status.success(), "ssh to web2 {what} succeeded");
        assert!(
            elapsed < Duration::from_secs(6),
            "ssh to web2 {what} took {elapsed:?}"
        );
        web1.ssh_ok("true");
        repair(web2);
        web2.ssh_ok("docker network inspect kept >/dev/null");
    }
    lab.down();
}
