//! A lab of hosts for multi-host tests: each host a container of a Debian
//! image made by debootstrap (tests/lab/), with its own address on a private
//! docker network, sshd (root by key), its own dockerd (docker CLI, compose
//! v1 and v2; TLS-verified tcp on port 2376 too) and Debian's nginx with the
//! njs module and its stock `default` site, started on request.
//!
//! ```ignore
//! let Some(lab) = Lab::available().then(|| Lab::up(&["web1", "web2", "lb"])) else { return };
//! let web1 = lab.host("web1");           // 172.31.240.11: hosts get .11, .12, ... in order
//! web1.send_image("greenlight-test/app:v1");
//! web1.docker_ok(&["run", "-d", "-p", "8080:8080", "greenlight-test/app:v1"]);
//! lab.host("lb").enable_nginx();
//! Command::new(kit.join("deploy.sh"))
//!     .env("GREENLIGHT_SSH_CONFIG", lab.ssh_config())   // ssh -F: keys, pinned host keys
//!     .env("PATH", lab.path_env());                      // docker -H ssh://... finds the lab's ssh
//! web1.stop();  web1.start();                            // power cut and boot
//! lab.down();                                            // asserts that nothing is left
//! ```
//!
//! One lab exists at a time on a machine (its subnet and names are fixed):
//! [`Lab::up`] takes a machine-wide lock, held until the lab is dropped, so
//! parallel test threads, test binaries and other worktrees take turns.
//! Every `Lab::up` starts fresh hosts (empty engines, nginx stopped) and
//! removes whatever a killed test left; dropping the lab removes its
//! containers (and their volumes), network and route. The host image is
//! cached (tests/lab/image.sh). Never call `Lab::up` twice in one thread
//! while the first lab lives: the second waits for the first forever.
//!
//! A Docker Swarm of lab hosts (manager and workers over the lab network)
//! is [`swarm::Swarm::form`].
//!
//! Traffic stays on this machine: the network is `--internal` (no way out
//! from the hosts), hosts resolve only lab names, and a route makes the lab
//! subnet unreachable whenever the network is missing, so a test run with
//! the lab down fails at once instead of sending packets out.

mod host;
mod lock;
pub mod swarm;

pub use host::{text, Host};

use std::ffi::OsString;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

use crate::support;

/// The lab network's subnet: at the top of 172.16.0.0/12, far from the
/// networks docker allocates by itself (172.17.0.0/16 upward, one /16
/// each); a network already there makes [`Lab::up`] fail with docker's
/// message.
pub const SUBNET: &str = "172.31.240.0/24";
/// This machine's address on the lab network (what the hosts see the test
/// process as).
pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(172, 31, 240, 1);
/// The lab network's name on this machine's engine.
pub const NETWORK: &str = "greenlight-lab";
/// The label of every lab container and network, by which leftovers are
/// found.
const LABEL: &str = "greenlight.lab";
/// How the name of a lab's dir (in the temp dir) starts.
const DIR_PREFIX: &str = "greenlight-lab-";
/// The host part of the first host's address.
const FIRST_HOST: u8 = 11;
/// The route that keeps lab traffic on the machine: behind the network's own
/// route while it exists (higher metric), the only one left when it does
/// not. `unreachable` rather than `blackhole`: a connect fails at once with
/// "No route to host" instead of a puzzling "Invalid argument".
const ROUTE: [&str; 4] = ["unreachable", SUBNET, "metric", ROUTE_METRIC];
/// The metric of [`ROUTE`].
const ROUTE_METRIC: &str = "4242";

/// A running lab. See the module doc.
pub struct Lab {
    // Dropped in this order after `Drop::drop` tears the lab down: the lab
    // dir, then the machine lock.
    dir: tempfile::TempDir,
    hosts: Vec<Host>,
    torn_down: bool,
    _lock: lock::MachineLock,
}

