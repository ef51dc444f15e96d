//! Secrets in the plan: numbered for the compose files, and checked where
//! one is to reach its container as a file (`as="file"`).

use super::model::Secret;
use crate::diagnostic::{Problems, SpecError};
use crate::spec::{SecretSpec, Spec};

/// The secrets of one owner (an app or an accessory), numbered from
/// `first` in spec order.
pub(super) fn secrets(list: &[SecretSpec], first: usize, owner: &str) -> Vec<Secret> {
    list.iter()
        .enumerate()
        .map(|(i, s)| Secret {
            key: s.key.value.clone(),
            from_file: s.from_file.clone(),
            index: first + i,
            as_file: s.as_file.is_some(),
            compose_name: format!("{owner}-{}", s.key.value),
        })
        .collect()
}

/// Where the engine that would mount a secret file is not on the machine
/// that runs deploy.sh, as a phrase ("host `was1`"); None when it is.
pub(super) fn remote_engine(spec: &Spec, remote_host: Option<&str>) -> Option<String> {
    if let Some(host) = remote_host {
        return Some(format!("host `{host}`"));
    }
    spec.docker_host
        .as_ref()
        .filter(|url| !url.value.starts_with("unix://"))
        .map(|url| format!("the engine at `{}`", url.value))
}

/// Refuses `as="file"` where it cannot work: a process has no container to
/// mount a file into (its secrets are environment variables), and compose
/// bind-mounts a secret file from the machine where the engine runs, so an
/// engine elsewhere would mount its own file at that path, or none.
pub(super) fn check_files(
    list: &[SecretSpec],
    process: bool,
    remote: Option<&str>,
    problems: &mut Problems,
) {
    for (secret, span) in list.iter().filter_map(|s| s.as_file.map(|span| (s, span))) {
        let key = &secret.key.value;
        if process {
            problems.push(
                SpecError::new(span, format!("secret `{key}` cannot be a file for a process"), "process runtime")
                    .help("a process gets its secrets in its environment (there is no container to mount a file into): remove as=\"file\""),
            );
        } else if let Some(remote) = remote {
            problems.push(
                SpecError::new(span, format!("secret `{key}` cannot be a file: the container runs on {remote}"), "engine elsewhere")
                    .help(format!("compose mounts a secret file from the machine where the engine runs, not the one that runs deploy.sh: {remote} would mount its own `{}`, or nothing; remove as=\"file\" (the value then reaches the container as an environment variable)", secret.from_file)),
            );
        }
    }
}
