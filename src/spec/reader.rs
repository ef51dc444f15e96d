//! Reading typed values off KDL nodes, recording a pointed error for every
//! mismatch instead of stopping at the first one.

use kdl::{KdlEntry, KdlNode, KdlValue};
use miette::SourceSpan;

use super::keywords::{self, Keyword};
use super::suggest::unknown_help;
use super::values::DURATION_HELP;
use crate::diagnostic::{twice, Problems, SpecError};

/// A value together with the place in the spec it came from.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    /// The decoded value.
    pub value: T,
    /// Where it was written.
    pub span: SourceSpan,
}

impl<T> Spanned<T> {
    /// Wraps `value` read at `span`.
    pub fn new(value: T, span: SourceSpan) -> Self {
        Spanned { value, span }
    }
}

/// The name a node is known by in messages, e.g. `app "web"` > `health`.
fn node_name(node: &KdlNode) -> &str {
    node.name().value()
}

/// A kind name for a KDL value, for "expected a string, found an integer".
fn kind(value: &KdlValue) -> &'static str {
    match value {
        KdlValue::String(_) => "a string",
        KdlValue::Integer(_) => "an integer",
        KdlValue::Float(_) => "a number",
        KdlValue::Bool(_) => "a boolean",
        KdlValue::Null => "#null",
    }
}

/// Reads one node: its positional arguments, properties and children, checking
/// that nothing unexpected was written.
pub struct NodeReader<'a> {
    node: &'a KdlNode,
}

impl<'a> NodeReader<'a> {
    /// Starts reading `node`.
    pub fn new(node: &'a KdlNode) -> Self {
        NodeReader { node }
    }

    /// The node's span, for errors about the node as a whole.
    pub fn span(&self) -> SourceSpan {
        self.node.span()
    }

    /// The span of the node's name.
    pub fn name_span(&self) -> SourceSpan {
        self.node.name().span()
    }

    /// Positional arguments, in order.
    pub fn args(&self) -> Vec<&'a KdlEntry> {
        self.node
            .entries()
            .iter()
            .filter(|e| e.name().is_none())
            .collect()
    }

    fn prop(&self, key: &str) -> Option<&'a KdlEntry> {
        self.node
            .entries()
            .iter()
            .rev()
            .find(|e| e.name().map(|n| n.value()) == Some(key))
    }

    /// True when the property `key` is written, whatever its value.
    pub fn has_prop(&self, key: &str) -> bool {
        self.prop(key).is_some()
    }

    /// Checks that there are between `min` and `max` positional arguments and that
    /// every property is one of `props`. `usage` shows the valid form.
    pub fn shape(
        &self,
        problems: &mut Problems,
        min: usize,
        max: usize,
        props: &[&str],
        usage: &str,
    ) {
        let args = self.args();
        let name = node_name(self.node);
        if args.len() < min {
            let what = if min == 1 {
                "a value".to_string()
            } else {
                format!("{min} values")
            };
            problems.push(
                SpecError::new(
                    self.span(),
                    format!("`{name}` needs {what}"),
                    "missing value",
                )
                .help(format!("write it as: {usage}")),
            );
        } else if args.len() > max {
            let extra = args[max];
            let message = if max == 0 {
                format!("`{name}` takes no positional value")
            } else {
                format!(
                    "`{name}` takes at most {max} value{}",
                    if max == 1 { "" } else { "s" }
                )
            };
            problems.push(
                SpecError::new(extra.span(), message, "unexpected value")
                    .help(format!("write it as: {usage}")),
            );
        }
        let mut seen: Vec<(&str, SourceSpan)> = Vec::new();
        for entry in self.node.entries() {
            let Some(key) = entry.name() else { continue };
            if !props.contains(&key.value()) {
                let help = if props.is_empty() {
                    format!("`{name}` takes no properties; write it as: {usage}")
                } else {
                    unknown_help(key.value(), props)
                };
                problems.push(
                    SpecError::new(
                        key.span(),
                        format!("unknown property `{}` on `{name}`", key.value()),
                        "unknown property",
                    )
                    .help(help),
                );
            } else if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key.value()) {
                problems.push(twice(
                    &format!("property `{}` on `{name}`", key.value()),
                    "given",
                    entry.span(),
                    *first,
                ));
            } else {
                seen.push((key.value(), entry.span()));
            }
        }
    }

    /// Checks that the node has no `{ … }` block.
    pub fn no_children(&self, problems: &mut Problems) {
        if let Some(children) = self.node.children() {
            problems.push(
                SpecError::new(
                    children.span(),
                    format!("`{}` takes no block", node_name(self.node)),
                    "unexpected block",
                )
                .help("remove the `{ … }`"),
            );
        }
    }

    /// The children of the node, each looked up in `keywords` (see
    /// [`keywords::lookup`]): unknown and repeated ones are reported and skipped.
    pub fn children<K: Copy>(
        &self,
        problems: &mut Problems,
        keywords: &[Keyword<K>],
    ) -> Vec<(K, &'a KdlNode)> {
        let Some(doc) = self.node.children() else {
            return Vec::new();
        };
        keywords::lookup(problems, doc.nodes(), keywords, Some(node_name(self.node)))
    }

    /// The positional argument at `index` as a string.
    pub fn string_arg(&self, problems: &mut Problems, index: usize) -> Option<Spanned<String>> {
        self.args()
            .get(index)
            .and_then(|e| entry_string(problems, node_name(self.node), e))
    }

    /// All positional arguments as strings.
    pub fn string_args(&self, problems: &mut Problems) -> Vec<Spanned<String>> {
        self.args()
            .iter()
            .filter_map(|e| entry_string(problems, node_name(self.node), e))
            .collect()
    }

    /// The positional argument at `index` as the text of a duration. A bare
    /// number gets a hint with a unit, since "quote it" would give `"30"`,
    /// which is no duration either.
    pub fn duration_arg(&self, problems: &mut Problems, index: usize) -> Option<Spanned<String>> {
        let entry = *self.args().get(index)?;
        let name = node_name(self.node);
        let help = match entry.value() {
            KdlValue::String(_) => return entry_string(problems, name, entry),
            KdlValue::Integer(i) if *i >= 0 => format!("write it as: {name} \"{i}s\""),
            _ => DURATION_HELP.to_string(),
        };
        problems.push(type_error(name, entry, "a string", entry.value()).help(help));
        None
    }

    /// The positional argument at `index` as an integer in `range`.
    pub fn int_arg(
        &self,
        problems: &mut Problems,
        index: usize,
        min: i128,
        max: i128,
    ) -> Option<Spanned<i64>> {
        self.args()
            .get(index)
            .and_then(|e| entry_int(problems, node_name(self.node), e, min, max))
    }

    /// The positional argument at `index` as a boolean.
    pub fn bool_arg(&self, problems: &mut Problems, index: usize) -> Option<Spanned<bool>> {
        self.args()
            .get(index)
            .and_then(|e| entry_bool(problems, node_name(self.node), e))
    }

    /// The property `key` as a string.
    pub fn string_prop(&self, problems: &mut Problems, key: &str) -> Option<Spanned<String>> {
        self.prop(key).and_then(|e| entry_string(problems, key, e))
    }

    /// The property `key` as an integer in `min..=max`.
    pub fn int_prop(
        &self,
        problems: &mut Problems,
        key: &str,
        min: i128,
        max: i128,
    ) -> Option<Spanned<i64>> {
        self.prop(key)
            .and_then(|e| entry_int(problems, key, e, min, max))
    }

    /// The property `key` as a number (integer or decimal).
    pub fn number_prop(&self, problems: &mut Problems, key: &str) -> Option<Spanned<f64>> {
        let entry = self.prop(key)?;
        match entry.value() {
            KdlValue::Integer(i) => Some(Spanned::new(*i as f64, entry.span())),
            KdlValue::Float(f) => Some(Spanned::new(*f, entry.span())),
            other => {
                problems.push(type_error(key, entry, "a number", other));
                None
            }
        }
    }

    /// The property `key` as a boolean.
    pub fn bool_prop(&self, problems: &mut Problems, key: &str) -> Option<Spanned<bool>> {
        self.prop(key).and_then(|e| entry_bool(problems, key, e))
    }
}

