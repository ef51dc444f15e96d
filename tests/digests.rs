//! Images pinned by digest (issue #9, item 9): `image "repo@sha256:…"` in an
//! app, a sidecar, an accessory and the compose proxy is rendered as
//! written; compose v1 and v2 both take the files, with a tag and with a
//! digest as the deploy's version; deploy.sh takes a digest as VERSION where
//! it names one image and refuses it (exit 2, before anything happens) for a
//! process app, an app pinned in the spec, or images of several repositories.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use support::*;

/// A digest of `n` repeated: 64 hex digits.
fn digest(n: char) -> String {
    format!("sha256:{}", n.to_string().repeat(64))
}

fn pinned_spec() -> String {
    format!(
        r#"greenlight 1
project "pinned"

app "web" {{
    image "ghcr.io/acme/web"
    port 8080
    health "/healthz"
    sidecar "edge" entry=#true {{
        image "ghcr.io/acme/edge@{edge}"
        port 80
    }}
}}

app "api" {{
    image "ghcr.io/acme/api@{api}"
    port 8080
    health "/healthz"
}}

accessory "redis" {{
    image "redis:7.2@{redis}"
}}

proxy {{
    image "nginx:1.27.5@{nginx}"
    route "/" app="web"
    route "/api" app="api"
}}
"#,
        edge = digest('1'),
        api = digest('2'),
        redis = digest('3'),
        nginx = digest('4'),
    )
}

/// Renders spec text into a fresh directory.
fn kit_of(text: &str) -> (tempfile::TempDir, greenlight::plan::Plan) {
    let (plan, _) = greenlight::load_text("pinned.kdl", text.to_string())
        .unwrap_or_else(|r| panic!("{}", greenlight::diagnostic::render_plain(&r)));
    let kit = greenlight::kit(&plan, greenlight::render::TemplateSource::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in &kit {
        let file = dir.path().join(path.as_str());
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, content).unwrap();
    }
    fs::set_permissions(
        dir.path().join("deploy.sh"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    (dir, plan)
}

#[test]
fn images_pinned_by_digest_are_rendered_as_written() {
    let (dir, _) = kit_of(&pinned_spec());
    let read = |file: &str| fs::read_to_string(dir.path().join(file)).unwrap();
    let web = read("compose/web-blue.yml");
    assert!(
        web.contains("image: \"ghcr.io/acme/web${GREENLIGHT_VERSION_REF:?"),
        "{web}"
    );
    assert!(
        web.contains(&format!("image: \"ghcr.io/acme/edge@{}\"", digest('1'))),
        "{web}"
    );
    let api = read("compose/api-green.yml");
    assert!(
        api.contains(&format!("image: \"ghcr.io/acme/api@{}\"", digest('2'))),
        "{api}"
    );
    assert!(!api.contains("${GREENLIGHT_VERSION_REF"), "{api}");
    assert!(
        read("compose/accessories.yml").contains(&format!("image: \"redis:7.2@{}\"", digest('3')))
    );
    assert!(read("compose/proxy.yml").contains(&format!("image: \"nginx:1.27.5@{}\"", digest('4'))));
    let plan = read("PLAN.md");
    assert!(
        plan.contains(&format!(
            "`ghcr.io/acme/api@{}` (pinned by digest",
            digest('2')
        )),
        "{plan}"
    );
    if tool_available("shellcheck") {
        let (ok, out) = run(Command::new("shellcheck")
            .args(["--severity=style", "--shell=bash"])
            .arg(inline_kit_code(dir.path())));
        assert!(ok, "shellcheck findings:\n{out}");
    }
}

/// What compose makes of a compose file: each service's image.
fn images_in_config(compose: Compose, kit: &Path, file: &str, version_ref: &str) -> String {
    let (ok, out) = run(compose
        .command()
        .env("GREENLIGHT_VERSION", "v1")
        .env("GREENLIGHT_VERSION_REF", version_ref)
        .arg("--project-directory")
        .arg(kit)
        .arg("-f")
        .arg(kit.join(file))
        .arg("config"));
    assert!(ok, "compose {} config {file}:\n{out}", compose.name());
    assert!(
        !out.contains("level=warning") && !out.contains("WARNING"),
        "compose {} warns about {file}:\n{out}",
        compose.name()
    );
    let mut images: Vec<&str> = out
        .lines()
        .filter_map(|l| l.trim().strip_prefix("image: "))
        .collect();
    images.sort();
    images.join(" ")
}

/// Both composes take every file, and the image that follows the version
/// is `repo:TAG` for a tag and `repo@sha256:…` for a digest.
#[test]
fn pinned_compose_files_pass_config_of_v1_and_v2_with_a_tag_or_a_digest_version() {
    let (dir, _) = kit_of(&pinned_spec());
    let edge = format!("ghcr.io/acme/edge@{}", digest('1'));
    let by_digest = format!("@{}", digest('9'));
    for compose in [Compose::V1, Compose::V2] {
        if !compose.available() {
            continue;
        }
        let web = |version_ref: &str| {
            images_in_config(compose, dir.path(), "compose/web-green.yml", version_ref)
        };
        assert_eq!(web(":v1"), format!("{edge} ghcr.io/acme/web:v1"));
        assert_eq!(
            web(&by_digest),
            format!("{edge} ghcr.io/acme/web@{}", digest('9'))
        );
        for (file, image) in [
            (
                "compose/api-blue.yml",
                format!("ghcr.io/acme/api@{}", digest('2')),
            ),
            (
                "compose/accessories.yml",
                format!("redis:7.2@{}", digest('3')),
            ),
            ("compose/proxy.yml", format!("nginx:1.27.5@{}", digest('4'))),
        ] {
            assert_eq!(
                images_in_config(compose, dir.path(), file, &by_digest),
                image
            );
        }
    }
}

/// A kit directory with a docker and an nginx that record their calls and
/// change nothing.
struct Fakes {
    dir: tempfile::TempDir,
}

impl Fakes {
    fn new() -> Fakes {
        let dir = tempfile::tempdir().unwrap();
        let fake = format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >>'{}'\nexit 0\n",
            dir.path().join("fake.log").display()
        );
        for name in ["fake-docker", "fake-nginx"] {
            let path = dir.path().join(name);
            fs::write(&path, &fake).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        }
        fs::create_dir_all(dir.path().join("conf.d")).unwrap();
        Fakes { dir }
    }

    fn deploy(&self, kit: &Path, args: &[&str]) -> Output {
        let d = self.dir.path();
        Command::new(kit.join("deploy.sh"))
            .args(args)
            .env("GREENLIGHT_STATE_DIR", d.join("state"))
            .env("GREENLIGHT_NGINX_CONF_DIR", d.join("conf.d"))
            .env("GREENLIGHT_NGINX", d.join("fake-nginx"))
            .env("GREENLIGHT_DOCKER", d.join("fake-docker"))
            .env("TMPDIR", d)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    }

    /// Asserts that deploy.sh exited 2 saying `why`, and did nothing.
    fn assert_refused(&self, out: &Output, why: &str, context: &str) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{context}:\n{stderr}");
        assert!(stderr.contains(why), "{context}: {stderr}");
        assert!(
            !self.dir.path().join("state").exists(),
            "{context}: created the state directory"
        );
        assert!(
            !self.dir.path().join("fake.log").exists(),
            "{context}: called docker or nginx"
        );
    }
}

