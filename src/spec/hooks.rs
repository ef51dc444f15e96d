//! `hooks { before-deploy …; after-healthy …; after-switch …; on-failure … }`,
//! each hook with the secrets only it gets: `after-switch "…" { secret … }`.

use super::container::{check_env_and_secrets, secret_node, SecretSpec};
use super::keywords::Keyword;
use super::{check, values, NodeReader, Spanned};
use crate::diagnostic::Problems;

/// Commands run around a deploy, on the machine that runs deploy.sh.
#[derive(Debug, Default)]
pub struct HooksSpec {
    /// Before anything starts; failure aborts.
    pub before_deploy: Option<HookSpec>,
    /// Against the new color before the switch; failure aborts.
    pub after_healthy: Option<HookSpec>,
    /// After the switch.
    pub after_switch: Option<HookSpec>,
    /// When a deploy fails.
    pub on_failure: Option<HookSpec>,
}

/// One hook as written: its command, and the secrets deploy.sh puts in its
/// environment alone (a notifier never sees a migration's password).
#[derive(Debug)]
pub struct HookSpec {
    /// The command line, with placeholders.
    pub command: Spanned<String>,
    /// `secret` nodes of the hook's block, in order.
    pub secrets: Vec<SecretSpec>,
}

/// Placeholders deploy.sh fills in a hook command.
pub const HOOK_PLACEHOLDERS: &[&str] = &["app", "color", "port", "version", "url"];

/// The keywords of the `hooks` block: every hook may be given once.
#[derive(Debug, Clone, Copy)]
enum HookKeyword {
    BeforeDeploy,
    AfterHealthy,
    AfterSwitch,
    OnFailure,
}

const HOOKS: &[Keyword<HookKeyword>] = &[
    Keyword::once("before-deploy", HookKeyword::BeforeDeploy),
    Keyword::once("after-healthy", HookKeyword::AfterHealthy),
    Keyword::once("after-switch", HookKeyword::AfterSwitch),
    Keyword::once("on-failure", HookKeyword::OnFailure),
];

/// The keywords of one hook's own block.
#[derive(Debug, Clone, Copy)]
enum HookBlockKeyword {
    Secret,
}

const HOOK_BLOCK: &[Keyword<HookBlockKeyword>] =
    &[Keyword::many("secret", HookBlockKeyword::Secret)];

/// Decodes the `hooks` block.
pub fn decode(problems: &mut Problems, reader: &NodeReader) -> HooksSpec {
    reader.shape(
        problems,
        0,
        0,
        &[],
        "hooks { before-deploy \"./bin/migrate\" }",
    );
    let mut hooks = HooksSpec::default();
    for (keyword, node) in reader.children(problems, HOOKS) {
        let hook = hook_node(problems, node.name().value(), &NodeReader::new(node));
        match keyword {
            HookKeyword::BeforeDeploy => hooks.before_deploy = hook,
            HookKeyword::AfterHealthy => hooks.after_healthy = hook,
            HookKeyword::AfterSwitch => hooks.after_switch = hook,
            HookKeyword::OnFailure => hooks.on_failure = hook,
        }
    }
    hooks
}

/// `NAME "COMMAND" { secret "KEY" from-file="PATH" … }`, the block optional.
fn hook_node(problems: &mut Problems, name: &str, hook: &NodeReader) -> Option<HookSpec> {
    hook.shape(
        problems,
        1,
        1,
        &[],
        &format!("{name} \"./bin/notify {{version}}\""),
    );
    let command = hook.string_arg(problems, 0).filter(|c| {
        check(
            problems,
            c.span,
            values::command(&c.value, &format!("the `{name}` hook"), HOOK_PLACEHOLDERS),
        )
    });
    let mut secrets = Vec::new();
    for (keyword, node) in hook.children(problems, HOOK_BLOCK) {
        let r = NodeReader::new(node);
        match keyword {
            HookBlockKeyword::Secret => secrets.extend(secret_node(problems, &r)),
        }
    }
    check_env_and_secrets(problems, &[], &secrets);
    Some(HookSpec {
        command: command?,
        secrets,
    })
}
