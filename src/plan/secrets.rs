//! Secrets in the plan: numbered for the compose files, and checked where
//! one is to reach its owner as a file (`as="file"`).

use super::model::Secret;
use crate::diagnostic::{Problems, SpecError};
use crate::spec::{SecretSpec, Spec};

/// The secrets of one owner (an app, a sidecar, an accessory or a hook),
/// numbered from `first` in spec order.
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

/// Refuses `as="file"` for what runs without a container (`what`: a
/// "process", a "hook"; `label`: what the error draws under it): there is
/// no container to mount a file into, so it gets its secrets in its
/// environment.
pub(super) fn refuse_files(list: &[SecretSpec], what: &str, label: &str, problems: &mut Problems) {
    for (secret, span) in list.iter().filter_map(|s| s.as_file.map(|span| (s, span))) {
        problems.push(
            SpecError::new(span, format!("secret `{}` cannot be a file for a {what}", secret.key.value), label)
                .help(format!("a {what} gets its secrets in its environment (there is no container to mount a file into): remove as=\"file\"")),
        );
    }
}

/// Refuses `as="file"` for a container whose engine is not on the machine
/// that runs deploy.sh (`remote` names it): compose bind-mounts a secret
/// file from the machine where the engine runs, so that engine would mount
/// its own file at that path, or none.
pub(super) fn check_files(list: &[SecretSpec], remote: Option<&str>, problems: &mut Problems) {
    let Some(remote) = remote else { return };
    for (secret, span) in list.iter().filter_map(|s| s.as_file.map(|span| (s, span))) {
        let key = &secret.key.value;
        problems.push(
            SpecError::new(span, format!("secret `{key}` cannot be a file: the container runs on {remote}"), "engine elsewhere")
                .help(format!("compose mounts a secret file from the machine where the engine runs, not the one that runs deploy.sh: {remote} would mount its own `{}`, or nothing; remove as=\"file\" (the value then reaches the container as an environment variable)", secret.from_file)),
        );
    }
}
