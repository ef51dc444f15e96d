//! Shared helpers for the integration tests: the example specs, kits rendered
//! into temporary directories, external tools that are required in CI, and
//! (`images`) the docker images the end-to-end tests deploy.

#![allow(dead_code)] // each test binary uses a different subset

pub mod images;
pub mod nginx;

use std::path::{Path, PathBuf};
use std::process::Command;

use camino::Utf8PathBuf;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every example spec under specs/, sorted.
pub fn example_specs() -> Vec<Utf8PathBuf> {
    let mut specs: Vec<Utf8PathBuf> = std::fs::read_dir(root().join("specs"))
        .expect("specs/ exists")
        .map(|e| Utf8PathBuf::from_path_buf(e.unwrap().path()).unwrap())
        .filter(|p| p.extension() == Some("kdl"))
        .collect();
    specs.sort();
    assert!(
        specs.len() >= 5,
        "expected the five example specs, found {specs:?}"
    );
    specs
}

/// Renders a spec's kit (manifest included) in memory.
pub fn render(spec: &Utf8PathBuf) -> (greenlight::Loaded, greenlight::render::Kit) {
    let loaded =
        greenlight::load(spec, None).unwrap_or_else(|e| panic!("{spec} does not load: {e:?}"));
    let kit = greenlight::kit(&loaded.plan, greenlight::render::TemplateSource::default())
        .expect("renders");
    (loaded, kit)
}

/// Writes a spec's kit into a fresh temporary directory.
pub fn kit_in_tempdir(spec: &Utf8PathBuf) -> (tempfile::TempDir, greenlight::Loaded) {
    let (loaded, kit) = render(spec);
    let dir = tempfile::tempdir().unwrap();
    let out = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap();
    greenlight::emit::write(&kit, &out).unwrap();
    (dir, loaded)
}

/// Replaces a kit file and its sha256 in the kit's manifest, as a build
/// with a template override would: for a kit that deploy.sh accepts and
/// something downstream (nginx -t) refuses.
pub fn replace_kit_file(kit: &Path, file: &str, text: &str) {
    use sha2::{Digest, Sha256};
    std::fs::write(kit.join(file), text).unwrap();
    let sum: String = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let manifest = kit.join(".greenlight-files");
    let listed = std::fs::read_to_string(&manifest).unwrap();
    let suffix = format!("  {file}");
    let rewritten: String = listed
        .lines()
        .map(|line| match line.strip_suffix(&suffix) {
            Some(_) => format!("{sum}{suffix}\n"),
            None => format!("{line}\n"),
        })
        .collect();
    assert!(listed.contains(&suffix), "{file} is not in the manifest");
    std::fs::write(manifest, rewritten).unwrap();
}

/// Whether a missing tool fails the test (CI sets GREENLIGHT_REQUIRE_TOOLS=1)
/// or skips it with a printed reason.
pub fn tool_available(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    required(found, &format!("{tool} is not installed"))
}

/// Returns `ok`; when false, prints why the test skips (`missing` says what
/// is missing), or panics when GREENLIGHT_REQUIRE_TOOLS=1, so that CI never
/// passes a test that did not run.
pub fn required(ok: bool, missing: &str) -> bool {
    if !ok {
        if std::env::var("GREENLIGHT_REQUIRE_TOOLS").is_ok_and(|v| v == "1") {
            panic!("{missing}, and GREENLIGHT_REQUIRE_TOOLS=1 makes that a failure");
        }
        eprintln!("SKIPPED: {missing}; set GREENLIGHT_REQUIRE_TOOLS=1 to make this a failure");
    }
    ok
}

/// The code deploy.sh runs: deploy.sh with each part it sources (a line
/// `source "$KIT_DIR"/lib/NAME.sh`) put in place of that line, as bash
/// reads it. `file` gives a kit file's text by its kit path.
pub fn kit_code_with(file: impl Fn(&str) -> String) -> String {
    let mut code = String::new();
    for line in file("deploy.sh").lines() {
        match line.strip_prefix("source \"$KIT_DIR\"/") {
            Some(part) => code.push_str(&file(part)),
            None => {
                code.push_str(line);
                code.push('\n');
            }
        }
    }
    code
}

/// [`kit_code_with`] of a rendered kit.
pub fn kit_code(kit: &greenlight::render::Kit) -> String {
    kit_code_with(|path| {
        kit.get(&Utf8PathBuf::from(path))
            .unwrap_or_else(|| panic!("the kit has no {path}"))
            .clone()
    })
}

