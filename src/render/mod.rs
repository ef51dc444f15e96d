//! Plan → every output file, in memory. Nothing here touches the disk except
//! reading template overrides.

mod environment;
mod filters;
mod overrides;
pub mod templates;
mod undefined;

use std::collections::BTreeMap;

use camino::Utf8PathBuf;
use minijinja::context;

pub use filters::shell_quote;
pub use overrides::OverrideError;
pub use templates::TemplateSource;

use crate::plan::{Plan, ProxyMode, Runtime};

/// The rendered kit: relative path → file content.
pub type Kit = BTreeMap<Utf8PathBuf, String>;

/// Renders the whole kit for `plan`.
pub fn render(plan_model: &Plan, source: TemplateSource) -> Result<Kit, minijinja::Error> {
    let env = environment::environment(source.clone(), plan_model);
    // Converted once: every file's context shares it instead of serializing
    // the whole plan again per file.
    let plan = minijinja::Value::from_serialize(plan_model);
    let mut kit = Kit::new();
    let mut add =
        |path: String, template: &str, ctx: minijinja::Value| -> Result<(), minijinja::Error> {
            let text = env
                .get_template(template)?
                .render(&ctx)
                .map_err(|e| undefined::explain(e, &source, &ctx))?;
            kit.insert(Utf8PathBuf::from(path), text);
            Ok(())
        };
    // deploy.sh and its parts ask what the kit needs by name (`ssh`,
    // `docker`, ...): the plan's parts, spread into their context.
    let needs = minijinja::Value::from_serialize(&plan_model.parts);
    add(
        "deploy.sh".into(),
        templates::DEPLOY_SH,
        context! { plan, ..needs.clone() },
    )?;
    for part in &plan_model.parts.files {
        add(
            part.file.clone(),
            &part.template,
            context! { plan, ..needs.clone() },
        )?;
    }
    let diagram = crate::plan::flowchart(plan_model);
    add(
        "PLAN.md".into(),
        templates::PLAN_MD,
        context! { plan, diagram },
    )?;
    let files = &plan_model.files;
    add(
        files.site_conf.clone(),
        templates::NGINX_SITE,
        context! { plan },
    )?;
    add(
        files.njs_conf.clone(),
        templates::NGINX_NJS,
        context! { plan },
    )?;
    add(
        files.js_module.clone(),
        templates::NGINX_JS,
        context! { plan },
    )?;
    for app in &plan_model.apps {
        for color in &app.colors {
            let ctx = context! { plan, app, color };
            add(
                color.upstream_file.clone(),
                templates::NGINX_UPSTREAM,
                ctx.clone(),
            )?;
            add(
                color.select_file.clone(),
                templates::NGINX_SELECT,
                ctx.clone(),
            )?;
            match app.runtime {
                Runtime::Compose => add(color.compose_file.clone(), templates::COMPOSE_APP, ctx)?,
                Runtime::Swarm => add(color.compose_file.clone(), templates::SWARM_APP, ctx)?,
                Runtime::Process => {}
            }
        }
    }
    if !plan_model.accessories.is_empty() {
        add(
            files.accessories_compose.clone(),
            templates::COMPOSE_ACCESSORIES,
            context! { plan },
        )?;
    }
    if plan_model.uses_process {
        add(
            files.supervisor.clone(),
            templates::SUPERVISE_SH,
            context! { plan },
        )?;
    }
    if plan_model.proxy.mode == ProxyMode::Compose {
        let proxy = if plan_model.swarm {
            templates::SWARM_PROXY
        } else {
            templates::COMPOSE_PROXY
        };
        add(files.proxy_compose.clone(), proxy, context! { plan })?;
        add(
            files.proxy_njs_compose.clone(),
            templates::COMPOSE_PROXY_NJS,
            context! { plan },
        )?;
    }
    if plan_model.webhook.is_some() {
        add(
            files.webhook_hooks.clone(),
            templates::WEBHOOK_HOOKS,
            context! { plan },
        )?;
    }
    Ok(kit)
}

/// Renders only the explanation (PLAN.md's text), for `greenlight explain`.
/// PLAN.md's context is `plan` and `diagram`, its Mermaid flowchart.
pub fn explain(plan: &Plan, source: TemplateSource) -> Result<String, minijinja::Error> {
    let env = environment::environment(source.clone(), plan);
    let ctx = context! { plan, diagram => crate::plan::flowchart(plan) };
    env.get_template(templates::PLAN_MD)?
        .render(&ctx)
        .map_err(|e| undefined::explain(e, &source, &ctx))
}
