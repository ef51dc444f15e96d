//! Shell syntax in a command that greenlight runs without a shell. A hook or
//! a process `start` is split into words (quotes group them) and executed
//! directly, so `a | b`, `> file`, `&&`, `;`, `$VAR`, `$(…)` and backticks
//! would reach the program as literal words: refused instead, so that what
//! the spec says is what runs.

use super::values::{invalid, Invalid};

/// Where the scan is: outside quotes, or inside '…' or "…".
#[derive(Clone, Copy, PartialEq)]
enum Quote {
    None,
    Single,
    Double,
}

/// The first character a shell would read as syntax, not as part of a
/// word: outside quotes `| & ; < > ( ) $` and backticks, inside "…" `$`
/// and backticks. Inside '…', and after a `\` outside '…', nothing is syntax.
fn first_syntax(value: &str) -> Option<char> {
    let mut quote = Quote::None;
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Quote::Single, '\'') | (Quote::Double, '"') => quote = Quote::None,
            (Quote::Single, _) => {}
            (_, '\\') => {
                chars.next();
            }
            (Quote::None, '\'') => quote = Quote::Single,
            (Quote::None, '"') => quote = Quote::Double,
            (Quote::None, '|' | '&' | ';' | '<' | '>' | '(' | ')') => return Some(c),
            (_, '$' | '`') => return Some(c),
            _ => {}
        }
    }
    None
}

/// What a shell would make of `c`, for the message.
fn meaning(c: char) -> &'static str {
    match c {
        '|' => "a pipe",
        '&' => "`&&` or running in the background",
        ';' => "a second command",
        '<' | '>' => "a redirection",
        '(' | ')' => "a subshell",
        '$' => "an expansion such as $VAR or $(…)",
        _ => "a command substitution",
    }
}

/// Refuses a command (`what`, e.g. "the `after-switch` hook") that holds
/// shell syntax; `placeholders` are the `{…}` it may use instead.
pub fn refuse(value: &str, what: &str, placeholders: &[&str]) -> Result<(), Invalid> {
    let Some(c) = first_syntax(value) else {
        return Ok(());
    };
    let known: Vec<String> = placeholders.iter().map(|p| format!("{{{p}}}")).collect();
    Err(invalid(
        format!("{what} has shell syntax: `{c}`, {}", meaning(c)),
        format!(
            "greenlight runs the command without a shell: it is split into words (quotes group them, {} are filled in) and `{c}` would reach the program as a literal character; put the pipeline in a script (in the image or release, or beside the kit for a hook) and call that, e.g. \"./bin/run.sh {{version}}\", or quote the character ('{c}') if the program should get it as written",
            known.join(" ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::first_syntax;

    #[test]
    fn shell_syntax_outside_quotes_is_found() {
        for (command, c) in [
            ("a | b", '|'),
            ("a||b", '|'),
            ("x > f", '>'),
            ("x < f", '<'),
            ("a && b", '&'),
            ("a &", '&'),
            ("a; b", ';'),
            ("echo $VAR", '$'),
            ("echo ${VAR}", '$'),
            ("echo `id`", '`'),
            ("echo $(id)", '$'),
            ("(cd x)", '('),
            ("echo \"$HOME\"", '$'),
            ("echo \"`id`\"", '`'),
            ("'a' | b", '|'),
        ] {
            assert_eq!(first_syntax(command), Some(c), "{command}");
        }
    }

    #[test]
    fn words_quotes_escapes_and_placeholders_are_not_syntax() {
        for command in [
            "java -Dserver.port={port} -jar /opt/app/{version}/app.jar",
            "./bin/notify deployed {version} {app}-{color}",
            "grep 'a|b' '$HOME' '`id`' 'x > y; z && w'",
            "echo \"a|b; c > d && e (f)\"",
            "echo \\$HOME \\| \\; \\> \\`",
            "say 'it'\\''s'",
            "curl http://127.0.0.1:{port}/health?full=1#x",
        ] {
            assert_eq!(first_syntax(command), None, "{command}");
        }
    }
}