/// [`kit_code_with`] of a kit on disk, written beside it as
/// `deploy.inlined.sh` for the linters; returns that file's path.
pub fn inline_kit_code(kit: &Path) -> PathBuf {
    let code = kit_code_with(|path| {
        std::fs::read_to_string(kit.join(path))
            .unwrap_or_else(|e| panic!("cannot read kit file {path}: {e}"))
    });
    let inlined = kit.join("deploy.inlined.sh");
    std::fs::write(&inlined, code).unwrap();
    inlined
}

/// Runs a command, returning (success, combined output).
pub fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The site conf deploy.sh installs when switching by reload, with every
/// app on `color`: each app's select file and upstream, then the server block.
pub fn assembled_conf(kit: &Path, apps: &[String], color: &str) -> String {
    let mut conf = format!("# assembled as deploy.sh does\n{}", maintenance_off(kit));
    for app in apps {
        for part in ["select", "upstream"] {
            conf.push_str(
                &std::fs::read_to_string(kit.join(format!("nginx/{app}-{color}.{part}.conf")))
                    .unwrap(),
            );
        }
    }
    conf.push_str(&std::fs::read_to_string(kit.join("nginx/site.conf")).unwrap());
    conf
}

/// The maintenance maps deploy.sh puts before the site conf, maintenance off
/// (the variables' names as the kit's deploy.sh has them).
fn maintenance_off(kit: &Path) -> String {
    let script = std::fs::read_to_string(kit.join("deploy.sh")).unwrap();
    let var = |name: &str| {
        script
            .lines()
            .find_map(|l| l.strip_prefix(&format!("readonly {name}=")))
            .unwrap_or_else(|| panic!("deploy.sh has no {name}"))
            .to_string()
    };
    format!(
        "map \"\" ${} {{\n    default \"\";\n}}\nmap \"\" ${} {{\n    default \"\";\n}}\n",
        var("MAINTENANCE_VAR"),
        var("MAINTENANCE_PAGE_VAR")
    )
}

/// The site conf deploy.sh installs when switching through njs: the module
/// and live-file preamble (paths under `conf_dir`), the selectors, both
/// colors' upstreams of every app, then the server block.
pub fn assembled_njs_conf(kit: &Path, plan: &greenlight::plan::Plan, conf_dir: &Path) -> String {
    let (module, project, dir) = (&plan.proxy.js_module, &plan.project, conf_dir.display());
    let mut conf = format!(
        "# assembled as deploy.sh does\n{}js_import {module} from {dir}/greenlight-{project}.js;\nmap \"\" ${module}_live_file {{\n    default \"{dir}/greenlight-{project}.live\";\n}}\n",
        maintenance_off(kit)
    );
    conf.push_str(&std::fs::read_to_string(kit.join("nginx/njs.conf")).unwrap());
    for app in &plan.apps {
        for color in ["blue", "green"] {
            conf.push_str(
                &std::fs::read_to_string(
                    kit.join(format!("nginx/{}-{color}.upstream.conf", app.name)),
                )
                .unwrap(),
            );
        }
    }
    conf.push_str(&std::fs::read_to_string(kit.join("nginx/site.conf")).unwrap());
    conf
}

/// A scratch nginx whose nginx.conf is Debian's stock one, including the
/// conf.d/ of this directory, for `nginx -t` of what deploy.sh installs.
pub struct StockNginx {
    dir: tempfile::TempDir,
}

impl StockNginx {
    /// Copies Debian's /etc/nginx/nginx.conf, pointed at a private conf.d/ and pid file.
    pub fn new() -> StockNginx {
        let dir = tempfile::tempdir().unwrap();
        let h = dir.path();
        std::fs::create_dir_all(h.join("conf.d")).unwrap();
        let stock = std::fs::read_to_string("/etc/nginx/nginx.conf")
            .expect("Debian's stock /etc/nginx/nginx.conf");
        let main = stock
            .replace("/etc/nginx/conf.d/", &format!("{}/conf.d/", h.display()))
            .replace(
                "pid /run/nginx.pid;",
                &format!("pid {}/nginx.pid;", h.display()),
            );
        std::fs::write(h.join("nginx.conf"), main).unwrap();
        StockNginx { dir }
    }

    /// The conf.d/ the stock nginx.conf includes.
    pub fn conf_d(&self) -> std::path::PathBuf {
        self.dir.path().join("conf.d")
    }

