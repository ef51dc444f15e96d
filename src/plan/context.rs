//! What apps and accessories are planned against, passed as one value.

use super::model::{Host, ProxyMode, Runtime};
use crate::spec::AppSpec;
use crate::spec::Spec;

/// The whole-spec facts each app and accessory is placed with: the spec,
/// its hosts, where a service runs when it does not say, and where nginx
/// runs.
pub(super) struct PlanContext<'a> {
    /// The whole spec.
    pub spec: &'a Spec,
    /// The stack's hosts.
    pub hosts: &'a [Host],
    /// Where an app or accessory without `hosts`/`on` runs: every host but
    /// a remote proxy's.
    pub default_hosts: &'a [String],
    /// Where nginx runs.
    pub proxy_mode: ProxyMode,
    /// `orchestrator "swarm"`.
    pub swarm: bool,
}

impl PlanContext<'_> {
    /// How app `a`'s colors run: as swarm stacks under `orchestrator
    /// "swarm"`, else by its `runtime`.
    pub fn runtime(&self, a: &AppSpec) -> Runtime {
        if self.swarm {
            Runtime::Swarm
        } else {
            a.runtime.value
        }
    }
}
