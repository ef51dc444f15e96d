//! The docker images the end-to-end tests deploy, built locally (no
//! registry): gl-testapp built static into target/static and copied into
//! FROM scratch images, one tag per test version (`greenlight-test/app:v1`,
//! ...; the version, and a broken mode or boot delay, are baked in as ENV);
//! and nginx images made from the host's /usr/sbin/nginx and its shared
//! libraries: one with Debian's njs module loaded, one laid out like the
//! official image (the module's file present, not loaded) and one without it.
//! Each image carries a content hash (label or tag) and is rebuilt only when
//! its inputs change; they are built once per test binary. The compose suite
//! runs them on this machine's engine; the lab sends them to its hosts.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

use sha2::{Digest, Sha256};

/// The repository of the test app images.
pub const APP_IMAGE: &str = "greenlight-test/app";
/// The repository of the nginx image.
pub const NGINX_IMAGE: &str = "greenlight-test/nginx";

/// Test app versions: tag (also APP_VERSION) and extra environment baked in.
pub const VERSIONS: &[(&str, &[(&str, &str)])] = &[
    ("v1", &[]),
    ("v2", &[]),
    ("v3", &[]),
    ("acc", &[]),
    ("boot3", &[("APP_BOOT_DELAY_MS", "3000")]),
    ("boot2", &[("APP_BOOT_DELAY_MS", "2000")]),
    ("boot15", &[("APP_BOOT_DELAY_MS", "1500")]),
    ("boot1a", &[("APP_BOOT_DELAY_MS", "1000")]),
    ("boot1b", &[("APP_BOOT_DELAY_MS", "1000")]),
    ("bad1", &[("APP_BROKEN", "unhealthy")]),
    ("bad2", &[("APP_BROKEN", "exit-at-boot")]),
    ("page500", &[("APP_ERROR_PATH", "/?page=1")]),
    ("crash2", &[("APP_CRASH_AFTER_MS", "2000")]),
];

/// Whether the Docker Engine answers `docker info`; like
/// `support::tool_available`, a missing engine skips with a printed reason or
/// fails when GREENLIGHT_REQUIRE_TOOLS=1.
pub fn engine_available() -> bool {
    let ok = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("GREENLIGHT_REQUIRE_TOOLS").is_ok_and(|v| v == "1") {
            panic!("a running Docker Engine is required (GREENLIGHT_REQUIRE_TOOLS=1) but `docker info` failed");
        }
        eprintln!("SKIPPED: no Docker Engine answers `docker info`; set GREENLIGHT_REQUIRE_TOOLS=1 to make this a failure");
    }
    ok
}

