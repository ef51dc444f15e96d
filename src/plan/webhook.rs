//! The `webhook` block → [`Webhook`]: where webhook listens (a port of the
//! machine that runs deploy.sh) and what a pushed ref must look like.

use super::defaults::WEBHOOK_PORT;
use super::model::{Host, Webhook};
use super::ports::PortTable;
use crate::diagnostic::Problems;
use crate::spec::values::TAG_PATTERN;
use crate::spec::Spec;

/// The webhook of the spec, if it has one, its port claimed on the machine
/// that runs deploy.sh when that is one of the hosts.
pub(super) fn webhook(
    spec: &Spec,
    hosts: &[Host],
    ports: &mut PortTable,
    problems: &mut Problems,
) -> Option<Webhook> {
    let w = spec.webhook.as_ref()?;
    let (ip, port, span) = match &w.listen {
        Some((ip, port)) => (ip.clone(), port.value, port.span),
        None => (String::new(), WEBHOOK_PORT, w.span),
    };
    if let Some(local) = hosts.iter().find(|h| h.local) {
        ports.claim(problems, &local.name, port, "the webhook".into(), span);
    }
    let tag_prefix = w
        .tag_prefix
        .as_ref()
        .map_or_else(String::new, |p| p.value.clone());
    let mut ref_patterns = vec![format!("^refs/tags/{TAG_PATTERN}$")];
    if !tag_prefix.is_empty() {
        // A tag's only character that means something in a regex is `.`.
        ref_patterns.push(format!("^refs/tags/{}", tag_prefix.replace('.', r"\.")));
    }
    Some(Webhook {
        id: format!("deploy-{}", spec.project.value),
        secret_file: w.secret_file.as_ref()?.value.clone(),
        ip,
        port,
        tag_prefix,
        ref_patterns,
    })
}
