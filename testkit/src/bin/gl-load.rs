//! `gl-load`: keeps steady HTTP traffic flowing (through nginx) on four
//! lanes and reports every dropped request as JSON. Exits 0 after writing
//! the report, 2 on bad arguments.

use greenlight_testkit::cli::{self, Flags};
use greenlight_testkit::client::Target;
use greenlight_testkit::lanes::{self, Lane, Plan};
use greenlight_testkit::report::{self, Meta, Window};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: gl-load --url http://IP:PORT (--duration-s N | --stop-file PATH)
       [--rate N (400)] [--slow-ms N (1500)] [--lanes get-keepalive,get-new-conn,post-keepalive,slow]
       [--report PATH (stdout)] [--window-file PATH] [--timeline PATH] [--host-header NAME]";

/// Every run ends after this long, whatever the flags say.
const HARD_CAP: Duration = Duration::from_secs(600);
/// How often the stop file is looked for.
const STOP_POLL: Duration = Duration::from_millis(50);

struct Options {
    url: String,
    plan: Plan,
    run_for: Duration,
    stop_file: Option<PathBuf>,
    report: Option<String>,
    window_file: Option<String>,
    timeline: Option<String>,
}

fn parse_options(args: Vec<String>) -> Result<Options, String> {
    let flags = Flags::parse(
        args,
        &[
            "url",
            "duration-s",
            "stop-file",
            "rate",
            "report",
            "slow-ms",
            "lanes",
            "window-file",
            "timeline",
            "host-header",
        ],
    )?;
    let url = flags.get("url", None).ok_or("--url is required")?;
    let duration = flags.parsed::<f64>("duration-s", None)?;
    let stop_file = flags.get("stop-file", None).map(PathBuf::from);
    if duration.is_none() && stop_file.is_none() {
        return Err("give --duration-s, --stop-file or both".into());
    }
    let run_for = match duration {
        Some(secs) if secs.is_finite() && secs > 0.0 => {
            Duration::from_secs_f64(secs.min(HARD_CAP.as_secs_f64()))
        }
        Some(_) => return Err("--duration-s must be a positive number".into()),
        None => HARD_CAP,
    };
    let rate = flags.parsed::<f64>("rate", None)?.unwrap_or(400.0);
    if !(rate.is_finite() && rate > 0.0) {
        return Err("--rate must be a positive number".into());
    }
    let mut target = Target::parse(&url)?;
    if let Some(host) = flags.get("host-header", None) {
        if host.is_empty()
            || host
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(format!(
                "--host-header must be a plain host name, got {host:?}"
            ));
        }
        target = target.with_host_header(&host);
    }
    let lanes = match flags.get("lanes", None) {
        None => Lane::ALL.to_vec(),
        Some(list) => list
            .split(',')
            .map(|name| Lane::from_name(name.trim()).ok_or(format!("unknown lane {name:?}")))
            .collect::<Result<Vec<_>, _>>()?,
    };
    Ok(Options {
        plan: Plan {
            target,
            lanes,
            rate,
            slow_ms: flags.parsed("slow-ms", None)?.unwrap_or(1500),
        },
        url,
        run_for,
        stop_file,
        report: flags.get("report", None),
        window_file: flags.get("window-file", None),
        timeline: flags.get("timeline", None),
    })
}

/// Raises `stop` once the duration passed or the stop file exists.
fn watch(options: &Options, stop: &AtomicBool) {
    let began = Instant::now();
    while began.elapsed() < options.run_for
        && !options.stop_file.as_ref().is_some_and(|f| f.exists())
    {
        thread::sleep(STOP_POLL);
    }
    stop.store(true, Ordering::SeqCst);
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if cli::wants_help(&args) {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let options = match parse_options(args) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("gl-load: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let started_ms = lanes::unix_ms();
    let stop = AtomicBool::new(false);
    let records = thread::scope(|scope| {
        scope.spawn(|| watch(&options, &stop));
        lanes::run(&options.plan, &stop)
    });
    let meta = Meta {
        url: &options.url,
        rate: options.plan.rate,
        slow_ms: options.plan.slow_ms,
        started_ms,
        ended_ms: lanes::unix_ms(),
        window: options.window_file.as_deref().map(Window::read),
    };
    let json = report::json(&records, &options.plan.lanes, &meta);
    eprintln!(
        "gl-load: {} requests, {} failures ({} excluding the POST reload race)",
        records.len(),
        report::failures(&records, false),
        report::failures(&records, true)
    );
    let written = match &options.report {
        Some(path) => std::fs::write(path, &json).map_err(|e| format!("cannot write {path}: {e}")),
        None => {
            print!("{json}");
            Ok(())
        }
    };
    let written = written.and_then(|()| match &options.timeline {
        Some(path) => std::fs::write(path, report::timeline(&records))
            .map_err(|e| format!("cannot write {path}: {e}")),
        None => Ok(()),
    });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gl-load: {e}");
            ExitCode::FAILURE
        }
    }
}
