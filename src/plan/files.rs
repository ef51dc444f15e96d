//! The names of the kit's own files and of what deploy.sh installs or
//! creates from them, decided once here: the renderer writes the kit's files
//! under these paths, and deploy.sh prints them from the plan instead of
//! deriving them again.

use serde::Serialize;

/// The kit-wide file and project names of one stack (each color's own files
/// and compose project are on [`crate::plan::Color`]).
#[derive(Debug, Serialize)]
pub struct KitFiles {
    /// The server block every app's routes live in (kit path).
    pub site_conf: String,
    /// The njs selectors, installed instead of select files with njs.
    pub njs_conf: String,
    /// The njs module that reads the live file.
    pub js_module: String,
    /// The accessories' compose file (kit path).
    pub accessories_compose: String,
    /// The compose project the accessories run in.
    pub accessories_project: String,
    /// nginx's compose file in compose mode, its stack file under a swarm
    /// (kit path).
    pub proxy_compose: String,
    /// Under a swarm, the manager's volume that holds nginx's conf dir.
    pub proxy_conf_volume: String,
    /// What nginx's compose file gains when its image has the njs module
    /// without loading it: the command that loads it (kit path).
    pub proxy_njs_compose: String,
    /// The supervisor of a process app's color (kit path).
    pub supervisor: String,
    /// adnanh/webhook's hooks file (kit path), with a `webhook` block.
    pub webhook_hooks: String,
    /// The njs module's name in nginx's conf dir, beside the site conf.
    pub installed_js: String,
    /// The live file's name in nginx's conf dir: one "APP COLOR" line per app.
    pub installed_live: String,
}

impl KitFiles {
    /// The names of project `project`'s files; `swarm` under `orchestrator
    /// "swarm"`, whose stack files are in `swarm/`.
    pub fn new(project: &str, swarm: bool) -> KitFiles {
        KitFiles {
            site_conf: "nginx/site.conf".into(),
            njs_conf: "nginx/njs.conf".into(),
            js_module: "nginx/greenlight.js".into(),
            accessories_compose: "compose/accessories.yml".into(),
            accessories_project: format!("{project}-accessories"),
            proxy_compose: if swarm {
                "swarm/proxy.yml"
            } else {
                "compose/proxy.yml"
            }
            .into(),
            proxy_conf_volume: format!("{project}-nginx-conf"),
            proxy_njs_compose: if swarm {
                "swarm/proxy-njs.yml"
            } else {
                "compose/proxy-njs.yml"
            }
            .into(),
            supervisor: "supervise.sh".into(),
            webhook_hooks: "webhook/hooks.json".into(),
            installed_js: format!("greenlight-{project}.js"),
            installed_live: format!("greenlight-{project}.live"),
        }
    }
}
