//! `health "/path" { … }` inside an app: the gate a new color must pass.

use super::keywords::Keyword;
use super::{check, duration_node, values, NodeReader, Spanned};
use crate::diagnostic::Problems;

/// `health "/path" { … }`: the gate a new color must pass before it gets traffic.
#[derive(Debug, Clone)]
pub struct HealthSpec {
    /// The path probed on each host of the new color.
    pub path: Spanned<String>,
    /// The expected status; any 2xx when absent.
    pub expect: Option<u16>,
    /// Time between probes.
    pub interval: Option<Spanned<values::Duration>>,
    /// Bound of one probe.
    pub timeout: Option<Spanned<values::Duration>>,
    /// Give up after this long.
    pub deadline: Option<Spanned<values::Duration>>,
    /// Consecutive successes needed.
    pub healthy_after: Option<u32>,
}

/// The keywords of a `health` block.
#[derive(Debug, Clone, Copy)]
enum HealthKeyword {
    Expect,
    Interval,
    Timeout,
    Deadline,
    HealthyAfter,
}

const HEALTH_KEYWORDS: &[Keyword<HealthKeyword>] = &[
    Keyword::once("expect", HealthKeyword::Expect),
    Keyword::once("interval", HealthKeyword::Interval),
    Keyword::once("timeout", HealthKeyword::Timeout),
    Keyword::once("deadline", HealthKeyword::Deadline),
    Keyword::once("healthy-after", HealthKeyword::HealthyAfter),
];

pub(super) fn health_node(problems: &mut Problems, r: &NodeReader) -> Option<HealthSpec> {
    r.shape(
        problems,
        1,
        1,
        &[],
        "health \"/healthz\" { interval \"1s\" }",
    );
    let path = r
        .string_arg(problems, 0)
        .filter(|p| check(problems, p.span, values::health_path(&p.value)));
    let mut health = HealthSpec {
        path: path
            .clone()
            .unwrap_or_else(|| Spanned::new(String::new(), r.span())),
        expect: None,
        interval: None,
        timeout: None,
        deadline: None,
        healthy_after: None,
    };
    for (keyword, node) in r.children(problems, HEALTH_KEYWORDS) {
        let c = NodeReader::new(node);
        match keyword {
            HealthKeyword::Expect => {
                c.shape(problems, 1, 1, &[], "expect 200");
                c.no_children(problems);
                health.expect = c.int_arg(problems, 0, 100, 599).map(|s| s.value as u16);
            }
            HealthKeyword::Interval => {
                health.interval = duration_node(problems, &c, "interval \"1s\"")
            }
            HealthKeyword::Timeout => {
                health.timeout = duration_node(problems, &c, "timeout \"2s\"")
            }
            HealthKeyword::Deadline => {
                health.deadline = duration_node(problems, &c, "deadline \"120s\"")
            }
            HealthKeyword::HealthyAfter => {
                c.shape(problems, 1, 1, &[], "healthy-after 3");
                c.no_children(problems);
                health.healthy_after = c.int_arg(problems, 0, 1, 100).map(|n| n.value as u32);
            }
        }
    }
    path.map(|_| health)
}
