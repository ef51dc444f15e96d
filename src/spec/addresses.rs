//! IP address grammars: the proxies nginx trusts to name the client.

use std::net::IpAddr;

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
}
