//! The site conf of a kit whose proxy has `tls`, served by a real nginx on
//! loopback (installed as deploy.sh installs it) in front of gl-testapp, with
//! a self-signed certificate: what `openssl s_client` can negotiate, the
//! redirect from plain HTTP, HSTS, no version in `Server:`, and the client
//! address the app is told.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use support::nginx::{free_port, LoopbackNginx, TestApp};
use support::{assembled_conf, run, tool_available};

/// The server name the certificate and the spec use.
const NAME: &str = "tls.test";

/// Debian's stock nginx.conf enables TLS 1.0 and 1.1 at http level; the
/// site conf must hold its own line whatever the main conf says.
const DEBIAN_HTTP_SSL: &str =
    "  ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;\n  ssl_prefer_server_ciphers on;";

/// A kit's site served by its own nginx, the blue color live.
struct Site {
    dir: tempfile::TempDir,
    nginx: LoopbackNginx,
    _app: TestApp,
    http: u16,
    https: u16,
}

impl Site {
    /// Builds the kit of a spec whose proxy adds `proxy_extra` (and, with
    /// `tls`, a plain and an ssl listen), installs it and starts everything.
    fn start(tls: bool, proxy_extra: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (http, https, blue, green) = (free_port(), free_port(), free_port(), free_port());
        let tls_lines = if tls {
            self_signed(d);
            format!(
                "    listen \"127.0.0.1:{https}\" ssl=#true\n    tls certificate=\"{cert}\" key=\"{key}\"\n",
                cert = d.join("cert.pem").display(),
                key = d.join("key.pem").display(),
            )
        } else {
            String::new()
        };
        let spec = format!(
            "greenlight 1\nproject \"tls\"\napp \"web\" {{\n    runtime \"process\"\n    start \"/bin/true {{port}}\"\n    host-ports blue={blue} green={green}\n    health \"/healthz\"\n}}\nproxy {{\n    mode \"host\"\n    listen \"127.0.0.1:{http}\"\n{tls_lines}    server-name \"{NAME}\"\n{proxy_extra}\n}}\n"
        );
        fs::write(d.join("tls.kdl"), spec).unwrap();
        let (ok, out) = run(Command::new(env!("CARGO_BIN_EXE_greenlight"))
            .arg("build")
            .arg(d.join("tls.kdl")));
        assert!(ok, "greenlight build failed:\n{out}");
        let mut nginx = LoopbackNginx::new(false, DEBIAN_HTTP_SSL);
        let conf = assembled_conf(&d.join("deploy/tls"), &["web".to_string()], "blue");
        fs::write(nginx.conf_d().join("greenlight-tls.conf"), conf).unwrap();
        let app = TestApp::start(blue, "tls-1");
        nginx.start();
        Site {
            dir,
            nginx,
            _app: app,
            http,
            https,
        }
    }

    /// `openssl s_client` against the ssl listen with `options`: whether
    /// the handshake succeeded, and what s_client printed.
    fn handshake(&self, options: &[&str]) -> (bool, String) {
        let (ok, out) = run(Command::new("openssl")
            .args(["s_client", "-brief", "-servername", NAME, "-connect"])
            .arg(format!("127.0.0.1:{}", self.https))
            .args(options)
            .stdin(Stdio::null()));
        eprintln!("s_client {}: {}", options.join(" "), out.trim());
        (ok && out.contains("CONNECTION ESTABLISHED"), out)
    }

