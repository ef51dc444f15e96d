//! `host "NAME" address="user@addr" ssh-port=22 bind="10.0.0.11"`

use super::{addresses, check, values, NodeReader, Spanned};
use crate::diagnostic::{Problems, SpecError};

/// A machine the stack runs on, reached over ssh unless its address is `local`.
#[derive(Debug)]
pub struct HostSpec {
    /// The host's name, used by `hosts` and `proxy { on … }`.
    pub name: Spanned<String>,
    /// `[user@]address`, or `local`.
    pub address: Spanned<String>,
    /// `ssh-port=`; the plan fills the default when absent.
    pub ssh_port: Option<u16>,
    /// `bind=`: the IP this machine publishes container ports on, when it
    /// is not the one in its address.
    pub bind: Option<Spanned<String>>,
}

const USAGE: &str = "host \"was1\" address=\"ubuntu@10.0.0.11\" ssh-port=22 bind=\"10.0.0.11\"";

/// Decodes one `host` node.
pub fn decode(problems: &mut Problems, reader: &NodeReader) -> Option<HostSpec> {
    reader.shape(problems, 1, 1, &["address", "ssh-port", "bind"], USAGE);
    reader.no_children(problems);
    // An invalid name or address is reported and kept, so that `hosts` and `on`
    // naming this host do not also report it as unknown.
    let name = reader.string_arg(problems, 0);
    if let Some(name) = &name {
        check(problems, name.span, values::name(&name.value, "host name"));
    }
    let address = reader.string_prop(problems, "address");
    if address.is_none() {
        problems.push(
            SpecError::new(
                reader.span(),
                "`host` needs an `address`",
                "missing address=",
            )
            .help(format!("write it as: {USAGE} (or address=\"local\")")),
        );
    }
    if let Some(address) = &address {
        check(problems, address.span, values::host_address(&address.value));
    }
    let ssh_port = reader
        .int_prop(problems, "ssh-port", 1, 65535)
        .map(|p| p.value as u16);
    let bind = bind_prop(problems, reader);
    if let (Some(bind), Some(address)) = (&bind, &address) {
        if address.value == "local" {
            problems.push(
                SpecError::new(
                    bind.span,
                    "a local host publishes on 127.0.0.1",
                    "cannot apply",
                )
                .also(address.span, "the machine that runs deploy.sh")
                .help("deploy.sh and nginx reach this machine's ports on 127.0.0.1: remove bind="),
            );
        }
    }
    Some(HostSpec {
        name: name?,
        address: address?,
        ssh_port,
        bind,
    })
}

/// A checked `bind=` property (of `host` or `docker-host`).
pub fn bind_prop(problems: &mut Problems, reader: &NodeReader) -> Option<Spanned<String>> {
    reader
        .string_prop(problems, "bind")
        .filter(|b| check(problems, b.span, addresses::bind_address(&b.value)))
}
