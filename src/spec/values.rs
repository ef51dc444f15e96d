//! The grammars of spec values: names, durations, sizes, image references,
//! env keys, paths and nginx words. Each check says what would be valid, so a
//! value that its target format (shell, nginx, YAML) cannot carry never gets
//! past decoding.

use serde::Serialize;

/// Why a value was refused, and what would be accepted.
#[derive(Debug)]
pub struct Invalid {
    /// What is wrong with the value.
    pub message: String,
    /// What a valid value looks like.
    pub help: String,
}

/// An [`Invalid`] from its two parts.
pub(crate) fn invalid(message: impl Into<String>, help: impl Into<String>) -> Invalid {
    Invalid {
        message: message.into(),
        help: help.into(),
    }
}

/// Longest value accepted anywhere, so a runaway value is refused rather than rendered.
const MAX_VALUE_LEN: usize = 4096;

/// Rejects NUL, newlines and other control characters, and over-long values:
/// none of the output formats can carry them safely.
pub fn plain_text(value: &str, what: &str) -> Result<(), Invalid> {
    if value.len() > MAX_VALUE_LEN {
        return Err(invalid(
            format!("{what} is {} bytes long", value.len()),
            format!("keep it under {MAX_VALUE_LEN} bytes"),
        ));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(invalid(
            format!("{what} contains the control character {c:?}"),
            "remove newlines, tabs, NUL and other control characters",
        ));
    }
    if let Some(c) = value.chars().find(|c| is_invisible(*c)) {
        return Err(invalid(
            format!(
                "{what} contains the invisible character U+{:04X}",
                u32::from(c)
            ),
            "a reviewer reading the kit would not see it (bidi overrides, zero-width characters and line separators can make text read differently from what runs): remove it",
        ));
    }
    Ok(())
}

/// Format characters and separators that change how text is displayed
/// without being visible: bidi controls (Trojan Source), zero-width
/// characters, the BOM, soft hyphen and the Unicode line/paragraph separators.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{2069}'
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{FFFE}' | '\u{FFFF}')
}

/// A value that compose splits at `:` (volume parts) must not contain one.
pub fn no_colon(value: &str, what: &str) -> Result<(), Invalid> {
    if value.contains(':') {
        Err(invalid(
            format!("{what} `{}` contains `:`", value.escape_debug()),
            "compose splits volumes at `:`; use a path without it",
        ))
    } else {
        Ok(())
    }
}

/// A docker node label in a swarm placement: 1 to 63 of lowercase letters,
/// digits, `.` and `-`, a letter or digit first.
pub fn node_label(value: &str) -> Result<(), Invalid> {
    let mut chars = value.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-'));
    if first_ok && rest_ok && value.len() <= 63 {
        Ok(())
    } else {
        Err(invalid(
            format!("`{}` is not a node label", value.escape_debug()),
            "a node label is 1 to 63 of a-z 0-9 . - and starts with a letter or digit",
        ))
    }
}

/// Project, app, accessory, host and sidecar names: `[a-z][a-z0-9-]{0,39}`,
/// without `--` and not ending with `-`. They become compose project names,
/// container labels, file names and nginx names, so the grammar is the
/// intersection of all of those; nginx variables write `-` as `_` and join
/// project and app with `__`, which a `--` inside a name would make
/// ambiguous across the stacks sharing one nginx.
pub fn name(value: &str, what: &str) -> Result<(), Invalid> {
    let help =
        "use 1 to 40 characters: a lowercase letter first, then lowercase letters, digits or `-`";
    let mut chars = value.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !first_ok || !rest_ok || value.len() > 40 {
        return Err(invalid(
            format!("{what} `{}` is not a valid name", value.escape_debug()),
            help,
        ));
    }
    if value.ends_with('-') {
        return Err(invalid(format!("{what} `{value}` ends with `-`"), help));
    }
    if value.contains("--") {
        return Err(invalid(
            format!("{what} `{value}` contains `--`"),
            "use single `-` between letters and digits: nginx names join project and app with `__` (each `-` written `_`), so `--` could make two stacks on one nginx share a name",
        ));
    }
    Ok(())
}

