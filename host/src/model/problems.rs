//! What refuses a stack, as data rather than joined text: each problem
//! with the file it is in, the line when known, what is wrong and what to
//! do about it. The layers that check a stack collect them (every problem
//! in one pass where they can); the binary renders them in one place.
//!
//! A problem renders as the one line the operator reads:
//! `FILE:LINE: MESSAGE — ADVICE` (each part only when known), then, when
//! known, the source at fault with a caret (`model::snippet`).

use std::fmt;
use std::path::PathBuf;

use crate::model::snippet::Snippet;

/// One thing wrong with a stack, found before anything runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file the problem is in, when it is about one.
    pub file: Option<PathBuf>,
    /// The 1-based line of `file`, when known.
    pub line: Option<usize>,
    /// What is wrong (may span lines: a list of missing grants).
    pub message: String,
    /// What the operator can do about it.
    pub advice: Option<String>,
    /// The source at fault, shown under the headline as rustc does.
    pub snippet: Option<Snippet>,
    /// The hook the problem is about, when it is one hook's.
    pub hook: Option<String>,
    /// The capability at stake (`read`, `net`, ...), when one is.
    pub capability: Option<String>,
    /// The items a problem about several things is made of (each missing
    /// grant of a plugin), for machines: `--json` lists them one by one.
    pub entries: Vec<Problem>,
}

impl Problem {
    /// A problem not tied to one file (or whose message names it already).
    pub fn new(message: impl Into<String>) -> Problem {
        Problem {
            file: None,
            line: None,
            message: message.into(),
            advice: None,
            snippet: None,
            hook: None,
            capability: None,
            entries: Vec::new(),
        }
    }

    /// A problem in `file`, at `line` when known.
    pub fn at(
        file: impl Into<PathBuf>,
        line: Option<usize>,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            file: Some(file.into()),
            line,
            message: message.into(),
            advice: None,
            snippet: None,
            hook: None,
            capability: None,
            entries: Vec::new(),
        }
    }

    /// The same problem, with what to do about it.
    pub fn advise(mut self, advice: impl Into<String>) -> Problem {
        self.advice = Some(advice.into());
        self
    }

    /// The same problem, with the source it is about.
    pub fn show(mut self, snippet: Option<Snippet>) -> Problem {
        self.snippet = snippet;
        self
    }

    /// The same problem, about hook `hook`.
    pub fn for_hook(mut self, hook: impl Into<String>) -> Problem {
        self.hook = Some(hook.into());
        self
    }

    /// The same problem, about capability `capability`.
    pub fn about(mut self, capability: impl Into<String>) -> Problem {
        self.capability = Some(capability.into());
        self
    }

    /// The one line the operator reads first: `FILE:LINE: MESSAGE — ADVICE`.
    pub fn headline(&self) -> String {
        let mut text = String::new();
        match (&self.file, self.line) {
            (Some(file), Some(line)) => text.push_str(&format!("{}:{line}: ", file.display())),
            (Some(file), None) => text.push_str(&format!("{}: ", file.display())),
            (None, _) => {}
        }
        text.push_str(&self.message);
        if let Some(advice) = &self.advice {
            text.push_str(&format!(" — {advice}"));
        }
        text
    }

    /// The headline and, under it, the source at fault (in colour when
    /// `color`).
    pub fn render(&self, color: bool) -> String {
        match &self.snippet {
            Some(snippet) => format!("{}\n{}", self.headline(), snippet.render(color)),
            None => self.headline(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

/// Every problem found, in the order found; one line (or more) each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn new() -> Problems {
        Problems::default()
    }

    pub fn push(&mut self, problem: Problem) {
        self.0.push(problem);
    }

    /// The problems an error carries: its own list when it is one, else
    /// the error's text (with its causes) as one problem.
    pub fn push_error(&mut self, error: &anyhow::Error) {
        match error.downcast_ref::<Problems>() {
            // Only an unwrapped list: a context around it says more.
            Some(problems) if error.chain().count() == 1 => self.0.extend(problems.0.clone()),
            _ => self.push(Problem::new(format!("{error:#}"))),
        }
    }

    /// The problems `error` carries (see [`Problems::push_error`]).
    pub fn from_error(error: &anyhow::Error) -> Problems {
        let mut problems = Problems::new();
        problems.push_error(error);
        problems
    }

    /// Every problem of `other`, after these.
    pub fn extend(&mut self, other: Problems) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter()
    }

    /// `value` when nothing was found wrong, else these problems.
    pub fn or_ok<T>(self, value: T) -> Result<T, Problems> {
        match self.is_empty() {
            true => Ok(value),
            false => Err(self),
        }
    }
}

impl From<Problem> for Problems {
    fn from(problem: Problem) -> Problems {
        Problems(vec![problem])
    }
}

impl From<anyhow::Error> for Problems {
    fn from(error: anyhow::Error) -> Problems {
        let mut problems = Problems::new();
        problems.push_error(&error);
        problems
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// An I/O error as plain words, without the `(os error N)` suffix.
pub fn io_message(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_renders_its_known_parts_only() {
        let full = Problem::at("local.conf", Some(3), "enabled twice").advise("enable it once");
        assert_eq!(
            full.to_string(),
            "local.conf:3: enabled twice — enable it once"
        );
        let no_line = Problem::at("hookhost.toml", None, "bad key");
        assert_eq!(no_line.to_string(), "hookhost.toml: bad key");
        assert_eq!(Problem::new("plain").to_string(), "plain");
    }

    #[test]
    fn problems_render_one_per_line_in_order() {
        let mut problems = Problems::new();
        problems.push(Problem::new("first"));
        problems.push(Problem::at("b", Some(1), "second"));
        assert_eq!(problems.to_string(), "first\nb:1: second");
    }

    #[test]
    fn an_error_carrying_problems_gives_them_back_one_by_one() {
        let inner = Problems(vec![Problem::new("a"), Problem::new("b")]);
        let mut problems = Problems::new();
        problems.push_error(&anyhow::Error::new(inner.clone()));
        assert_eq!(problems, inner);
        // A context around the list says more than the list: kept as text.
        let wrapped = anyhow::Error::new(inner).context("plugin x");
        let mut problems = Problems::new();
        problems.push_error(&wrapped);
        assert_eq!(problems.0.len(), 1);
        assert_eq!(problems.to_string(), "plugin x: a\nb");
    }
}
