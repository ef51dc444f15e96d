//! One HTTP/1.1 request as a real client sends it, with every failure
//! classified (see [`Failure`]). No DNS: targets are numeric IPv4.

use crate::http::{self, Head};
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Where requests go: parsed from `http://IP:PORT[/prefix]`.
pub struct Target {
    addr: SocketAddr,
    host: String,
    base_path: String,
}

impl Target {
    /// Parses a base URL; the host must be a numeric IPv4 address or `localhost`.
    pub fn parse(url: &str) -> Result<Target, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or(format!("--url must start with http://, got {url:?}"))?;
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse().map_err(|_| format!("bad port in {url:?}"))?,
            ),
            None => (authority, 80),
        };
        let ip = match host {
            "localhost" => Ipv4Addr::LOCALHOST,
            _ => host.parse().map_err(|_| {
                format!("--url host must be numeric IPv4 or localhost, got {host:?}")
            })?,
        };
        Ok(Target {
            addr: SocketAddr::from((ip, port)),
            host: authority.to_string(),
            base_path: path.trim_end_matches('/').to_string(),
        })
    }

    /// Sends `host` as the Host header instead of the URL's authority (a
    /// name-based virtual host behind a numeric address).
    pub fn with_host_header(mut self, host: &str) -> Target {
        self.host = host.to_string();
        self
    }

    /// The request target for `path` (starting with `/`) under the URL's path prefix.
    pub fn path(&self, path: &str) -> String {
        format!("{}{path}", self.base_path)
    }
}

/// Why a request failed; [`Failure::kind`] is the name used in reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A complete response with a non-2xx status.
    Status(u16),
    /// The TCP connection was refused.
    ConnectRefused,
    /// The TCP connection was not established in time.
    ConnectTimeout,
    /// Any other error while connecting.
    ConnectError,
    /// Reset (or broken pipe) after the request started, on a fresh
    /// connection or after some response bytes arrived.
    ResetMidRequest,
    /// The per-request deadline passed after connecting.
    TimeoutMidRequest,
    /// Clean EOF before the response was complete.
    EofMidResponse,
    /// A reused idle keep-alive connection closed (EOF or reset) before any
    /// response byte: the keep-alive race seen around nginx reloads.
    IdleKeepaliveClosed,
    /// A response that is not valid HTTP/1.x.
    BadResponse,
}

impl Failure {
    /// The report name, e.g. `status:502` or `connect-refused`.
    pub fn kind(&self) -> String {
        match self {
            Failure::Status(code) => format!("status:{code}"),
            Failure::ConnectRefused => "connect-refused".into(),
            Failure::ConnectTimeout => "connect-timeout".into(),
            Failure::ConnectError => "connect-error".into(),
            Failure::ResetMidRequest => "reset-mid-request".into(),
            Failure::TimeoutMidRequest => "timeout-mid-request".into(),
            Failure::EofMidResponse => "eof-mid-response".into(),
            Failure::IdleKeepaliveClosed => "idle-keepalive-closed".into(),
            Failure::BadResponse => "bad-response".into(),
        }
    }
}

/// A request to send.
pub struct Request<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// Full request target, see [`Target::path`].
    pub target: String,
    /// Request body (sent with `Content-Length` when non-empty).
    pub body: &'a [u8],
    /// False sends `Connection: close`.
    pub keep_alive: bool,
}

/// An open connection that may be kept alive between requests.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// True once a response was received on it (it is being reused).
    reused: bool,
    /// True once any byte of the current response arrived.
    received: bool,
}

/// Sends `req` on the pooled connection if it is still open (checked the
/// way real clients do before reuse), else on a new one. Returns the
/// outcome (the `X-App-Version` header on success) and the connection when
/// it may be reused.
pub fn send(
    target: &Target,
    pooled: Option<Conn>,
    req: &Request,
    timeout: Duration,
) -> (Result<Option<String>, Failure>, Option<Conn>) {
    let deadline = Instant::now() + timeout;
    let conn = match pooled.filter(Conn::is_open) {
        Some(conn) => Ok(conn),
        None => Conn::open(target, deadline),
    };
    let mut conn = match conn {
        Ok(conn) => conn,
        Err(failure) => return (Err(failure), None),
    };
    match conn.round_trip(target, req, deadline) {
        Ok((status, version, reusable)) => {
            conn.reused = true;
            let result = match status {
                200..=299 => Ok(version),
                _ => Err(Failure::Status(status)),
            };
            (result, reusable.then_some(conn))
        }
        Err(failure) => (Err(failure), None),
    }
}

impl Conn {
    fn open(target: &Target, deadline: Instant) -> Result<Conn, Failure> {
        let timeout = deadline.saturating_duration_since(Instant::now());
        if timeout.is_zero() {
            return Err(Failure::ConnectTimeout);
        }
        let stream =
            TcpStream::connect_timeout(&target.addr, timeout).map_err(|e| match e.kind() {
                ErrorKind::ConnectionRefused => Failure::ConnectRefused,
                ErrorKind::TimedOut | ErrorKind::WouldBlock => Failure::ConnectTimeout,
                _ => Failure::ConnectError,
            })?;
        stream
            .set_nodelay(true)
            .map_err(|_| Failure::ConnectError)?;
        Ok(Conn {
            stream,
            buf: Vec::new(),
            reused: false,
            received: false,
        })
    }

