//! `sidecar "NAME" { … }` inside an app: a second container of each color.

use super::container::{
    check_env_and_secrets, command_node, env_node, image_node, port_node, secret_node, tag_node,
    volume_node, SecretSpec, VolumeSpec, COMMAND_USAGE,
};
use super::keywords::Keyword;
use super::{name_arg, values, NodeReader, Spanned};
use crate::diagnostic::{Problems, SpecError};

/// A second container of each color, versioned with the app (nginx before php-fpm).
#[derive(Debug, Clone)]
pub struct SidecarSpec {
    /// The sidecar's name.
    pub name: Spanned<String>,
    /// Traffic for the app enters here.
    pub entry: bool,
    /// Image without tag, or pinned by digest (`repo@sha256:…`).
    pub image: Option<Spanned<String>>,
    /// Own tag; the deploy's version when absent.
    pub tag: Option<String>,
    /// Container port (for the entry sidecar: where the proxy sends traffic).
    pub port: Option<Spanned<u16>>,
    /// Mount the app's volumes (compose `volumes_from`).
    pub volumes_from_app: bool,
    /// Environment.
    pub env: Vec<(String, String)>,
    /// `secret` nodes, in order: read at deploy time like the app's.
    pub secrets: Vec<SecretSpec>,
    /// Volumes.
    pub volumes: Vec<VolumeSpec>,
    /// Command override.
    pub command: Vec<String>,
}

/// The keywords of a `sidecar` block.
#[derive(Debug, Clone, Copy)]
enum SidecarKeyword {
    Image,
    Tag,
    Port,
    VolumesFromApp,
    Env,
    Secret,
    Volume,
    Command,
}

const SIDECAR_KEYWORDS: &[Keyword<SidecarKeyword>] = &[
    Keyword::once("image", SidecarKeyword::Image),
    Keyword::once("tag", SidecarKeyword::Tag),
    Keyword::once("port", SidecarKeyword::Port),
    Keyword::once("volumes-from-app", SidecarKeyword::VolumesFromApp),
    Keyword::many("env", SidecarKeyword::Env),
    Keyword::many("secret", SidecarKeyword::Secret),
    Keyword::many("volume", SidecarKeyword::Volume),
    Keyword::once("command", SidecarKeyword::Command),
];

pub(super) fn sidecar_node(problems: &mut Problems, r: &NodeReader) -> Option<SidecarSpec> {
    r.shape(
        problems,
        1,
        1,
        &["entry"],
        "sidecar \"web\" entry=#true { image \"team/nginx\"; port 80 }",
    );
    let name = name_arg(problems, r, "sidecar name")?;
    let mut sidecar = SidecarSpec {
        name,
        entry: r.bool_prop(problems, "entry").is_some_and(|b| b.value),
        image: None,
        tag: None,
        port: None,
        volumes_from_app: false,
        env: Vec::new(),
        secrets: Vec::new(),
        volumes: Vec::new(),
        command: Vec::new(),
    };
    let children = r.children(problems, SIDECAR_KEYWORDS);
    let mut tag = None;
    for (keyword, node) in children {
        let c = NodeReader::new(node);
        match keyword {
            SidecarKeyword::Image => sidecar.image = image_node(problems, &c, false),
            SidecarKeyword::Tag => tag = tag_node(problems, &c),
            SidecarKeyword::Port => sidecar.port = port_node(problems, &c, &[], "port 80"),
            SidecarKeyword::VolumesFromApp => {
                c.shape(problems, 1, 1, &[], "volumes-from-app #true");
                c.no_children(problems);
                sidecar.volumes_from_app = c.bool_arg(problems, 0).is_some_and(|b| b.value);
            }
            SidecarKeyword::Env => sidecar.env.extend(env_node(problems, &c)),
            SidecarKeyword::Secret => sidecar.secrets.extend(secret_node(problems, &c)),
            SidecarKeyword::Volume => sidecar.volumes.extend(volume_node(problems, &c)),
            SidecarKeyword::Command => sidecar.command = command_node(problems, &c, COMMAND_USAGE),
        }
    }
    check_env_and_secrets(problems, &sidecar.env, &sidecar.secrets);
    if sidecar.image.is_none() {
        problems.push(
            SpecError::new(
                r.span(),
                format!("sidecar `{}` has no `image`", sidecar.name.value),
                "missing image",
            )
            .help("add: image \"team/nginx\""),
        );
        return None;
    }
    let pinned = sidecar
        .image
        .as_ref()
        .filter(|i| values::split_digest(&i.value).1.is_some());
    if let (Some(image), Some(tag)) = (pinned, &tag) {
        problems.push(
            SpecError::new(
                tag.span,
                "a sidecar pinned by digest takes no `tag`",
                "tag here",
            )
            .also(image.span, "pinned here")
            .help("the digest names the image's content: remove `tag`, or pin no digest"),
        );
    }
    sidecar.tag = tag.map(|t| t.value);
    Some(sidecar)
}
