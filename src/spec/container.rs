//! The container pieces apps, sidecars and accessories share: image, port,
//! env, secrets, volumes and command.

use miette::SourceSpan;

use super::{check, values, NodeReader, Spanned};
use crate::diagnostic::{twice, Problems, SpecError};

/// A bind mount or named volume.
#[derive(Debug, Clone)]
pub struct VolumeSpec {
    /// Host path (absolute or `./relative` to the kit) or a named volume.
    pub source: Spanned<String>,
    /// Absolute path inside the container.
    pub target: String,
    /// Mounted read-only.
    pub read_only: bool,
}

/// `secret "KEY" from-file="/run/secrets/x" as="env|file"`: a value read on
/// the deploy machine at deploy time, never written into the kit; it reaches
/// its owner (an app, a sidecar, an accessory or a hook) as the environment
/// variable KEY, or (`as="file"`, containers only) as the file
/// /run/secrets/KEY, which `docker inspect` does not show.
#[derive(Debug, Clone)]
pub struct SecretSpec {
    /// The environment variable name (with `as="file"`, the file's name).
    pub key: Spanned<String>,
    /// Absolute path of the file holding the value, on the machine that runs deploy.sh.
    pub from_file: String,
    /// Where `as="file"` is written; None: the secret is an environment variable.
    pub as_file: Option<SourceSpan>,
}

/// `secret "KEY" from-file="/run/secrets/key" as="env|file"`
pub(super) fn secret_node(problems: &mut Problems, r: &NodeReader) -> Option<SecretSpec> {
    let usage = "secret \"DB_PASSWORD\" from-file=\"/run/secrets/db\"";
    r.shape(problems, 1, 1, &["from-file", "as"], usage);
    let as_file = match r.string_prop(problems, "as") {
        Some(how) if how.value == "file" => Some(Some(how.span)),
        Some(how) if how.value == "env" => Some(None),
        Some(how) => {
            problems.push(
                SpecError::new(
                    how.span,
                    format!("unknown as=\"{}\"", how.value.escape_debug()),
                    "env or file",
                )
                .help("as=\"env\" (the default) sets the environment variable; as=\"file\" mounts the file at /run/secrets/KEY"),
            );
            None
        }
        None if r.has_prop("as") => None,
        None => Some(None),
    };
    r.no_children(problems);
    let key = r.string_arg(problems, 0)?;
    let key_ok = check(problems, key.span, values::env_key(&key.value));
    let Some(file) = r.string_prop(problems, "from-file") else {
        if !r.has_prop("from-file") {
            problems.push(
                SpecError::new(
                    r.span(),
                    "`secret` needs `from-file=`",
                    "where is the value?",
                )
                .help(format!(
                    "write it as: {usage} (the file is read on the deploy machine at deploy time)"
                )),
            );
        }
        return None;
    };
    let file_ok = check(
        problems,
        file.span,
        values::path(&file.value, "from-file", true),
    );
    let as_file = as_file?;
    (key_ok && file_ok).then_some(SecretSpec {
        key,
        from_file: file.value,
        as_file,
    })
}

/// A key is set once: by `env` or by `secret`, and each `secret` key once.
pub(super) fn check_env_and_secrets(
    problems: &mut Problems,
    env: &[(String, String)],
    secrets: &[SecretSpec],
) {
    for (i, secret) in secrets.iter().enumerate() {
        if let Some(first) = secrets[..i]
            .iter()
            .find(|s| s.key.value == secret.key.value)
        {
            problems.push(twice(
                &format!("secret `{}`", secret.key.value),
                "given",
                secret.key.span,
                first.key.span,
            ));
        } else if env.iter().any(|(key, _)| *key == secret.key.value) {
            problems.push(
                SpecError::new(
                    secret.key.span,
                    format!(
                        "`{}` is set both by `env` and by `secret`",
                        secret.key.value
                    ),
                    "also an env",
                )
                .help("a variable is either plain (`env`) or secret (`secret`): remove one"),
            );
        }
    }
}

