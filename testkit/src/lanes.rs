//! The four traffic lanes of `gl-load`, each driven by its own threads and
//! paced with sleeps so the fast lanes together send about `rate` requests/s.

use crate::client::{self, Conn, Failure, Request, Target};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Threads per lane (for `slow`, also the most requests in flight).
const WORKERS_PER_LANE: usize = 2;
/// Kept-alive connections per worker, used round-robin.
const CONNS_PER_WORKER: usize = 2;
/// Per-request timeout (the slow lane adds its sleep to this).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// A worker further behind schedule than this skips the missed slots.
const MAX_LAG: Duration = Duration::from_secs(1);
/// Pause after a failed slow request, so a dead backend is not hammered.
const SLOW_FAILURE_PAUSE: Duration = Duration::from_millis(100);
/// Body of `post-keepalive` requests.
const POST_BODY: &[u8] = b"gl-load=post-keepalive&padding=0123456789abcdef";

/// A kind of traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// `GET /` on kept-alive connections.
    GetKeepalive,
    /// `GET /` on a new connection per request.
    GetNewConn,
    /// `POST /` with a small body on kept-alive connections (never retried).
    PostKeepalive,
    /// `GET /slow?ms=N`, at most two in flight, new connection each.
    Slow,
}

impl Lane {
    /// Every lane, in report order.
    pub const ALL: [Lane; 4] = [
        Lane::GetKeepalive,
        Lane::GetNewConn,
        Lane::PostKeepalive,
        Lane::Slow,
    ];

    /// The lane's name in flags and reports.
    pub fn name(self) -> &'static str {
        match self {
            Lane::GetKeepalive => "get-keepalive",
            Lane::GetNewConn => "get-new-conn",
            Lane::PostKeepalive => "post-keepalive",
            Lane::Slow => "slow",
        }
    }

    /// The lane called `name`, if any.
    pub fn from_name(name: &str) -> Option<Lane> {
        Lane::ALL.into_iter().find(|lane| lane.name() == name)
    }
}

/// One finished request (after its retry, if any).
pub struct Record {
    /// Which lane sent it.
    pub lane: Lane,
    /// Unix time in ms when it started.
    pub started_ms: u64,
    /// Wall time until it finished, retry included.
    pub latency_ms: f64,
    /// The `X-App-Version` header of a 2xx response, or why it failed.
    pub result: Result<Option<String>, Failure>,
    /// True if it was retried once on a new connection.
    pub retried: bool,
}

/// What to send.
pub struct Plan {
    /// Base URL.
    pub target: Target,
    /// Lanes to run.
    pub lanes: Vec<Lane>,
    /// Total requests/s, split evenly between the enabled fast lanes.
    pub rate: f64,
    /// Sleep requested from the app by the slow lane.
    pub slow_ms: u64,
}

/// Runs every lane until `stop` is set and in-flight requests finish.
pub fn run(plan: &Plan, stop: &AtomicBool) -> Vec<Record> {
    let fast_lanes = plan
        .lanes
        .iter()
        .filter(|&&lane| lane != Lane::Slow)
        .count();
    let interval = Duration::from_secs_f64((WORKERS_PER_LANE * fast_lanes) as f64 / plan.rate);
    thread::scope(|scope| {
        let workers: Vec<_> = plan
            .lanes
            .iter()
            .flat_map(|&lane| (0..WORKERS_PER_LANE).map(move |_| lane))
            .map(|lane| scope.spawn(move || worker(plan, lane, interval, stop)))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("lane worker panicked"))
            .collect()
    })
}

/// Unix time now, in milliseconds.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

/// One lane thread: paced (fast lanes) or back-to-back (slow lane).
fn worker(plan: &Plan, lane: Lane, interval: Duration, stop: &AtomicBool) -> Vec<Record> {
    let mut records = Vec::new();
    let mut pool: Vec<Option<Conn>> = (0..CONNS_PER_WORKER).map(|_| None).collect();
    let mut next = Instant::now();
    for turn in 0.. {
        if lane != Lane::Slow {
            sleep_until(next, stop);
            next += interval;
            let now = Instant::now();
            if now.saturating_duration_since(next) > MAX_LAG {
                next = now;
            }
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let record = request(plan, lane, &mut pool[turn % CONNS_PER_WORKER]);
        if lane == Lane::Slow && record.result.is_err() {
            sleep_until(Instant::now() + SLOW_FAILURE_PAUSE, stop);
        }
        records.push(record);
    }
    records
}

/// Sends one request of `lane`, retrying an idempotent GET once on a new
/// connection if a reused idle keep-alive connection turned out closed.
fn request(plan: &Plan, lane: Lane, slot: &mut Option<Conn>) -> Record {
    let slow_path = format!("/slow?ms={}", plan.slow_ms);
    let (method, path, body, keep_alive, timeout) = match lane {
        Lane::GetKeepalive => ("GET", "/", &b""[..], true, REQUEST_TIMEOUT),
        Lane::GetNewConn => ("GET", "/", &b""[..], false, REQUEST_TIMEOUT),
        Lane::PostKeepalive => ("POST", "/", POST_BODY, true, REQUEST_TIMEOUT),
        Lane::Slow => {
            let timeout = REQUEST_TIMEOUT + Duration::from_millis(plan.slow_ms);
            ("GET", slow_path.as_str(), &b""[..], false, timeout)
        }
    };
    let req = Request {
        method,
        target: plan.target.path(path),
        body,
        keep_alive,
    };
    let started_ms = unix_ms();
    let began = Instant::now();
    let (mut result, mut conn) = client::send(&plan.target, slot.take(), &req, timeout);
    let retried = method == "GET" && result == Err(Failure::IdleKeepaliveClosed);
    if retried {
        (result, conn) = client::send(&plan.target, None, &req, timeout);
    }
    *slot = conn;
    Record {
        lane,
        started_ms,
        latency_ms: began.elapsed().as_secs_f64() * 1000.0,
        result,
        retried,
    }
}

/// Sleeps until `when`, waking early if `stop` is set.
fn sleep_until(when: Instant, stop: &AtomicBool) {
    loop {
        let left = when.saturating_duration_since(Instant::now());
        if left.is_zero() || stop.load(Ordering::SeqCst) {
            return;
        }
        thread::sleep(left.min(Duration::from_millis(50)));
    }
}