/// Runs docker; returns (success, stdout, stderr).
pub fn docker(args: &[&str]) -> (bool, String, String) {
    let out = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run docker: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs docker and returns its stdout; panics on failure.
pub fn docker_ok(args: &[&str]) -> String {
    let (ok, out, err) = docker(args);
    assert!(ok, "docker {args:?} failed:\n{out}{err}");
    out
}

/// The non-empty trimmed lines of a text, sorted.
pub fn lines(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The images every test uses, built once per test binary.
pub struct Images {
    /// `greenlight-test/nginx:<hash>`, with the njs module loaded.
    pub nginx: String,
    /// The same nginx without njs: deploy.sh switches it by reload.
    pub nginx_plain: String,
    /// Like the official image: the module's file is there, nginx.conf does
    /// not load it (deploy.sh has it loaded).
    pub nginx_stock: String,
    /// The static gl-load (the load client).
    pub gl_load: PathBuf,
}

static IMAGES: OnceLock<Result<Images, String>> = OnceLock::new();

/// Builds (or reuses) the test images; panics with the build's output if that
/// fails.
pub fn images() -> &'static Images {
    match IMAGES.get_or_init(build_images) {
        Ok(images) => images,
        Err(e) => panic!("building the test images failed:\n{e}"),
    }
}

fn build_images() -> Result<Images, String> {
    let started = Instant::now();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target_dir = root.join("target/static");
    // The static build goes to its own target dir so the main build's
    // artifacts stay valid.
    let out = Command::new(env!("CARGO"))
        .args([
            "build",
            "-p",
            "greenlight-testkit",
            "--release",
            "--target",
            "x86_64-unknown-linux-gnu",
        ])
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "static build of the testkit failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let bin = target_dir.join("x86_64-unknown-linux-gnu/release");
    let testapp = bin.join("gl-testapp");
    let ldd = Command::new("ldd")
        .arg(&testapp)
        .output()
        .map_err(|e| e.to_string())?;
    let ldd_text = format!(
        "{}{}",
        String::from_utf8_lossy(&ldd.stdout),
        String::from_utf8_lossy(&ldd.stderr)
    );
    if !ldd_text.contains("statically linked") && !ldd_text.contains("not a dynamic executable") {
        return Err(format!("gl-testapp is not static: {ldd_text}"));
    }

    let ctx_root = target_dir.join("images");
    // The test app: one context, one Dockerfile per version.
    let app_bytes = fs::read(&testapp).map_err(|e| e.to_string())?;
    let app_ctx = ctx_root.join("app");
    fs::create_dir_all(&app_ctx).map_err(|e| e.to_string())?;
    fs::write(app_ctx.join("gl-testapp"), &app_bytes).map_err(|e| e.to_string())?;
    set_mode(&app_ctx.join("gl-testapp"), 0o755);
    for (tag, env) in VERSIONS {
        let mut dockerfile = String::from(
            "FROM scratch\nCOPY gl-testapp /gl-testapp\nARG APP_VERSION\nENV APP_VERSION=${APP_VERSION}\n",
        );
        for (k, v) in *env {
            dockerfile.push_str(&format!("ENV {k}={v}\n"));
        }
        // The image declares a VOLUME, so every container gets an anonymous
        // volume: a deploy must not leave them dangling.
        let hash = sha256_hex(&[
            &app_bytes,
            dockerfile.as_bytes(),
            tag.as_bytes(),
            b"VOLUME /scratch",
        ]);
        dockerfile.push_str(&format!(
            "LABEL greenlight.test.hash={hash}\nVOLUME [\"/scratch\"]\nENTRYPOINT [\"/gl-testapp\"]\n"
        ));
        let image = format!("{APP_IMAGE}:{tag}");
        if image_label(&image) == hash {
            continue;
        }
        let file = app_ctx.join(format!("Dockerfile.{tag}"));
        fs::write(&file, &dockerfile).map_err(|e| e.to_string())?;
        docker_build(&app_ctx, &file, &image, &[&format!("APP_VERSION={tag}")])?;
    }

    let nginx = nginx_image(&ctx_root, Njs::Loaded)?;
    let nginx_plain = nginx_image(&ctx_root, Njs::Absent)?;
    let nginx_stock = nginx_image(&ctx_root, Njs::Present)?;
    eprintln!("test images ready in {:?}", started.elapsed());
    Ok(Images {
        nginx,
        nginx_plain,
        nginx_stock,
        gl_load: bin.join("gl-load"),
    })
}

/// The regular files a program needs: itself and the shared libraries ldd
/// names.
fn with_libraries(program: &Path) -> Result<Vec<PathBuf>, String> {
    let ldd = Command::new("ldd")
        .arg(program)
        .output()
        .map_err(|e| e.to_string())?;
    let mut files = vec![program.to_path_buf()];
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        // "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)" or
        // "/lib64/ld-linux-x86-64.so.2 (0x...)"
        let path = match line.split_once("=>") {
            Some((_, right)) => right.split_whitespace().next(),
            None => line.split_whitespace().next(),
        };
        if let Some(p) = path.filter(|p| p.starts_with('/')) {
            files.push(PathBuf::from(p));
        }
    }
    Ok(files)
}

/// Debian's njs module in an nginx test image.
#[derive(Clone, Copy, PartialEq)]
enum Njs {
    /// Its file and a `load_module` in nginx.conf.
    Loaded,
    /// Its file only, as in the official image.
    Present,
    Absent,
}

