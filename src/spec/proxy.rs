//! `proxy { … }`: the nginx in front of the colors.

use serde::Serialize;

use super::keywords::Keyword;
use super::tls::{decode_hsts, decode_tls, HstsSpec, TlsSpec};
use super::{addresses, check, values, NodeReader, Spanned};
use crate::diagnostic::{Problems, SpecError};

/// Where nginx runs. Serialized as its spec word (`compose`, `host`,
/// `remote`), which is what templates compare `plan.proxy.mode` with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProxyMode {
    /// A compose service in the stack.
    Compose,
    /// The nginx of the machine that runs deploy.sh.
    Host,
    /// The nginx of another host, reached over ssh.
    Remote,
}

/// One `listen` line.
#[derive(Debug, Clone)]
pub struct ListenSpec {
    /// Address part (empty for all addresses).
    pub address: String,
    /// Port.
    pub port: Spanned<u16>,
    /// Serve TLS on it.
    pub ssl: bool,
}

/// `route "/path" app="NAME"`
#[derive(Debug, Clone)]
pub struct RouteSpec {
    /// The location prefix.
    pub path: Spanned<String>,
    /// The app it goes to.
    pub app: Spanned<String>,
}

/// The `proxy` block as written.
#[derive(Debug, Clone)]
pub struct ProxySpec {
    /// compose, host or remote.
    pub mode: Option<Spanned<ProxyMode>>,
    /// remote: the host nginx runs on.
    pub on: Option<Spanned<String>>,
    /// compose: the nginx image.
    pub image: Option<Spanned<String>>,
    /// Listen lines.
    pub listen: Vec<ListenSpec>,
    /// server_name.
    pub server_names: Vec<String>,
    /// TLS files.
    pub tls: Option<TlsSpec>,
    /// HSTS, when changed or turned off.
    pub hsts: Option<HstsSpec>,
    /// `trusted-proxies`: where a client address in X-Forwarded-For is believed.
    pub trusted_proxies: Vec<String>,
    /// host/remote: where the site conf is installed.
    pub conf_dir: Option<Spanned<String>>,
    /// Routes.
    pub routes: Vec<RouteSpec>,
    /// client_max_body_size.
    pub client_max_body_size: Option<String>,
    /// The block, for errors about a missing piece.
    pub span: miette::SourceSpan,
}

/// The keywords of the `proxy` block.
#[derive(Debug, Clone, Copy)]
enum ProxyKeyword {
    Mode,
    On,
    Image,
    Listen,
    ServerName,
    Tls,
    Hsts,
    TrustedProxies,
    ConfDir,
    Route,
    ClientMaxBodySize,
}

