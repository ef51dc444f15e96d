//! `accessory "NAME" { … }`: a shared service beside the apps, never colored.

use super::container::{
    check_env_and_secrets, command_node, env_node, image_node, secret_node, volume_node,
    SecretSpec, VolumeSpec, COMMAND_USAGE,
};
use super::keywords::Keyword;
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

/// The keywords of an `accessory` block.
#[derive(Debug, Clone, Copy)]
enum AccessoryKeyword {
    Image,
    Command,
    Port,
    Env,
    EnvFile,
    Secret,
    Volume,
    On,
}

const KEYWORDS: &[Keyword<AccessoryKeyword>] = &[
    Keyword::once("image", AccessoryKeyword::Image),
    Keyword::once("command", AccessoryKeyword::Command),
    Keyword::once("port", AccessoryKeyword::Port),
    Keyword::many("env", AccessoryKeyword::Env),
    Keyword::many("env-file", AccessoryKeyword::EnvFile),
    Keyword::many("secret", AccessoryKeyword::Secret),
    Keyword::many("volume", AccessoryKeyword::Volume),
    Keyword::once("on", AccessoryKeyword::On),
];

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
    for (keyword, node) in reader.children(problems, KEYWORDS) {
        let r = NodeReader::new(node);
        match keyword {
            AccessoryKeyword::Image => image = image_node(problems, &r, true),
            AccessoryKeyword::Command => command = command_node(problems, &r, COMMAND_USAGE),
            AccessoryKeyword::Port => {
                port = super::container::port_node(
                    problems,
                    &r,
                    &["publish"],
                    "port 6379 publish=#true",
                );
                publish = r.bool_prop(problems, "publish").is_some_and(|b| b.value);
            }
            AccessoryKeyword::Env => env.extend(env_node(problems, &r)),
            AccessoryKeyword::EnvFile => {
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
            AccessoryKeyword::Secret => secrets.extend(secret_node(problems, &r)),
            AccessoryKeyword::Volume => volumes.extend(volume_node(problems, &r)),
            AccessoryKeyword::On => {
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
            .children(&mut Problems::default(), KEYWORDS)
            .iter()
            .any(|(keyword, _)| matches!(keyword, AccessoryKeyword::Image))
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
