//! A Docker Swarm of lab hosts: one manager and workers, each node a lab
//! host's own dockerd, joined over the lab network. The swarm lives and dies
//! with the lab (its hosts' engines are thrown away with their containers),
//! so nothing here ever leaves a swarm, and nothing touches this machine's
//! engine (leaving a swarm there would empty Docker's embedded DNS for
//! every network on it).
//!
//! ```ignore
//! let swarm = Swarm::form(&lab, "m", &["w1", "w2"]);     // init + join, prints the times
//! let id = swarm.send_image("greenlight-test/app:v1");    // save | load on every node: sha256:...
//! swarm.label("w1", "role=app");                          // for --constraint node.labels.role==app
//! lab.host("m").docker_ok(&["service", "create", "--no-resolve-image", ..., &id]);
//! let tasks = swarm.wait_running("app", 2, Duration::from_secs(30));   // hosts, overlay addresses
//! swarm.wait_node("w1", "down", Duration::from_secs(60));              // after lab.host("w1").stop()
//! ```
//!
//! Overlay networks (vxlan between the nested engines) work. This
//! machine's kernel has no IPVS (CONFIG_IP_VS unset, no loadable modules),
//! so a service's virtual IP and the ingress routing mesh cannot work: run
//! services with `--endpoint-mode dnsrr` and publish ports with `mode=host`
//! (tests/lab_swarm.rs proves both sides). A lost node is marked down
//! within about three heartbeat periods: 12 to 15 s here at the default
//! 5 s, 2.5 to 4 s after `docker swarm update --dispatcher-heartbeat 1s`.

use std::time::{Duration, Instant};

use super::{Host, Lab};

/// A swarm formed by [`Swarm::form`].
pub struct Swarm<'lab> {
    manager: &'lab Host,
    workers: Vec<&'lab Host>,
    /// (host name, node id), manager first.
    ids: Vec<(String, String)>,
}

/// One task of a service, as the manager knows it (`docker inspect` of the
/// task).
#[derive(Debug, Clone)]
pub struct Task {
    pub id: String,
    /// The lab host it is assigned to (empty while it waits for one).
    pub host: String,
    /// What the orchestrator wants: `running`, `shutdown`, ...
    pub desired: String,
    /// What the node last reported: `running`, `pending`, `failed`, ...
    pub state: String,
    /// Its addresses on the service's networks, without the prefix length.
    pub addresses: Vec<String>,
}

