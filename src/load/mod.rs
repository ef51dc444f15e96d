//! Reading a spec file from disk, refusing what cannot be a spec before
//! parsing it, and finding where its kit goes.

mod kit_dir;

use std::sync::Arc;

use camino::{Utf8Path, Utf8PathBuf};
use miette::Diagnostic;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::diagnostic::{Problems, SpecReport};
use crate::plan::{self, Plan};
use crate::spec;

pub use kit_dir::{Destination, OutputScope};

/// Specs larger than this are refused unread.
pub const MAX_SPEC_BYTES: u64 = 10 * 1024 * 1024;

/// Why a spec could not be turned into a plan.
#[derive(Debug, Error, Diagnostic)]
pub enum LoadError {
    /// The file could not be read as a spec at all.
    #[error("{path}: {reason}")]
    Unreadable {
        /// The spec path.
        path: Utf8PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The spec was read and has problems.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Spec(#[from] SpecReport),
}

/// A spec turned into a plan, with where its kit goes.
#[derive(Debug)]
pub struct Loaded {
    /// The plan.
    pub plan: Plan,
    /// The kit directory: `-o`, else the spec's `output`, else `deploy/<project>` beside the spec.
    pub output: Utf8PathBuf,
}

/// Reads, decodes and validates the spec at `path`; its kit directory must
/// stay inside the spec's repository ([`OutputScope::Repository`]).
pub fn load(path: &Utf8Path, output_override: Option<&Utf8Path>) -> Result<Loaded, LoadError> {
    load_scoped(path, output_override, OutputScope::Repository)
}

/// [`load`], with how far the spec's own `output` may lead.
pub fn load_scoped(
    path: &Utf8Path,
    output_override: Option<&Utf8Path>,
    scope: OutputScope,
) -> Result<Loaded, LoadError> {
    let unreadable = |reason: String| LoadError::Unreadable {
        path: path.to_path_buf(),
        reason,
    };
    let meta =
        std::fs::metadata(path).map_err(|e| unreadable(format!("cannot read the spec: {e}")))?;
    if meta.is_dir() {
        return Err(unreadable("is a directory, not a spec file".into()));
    }
    if meta.len() > MAX_SPEC_BYTES {
        return Err(unreadable(format!(
            "is {} bytes; a spec may be at most {MAX_SPEC_BYTES} bytes",
            meta.len()
        )));
    }
    let bytes =
        std::fs::read(path).map_err(|e| unreadable(format!("cannot read the spec: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        unreadable(format!(
            "is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let file = path.file_name().unwrap_or(path.as_str());
    let text = Arc::new(text);
    let (plan, destination) = decode(file, text.clone())?;
    let output = kit_dir::resolve(path, output_override, &destination, scope)
        .map_err(|error| SpecReport::new(file, text, vec![*error]))?;
    Ok(Loaded { plan, output })
}

/// Decodes and validates spec text; `file` names it in errors and headers.
/// Returns the plan and where the spec says its kit goes.
pub fn load_text(file: &str, text: String) -> Result<(Plan, Destination), SpecReport> {
    decode(file, Arc::new(text))
}

fn decode(file: &str, text: Arc<String>) -> Result<(Plan, Destination), SpecReport> {
    let hash = sha256_hex(text.as_bytes());
    let mut problems = Problems::default();
    let spec = spec::decode(file, text.clone(), &mut problems)?;
    let plan = spec
        .as_ref()
        .and_then(|spec| plan::build(spec, file, &hash, &mut problems));
    match (plan, spec) {
        (Some(plan), Some(spec)) if problems.is_empty() => Ok((
            plan,
            Destination {
                output: spec.output,
                project: spec.project,
            },
        )),
        _ => Err(problems.into_report(file, text)),
    }
}

/// The sha256 of `bytes` in lowercase hex, as `sha256sum` prints it: the
/// spec's hash, and each kit file's in the manifest.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
