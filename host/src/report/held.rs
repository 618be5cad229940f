//! A line held back so that it goes out with the next one, in one `write(2)`.
//!
//! A hook's end is reported microseconds before the next hook starts. So
//! the log, `--json` and the journal each keep a hook's end line back and
//! write it together with the next line: one write per hook instead of
//! two. A run that is killed loses at most that one line; whoever holds
//! one writes what is left ([`HeldLine::take`]) when it finishes.

/// At most a few lines waiting for the next write.
#[derive(Debug, Default)]
pub struct HeldLine(Vec<u8>);

impl HeldLine {
    /// Keep `line` (its newline included) for the next write.
    pub fn hold(&mut self, line: &[u8]) {
        self.0.extend_from_slice(line);
    }

    /// The bytes to write now: what was held, then `line`.
    pub fn before(&mut self, line: &[u8]) -> Vec<u8> {
        let mut bytes = std::mem::take(&mut self.0);
        bytes.extend_from_slice(line);
        bytes
    }

    /// What was held (empty when nothing), for the last write.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_line_goes_out_once_before_the_next() {
        let mut held = HeldLine::default();
        assert_eq!(held.before(b"a\n"), b"a\n");
        held.hold(b"end\n");
        assert_eq!(held.before(b"next\n"), b"end\nnext\n");
        assert_eq!(held.before(b"again\n"), b"again\n");
        held.hold(b"last\n");
        assert_eq!(held.take(), b"last\n");
        assert!(held.take().is_empty());
    }
}