/// nginx without a registry: the host's binary, its libraries and a minimal
/// nginx.conf in a scratch image, with Debian's njs module as `njs` says.
fn nginx_image(ctx_root: &Path, njs: Njs) -> Result<String, String> {
    const NJS: &str = "/usr/lib/nginx/modules/ngx_http_js_module.so";
    let mut files = with_libraries(Path::new("/usr/sbin/nginx"))?;
    files.push("/etc/nginx/mime.types".into());
    if njs != Njs::Absent {
        files.extend(with_libraries(Path::new(NJS))?);
    }
    files.sort();
    files.dedup();
    let load_module = if njs == Njs::Loaded {
        format!("load_module {NJS};\n")
    } else {
        String::new()
    };
    let conf = format!("{load_module}user nobody nogroup;\nworker_processes 2;\npid /run/nginx.pid;\nerror_log stderr;\nevents {{ worker_connections 1024; }}\nhttp {{\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n    access_log off;\n    include /etc/nginx/conf.d/*.conf;\n}}\n");
    let passwd = "root:x:0:0:root:/root:/nonexistent\nnobody:x:65534:65534:nobody:/nonexistent:/nonexistent\n";
    let group = "root:x:0:\nnogroup:x:65534:\n";
    let nsswitch = "passwd: files\ngroup: files\nhosts: files dns\n";
    let dockerfile = "FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/sbin:/usr/bin:/sbin:/bin\nSTOPSIGNAL SIGQUIT\nCMD [\"nginx\", \"-g\", \"daemon off;\"]\n";
    let mut hash_parts: Vec<Vec<u8>> = vec![
        conf.clone().into(),
        passwd.into(),
        group.into(),
        nsswitch.into(),
        dockerfile.into(),
    ];
    for f in &files {
        hash_parts.push(f.to_string_lossy().as_bytes().to_vec());
        hash_parts.push(fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?);
    }
    let refs: Vec<&[u8]> = hash_parts.iter().map(Vec::as_slice).collect();
    let nginx = format!("{NGINX_IMAGE}:{}", &sha256_hex(&refs)[..16]);
    if docker(&["image", "inspect", &nginx]).0 {
        return Ok(nginx);
    }
    let ctx = ctx_root.join(match njs {
        Njs::Loaded => "nginx-njs",
        Njs::Present => "nginx-stock",
        Njs::Absent => "nginx",
    });
    let _ = fs::remove_dir_all(&ctx);
    let rootfs = ctx.join("rootfs");
    for dir in [
        "etc/nginx/conf.d",
        "var/log/nginx",
        "var/lib/nginx",
        "run",
        "tmp",
    ] {
        fs::create_dir_all(rootfs.join(dir)).map_err(|e| e.to_string())?;
    }
    set_mode(&rootfs.join("tmp"), 0o1777);
    for f in &files {
        let dest = rootfs.join(f.strip_prefix("/").unwrap());
        fs::create_dir_all(dest.parent().unwrap()).map_err(|e| e.to_string())?;
        // fs::copy follows symlinks: the image gets the real files.
        fs::copy(f, &dest).map_err(|e| format!("{}: {e}", f.display()))?;
    }
    fs::write(rootfs.join("etc/nginx/nginx.conf"), conf).map_err(|e| e.to_string())?;
    fs::write(rootfs.join("etc/passwd"), passwd).map_err(|e| e.to_string())?;
    fs::write(rootfs.join("etc/group"), group).map_err(|e| e.to_string())?;
    fs::write(rootfs.join("etc/nsswitch.conf"), nsswitch).map_err(|e| e.to_string())?;
    let file = ctx.join("Dockerfile");
    fs::write(&file, dockerfile).map_err(|e| e.to_string())?;
    docker_build(&ctx, &file, &nginx, &[])?;
    Ok(nginx)
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn image_label(image: &str) -> String {
    let (_, out, _) = docker(&[
        "image",
        "inspect",
        "--format",
        "{{index .Config.Labels \"greenlight.test.hash\"}}",
        image,
    ]);
    out.trim().to_string()
}

fn docker_build(ctx: &Path, file: &Path, tag: &str, args: &[&str]) -> Result<(), String> {
    let mut cmd = Command::new("docker");
    cmd.arg("build")
        .arg("-q")
        .arg("-f")
        .arg(file)
        .arg("-t")
        .arg(tag);
    for a in args {
        cmd.arg("--build-arg").arg(a);
    }
    let out = cmd
        .arg(ctx)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "docker build {tag} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
