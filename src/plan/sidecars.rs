//! Sidecars: the second containers of each color, and which container of
//! a color takes its traffic (the entry).

use super::model::Sidecar;
use super::volumes::volumes;
use crate::diagnostic::{twice, Problems, SpecError};
use crate::spec::{self, AppSpec};

/// The container of each color that traffic enters: the entry sidecar's
/// name and port, or the app's own.
pub(super) struct Entry {
    /// Its compose service name.
    pub service: String,
    /// Its container port; 0 when not written (reported already).
    pub port: u16,
}

/// Checks the app's sidecars (one entry at most, with a port; names not
/// used twice in the app) and returns where traffic enters.
pub(super) fn entry(a: &AppSpec, problems: &mut Problems) -> Entry {
    let name = &a.name.value;
    let entries: Vec<&spec::SidecarSpec> = a.sidecars.iter().filter(|s| s.entry).collect();
    if entries.len() > 1 {
        problems.push(
            SpecError::new(
                entries[1].name.span,
                "only one sidecar can be the entry",
                "second entry",
            )
            .also(entries[0].name.span, "first entry"),
        );
    }
    for (i, s) in a.sidecars.iter().enumerate() {
        let first = std::iter::once(&a.name)
            .chain(a.sidecars[..i].iter().map(|o| &o.name))
            .find(|n| n.value == s.name.value);
        if let Some(first) = first {
            problems.push(twice(
                &format!("the name `{}`", s.name.value),
                "used",
                s.name.span,
                first.span,
            ));
        }
    }
    let entry = entries.first();
    if let Some(entry) = entry {
        if entry.port.is_none() {
            problems.push(
                SpecError::new(
                    entry.name.span,
                    format!("entry sidecar `{}` has no `port`", entry.name.value),
                    "missing port",
                )
                .help("add: port 80"),
            );
        }
    }
    match entry {
        Some(s) => Entry {
            service: s.name.value.clone(),
            port: s.port.as_ref().map_or(0, |p| p.value),
        },
        None => Entry {
            service: name.clone(),
            port: a.port.as_ref().map_or(0, |p| p.value),
        },
    }
}

/// The image reference as written when the spec pins it by digest.
pub(super) fn pinned(image: &str) -> Option<String> {
    spec::values::split_digest(image)
        .1
        .map(|_| image.to_string())
}

/// One sidecar as the compose files run it.
pub(super) fn sidecar(s: &spec::SidecarSpec) -> Sidecar {
    let image = s
        .image
        .as_ref()
        .map(|i| i.value.clone())
        .unwrap_or_default();
    let image_ref = pinned(&image).or_else(|| s.tag.as_ref().map(|t| format!("{image}:{t}")));
    Sidecar {
        name: s.name.value.clone(),
        image_ref,
        image,
        port: s.port.as_ref().map(|p| p.value),
        volumes_from_app: s.volumes_from_app,
        env: s.env.clone(),
        volumes: volumes(&s.volumes),
        command: s.command.clone(),
    }
}