impl<'lab> Swarm<'lab> {
    /// Makes `manager` a swarm manager advertising its lab address (`docker
    /// swarm init --advertise-addr`) and joins every one of `workers` with
    /// the worker token (in parallel); returns when `docker node ls` shows
    /// every node Ready and Active. Prints how long init, the joins and the
    /// whole took.
    pub fn form(lab: &'lab Lab, manager: &str, workers: &[&str]) -> Swarm<'lab> {
        let started = Instant::now();
        let manager = lab.host(manager);
        let workers: Vec<&Host> = workers.iter().map(|name| lab.host(name)).collect();
        let address = manager.address().to_string();
        manager.docker_ok(&["swarm", "init", "--advertise-addr", &address]);
        let init = started.elapsed();
        let token = manager.docker_ok(&["swarm", "join-token", "--quiet", "worker"]);
        let join = format!("{address}:2377");
        let joined = Instant::now();
        std::thread::scope(|s| {
            for worker in &workers {
                let (token, join) = (token.trim(), join.as_str());
                s.spawn(move || {
                    let ad = worker.address().to_string();
                    worker.docker_ok(&[
                        "swarm",
                        "join",
                        "--advertise-addr",
                        &ad,
                        "--token",
                        token,
                        join,
                    ]);
                });
            }
        });
        let joins = joined.elapsed();
        let mut swarm = Swarm {
            manager,
            workers,
            ids: Vec::new(),
        };
        let expected = 1 + swarm.workers.len();
        loop {
            let nodes = swarm.nodes();
            let ready = nodes
                .iter()
                .filter(|n| n.status == "ready" && n.availability == "active")
                .count();
            if ready == expected {
                swarm.ids = [swarm.manager]
                    .into_iter()
                    .chain(swarm.workers.iter().copied())
                    .map(|host| {
                        let node = nodes
                            .iter()
                            .find(|n| n.hostname == host.name())
                            .unwrap_or_else(|| panic!("swarm: no node for {}", host.name()));
                        (host.name().to_string(), node.id.clone())
                    })
                    .collect();
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "swarm: {ready} of {expected} nodes ready after a minute: {nodes:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        eprintln!(
            "swarm: {expected} nodes ready in {:.1} s (init {:.1} s, {} joins in parallel {:.1} s)",
            started.elapsed().as_secs_f64(),
            init.as_secs_f64(),
            swarm.workers.len(),
            joins.as_secs_f64()
        );
        swarm
    }

    /// The node id of a lab host of the swarm.
    pub fn node_id(&self, host: &str) -> &str {
        &self
            .ids
            .iter()
            .find(|(name, _)| name == host)
            .unwrap_or_else(|| panic!("swarm: {host} is not a node"))
            .1
    }

    /// Adds a node label (`docker node update --label-add KEY=VALUE`), for
    /// placement constraints `node.labels.KEY==VALUE`.
    pub fn label(&self, host: &str, label: &str) {
        self.manager
            .docker_ok(&["node", "update", "--label-add", label, self.node_id(host)]);
    }

    /// Sends an image of this machine's engine to every node, in parallel
    /// (no registry: [`Host::send_image`]), and returns its image id
    /// (`sha256:...`, the same on every node). Run services by that id with
    /// `docker service create --no-resolve-image`: a task of a service by
    /// tag first tries to pull the tag (a lab host has no way to a
    /// registry), and only starts the local image once that pull failed.
    pub fn send_image(&self, image: &str) -> String {
        std::thread::scope(|s| {
            for host in self.hosts() {
                s.spawn(move || host.send_image(image));
            }
        });
        let ids: Vec<String> = self
            .hosts()
            .map(|host| {
                host.docker_ok(&["image", "inspect", "--format", "{{.Id}}", image])
                    .trim()
                    .to_string()
            })
            .collect();
        assert!(
            ids.iter()
                .all(|id| id == &ids[0] && id.starts_with("sha256:")),
            "swarm: {image} has different ids on the nodes: {ids:?}"
        );
        ids[0].clone()
    }

    /// The nodes as the manager sees them.
    pub fn nodes(&self) -> Vec<Node> {
        let out = self.manager.docker_ok(&[
            "node",
            "ls",
            "--format",
            "{{.ID}} {{.Hostname}} {{.Status}} {{.Availability}}",
        ]);
        out.lines()
            .filter_map(|line| {
                let f: Vec<&str> = line.split_whitespace().collect();
                (f.len() == 4).then(|| Node {
                    id: f[0].to_string(),
                    hostname: f[1].to_string(),
                    status: f[2].to_lowercase(),
                    availability: f[3].to_lowercase(),
                })
            })
            .collect()
    }

    /// Waits until the manager reports the node of `host` with this status
    /// (`down`, `ready`); returns how long that took; panics after `limit`.
    pub fn wait_node(&self, host: &str, status: &str, limit: Duration) -> Duration {
        let started = Instant::now();
        loop {
            let nodes = self.nodes();
            if nodes
                .iter()
                .any(|n| n.hostname == host && n.status == status)
            {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < limit,
                "swarm: {host} not {status} after {limit:?}: {nodes:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Every task of a service the manager still keeps, old ones included.
    pub fn tasks(&self, service: &str) -> Vec<Task> {
        let ids = self
            .manager
            .docker_ok(&["service", "ps", "--quiet", "--no-trunc", service]);
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if ids.is_empty() {
            return Vec::new();
        }
        let mut args = vec![
            "inspect",
            "--format",
            "{{.ID}}|{{.NodeID}}|{{.DesiredState}}|{{.Status.State}}|{{range .NetworksAttachments}}{{range .Addresses}}{{.}} {{end}}{{end}}",
        ];
        args.extend(ids);
        self.manager
            .docker_ok(&args)
            .lines()
            .filter_map(|line| {
                // A pending task has no node yet: an empty field.
                let f: Vec<&str> = line.split('|').collect();
                (f.len() == 5).then(|| Task {
                    id: f[0].to_string(),
                    host: self
                        .ids
                        .iter()
                        .find(|(_, id)| id == f[1])
                        .map_or_else(|| f[1].to_string(), |(name, _)| name.clone()),
                    desired: f[2].to_string(),
                    state: f[3].to_string(),
                    addresses: f[4]
                        .split_whitespace()
                        .map(|a| a.split('/').next().unwrap().to_string())
                        .collect(),
                })
            })
            .collect()
    }

    /// Waits until exactly `replicas` tasks of a service are running (and
    /// meant to be) and returns them; panics after `limit` with `docker
    /// service ps`.
    pub fn wait_running(&self, service: &str, replicas: usize, limit: Duration) -> Vec<Task> {
        let started = Instant::now();
        loop {
            let running: Vec<Task> = self
                .tasks(service)
                .into_iter()
                .filter(|t| t.desired == "running" && t.state == "running")
                .collect();
            if running.len() == replicas {
                return running;
            }
            if started.elapsed() > limit {
                panic!(
                    "swarm: {} of {replicas} tasks of {service} running after {limit:?}:\n{}",
                    running.len(),
                    self.service_ps(service)
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `docker service ps --no-trunc SERVICE` on the manager, for messages.
    pub fn service_ps(&self, service: &str) -> String {
        super::text(
            &self
                .manager
                .docker(&["service", "ps", "--no-trunc", service]),
        )
    }

    /// The manager, then the workers.
    fn hosts(&self) -> impl Iterator<Item = &'lab Host> + '_ {
        std::iter::once(self.manager).chain(self.workers.iter().copied())
    }
}

/// A node as `docker node ls` shows it (status and availability in lower
/// case).
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub hostname: String,
    pub status: String,
    pub availability: String,
}
