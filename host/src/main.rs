//! The `hookhost` binary: parse the command line, open the stack, plan,
//! run, and turn the outcome into an exit status.
//!
//! Exit status: 0 success, 1 a hook failed, 2 the stack or its input was
//! refused before anything ran.

mod cli;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::Parser;

use cli::{Cli, Command, RunArgs, StackArgs};
use hookhost::phases::Entry;
use hookhost::plan::{make_plan, Plan, PlanOptions};
use hookhost::report::{Mode, Reporter};
use hookhost::run::{execute, RunOptions};
use hookhost::stack::Stack;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Stack(args) => run_entry(Entry::Stack, &args),
        Command::Unstack(args) => run_entry(Entry::Unstack, &args),
        Command::Clean(args) => run_entry(Entry::Clean, &args),
        Command::Plan { entry, stack, json } => show_plan(entry.into(), &stack, json),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Open the stack and plan `entry` with the operator's grants applied.
fn plan_for(entry: Entry, args: &StackArgs) -> anyhow::Result<Plan> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let mut stack = Stack::open(&args.top, &env)?;
    stack.operator.apply_flags(&args.grants.flags());
    let options = PlanOptions {
        extensions: args.extensions(),
        allow_reserved: args.grants.allow_reserved,
    };
    make_plan(&stack, entry, &options)
}

fn show_plan(entry: Entry, args: &StackArgs, json: bool) -> anyhow::Result<ExitCode> {
    let plan = plan_for(entry, args)?;
    match json {
        true => println!("{}", serde_json::to_string_pretty(&plan.to_json())?),
        false => print!("{}", plan.render()),
    }
    Ok(ExitCode::SUCCESS)
}

fn run_entry(entry: Entry, args: &RunArgs) -> anyhow::Result<ExitCode> {
    let plan = plan_for(entry, &args.stack)?;
    let mode = match (args.json, args.quiet) {
        (true, _) => Mode::Json,
        (_, true) => Mode::Quiet,
        _ => Mode::Human,
    };
    let mut reporter = Reporter::new(mode);
    let log = args.log.clone().unwrap_or_else(|| {
        plan.stack
            .state_dir
            .join("logs")
            .join(format!("{}.log", entry.name()))
    });
    reporter.log_to(&log)?;
    for skipped in &plan.skipped {
        reporter.warning(&format!(
            "skipped {}: {}",
            skipped.path.display(),
            skipped.reason
        ));
    }
    let options = RunOptions {
        allow_install: plan.stack.operator.allow_install,
    };
    let reporter = Arc::new(Mutex::new(reporter));
    let summary = execute(&plan, &options, reporter)?;
    Ok(match summary.ok() {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(1),
    })
}
