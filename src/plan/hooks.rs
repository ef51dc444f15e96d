//! Command lines split into argv: deploy hooks and a process app's `start`.

use super::model::Hooks;
use crate::diagnostic::{Problems, SpecError};
use crate::spec::{Spanned, Spec};

/// The deploy hooks, each split into words.
pub(super) fn hooks(spec: &Spec, problems: &mut Problems) -> Hooks {
    let h = &spec.hooks;
    let mut split = |hook: &Option<Spanned<String>>| {
        hook.as_ref().map(|c| argv(problems, c)).unwrap_or_default()
    };
    Hooks {
        before_deploy: split(&h.before_deploy),
        after_healthy: split(&h.after_healthy),
        after_switch: split(&h.after_switch),
        on_failure: split(&h.on_failure),
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
