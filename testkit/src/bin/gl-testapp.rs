//! `gl-testapp`: the app under deployment in greenlight end-to-end tests.
//! Serves its version over HTTP/1.1 and drains gracefully on SIGTERM/SIGINT.
//! Every flag has an environment-variable twin (what a container gets).

use greenlight_testkit::cli::{self, Flags};
use greenlight_testkit::server::{self, App};
use greenlight_testkit::signals;
use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: gl-testapp probe http://HOST:PORT/PATH   (exit 0 on a 2xx answer within 2 s: a docker healthcheck)
       gl-testapp [--listen ADDR | --port N] [--version V] [--health-path P]
       [--health-status N] [--boot-delay-ms N] [--broken exit-at-boot|unhealthy] [--ready-file PATH]
       [--error-path P] [--crash-after-ms N] [--unhealthy-if PATH]
env twins: APP_LISTEN, PORT, APP_VERSION, APP_HEALTH_PATH, APP_HEALTH_STATUS,
           APP_BOOT_DELAY_MS, APP_BROKEN, APP_READY_FILE, APP_ERROR_PATH,
           APP_CRASH_AFTER_MS, APP_UNHEALTHY_IF (flags win)
--error-path answers 500 on that request target (path and query); --crash-after-ms exits (status 4)
that long after it starts serving, as a release that dies once live does; --unhealthy-if makes
the health endpoint answer 503 while PATH exists (looked at on every health request; `{version}`
in PATH stands for the version), as a release that is broken on one machine only.";

/// Longest wait for in-flight requests after a stop signal.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);

/// A deliberately broken deployment.
#[derive(PartialEq)]
enum Broken {
    ExitAtBoot,
    Unhealthy,
}

struct Config {
    listen: SocketAddr,
    version: String,
    health_path: String,
    health_status: u16,
    boot_delay: Duration,
    broken: Option<Broken>,
    ready_file: Option<String>,
    error_path: Option<String>,
    crash_after: Option<Duration>,
    unhealthy_if: Option<String>,
}

fn parse_config(args: Vec<String>) -> Result<Config, String> {
    let flags = Flags::parse(
        args,
        &[
            "listen",
            "port",
            "version",
            "health-path",
            "health-status",
            "boot-delay-ms",
            "broken",
            "ready-file",
            "error-path",
            "crash-after-ms",
            "unhealthy-if",
        ],
    )?;
    // Precedence: --listen, --port, APP_LISTEN, PORT, then the default.
    let listen = if let Some(addr) = flags.get("listen", None) {
        parse_addr(&addr)?
    } else if let Some(port) = flags.parsed::<u16>("port", None)? {
        SocketAddr::from(([0, 0, 0, 0], port))
    } else if let Some(addr) = flags.get("listen", Some("APP_LISTEN")) {
        parse_addr(&addr)?
    } else {
        let port = flags.parsed::<u16>("port", Some("PORT"))?.unwrap_or(8080);
        SocketAddr::from(([0, 0, 0, 0], port))
    };
    let health_path = flags
        .get("health-path", Some("APP_HEALTH_PATH"))
        .unwrap_or_else(|| "/healthz".to_string());
    if !health_path.starts_with('/') {
        return Err(format!(
            "--health-path must start with '/': {health_path:?}"
        ));
    }
    let health_status = flags
        .parsed::<u16>("health-status", Some("APP_HEALTH_STATUS"))?
        .unwrap_or(200);
    if !(200..=599).contains(&health_status) {
        return Err(format!(
            "--health-status must be 200..=599, got {health_status}"
        ));
    }
    let broken = match flags.get("broken", Some("APP_BROKEN")).as_deref() {
        None => None,
        Some("exit-at-boot") => Some(Broken::ExitAtBoot),
        Some("unhealthy") => Some(Broken::Unhealthy),
        Some(other) => {
            return Err(format!(
                "--broken must be exit-at-boot or unhealthy, got {other:?}"
            ))
        }
    };
    let version = flags
        .get("version", Some("APP_VERSION"))
        .unwrap_or_else(|| "dev".to_string());
    let unhealthy_if = flags
        .get("unhealthy-if", Some("APP_UNHEALTHY_IF"))
        .map(|path| path.replace("{version}", &version));
    Ok(Config {
        listen,
        version,
        health_path,
        health_status,
        boot_delay: Duration::from_millis(
            flags
                .parsed("boot-delay-ms", Some("APP_BOOT_DELAY_MS"))?
                .unwrap_or(0),
        ),
        broken,
        ready_file: flags.get("ready-file", Some("APP_READY_FILE")),
        error_path: flags.get("error-path", Some("APP_ERROR_PATH")),
        crash_after: flags
            .parsed::<u64>("crash-after-ms", Some("APP_CRASH_AFTER_MS"))?
            .map(Duration::from_millis),
        unhealthy_if,
    })
}

