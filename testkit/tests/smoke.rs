//! Self-test of the test kit: gl-testapp serves and drains, gl-load reports.
//! Every wait is bounded and every child process is killed on drop.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const APP: &str = env!("CARGO_BIN_EXE_gl-testapp");
const LOAD: &str = env!("CARGO_BIN_EXE_gl-load");

/// A child process killed (and reaped) when dropped, so failed tests leave nothing behind.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Guard {
    /// Waits for exit, failing the test after `limit`.
    fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "child {} still running after {limit:?}",
                self.0.id()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the (exited) child wrote to its piped stderr.
    fn stderr(&mut self) -> String {
        let mut text = String::new();
        if let Some(mut err) = self.0.stderr.take() {
            err.read_to_string(&mut text).expect("read stderr");
        }
        text
    }
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("smoke-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Starts gl-testapp on a free loopback port and waits until it is listening.
fn start_app(dir: &Path, version: &str, extra: &[&str], envs: &[(&str, &str)]) -> (Guard, u16) {
    let port = free_port();
    let ready = dir.join(format!("ready-{port}"));
    let child = Command::new(APP)
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--version",
            version,
        ])
        .arg("--ready-file")
        .arg(&ready)
        .args(extra)
        .envs(envs.iter().copied())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gl-testapp");
    let mut app = Guard(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready.exists() {
        assert!(
            app.0.try_wait().unwrap().is_none(),
            "gl-testapp exited early: {}",
            app.stderr()
        );
        assert!(Instant::now() < deadline, "gl-testapp not ready after 10 s");
        thread::sleep(Duration::from_millis(10));
    }
    let pid = std::fs::read_to_string(&ready).unwrap();
    assert_eq!(
        pid.trim(),
        app.0.id().to_string(),
        "ready file holds the pid"
    );
    (app, port)
}

/// Sends one raw request on `stream` and reads one response: (status, head, body).
fn exchange(stream: &mut TcpStream, request: &str) -> (u16, String, String) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        assert_eq!(
            stream.read(&mut byte).expect("read head"),
            1,
            "EOF inside head"
        );
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .expect("Content-Length")
        .parse()
        .unwrap();
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    let status = head[9..12].parse().unwrap();
    (status, head, String::from_utf8(body).unwrap())
}

fn get(port: u16, path: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    exchange(
        &mut stream,
        &format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
    )
}

extern "C" {
    fn kill(pid: i32, signal: i32) -> i32;
}

fn sigterm(child: &Guard) {
    // SAFETY: plain kill(2) on our own child's pid.
    assert_eq!(unsafe { kill(child.0.id() as i32, 15) }, 0, "kill -TERM");
}

/// Runs gl-load to completion (bounded) and returns its parsed report.
fn run_load(dir: &Path, load: Guard, limit: Duration) -> Json {
    let mut load = load;
    let status = load.wait(limit);
    assert!(
        status.success(),
        "gl-load failed: {status} {}",
        load.stderr()
    );
    parse_json(&std::fs::read_to_string(dir.join("report.json")).expect("report written"))
}

fn spawn_load(dir: &Path, port: u16, extra: &[&str]) -> Guard {
    let child = Command::new(LOAD)
        .args(["--url", &format!("http://127.0.0.1:{port}")])
        .arg("--report")
        .arg(dir.join("report.json"))
        .arg("--timeline")
        .arg(dir.join("timeline.txt"))
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gl-load");
    Guard(child)
}

const LANES: [&str; 4] = ["get-keepalive", "get-new-conn", "post-keepalive", "slow"];

