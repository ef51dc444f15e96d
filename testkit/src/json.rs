//! Hand-written JSON output (std only): an indented object builder.

use std::fmt::Write;

/// A JSON string literal for `s`, with all required escapes.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON number with millisecond precision, or `null` when absent.
pub fn millis(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{v:.3}"),
        _ => "null".to_string(),
    }
}

/// Builds one JSON object; nested objects are passed in as finished text.
pub struct Object {
    out: String,
    depth: usize,
}

impl Object {
    /// Starts an object nested `depth` levels deep (0 = top level).
    pub fn new(depth: usize) -> Object {
        Object {
            out: String::from("{"),
            depth,
        }
    }

    /// Adds `"key": value`, where `value` is already valid JSON text.
    pub fn field(&mut self, key: &str, value: impl std::fmt::Display) -> &mut Object {
        if self.out.len() > 1 {
            self.out.push(',');
        }
        let indent = "  ".repeat(self.depth + 1);
        let _ = write!(self.out, "\n{indent}{}: {value}", string(key));
        self
    }

    /// Closes the object and returns its text.
    pub fn finish(&mut self) -> String {
        if self.out.len() > 1 {
            self.out.push('\n');
            self.out.push_str(&"  ".repeat(self.depth));
        }
        self.out.push('}');
        std::mem::take(&mut self.out)
    }
}