fn type_error(what: &str, entry: &KdlEntry, expected: &str, found: &KdlValue) -> SpecError {
    let mut error = SpecError::new(
        entry.span(),
        format!("`{what}` expects {expected}, found {}", kind(found)),
        format!("expected {expected}"),
    );
    if expected == "a string" && !matches!(found, KdlValue::Bool(_) | KdlValue::Null) {
        error = error.help(format!(
            "quote it: \"{}\"",
            found.to_string().trim_matches('"')
        ));
    }
    error
}

fn entry_string(problems: &mut Problems, what: &str, entry: &KdlEntry) -> Option<Spanned<String>> {
    match entry.value() {
        KdlValue::String(s) => Some(Spanned::new(s.clone(), entry.span())),
        other => {
            problems.push(type_error(what, entry, "a string", other));
            None
        }
    }
}

fn entry_int(
    problems: &mut Problems,
    what: &str,
    entry: &KdlEntry,
    min: i128,
    max: i128,
) -> Option<Spanned<i64>> {
    match entry.value() {
        KdlValue::Integer(i) if (min..=max).contains(i) => {
            Some(Spanned::new(*i as i64, entry.span()))
        }
        KdlValue::Integer(i) => {
            problems.push(
                SpecError::new(
                    entry.span(),
                    format!("`{what}` is {i}, out of range"),
                    "out of range",
                )
                .help(format!("use a whole number from {min} to {max}")),
            );
            None
        }
        other => {
            problems.push(type_error(what, entry, "an integer", other));
            None
        }
    }
}

fn entry_bool(problems: &mut Problems, what: &str, entry: &KdlEntry) -> Option<Spanned<bool>> {
    match entry.value() {
        KdlValue::Bool(b) => Some(Spanned::new(*b, entry.span())),
        other => {
            let mut error = type_error(what, entry, "a boolean", other);
            if let KdlValue::String(s) = other {
                if s == "true" || s == "false" {
                    error = error.help(format!("KDL v2 writes booleans as #{s}"));
                }
            }
            problems.push(error);
            None
        }
    }
}