#[test]
fn steady_load_has_no_failures_and_one_version() {
    let dir = scratch("steady");
    let (_app, port) = start_app(&dir, "v-smoke", &[], &[]);
    let window = dir.join("window");
    let now = unix_ms();
    std::fs::write(&window, format!("{}\n{}\n", now + 500, now + 1500)).unwrap();
    let load = spawn_load(
        &dir,
        port,
        &[
            "--duration-s",
            "2",
            "--rate",
            "150",
            "--slow-ms",
            "200",
            "--window-file",
            window.to_str().unwrap(),
        ],
    );
    let report = run_load(&dir, load, Duration::from_secs(30));
    assert_eq!(report.get("total_failures").num(), 0.0);
    assert_eq!(
        report
            .get("total_failures_excluding_post_reload_race")
            .num(),
        0.0
    );
    assert!(report.get("ended_ms").num() >= report.get("started_ms").num() + 2000.0);
    for lane in LANES {
        let stats = report.get("lanes").get(lane);
        let requests = stats.get("requests").num();
        assert!(requests >= 4.0, "{lane}: only {requests} requests");
        assert_eq!(stats.get("ok").num(), requests, "{lane}");
        assert_eq!(stats.get("failures").num(), 0.0, "{lane}");
        assert_eq!(stats.get("versions").keys(), ["v-smoke"], "{lane}");
        assert_eq!(
            stats.get("versions").get("v-smoke").num(),
            requests,
            "{lane}"
        );
        assert!(
            stats.get("p99_ms").num() >= stats.get("p50_ms").num(),
            "{lane}"
        );
        assert!(
            stats.get("window_requests").num() > 0.0,
            "{lane}: nothing in window"
        );
        assert!(stats.get("window_p99_ms").num() > 0.0, "{lane}");
    }
    let slow_p50 = report.get("lanes").get("slow").get("p50_ms").num();
    assert!(slow_p50 >= 200.0, "slow lane p50 {slow_p50} < slow_ms");
    assert_eq!(
        std::fs::read_to_string(dir.join("timeline.txt")).unwrap(),
        ""
    );
}

#[test]
fn sigterm_drains_in_flight_requests_then_exits_zero() {
    let dir = scratch("drain");
    let (mut app, port) = start_app(&dir, "v-drain", &[], &[]);
    let stop = dir.join("stop");
    let load = spawn_load(
        &dir,
        port,
        &[
            "--stop-file",
            stop.to_str().unwrap(),
            "--rate",
            "150",
            "--slow-ms",
            "1000",
        ],
    );
    // An idle keep-alive connection, and a slow request still running at SIGTERM.
    let mut idle = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (status, _, _) = exchange(&mut idle, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(status, 200);
    let slow = thread::spawn(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        exchange(&mut stream, "GET /slow?ms=3000 HTTP/1.1\r\nHost: t\r\n\r\n")
    });
    thread::sleep(Duration::from_millis(1500));
    sigterm(&app);

    // The listener closes at once ...
    let deadline = Instant::now() + Duration::from_secs(2);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "still accepting connections after SIGTERM"
        );
        thread::sleep(Duration::from_millis(10));
    }
    // ... idle keep-alive connections are closed ...
    let mut rest = Vec::new();
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(
        idle.read_to_end(&mut rest)
            .expect("idle connection closed, not timed out"),
        0
    );
    // ... and the in-flight request is answered, marked Connection: close.
    let (status, head, body) = slow.join().unwrap();
    assert_eq!((status, body.as_str()), (200, "version=v-drain\n"));
    assert!(
        head.contains("Connection: close\r\n"),
        "drained response not closing: {head}"
    );
    assert!(
        app.wait(Duration::from_secs(10)).success(),
        "gl-testapp exit status after drain"
    );
    let log = app.stderr();
    assert!(log.contains("start version=v-drain"), "{log}");
    assert!(
        log.contains("stop version=v-drain") && log.contains("signal=SIGTERM"),
        "{log}"
    );

    std::fs::write(&stop, "").unwrap();
    let report = run_load(&dir, load, Duration::from_secs(30));
    let slow_lane = report.get("lanes").get("slow");
    assert!(
        slow_lane.get("ok").num() >= 2.0,
        "slow lane ok: {:?}",
        slow_lane
    );
    for lane in LANES {
        let kinds = report.get("lanes").get(lane).get("failure_kinds").keys();
        let allowed: &[&str] = match lane {
            // The POST reload race is the only loss a client cannot retry away.
            "post-keepalive" => &["connect-refused", "idle-keepalive-closed"],
            _ => &["connect-refused"],
        };
        assert!(
            kinds.iter().all(|k| allowed.contains(k)),
            "{lane}: unexpected failures {kinds:?}"
        );
    }
    let timeline = std::fs::read_to_string(dir.join("timeline.txt")).unwrap();
    assert_eq!(
        timeline.lines().count() as f64,
        report.get("total_failures").num()
    );
    assert!(
        timeline.lines().all(|l| l.split(' ').count() == 3),
        "{timeline}"
    );
}

