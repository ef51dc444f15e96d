//! The HTTP/1.1 server inside `gl-testapp`: a thread per connection,
//! keep-alive, and a graceful drain once a stop signal arrives.

use crate::http::{self, Head};
use crate::{poll, signals};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// How often the accept loop and idle connections look at the stop flag.
const POLL: Duration = Duration::from_millis(20);
/// Keep-alive connections silent for this long are closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// During a drain, a connection that has sent nothing yet gets this long to
/// send its first request (it may have been accepted from the backlog).
const FIRST_REQUEST_GRACE: Duration = Duration::from_millis(200);
/// Longest `/slow` sleep honoured.
const MAX_SLOW: Duration = Duration::from_secs(600);

/// How the app answers.
pub struct App {
    /// Reported in bodies and the `X-App-Version` header.
    pub version: String,
    /// Path of the health endpoint.
    pub health_path: String,
    /// Status the health endpoint returns while healthy.
    pub health_status: u16,
    /// When set, the health endpoint answers 503 forever.
    pub unhealthy: bool,
    /// A request target (path and query) that answers 500: an app whose
    /// health says 200 while a real page fails, for tests of `verify`.
    pub error_path: Option<String>,
    /// While this file exists, the health endpoint answers 503 (looked at
    /// on every health request).
    pub unhealthy_if: Option<std::path::PathBuf>,
}

impl App {
    /// Whether the health endpoint answers 503 now.
    fn is_unhealthy(&self) -> bool {
        self.unhealthy || self.unhealthy_if.as_ref().is_some_and(|path| path.exists())
    }
}

/// Serves until SIGTERM/SIGINT, then closes the listener and waits (at most
/// `drain_limit`) for open connections to finish their requests. Returns the
/// number of connections still open when it gave up (0 after a clean drain).
pub fn serve(listener: TcpListener, app: Arc<App>, drain_limit: Duration) -> io::Result<usize> {
    let live = Arc::new(AtomicUsize::new(0));
    listener.set_nonblocking(true)?;
    loop {
        let stopping = signals::received().is_some();
        match listener.accept() {
            Ok((stream, _)) => spawn_connection(stream, &app, &live),
            // Once stopping, the backlog is empty: close the listener.
            Err(e) if e.kind() == ErrorKind::WouldBlock && stopping => break,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                poll::readable(&listener, POLL)?;
            }
            Err(e) => {
                eprintln!("gl-testapp: accept failed: {e}");
                thread::sleep(POLL);
            }
        }
    }
    drop(listener);
    let deadline = Instant::now() + drain_limit;
    while live.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        thread::sleep(POLL);
    }
    Ok(live.load(Ordering::SeqCst))
}

/// Counts a connection as live until its thread finishes.
struct LiveGuard(Arc<AtomicUsize>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn spawn_connection(stream: TcpStream, app: &Arc<App>, live: &Arc<AtomicUsize>) {
    live.fetch_add(1, Ordering::SeqCst);
    let guard = LiveGuard(Arc::clone(live));
    let app = Arc::clone(app);
    thread::spawn(move || {
        let _guard = guard;
        // Errors just end the connection; the peer sees it closed.
        let _ = Connection::new(stream, app).and_then(|mut conn| conn.run());
    });
}

/// One client connection and its unread bytes.
struct Connection {
    app: Arc<App>,
    stream: TcpStream,
    buf: Vec<u8>,
    opened: Instant,
    last_read: Instant,
    served: u64,
}

/// What a handler produces.
struct Response {
    status: u16,
    body: String,
    /// Forces `Connection: close` (e.g. after a malformed request).
    close: bool,
}

impl Response {
    fn new(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            body: body.into(),
            close: false,
        }
    }
}

