//! A registry on loopback for one test (Debian's `docker-registry`): the
//! only way to give a locally built image a digest. `docker build` records
//! none (`docker inspect --format '{{index .RepoDigests 0}}'` is empty, and
//! `repo@sha256:<image id>` does not resolve); a push records the manifest's
//! digest in the engine's own store, where `repo@sha256:…` then resolves
//! with the registry stopped again.

use std::fs;
use std::net::Ipv4Addr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::compose_harness::{docker, docker_ok};
use crate::harness::free_port;

/// The user a registry started by [`LocalRegistry::start_with_login`]
/// accepts, and the password.
pub const LOGIN: (&str, &str) = ("lab", "greenlight-lab-registry");
/// [`LOGIN`]'s htpasswd line (bcrypt, cost 5): the registry takes no other
/// hash.
const LOGIN_HTPASSWD: &str = "lab:$2b$05$cKPfyTgT6CRAdhLxszawAOt8FTcTP0ZUaQRtv0W38.d7bXTRp6JqO";

/// A running (or stopped) registry and the references the test made for it,
/// removed on drop (the images stay under their other names).
pub struct LocalRegistry {
    /// `IP:PORT`, the registry part of its image names.
    pub address: String,
    child: Option<Child>,
    refs: Vec<String>,
    _dir: tempfile::TempDir,
}

impl LocalRegistry {
    /// Starts `docker-registry serve` on a free loopback port with its
    /// storage in a temporary directory, and waits until it answers.
    pub fn start() -> LocalRegistry {
        LocalRegistry::serve(Ipv4Addr::LOCALHOST, false)
    }

    /// As [`LocalRegistry::start`], on `ip` (an address of this machine),
    /// answering only clients logged in as [`LOGIN`] (basic auth over
    /// plain HTTP: a docker engine must list it as an insecure registry).
    pub fn start_with_login(ip: Ipv4Addr) -> LocalRegistry {
        LocalRegistry::serve(ip, true)
    }

    fn serve(ip: Ipv4Addr, login: bool) -> LocalRegistry {
        let dir = tempfile::tempdir().unwrap();
        let address = format!("{ip}:{}", free_port());
        let config = dir.path().join("config.yml");
        let mut text = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {address}\n",
            dir.path().join("data").display()
        );
        if login {
            let htpasswd = dir.path().join("htpasswd");
            fs::write(&htpasswd, format!("{LOGIN_HTPASSWD}\n")).unwrap();
            text.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: greenlight-lab\n    path: {}\n",
                htpasswd.display()
            ));
        }
        fs::write(&config, text).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(&address).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the registry did not listen on {address}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        LocalRegistry {
            address,
            child: Some(child),
            refs: Vec::new(),
            _dir: dir,
        }
    }

    /// Tags a local image into this registry's name space as `repo:tag`
    /// (no push): `greenlight-test/app:v1` becomes `127.0.0.1:PORT/greenlight-test/app:v1`.
    pub fn tag(&mut self, image: &str) -> String {
        let named = format!("{}/{image}", self.address);
        docker_ok(&["tag", image, &named]);
        self.refs.push(named.clone());
        named
    }

    /// Pushes a reference made by [`LocalRegistry::tag`] and returns the
    /// digest the push recorded (`sha256:…`).
    pub fn push(&mut self, named: &str) -> String {
        let out = docker_ok(&["push", named]);
        let digest = out
            .split_whitespace()
            .skip_while(|w| *w != "digest:")
            .nth(1)
            .unwrap_or_else(|| panic!("no digest in docker push's output:\n{out}"))
            .to_string();
        let repo = named.rsplit_once(':').unwrap().0;
        self.refs.push(format!("{repo}@{digest}"));
        digest
    }

    /// Stops the registry: what was pushed resolves from the engine's store.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        self.stop();
        for named in &self.refs {
            let _ = docker(&["rmi", named]);
        }
    }
}
