//! The one namespace apps, accessories and sidecars share.

use crate::diagnostic::{twice, Problems};
use crate::spec::{Spanned, Spec};

/// Apps, accessories and sidecars share one namespace: compose service names
/// on the stack network, where docker's DNS answers a name with every
/// container that has it.
pub(super) fn check_unique_names(spec: &Spec, problems: &mut Problems) {
    // Each name with its owner: the app's index for an app and its sidecars,
    // None for an accessory. Clashes inside one app are reported with the
    // app's sidecars.
    let mut seen: Vec<(&Spanned<String>, Option<usize>)> = Vec::new();
    let names = spec
        .apps
        .iter()
        .enumerate()
        .flat_map(|(i, a)| {
            std::iter::once((&a.name, Some(i)))
                .chain(a.sidecars.iter().map(move |s| (&s.name, Some(i))))
        })
        .chain(spec.accessories.iter().map(|a| (&a.name, None)));
    for (name, owner) in names {
        match seen.iter().find(|(n, _)| n.value == name.value) {
            Some((first, first_owner)) if owner.is_none() || *first_owner != owner => {
                problems.push(
                    twice(&format!("the name `{}`", name.value), "used", name.span, first.span)
                    .help("apps, accessories and sidecars share the names of the stack network: each needs its own"),
                );
            }
            Some(_) => {}
            None => seen.push((name, owner)),
        }
    }
}
