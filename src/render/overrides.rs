//! `--templates DIR`: an ops team's own versions of embedded templates, by
//! path. The directory may come from the repository a CI job checks out, so
//! nothing outside it is ever read: only names of embedded templates are
//! looked up in it (never `../x` or `/etc/x`, whatever a template includes),
//! and a file or directory in it that is a symlink leading out of it is an
//! error. A file whose path is no template's is an error too: a typo would
//! otherwise be ignored without a word.

use std::fs;
use std::io;

use camino::{Utf8Path, Utf8PathBuf};
use thiserror::Error;

/// Why a templates directory cannot be used.
#[derive(Debug, Error)]
pub enum OverrideError {
    /// The directory, or an entry in it, cannot be read.
    #[error("--templates {path}: {source}")]
    Unreadable {
        /// What could not be read.
        path: Utf8PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A file whose path is not the path of an embedded template.
    #[error("--templates {dir}: template override {file} matches no template; an override takes the path of one of: {known}")]
    Unknown {
        /// The file, relative to the directory.
        file: String,
        /// The directory.
        dir: Utf8PathBuf,
        /// Every embedded template's path, comma separated.
        known: String,
    },
    /// A symlink in the directory that leads out of it.
    #[error("--templates {dir}: template override `{file}` is a symbolic link that leads outside the templates directory")]
    Outside {
        /// The link, relative to the directory.
        file: String,
        /// The directory.
        dir: Utf8PathBuf,
    },
    /// Something that is neither a file nor a directory.
    #[error("--templates {dir}: template override {file} is not a regular file")]
    NotAFile {
        /// The entry, relative to the directory.
        file: String,
        /// The directory.
        dir: Utf8PathBuf,
    },
}

/// A checked templates directory.
#[derive(Debug, Clone)]
pub struct Overrides {
    /// The directory as given, for messages.
    dir: Utf8PathBuf,
    /// The directory with symlinks resolved: everything read is under it.
    root: Utf8PathBuf,
}

impl Overrides {
    /// Checks every entry of `dir`: each file must have the path of one of
    /// `known` (the embedded templates), and no symlink may lead out of it.
    pub fn open(dir: &Utf8Path, known: &[&str]) -> Result<Self, OverrideError> {
        let root = dir
            .canonicalize_utf8()
            .map_err(|source| OverrideError::Unreadable {
                path: dir.to_path_buf(),
                source,
            })?;
        let overrides = Overrides {
            dir: dir.to_path_buf(),
            root,
        };
        overrides.check_dir(Utf8Path::new(""), known)?;
        Ok(overrides)
    }

    /// Checks the entries of `rel` (relative to the directory), recursively.
    fn check_dir(&self, rel: &Utf8Path, known: &[&str]) -> Result<(), OverrideError> {
        let path = self.dir.join(rel);
        let unreadable = |source| OverrideError::Unreadable {
            path: path.clone(),
            source,
        };
        let mut entries = fs::read_dir(&path)
            .and_then(|entries| entries.collect::<io::Result<Vec<_>>>())
            .map_err(unreadable)?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let file = rel
                .join(entry.file_name().to_string_lossy().as_ref())
                .into_string();
            let mut kind = entry.file_type().map_err(unreadable)?;
            if kind.is_symlink() {
                let target = self.dir.join(&file);
                match target.canonicalize_utf8() {
                    Ok(real) if real.starts_with(&self.root) => {
                        // A link to a directory inside: its files are checked
                        // under their own path.
                        kind = fs::metadata(&real).map_err(unreadable)?.file_type();
                        if kind.is_dir() {
                            continue;
                        }
                    }
                    Ok(_) => {
                        return Err(OverrideError::Outside {
                            file,
                            dir: self.dir.clone(),
                        })
                    }
                    Err(source) => {
                        return Err(OverrideError::Unreadable {
                            path: target,
                            source,
                        })
                    }
                }
            }
            if kind.is_dir() {
                self.check_dir(Utf8Path::new(&file), known)?;
            } else if !kind.is_file() {
                return Err(OverrideError::NotAFile {
                    file,
                    dir: self.dir.clone(),
                });
            } else if !known.contains(&file.as_str()) {
                return Err(OverrideError::Unknown {
                    file,
                    dir: self.dir.clone(),
                    known: known.join(", "),
                });
            }
        }
        Ok(())
    }

    /// The path of the override of `name`, when the directory has one.
    pub fn path_of(&self, name: &str) -> Option<Utf8PathBuf> {
        let path = self.dir.join(name);
        path.exists().then_some(path)
    }

    /// The override of the embedded template `name`, if the directory has
    /// one; `name` must be an embedded template's path (the caller's check).
    /// Resolved again at read time: a link leading out is an error.
    pub fn read(&self, name: &str) -> io::Result<Option<String>> {
        let real = match self.dir.join(name).canonicalize_utf8() {
            Ok(real) => real,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if !real.starts_with(&self.root) {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "the override in {} leads outside the templates directory",
                    self.dir
                ),
            ));
        }
        if !fs::metadata(&real)?.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("the override in {} is not a regular file", self.dir),
            ));
        }
        fs::read_to_string(real).map(Some)
    }
}
