//! "did you mean" for misspelt node and property names.

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), *c))
        .filter(|(distance, c)| *distance <= 2.max(c.len() / 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// Help text for an unknown name: a suggestion when one is close, else the list.
pub fn unknown_help(word: &str, candidates: &[&str]) -> String {
    match closest(word, candidates) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!("expected one of: {}", candidates.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        assert_eq!(closest("imgae", &["image", "port"]), Some("image"));
        assert_eq!(closest("healt", &["health", "hosts"]), Some("health"));
        assert_eq!(closest("zebra", &["image", "port"]), None);
    }
}