    /// curl's response head and body for `url` (the name resolved to loopback).
    fn curl(&self, url: &str, headers: &[&str]) -> (String, String) {
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "-k", "--max-time", "5", "-D", "-"]);
        for port in [self.http, self.https] {
            cmd.arg("--resolve").arg(format!("{NAME}:{port}:127.0.0.1"));
        }
        for header in headers {
            cmd.arg("-H").arg(header);
        }
        let (ok, out) = run(cmd.arg(url));
        assert!(ok, "curl {url} failed:\n{out}");
        let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
        (head.to_string(), body.to_string())
    }

    /// The SHA-256 fingerprint of the certificate the ssl listen serves.
    fn served_fingerprint(&self) -> String {
        let (_, out) = run(Command::new("openssl")
            .args(["s_client", "-showcerts", "-servername", NAME, "-connect"])
            .arg(format!("127.0.0.1:{}", self.https))
            .stdin(Stdio::null()));
        let pem = out
            .split_once("-----BEGIN CERTIFICATE-----")
            .and_then(|(_, rest)| rest.split_once("-----END CERTIFICATE-----"))
            .map(|(body, _)| {
                format!("-----BEGIN CERTIFICATE-----{body}-----END CERTIFICATE-----\n")
            })
            .unwrap_or_else(|| panic!("no certificate in:\n{out}"));
        fingerprint_of(&pem)
    }

    /// deploy.sh of the kit with ARGS, against this site's nginx.
    fn deploy(&self, args: &[&str]) -> std::process::Output {
        Command::new(self.dir.path().join("deploy/tls/deploy.sh"))
            .args(args)
            .env("GREENLIGHT_STATE_DIR", self.dir.path().join("state"))
            .env("GREENLIGHT_NGINX", self.nginx.command_line())
            .env("GREENLIGHT_NGINX_CONF_DIR", self.nginx.conf_d())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

/// The SHA-256 fingerprint `openssl x509` gives a PEM certificate.
fn fingerprint_of(pem: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(pem.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl x509 refused:\n{pem}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A self-signed RSA certificate for NAME: cert.pem and key.pem in `dir`.
fn self_signed(dir: &Path) {
    let (ok, out) = run(Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", &format!("/CN={NAME}")])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem")));
    assert!(ok, "openssl req failed:\n{out}");
}

/// The TLS 1.2 suites `openssl ciphers` knows, at any security level.
fn tls12_suites() -> Vec<String> {
    let (ok, out) = run(Command::new("openssl").args(["ciphers", "-v", "ALL:@SECLEVEL=0"]));
    assert!(ok, "openssl ciphers failed:\n{out}");
    out.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let name = fields.next()?;
            matches!(fields.next()?, "TLSv1.2" | "SSLv3").then(|| name.to_string())
        })
        .collect()
}

fn tools() -> bool {
    tool_available("nginx") && tool_available("openssl") && tool_available("curl")
}

/// The value of header `name` in a response head (case-insensitive name).
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

#[test]
fn only_tls_1_2_and_1_3_with_forward_secret_aead_suites_are_accepted() {
    if !tools() {
        return;
    }
    let site = Site::start(true, "");
    // The client offers what it is told to even below its own security
    // level, so a refusal can only come from the server.
    let legacy = ["-cipher", "DEFAULT:@SECLEVEL=0"];
    for version in ["-tls1", "-tls1_1"] {
        let (ok, out) = site.handshake(&[&[version][..], &legacy].concat());
        assert!(!ok, "{version} was accepted:\n{out}");
        // Refused for its version (not, say, by the server's OpenSSL
        // security level, which refuses TLS 1.0 with "internal error").
        assert!(
            out.contains("alert protocol version"),
            "{version} was not refused for its version:\n{out}"
        );
    }
    // RSA key exchange: no forward secrecy, whether CBC or AEAD.
    for cipher in ["AES128-SHA", "AES256-GCM-SHA384", "AES128-GCM-SHA256"] {
        let (ok, out) = site.handshake(&["-tls1_2", "-cipher", cipher]);
        assert!(!ok, "TLS 1.2 with {cipher} was accepted:\n{out}");
    }
    // Every TLS 1.2 suite this openssl knows, one at a time: those accepted
    // are the profile's suites that an RSA certificate can serve.
    let accepted: Vec<String> = tls12_suites()
        .into_iter()
        .filter(|suite| {
            let cipher = format!("{suite}:@SECLEVEL=0");
            site.handshake(&["-tls1_2", "-cipher", &cipher]).0
        })
        .collect();
    assert_eq!(
        accepted,
        [
            "ECDHE-RSA-AES256-GCM-SHA384",
            "ECDHE-RSA-CHACHA20-POLY1305",
            "ECDHE-RSA-AES128-GCM-SHA256"
        ],
        "TLS 1.2 suites accepted"
    );

    let (ok, out) = site.handshake(&["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"]);
    assert!(
        ok,
        "TLS 1.2 with ECDHE-RSA-AES128-GCM-SHA256 was refused:\n{out}"
    );
    assert!(out.contains("ECDHE-RSA-AES128-GCM-SHA256"), "{out}");
    let (ok, out) = site.handshake(&["-tls1_3"]);
    assert!(ok, "TLS 1.3 was refused:\n{out}");
    assert!(out.contains("TLSv1.3"), "{out}");
}