/// A server that answers the first request on each connection and closes
/// the connection on receiving the second: the keep-alive reload race.
fn racy_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            thread::spawn(move || {
                let mut byte = [0u8; 1];
                let mut read_request = |stream: &mut TcpStream| {
                    let mut head = Vec::new();
                    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                        head.push(byte[0]);
                    }
                    let head = String::from_utf8_lossy(&head).to_string();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .map_or(0, |n| n.parse().unwrap());
                    stream.read_exact(&mut vec![0u8; length]).is_ok()
                };
                if read_request(&mut stream) {
                    let reply =
                        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-App-Version: racy\r\n\r\nok\n";
                    let _ = stream.write_all(reply.as_bytes());
                    read_request(&mut stream);
                }
            });
        }
    });
    port
}

#[test]
fn keepalive_race_is_retried_for_get_but_not_post() {
    let dir = scratch("race");
    let port = racy_server();
    let load = spawn_load(
        &dir,
        port,
        &[
            "--duration-s",
            "1",
            "--rate",
            "40",
            "--lanes",
            "get-keepalive,post-keepalive",
        ],
    );
    let report = run_load(&dir, load, Duration::from_secs(30));
    let get = report.get("lanes").get("get-keepalive");
    assert!(
        get.get("retries").num() > 0.0,
        "GETs were not retried: {get:?}"
    );
    assert_eq!(get.get("failures").num(), 0.0, "{get:?}");
    let post = report.get("lanes").get("post-keepalive");
    assert_eq!(post.get("retries").num(), 0.0, "a POST was retried");
    assert_eq!(post.get("failure_kinds").keys(), ["idle-keepalive-closed"]);
    assert_eq!(
        post.get("failures").num(),
        report.get("total_failures").num()
    );
    assert_eq!(
        report
            .get("total_failures_excluding_post_reload_race")
            .num(),
        0.0
    );
    assert!(report.get("lanes").keys() == ["get-keepalive", "post-keepalive"]);
}

