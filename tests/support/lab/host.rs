//! One host of the lab: a container of the lab's host image with its own
//! address, sshd and dockerd. What a test does on a host (ssh, docker,
//! images, nginx) and what it does to it (power cut, freeze, network cable
//! pulled) are methods here.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{docker_quiet, NETWORK};

/// How long a booting host may take until sshd and its dockerd answer.
const BOOT_LIMIT: Duration = Duration::from_secs(60);

/// A lab host. Get one with [`super::Lab::host`].
pub struct Host {
    name: String,
    address: Ipv4Addr,
    ssh_config: PathBuf,
    client_certs: PathBuf,
    mount: PathBuf,
}

/// Output as text: stdout then stderr.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

impl Host {
    /// A host named `name` at `address`, with its files (host key, server
    /// cert) in `lab_dir/hosts/NAME` as tests/lab/creds.sh made them.
    pub(super) fn new(name: &str, address: Ipv4Addr, lab_dir: &Path) -> Host {
        Host {
            name: name.to_string(),
            address,
            ssh_config: lab_dir.join("ssh_config"),
            client_certs: lab_dir.join("tls/client"),
            mount: lab_dir.join("hosts").join(name),
        }
    }

    /// Its name: its hostname, its docker engine's name, and what the other
    /// hosts and the lab's ssh config resolve to its address.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its fixed address on the lab network.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// `root@ADDRESS`: what a spec's `host` and `ssh` take.
    pub fn ssh_destination(&self) -> String {
        format!("root@{}", self.address)
    }

    /// `ssh://root@ADDRESS`: DOCKER_HOST (or a spec's `docker-host`) for
    /// this host's engine over ssh; needs the lab's bin dir first in PATH,
    /// since docker runs `ssh` by name (see [`super::Lab::path_env`]).
    pub fn docker_host_ssh(&self) -> String {
        format!("ssh://{}", self.ssh_destination())
    }

