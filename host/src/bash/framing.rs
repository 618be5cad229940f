//! Byte-level pieces of the session protocol: quoting values for bash,
//! validating names, per-request tokens, finding a request's end marker in
//! an output stream, splitting output into lines, and reading query replies.
//!
//! Nothing here talks to a process; it is all pure and unit-tested.

use anyhow::{bail, Result};

/// Single-quote `value` for bash: `'...'`, with each `'` written as `'\''`.
/// Newlines and every other byte stay literal inside the quotes.
pub fn quote(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 2);
    out.push(b'\'');
    for &b in value {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
    out
}

/// Quote a value bash must receive exactly: refuses NUL, which bash cannot hold.
pub fn quote_checked(value: &[u8], what: &str) -> Result<Vec<u8>> {
    if value.contains(&0) {
        bail!("{what} contains a NUL byte, which bash cannot hold");
    }
    Ok(quote(value))
}

/// A shell variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A function name hookhost will call: a variable name that may also
/// contain `-`, `.` and `:` after the first character (DevStack's
/// `is_n-cpu_enabled`, `foo::bar`).
pub fn is_function_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

/// A fresh random word naming one request's markers. Hooks cannot guess it.
pub struct Token(String);

impl Token {
    pub fn new() -> Result<Token> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)
            .map_err(|e| anyhow::anyhow!("could not get random bytes for the bash session: {e}"))?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Token(format!("__hh_{hex}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What ends a request on each stream: bash prints `<token> <status>\n`.
    pub fn needle(&self) -> Vec<u8> {
        format!("{} ", self.0).into_bytes()
    }
}

/// Finds a request's end marker in one output stream and releases the
/// bytes before it. Bytes that might be the start of the marker are held
/// back until more data shows whether they are. The marker has no leading
/// newline (bash's line-buffered printf would write that newline on its
/// own, one more write and wake-up per marker): it may follow a hook's
/// unterminated last line on the same line, and is found there, the token
/// being random.
#[derive(Default)]
pub struct Framer {
    pending: Vec<u8>,
}

impl Framer {
    pub fn push(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    /// Release what is known to be output, to `sink`. Returns the status
    /// once the whole marker line arrived; bytes after it stay pending
    /// (they belong to whatever comes next).
    pub fn scan(&mut self, needle: &[u8], sink: &mut dyn FnMut(&[u8])) -> Option<i32> {
        if let Some(pos) = find(&self.pending, needle) {
            let after = pos + needle.len();
            let nl = self.pending[after..].iter().position(|&b| b == b'\n')?;
            let status = parse_status(&self.pending[after..after + nl]);
            if pos > 0 {
                sink(&self.pending[..pos]);
            }
            self.pending.drain(..after + nl + 1);
            return Some(status);
        }
        let release = self.pending.len() - held_back(&self.pending, needle);
        if release > 0 {
            sink(&self.pending[..release]);
            self.pending.drain(..release);
        }
        None
    }

    /// Cut `reply` out of what is pending, once all of it arrived: the
    /// bytes before it and its payload; what follows stays pending.
    pub fn take(&mut self, reply: &ReplyFrame) -> Option<(Vec<u8>, Vec<u8>)> {
        let start = find(&self.pending, &reply.open)?;
        let body = start + reply.open.len();
        let len = find(&self.pending[body..], &reply.close)?;
        let payload = self.pending[body..body + len].to_vec();
        let before = self.pending[..start].to_vec();
        self.pending.drain(..body + len + reply.close.len());
        Some((before, payload))
    }

    /// Release everything pending (the stream ended without a marker).
    pub fn flush(&mut self, sink: &mut dyn FnMut(&[u8])) {
        if !self.pending.is_empty() {
            sink(&self.pending);
            self.pending.clear();
        }
    }
}

/// Length of the longest suffix of `data` that is a proper prefix of `needle`.
fn held_back(data: &[u8], needle: &[u8]) -> usize {
    (1..needle.len().min(data.len() + 1))
        .rev()
        .find(|&k| data.ends_with(&needle[..k]))
        .unwrap_or(0)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The marker's status; something unparsable (never printed by the
/// session itself) counts as a failure.
fn parse_status(bytes: &[u8]) -> i32 {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(255)
}

/// Splits a byte stream into lines (without the `\n`), converting each to
/// text lossily; `finish` hands over a final line that has no newline.
#[derive(Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    pub fn push(&mut self, bytes: &[u8], emit: &mut dyn FnMut(&str)) {
        let mut rest = bytes;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&rest[..nl]);
            emit(&String::from_utf8_lossy(&self.partial));
            self.partial.clear();
            rest = &rest[nl + 1..];
        }
        self.partial.extend_from_slice(rest);
    }

    pub fn finish(&mut self, emit: &mut dyn FnMut(&str)) {
        if !self.partial.is_empty() {
            emit(&String::from_utf8_lossy(&self.partial));
            self.partial.clear();
        }
    }
}

/// How a query's reply is framed on stdout: `<token>{payload}<token>\n`
/// (`__hh_reply`), or for the variable sync, whose payload holds NUL-ended
/// entries, `<token>{\0 entries }<token>\0` (one printf, see `mirror`).
pub struct ReplyFrame {
    open: Vec<u8>,
    close: Vec<u8>,
}

