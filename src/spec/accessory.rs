//! `accessory "NAME" { … }`: a shared service beside the apps, never colored.

use super::app::{
    check_env_and_secrets, command_node, env_node, image_node, secret_node, volume_node,
    SecretSpec, VolumeSpec,
};
use super::{name_arg, NodeReader, Spanned};
use crate::diagnostic::{Problems, SpecError};

/// A shared service (redis, a database): started if not running, never
/// stopped or recreated by a deploy.
#[derive(Debug, Clone)]
pub struct AccessorySpec {
    /// The accessory's name, also its name on the stack's network.
    pub name: Spanned<String>,
    /// Image with tag.
    pub image: Spanned<String>,
    /// Command override.
    pub command: Vec<String>,
    /// Container port.
    pub port: Option<Spanned<u16>>,
    /// Publish the port on the host.
    pub publish: bool,
    /// Environment.
    pub env: Vec<(String, String)>,
    /// `env-file` paths.
    pub env_files: Vec<String>,
    /// `secret` nodes, in order.
    pub secrets: Vec<SecretSpec>,
    /// Volumes.
    pub volumes: Vec<VolumeSpec>,
    /// The host it runs on; the first app host when absent.
    pub on: Option<Spanned<String>>,
}

const NODES: &[&str] = &[
    "image", "command", "port", "env", "env-file", "secret", "volume", "on",
];
const ONCE: &[&str] = &["image", "command", "port", "on"];

/// Decodes one `accessory` block.
pub fn decode(problems: &mut Problems, reader: &NodeReader) -> Option<AccessorySpec> {
    reader.shape(
        problems,
        1,
        1,
        &[],
        "accessory \"redis\" { image \"redis:7\" }",
    );
    let name = name_arg(problems, reader, "accessory name");
    let mut image = None;
    let mut command = Vec::new();
    let mut port = None;
    let mut publish = false;
    let mut env = Vec::new();
    let mut env_files = Vec::new();
    let mut secrets = Vec::new();
    let mut volumes = Vec::new();
    let mut on = None;
    for node in reader.children(problems, NODES, ONCE) {
        let r = NodeReader::new(node);
        match node.name().value() {
            "image" => image = image_node(problems, &r, true),
            "command" => command = command_node(problems, &r),
            "port" => {
                port = super::app::port_node(problems, &r, &["publish"], "port 6379 publish=#true");
                publish = r.bool_prop(problems, "publish").is_some_and(|b| b.value);
            }
            "env" => env.extend(env_node(problems, &r)),
            "env-file" => {
                r.shape(problems, 1, 1, &[], "env-file \"redis.env\"");
                r.no_children(problems);
                if let Some(file) = r.string_arg(problems, 0) {
                    if super::check(
                        problems,
                        file.span,
                        super::values::path(&file.value, "env-file", false),
                    ) {
                        env_files.push(file.value);
                    }
                }
            }
            "secret" => secrets.extend(secret_node(problems, &r)),
            "volume" => volumes.extend(volume_node(problems, &r)),
            _ => {
                r.shape(problems, 1, 1, &[], "on \"db1\"");
                r.no_children(problems);
                on = r.string_arg(problems, 0);
            }
        }
    }
    check_env_and_secrets(problems, &env, &secrets);
    let name = name?;
    let Some(image) = image else {
        if !reader
            .children(&mut Problems::default(), NODES, ONCE)
            .iter()
            .any(|n| n.name().value() == "image")
        {
            problems.push(
                SpecError::new(
                    name.span,
                    format!("accessory `{}` has no `image`", name.value),
                    "missing image",
                )
                .help("add: image \"redis:7.2\""),
            );
        }
        return None;
    };
    Some(AccessorySpec {
        name,
        image,
        command,
        port,
        publish,
        env,
        env_files,
        secrets,
        volumes,
        on,
    })
}
