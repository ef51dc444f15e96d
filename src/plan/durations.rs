//! Durations as PLAN.md shows them: as the spec writes them, so a reviewer
//! reads `2m` where the spec says `2m`, and a default in whole seconds, the
//! form the docs give defaults in.

use crate::spec::values::Duration;
use crate::spec::Spanned;

/// The text of a duration: as written, else `default_ms` in seconds
/// (`30s`), or in milliseconds when that is not a whole number of seconds.
pub fn text(written: Option<&Spanned<Duration>>, default_ms: u64) -> String {
    match written {
        Some(duration) => duration.value.text.clone(),
        None if default_ms % 1000 == 0 => format!("{}s", default_ms / 1000),
        None => format!("{default_ms}ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::values;

    #[test]
    fn written_text_is_kept_and_defaults_are_in_seconds() {
        let written = Spanned::new(
            Duration {
                millis: values::duration("2m").unwrap(),
                text: "2m".into(),
            },
            (0..4).into(),
        );
        assert_eq!(text(Some(&written), 30_000), "2m");
        assert_eq!(text(None, 30_000), "30s");
        assert_eq!(text(None, 120_000), "120s");
        assert_eq!(text(None, 1_500), "1500ms");
    }
}
