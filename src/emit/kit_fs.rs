//! Files inside a kit directory, reached without following a symbolic link.
//! A kit comes from the repository, and `check` runs in CI on pull requests:
//! a kit file replaced by a link to /proc/self/environ, or `nginx/` made a
//! link to /etc, must be refused, never read, written or removed through.
//! Every directory on the way is checked with `lstat`, and the file itself
//! is opened with `O_NOFOLLOW` and checked on the open descriptor.

use std::fs::{self, FileType};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};

use camino::Utf8Path;

/// Reads `rel` in the kit directory `dir`; `None` when it (or a directory on
/// the way) does not exist. A link, or anything but a regular file (and
/// directories on the way), is an error naming the path.
pub fn read(dir: &Utf8Path, rel: &Utf8Path) -> io::Result<Option<Vec<u8>>> {
    if !parents_exist(dir, rel)? {
        return Ok(None);
    }
    let path = dir.join(rel);
    // O_NONBLOCK: opening a named pipe must not wait for a writer.
    let opened = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&path);
    let mut file = match opened {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(refused(&path, "a symbolic link", "a regular file"))
        }
        Err(e) => return Err(located(&path, e)),
    };
    let kind = file.metadata().map_err(|e| located(&path, e))?.file_type();
    if !kind.is_file() {
        return Err(refused(&path, describe(kind), "a regular file"));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| located(&path, e))?;
    Ok(Some(bytes))
}

/// Whether `rel` exists in `dir` as a regular file, with the same refusals
/// as [`read`]; for files to remove.
pub fn is_present(dir: &Utf8Path, rel: &Utf8Path) -> io::Result<bool> {
    if !parents_exist(dir, rel)? {
        return Ok(false);
    }
    let path = dir.join(rel);
    match fs::symlink_metadata(&path) {
        Ok(meta) if meta.is_file() => Ok(true),
        Ok(meta) => Err(refused(&path, describe(meta.file_type()), "a regular file")),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(located(&path, e)),
    }
}

/// Creates the directories on the way to `rel` in `dir` that do not exist,
/// refusing one that is a link or not a directory.
pub fn create_parents(dir: &Utf8Path, rel: &Utf8Path) -> io::Result<()> {
    check_parents(dir, rel, true).map(|_| ())
}

/// Whether every directory on the way to `rel` in `dir` exists; an error
/// when one is a link or not a directory.
fn parents_exist(dir: &Utf8Path, rel: &Utf8Path) -> io::Result<bool> {
    check_parents(dir, rel, false)
}

/// Checks each directory between `dir` and the file `rel` with `lstat`. One
/// that does not exist is created when `create`, else the answer is false.
fn check_parents(dir: &Utf8Path, rel: &Utf8Path, create: bool) -> io::Result<bool> {
    let mut at = dir.to_path_buf();
    for part in rel.parent().into_iter().flat_map(Utf8Path::components) {
        at.push(part);
        match fs::symlink_metadata(&at) {
            Ok(meta) if meta.is_dir() => {}
            Ok(meta) => return Err(refused(&at, describe(meta.file_type()), "a directory")),
            Err(e) if e.kind() == io::ErrorKind::NotFound && create => {
                fs::create_dir(&at).map_err(|e| located(&at, e))?
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(located(&at, e)),
        }
    }
    Ok(true)
}

/// What a file system entry is, for messages.
fn describe(kind: FileType) -> &'static str {
    if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a named pipe"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_file() {
        "a regular file"
    } else {
        "a device"
    }
}

fn refused(path: &Utf8Path, is: &str, expected: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{path} is {is}, not {expected}: a kit holds only regular files and directories, and greenlight never follows a link in it"),
    )
}

fn located(path: &Utf8Path, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("{path}: {error}"))
}
