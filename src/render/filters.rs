//! Quoting for each output format. Every spec value a template prints goes
//! through one of these; the formatter in [`super::environment`] refuses a
//! bare string in a script, conf or YAML file, so a forgotten filter is a
//! render error, not an injection.

use minijinja::{Error, ErrorKind, Value};

/// A filter's input as text. Strict mode lets an undefined value reach a
/// filter, which would print it as ""; refused instead, as printing it is.
fn text_of(value: &Value) -> Result<String, Error> {
    if value.is_undefined() {
        return Err(Error::new(ErrorKind::UndefinedError, "undefined value"));
    }
    Ok(match value.as_str() {
        Some(s) => s.to_string(),
        None => value.to_string(),
    })
}

/// Characters a shell word may hold unquoted and still mean itself. (A
/// comma would too, but shellcheck takes `( a,b )` for a mistyped array,
/// SC2054, so words with one are quoted.)
fn is_plain_shell_word(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:=@%+-".contains(c))
        && !value.starts_with('=')
}

/// Quotes one value as a single bash word that means exactly the value.
///
/// Plain words stay as they are; text with `$`, a backtick or `\\` becomes an
/// ANSI-C string `$'…'` in which only `\\\\` and `\\'` are escapes (so shellcheck
/// does not take a literal `$x` for a forgotten expansion, SC2016, nor a
/// backslash before a quote for an escaped quote, SC1003); anything else is single
/// quoted, `'` written as `'\''`. Values never hold control characters.
pub fn shell_quote(value: &str) -> String {
    if is_plain_shell_word(value) {
        value.to_string()
    } else if value.contains(['$', '`', '\\']) {
        format!("$'{}'", value.replace('\\', r"\\").replace('\'', r"\'"))
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// `{{ value|sh }}`: one shell word.
pub fn sh(value: Value) -> Result<Value, Error> {
    let text = text_of(&value)?;
    Ok(Value::from_safe_string(shell_quote(&text)))
}

/// `{{ list|sh_words }}`: each item as its own shell word, space separated
/// (for bash array literals).
pub fn sh_words(value: Value) -> Result<Value, Error> {
    let words: Vec<String> = value
        .try_iter()?
        .map(|item| match item.as_str() {
            Some(s) => shell_quote(s),
            None => shell_quote(&item.to_string()),
        })
        .collect();
    Ok(Value::from_safe_string(words.join(" ")))
}

/// `{{ value|yaml }}`: a double-quoted YAML scalar, with `$` doubled so
/// compose does not interpolate it.
pub fn yaml(value: Value) -> Result<Value, Error> {
    let text = text_of(&value)?;
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("$$"),
            // Controls, and what YAML 1.1 readers take for line breaks or a BOM.
            c if c.is_control()
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                ) =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(Value::from_safe_string(out))
}

/// `{{ value|nginx }}`: a double-quoted nginx string. Values reaching nginx
/// are already free of `$`, `;`, braces and quotes; quoting is the second wall.
pub fn nginx(value: Value) -> Result<Value, Error> {
    let text = text_of(&value)?;
    Ok(Value::from_safe_string(format!(
        "\"{}\"",
        text.replace('\\', "\\\\").replace('"', "\\\"")
    )))
}

/// `{{ value|json }}`: a JSON string. `{{` and `}}` are written as
/// `\u007b\u007b` and `\u007d\u007d`, which JSON reads back the same, so that
/// a value can never open an action of the Go template adnanh/webhook reads
/// the file as (a lone brace, as in a regex's `{0,127}`, stays readable).
pub fn json(value: Value) -> Result<Value, Error> {
    let text = text_of(&value)?;
    let quoted = serde_json::to_string(&text)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    Ok(Value::from_safe_string(
        quoted
            .replace("{{", r"\u007b\u007b")
            .replace("}}", r"\u007d\u007d"),
    ))
}

/// `{{ value|word }}`: a value that is already a plain token (a checked name,
/// a port, a host:port) printed as is; anything else is a render error, so a
/// template cannot use it to smuggle syntax into any format.
pub fn word(value: Value) -> Result<Value, Error> {
    let text = text_of(&value)?;
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.:[]/-".contains(c));
    if plain {
        Ok(Value::from_safe_string(text))
    } else {
        Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "`{}` is not a plain word; quote it with the format's filter",
                text.escape_debug()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_keeps_words_inert() {
        assert_eq!(shell_quote("web"), "web");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$(touch /tmp/x)"), "$'$(touch /tmp/x)'");
        assert_eq!(shell_quote("`id`"), "$'`id`'");
        assert_eq!(shell_quote(r"a\'b\"), r"$'a\\\'b\\'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("=x"), "'=x'");
        assert_eq!(shell_quote(","), "','");
    }

    #[test]
    fn yaml_doubles_dollars_and_escapes_quotes() {
        assert_eq!(
            yaml(Value::from("a$b\"c")).unwrap().to_string(),
            r#""a$$b\"c""#
        );
    }

    #[test]
    fn json_strings_carry_no_template_delimiter() {
        for text in ["a\"{{ getenv `X` }}\\\n", "{{{x}}}", "{0,127}"] {
            let quoted = json(Value::from(text)).unwrap().to_string();
            assert!(!quoted.contains("{{") && !quoted.contains("}}"), "{quoted}");
            let back: String = serde_json::from_str(&quoted).unwrap();
            assert_eq!(back, text);
        }
        assert_eq!(
            json(Value::from("{0,127}")).unwrap().to_string(),
            "\"{0,127}\""
        );
    }
}
