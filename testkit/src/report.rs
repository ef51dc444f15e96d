//! Turns `gl-load` records into the JSON report and the failure timeline.

use crate::client::Failure;
use crate::json::{self, Object};
use crate::lanes::{Lane, Record};
use std::collections::BTreeMap;

/// A time window (unix ms, inclusive) to split latency figures on.
pub struct Window {
    /// Start of the window.
    pub start_ms: u64,
    /// End of the window.
    pub end_ms: u64,
}

impl Window {
    /// Reads a window file: two lines, start and end unix time in ms.
    pub fn read(path: &str) -> Result<Window, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let mut numbers = text.split_whitespace().map(str::parse::<u64>);
        match (numbers.next(), numbers.next()) {
            (Some(Ok(start_ms)), Some(Ok(end_ms))) => Ok(Window { start_ms, end_ms }),
            _ => Err(format!("{path} must hold two lines: start and end unix ms")),
        }
    }

    fn contains(&self, ms: u64) -> bool {
        (self.start_ms..=self.end_ms).contains(&ms)
    }
}

/// Everything the report states besides the records.
pub struct Meta<'a> {
    /// The `--url` given.
    pub url: &'a str,
    /// Target total requests/s.
    pub rate: f64,
    /// Slow lane sleep.
    pub slow_ms: u64,
    /// Unix ms when the run started.
    pub started_ms: u64,
    /// Unix ms when the last request finished.
    pub ended_ms: u64,
    /// `None` without `--window-file`; else the window or why it is unknown.
    pub window: Option<Result<Window, String>>,
}

/// Number of failures in `records`, optionally ignoring the POST reload race.
pub fn failures(records: &[Record], exclude_post_race: bool) -> usize {
    let post_race =
        |r: &Record| r.lane == Lane::PostKeepalive && r.result == Err(Failure::IdleKeepaliveClosed);
    records
        .iter()
        .filter(|r| r.result.is_err() && !(exclude_post_race && post_race(r)))
        .count()
}

/// The JSON report for `lanes` (in that order).
pub fn json(records: &[Record], lanes: &[Lane], meta: &Meta) -> String {
    let mut top = Object::new(0);
    top.field("started_ms", meta.started_ms)
        .field("ended_ms", meta.ended_ms)
        .field("url", json::string(meta.url))
        .field("rate", meta.rate)
        .field("slow_ms", meta.slow_ms);
    match &meta.window {
        None => {}
        Some(Ok(window)) => {
            top.field("window_start_ms", window.start_ms)
                .field("window_end_ms", window.end_ms);
        }
        Some(Err(why)) => {
            top.field("window_start_ms", "null")
                .field("window_end_ms", "null")
                .field("window_error", json::string(why));
        }
    }
    top.field("total_requests", records.len())
        .field("total_failures", failures(records, false))
        .field(
            "total_failures_excluding_post_reload_race",
            failures(records, true),
        );
    let mut by_lane = Object::new(1);
    for &lane in lanes {
        let mine: Vec<&Record> = records.iter().filter(|r| r.lane == lane).collect();
        by_lane.field(lane.name(), lane_json(&mine, meta.window.as_ref()));
    }
    top.field("lanes", by_lane.finish());
    top.finish() + "\n"
}

fn lane_json(records: &[&Record], window: Option<&Result<Window, String>>) -> String {
    let mut kinds = BTreeMap::new();
    let mut versions = BTreeMap::new();
    for record in records {
        match &record.result {
            Ok(version) => {
                *versions
                    .entry(version.as_deref().unwrap_or("(none)"))
                    .or_insert(0) += 1
            }
            Err(failure) => *kinds.entry(failure.kind()).or_insert(0) += 1,
        }
    }
    let all: Vec<f64> = records.iter().map(|r| r.latency_ms).collect();
    let mut lane = Object::new(2);
    lane.field("requests", records.len())
        .field("ok", records.iter().filter(|r| r.result.is_ok()).count())
        .field("failures", kinds.values().sum::<usize>())
        .field("failure_kinds", count_map(&kinds))
        .field("retries", records.iter().filter(|r| r.retried).count())
        .field("versions", count_map(&versions))
        .field("p50_ms", json::millis(percentile(all.clone(), 50.0)))
        .field("p99_ms", json::millis(percentile(all, 99.0)));
    match window {
        None => {}
        Some(Ok(window)) => {
            let (inside, outside): (Vec<&&Record>, Vec<&&Record>) =
                records.iter().partition(|r| window.contains(r.started_ms));
            let latencies = |rs: Vec<&&Record>| rs.iter().map(|r| r.latency_ms).collect();
            lane.field("window_requests", inside.len())
                .field(
                    "window_p99_ms",
                    json::millis(percentile(latencies(inside), 99.0)),
                )
                .field(
                    "outside_p99_ms",
                    json::millis(percentile(latencies(outside), 99.0)),
                );
        }
        Some(Err(_)) => {
            lane.field("window_requests", "null")
                .field("window_p99_ms", "null")
                .field("outside_p99_ms", "null");
        }
    }
    lane.finish()
}

/// A JSON object of counts; keys are escaped.
fn count_map<K: AsRef<str>>(counts: &BTreeMap<K, usize>) -> String {
    let body: Vec<String> = counts
        .iter()
        .map(|(key, count)| format!("{}: {count}", json::string(key.as_ref())))
        .collect();
    format!("{{{}}}", body.join(", "))
}

/// Nearest-rank percentile `p` of `values`, `None` when empty.
fn percentile(mut values: Vec<f64>, p: f64) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    values.get(rank.saturating_sub(1)).copied()
}

/// One line per failure, by start time: `time_ms lane kind`.
pub fn timeline(records: &[Record]) -> String {
    let mut failed: Vec<&Record> = records.iter().filter(|r| r.result.is_err()).collect();
    failed.sort_by_key(|r| r.started_ms);
    failed
        .iter()
        .filter_map(|r| r.result.as_ref().err().map(|f| (r, f)))
        .map(|(r, f)| format!("{} {} {}\n", r.started_ms, r.lane.name(), f.kind()))
        .collect()
}
