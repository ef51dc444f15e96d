//! Reading a spec file from disk, refusing what cannot be a spec before
//! parsing it.

use std::sync::Arc;

use camino::{Utf8Path, Utf8PathBuf};
use miette::Diagnostic;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::diagnostic::{Problems, SpecReport};
use crate::plan::{self, Plan};
use crate::spec;

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

/// Reads, decodes and validates the spec at `path`.
pub fn load(path: &Utf8Path, output_override: Option<&Utf8Path>) -> Result<Loaded, LoadError> {
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
    let (plan, output) = load_text(file, text)?;
    let base = path.parent().unwrap_or(Utf8Path::new(""));
    let output = match (output_override, output) {
        (Some(dir), _) => dir.to_path_buf(),
        (None, Some(dir)) => base.join(dir),
        (None, None) => base.join("deploy").join(&plan.project),
    };
    Ok(Loaded { plan, output })
}

/// Decodes and validates spec text; `file` names it in errors and headers.
/// Returns the plan and the spec's own `output`, if it has one.
pub fn load_text(file: &str, text: String) -> Result<(Plan, Option<String>), SpecReport> {
    let hash = hex(&Sha256::digest(text.as_bytes()));
    let text = Arc::new(text);
    let mut problems = Problems::default();
    let spec = spec::decode(file, text.clone(), &mut problems)?;
    let plan = spec
        .as_ref()
        .and_then(|spec| plan::build(spec, file, &hash, &mut problems));
    match (plan, spec) {
        (Some(plan), Some(spec)) if problems.is_empty() => Ok((plan, spec.output.map(|o| o.value))),
        _ => Err(problems.into_report(file, text)),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
