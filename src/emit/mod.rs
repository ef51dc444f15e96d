//! The rendered kit against the disk: write it (all or nothing), or compare
//! it with what is there (the CI drift check). Both start from the same
//! in-memory [`Kit`], so `build` and `check` cannot disagree.

mod kit_fs;
mod manifest;

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};

use camino::{Utf8Path, Utf8PathBuf};

use manifest::GENERATED_MARK;
pub use manifest::MANIFEST;

use crate::plan::Plan;
use crate::render::Kit;

/// Adds the manifest to a rendered kit.
pub fn with_manifest(mut kit: Kit, plan: &Plan) -> Kit {
    let manifest = manifest::render(&kit, plan);
    kit.insert(Utf8PathBuf::from(MANIFEST), manifest);
    kit
}

/// What a build changed on disk.
#[derive(Debug, Default)]
pub struct WriteSummary {
    /// Files written whose content changed or that are new.
    pub changed: Vec<Utf8PathBuf>,
    /// Files removed because the kit no longer generates them.
    pub removed: Vec<Utf8PathBuf>,
    /// Lines of the previous manifest that name no file greenlight
    /// generates: left alone, for the caller to report.
    pub ignored: Vec<String>,
}

/// The manifest on disk, read without following a link (empty when there
/// is none).
fn previous_files(dir: &Utf8Path) -> io::Result<manifest::Listed> {
    Ok(kit_fs::read(dir, Utf8Path::new(MANIFEST))?
        .map(|bytes| manifest::parse(&String::from_utf8_lossy(&bytes)))
        .unwrap_or_default())
}

/// Writes the kit into `dir`. Everything on disk is checked first (no link,
/// no file greenlight did not generate where the kit writes); every changed
/// file goes to a staging directory, so a failure leaves the old kit as it
/// was; then each is renamed into place, and files the previous manifest
/// lists that the kit no longer generates are removed. A file greenlight did
/// not generate is never overwritten or removed.
pub fn write(kit: &Kit, dir: &Utf8Path) -> io::Result<WriteSummary> {
    fs::create_dir_all(dir)?;
    let previous = previous_files(dir)?;
    let mut changed = Kit::new();
    for (path, content) in kit {
        let on_disk = kit_fs::read(dir, path)?;
        if let Some(bytes) = &on_disk {
            let ours = previous.files.contains(path)
                || String::from_utf8_lossy(bytes).contains(GENERATED_MARK);
            if !ours {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("refusing to overwrite {}: greenlight did not generate it (move it away, or choose another output directory)", dir.join(path)),
                ));
            }
        }
        if on_disk.as_deref() != Some(content.as_bytes()) {
            changed.insert(path.clone(), content.clone());
        }
    }
    let mut leftovers = Vec::new();
    for old in previous.files.iter().filter(|p| !kit.contains_key(*p)) {
        if kit_fs::is_present(dir, old)? {
            leftovers.push(old.clone());
        }
    }
    let staging = fresh_staging(dir)?;
    if let Err(error) = stage(&changed, &staging) {
        let _ = fs::remove_dir_all(&staging);
        return Err(error);
    }
    let mut summary = WriteSummary {
        ignored: previous.ignored,
        ..WriteSummary::default()
    };
    for path in changed.keys() {
        kit_fs::create_parents(dir, path)?;
        fs::rename(staging.join(path), dir.join(path))?;
        summary.changed.push(path.clone());
    }
    fs::remove_dir_all(&staging)?;
    for old in leftovers {
        let target = dir.join(&old);
        fs::remove_file(&target)?;
        if let Some(parent) = target.parent() {
            if parent != dir && fs::read_dir(parent)?.next().is_none() {
                fs::remove_dir(parent)?;
            }
        }
        summary.removed.push(old);
    }
    Ok(summary)
}

/// A new, empty staging directory in `dir`. One left by a build that died
/// is removed first (never through a link: `remove_dir_all` does not follow
/// them); a link of that name makes `create_dir` fail.
fn fresh_staging(dir: &Utf8Path) -> io::Result<Utf8PathBuf> {
    let staging = dir.join(format!(".greenlight-staging-{}", std::process::id()));
    if fs::symlink_metadata(&staging).is_ok_and(|m| m.is_dir()) {
        fs::remove_dir_all(&staging)?;
    }
    fs::create_dir(&staging)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot create {staging}: {e}")))?;
    Ok(staging)
}

/// Writes each file of `kit` into the (new, empty) `staging` directory.
fn stage(kit: &Kit, staging: &Utf8Path) -> io::Result<()> {
    for (path, content) in kit {
        let file = staging.join(path);
        if let Some(parent) = file.parent() {
            fs::create_dir_all(parent)?;
        }
        // The kit's commands are executable; deploy.sh's parts in lib/ are
        // only sourced.
        let mode = if path.as_str().ends_with(".sh") && !path.as_str().starts_with("lib/") {
            0o755
        } else {
            0o644
        };
        create_with_mode(&file, mode)?.write_all(content.as_bytes())?;
    }
    Ok(())
}

/// Creates a file with its final permissions (the umask still applies).
#[cfg(unix)]
fn create_with_mode(path: &Utf8Path, mode: u32) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
}

/// One way the disk differs from the rendered kit.
#[derive(Debug)]
pub enum Drift {
    /// The file on disk differs; carries a unified diff (disk → expected).
    Stale(Utf8PathBuf, String),
    /// The kit generates this file but it is not on disk.
    Missing(Utf8PathBuf),
    /// A file a previous build generated that the kit no longer generates.
    Leftover(Utf8PathBuf),
}

impl Drift {
    /// A human-readable report: a unified diff per file, with its path as header.
    pub fn describe(&self) -> String {
        match self {
            Drift::Stale(_, diff) => diff.clone(),
            Drift::Missing(path) => format!("--- missing: {path}\n"),
            Drift::Leftover(path) => format!("--- leftover: {path} (no longer generated)\n"),
        }
    }
}

/// Compares the kit with `dir` without writing anything. A kit file that is
/// a link or not a regular file is an error, not drift: its content is
/// never read.
pub fn check(kit: &Kit, dir: &Utf8Path) -> io::Result<Vec<Drift>> {
    let mut drift = Vec::new();
    for (path, expected) in kit {
        match kit_fs::read(dir, path)? {
            Some(actual) if actual == expected.as_bytes() => {}
            Some(actual) => drift.push(Drift::Stale(
                path.clone(),
                unified_diff(path, &String::from_utf8_lossy(&actual), expected),
            )),
            None => drift.push(Drift::Missing(path.clone())),
        }
    }
    for old in previous_files(dir)?.files {
        if !kit.contains_key(&old) && kit_fs::is_present(dir, &old)? {
            drift.push(Drift::Leftover(old));
        }
    }
    Ok(drift)
}

fn unified_diff(path: &Utf8Path, actual: &str, expected: &str) -> String {
    let diff = similar::TextDiff::from_lines(actual, expected);
    let mut out = String::new();
    let _ = write!(
        out,
        "{}",
        diff.unified_diff().context_radius(3).header(
            &format!("a/{path} (on disk)"),
            &format!("b/{path} (from the spec)")
        )
    );
    out
}
