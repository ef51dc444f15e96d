//! Where a spec's kit goes, and the rule that keeps it there: a spec from a
//! pull request must not make `build` write (or `check` read) outside the
//! repository that holds it. `-o DIR` on the command line is the user's own
//! choice and is taken as is.

use std::io;

use camino::{Utf8Component, Utf8Path, Utf8PathBuf};
use miette::SourceSpan;

use crate::diagnostic::SpecError;
use crate::spec::Spanned;

/// How far a spec's own `output` (or the default `deploy/<project>`) may lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputScope {
    /// Inside the git work tree that holds the spec (the nearest directory
    /// with a `.git` directory or file), or the spec's own directory when
    /// there is none. The default.
    Repository,
    /// Anywhere: `--allow-output-outside`.
    Anywhere,
}

/// Where the spec says its kit goes, with the spans an error points at.
#[derive(Debug)]
pub struct Destination {
    /// `output "DIR"`, if written.
    pub output: Option<Spanned<String>>,
    /// The project name, which names the default `deploy/<project>`.
    pub project: Spanned<String>,
}

/// The kit directory of the spec at `spec`: `given` (`-o`), else the spec's
/// `output` relative to the spec's directory, else `deploy/<project>` beside
/// the spec. The last two must resolve, symlinks followed, inside `scope`.
pub fn resolve(
    spec: &Utf8Path,
    given: Option<&Utf8Path>,
    destination: &Destination,
    scope: OutputScope,
) -> Result<Utf8PathBuf, Box<SpecError>> {
    let base = spec.parent().unwrap_or(Utf8Path::new(""));
    let (dir, span, what) = match (given, &destination.output) {
        (Some(dir), _) => return Ok(dir.to_path_buf()),
        (None, Some(output)) => (
            base.join(&output.value),
            output.span,
            format!("output `{}`", output.value),
        ),
        (None, None) => {
            let project = &destination.project.value;
            (
                base.join("deploy").join(project),
                destination.project.span,
                format!("the kit directory deploy/{project}"),
            )
        }
    };
    if scope == OutputScope::Anywhere {
        return Ok(dir);
    }
    let unresolvable = |e: io::Error| {
        Box::new(unresolvable(
            span,
            &what,
            format!("cannot be resolved: {e}"),
        ))
    };
    // The repository is found from the spec's path as given, so a link in
    // the repository cannot make another directory its root.
    let spec_dir = absolute(base).map_err(unresolvable)?;
    let (root, in_repository) = match spec_dir
        .ancestors()
        .find(|a| a.join(".git").symlink_metadata().is_ok())
    {
        Some(root) => (physical(root).map_err(unresolvable)?, true),
        None => (physical(&spec_dir).map_err(unresolvable)?, false),
    };
    let target = physical(&dir).map_err(unresolvable)?;
    if target.starts_with(&root) {
        return Ok(dir);
    }
    let limit = if in_repository {
        "the repository that holds the spec"
    } else {
        "the spec's directory (the spec is in no git repository)"
    };
    Err(Box::new(
        SpecError::new(
            span,
            format!("{what} is outside {limit}"),
            format!("leads to {target}"),
        )
        .help(format!("pass --allow-output-outside (or give the directory with -o DIR) to write the kit there on purpose; else keep it inside {root}")),
    ))
}

fn unresolvable(span: SourceSpan, what: &str, label: String) -> SpecError {
    SpecError::new(
        span,
        format!("{what} cannot be checked to stay in the repository"),
        label,
    )
}

/// `path` made absolute from the working directory, `.` and `..` applied
/// to the text (no link is resolved).
fn absolute(path: &Utf8Path) -> io::Result<Utf8PathBuf> {
    let cwd = Utf8PathBuf::try_from(std::env::current_dir()?)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let mut out = Utf8PathBuf::new();
    for part in cwd.join(path).components() {
        match part {
            Utf8Component::ParentDir => {
                out.pop();
            }
            Utf8Component::CurDir => {}
            other => out.push(other),
        }
    }
    Ok(out)
}

/// `path` as the file system will reach it: the longest part that exists
/// with every symlink resolved, then the rest with `.` and `..` applied (a
/// build creates those directories, so `..` there means what it says).
fn physical(path: &Utf8Path) -> io::Result<Utf8PathBuf> {
    let mut existing = path;
    let mut rest = Vec::new();
    let mut resolved = loop {
        let attempt = if existing.as_str().is_empty() {
            Utf8Path::new(".")
        } else {
            existing
        };
        match attempt.canonicalize_utf8() {
            Ok(real) => break real,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let (Some(last), Some(parent)) =
                    (existing.components().next_back(), existing.parent())
                else {
                    return Err(e);
                };
                rest.push(last);
                existing = parent;
            }
            Err(e) => return Err(e),
        }
    };
    for part in rest.into_iter().rev() {
        match part {
            Utf8Component::ParentDir => {
                resolved.pop();
            }
            Utf8Component::Normal(name) => resolved.push(name),
            _ => {}
        }
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn physical_resolves_what_exists_and_applies_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let base = Utf8PathBuf::from_path_buf(dir.path().canonicalize().unwrap()).unwrap();
        std::fs::create_dir(base.join("real")).unwrap();
        std::os::unix::fs::symlink(base.join("real"), base.join("link")).unwrap();
        assert_eq!(
            physical(&base.join("link/new/kit")).unwrap(),
            base.join("real/new/kit")
        );
        assert_eq!(
            physical(&base.join("link/new/../../x")).unwrap(),
            base.join("x")
        );
        assert_eq!(physical(&base.join("real/../link/..")).unwrap(), base);
    }
}
