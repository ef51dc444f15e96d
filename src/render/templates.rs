//! The templates, embedded in the binary and overridable from a directory.

use camino::{Utf8Path, Utf8PathBuf};
use include_dir::{include_dir, Dir};

static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// deploy.sh
pub const DEPLOY_SH: &str = "deploy.sh.j2";
/// PLAN.md, also what `greenlight explain` prints.
pub const PLAN_MD: &str = "PLAN.md.j2";
/// The nginx server block.
pub const NGINX_SITE: &str = "nginx/site.conf.j2";
/// One color's nginx upstream.
pub const NGINX_UPSTREAM: &str = "nginx/upstream.conf.j2";
/// Selects one color of an app when switching by reload.
pub const NGINX_SELECT: &str = "nginx/select.conf.j2";
/// The njs selectors, when switching without a reload.
pub const NGINX_NJS: &str = "nginx/njs.conf.j2";
/// The njs module that reads the live file.
pub const NGINX_JS: &str = "nginx/greenlight.js.j2";
/// One color's compose file.
pub const COMPOSE_APP: &str = "compose/app.yml.j2";
/// The accessories' compose file.
pub const COMPOSE_ACCESSORIES: &str = "compose/accessories.yml.j2";
/// The compose file of nginx in compose mode.
pub const COMPOSE_PROXY: &str = "compose/proxy.yml.j2";

/// The parts deploy.sh includes, one job each.
pub const DEPLOY_PARTS: &[&str] = &[
    "deploy/core.sh.j2",
    "deploy/process.sh.j2",
    "deploy/compose.sh.j2",
    "deploy/colors.sh.j2",
    "deploy/proxy.sh.j2",
    "deploy/verify.sh.j2",
    "deploy/rollout.sh.j2",
    "deploy/commands.sh.j2",
];

/// Every top-level template the renderer uses, for the test that each one resolves.
pub const ALL: &[&str] = &[
    DEPLOY_SH,
    PLAN_MD,
    NGINX_SITE,
    NGINX_UPSTREAM,
    NGINX_SELECT,
    NGINX_NJS,
    NGINX_JS,
    COMPOSE_APP,
    COMPOSE_ACCESSORIES,
    COMPOSE_PROXY,
];

/// Where templates come from: the embedded set, each overridable by a file of
/// the same relative path under `overrides`.
#[derive(Debug, Clone, Default)]
pub struct TemplateSource {
    overrides: Option<Utf8PathBuf>,
}

impl TemplateSource {
    /// Templates from the binary, overridden by files under `overrides` if given.
    pub fn new(overrides: Option<&Utf8Path>) -> Self {
        TemplateSource {
            overrides: overrides.map(Utf8Path::to_path_buf),
        }
    }

    /// The text of template `name`, or `None` if no such template exists.
    pub fn load(&self, name: &str) -> Result<Option<String>, std::io::Error> {
        if let Some(dir) = &self.overrides {
            let path = dir.join(name);
            if path.is_file() {
                return std::fs::read_to_string(path).map(Some);
            }
        }
        Ok(EMBEDDED
            .get_file(name)
            .and_then(|f| f.contents_utf8())
            .map(str::to_string))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_id_resolves() {
        let source = TemplateSource::default();
        for name in ALL.iter().chain(DEPLOY_PARTS) {
            assert!(
                source.load(name).unwrap().is_some(),
                "{name} is not embedded"
            );
        }
    }
}