/// `image "repo"`; `with_tag` allows `repo:tag` (accessories, the proxy).
/// Either may be pinned to one content by a digest, `repo@sha256:…` (and
/// `repo:tag@sha256:…` where a tag is allowed), kept as written.
pub(super) fn image_node(
    problems: &mut Problems,
    r: &NodeReader,
    with_tag: bool,
) -> Option<Spanned<String>> {
    let usage = if with_tag {
        "image \"redis:7.2\""
    } else {
        "image \"registry.example.com/team/web\""
    };
    r.shape(problems, 1, 1, &[], usage);
    r.no_children(problems);
    let image = r.string_arg(problems, 0)?;
    let (name, digest) = values::split_digest(&image.value);
    if let Some(digest) = digest {
        if !check(problems, image.span, values::digest(digest)) {
            return None;
        }
    }
    let (repository, tag) = values::split_image(name);
    if let Some(tag) = tag {
        if !with_tag {
            if !check(problems, image.span, values::image_repository(repository)) {
                return None;
            }
            problems.push(
                SpecError::new(image.span, "an app's image is written without its tag", "tag here")
                    .help(format!(
                        "write image \"{repository}\" and tag \"{}\": deploy.sh sets the tag per deploy",
                        tag.escape_debug()
                    )),
            );
            return None;
        }
        if !check(problems, image.span, values::tag(tag)) {
            return None;
        }
    }
    check(problems, image.span, values::image_repository(repository)).then_some(image)
}

pub(super) fn tag_node(problems: &mut Problems, r: &NodeReader) -> Option<Spanned<String>> {
    r.shape(problems, 1, 1, &[], "tag \"latest\"");
    r.no_children(problems);
    let tag = r.string_arg(problems, 0)?;
    check(problems, tag.span, values::tag(&tag.value)).then_some(tag)
}

/// `port N` with the properties in `props` allowed.
pub(super) fn port_node(
    problems: &mut Problems,
    r: &NodeReader,
    props: &[&str],
    usage: &str,
) -> Option<Spanned<u16>> {
    r.shape(problems, 1, 1, props, usage);
    r.no_children(problems);
    r.int_arg(problems, 0, 1, 65535)
        .map(|p| Spanned::new(p.value as u16, p.span))
}

/// `env "KEY" "VALUE"`
pub(super) fn env_node(problems: &mut Problems, r: &NodeReader) -> Option<(String, String)> {
    r.shape(problems, 2, 2, &[], "env \"PROFILE\" \"prod\"");
    r.no_children(problems);
    let key = r.string_arg(problems, 0)?;
    let value = r.string_arg(problems, 1)?;
    let key_ok = check(problems, key.span, values::env_key(&key.value));
    let value_ok = check(
        problems,
        value.span,
        values::plain_text(&value.value, "the env value"),
    );
    (key_ok && value_ok).then_some((key.value, value.value))
}

/// `volume "SOURCE" "TARGET" read-only=#false`
pub(super) fn volume_node(problems: &mut Problems, r: &NodeReader) -> Option<VolumeSpec> {
    r.shape(
        problems,
        2,
        2,
        &["read-only"],
        "volume \"/srv/logs\" \"/logs\" read-only=#false",
    );
    r.no_children(problems);
    let source = r.string_arg(problems, 0)?;
    let target = r.string_arg(problems, 1)?;
    let read_only = r.bool_prop(problems, "read-only").is_some_and(|b| b.value);
    let source_ok = check(problems, source.span, volume_source(&source.value));
    let target_ok = check(
        problems,
        target.span,
        values::path(&target.value, "the volume target", true),
    ) && check(problems, target.span, no_colon(&target.value));
    (source_ok && target_ok).then_some(VolumeSpec {
        source,
        target: target.value,
        read_only,
    })
}

fn no_colon(value: &str) -> Result<(), values::Invalid> {
    if value.contains(':') {
        Err(values::Invalid {
            message: format!("`{value}` contains `:`"),
            help: "compose splits volumes at `:`; use a path without it".into(),
        })
    } else {
        Ok(())
    }
}

/// A volume source: an absolute path, a path starting `./` or `../` (relative
/// to the kit directory), or a named volume.
fn volume_source(value: &str) -> Result<(), values::Invalid> {
    values::path(value, "the volume source", false)?;
    no_colon(value)?;
    let is_path = value.starts_with('/') || value.starts_with("./") || value.starts_with("../");
    let is_name = value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if is_path || is_name {
        Ok(())
    } else {
        Err(values::Invalid {
            message: format!(
                "`{}` is neither a path nor a volume name",
                value.escape_debug()
            ),
            help:
                "write an absolute path, a path starting with ./, or a volume name such as \"data\""
                    .into(),
        })
    }
}

/// How a `command` is written, for its usage hint.
pub(super) const COMMAND_USAGE: &str = "command \"yarn\" \"start:prod\"";

/// `command "arg" "arg" …` (or health's `check`, whose `usage` differs),
/// kept as separate arguments.
pub(super) fn command_node(problems: &mut Problems, r: &NodeReader, usage: &str) -> Vec<String> {
    r.shape(problems, 1, usize::MAX, &[], usage);
    r.no_children(problems);
    r.string_args(problems)
        .into_iter()
        .filter(|a| {
            check(
                problems,
                a.span,
                values::plain_text(&a.value, "a command argument"),
            )
        })
        .map(|a| a.value)
        .collect()
}