const KEYWORDS: &[Keyword<ProxyKeyword>] = &[
    Keyword::once("mode", ProxyKeyword::Mode),
    Keyword::once("on", ProxyKeyword::On),
    Keyword::once("image", ProxyKeyword::Image),
    Keyword::many("listen", ProxyKeyword::Listen),
    Keyword::many("server-name", ProxyKeyword::ServerName),
    Keyword::once("tls", ProxyKeyword::Tls),
    Keyword::once("hsts", ProxyKeyword::Hsts),
    Keyword::many("trusted-proxies", ProxyKeyword::TrustedProxies),
    Keyword::once("conf-dir", ProxyKeyword::ConfDir),
    Keyword::many("route", ProxyKeyword::Route),
    Keyword::once("client-max-body-size", ProxyKeyword::ClientMaxBodySize),
];
/// Decodes the `proxy` block.
pub fn decode(problems: &mut Problems, reader: &NodeReader) -> ProxySpec {
    reader.shape(problems, 0, 0, &[], "proxy { listen 80 }");
    let mut proxy = ProxySpec {
        mode: None,
        on: None,
        image: None,
        listen: Vec::new(),
        server_names: Vec::new(),
        tls: None,
        hsts: None,
        trusted_proxies: Vec::new(),
        conf_dir: None,
        routes: Vec::new(),
        client_max_body_size: None,
        span: reader.name_span(),
    };
    for (keyword, node) in reader.children(problems, KEYWORDS) {
        let r = NodeReader::new(node);
        match keyword {
            ProxyKeyword::Mode => {
                r.shape(problems, 1, 1, &[], "mode \"compose\"");
                r.no_children(problems);
                if let Some(mode) = r.string_arg(problems, 0) {
                    let parsed = match mode.value.as_str() {
                        "compose" => Some(ProxyMode::Compose),
                        "host" => Some(ProxyMode::Host),
                        "remote" => Some(ProxyMode::Remote),
                        other => {
                            problems.push(
                                SpecError::new(
                                    mode.span,
                                    format!("unknown proxy mode `{}`", other.escape_debug()),
                                    "unknown mode",
                                )
                                .help("use \"compose\", \"host\" or \"remote\""),
                            );
                            None
                        }
                    };
                    proxy.mode = parsed.map(|m| Spanned::new(m, mode.span));
                }
            }
            ProxyKeyword::On => {
                r.shape(problems, 1, 1, &[], "on \"lb\"");
                r.no_children(problems);
                proxy.on = r.string_arg(problems, 0);
            }
            ProxyKeyword::Image => proxy.image = super::container::image_node(problems, &r, true),
            ProxyKeyword::Listen => proxy.listen.extend(listen_node(problems, &r)),
            ProxyKeyword::ServerName => {
                r.shape(
                    problems,
                    1,
                    usize::MAX,
                    &[],
                    "server-name \"api.example.com\"",
                );
                r.no_children(problems);
                for name in r.string_args(problems) {
                    if check(problems, name.span, values::server_name(&name.value)) {
                        proxy.server_names.push(name.value);
                    }
                }
            }
            ProxyKeyword::Tls => proxy.tls = decode_tls(problems, &r),
            ProxyKeyword::Hsts => proxy.hsts = decode_hsts(problems, &r),
            ProxyKeyword::TrustedProxies => {
                r.shape(
                    problems,
                    1,
                    usize::MAX,
                    &[],
                    "trusted-proxies \"10.0.0.0/8\"",
                );
                r.no_children(problems);
                for value in r.string_args(problems) {
                    if check(problems, value.span, addresses::trusted_proxy(&value.value)) {
                        proxy.trusted_proxies.push(value.value);
                    }
                }
            }
            ProxyKeyword::ConfDir => {
                r.shape(problems, 1, 1, &[], "conf-dir \"/etc/nginx/conf.d\"");
                r.no_children(problems);
                proxy.conf_dir = r.string_arg(problems, 0).filter(|d| {
                    check(problems, d.span, values::path(&d.value, "conf-dir", true))
                        && check(problems, d.span, values::nginx_word(&d.value, "conf-dir"))
                });
            }
            ProxyKeyword::Route => {
                r.shape(problems, 1, 1, &["app"], "route \"/\" app=\"web\"");
                r.no_children(problems);
                let path = r
                    .string_arg(problems, 0)
                    .filter(|p| check(problems, p.span, values::location(&p.value)));
                let app = r.string_prop(problems, "app");
                if app.is_none() {
                    problems.push(
                        SpecError::new(r.span(), "`route` needs `app=`", "which app?")
                            .help("write it as: route \"/\" app=\"web\""),
                    );
                }
                if let (Some(path), Some(app)) = (path, app) {
                    proxy.routes.push(RouteSpec { path, app });
                }
            }
            ProxyKeyword::ClientMaxBodySize => {
                r.shape(problems, 1, 1, &[], "client-max-body-size \"10m\"");
                r.no_children(problems);
                proxy.client_max_body_size = r
                    .string_arg(problems, 0)
                    .filter(|s| check(problems, s.span, values::size(&s.value)))
                    .map(|s| s.value);
            }
        }
    }
    proxy
}

fn listen_node(problems: &mut Problems, r: &NodeReader) -> Option<ListenSpec> {
    r.shape(problems, 1, 1, &["ssl"], "listen 443 ssl=#true");
    r.no_children(problems);
    let ssl = r.bool_prop(problems, "ssl").is_some_and(|b| b.value);
    let (address, port) = listen_arg(problems, r)?;
    Some(ListenSpec { address, port, ssl })
}

/// The first argument of a `listen` node: a port (`80`) or a string with an
/// address (`"127.0.0.1:8080"`, `"[::1]:8080"`); the address is empty for
/// every address. Shared by `proxy` and `webhook`.
pub(super) fn listen_arg(
    problems: &mut Problems,
    r: &NodeReader,
) -> Option<(String, Spanned<u16>)> {
    let arg = *r.args().first()?;
    match arg.value() {
        kdl::KdlValue::Integer(_) => {
            let port = r.int_arg(problems, 0, 1, 65535)?;
            Some((String::new(), Spanned::new(port.value as u16, port.span)))
        }
        _ => {
            let text = r.string_arg(problems, 0)?;
            match values::listen(&text.value) {
                Ok((address, port)) => Some((address, Spanned::new(port, text.span))),
                Err(invalid) => {
                    problems.push(
                        SpecError::new(text.span, invalid.message, "invalid listen")
                            .help(invalid.help),
                    );
                    None
                }
            }
        }
    }
}
