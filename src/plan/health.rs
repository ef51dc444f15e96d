//! The health gate of an app: its probe timings, defaulted and checked.

use super::defaults::{
    HEALTHY_AFTER, HEALTH_DEADLINE_MS, HEALTH_EXPECT_ANY_2XX, HEALTH_INTERVAL_MS,
    HEALTH_TIMEOUT_MS, START_PERIOD_MS,
};
use super::durations;
use super::model::Health;
use crate::diagnostic::{Problems, SpecError};
use crate::spec;

/// The gate as written, with defaults; timings it cannot honour are
/// reported. `port` is where a swarm task's default check asks.
pub(super) fn health(h: &spec::HealthSpec, port: u16, problems: &mut Problems) -> Health {
    let interval_ms = h
        .interval
        .as_ref()
        .map_or(HEALTH_INTERVAL_MS, |d| d.value.0);
    let timeout_ms = h.timeout.as_ref().map_or(HEALTH_TIMEOUT_MS, |d| d.value.0);
    let deadline_ms = h
        .deadline
        .as_ref()
        .map_or(HEALTH_DEADLINE_MS, |d| d.value.0);
    for (value, what) in [(&h.interval, "interval"), (&h.timeout, "timeout")] {
        if let Some(v) = value {
            if v.value.0 < 10 {
                problems.push(
                    SpecError::new(
                        v.span,
                        format!("a health {what} under 10ms cannot be honoured"),
                        "too short",
                    )
                    .help("use at least \"10ms\""),
                );
            }
        }
    }
    if let Some(deadline) = &h.deadline {
        if deadline.value.0 < interval_ms {
            problems.push(
                SpecError::new(deadline.span, "the health deadline is shorter than the interval", "too short")
                    .help(format!("give the gate time for at least one probe: a deadline of at least {interval_ms}ms")),
            );
        }
    }
    Health {
        path: h.path.value.clone(),
        expect: h.expect.unwrap_or(HEALTH_EXPECT_ANY_2XX),
        interval_ms,
        timeout_ms,
        deadline_ms,
        interval_text: durations::text(h.interval.as_ref(), HEALTH_INTERVAL_MS),
        timeout_text: durations::text(h.timeout.as_ref(), HEALTH_TIMEOUT_MS),
        deadline_text: durations::text(h.deadline.as_ref(), HEALTH_DEADLINE_MS),
        healthy_after: h.healthy_after.unwrap_or(HEALTHY_AFTER),
        check: h
            .check
            .as_ref()
            .map_or_else(|| default_check(port, &h.path.value), |c| c.value.clone()),
        start_period_ms: h
            .start_period
            .as_ref()
            .map_or(START_PERIOD_MS, |d| d.value.0),
    }
}

/// The check docker runs in a swarm task when the spec gives none: curl,
/// as most images with a shell have it, failing on a status of 400 or more.
fn default_check(port: u16, path: &str) -> Vec<String> {
    ["curl", "--fail", "--silent", "--output", "/dev/null"]
        .into_iter()
        .map(String::from)
        .chain([format!("http://127.0.0.1:{port}{path}")])
        .collect()
}