/// A duration such as `500ms`, `3s` or `2m`, kept in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Millis(pub u64);

impl Millis {
    /// Whole seconds, rounded up (for tools that only take seconds).
    pub fn ceil_secs(self) -> u64 {
        self.0.div_ceil(1000)
    }
}

/// A duration as the spec writes it, with its value: PLAN.md shows the
/// text (`"2m"`, not `120000 ms`). It derefs to its [`Millis`], so the plan
/// reads `.0` off either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duration {
    /// The value.
    pub millis: Millis,
    /// The text as written, e.g. `90s`.
    pub text: String,
}

impl std::ops::Deref for Duration {
    type Target = Millis;

    fn deref(&self) -> &Millis {
        &self.millis
    }
}

/// What a valid duration looks like, for every error about one.
pub const DURATION_HELP: &str =
    "write a whole number and a unit: \"500ms\", \"3s\", \"2m\" or \"1h\"";

/// Parses a duration: a whole number followed by `ms`, `s`, `m` or `h`.
pub fn duration(value: &str) -> Result<Millis, Invalid> {
    let help = DURATION_HELP;
    let digits_end = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(digits_end);
    let factor = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => {
            return Err(invalid(
                format!("`{}` is not a duration", value.escape_debug()),
                help,
            ))
        }
    };
    let amount: u64 = number.parse().map_err(|_| {
        invalid(
            format!("`{}` is not a duration", value.escape_debug()),
            help,
        )
    })?;
    match amount.checked_mul(factor) {
        Some(ms) if ms <= 86_400_000 => Ok(Millis(ms)),
        _ => Err(invalid(
            format!("`{value}` is longer than a day"),
            "use a duration of at most 24h",
        )),
    }
}

/// A size such as `700m`, `1g` or `128k`, as docker and nginx both write it.
pub fn size(value: &str) -> Result<(), Invalid> {
    let help = "write a whole number and a unit: \"128k\", \"700m\" or \"1g\"";
    let Some(unit) = value.chars().last() else {
        return Err(invalid("the size is empty", help));
    };
    let number = &value[..value.len() - unit.len_utf8()];
    let unit_ok = matches!(unit.to_ascii_lowercase(), 'k' | 'm' | 'g');
    let number_ok =
        !number.is_empty() && number.len() <= 9 && number.chars().all(|c| c.is_ascii_digit());
    if unit_ok && number_ok {
        Ok(())
    } else {
        Err(invalid(
            format!("`{}` is not a size", value.escape_debug()),
            help,
        ))
    }
}

/// The grammar of an image tag as a regular expression that POSIX ERE (bash's
/// `=~`) and RE2 (adnanh/webhook's `regex` rule) read alike: deploy.sh and
/// the webhook kit file both print it from here, and [`tag`] checks the same.
pub const TAG_PATTERN: &str = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";

/// An image tag: [`TAG_PATTERN`] (the grammar deploy.sh also enforces on the
/// VERSION it is given).
pub fn tag(value: &str) -> Result<(), Invalid> {
    let mut chars = value.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if first_ok && rest_ok && value.len() <= 128 {
        Ok(())
    } else {
        Err(invalid(
            format!("`{}` is not a valid image tag", value.escape_debug()),
            "a tag is 1 to 128 of A-Z a-z 0-9 _ . - and does not start with . or -",
        ))
    }
}

/// An image digest, `sha256:` and 64 lowercase hex digits: what pins an
/// image to one content (a tag can be moved to another image; a digest cannot).
pub fn digest(value: &str) -> Result<(), Invalid> {
    let hex = value.strip_prefix("sha256:").unwrap_or_default();
    if hex.len() == 64 && hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
        Ok(())
    } else {
        Err(invalid(
            format!("`{}` is not an image digest", value.escape_debug()),
            "a digest is sha256: and 64 lowercase hex digits, as `docker inspect --format '{{index .RepoDigests 0}}'` prints it after the @",
        ))
    }
}

/// Splits a pinned image reference `name@sha256:…` at its `@`: the name and
/// the digest (None when the reference has no `@`).
pub fn split_digest(value: &str) -> (&str, Option<&str>) {
    match value.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (value, None),
    }
}