impl Connection {
    fn new(stream: TcpStream, app: Arc<App>) -> io::Result<Connection> {
        stream.set_nonblocking(false)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(POLL))?;
        stream.set_write_timeout(Some(Duration::from_secs(30)))?;
        Ok(Connection {
            app,
            stream,
            buf: Vec::new(),
            opened: Instant::now(),
            last_read: Instant::now(),
            served: 0,
        })
    }

    /// Answers requests until the client or the server closes the connection.
    fn run(&mut self) -> io::Result<()> {
        loop {
            let Some(head_len) = self.read_head()? else {
                return Ok(());
            };
            let Some(head) = Head::parse(&self.buf[..head_len]) else {
                return self.respond_error(400, "malformed request head");
            };
            self.buf.drain(..head_len);
            if head.header("transfer-encoding").is_some() {
                return self.respond_error(501, "chunked request bodies are not supported");
            }
            let Ok(length) = head.content_length() else {
                return self.respond_error(400, "bad content-length");
            };
            let length = length.unwrap_or(0);
            if length > 0 && head.has_token("expect", "100-continue") {
                self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
            }
            let posted = self.skip_body(length)?;
            let [method, _, version] = &head.start;
            let mut response = route(&self.app, &head, posted);
            let keep_alive = if version == "HTTP/1.0" {
                head.has_token("connection", "keep-alive")
            } else {
                !head.has_token("connection", "close")
            };
            response.close |= !keep_alive || signals::received().is_some();
            self.write(&response, method == "HEAD")?;
            self.served += 1;
            if response.close {
                return Ok(());
            }
        }
    }

    /// Reads until a full head is buffered; `None` when the connection should
    /// simply close (peer closed, idle timeout, or idle during a drain).
    fn read_head(&mut self) -> io::Result<Option<usize>> {
        loop {
            if let Some(end) = http::head_end(&self.buf) {
                return Ok(Some(end));
            }
            if self.buf.len() > http::MAX_HEAD {
                self.respond_error(431, "request head too large")?;
                return Ok(None);
            }
            let idle = self.buf.is_empty();
            let in_grace = self.served == 0 && self.opened.elapsed() < FIRST_REQUEST_GRACE;
            if idle && signals::received().is_some() && !in_grace {
                return Ok(None);
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Reads and discards a request body of `length` bytes, returning its size.
    fn skip_body(&mut self, length: u64) -> io::Result<u64> {
        let mut remaining = length;
        loop {
            let buffered = self.buf.len().min(remaining as usize);
            self.buf.drain(..buffered);
            remaining -= buffered as u64;
            if remaining == 0 {
                return Ok(length);
            }
            if !self.fill()? {
                return Err(ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Reads more bytes into the buffer. `Ok(false)` on EOF or idle timeout;
    /// a poll timeout without data returns `Ok(true)` so callers re-check state.
    fn fill(&mut self) -> io::Result<bool> {
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => Ok(false),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                self.last_read = Instant::now();
                Ok(true)
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Ok(self.last_read.elapsed() < IDLE_TIMEOUT)
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => Ok(true),
            Err(e) => Err(e),
        }
    }

    fn respond_error(&mut self, status: u16, why: &str) -> io::Result<()> {
        let mut response = Response::new(status, format!("{why}\n"));
        response.close = true;
        self.write(&response, false)
    }

    fn write(&mut self, response: &Response, head_only: bool) -> io::Result<()> {
        let status = response.status;
        let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
        out.push_str("Content-Type: text/plain\r\n");
        out.push_str(&format!("X-App-Version: {}\r\n", self.app.version));
        // RFC 9110: no body (and for 204 no Content-Length) on 204/304.
        let bodyless = status == 204 || status == 304;
        if status != 204 {
            let length = if bodyless { 0 } else { response.body.len() };
            out.push_str(&format!("Content-Length: {length}\r\n"));
        }
        if response.close {
            out.push_str("Connection: close\r\n");
        }
        out.push_str("\r\n");
        if !head_only && !bodyless {
            out.push_str(&response.body);
        }
        self.stream.write_all(out.as_bytes())
    }
}

/// Chooses the answer for one request (sleeping for `/slow`).
fn route(app: &App, head: &Head, posted: u64) -> Response {
    let [method, target, _] = &head.start;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let version_body = format!("version={}\n", app.version);
    match method.as_str() {
        "POST" => Response::new(200, format!("version={} posted={posted}\n", app.version)),
        "GET" | "HEAD" if path == app.health_path && app.is_unhealthy() => {
            Response::new(503, "unhealthy\n")
        }
        "GET" | "HEAD" if path == app.health_path => Response::new(app.health_status, "ok\n"),
        "GET" | "HEAD" if app.error_path.as_deref() == Some(target) => {
            Response::new(500, "broken page\n")
        }
        "GET" | "HEAD" if path == "/" => Response::new(200, version_body),
        // What reached the app, for tests of what a proxy forwards.
        "GET" | "HEAD" if path == "/headers" => Response::new(200, echo_headers(head)),
        "GET" | "HEAD" if path == "/slow" => match slow_millis(query) {
            Some(ms) => {
                thread::sleep(Duration::from_millis(ms).min(MAX_SLOW));
                Response::new(200, version_body)
            }
            None => Response::new(400, "expected /slow?ms=N\n"),
        },
        "GET" | "HEAD" => Response::new(404, "not found\n"),
        _ => Response::new(405, "method not allowed\n"),
    }
}

/// The request's headers, one `name: value` line each (names lowercased).
fn echo_headers(head: &Head) -> String {
    head.headers()
        .iter()
        .map(|(name, value)| format!("{name}: {value}\n"))
        .collect()
}

/// The `ms` parameter of a `/slow` query string.
fn slow_millis(query: &str) -> Option<u64> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("ms="))
        .and_then(|ms| ms.parse().ok())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
