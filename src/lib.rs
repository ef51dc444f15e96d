//! greenlight compiles a KDL deployment spec into a blue/green deploy kit.
//!
//! The pipeline, one module per arrow:
//! [`load`] reads the file → [`spec`] (KDL → typed spec) → [`plan`]
//! (validated, defaulted model) → [`render`] (every output file in memory) →
//! [`emit`] (write, or check against disk).

pub mod diagnostic;
pub mod emit;
pub mod load;
pub mod plan;
pub mod render;
pub mod spec;

pub use load::{load, load_scoped, load_text, LoadError, Loaded, OutputScope};

/// Renders the complete kit for a loaded spec, manifest included: exactly
/// what `build` writes and `check` compares.
pub fn kit(
    plan: &plan::Plan,
    templates: render::TemplateSource,
) -> Result<render::Kit, minijinja::Error> {
    let kit = render::render(plan, templates)?;
    Ok(emit::with_manifest(kit, plan))
}