const HOST_PROXY: &str = r#"
proxy {
    mode "host"
    listen "127.0.0.1:18080"
    ROUTES
}
"#;

#[test]
fn a_digest_version_deploys_the_image_that_follows_the_version() {
    let fakes = Fakes::new();
    let spec = format!(
        "greenlight 1\nproject \"one\"\napp \"web\" {{\n    image \"ghcr.io/acme/web\"\n    port 8080\n    host-ports blue=18081 green=18082\n    health \"/healthz\"\n}}\n{}",
        HOST_PROXY.replace("ROUTES", "")
    );
    let (kit, _) = kit_of(&spec);
    let version = digest('a');
    let out = fakes.deploy(kit.path(), &["--dry-run", "deploy", &version]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("web: starting blue with version {version}")),
        "{stdout}"
    );
}

#[test]
fn a_digest_version_is_refused_where_it_cannot_name_the_image() {
    let fakes = Fakes::new();
    let spec = format!(
        r#"greenlight 1
project "many"
app "api" {{
    image "ghcr.io/acme/api"
    port 8080
    host-ports blue=18081 green=18082
    health "/healthz"
    sidecar "edge" entry=#true {{
        image "ghcr.io/acme/edge"
        port 80
    }}
}}
app "pinned" {{
    image "ghcr.io/acme/pinned@{pinned}"
    port 8080
    host-ports blue=18083 green=18084
    health "/healthz"
}}
app "worker" {{
    runtime "process"
    start "/bin/worker --port {{port}}"
    host-ports blue=18085 green=18086
    health "/healthz"
}}
{proxy}"#,
        pinned = digest('b'),
        proxy = HOST_PROXY.replace(
            "ROUTES",
            "route \"/\" app=\"api\"\n    route \"/p\" app=\"pinned\"\n    route \"/w\" app=\"worker\""
        ),
    );
    let (kit, _) = kit_of(&spec);
    let version = digest('a');
    let version = version.as_str();
    for (args, why) in [
        (
            &["deploy", "--app", "api", version][..],
            "it would go to ghcr.io/acme/api ghcr.io/acme/edge",
        ),
        (
            &["deploy", "--app", "pinned", version],
            "pinned's image is pinned in the spec",
        ),
        (
            &["deploy", "--app", "worker", version],
            "worker is a process app, which has no image",
        ),
        (&["--dry-run", "deploy", version], "VERSION is a digest"),
    ] {
        let out = fakes.deploy(kit.path(), args);
        fakes.assert_refused(&out, why, &format!("deploy.sh {args:?}"));
    }
    // A tag is still taken by each of them (the pinned app's only names the release).
    let out = fakes.deploy(kit.path(), &["--dry-run", "deploy", "v7"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A digest is a version wherever deploy.sh reads one back: a state line
/// with one is used, one with 63 hex digits is ignored (said, not used).
#[test]
fn a_digest_version_is_read_back_from_the_state_file() {
    let fakes = Fakes::new();
    let spec = format!(
        "greenlight 1\nproject \"one\"\napp \"web\" {{\n    image \"ghcr.io/acme/web\"\n    port 8080\n    host-ports blue=18081 green=18082\n    health \"/healthz\"\n}}\n{}",
        HOST_PROXY.replace("ROUTES", "")
    );
    let (kit, _) = kit_of(&spec);
    let state = fakes.dir.path().join("state");
    fs::create_dir_all(&state).unwrap();
    fs::set_permissions(&state, fs::Permissions::from_mode(0o700)).unwrap();
    let good = digest('c');
    let short = &good[..70];
    for (version, shown) in [(good.as_str(), true), (short, false)] {
        fs::write(
            state.join("state"),
            format!("live web blue v1\nprevious web green {version}\n"),
        )
        .unwrap();
        let out = fakes.deploy(kit.path(), &["status"]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            text.contains(&format!("previous green {version}")),
            shown,
            "{version}: {text}"
        );
        assert_eq!(
            text.contains("ignored the state file that is not a valid state line"),
            !shown,
            "{version}: {text}"
        );
    }
}
