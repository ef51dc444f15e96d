//! IP address grammars: the proxies nginx trusts to name the client, and
//! the address a machine publishes ports on.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::values::{invalid, Invalid};

/// A `trusted-proxies` value: an IPv4 or IPv6 address, or a network
/// `ADDRESS/BITS`, as nginx's `set_real_ip_from` takes it. A `/0` network
/// is refused: trusting every address would let any client pick the
/// address the app is told.
pub fn trusted_proxy(value: &str) -> Result<(), Invalid> {
    let help =
        "write an address (\"10.0.0.5\", \"fd00::5\") or a network (\"10.0.0.0/8\", \"fd00::/8\")";
    let bad = || {
        invalid(
            format!("`{}` is not an address or network", value.escape_debug()),
            help,
        )
    };
    let (address, bits) = match value.split_once('/') {
        Some((address, bits)) => (address, Some(bits)),
        None => (value, None),
    };
    let max_bits = match address.parse::<IpAddr>().map_err(|_| bad())? {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    };
    let Some(bits) = bits else { return Ok(()) };
    if bits.is_empty() || bits.len() > 3 || !bits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match bits.parse::<u8>().map_err(|_| bad())? {
        0 => Err(invalid(
            format!("`{value}` trusts every address"),
            "any client could then choose the address the app is told: name the networks your load balancers are in",
        )),
        n if n > max_bits => Err(bad()),
        _ => Ok(()),
    }
}

/// A `bind=` value: one IPv4 address, or an IPv6 address in `[ ]`, as
/// compose writes the host part of a published port. Not the unspecified
/// address (`0.0.0.0`, `[::]`): that publishes on every interface, the
/// path around nginx this setting exists to close.
pub fn bind_address(value: &str) -> Result<(), Invalid> {
    let help = "write an IP address of that machine: \"10.0.0.11\", or \"[fd00::11]\"";
    let ip = match value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        Some(v6) => v6.parse::<Ipv6Addr>().map(IpAddr::V6),
        None => value.parse::<Ipv4Addr>().map(IpAddr::V4),
    }
    .map_err(|_| {
        invalid(
            format!("`{}` is not an IP address", value.escape_debug()),
            help,
        )
    })?;
    if ip.is_unspecified() {
        return Err(invalid(
            format!("`{value}` publishes on every address of the machine"),
            "clients would reach the app directly, around nginx and TLS (docker's port forwarding passes the host firewall): write the address nginx reaches the machine at",
        ));
    }
    Ok(())
}

/// The address part of a host address (`10.0.0.11`, `[fd00::11]`) as a
/// bind address, when it is an IP; None for a name.
pub fn as_bind_address(host: &str) -> Option<String> {
    bind_address(host).ok().map(|()| host.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies() {
        for ok in [
            "10.0.0.5",
            "10.0.0.0/8",
            "fd00::/8",
            "::1",
            "192.168.1.0/24",
        ] {
            assert!(trusted_proxy(ok).is_ok(), "{ok}");
        }
        for bad in [
            "0.0.0.0/0",
            "::/0",
            "10.0.0.0/33",
            "fd00::/129",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "lb.internal",
            "unix:",
            "[fd00::1]",
            "10.0.0.1;",
            "",
        ] {
            assert!(trusted_proxy(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bind_addresses() {
        for ok in ["127.0.0.1", "10.0.0.11", "[fd00::11]", "[::1]"] {
            assert!(bind_address(ok).is_ok(), "{ok}");
        }
        for bad in [
            "0.0.0.0",
            "[::]",
            "fd00::11",
            "was1",
            "10.0.0.11:80",
            "",
            "[10.0.0.1]",
        ] {
            assert!(bind_address(bad).is_err(), "{bad}");
        }
        assert_eq!(as_bind_address("10.0.0.11").as_deref(), Some("10.0.0.11"));
        assert_eq!(as_bind_address("was1.internal"), None);
    }
}
