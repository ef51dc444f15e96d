//! `orchestrator "swarm"`: the apps run as services of a Docker Swarm, whose
//! manager is the engine deploy.sh talks to (this machine's, or the
//! `docker-host`).

use super::{NodeReader, Spanned};
use crate::diagnostic::{Problems, SpecError};

/// Decodes `orchestrator "swarm"`; the span of the value when it is valid.
pub(super) fn decode(problems: &mut Problems, reader: &NodeReader) -> Option<Spanned<()>> {
    let usage = "orchestrator \"swarm\"";
    reader.shape(problems, 1, 1, &[], usage);
    reader.no_children(problems);
    let value = reader.string_arg(problems, 0)?;
    match value.value.as_str() {
        "swarm" => Some(Spanned::new((), value.span)),
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