    /// The environment that points the docker CLI at this host's engine over
    /// tcp with TLS verified both ways: DOCKER_HOST=tcp://ADDRESS:2376,
    /// DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH (the lab's client cert).
    pub fn tls_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("DOCKER_HOST", format!("tcp://{}:2376", self.address)),
            ("DOCKER_TLS_VERIFY", "1".to_string()),
            (
                "DOCKER_CERT_PATH",
                self.client_certs.to_string_lossy().into_owned(),
            ),
        ]
    }

    /// `ssh -F LAB_SSH_CONFIG root@ADDRESS`, stdin closed: add the remote
    /// command (one shell string) and run it, or pipe into it.
    pub fn ssh_command(&self) -> Command {
        let mut cmd = Command::new("ssh");
        cmd.arg("-F")
            .arg(&self.ssh_config)
            .arg(self.ssh_destination())
            .stdin(Stdio::null());
        cmd
    }

    /// Runs a shell command line on the host as root.
    pub fn ssh(&self, script: &str) -> Output {
        self.ssh_command()
            .arg(script)
            .output()
            .unwrap_or_else(|e| panic!("lab: cannot run ssh: {e}"))
    }

    /// As [`Host::ssh`], returning stdout; panics with the output on failure.
    pub fn ssh_ok(&self, script: &str) -> String {
        let out = self.ssh(script);
        assert!(
            out.status.success(),
            "lab: `{script}` failed on {}:\n{}",
            self.name,
            text(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs the host's docker CLI (against its own engine) over ssh.
    pub fn docker(&self, args: &[&str]) -> Output {
        self.ssh(&format!("docker {}", shell_words::join(args)))
    }

    /// As [`Host::docker`], returning stdout; panics with the output on
    /// failure.
    pub fn docker_ok(&self, args: &[&str]) -> String {
        self.ssh_ok(&format!("docker {}", shell_words::join(args)))
    }

    /// Sends an image of this machine's engine to the host's engine, as a
    /// registry-less deploy would: `docker save IMAGE | ssh HOST docker load`.
    pub fn send_image(&self, image: &str) {
        let mut save = Command::new("docker")
            .args(["save", image])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("lab: cannot run docker save: {e}"));
        let load = self
            .ssh_command()
            .arg("docker load")
            .stdin(save.stdout.take().unwrap())
            .output()
            .unwrap_or_else(|e| panic!("lab: cannot run ssh: {e}"));
        let saved = save.wait().unwrap();
        assert!(
            saved.success() && load.status.success(),
            "lab: sending {image} to {} failed (docker save: {saved}):\n{}",
            self.name,
            text(&load)
        );
    }

    /// Starts Debian's nginx (stock nginx.conf, njs module and `default`
    /// site as installed) now and at every boot, as `systemctl enable --now
    /// nginx` would.
    pub fn enable_nginx(&self) {
        self.ssh_ok(
            "mkdir -p /etc/greenlight-lab && touch /etc/greenlight-lab/nginx && { pgrep -x nginx >/dev/null || nginx; }",
        );
    }

    /// Starts (once per boot) an unauthenticated `tcp://ADDRESS:2375` in
    /// front of the host's engine and returns that DOCKER_HOST: the insecure
    /// setup a kit must refuse.
    pub fn plain_tcp_engine(&self) -> String {
        self.ssh_ok(
            "pgrep -x socat >/dev/null || setsid -f socat TCP-LISTEN:2375,fork,reuseaddr UNIX-CONNECT:/var/run/docker.sock </dev/null >/dev/null 2>&1",
        );
        let addr = SocketAddr::from((self.address, 2375));
        let started = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "lab: {addr} does not answer"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        format!("tcp://{addr}")
    }

    /// Power cut: every process of the host is killed at once; its address
    /// stops answering. Its disk (images, containers, /etc) is kept for
    /// [`Host::start`].
    pub fn stop(&self) {
        self.machine(&["kill", &self.container()]);
    }

    /// Boots the host again after [`Host::stop`] and waits until sshd and
    /// its dockerd answer (containers come back as their restart policy
    /// says; nginx when enabled).
    pub fn start(&self) {
        self.machine(&["start", &self.container()]);
        self.wait_ready();
    }

    /// Freezes every process of the host (its kernel side still accepts TCP
    /// connections, but nothing answers on them), as a hung machine.
    pub fn pause(&self) {
        self.machine(&["pause", &self.container()]);
    }

    /// Thaws the host after [`Host::pause`].
    pub fn unpause(&self) {
        self.machine(&["unpause", &self.container()]);
    }

    /// Pulls the host's network cable: it keeps running, but nothing
    /// reaches it and it reaches nothing.
    pub fn disconnect(&self) {
        self.machine(&[
            "network",
            "disconnect",
            "--force",
            NETWORK,
            &self.container(),
        ]);
    }

    /// Plugs the cable back in, with the same address.
    pub fn connect(&self) {
        let ip = self.address.to_string();
        self.machine(&[
            "network",
            "connect",
            "--ip",
            &ip,
            NETWORK,
            &self.container(),
        ]);
    }

    /// The host's container on this machine's engine.
    pub(super) fn container(&self) -> String {
        format!("greenlight-lab-{}", self.name)
    }

    /// Creates and starts the host's container: on the lab network at its
    /// address, knowing every lab host by name, with its files from the lab
    /// dir at /lab and its docker data in an anonymous volume (removed with
    /// the container). Not --privileged (refused on this machine kind):
    /// every capability but CAP_SYS_RESOURCE, no seccomp or AppArmor
    /// profile, a cgroup namespace of its own for its dockerd.
    pub(super) fn boot(&self, image: &str, hosts: &[Host]) {
        let mut args: Vec<String> = [
            "run",
            "--detach",
            "--name",
            &self.container(),
            "--hostname",
            &self.name,
            "--label",
            super::LABEL,
            "--network",
            NETWORK,
            "--ip",
            &self.address.to_string(),
            // Names outside the lab fail at once instead of being looked up
            // anywhere.
            "--dns",
            "127.0.0.1",
            "--cgroupns",
            "private",
            "--cap-add",
            "ALL",
            "--cap-drop",
            "SYS_RESOURCE",
            "--security-opt",
            "seccomp=unconfined",
            "--security-opt",
            "apparmor=unconfined",
            "--tmpfs",
            "/run:rw,exec,nosuid,size=64m",
            "--mount",
            "type=volume,dst=/var/lib/docker",
        ]
        .map(str::to_string)
        .to_vec();
        for host in hosts {
            args.push(format!("--add-host={}:{}", host.name, host.address));
        }
        args.push(format!("--volume={}:/lab:ro", self.mount.display()));
        args.push(image.to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.machine(&args);
    }

    /// Waits until the host's sshd lets the lab in and its dockerd answers.
    pub(super) fn wait_ready(&self) {
        let started = Instant::now();
        loop {
            let out = self.ssh("docker version --format '{{.Server.Version}}'");
            if out.status.success() {
                return;
            }
            if started.elapsed() > BOOT_LIMIT {
                let (_, logs) = docker_quiet(&["logs", "--tail", "20", &self.container()]);
                let (_, dockerd) = docker_quiet(&[
                    "exec",
                    &self.container(),
                    "tail",
                    "-n",
                    "20",
                    "/var/log/dockerd.log",
                ]);
                panic!(
                    "lab: {} not ready after {BOOT_LIMIT:?}: {}\ncontainer log:\n{logs}\ndockerd log:\n{dockerd}",
                    self.name,
                    text(&out)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs docker on this machine (not on the host); panics on failure.
    fn machine(&self, args: &[&str]) {
        let (ok, out) = docker_quiet(args);
        assert!(ok, "lab: docker {args:?} failed for {}:\n{out}", self.name);
    }
}