/// Numeric `IP:PORT` only (no DNS, so static glibc is safe); `localhost` maps to 127.0.0.1.
fn parse_addr(addr: &str) -> Result<SocketAddr, String> {
    let numeric = match addr.strip_prefix("localhost:") {
        Some(port) => format!("127.0.0.1:{port}"),
        None => addr.to_string(),
    };
    numeric
        .parse()
        .map_err(|_| format!("--listen expects a numeric IP:PORT, got {addr:?}"))
}

/// Writes our pid to `path` atomically (temp file + rename), so readers never see it half-written.
fn write_ready_file(path: &str) -> std::io::Result<()> {
    let tmp = format!("{path}.tmp");
    std::fs::write(&tmp, format!("{}\n", std::process::id()))?;
    std::fs::rename(tmp, path)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if cli::wants_help(&args) {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if let [command, url] = args.as_slice() {
        if command == "probe" {
            return probe(url);
        }
    }
    let config = match parse_config(args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("gl-testapp: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (version, pid) = (config.version.clone(), std::process::id());
    if config.broken == Some(Broken::ExitAtBoot) {
        eprintln!("gl-testapp: version={version} pid={pid} exiting at boot (broken=exit-at-boot)");
        return ExitCode::from(3);
    }
    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gl-testapp: version={version} pid={pid} failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One GET of `url` (http://HOST:PORT/PATH), for a docker healthcheck in a
/// FROM scratch image: success on a 2xx status within 2 s.
fn probe(url: &str) -> ExitCode {
    use std::io::{Read, Write};
    let Some((authority, path)) = url.strip_prefix("http://").map(|rest| {
        rest.split_once('/')
            .map_or((rest, "/".to_string()), |(a, p)| (a, format!("/{p}")))
    }) else {
        eprintln!("gl-testapp probe: not an http:// URL: {url}");
        return ExitCode::from(2);
    };
    let answer = (|| -> std::io::Result<String> {
        let addr: SocketAddr = authority
            .parse()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{e}")))?;
        let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n")?;
        let mut head = [0u8; 64];
        let n = stream.read(&mut head)?;
        Ok(String::from_utf8_lossy(&head[..n]).into_owned())
    })();
    match answer {
        Ok(head)
            if head
                .split(' ')
                .nth(1)
                .is_some_and(|code| code.starts_with('2')) =>
        {
            ExitCode::SUCCESS
        }
        Ok(head) => {
            eprintln!(
                "gl-testapp probe: {url} answered {:?}",
                head.lines().next().unwrap_or("")
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("gl-testapp probe: {url}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(config: Config) -> Result<(), String> {
    let pid = std::process::id();
    let version = config.version.clone();
    signals::install().map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let booted = Instant::now() + config.boot_delay;
    while Instant::now() < booted {
        if let Some(signal) = signals::received() {
            eprintln!("gl-testapp: stop version={version} pid={pid} signal={signal} during boot");
            return Ok(());
        }
        thread::sleep(
            booted
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(20)),
        );
    }
    let listener = TcpListener::bind(config.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    if let Some(path) = &config.ready_file {
        write_ready_file(path).map_err(|e| format!("cannot write ready file {path}: {e}"))?;
    }
    eprintln!("gl-testapp: start version={version} pid={pid} listen={local}");
    let app = Arc::new(App {
        version: config.version,
        health_path: config.health_path,
        health_status: config.health_status,
        unhealthy: config.broken == Some(Broken::Unhealthy),
        error_path: config.error_path,
        unhealthy_if: config.unhealthy_if.map(std::path::PathBuf::from),
    });
    if let Some(after) = config.crash_after {
        let version = version.clone();
        thread::spawn(move || {
            thread::sleep(after);
            eprintln!("gl-testapp: version={version} pid={pid} crashing (crash-after-ms)");
            std::process::exit(4);
        });
    }
    let serving = Instant::now();
    let left = server::serve(listener, app, DRAIN_LIMIT).map_err(|e| e.to_string())?;
    let signal = signals::received().unwrap_or("none");
    eprintln!(
        "gl-testapp: stop version={version} pid={pid} signal={signal} unfinished_connections={left} served_ms={}",
        serving.elapsed().as_millis()
    );
    Ok(())
}
