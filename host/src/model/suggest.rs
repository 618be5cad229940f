//! "Did you mean …?": the nearest known name to a word that matched
//! nothing (a grant table, a service, a driver, a manifest field), so a
//! typo is answered with the name the operator meant.

/// The candidate closest to `word`, if one is close enough to be a likely
/// typo of it. Ties go to the first candidate, so callers pass candidates
/// in the order they want them preferred.
pub(crate) fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut best: Option<(f64, &'a str)> = None;
    for candidate in candidates {
        if candidate == word {
            continue;
        }
        let score = strsim::jaro_winkler(&word.to_lowercase(), &candidate.to_lowercase());
        if score >= 0.8 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, name)| name)
}

/// `word` as a ` (did you mean `X`?)` suffix, or nothing.
pub(crate) fn hint<'a, I>(word: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    did_you_mean(word, candidates)
        .map(|name| format!(" (did you mean `{name}`?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_finds_the_name_it_was_meant_to_be() {
        let hooks = ["10-setup", "20-greeter", "30-auditor"];
        assert_eq!(
            did_you_mean("greter", ["greeter", "auditor"]),
            Some("greeter")
        );
        assert_eq!(did_you_mean("20-greter", hooks), Some("20-greeter"));
        assert_eq!(
            hint("libvrt", ["libvirt", "fake"]),
            " (did you mean `libvirt`?)"
        );
    }

    #[test]
    fn an_unrelated_word_suggests_nothing() {
        assert_eq!(did_you_mean("zebra", ["greeter", "auditor"]), None);
        assert_eq!(hint("x", ["greeter"]), "");
        assert_eq!(did_you_mean("same", ["same"]), None);
    }
}
