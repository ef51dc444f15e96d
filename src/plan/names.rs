//! Names that land in one nginx shared by every stack on it: variables,
//! upstreams, njs modules and files in the conf dir. Each is built from the
//! project (and app) name so that two stacks can never share one: names are
//! `[a-z][a-z0-9-]*` without `--` and not ending with `-` (see
//! `spec::values::name`), so
//!
//! - in a variable, `-` becomes `_` and no name yields `__`: the first `__`
//!   of `gl_PROJECT__APP` ends the project, and `gl_PROJECT_live_file`
//!   (which has none) is never an app's selector;
//! - in an upstream, names keep their `-` and hold no `_`: each `__` of
//!   `PROJECT__APP__COLOR` is a separator;
//! - njs modules and conf dir files hold the project alone, behind a fixed
//!   prefix and before a fixed suffix.

/// A name as it may appear in an nginx variable or njs module name.
fn ident(name: &str) -> String {
    name.replace('-', "_")
}

/// The nginx variable (without `$`) that names the live color of an app.
pub fn selector(project: &str, app: &str) -> String {
    format!("gl_{}__{}", ident(project), ident(app))
}

/// The njs module of a project; its live-file variable is `MODULE_live_file`.
pub fn js_module(project: &str) -> String {
    format!("gl_{}", ident(project))
}

/// The variable (without `$`) that holds an app's selector on a verify
/// request only: `__` then a word no name yields after its own `__`.
pub fn verify_var(selector: &str) -> String {
    format!("{selector}__verify")
}

/// The variable (without `$`) that holds the upstream address nginx used,
/// on a verify request only: `___` never follows a project in a selector.
pub fn verify_upstream_var(project: &str) -> String {
    format!("{}___verify_upstream", js_module(project))
}

/// The variables (without `$`) of maintenance mode, `___` after the project
/// as in [`verify_upstream_var`]: whether it is on ("1" or ""), the page it
/// answers with, and what one request gets (off for deploy.sh's own
/// verify requests).
pub fn maintenance_vars(project: &str) -> [String; 3] {
    let base = format!("{}___maintenance", js_module(project));
    [base.clone(), format!("{base}_page"), format!("{base}_now")]
}

/// The nginx upstream of one color of an app.
pub fn upstream(project: &str, app: &str, color: &str) -> String {
    format!("{project}__{app}__{color}")
}

/// The site conf's file name in the conf dir (the njs module and live file
/// are installed beside it as `greenlight-PROJECT.js` and `.live`).
pub fn site_conf(project: &str) -> String {
    format!("greenlight-{project}.conf")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::values;
    use std::collections::BTreeMap;

    /// Every valid name of up to four characters over `a`, `b`, `-`.
    fn short_names() -> Vec<String> {
        let mut all = vec![String::new()];
        let mut names = Vec::new();
        for _ in 0..4 {
            all = all
                .iter()
                .flat_map(|n| ["a", "b", "-"].map(|c| format!("{n}{c}")))
                .collect();
            names.extend(all.iter().filter(|n| values::name(n, "x").is_ok()).cloned());
        }
        names
    }

    #[test]
    fn two_stacks_never_share_an_nginx_name() {
        let names = short_names();
        assert!(names.contains(&"a-b".to_string()) && !names.contains(&"a--b".to_string()));
        // Every name a (project, app) pair puts into nginx's shared
        // namespaces, each with the pair that made it.
        let mut variables: BTreeMap<String, (String, String)> = BTreeMap::new();
        let mut upstreams: BTreeMap<String, (String, String)> = BTreeMap::new();
        for project in &names {
            let live_file = format!("{}_live_file", js_module(project));
            assert!(variables
                .insert(live_file, (project.clone(), String::new()))
                .is_none());
            assert!(variables
                .insert(verify_upstream_var(project), (project.clone(), "*".into()))
                .is_none());
            for app in &names {
                let owner = (project.clone(), app.clone());
                let variable = selector(project, app);
                for variable in [verify_var(&variable), variable] {
                    if let Some(first) = variables.insert(variable.clone(), owner.clone()) {
                        panic!("{variable} is made by {first:?} and {owner:?}");
                    }
                }
                let upstream = upstream(project, app, "blue");
                if let Some(first) = upstreams.insert(upstream.clone(), owner.clone()) {
                    panic!("{upstream} is made by {first:?} and {owner:?}");
                }
            }
        }
        let modules: std::collections::BTreeSet<String> =
            names.iter().map(|p| js_module(p)).collect();
        assert_eq!(modules.len(), names.len(), "two projects share a js module");
    }

    #[test]
    fn the_names_that_used_to_meet_are_refused() {
        // Project `sec` app `x--web` and project `sec--x` app `web` both
        // made $gl_sec__x__web.
        assert_eq!(selector("sec", "x--web"), selector("sec--x", "web"));
        assert!(values::name("x--web", "app").is_err());
        assert!(values::name("sec--x", "project").is_err());
    }
}