#[test]
fn plain_http_redirects_and_https_sends_hsts_and_no_version() {
    if !tools() {
        return;
    }
    let site = Site::start(true, "");
    let (head, _) = site.curl(&format!("http://{NAME}:{}/a/b?c=1", site.http), &[]);
    assert!(head.starts_with("HTTP/1.1 301"), "{head}");
    assert_eq!(
        header(&head, "location"),
        Some(format!("https://{NAME}:{}/a/b?c=1", site.https).as_str()),
        "{head}"
    );
    assert_eq!(header(&head, "server"), Some("nginx"), "{head}");
    assert_eq!(header(&head, "strict-transport-security"), None, "{head}");

    let (head, body) = site.curl(&format!("https://{NAME}:{}/", site.https), &[]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, "version=tls-1\n");
    assert_eq!(
        header(&head, "strict-transport-security"),
        Some("max-age=63072000"),
        "{head}"
    );
    assert_eq!(header(&head, "server"), Some("nginx"), "{head}");
}

#[test]
fn hsts_can_be_changed_or_turned_off() {
    if !tools() {
        return;
    }
    let site = Site::start(true, "    hsts max-age=300");
    let (head, _) = site.curl(&format!("https://{NAME}:{}/", site.https), &[]);
    assert_eq!(
        header(&head, "strict-transport-security"),
        Some("max-age=300")
    );
    drop(site);
    let site = Site::start(true, "    hsts #false");
    let (head, _) = site.curl(&format!("https://{NAME}:{}/", site.https), &[]);
    assert_eq!(header(&head, "strict-transport-security"), None, "{head}");
}

#[test]
fn the_app_is_told_the_client_address_not_a_forged_one() {
    if !tools() {
        return;
    }
    let site = Site::start(true, "");
    let (_, body) = site.curl(
        &format!("https://{NAME}:{}/headers", site.https),
        &["X-Forwarded-For: 203.0.113.66"],
    );
    assert!(
        body.contains("\nx-forwarded-for: 127.0.0.1\n"),
        "the app was told another client address:\n{body}"
    );
    assert!(body.contains("\nx-real-ip: 127.0.0.1\n"), "{body}");
    assert!(!body.contains("203.0.113.66"), "{body}");
}

#[test]
fn behind_trusted_proxies_the_client_is_the_last_untrusted_address() {
    if !tools() {
        return;
    }
    // The test's curl plays a load balancer at 127.0.0.1 that appended the
    // address it saw (198.51.100.7) to what its client sent.
    let site = Site::start(false, "    trusted-proxies \"127.0.0.0/8\" \"10.0.0.0/8\"");
    let (_, body) = site.curl(
        &format!("http://{NAME}:{}/headers", site.http),
        &["X-Forwarded-For: 203.0.113.66, 198.51.100.7"],
    );
    assert!(
        body.contains("\nx-forwarded-for: 198.51.100.7\n"),
        "the app was not told the address the trusted proxy saw:\n{body}"
    );
    assert!(body.contains("\nx-real-ip: 198.51.100.7\n"), "{body}");
    assert!(!body.contains("203.0.113.66"), "{body}");
}

/// certbot's deploy hook: a renewed certificate is served after
/// `deploy.sh reload-tls` (nginx -t, then a reload); a broken one is refused
/// and the old one is still served.
#[test]
fn reload_tls_serves_a_renewed_certificate_and_refuses_a_broken_one() {
    if !tools() {
        return;
    }
    let site = Site::start(true, "");
    let cert = site.dir.path().join("cert.pem");
    let first = fingerprint_of(&fs::read_to_string(&cert).unwrap());
    assert_eq!(site.served_fingerprint(), first);

    self_signed(site.dir.path());
    let renewed = fingerprint_of(&fs::read_to_string(&cert).unwrap());
    assert_ne!(renewed, first, "a new certificate");
    assert_eq!(site.served_fingerprint(), first, "served until the reload");
    let out = site.deploy(&["reload-tls"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(site.served_fingerprint(), renewed);

    fs::write(&cert, "not a certificate\n").unwrap();
    let out = site.deploy(&["reload-tls"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nginx -t refuses"));
    assert_eq!(site.served_fingerprint(), renewed, "still the good one");
}
