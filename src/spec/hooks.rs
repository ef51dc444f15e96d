//! `hooks { before-deploy …; after-healthy …; after-switch …; on-failure … }`

use super::keywords::Keyword;
use super::{check, values, NodeReader, Spanned};
use crate::diagnostic::Problems;

/// Commands run around a deploy, on the machine that runs deploy.sh.
#[derive(Debug, Default)]
pub struct HooksSpec {
    /// Before anything starts; failure aborts.
    pub before_deploy: Option<Spanned<String>>,
    /// Against the new color before the switch; failure aborts.
    pub after_healthy: Option<Spanned<String>>,
    /// After the switch.
    pub after_switch: Option<Spanned<String>>,
    /// When a deploy fails.
    pub on_failure: Option<Spanned<String>>,
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
        let hook = NodeReader::new(node);
        let name = node.name().value();
        hook.shape(
            problems,
            1,
            1,
            &[],
            &format!("{name} \"./bin/notify {{version}}\""),
        );
        hook.no_children(problems);
        let command = hook.string_arg(problems, 0).filter(|c| {
            check(
                problems,
                c.span,
                values::command(&c.value, &format!("the `{name}` hook"), HOOK_PLACEHOLDERS),
            )
        });
        match keyword {
            HookKeyword::BeforeDeploy => hooks.before_deploy = command,
            HookKeyword::AfterHealthy => hooks.after_healthy = command,
            HookKeyword::AfterSwitch => hooks.after_switch = command,
            HookKeyword::OnFailure => hooks.on_failure = command,
        }
    }
    hooks
}