/// Splits an image reference into repository and optional tag: the tag is after
/// the last `:` that follows the last `/` (a registry port is not a tag).
pub fn split_image(value: &str) -> (&str, Option<&str>) {
    let last_slash = value.rfind('/').map_or(0, |i| i + 1);
    match value[last_slash..].rfind(':') {
        Some(i) => (&value[..last_slash + i], Some(&value[last_slash + i + 1..])),
        None => (value, None),
    }
}

/// An image repository, optionally with a registry host and port:
/// `registry.example:5000/team/app`. Components are lowercase
/// `[a-z0-9]+([._-][a-z0-9]+)*`; the registry may have dots, a port and uppercase.
pub fn image_repository(value: &str) -> Result<(), Invalid> {
    let help = "write it as [registry[:port]/]path/name in lowercase, e.g. \"10.0.0.5:8080/momo-api\" or \"redis\"";
    let bad = || {
        invalid(
            format!("`{}` is not a valid image name", value.escape_debug()),
            help,
        )
    };
    if value.is_empty() || value.len() > 255 {
        return Err(bad());
    }
    let mut parts: Vec<&str> = value.split('/').collect();
    let first = parts[0];
    let has_registry =
        parts.len() > 1 && (first.contains('.') || first.contains(':') || first == "localhost");
    if has_registry {
        let (host, port) = first.split_once(':').unwrap_or((first, ""));
        let host_ok = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        let port_ok = port.is_empty() && !first.contains(':')
            || (!port.is_empty() && port.parse::<u16>().is_ok());
        if !host_ok || !port_ok {
            return Err(bad());
        }
        parts.remove(0);
    }
    let component_ok = |c: &str| {
        !c.is_empty()
            && c.split(['.', '_', '-']).all(|piece| {
                !piece.is_empty()
                    && piece
                        .chars()
                        .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit())
            })
    };
    if parts.iter().all(|p| component_ok(p)) {
        Ok(())
    } else {
        Err(bad())
    }
}

/// An environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn env_key(value: &str) -> Result<(), Invalid> {
    let mut chars = value.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') && value.len() <= 255 {
        Ok(())
    } else {
        Err(invalid(
            format!(
                "`{}` is not a valid environment variable name",
                value.escape_debug()
            ),
            "use letters, digits and `_`, not starting with a digit",
        ))
    }
}

/// A file system path: plain text, and absolute when `absolute` is asked.
pub fn path(value: &str, what: &str, absolute: bool) -> Result<(), Invalid> {
    plain_text(value, what)?;
    if value.is_empty() {
        return Err(invalid(format!("{what} is empty"), "give a path"));
    }
    if absolute && !value.starts_with('/') {
        return Err(invalid(
            format!("{what} `{value}` is not absolute"),
            "start it with `/`",
        ));
    }
    Ok(())
}

/// A word nginx reads as one token (server names, paths in nginx directives):
/// no whitespace, quotes, `;`, `{`, `}`, `#`, `$` or `\`, so it cannot end a
/// directive, open a block, start a comment or expand a variable.
pub fn nginx_word(value: &str, what: &str) -> Result<(), Invalid> {
    plain_text(value, what)?;
    if value.is_empty() {
        return Err(invalid(format!("{what} is empty"), "give a value"));
    }
    if let Some(c) = value
        .chars()
        .find(|c| c.is_whitespace() || "\"';{}#$\\".contains(*c))
    {
        return Err(invalid(
            format!(
                "{what} contains `{}`, which nginx would read as syntax",
                c.escape_debug()
            ),
            "remove whitespace, quotes and ; { } # $ \\",
        ));
    }
    Ok(())
}

