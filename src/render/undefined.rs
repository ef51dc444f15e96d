//! A template that uses an undefined variable fails with minijinja's bare
//! "undefined value"; an ops team writing an override, or a developer
//! changing a built-in template, needs to know which template, which line,
//! which name, and what the template may use instead.

use std::ops::Range;

use minijinja::value::ValueKind;
use minijinja::{Error, ErrorKind, Value};

use super::templates::TemplateSource;

/// `error` itself unless it is about an undefined value; then an error that
/// names the template file and line, the undefined name, and the names that
/// are defined there: the context's variables (`ctx`), or the fields of the
/// value the name was looked up on.
pub fn explain(error: Error, source: &TemplateSource, ctx: &Value) -> Error {
    if error.kind() != ErrorKind::UndefinedError {
        return error;
    }
    let template = error.name().unwrap_or("a template").to_string();
    let line = error
        .line()
        .map_or(String::new(), |l| format!(", line {l}"));
    let text = source.load(&template).ok().flatten();
    let expression = text
        .as_deref()
        .zip(error.range())
        .and_then(|(text, range)| expression_at(text, range))
        .unwrap_or_default();
    let what = match dotted_path(expression) {
        Some(path) => missing(&path, ctx),
        None => format!(
            "`{expression}` is undefined; the template may use {}",
            names(ctx)
        ),
    };
    Error::new(
        ErrorKind::UndefinedError,
        format!("in template {}{line}: {what}", source.origin(&template)),
    )
}

/// The expression at `range`. A filter that refuses an undefined input
/// reports the filter's name alone: the expression then starts at the
/// `{{`, `(` or `,` before it, so that it includes the filtered value.
fn expression_at(text: &str, range: Range<usize>) -> Option<&str> {
    let before = text.get(..range.start)?;
    let start = if before.trim_end().ends_with('|') {
        before.rfind(['{', '(', ',']).map_or(range.start, |i| i + 1)
    } else {
        range.start
    };
    text.get(start..range.end).map(str::trim)
}

/// `a.b.c` as its parts, when the expression is such a path, alone or
/// passed to filters (`a.b|sh`).
fn dotted_path(expression: &str) -> Option<Vec<&str>> {
    let value = expression.split('|').next().unwrap_or_default();
    let parts: Vec<&str> = value.split('.').map(str::trim).collect();
    let is_name = |p: &&str| {
        p.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && p.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    parts.iter().all(is_name).then_some(parts)
}

/// Which part of `path` is undefined, and what is defined in its place.
fn missing(path: &[&str], ctx: &Value) -> String {
    let root = path[0];
    let mut value = ctx.get_attr(root).unwrap_or_default();
    if value.is_undefined() {
        return format!(
            "undefined variable `{root}`; the template may use {} (and what its own `for` and `set` define)",
            names(ctx)
        );
    }
    for (i, field) in path.iter().enumerate().skip(1) {
        let next = value.get_attr(field).unwrap_or_default();
        if next.is_undefined() {
            let owner = path[..i].join(".");
            return format!(
                "`{owner}` has no field `{field}`; its fields are {}",
                names(&value)
            );
        }
        value = next;
    }
    format!("`{}` is undefined", path.join("."))
}

/// The keys of a map, sorted, as `` `a`, `b` ``; or what the value is instead.
fn names(value: &Value) -> String {
    if value.kind() != ValueKind::Map {
        return format!("nothing: it is a {}", value.kind());
    }
    let mut keys: Vec<String> = value
        .try_iter()
        .map(|keys| keys.map(|k| format!("`{k}`")).collect())
        .unwrap_or_default();
    keys.sort();
    keys.join(", ")
}
