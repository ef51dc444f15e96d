//! The keywords each block accepts, as one table per block: the decoder
//! matches on the table's own enum, so every known keyword has its arm and
//! the compiler finds one left out, while an unknown or repeated name is
//! reported here, once for every block.

use kdl::KdlNode;
use miette::SourceSpan;

use super::suggest::unknown_help;
use crate::diagnostic::{twice, Problems, SpecError};

/// How often a keyword may appear in its block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Times {
    /// At most once: a second one is an error.
    Once,
    /// Any number of times (`env`, `volume`, `route`, …).
    Many,
}

/// One keyword of a block: its name as written, the value its decoder
/// matches on, and how often it may appear.
#[derive(Debug)]
pub struct Keyword<K> {
    /// The node name in the spec.
    pub name: &'static str,
    /// What the decoder matches on.
    pub key: K,
    /// How often it may appear.
    pub times: Times,
}

impl<K> Keyword<K> {
    /// A keyword that may appear once.
    pub const fn once(name: &'static str, key: K) -> Self {
        Keyword {
            name,
            key,
            times: Times::Once,
        }
    }

    /// A keyword that may appear any number of times.
    pub const fn many(name: &'static str, key: K) -> Self {
        Keyword {
            name,
            key,
            times: Times::Many,
        }
    }
}

/// Looks each of `nodes` up in `keywords`: an unknown name is reported with
/// a suggestion, a second one of a once-only keyword as given twice, and
/// both are skipped. `parent` names the enclosing block in messages.
pub fn lookup<'a, K: Copy>(
    problems: &mut Problems,
    nodes: &'a [KdlNode],
    keywords: &[Keyword<K>],
    parent: Option<&str>,
) -> Vec<(K, &'a KdlNode)> {
    let mut seen: Vec<(&str, SourceSpan)> = Vec::new();
    let mut kept = Vec::new();
    for node in nodes {
        let name = node.name().value();
        let Some(keyword) = keywords.iter().find(|k| k.name == name) else {
            let known: Vec<&str> = keywords.iter().map(|k| k.name).collect();
            let place = parent.map(|p| format!(" inside `{p}`")).unwrap_or_default();
            problems.push(
                SpecError::new(
                    node.name().span(),
                    format!("unknown node `{name}`{place}"),
                    "unknown node",
                )
                .help(unknown_help(name, &known)),
            );
            continue;
        };
        if keyword.times == Times::Once {
            if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
                problems.push(
                    twice(&format!("`{name}`"), "given", node.name().span(), *first)
                        .help(format!("`{name}` may appear once; remove one of them")),
                );
                continue;
            }
            seen.push((name, node.name().span()));
        }
        kept.push((keyword.key, node));
    }
    kept
}
