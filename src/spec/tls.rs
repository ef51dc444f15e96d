//! `tls` and `hsts` inside `proxy`: the certificate nginx serves, and the
//! Strict-Transport-Security header that tells browsers to keep to https.

use super::{check, values, NodeReader};
use crate::diagnostic::{Problems, SpecError};

/// `tls certificate=… key=…`
#[derive(Debug, Clone)]
pub struct TlsSpec {
    /// Certificate chain path on the proxy host.
    pub certificate: String,
    /// Private key path on the proxy host.
    pub key: String,
    /// The node, for errors.
    pub span: miette::SourceSpan,
}

/// `hsts max-age=N` or `hsts #false`: changes or turns off the HSTS header
/// a TLS proxy sends by default.
#[derive(Debug, Clone)]
pub struct HstsSpec {
    /// False for `hsts #false`.
    pub enabled: bool,
    /// `max-age=` in seconds, when written.
    pub max_age: Option<u32>,
    /// The node, for errors.
    pub span: miette::SourceSpan,
}

const TLS_USAGE: &str = "tls certificate=\"/etc/ssl/fullchain.pem\" key=\"/etc/ssl/privkey.pem\"";
const HSTS_USAGE: &str = "hsts max-age=63072000 (or hsts #false)";

/// Decodes a `tls` node; None (with the problems recorded) when incomplete.
pub fn decode_tls(problems: &mut Problems, r: &NodeReader) -> Option<TlsSpec> {
    r.shape(problems, 0, 0, &["certificate", "key"], TLS_USAGE);
    r.no_children(problems);
    let file = |problems: &mut Problems, key: &str| {
        let value = r.string_prop(problems, key);
        if value.is_none() {
            problems.push(
                SpecError::new(r.span(), format!("`tls` needs `{key}=`"), "incomplete")
                    .help(format!("write it as: {TLS_USAGE}")),
            );
        }
        // A compose proxy mounts each file as `PATH:PATH:ro`, split at `:`.
        value.filter(|v| {
            check(problems, v.span, values::path(&v.value, key, true))
                && check(problems, v.span, values::nginx_word(&v.value, key))
                && check(problems, v.span, values::no_colon(&v.value, key))
        })
    };
    let certificate = file(problems, "certificate");
    let key = file(problems, "key");
    Some(TlsSpec {
        certificate: certificate?.value,
        key: key?.value,
        span: r.span(),
    })
}

/// Decodes an `hsts` node.
pub fn decode_hsts(problems: &mut Problems, r: &NodeReader) -> Option<HstsSpec> {
    r.shape(problems, 0, 1, &["max-age"], HSTS_USAGE);
    r.no_children(problems);
    let enabled = match r.args().first() {
        Some(_) => r.bool_arg(problems, 0)?.value,
        None => true,
    };
    let max_age = r
        .int_prop(problems, "max-age", 0, i32::MAX.into())
        .map(|m| m.value as u32);
    if r.args().is_empty() && !r.has_prop("max-age") {
        problems.push(
            SpecError::new(r.span(), "`hsts` needs max-age= or #false", "incomplete")
                .help(format!("write it as: {HSTS_USAGE}")),
        );
        return None;
    }
    if !enabled && r.has_prop("max-age") {
        problems.push(
            SpecError::new(
                r.span(),
                "`hsts #false` turns the header off: a max-age= has no use",
                "contradicts itself",
            )
            .help("remove max-age=, or #false"),
        );
        return None;
    }
    Some(HstsSpec {
        enabled,
        max_age,
        span: r.span(),
    })
}
