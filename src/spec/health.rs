//! `health "/path" { … }` inside an app: the gate a new color must pass.

use super::container::command_node;
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
    /// Swarm: the command docker runs in each task to check it (exec form).
    pub check: Option<Spanned<Vec<String>>>,
    /// Swarm: how long a task may fail its checks while it boots.
    pub start_period: Option<Spanned<values::Duration>>,
}

/// The keywords of a `health` block.
#[derive(Debug, Clone, Copy)]
enum HealthKeyword {
    Expect,
    Interval,
    Timeout,
    Deadline,
    HealthyAfter,
    Check,
    StartPeriod,
}

const HEALTH_KEYWORDS: &[Keyword<HealthKeyword>] = &[
    Keyword::once("expect", HealthKeyword::Expect),
    Keyword::once("interval", HealthKeyword::Interval),
    Keyword::once("timeout", HealthKeyword::Timeout),
    Keyword::once("deadline", HealthKeyword::Deadline),
    Keyword::once("healthy-after", HealthKeyword::HealthyAfter),
    Keyword::once("check", HealthKeyword::Check),
    Keyword::once("start-period", HealthKeyword::StartPeriod),
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
        check: None,
        start_period: None,
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
            HealthKeyword::Check => {
                let argv = command_node(problems, &c, "check \"/app/healthcheck\" \"--quiet\"");
                if !argv.is_empty() {
                    health.check = Some(Spanned::new(argv, c.span()));
                }
            }
            HealthKeyword::StartPeriod => {
                health.start_period = duration_node(problems, &c, "start-period \"30s\"")
            }
        }
    }
    path.map(|_| health)
}
