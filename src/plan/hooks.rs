//! Command lines split into argv: deploy hooks and a process app's `start`;
//! and each hook's secrets.

use super::model::{Hook, Hooks};
use super::secrets::{refuse_files, secrets};
use crate::diagnostic::{Problems, SpecError};
use crate::spec::{HookSpec, Spanned, Spec};

/// The deploy hooks, each split into words, with its secrets.
pub(super) fn hooks(spec: &Spec, problems: &mut Problems) -> Hooks {
    let h = &spec.hooks;
    let mut hook = |name: &'static str, hook: &Option<HookSpec>| {
        hook.as_ref().map(|h| {
            refuse_files(&h.secrets, "hook", "no container", problems);
            Hook {
                name,
                argv: argv(problems, &h.command),
                secrets: secrets(&h.secrets, 0, name),
                secrets_owner: format!("hook:{name}"),
            }
        })
    };
    Hooks {
        before_deploy: hook("before-deploy", &h.before_deploy),
        after_healthy: hook("after-healthy", &h.after_healthy),
        after_switch: hook("after-switch", &h.after_switch),
        on_failure: hook("on-failure", &h.on_failure),
    }
}

/// Splits a command line into words the way a shell would, without running one.
pub(super) fn argv(problems: &mut Problems, command: &Spanned<String>) -> Vec<String> {
    match shell_words::split(&command.value) {
        Ok(words) if words.is_empty() => {
            problems.push(
                SpecError::new(command.span, "the command has no words", "nothing to run")
                    .help("commands are split into words like a shell does, and `#` starts a comment: give a program to run"),
            );
            Vec::new()
        }
        Ok(words) => words,
        Err(_) => {
            problems.push(
                SpecError::new(
                    command.span,
                    "the command has an unclosed quote",
                    "unbalanced quote",
                )
                .help("commands are split into words like a shell does; close every ' and \""),
            );
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::load_text;
    use crate::spec::values;

    /// Each hook's secrets are its own, listed in deploy.sh under an owner
    /// that no app, sidecar or accessory (nor a compose file) can be named.
    #[test]
    fn each_hook_owns_its_secrets_under_a_name_no_service_can_have() {
        let spec = r#"greenlight 1
project "shop"
app "after-switch" {
    image "ghcr.io/acme/web"
    port 8080
    secret "DB_PASSWORD" from-file="/run/keys/app-db"
    health "/healthz"
}
hooks {
    before-deploy "./bin/migrate" {
        secret "DB_PASSWORD" from-file="/run/keys/db"
    }
    after-switch "./bin/notify {version}" {
        secret "SLACK_WEBHOOK_URL" from-file="/run/keys/slack"
    }
    on-failure "./bin/notify failed"
}
"#;
        let (plan, _) = load_text("shop.kdl", spec.to_string()).expect("the spec loads");
        let hooks = &plan.hooks;
        let keys = |hook: &Option<crate::plan::Hook>| -> Vec<(String, String, String)> {
            let hook = hook.as_ref().expect("the hook is set");
            hook.secrets
                .iter()
                .map(|s| {
                    (
                        hook.secrets_owner.clone(),
                        s.key.clone(),
                        s.from_file.clone(),
                    )
                })
                .collect()
        };
        assert_eq!(
            keys(&hooks.before_deploy),
            [(
                "hook:before-deploy".into(),
                "DB_PASSWORD".into(),
                "/run/keys/db".into()
            )]
        );
        assert_eq!(
            keys(&hooks.after_switch),
            [(
                "hook:after-switch".into(),
                "SLACK_WEBHOOK_URL".into(),
                "/run/keys/slack".into()
            )]
        );
        assert_eq!(keys(&hooks.on_failure), []);
        assert!(hooks.after_healthy.is_none());
        let owner = &hooks.after_switch.as_ref().unwrap().secrets_owner;
        assert!(values::name(owner, "a name").is_err() && !owner.contains('/'));
    }
}