    /// False if the peer already closed the idle connection (or sent stray bytes).
    fn is_open(&self) -> bool {
        let mut byte = [0u8; 1];
        let idle = self.stream.set_nonblocking(true).is_ok()
            && matches!(self.stream.peek(&mut byte), Err(e) if e.kind() == ErrorKind::WouldBlock);
        self.stream.set_nonblocking(false).is_ok() && idle
    }

    /// Writes the request and reads the whole response: (status, version header, reusable).
    fn round_trip(
        &mut self,
        target: &Target,
        req: &Request,
        deadline: Instant,
    ) -> Result<(u16, Option<String>, bool), Failure> {
        self.received = false;
        let mut wire = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: gl-load\r\n",
            req.method, req.target, target.host
        );
        if !req.body.is_empty() || req.method == "POST" {
            wire.push_str(&format!("Content-Length: {}\r\n", req.body.len()));
        }
        if !req.keep_alive {
            wire.push_str("Connection: close\r\n");
        }
        wire.push_str("\r\n");
        let mut wire = wire.into_bytes();
        wire.extend_from_slice(req.body);
        self.stream
            .set_write_timeout(Some(remaining(deadline)?))
            .map_err(|_| Failure::TimeoutMidRequest)?;
        self.stream
            .write_all(&wire)
            .map_err(|e| self.io_failure(e))?;

        let head_len = loop {
            if let Some(end) = http::head_end(&self.buf) {
                break end;
            }
            if self.buf.len() > http::MAX_HEAD {
                return Err(Failure::BadResponse);
            }
            self.fill_or_eof(deadline)?;
        };
        let head = Head::parse(&self.buf[..head_len]).ok_or(Failure::BadResponse)?;
        self.buf.drain(..head_len);
        let status = head.start[1].parse().map_err(|_| Failure::BadResponse)?;
        let mut reusable =
            req.keep_alive && head.start[0] == "HTTP/1.1" && !head.has_token("connection", "close");
        if head.has_token("transfer-encoding", "chunked") {
            self.read_chunked(deadline)?;
        } else {
            match head.content_length() {
                Ok(Some(length)) => self.read_exact(length, deadline)?,
                Ok(None) => {
                    self.read_to_eof(deadline)?;
                    reusable = false;
                }
                Err(_) => return Err(Failure::BadResponse),
            }
        }
        let version = head.header("x-app-version").map(str::to_string);
        Ok((status, version, reusable))
    }

    /// Reads more bytes; `Ok(0)` means EOF.
    fn fill(&mut self, deadline: Instant) -> Result<usize, Failure> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            self.stream
                .set_read_timeout(Some(remaining(deadline)?))
                .map_err(|_| Failure::TimeoutMidRequest)?;
            match self.stream.read(&mut chunk) {
                Ok(n) => {
                    self.received |= n > 0;
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io_failure(e)),
            }
        }
    }

    /// Reads more bytes where EOF would cut the response short.
    fn fill_or_eof(&mut self, deadline: Instant) -> Result<(), Failure> {
        match self.fill(deadline)? {
            0 if self.reused && !self.received => Err(Failure::IdleKeepaliveClosed),
            0 => Err(Failure::EofMidResponse),
            _ => Ok(()),
        }
    }

    fn io_failure(&self, e: std::io::Error) -> Failure {
        match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => Failure::TimeoutMidRequest,
            _ if self.reused && !self.received => Failure::IdleKeepaliveClosed,
            _ => Failure::ResetMidRequest,
        }
    }

    /// Consumes `length` body bytes.
    fn read_exact(&mut self, length: u64, deadline: Instant) -> Result<(), Failure> {
        let mut left = length;
        loop {
            let take = self
                .buf
                .len()
                .min(usize::try_from(left).unwrap_or(usize::MAX));
            self.buf.drain(..take);
            left -= take as u64;
            if left == 0 {
                return Ok(());
            }
            self.fill_or_eof(deadline)?;
        }
    }

    /// Consumes a chunked body including trailers.
    fn read_chunked(&mut self, deadline: Instant) -> Result<(), Failure> {
        loop {
            let line = self.read_line(deadline)?;
            let size = line.split(';').next().unwrap_or_default().trim();
            let size = u64::from_str_radix(size, 16).map_err(|_| Failure::BadResponse)?;
            if size == 0 {
                while !self.read_line(deadline)?.is_empty() {}
                return Ok(());
            }
            self.read_exact(size + 2, deadline)?;
        }
    }

    fn read_line(&mut self, deadline: Instant) -> Result<String, Failure> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..pos]).into_owned();
                self.buf.drain(..pos + 2);
                return Ok(line);
            }
            if self.buf.len() > http::MAX_HEAD {
                return Err(Failure::BadResponse);
            }
            self.fill_or_eof(deadline)?;
        }
    }

    /// Consumes a body delimited by the connection closing.
    fn read_to_eof(&mut self, deadline: Instant) -> Result<(), Failure> {
        loop {
            self.buf.clear();
            if self.fill(deadline)? == 0 {
                return Ok(());
            }
        }
    }
}

/// Time left before `deadline`, or the timeout failure once it passed.
fn remaining(deadline: Instant) -> Result<Duration, Failure> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(Failure::TimeoutMidRequest)
    } else {
        Ok(left)
    }
}
