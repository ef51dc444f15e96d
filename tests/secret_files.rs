//! Secrets as files (issue #9, item 8): `secret "KEY" from-file="…"
//! as="file"` reaches a compose container as a compose secret, the file
//! mounted read-only at /run/secrets/KEY, and in no environment; compose v1
//! and v2 both read the files so, with the path exactly as written. A
//! sidecar's secrets (issue #13, item 7) are its own, in both colors. (The
//! refusals are pinned in tests/diagnostics/; the real deploy is in
//! tests/e2e_compose.rs.)

mod support;

use std::fs;

use support::*;
use yaml_rust2::{Yaml, YamlLoader};

fn spec(dir: &str) -> String {
    format!(
        r#"greenlight 1
project "sec"
app "web" {{
    image "ghcr.io/acme/web"
    port 8080
    env "DB_PASSWORD_FILE" "/run/secrets/DB_PASSWORD"
    secret "DB_PASSWORD" from-file="{dir}/db pass $x" as="file"
    secret "API_TOKEN" from-file="{dir}/token"
    health "/healthz"
    sidecar "worker" {{
        image "ghcr.io/acme/worker"
        secret "PASSWORD" from-file="{dir}/cache" as="file"
        secret "WORKER_TOKEN" from-file="{dir}/token"
    }}
}}
accessory "pg" {{
    image "postgres:16"
    secret "PASSWORD" from-file="{dir}/db pass $x" as="file"
}}
accessory "cache" {{
    image "redis:7.2"
    secret "PASSWORD" from-file="{dir}/cache" as="file"
    secret "TOKEN" from-file="{dir}/token"
}}
"#
    )
}

/// `config` of a compose file, parsed.
fn config(compose: Compose, kit: &std::path::Path, file: &str) -> Yaml {
    let (ok, out) = run(compose
        .command()
        .env("GREENLIGHT_VERSION", "v1")
        .env("GREENLIGHT_VERSION_REF", ":v1")
        .env("GREENLIGHT_SECRET_1", "token-value")
        .env("GREENLIGHT_SECRET_2", "token-value")
        .env("GREENLIGHT_SECRET_3", "worker-token-value")
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
    let yaml = out
        .lines()
        .skip_while(|l| l.starts_with("time="))
        .collect::<Vec<_>>();
    YamlLoader::load_from_str(&yaml.join("\n")).expect("config prints YAML")[0].clone()
}

/// A service's secrets as "source>target" words.
fn mounted(service: &Yaml) -> Vec<String> {
    service["secrets"]
        .as_vec()
        .unwrap_or_else(|| panic!("no secrets: {service:?}"))
        .iter()
        .map(|s| {
            format!(
                "{}>{}",
                s["source"].as_str().unwrap(),
                s["target"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_file_secret_is_a_compose_secret_that_v1_and_v2_both_mount() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().display().to_string();
    for (name, value) in [("db pass $x", "db"), ("token", "t"), ("cache", "c")] {
        fs::write(work.path().join(name), value).unwrap();
    }
    let (plan, _) = greenlight::load_text("sec.kdl", spec(&dir))
        .unwrap_or_else(|r| panic!("{}", greenlight::diagnostic::render_plain(&r)));
    let kit = greenlight::kit(&plan, greenlight::render::TemplateSource::default()).unwrap();
    let kit_dir = work.path().join("kit");
    for (path, content) in &kit {
        let file = kit_dir.join(path.as_str());
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, content).unwrap();
    }
    // deploy.sh never reads a file secret: its table marks it "file".
    let script = &kit[&camino::Utf8PathBuf::from("deploy.sh")];
    assert!(
        script.contains(&format!(
            "web | compose/web-blue.yml | compose/web-green.yml) SECRETS=( DB_PASSWORD file $'{dir}/db pass $x' API_TOKEN 1 {dir}/token PASSWORD file {dir}/cache WORKER_TOKEN 3 {dir}/token )"
        )),
        "{script}"
    );
    for compose in [Compose::V1, Compose::V2] {
        if !compose.available() {
            continue;
        }
        let web = config(compose, &kit_dir, "compose/web-blue.yml");
        let service = &web["services"]["web"];
        assert_eq!(mounted(service), ["web-DB_PASSWORD>DB_PASSWORD"]);
        // config prints a literal `$` escaped, as `$$`.
        assert_eq!(
            web["secrets"]["web-DB_PASSWORD"]["file"]
                .as_str()
                .map(|f| f.replace("$$", "$")),
            Some(format!("{dir}/db pass $x")),
            "{web:?}"
        );
        let env = &service["environment"];
        assert!(env["DB_PASSWORD"].is_badvalue(), "{env:?}");
        assert_eq!(env["API_TOKEN"].as_str(), Some("token-value"));
        assert_eq!(
            env["DB_PASSWORD_FILE"].as_str(),
            Some("/run/secrets/DB_PASSWORD")
        );
        assert!(env["WORKER_TOKEN"].is_badvalue(), "{env:?}");
        // The sidecar's secrets, numbered after the app's, in both colors:
        // its file mounted under its own compose name, its env its own.
        for color in ["blue", "green"] {
            let file = format!("compose/web-{color}.yml");
            let doc = config(compose, &kit_dir, &file);
            let worker = &doc["services"]["worker"];
            assert_eq!(mounted(worker), ["worker-PASSWORD>PASSWORD"], "{file}");
            assert_eq!(
                doc["secrets"]["worker-PASSWORD"]["file"].as_str(),
                Some(format!("{dir}/cache").as_str()),
                "{file}"
            );
            let env = &worker["environment"];
            assert_eq!(env["WORKER_TOKEN"].as_str(), Some("worker-token-value"));
            assert!(env["API_TOKEN"].is_badvalue(), "{file}: {env:?}");
        }

        let acc = config(compose, &kit_dir, "compose/accessories.yml");
        assert_eq!(mounted(&acc["services"]["pg"]), ["pg-PASSWORD>PASSWORD"]);
        assert_eq!(
            mounted(&acc["services"]["cache"]),
            ["cache-PASSWORD>PASSWORD"]
        );
        assert_eq!(
            acc["secrets"]["cache-PASSWORD"]["file"].as_str(),
            Some(format!("{dir}/cache").as_str())
        );
        assert!(acc["services"]["pg"]["environment"].is_badvalue());
        assert_eq!(
            acc["services"]["cache"]["environment"]["TOKEN"].as_str(),
            Some("token-value")
        );
    }
}
