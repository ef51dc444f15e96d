//! `orchestrator "swarm"`: the apps run as services of a Docker Swarm, whose
//! manager is the engine deploy.sh talks to (this machine's, the
//! `docker-host`, or the host named by `manager="NAME"`).

use super::{check, values, NodeReader, Spanned};
use crate::diagnostic::{Problems, SpecError};

/// `orchestrator "swarm" manager="NAME"` as written.
#[derive(Debug)]
pub struct SwarmSpec {
    /// `manager="NAME"`: the host whose engine is the swarm's manager.
    pub manager: Option<Spanned<String>>,
}

/// Decodes `orchestrator "swarm"`; None when it is not valid.
pub(super) fn decode(problems: &mut Problems, reader: &NodeReader) -> Option<SwarmSpec> {
    let usage = "orchestrator \"swarm\" manager=\"HOST\"";
    reader.shape(problems, 1, 1, &["manager"], usage);
    reader.no_children(problems);
    let manager = reader
        .string_prop(problems, "manager")
        .filter(|m| check(problems, m.span, values::name(&m.value, "manager host")));
    let value = reader.string_arg(problems, 0)?;
    match value.value.as_str() {
        "swarm" => Some(SwarmSpec { manager }),
        "kubernetes" | "nomad" => {
            problems.push(
                SpecError::new(
                    value.span,
                    format!("orchestrator `{}` is not supported yet", value.value),
                    "not yet",
                )
                .help("the only orchestrator is \"swarm\" (Docker Swarm); leave `orchestrator` out to deploy to hosts"),
            );
            None
        }
        other => {
            problems.push(
                SpecError::new(
                    value.span,
                    format!("unknown orchestrator `{}`", other.escape_debug()),
                    "unknown orchestrator",
                )
                .help("the only orchestrator is \"swarm\" (Docker Swarm); leave `orchestrator` out to deploy to hosts"),
            );
            None
        }
    }
}