    /// Installs `conf` as the site conf, with the spec's TLS files swapped for
    /// throwaway self-signed ones, and asserts that `nginx -t` accepts it.
    pub fn assert_accepts(&self, mut conf: String, plan: &greenlight::plan::Plan, context: &str) {
        let h = self.dir.path();
        if let Some(tls) = &plan.proxy.tls {
            let (cert, key) = (h.join("cert.pem"), h.join("key.pem"));
            let (ok, out) = run(Command::new("openssl")
                .args([
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=test",
                ])
                .arg("-keyout")
                .arg(&key)
                .arg("-out")
                .arg(&cert));
            assert!(ok, "openssl: {out}");
            conf = conf
                .replace(&tls.certificate, cert.to_str().unwrap())
                .replace(&tls.key, key.to_str().unwrap());
        }
        std::fs::write(self.conf_d().join(&plan.proxy.site_conf_name), conf).unwrap();
        let (ok, out) = run(Command::new("nginx")
            .arg("-t")
            .arg("-c")
            .arg(h.join("nginx.conf")));
        assert!(ok, "{context}: nginx -t failed:\n{out}");
    }
}

/// A compose implementation: v1 (`docker-compose`) or v2 (`docker compose`).
/// The end-to-end suite tells the kit which one to use (GREENLIGHT_COMPOSE)
/// and runs every scenario with both; the lint test checks every compose
/// file with both.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Compose {
    /// `docker-compose`, Debian's v1.
    V1,
    /// `docker compose`, the v2 CLI plugin.
    V2,
}

impl Compose {
    /// The value of GREENLIGHT_COMPOSE.
    pub fn name(self) -> &'static str {
        match self {
            Compose::V1 => "v1",
            Compose::V2 => "v2",
        }
    }

    /// The command line that runs this compose.
    pub fn command(self) -> Command {
        match self {
            Compose::V1 => Command::new("docker-compose"),
            Compose::V2 => {
                let mut cmd = Command::new("docker");
                cmd.arg("compose");
                cmd
            }
        }
    }

    /// Whether this compose is installed; like `support::tool_available`, a
    /// missing one skips with a printed reason or fails when
    /// GREENLIGHT_REQUIRE_TOOLS=1.
    pub fn available(self) -> bool {
        let ok = self
            .command()
            .arg("version")
            .stdin(std::process::Stdio::null())
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            let what = match self {
                Compose::V1 => "docker-compose (compose v1)",
                Compose::V2 => "`docker compose` (the compose v2 plugin)",
            };
            if std::env::var("GREENLIGHT_REQUIRE_TOOLS").is_ok_and(|v| v == "1") {
                panic!("{what} is required (GREENLIGHT_REQUIRE_TOOLS=1) but does not answer");
            }
            eprintln!("SKIPPED: {what} does not answer; set GREENLIGHT_REQUIRE_TOOLS=1 to make this a failure");
        }
        ok
    }

    /// The major version compose writes into the `com.docker.compose.version`
    /// label of what it creates, to prove which one the kit ran.
    pub fn label_major(self) -> &'static str {
        match self {
            Compose::V1 => "1.",
            Compose::V2 => "2.",
        }
    }
}

/// Every `ports:` entry of a compose file's services, as (service, the
/// host address it is published on, None when the entry names none and so
/// publishes on every address).
pub fn published_ports(compose_file: &str) -> Vec<(String, Option<String>)> {
    use yaml_rust2::YamlLoader;
    let docs = YamlLoader::load_from_str(compose_file).expect("compose file is YAML");
    let mut found = Vec::new();
    let Some(services) = docs[0]["services"].as_hash() else {
        return found;
    };
    for (name, service) in services {
        for entry in service["ports"].as_vec().into_iter().flatten() {
            let text = entry.as_str().expect("ports in short syntax");
            // HOST_IP:HOST_PORT:CONTAINER_PORT; the IP may hold `:` itself.
            let parts: Vec<&str> = text.rsplitn(3, ':').collect();
            let address = (parts.len() == 3).then(|| parts[2].to_string());
            found.push((name.as_str().unwrap().to_string(), address));
        }
    }
    found
}

/// Whether a published port's address keeps it off the public interfaces:
/// an IP other than the unspecified one, or the per-host address deploy.sh
/// passes to compose.
pub fn is_one_address(address: &Option<String>) -> bool {
    match address.as_deref() {
        None | Some("") | Some("0.0.0.0") | Some("[::]") | Some("::") => false,
        Some(a) => {
            a.starts_with("${GREENLIGHT_BIND:?")
                || a.trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok()
        }
    }
}

/// The commands a dry run prints, or that a real run traced
/// (GREENLIGHT_TRACE), with the run's temporary file names made alike.
pub fn dry_run_commands(lines: &str, prefix: &str) -> Vec<String> {
    lines
        .lines()
        .filter_map(|l| l.strip_prefix(prefix))
        .filter(|l| !l.starts_with("wait until ") && !l.starts_with("ask nginx at "))
        .map(|l| {
            l.split(' ')
                .map(|w| match w.find("/gl.") {
                    Some(at) if w[at..].contains("/tmp.") => format!("{}<tmp>", &w[..at]),
                    _ => w.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}