#[test]
fn routes_and_keep_alive() {
    let dir = scratch("routes");
    let (_app, port) = start_app(&dir, "v-r", &[], &[]);
    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (status, head, body) = exchange(&mut conn, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!((status, body.as_str()), (200, "version=v-r\n"));
    assert!(head.contains("X-App-Version: v-r\r\n"), "{head}");
    let post = "POST /anything HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello";
    assert_eq!(exchange(&mut conn, post).2, "version=v-r posted=5\n");
    assert_eq!(
        exchange(&mut conn, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n").0,
        200
    );
    assert_eq!(
        exchange(&mut conn, "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n").0,
        404
    );
    let echoed = exchange(
        &mut conn,
        "GET /headers HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
    );
    assert_eq!(
        (echoed.0, echoed.2.as_str()),
        (200, "host: t\nx-forwarded-for: 1.2.3.4\n")
    );
    let (status, head, _) = exchange(
        &mut conn,
        "GET /slow?ms=50 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200);
    assert!(head.contains("Connection: close\r\n"));
    conn.shutdown(Shutdown::Write).unwrap();
    assert_eq!(
        conn.read(&mut [0u8; 1]).unwrap(),
        0,
        "closed after Connection: close"
    );
}

#[test]
fn broken_modes() {
    let mut exits = Guard(
        Command::new(APP)
            .args(["--listen", "127.0.0.1:0", "--broken", "exit-at-boot"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert_eq!(exits.wait(Duration::from_secs(10)).code(), Some(3));
    assert!(exits.stderr().contains("exit-at-boot"));

    let dir = scratch("broken");
    let (_app, port) = start_app(
        &dir,
        "v-bad",
        &[],
        &[("APP_BROKEN", "unhealthy"), ("APP_HEALTH_PATH", "/ready")],
    );
    let (status, _, body) = get(port, "/ready");
    assert_eq!((status, body.as_str()), (503, "unhealthy\n"));
    assert_eq!(get(port, "/").0, 200, "other paths stay healthy");
}

#[test]
fn unhealthy_while_a_flag_file_exists() {
    let dir = scratch("unhealthy-if");
    let flag = dir.join("down-v7");
    let pattern = dir.join("down-{version}");
    let (_app, port) = start_app(
        &dir,
        "v7",
        &["--unhealthy-if", pattern.to_str().unwrap()],
        &[],
    );
    assert_eq!(get(port, "/healthz").0, 200, "healthy without the file");
    std::fs::write(&flag, "").unwrap();
    let (status, _, body) = get(port, "/healthz");
    assert_eq!(
        (status, body.as_str()),
        (503, "unhealthy\n"),
        "with the file"
    );
    assert_eq!(get(port, "/").0, 200, "other paths stay healthy");
    // Another version's file is not ours.
    let (_other, other_port) = start_app(
        &dir,
        "v8",
        &[],
        &[("APP_UNHEALTHY_IF", pattern.to_str().unwrap())],
    );
    assert_eq!(get(other_port, "/healthz").0, 200, "v8 ignores down-v7");
    std::fs::remove_file(&flag).unwrap();
    assert_eq!(get(port, "/healthz").0, 200, "healthy again once removed");
}

#[test]
fn host_header_is_sent_as_given() {
    // A one-shot server that records the request head it gets.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap() == 1 {
            head.push(byte[0]);
        }
        conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .unwrap();
        String::from_utf8(head).unwrap()
    });
    let dir = scratch("host-header");
    let load = spawn_load(
        &dir,
        port,
        &[
            "--duration-s",
            "0.3",
            "--rate",
            "5",
            "--lanes",
            "get-new-conn",
            "--host-header",
            "momo.test",
        ],
    );
    let head = server.join().unwrap();
    assert!(head.contains("\r\nHost: momo.test\r\n"), "{head}");
    drop(load);
}

#[test]
fn bad_arguments_exit_2() {
    for (bin, args) in [
        (APP, &["--broken", "sometimes"][..]),
        (APP, &["--nope", "1"][..]),
        (LOAD, &["--url", "http://127.0.0.1:1"][..]),
        (
            LOAD,
            &["--url", "http://example.com", "--duration-s", "1"][..],
        ),
        (
            LOAD,
            &[
                "--url",
                "http://127.0.0.1:1",
                "--duration-s",
                "1",
                "--lanes",
                "bogus",
            ][..],
        ),
    ] {
        let mut child = Guard(
            Command::new(bin)
                .args(args)
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        assert_eq!(
            child.wait(Duration::from_secs(10)).code(),
            Some(2),
            "{bin} {args:?}"
        );
    }
}

/// Just enough JSON to check the report is valid and read it back.
#[derive(Debug)]
enum Json {
    Null,
    Num(f64),
    Str(String),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(fields) => {
                &fields
                    .iter()
                    .find(|(k, _)| k == key)
                    .unwrap_or_else(|| panic!("no {key:?} in {self:?}"))
                    .1
            }
            _ => panic!("not an object: {self:?}"),
        }
    }

    fn num(&self) -> f64 {
        match self {
            Json::Num(n) => *n,
            _ => panic!("not a number: {self:?}"),
        }
    }

    fn keys(&self) -> Vec<&str> {
        match self {
            Json::Obj(fields) => fields.iter().map(|(k, _)| k.as_str()).collect(),
            _ => panic!("not an object: {self:?}"),
        }
    }
}

fn parse_json(text: &str) -> Json {
    let mut parser = Parser {
        text,
        s: text.as_bytes(),
        i: 0,
    };
    let value = parser.value();
    parser.ws();
    assert_eq!(parser.i, text.len(), "trailing text in report");
    check_unique_keys(&value);
    value
}

fn check_unique_keys(value: &Json) {
    if let Json::Obj(fields) = value {
        let mut keys = BTreeSet::new();
        for (key, inner) in fields {
            assert!(keys.insert(key), "duplicate key {key:?}");
            check_unique_keys(inner);
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> u8 {
        self.ws();
        *self.s.get(self.i).expect("unexpected end of JSON")
    }

    fn value(&mut self) -> Json {
        match self.peek() {
            b'{' => {
                self.i += 1;
                let mut fields = Vec::new();
                if self.peek() == b'}' {
                    self.i += 1;
                    return Json::Obj(fields);
                }
                loop {
                    let Json::Str(key) = self.value() else {
                        panic!("object key at {}", self.i)
                    };
                    assert_eq!(self.peek(), b':', "colon at {}", self.i);
                    self.i += 1;
                    fields.push((key, self.value()));
                    match self.peek() {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            return Json::Obj(fields);
                        }
                        c => panic!("unexpected {:?} at {}", c as char, self.i),
                    }
                }
            }
            b'"' => {
                self.i += 1;
                let mut out = String::new();
                loop {
                    let c = self.s[self.i];
                    self.i += 1;
                    match c {
                        b'"' => return Json::Str(out),
                        b'\\' => {
                            let escaped = self.s[self.i];
                            self.i += 1;
                            out.push(match escaped {
                                b'"' => '"',
                                b'\\' => '\\',
                                b'/' => '/',
                                b'n' => '\n',
                                b'r' => '\r',
                                b't' => '\t',
                                b'u' => {
                                    let hex =
                                        std::str::from_utf8(&self.s[self.i..self.i + 4]).unwrap();
                                    self.i += 4;
                                    char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap()
                                }
                                other => panic!("bad escape {:?}", other as char),
                            });
                        }
                        c if c < 0x20 => panic!("raw control character in string"),
                        _ => {
                            let c = self.text[self.i - 1..].chars().next().unwrap();
                            out.push(c);
                            self.i += c.len_utf8() - 1;
                        }
                    }
                }
            }
            b'n' => {
                assert_eq!(&self.s[self.i..self.i + 4], b"null");
                self.i += 4;
                Json::Null
            }
            _ => {
                let start = self.i;
                while matches!(
                    self.s.get(self.i),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.i]).unwrap();
                Json::Num(
                    text.parse()
                        .unwrap_or_else(|_| panic!("bad number {text:?} at {start}")),
                )
            }
        }
    }
}

/// `gl-testapp probe URL`, a swarm task's healthcheck: 0 on a 2xx, 1 on
/// another status or no answer.
#[test]
fn probe_passes_on_2xx_only() {
    let dir = scratch("probe");
    let probe = |port: u16| {
        Command::new(APP)
            .args(["probe", &format!("http://127.0.0.1:{port}/healthz")])
            .stderr(Stdio::null())
            .status()
            .expect("run gl-testapp probe")
            .code()
    };
    let (healthy, port) = start_app(&dir, "v1", &[], &[]);
    assert_eq!(probe(port), Some(0), "a healthy app");
    drop(healthy);
    let (_unhealthy, port) = start_app(&dir, "v1", &["--broken", "unhealthy"], &[]);
    assert_eq!(probe(port), Some(1), "an app answering 503");
    assert_eq!(probe(free_port()), Some(1), "nothing listening");
}