impl ReplyFrame {
    pub fn of(token: &Token) -> ReplyFrame {
        ReplyFrame {
            open: format!("{}{{", token.as_str()).into_bytes(),
            close: format!("}}{}\n", token.as_str()).into_bytes(),
        }
    }

    pub fn sync_of(token: &Token) -> ReplyFrame {
        ReplyFrame {
            open: format!("{}{{\0", token.as_str()).into_bytes(),
            close: format!("}}{}\0", token.as_str()).into_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(framer: &mut Framer, needle: &[u8]) -> (Vec<u8>, Option<i32>) {
        let mut out = Vec::new();
        let status = framer.scan(needle, &mut |b| out.extend_from_slice(b));
        (out, status)
    }

    #[test]
    fn quote_escapes_single_quotes_only() {
        assert_eq!(quote(b"a b"), b"'a b'");
        assert_eq!(quote(b"it's"), b"'it'\\''s'");
        assert_eq!(quote(b"$x\n`y`"), b"'$x\n`y`'");
        assert!(quote_checked(b"a\0b", "value").is_err());
    }

    #[test]
    fn names_are_validated() {
        assert!(is_var_name("ENABLED_SERVICES"));
        assert!(is_var_name("_x1"));
        assert!(!is_var_name("1x"));
        assert!(!is_var_name("a-b"));
        assert!(!is_var_name(""));
        assert!(!is_var_name("a b"));
        assert!(is_function_name("is_n-cpu_enabled"));
        assert!(is_function_name("foo::bar"));
        assert!(!is_function_name("-x"));
        assert!(!is_function_name("a;b"));
        assert!(!is_function_name("a'b"));
    }

    #[test]
    fn tokens_are_fresh() {
        let (a, b) = (Token::new().unwrap(), Token::new().unwrap());
        assert_ne!(a.as_str(), b.as_str());
        assert_eq!(a.as_str().len(), 5 + 32);
    }

    #[test]
    fn framer_cuts_the_marker_out() {
        let needle = b"TOK ";
        let mut f = Framer::default();
        f.push(b"line1\nline2\nTOK 7\nnext");
        let (out, status) = scan_all(&mut f, needle);
        assert_eq!(out, b"line1\nline2\n");
        assert_eq!(status, Some(7));
        assert_eq!(f.pending, b"next");
    }

    #[test]
    fn framer_finds_the_marker_after_an_unterminated_line() {
        let needle = b"TOK ";
        let mut f = Framer::default();
        f.push(b"no newline at the endTOK 0\n");
        let (out, status) = scan_all(&mut f, needle);
        assert_eq!(
            (out.as_slice(), status),
            (&b"no newline at the end"[..], Some(0))
        );
    }

    #[test]
    fn framer_holds_back_possible_marker_start() {
        let needle = b"TOK ";
        let mut f = Framer::default();
        f.push(b"partial\nTO");
        let (out, status) = scan_all(&mut f, needle);
        assert_eq!((out.as_slice(), status), (&b"partial\n"[..], None));
        f.push(b"K 0");
        assert_eq!(scan_all(&mut f, needle), (Vec::new(), None));
        f.push(b"\n");
        assert_eq!(scan_all(&mut f, needle), (Vec::new(), Some(0)));
    }

    #[test]
    fn framer_releases_a_finished_line_at_once() {
        let needle = b"TOK ";
        let mut f = Framer::default();
        f.push(b"READY\n");
        assert_eq!(scan_all(&mut f, needle), (b"READY\n".to_vec(), None));
        f.push(b"TOX\nTOK 3\n");
        assert_eq!(scan_all(&mut f, needle), (b"TOX\n".to_vec(), Some(3)));
    }

    #[test]
    fn framer_ignores_other_tokens() {
        let needle = b"TOK ";
        let mut f = Framer::default();
        f.push(b"x\nTOX 0\nTOK{reply}TOK\nTOK 1\n");
        assert_eq!(
            scan_all(&mut f, needle),
            (b"x\nTOX 0\nTOK{reply}TOK\n".to_vec(), Some(1))
        );
    }

    #[test]
    fn lines_split_lossily_with_final_partial() {
        let mut lines = Vec::new();
        let mut s = LineSplitter::default();
        s.push(b"a\nb\xffc\n", &mut |l| lines.push(l.to_string()));
        s.push(b"d", &mut |l| lines.push(l.to_string()));
        s.push(b"e\n\nf", &mut |l| lines.push(l.to_string()));
        s.finish(&mut |l| lines.push(l.to_string()));
        assert_eq!(lines, ["a", "b\u{fffd}c", "de", "", "f"]);
    }

    #[test]
    fn reply_is_cut_out_of_surrounding_output() {
        let token = Token("T".into());
        let mut f = Framer::default();
        f.push(b"noise\nT{Sa\nb");
        assert_eq!(f.take(&ReplyFrame::of(&token)), None);
        f.push(b"}T\nmore");
        let taken = f.take(&ReplyFrame::of(&token)).unwrap();
        assert_eq!(taken, (b"noise\n".to_vec(), b"Sa\nb".to_vec()));
        assert_eq!(f.pending, b"more");
        f.push(b"T{\0A=Sx\0B=U\0}T\0");
        let taken = f.take(&ReplyFrame::sync_of(&token)).unwrap();
        assert_eq!(taken, (b"more".to_vec(), b"A=Sx\0B=U\0".to_vec()));
    }
}
