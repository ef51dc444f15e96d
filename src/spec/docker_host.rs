//! `docker-host "URL" …`: one remote docker engine for the whole stack, and
//! how its API is reached. The Docker API over plain tcp:// is a root shell
//! for anyone on the network, so tcp:// needs TLS (`tls-dir=`) or an
//! explicit `insecure=#true`; ssh:// is encrypted by ssh and unix:// stays on
//! this machine.

use super::{check, host, values, NodeReader, Spanned};
use crate::diagnostic::{Problems, SpecError};

/// The `docker-host` node as written and checked.
#[derive(Debug, Default)]
pub struct DockerHostSpec {
    /// The engine's URL (tcp://, ssh:// or unix://).
    pub url: Option<Spanned<String>>,
    /// `bind="IP"`: where that engine publishes ports.
    pub bind: Option<Spanned<String>>,
    /// `tls-dir="/abs"`: the directory with `ca.pem`, `cert.pem` and
    /// `key.pem` on the machine that runs deploy.sh (tcp:// only).
    pub tls_dir: Option<String>,
    /// `insecure=#true`: tcp:// without TLS, accepted on purpose.
    pub insecure: bool,
}

const USAGE: &str = "docker-host \"tcp://10.0.0.7:2376\" tls-dir=\"/etc/greenlight/docker-certs\"";

/// Decodes and checks a `docker-host` node.
pub fn decode(problems: &mut Problems, reader: &NodeReader) -> DockerHostSpec {
    reader.shape(problems, 1, 1, &["bind", "tls-dir", "insecure"], USAGE);
    reader.no_children(problems);
    let url = reader
        .string_arg(problems, 0)
        .filter(|url| check(problems, url.span, values::docker_host(&url.value)));
    let bind = host::bind_prop(problems, reader);
    let tls_dir = reader.string_prop(problems, "tls-dir").filter(|dir| {
        check(
            problems,
            dir.span,
            values::path(&dir.value, "tls-dir", true),
        )
    });
    let insecure = reader.bool_prop(problems, "insecure").filter(|i| i.value);
    if let Some(url) = &url {
        check_transport(problems, reader, url, tls_dir.as_ref(), insecure.as_ref());
    }
    DockerHostSpec {
        url,
        bind,
        tls_dir: tls_dir.map(|d| d.value),
        insecure: insecure.is_some(),
    }
}

/// tcp:// takes TLS or an explicit insecure=#true, not both; the other
/// transports take neither.
fn check_transport(
    problems: &mut Problems,
    reader: &NodeReader,
    url: &Spanned<String>,
    tls_dir: Option<&Spanned<String>>,
    insecure: Option<&Spanned<bool>>,
) {
    let tcp = url.value.starts_with("tcp://");
    match (tcp, tls_dir, insecure) {
        (true, None, None) if !reader.has_prop("tls-dir") => problems.push(
            SpecError::new(
                url.span,
                "the Docker API over tcp:// without TLS is open to the network",
                "plain tcp://",
            )
            .help(format!(
                "anyone who reaches this port controls the engine, and so the machine, as root: write {USAGE} (ca.pem, cert.pem and key.pem there; deploy.sh sets DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH), or use ssh://user@host; insecure=#true accepts the risk"
            )),
        ),
        (true, Some(dir), Some(flag)) => problems.push(
            SpecError::new(flag.span, "`insecure=#true` and `tls-dir=` contradict each other", "insecure")
                .also(dir.span, "TLS")
                .help("with tls-dir= the engine is reached over TLS: remove insecure=#true"),
        ),
        (false, _, _) => {
            let scheme = if url.value.starts_with("ssh://") {
                "ssh:// is encrypted by ssh"
            } else {
                "unix:// is a socket on this machine"
            };
            for (span, what) in [
                (tls_dir.map(|d| d.span), "tls-dir="),
                (insecure.map(|i| i.span), "insecure="),
            ] {
                if let Some(span) = span {
                    problems.push(
                        SpecError::new(span, format!("`{what}` applies to tcp:// only"), "not used")
                            .also(url.span, "not tcp://")
                            .help(format!("{scheme}: remove {what}")),
                    );
                }
            }
        }
        _ => {}
    }
}
