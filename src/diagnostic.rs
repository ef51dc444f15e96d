//! Errors that point into a spec: every problem carries the span it is about,
//! and all problems of one spec are reported together.

use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};
use thiserror::Error;

/// One problem found in a spec, with the span it is about and what would be valid.
#[derive(Debug, Error, Diagnostic, Clone)]
#[error("{message}")]
pub struct SpecError {
    message: String,
    #[label("{label}")]
    span: SourceSpan,
    label: String,
    #[label("{other_label}")]
    other_span: Option<SourceSpan>,
    other_label: String,
    #[help]
    help: Option<String>,
}

impl SpecError {
    /// A problem at `span`; `label` is the short text drawn under the span.
    pub fn new(span: SourceSpan, message: impl Into<String>, label: impl Into<String>) -> Self {
        SpecError {
            message: message.into(),
            span,
            label: label.into(),
            other_span: None,
            other_label: String::new(),
            help: None,
        }
    }

    /// Adds what would be valid instead.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Points at a second place, for conflicts (the first definition of a duplicate).
    pub fn also(mut self, span: SourceSpan, label: impl Into<String>) -> Self {
        self.other_span = Some(span);
        self.other_label = label.into();
        self
    }

    /// The message, without the source snippet (used by tests and summaries).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Where in the spec the problem is, for output that names a line
    /// instead of drawing the source (`check --format github`).
    pub fn span(&self) -> SourceSpan {
        self.span
    }
}

/// The one error for something written twice where once is allowed, so
/// that every repeat reads alike: "WHAT is VERB twice", pointing at the
/// repeat and at the first. `verb` says what the spec did with it:
/// "given" (a keyword, property, secret or route), "defined" (a host) or
/// "used" (a service name).
pub fn twice(what: &str, verb: &str, again: SourceSpan, first: SourceSpan) -> SpecError {
    SpecError::new(
        again,
        format!("{what} is {verb} twice"),
        format!("{verb} again here"),
    )
    .also(first, format!("first {verb} here"))
}

/// Collects the problems of one spec so that they are reported in one run.
#[derive(Debug, Default)]
pub struct Problems {
    errors: Vec<SpecError>,
}

impl Problems {
    /// Records one problem.
    pub fn push(&mut self, error: SpecError) {
        self.errors.push(error);
    }

    /// Records `other`'s problems, giving `help` to each that has none.
    pub fn append_with_help(&mut self, other: Problems, help: &str) {
        for mut error in other.errors {
            error.help.get_or_insert_with(|| help.to_string());
            self.errors.push(error);
        }
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Turns the collected problems into a report bound to the spec's source.
    pub fn into_report(self, file: &str, source: Arc<String>) -> SpecReport {
        SpecReport::new(file, source, self.errors)
    }
}

/// Every problem of one spec file, with the file's text so each can be shown in place.
#[derive(Debug, Error, Diagnostic)]
#[error("{summary}")]
pub struct SpecReport {
    summary: String,
    #[source_code]
    source_code: NamedSource<Arc<String>>,
    #[related]
    errors: Vec<SpecError>,
}

impl SpecReport {
    /// Builds the report; `errors` must not be empty.
    pub fn new(file: &str, source: Arc<String>, errors: Vec<SpecError>) -> Self {
        let summary = match errors.len() {
            1 => format!("{file}: 1 error"),
            n => format!("{file}: {n} errors"),
        };
        SpecReport {
            summary,
            source_code: NamedSource::new(file, source).with_language("kdl"),
            errors,
        }
    }

    /// The individual problems.
    pub fn errors(&self) -> &[SpecError] {
        &self.errors
    }

    /// The spec's text, which the problems' spans point into.
    pub fn source(&self) -> &str {
        self.source_code.inner()
    }
}

/// Renders any diagnostic as plain text (no colour), as printed for `NO_COLOR`,
/// in logs, and in the snapshot tests.
pub fn render_plain(diagnostic: &dyn Diagnostic) -> String {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_links(false);
    let mut out = String::new();
    handler
        .render_report(&mut out, diagnostic)
        .expect("writing to a String cannot fail");
    out
}
