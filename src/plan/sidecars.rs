//! Sidecars: the second containers of each color, and which container of
//! a color takes its traffic (the entry).

use super::model::Sidecar;
use super::secrets::secrets;
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

/// One sidecar as the compose files run it; its secrets are numbered from
/// `first_secret` (after its app's and the sidecars' before it).
pub(super) fn sidecar(s: &spec::SidecarSpec, first_secret: usize) -> Sidecar {
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
        secrets: secrets(&s.secrets, first_secret, &s.name.value),
        volumes: volumes(&s.volumes),
        command: s.command.clone(),
    }
}

#[cfg(test)]
mod tests {
    use crate::load_text;

    /// A color's compose file reads each secret by its number: the app's and
    /// its sidecars' are numbered once across them, each under its owner.
    #[test]
    fn a_color_numbers_the_secrets_of_the_app_and_its_sidecars_once() {
        let spec = r#"greenlight 1
project "shop"
app "web" {
    image "ghcr.io/acme/web"
    port 8080
    secret "DB_PASSWORD" from-file="/run/keys/db"
    secret "TOKEN" from-file="/run/keys/token" as="file"
    health "/healthz"
    sidecar "edge" entry=#true {
        image "ghcr.io/acme/edge"
        port 80
        secret "TOKEN" from-file="/run/keys/edge" as="file"
    }
    sidecar "worker" {
        image "ghcr.io/acme/worker"
        secret "DB_PASSWORD" from-file="/run/keys/db"
        secret "QUEUE_KEY" from-file="/run/keys/queue"
    }
}
"#;
        let (plan, _) = load_text("shop.kdl", spec.to_string()).expect("the spec loads");
        let app = &plan.apps[0];
        let numbered = |list: &[crate::plan::Secret]| -> Vec<(usize, String)> {
            list.iter()
                .map(|s| (s.index, s.compose_name.clone()))
                .collect()
        };
        assert_eq!(
            numbered(&app.all_secrets),
            [
                (0, "web-DB_PASSWORD".to_string()),
                (1, "web-TOKEN".into()),
                (2, "edge-TOKEN".into()),
                (3, "worker-DB_PASSWORD".into()),
                (4, "worker-QUEUE_KEY".into()),
            ]
        );
        assert_eq!(numbered(&app.secrets), numbered(&app.all_secrets[..2]));
        assert_eq!(
            numbered(&app.sidecars[0].secrets),
            numbered(&app.all_secrets[2..3])
        );
        assert_eq!(
            numbered(&app.sidecars[1].secrets),
            numbered(&app.all_secrets[3..])
        );
    }
}