impl Lab {
    /// Whether the lab can run here: root, a running Docker Engine, ssh,
    /// openssl, iproute2, and debootstrap when the host image is not cached
    /// yet. When something is missing, prints why and returns false, or
    /// panics when GREENLIGHT_REQUIRE_TOOLS=1 (as `support::tool_available`).
    pub fn available() -> bool {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        support::required(
            root,
            "the lab needs root (it sets routes and runs debootstrap)",
        ) && ["docker", "ssh", "ssh-keygen", "openssl", "ip", "sha256sum"]
            .into_iter()
            .all(support::tool_available)
            && support::images::engine_available()
            && (image_script()
                .arg("--cached")
                .status()
                .is_ok_and(|s| s.success())
                || support::tool_available("debootstrap"))
    }

    /// Starts a lab of hosts with these names (lowercase letters, digits and
    /// `-`), at addresses .11, .12, ... of [`SUBNET`] in the order given,
    /// after waiting for the machine's lab lock; builds the host image first
    /// when it is not cached. Returns when every host's sshd and dockerd
    /// answer. Prints how long the image and the hosts took.
    pub fn up(names: &[&str]) -> Lab {
        for (i, name) in names.iter().enumerate() {
            assert!(
                name.starts_with(|c: char| c.is_ascii_lowercase())
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !names[..i].contains(name),
                "lab: host names must be distinct [a-z][a-z0-9-]*: {names:?}"
            );
        }
        assert!(names.len() <= 100, "lab: at most 100 hosts");
        let lock = lock::MachineLock::acquire();
        let started = Instant::now();
        let left = teardown();
        if !left.is_empty() {
            panic!("lab: cannot remove what an earlier lab left: {left:?}");
        }
        remove_stale_dirs();
        let mut lab = Lab {
            dir: tempfile::Builder::new()
                .prefix(DIR_PREFIX)
                .tempdir()
                .unwrap(),
            hosts: Vec::new(),
            torn_down: false,
            _lock: lock,
        };
        let image = host_image();
        let image_ready = started.elapsed();
        machine_ok(Command::new("ip").args(["route", "replace"]).args(ROUTE));
        let (ok, out) = docker_quiet(&[
            "network",
            "create",
            "--internal",
            "--subnet",
            SUBNET,
            "--gateway",
            &GATEWAY.to_string(),
            "--label",
            LABEL,
            NETWORK,
        ]);
        assert!(
            ok,
            "lab: cannot create the network {NETWORK} ({SUBNET}):\n{out}"
        );
        lab.hosts = names
            .iter()
            .zip(FIRST_HOST..)
            .map(|(name, n)| {
                let [a, b, c, _] = GATEWAY.octets();
                Host::new(name, Ipv4Addr::new(a, b, c, n), lab.dir.path())
            })
            .collect();
        let mut creds = Command::new(support::root().join("tests/lab/creds.sh"));
        creds.arg(lab.dir.path());
        for host in &lab.hosts {
            creds.arg(format!("{}={}", host.name(), host.address()));
        }
        machine_ok(&mut creds);
        for host in &lab.hosts {
            host.boot(&image, &lab.hosts);
        }
        std::thread::scope(|s| {
            for host in &lab.hosts {
                s.spawn(|| host.wait_ready());
            }
        });
        eprintln!(
            "lab: {} host(s) up in {:.1} s (host image ready after {:.1} s)",
            names.len(),
            (started.elapsed() - image_ready).as_secs_f64(),
            image_ready.as_secs_f64()
        );
        lab
    }

    /// The host with this name; panics when the lab has none.
    pub fn host(&self, name: &str) -> &Host {
        self.hosts
            .iter()
            .find(|h| h.name() == name)
            .unwrap_or_else(|| panic!("lab: no host {name:?}"))
    }

    /// Every host, in the order given to [`Lab::up`].
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// The ssh config that reaches every host by name or address with the
    /// lab's key and pinned host keys, in batch mode with a 3 s connect
    /// timeout: `ssh -F CONFIG root@ADDRESS`, or GREENLIGHT_SSH_CONFIG for
    /// a kit. The user's own ssh setup is neither read nor changed.
    pub fn ssh_config(&self) -> PathBuf {
        self.dir.path().join("ssh_config")
    }

