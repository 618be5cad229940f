//! A stack refused before anything ran: every problem as the operator
//! reads it (`error: ` and its headline, then the source at fault, in
//! colour on a terminal), and as one `--json` event listing each problem
//! with its fields.

use std::io;

use serde_json::{json, Value};

use crate::model::problems::{Problem, Problems};

use super::terminal::{color_allowed, paint, ERROR};

/// The refusal for stderr: `error: HEADLINE` per problem, each followed by
/// its snippet (coloured when stderr shows colours).
pub fn refusal_text(error: &anyhow::Error) -> String {
    let color = color_allowed(&io::stderr());
    let label = paint(color, ERROR, "error:");
    let problems = Problems::from_error(error);
    let shown: Vec<String> = problems
        .iter()
        .map(|p| format!("{label} {}", p.render(color)))
        .collect();
    shown.join("\n")
}

/// `{"event": "refused", "problems": [...], "errors": [...]}`: each
/// problem (each missing grant of a plugin on its own) with its file,
/// line, column, hook and capability; `errors` has each problem's headline
/// as one string (a headline of several lines kept whole).
pub fn refused_event(error: &anyhow::Error) -> Value {
    let problems = Problems::from_error(error);
    let entries: Vec<Value> = problems
        .iter()
        .flat_map(|p| match p.entries.is_empty() {
            true => vec![entry(p)],
            false => p.entries.iter().map(entry).collect(),
        })
        .collect();
    let errors: Vec<String> = problems.iter().map(Problem::headline).collect();
    json!({"event": "refused", "problems": entries, "errors": errors})
}

fn entry(problem: &Problem) -> Value {
    let snippet = problem.snippet.as_ref();
    json!({
        "file": problem.file,
        "line": problem.line.or(snippet.map(|s| s.line_number())),
        "column": snippet.map(|s| s.column()),
        "hook": problem.hook,
        "capability": problem.capability,
        "message": problem.message,
        "advice": problem.advice,
        "text": problem.headline(),
    })
}
