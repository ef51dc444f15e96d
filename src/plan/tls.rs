//! The proxy's TLS: `tls` and the ssl listens go together, plain listens of
//! a TLS proxy only redirect to https, and HSTS is on unless turned off.

use miette::SourceSpan;

use super::defaults::HSTS_MAX_AGE_SECS;
use super::model::{Listen, Tls};
use crate::diagnostic::{Problems, SpecError};
use crate::spec::ProxySpec;

/// The TLS of the proxy, marking its plain listens as redirects; None
/// without `tls`. `span` is where to point when the proxy block is missing.
pub fn tls(
    proxy: Option<&ProxySpec>,
    listen: &mut [Listen],
    span: SourceSpan,
    problems: &mut Problems,
) -> Option<Tls> {
    let tls = proxy.and_then(|p| p.tls.as_ref());
    let hsts = proxy.and_then(|p| p.hsts.as_ref());
    let https_port = listen.iter().find(|l| l.ssl).map(|l| l.port);
    match (tls, https_port) {
        (Some(tls), None) => problems.push(
            SpecError::new(
                tls.span,
                "`tls` is set but no `listen` has ssl=#true",
                "unused certificate",
            )
            .help("add: listen 443 ssl=#true"),
        ),
        (None, Some(_)) => problems.push(
            SpecError::new(
                span,
                "a listen has ssl=#true but there is no `tls`",
                "missing tls",
            )
            .help("add: tls certificate=\"/etc/ssl/fullchain.pem\" key=\"/etc/ssl/privkey.pem\""),
        ),
        _ => {}
    }
    if let (Some(hsts), None) = (hsts, tls) {
        problems.push(
            SpecError::new(hsts.span, "`hsts` applies only with `tls`", "no https here")
                .help("browsers take the header only over https: add `tls` and an ssl listen, or remove `hsts`"),
        );
    }
    let (tls, https_port) = (tls?, https_port?);
    for l in listen.iter_mut() {
        l.redirect = !l.ssl;
    }
    Some(Tls {
        certificate: tls.certificate.clone(),
        key: tls.key.clone(),
        https_port,
        hsts_max_age: match hsts {
            Some(h) if !h.enabled => None,
            Some(h) => Some(h.max_age.unwrap_or(HSTS_MAX_AGE_SECS)),
            None => Some(HSTS_MAX_AGE_SECS),
        },
    })
}
