//! Where deploy.sh asks nginx itself, after a switch, which color each route
//! reaches: nginx's own listen address (not the colors directly, as the
//! health gate does), so that a stopped nginx, another server block that
//! takes the requests (a `default_server`) or a conf that never loaded is
//! caught before a deploy is called done.

use super::model::{Host, Listen, Verify};

/// The URL base and curl `--resolve` entry of the verify requests: the
/// first TLS listen when there is one (a plain listen may only redirect),
/// else the first listen; the listen's own address, or for a wildcard one
/// the proxy host's (loopback for nginx on this machine); the first plain
/// server name as Host (and TLS SNI), through `--resolve`.
pub fn verify(
    listen: &[Listen],
    server_names: &[String],
    host: &Host,
    local_nginx: bool,
) -> Verify {
    let chosen = listen
        .iter()
        .find(|l| l.ssl)
        .or_else(|| listen.first())
        .expect("the proxy always has a listen");
    let scheme = if chosen.ssl { "https" } else { "http" };
    let address = match chosen.value.rsplit_once(':') {
        Some((addr, _)) if !matches!(addr, "0.0.0.0" | "[::]" | "*") => addr.to_string(),
        _ if local_nginx => "127.0.0.1".to_string(),
        _ => host.addr.clone(),
    };
    let name = server_names.iter().find(|n| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.".contains(c))
    });
    match name {
        Some(name) => Verify {
            base: format!("{scheme}://{name}:{}", chosen.port),
            resolve: format!("{name}:{}:{address}", chosen.port),
        },
        None => Verify {
            base: format!("{scheme}://{address}:{}", chosen.port),
            resolve: String::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(addr: &str) -> Host {
        Host {
            name: "lb".into(),
            ssh: format!("root@{addr}"),
            ssh_port: 22,
            addr: addr.into(),
            local: false,
            bind: None,
        }
    }

    fn listen(value: &str, port: u16, ssl: bool) -> Listen {
        Listen {
            value: value.into(),
            port,
            ssl,
            redirect: false,
        }
    }

    #[test]
    fn a_wildcard_listen_is_asked_on_loopback_or_the_proxy_host() {
        let plain = [listen("80", 80, false)];
        assert_eq!(
            verify(&plain, &[], &host("10.0.0.10"), true).base,
            "http://127.0.0.1:80"
        );
        assert_eq!(
            verify(&plain, &[], &host("10.0.0.10"), false).base,
            "http://10.0.0.10:80"
        );
    }

    #[test]
    fn tls_and_a_server_name_go_through_resolve() {
        let both = [listen("80", 80, false), listen("443", 443, true)];
        let names = ["*.example.com".to_string(), "shop.example.com".to_string()];
        let v = verify(&both, &names, &host("10.0.0.10"), false);
        assert_eq!(v.base, "https://shop.example.com:443");
        assert_eq!(v.resolve, "shop.example.com:443:10.0.0.10");
    }

    #[test]
    fn a_listen_address_is_used_as_written() {
        let own = [listen("127.0.0.1:8080", 8080, false)];
        assert_eq!(
            verify(&own, &[], &host("10.0.0.10"), false).base,
            "http://127.0.0.1:8080"
        );
        let v6 = [listen("[::1]:8080", 8080, false)];
        assert_eq!(
            verify(&v6, &[], &host("10.0.0.10"), true).base,
            "http://[::1]:8080"
        );
    }
}