/// A server name: a host name, `*.` wildcard, or `_`; ASCII only so that a
/// look-alike letter cannot pass for the real domain.
pub fn server_name(value: &str) -> Result<(), Invalid> {
    nginx_word(value, "server-name")?;
    if let Some(c) = value.chars().find(|c| !c.is_ascii()) {
        return Err(invalid(
            format!(
                "server-name `{value}` contains the non-ASCII character `{c}` (U+{:04X})",
                u32::from(c)
            ),
            "a look-alike letter can pass for the real domain: write the name in ASCII, or its punycode form (xn--…)",
        ));
    }
    let ok = value == "_"
        || value
            .strip_prefix("*.")
            .unwrap_or(value)
            .split('.')
            .all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
    if ok {
        Ok(())
    } else {
        Err(invalid(
            format!("`{}` is not a valid server name", value.escape_debug()),
            "use an ASCII host name such as \"api.example.com\", \"*.example.com\" or \"_\"",
        ))
    }
}

/// A route location: an absolute URI path made of URL-safe characters.
pub fn location(value: &str) -> Result<(), Invalid> {
    let ok = value.starts_with('/')
        && value.len() <= 1024
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-._~%".contains(c));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            format!("`{}` is not a valid route path", value.escape_debug()),
            "start with `/` and use letters, digits and / - . _ ~ %",
        ))
    }
}

/// A user name for `user`: what useradd accepts by default, so that it is
/// also a plain word on a command line.
pub fn user(value: &str) -> Result<(), Invalid> {
    let mut chars = value.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c));
    if first_ok && rest_ok && value.len() <= 32 {
        Ok(())
    } else {
        Err(invalid(
            format!("`{}` is not a valid user name", value.escape_debug()),
            "use up to 32 characters: a lowercase letter or `_` first, then lowercase letters, digits, `_` or `-`",
        ))
    }
}

/// A health path: like a route, plus a query string of URL-safe characters.
pub fn health_path(value: &str) -> Result<(), Invalid> {
    let ok = value.starts_with('/')
        && value.len() <= 1024
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-._~%?=&+".contains(c));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            format!("`{}` is not a valid health path", value.escape_debug()),
            "start with `/` and use letters, digits and / - . _ ~ % ? = & +",
        ))
    }
}

/// The address part of a `listen` value: a port, `IPv4:port` or `[IPv6]:port`.
pub fn listen(value: &str) -> Result<(String, u16), Invalid> {
    let help = "write a port (80), \"127.0.0.1:8080\" or \"[::1]:8080\"";
    let bad = || {
        invalid(
            format!("`{}` is not a listen address", value.escape_debug()),
            help,
        )
    };
    let (addr, port) = value.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    if port == 0 {
        return Err(bad());
    }
    let addr_ok = match addr.strip_prefix('[').and_then(|a| a.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => addr.parse::<std::net::Ipv4Addr>().is_ok(),
    };
    if addr_ok {
        Ok((addr.to_string(), port))
    } else {
        Err(bad())
    }
}

/// An ssh destination `[user@]host` or `local`: user and host made of
/// characters ssh and nginx both take literally.
pub fn host_address(value: &str) -> Result<(), Invalid> {
    let help =
        "write \"local\", \"host\" or \"user@host\" (letters, digits, . - _ and IPv6 in [ ])";
    let bad = || {
        invalid(
            format!("`{}` is not a valid host address", value.escape_debug()),
            help,
        )
    };
    if value == "local" {
        return Ok(());
    }
    let (user, host) = value.split_once('@').unwrap_or(("", value));
    let user_ok = user
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && !user.starts_with('-');
    let host_ok = !host.is_empty()
        && !host.starts_with('-')
        && (host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
            || host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .is_some_and(|h| h.parse::<std::net::Ipv6Addr>().is_ok()));
    if user_ok && host_ok && value.len() <= 255 {
        Ok(())
    } else {
        Err(bad())
    }
}

