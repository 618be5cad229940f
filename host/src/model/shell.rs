//! Words of advice hookhost prints for the operator to paste into a shell
//! (`--allow-read=...`, `mkdir -p ...`): a value that came from a plugin,
//! a manifest or a file name is quoted so that pasting it passes it as one
//! word, never as shell code.

use std::borrow::Cow;

/// `word` as a shell reads it back as the same single word: as it is when
/// every byte is plain (letters, digits, `-_./=:,+@%`), else in single
/// quotes with each `'` written as `'\''`.
pub fn word(word: &str) -> Cow<'_, str> {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    match plain {
        true => Cow::Borrowed(word),
        false => Cow::Owned(format!("'{}'", word.replace('\'', "'\\''"))),
    }
}

/// `words` as a shell would need them written, space-separated.
pub fn words(words: &[String]) -> String {
    let quoted: Vec<Cow<'_, str>> = words.iter().map(|w| word(w)).collect();
    quoted.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_and_others_are_single_quoted() {
        assert_eq!(word("lib/foo"), "lib/foo");
        assert_eq!(word("x;touch${IFS}/tmp/a"), "'x;touch${IFS}/tmp/a'");
        assert_eq!(word("it's"), "'it'\\''s'");
        assert_eq!(word(""), "''");
    }

    #[test]
    fn a_quoted_word_reads_back_as_itself_in_bash() {
        let hostile = "a'b $(id) `id` \\ \" ;|&";
        let out = std::process::Command::new("bash")
            .args(["-c", &format!("printf %s {}", word(hostile))])
            .output()
            .expect("bash runs");
        assert_eq!(String::from_utf8_lossy(&out.stdout), hostile);
    }
}
