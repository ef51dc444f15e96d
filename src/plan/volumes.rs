//! Volumes of apps, sidecars and accessories, as the compose files name them.

use super::model::Volume;
use crate::spec;

/// The named volumes (not host paths) among an app's and its sidecars'
/// volumes, each once, in order.
pub(super) fn shared_volumes(a: &spec::AppSpec) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let all = a
        .volumes
        .iter()
        .chain(a.sidecars.iter().flat_map(|s| &s.volumes));
    for v in all {
        let name = &v.source.value;
        if !name.starts_with('/') && !name.starts_with('.') && !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

/// The volumes as written, for one container.
pub(super) fn volumes(list: &[spec::VolumeSpec]) -> Vec<Volume> {
    list.iter()
        .map(|v| Volume {
            source: v.source.value.clone(),
            target: v.target.clone(),
            read_only: v.read_only,
        })
        .collect()
}
