//! The fixed shell text of the session protocol, kept in `protocol.sh`
//! (whose header states the whole protocol) rather than as byte strings
//! scattered through the Rust side: a reader of the shell sees every line
//! bash runs for the host.

use std::collections::HashMap;
use std::sync::LazyLock;

const PROTOCOL_SH: &str = include_str!("protocol.sh");

/// The blocks of `protocol.sh` by name, comment lines dropped.
static BLOCKS: LazyLock<HashMap<&'static str, String>> = LazyLock::new(|| parse(PROTOCOL_SH));

/// The block `name` of `protocol.sh`, without its trailing newline.
///
/// # Panics
/// When the file has no such block: a mistake in the host's own source,
/// caught by the unit tests below.
pub(super) fn block(name: &str) -> &'static str {
    match BLOCKS.get(name) {
        Some(text) => text,
        None => panic!("protocol.sh has no block {name:?}"),
    }
}

/// Split the file at its `#@ NAME` lines; a block is the lines up to the
/// next, comment lines and trailing blank lines dropped.
fn parse(text: &'static str) -> HashMap<&'static str, String> {
    let mut blocks = HashMap::new();
    let mut current: Option<(&str, String)> = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("#@ ") {
            blocks.extend(current.take().map(finish));
            current = Some((name.trim(), String::new()));
        } else if let Some((_, body)) = current.as_mut() {
            if !line.trim_start().starts_with('#') {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    blocks.extend(current.map(finish));
    blocks
}

fn finish((name, body): (&'static str, String)) -> (&'static str, String) {
    (name, body.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_block_the_host_uses_is_there_and_has_no_comment_lines() {
        for name in ["setup", "go", "loop", "switch", "quiet", "request_end"] {
            let text = block(name);
            assert!(!text.is_empty(), "{name}");
            assert!(text.lines().all(|l| !l.trim_start().starts_with('#')));
        }
    }

    #[test]
    fn the_start_up_line_is_one_line() {
        // bash reads it from the pipe a byte at a time, up to its newline.
        assert_eq!(block("setup").lines().count(), 1);
    }

    #[test]
    fn the_loop_has_its_placeholders() {
        assert!(block("loop").contains("@POLLS@"));
        assert!(block("loop").contains("@GO@"));
    }
}