    /// A dir with an `ssh` that runs the system's ssh with the lab's config,
    /// for programs that run `ssh` by name (docker's ssh:// connection
    /// helper); put it first in PATH ([`Lab::path_env`]).
    pub fn bin_dir(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    /// PATH with [`Lab::bin_dir`] first.
    pub fn path_env(&self) -> OsString {
        let mut dirs = vec![self.bin_dir()];
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::env::join_paths(dirs).unwrap()
    }

    /// Removes the lab network with every host still running, as a teardown
    /// that died halfway would leave it: lab addresses are then unreachable
    /// from this machine at once. There is no way back; drop the lab.
    pub fn remove_network(&self) {
        for host in &self.hosts {
            host.disconnect();
        }
        let (ok, out) = docker_quiet(&["network", "rm", NETWORK]);
        assert!(ok, "lab: docker network rm {NETWORK}:\n{out}");
    }

    /// Tears the lab down now and asserts that nothing of it is left (no
    /// container, volume, network or route), while the lab lock is still
    /// held (after a plain drop another lab may already be starting).
    pub fn down(mut self) {
        self.torn_down = true;
        let left = teardown();
        assert!(left.is_empty(), "lab: left after teardown: {left:?}");
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if !self.torn_down {
            let left = teardown();
            if !left.is_empty() {
                eprintln!("lab: left after teardown: {left:?}");
            }
        }
    }
}

/// Removes every lab container (with its volumes), the lab network and the
/// lab route, whoever made them; returns what is still there.
fn teardown() -> Vec<String> {
    let containers = || {
        let (_, out) = docker_quiet(&["ps", "-aq", "--filter", &format!("label={LABEL}")]);
        support::images::lines(&out)
    };
    let ids = containers();
    if !ids.is_empty() {
        let mut args = vec!["rm", "--force", "--volumes"];
        args.extend(ids.iter().map(String::as_str));
        docker_quiet(&args);
    }
    let network = || docker_quiet(&["network", "inspect", NETWORK]).0;
    if network() {
        docker_quiet(&["network", "rm", NETWORK]);
    }
    let route = || {
        Command::new("ip")
            .args(["route", "show", "exact", SUBNET, "type", "unreachable"])
            .args(["metric", ROUTE_METRIC])
            .output()
            .is_ok_and(|o| !o.stdout.is_empty())
    };
    if route() {
        let _ = Command::new("ip")
            .args(["route", "del"])
            .args(ROUTE)
            .output();
    }
    let mut left: Vec<String> = containers()
        .into_iter()
        .map(|id| format!("container {id}"))
        .collect();
    if network() {
        left.push(format!("network {NETWORK}"));
    }
    if route() {
        left.push(format!("route {}", ROUTE.join(" ")));
    }
    left
}

/// Removes the dirs of labs whose test was killed before its teardown
/// (only called with the lock held, so no live lab has one).
fn remove_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(DIR_PREFIX) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// tests/lab/image.sh (prints the host image, building it when needed).
fn image_script() -> Command {
    let mut cmd = Command::new(support::root().join("tests/lab/image.sh"));
    cmd.stdin(Stdio::null());
    cmd
}

/// The host image, made by tests/lab/image.sh once per test binary (its
/// progress goes to stderr: a cold build takes minutes).
fn host_image() -> String {
    static IMAGE: OnceLock<String> = OnceLock::new();
    IMAGE
        .get_or_init(|| {
            let out = image_script()
                .stderr(Stdio::inherit())
                .output()
                .unwrap_or_else(|e| panic!("lab: cannot run tests/lab/image.sh: {e}"));
            assert!(out.status.success(), "lab: tests/lab/image.sh failed");
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        })
        .clone()
}

/// Runs docker on this machine; returns (success, stdout and stderr).
fn docker_quiet(args: &[&str]) -> (bool, String) {
    let out = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("lab: cannot run docker: {e}"));
    (out.status.success(), text(&out))
}

/// Runs a command on this machine; panics with its output on failure.
fn machine_ok(cmd: &mut Command) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("lab: cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "lab: {cmd:?} failed:\n{}", text(&out));
}
