//! The templates, embedded in the binary and overridable from a directory.

use camino::Utf8Path;
use include_dir::{include_dir, Dir};

use super::overrides::{OverrideError, Overrides};

static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// deploy.sh: the stack's tables; it sources its parts (`deploy/*.sh.j2`,
/// chosen by the plan's `parts`), each written to its own kit file.
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
/// Loads the njs module in a compose nginx whose image does not.
pub const COMPOSE_PROXY_NJS: &str = "compose/proxy-njs.yml.j2";
/// One color's stack file under a swarm.
pub const SWARM_APP: &str = "swarm/app.yml.j2";
/// nginx's stack file under a swarm.
pub const SWARM_PROXY: &str = "swarm/proxy.yml.j2";
/// The supervisor of a process app's color.
pub const SUPERVISE_SH: &str = "supervise.sh.j2";
/// adnanh/webhook's hooks file, with a `webhook` block.
pub const WEBHOOK_HOOKS: &str = "webhook/hooks.json.j2";

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
    COMPOSE_PROXY_NJS,
    SWARM_APP,
    SWARM_PROXY,
    SUPERVISE_SH,
    WEBHOOK_HOOKS,
];

/// Where templates come from: the embedded set, each overridable by a file of
/// the same relative path under an overrides directory.
#[derive(Debug, Clone, Default)]
pub struct TemplateSource {
    overrides: Option<Overrides>,
}

impl TemplateSource {
    /// Templates from the binary, overridden by files under `overrides` if
    /// given; every file there must have the path of an embedded template,
    /// and none may lead out of the directory.
    pub fn new(overrides: Option<&Utf8Path>) -> Result<Self, OverrideError> {
        let overrides = match overrides {
            Some(dir) => Some(Overrides::open(dir, &embedded_names())?),
            None => None,
        };
        Ok(TemplateSource { overrides })
    }

    /// The text of template `name`, or `None` if no such template exists.
    /// Only an embedded template's name is looked up in the overrides, so
    /// no include can reach a file outside them.
    pub fn load(&self, name: &str) -> Result<Option<String>, std::io::Error> {
        let Some(embedded) = EMBEDDED.get_file(name) else {
            return Ok(None);
        };
        if let Some(overrides) = &self.overrides {
            if let Some(text) = overrides.read(name)? {
                return Ok(Some(text));
            }
        }
        Ok(embedded.contents_utf8().map(str::to_string))
    }

    /// Where template `name` comes from, for messages: the override's path,
    /// or the name and "(built in)".
    pub fn origin(&self, name: &str) -> String {
        match self.overrides.as_ref().and_then(|o| o.path_of(name)) {
            Some(path) => path.into_string(),
            None => format!("{name} (built in)"),
        }
    }
}

/// The path of every embedded template, sorted.
fn embedded_names() -> Vec<&'static str> {
    fn walk(dir: &'static Dir<'static>, names: &mut Vec<&'static str>) {
        names.extend(dir.files().filter_map(|f| f.path().to_str()));
        for sub in dir.dirs() {
            walk(sub, names);
        }
    }
    let mut names = Vec::new();
    walk(&EMBEDDED, &mut names);
    names.sort_unstable();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_id_resolves() {
        let source = TemplateSource::default();
        for name in ALL {
            assert!(
                source.load(name).unwrap().is_some(),
                "{name} is not embedded"
            );
            assert!(embedded_names().contains(name), "{name} is not listed");
        }
    }
}