/// A docker engine address: `tcp://host:port`, `ssh://[user@]host[:port]` or `unix:///path`.
pub fn docker_host(value: &str) -> Result<(), Invalid> {
    let help =
        "write \"tcp://10.0.0.7:2376\", \"ssh://user@host\" or \"unix:///var/run/docker.sock\"";
    let bad = || {
        invalid(
            format!("`{}` is not a docker engine address", value.escape_debug()),
            help,
        )
    };
    if let Some(rest) = value.strip_prefix("unix://") {
        return path(rest, "the socket path", true).map_err(|_| bad());
    }
    let rest = value
        .strip_prefix("tcp://")
        .or_else(|| value.strip_prefix("ssh://"))
        .ok_or_else(bad)?;
    let (addr, port) = match rest.rsplit_once(':') {
        Some((a, p)) if !a.ends_with(']') || p.parse::<u16>().is_ok() => (a, Some(p)),
        _ => (rest, None),
    };
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return Err(bad());
    }
    host_address(addr).map_err(|_| bad())
}

/// A command line for a hook or a process `start`: plain text without shell
/// syntax (it runs without a shell) whose `{…}` are only the placeholders
/// the runtime fills in.
pub fn command(value: &str, what: &str, placeholders: &[&str]) -> Result<(), Invalid> {
    plain_text(value, what)?;
    if value.trim().is_empty() {
        return Err(invalid(format!("{what} is empty"), "give a command"));
    }
    super::shell_syntax::refuse(value, what, placeholders)?;
    let mut rest = value;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| {
            invalid(
                format!("{what} has a `{{` that is not closed"),
                "placeholders are written {version}",
            )
        })?;
        let name = &after[..close];
        if !placeholders.contains(&name) {
            let known: Vec<String> = placeholders.iter().map(|p| format!("{{{p}}}")).collect();
            return Err(invalid(
                format!("unknown placeholder `{{{name}}}` in {what}"),
                format!("placeholders here are {}", known.join(", ")),
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("500ms").unwrap(), Millis(500));
        assert_eq!(duration("3s").unwrap(), Millis(3000));
        assert_eq!(duration("2m").unwrap(), Millis(120_000));
        for bad in [
            "",
            "3",
            "s",
            "1.5s",
            "-1s",
            "3 s",
            "99999999999999999999h",
            "25h",
        ] {
            assert!(duration(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn images_split_at_the_tag_not_the_registry_port() {
        assert_eq!(
            split_image("10.0.0.5:8080/momo-api"),
            ("10.0.0.5:8080/momo-api", None)
        );
        assert_eq!(split_image("redis:6.2.5"), ("redis", Some("6.2.5")));
        assert!(image_repository("10.0.0.5:8080/momo-api").is_ok());
        assert!(image_repository("ghcr.io/acme/web").is_ok());
        assert!(image_repository("Web").is_err());
        assert!(image_repository("web;rm").is_err());
        assert!(image_repository("a//b").is_err());
    }

    #[test]
    fn digests_are_sha256_and_64_lowercase_hex_digits() {
        let hex = "0123456789abcdef".repeat(4);
        assert!(digest(&format!("sha256:{hex}")).is_ok());
        for bad in [
            String::new(),
            "sha256:".into(),
            "sha256:xyz".into(),
            format!("sha256:{}", &hex[1..]),
            format!("sha256:{hex}0"),
            format!("sha256:{}", hex.to_uppercase()),
            format!("sha512:{hex}"),
            hex.clone(),
        ] {
            assert!(digest(&bad).is_err(), "{bad} should be refused");
        }
        assert_eq!(
            split_digest("redis:7.2@sha256:ab"),
            ("redis:7.2", Some("sha256:ab"))
        );
        assert_eq!(split_digest("redis:7.2"), ("redis:7.2", None));
    }

    #[test]
    fn nginx_words_refuse_syntax() {
        for bad in ["a;b", "a b", "a{", "a}", "#a", "a$b", "a\"b", "a\nb"] {
            assert!(nginx_word(bad, "x").is_err(), "{bad:?}");
        }
        assert!(server_name("dev-api.moyeora.site").is_ok());
        assert!(
            server_name("exаmple.com").is_err(),
            "Cyrillic а must be refused"
        );
    }

    #[test]
    fn placeholders_must_be_known() {
        assert!(command("run {version}", "x", &["version"]).is_ok());
        assert!(command("run {evil}", "x", &["version"]).is_err());
        assert!(command("run {version", "x", &["version"]).is_err());
        assert!(command("run {version} | tee log", "x", &["version"]).is_err());
    }
}
