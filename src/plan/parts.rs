//! Which of deploy.sh's parts a kit carries, and the kit file each one is
//! written to: decided once here from the whole plan, so that a kit holds
//! only the code its spec uses. deploy.sh holds the stack's tables and
//! sources these files, in this order, once every kit file has matched the
//! manifest.

use serde::Serialize;

use super::{Plan, ProxyMode, Runtime};

/// What the plan needs of deploy.sh's code, as the part templates ask it.
#[derive(Debug, Default, Serialize)]
pub struct KitParts {
    /// Some host (an app's, an accessory's, nginx's) or the docker engine
    /// is reached over ssh.
    pub ssh: bool,
    /// docker and compose calls go to an engine of another machine (over
    /// ssh, or tcp with `docker-host`).
    pub engines: bool,
    /// deploy.sh runs docker: a compose app or accessory, or nginx in
    /// compose mode.
    pub docker: bool,
    /// Some app runs on more than one host.
    pub several_hosts: bool,
    /// Some app, sidecar or accessory has a secret.
    pub app_secrets: bool,
    /// Some hook has a secret.
    pub hook_secrets: bool,
    /// Some secret at all: the secrets part is in the kit.
    pub secrets: bool,
    /// Some hook is set.
    pub hooks: bool,
    /// Some app runs in docker (compose or a swarm): the kit has `prune`.
    pub prune: bool,
    /// The parts, in the order deploy.sh sources them.
    pub files: Vec<KitPart>,
}

/// One part of deploy.sh's code: the template that prints it and the kit
/// file it is written to.
#[derive(Debug, Serialize)]
pub struct KitPart {
    /// The template, under `deploy/`.
    pub template: String,
    /// The kit file (`lib/NAME.sh`), sourced by deploy.sh.
    pub file: String,
}

impl KitParts {
    /// The parts `plan` needs.
    pub fn of(plan: &Plan) -> KitParts {
        let ssh = plan.uses_ssh
            || plan
                .docker_host
                .as_deref()
                .is_some_and(|h| h.starts_with("ssh://"));
        let docker = plan.uses_compose || plan.swarm || plan.proxy.mode == ProxyMode::Compose;
        let hook_list = [
            &plan.hooks.before_deploy,
            &plan.hooks.after_healthy,
            &plan.hooks.after_switch,
            &plan.hooks.on_failure,
        ];
        let hooks = hook_list.iter().any(|h| h.is_some());
        let hook_secrets = hook_list
            .iter()
            .any(|h| h.as_ref().is_some_and(|h| !h.secrets.is_empty()));
        let app_secrets = plan.apps.iter().any(|a| !a.all_secrets.is_empty())
            || plan.accessories.iter().any(|a| !a.secrets.is_empty());
        let mode = match plan.proxy.mode {
            ProxyMode::Host => "proxy/host",
            ProxyMode::Remote => "proxy/remote",
            ProxyMode::Compose => "proxy/compose",
        };
        let uses_process = plan.apps.iter().any(|a| a.runtime == Runtime::Process);
        let prune = plan.uses_compose || plan.swarm;
        let wanted = [
            ("core", true),
            ("ssh", ssh),
            ("remote_lock", !plan.lock_host.is_empty()),
            ("secrets", app_secrets || hook_secrets),
            ("placeholders", hooks || uses_process),
            ("hooks", hooks),
            ("docker", docker),
            ("process", uses_process),
            ("compose", plan.uses_compose),
            ("swarm", plan.swarm),
            ("fleet", docker),
            ("colors", true),
            (mode, true),
            ("proxy", true),
            ("verify", true),
            ("rollout", true),
            ("operate", true),
            ("maintenance", true),
            ("prune", prune),
            ("tls", plan.proxy.tls.is_some()),
            ("webhook", plan.webhook.is_some()),
            ("commands", true),
        ];
        KitParts {
            ssh,
            engines: ssh || plan.docker_host.is_some(),
            docker,
            several_hosts: plan.apps.iter().any(|a| a.hosts.len() > 1),
            app_secrets,
            hook_secrets,
            secrets: app_secrets || hook_secrets,
            hooks,
            prune,
            files: wanted
                .into_iter()
                .filter(|(_, needed)| *needed)
                .map(|(name, _)| KitPart {
                    template: format!("deploy/{name}.sh.j2"),
                    file: format!("lib/{}.sh", name.replace(['/', '_'], "-")),
                })
                .collect(),
        }
    }
}
