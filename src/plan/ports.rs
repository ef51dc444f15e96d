//! Two things on one host may not publish the same port.

use std::collections::BTreeMap;

use miette::SourceSpan;

use crate::diagnostic::{Problems, SpecError};

/// Records which port each thing publishes on each host, and reports clashes.
#[derive(Default)]
pub struct PortTable {
    taken: BTreeMap<(String, u16), (String, SourceSpan)>,
}

impl PortTable {
    /// Claims `port` on `host` for `owner`, reporting a clash with an earlier claim.
    pub fn claim(
        &mut self,
        problems: &mut Problems,
        host: &str,
        port: u16,
        owner: String,
        span: SourceSpan,
    ) {
        let key = (host.to_string(), port);
        if let Some((first_owner, first_span)) = self.taken.get(&key) {
            problems.push(
                SpecError::new(
                    span,
                    format!("port {port} on host `{host}` is already used by {first_owner}"),
                    format!("{owner} also wants port {port}"),
                )
                .also(*first_span, format!("{first_owner} uses it"))
                .help("give each its own port"),
            );
        } else {
            self.taken.insert(key, (owner, span));
        }
    }
}
