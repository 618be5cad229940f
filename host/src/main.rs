//! The `hookhost` binary: parse the command line, open the stack, plan,
//! run, and turn the outcome into an exit status.
//!
//! Exit status: 0 success, 1 a hook failed, 2 the stack or its input was
//! refused before anything ran, 130 the run was interrupted (Ctrl-C), 143
//! it was stopped by SIGTERM.

mod cli;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::{CommandFactory, Parser};

use cli::{Cli, Command, RunArgs, StackArgs};
use hookhost::author;
use hookhost::commands::list;
use hookhost::config::stack::Stack;
use hookhost::interrupt;
use hookhost::model::events::{Event, Observers, RunObserver};
use hookhost::model::phases::Entry;
use hookhost::plan::{discover, fetch, make_plan, Plan, PlanOptions};
use hookhost::report::{self, Mode, Reporter};
use hookhost::run::{execute, run_start, Observer, RunOptions};
use hookhost::state::journal::{self, Journal, JournalObserver};
use hookhost::state::runlock::RunLock;

fn main() -> ExitCode {
    // The hidden launcher of confined bash hooks (see hookhost::bash::confine).
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == hookhost::bash::confine::LAUNCHER)
    {
        return hookhost::bash::confine::launcher_main();
    }
    let cli = Cli::parse();
    if !cli.command.is_run() {
        // `hookhost plan | head` ends quietly, as Unix tools do. A run keeps
        // going instead (its reporter ignores a closed stdout; the log has all).
        // SAFETY: restoring the default disposition of one signal at start-up,
        // before any thread exists.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let result = match cli.command {
        Command::Stack(args) => run_entry(Entry::Stack, &args),
        Command::Unstack(args) => run_entry(Entry::Unstack, &args),
        Command::Clean(args) => run_entry(Entry::Clean, &args),
        Command::Plan {
            entry,
            stack,
            json,
            dry_run,
        } => show_plan(entry.into(), &stack, json, dry_run),
        Command::List { stack, json } => show_list(&stack, json),
        Command::Completions { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "hookhost", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::New { name, path, sdk } => {
            author::scaffold::run(&name, path.as_deref(), sdk.as_deref()).map(|_| ExitCode::SUCCESS)
        }
        Command::Build { path } => author::build::run(&path).map(|_| ExitCode::SUCCESS),
        Command::Inspect { file, json } => {
            author::inspect::run(&file, json).map(|_| ExitCode::SUCCESS)
        }
        Command::Cache { action } => cache_command(action),
        Command::Status { top, json } => hookhost::commands::status::show(&top, json).map(|text| {
            print!("{text}");
            ExitCode::SUCCESS
        }),
    };
    report_resources();
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Open the stack and plan `entry` with the operator's grants applied.
fn plan_for(entry: Entry, args: &StackArgs, dry_run: bool) -> anyhow::Result<Plan> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let mut stack = Stack::open(&args.top, &env)?;
    stack.operator.apply_flags(&args.grants.flags());
    if let Some(path) = &args.audit {
        hookhost::capabilities::audit::start(path)?;
    }
    let options = PlanOptions {
        extensions: args.extensions(),
        allow_reserved: args.grants.allow_reserved,
        update_lock: args.update_lock,
    };
    // Hooks first: a stack whose extras.d is refused fetches nothing. Then
    // the one step that clones; planning only checks, and the lock is
    // written after it.
    let discovery = discover(&stack, &options)?;
    // A dry run changes nothing outside .hookhost/ and uses no network.
    let fetched = match dry_run {
        true => fetch::preview_plugins(&stack),
        false => fetch::fetch_plugins(&stack, args.update_lock),
    };
    let planned = make_plan(&stack, entry, &options, discovery, &fetched);
    if !dry_run {
        fetch::record_lock(&stack, planned.lock.as_ref())?;
    }
    Ok(planned.plan?)
}

fn show_plan(
    entry: Entry,
    args: &StackArgs,
    json: bool,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    let plan = plan_for(entry, args, dry_run)?;
    let confinement = dry_run.then(|| hookhost::bash::confine::dry_run_status().lines());
    match json {
        true => {
            let mut value = plan.to_json();
            if let (Some(lines), Some(object)) = (&confinement, value.as_object_mut()) {
                object.insert("dry_run_confinement".into(), serde_json::json!(lines));
            }
            println!("{}", serde_json::to_string_pretty(&value)?)
        }
        false => {
            print!("{}", plan.render());
            if let Some(lines) = confinement {
                println!("\ndry run (--dry-run) on this machine:");
                for line in lines {
                    println!("  {line}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show_list(args: &StackArgs, json: bool) -> anyhow::Result<ExitCode> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let mut stack = Stack::open(&args.top, &env)?;
    stack.operator.apply_flags(&args.grants.flags());
    let allow_reserved = args.grants.allow_reserved || stack.operator.allow_reserved;
    let listing = list::list(&stack, allow_reserved)?;
    match json {
        true => println!("{}", serde_json::to_string_pretty(&listing.to_json())?),
        false => print!("{}", listing.render()),
    }
    Ok(ExitCode::SUCCESS)
}

fn run_entry(entry: Entry, args: &RunArgs) -> anyhow::Result<ExitCode> {
    // Before anything starts: a Ctrl-C from here on stops the run in order.
    interrupt::install_handler()?;
    let mode = match (args.json, args.quiet, args.verbose) {
        (true, _, _) => Mode::Json,
        (_, true, _) => Mode::Quiet,
        (_, _, true) => Mode::Verbose,
        _ => Mode::Human,
    };
    let started = std::time::Instant::now();
    // One run per stack, from before planning (which may fetch plugins) to the end.
    let (_lock, journal) = guard_stack(entry, &args.stack.top)?.unzip();
    let refused = |e: &anyhow::Error| journal_refused(journal.as_deref(), entry, e, started);
    let plan = match plan_for(entry, &args.stack, args.dry_run).inspect_err(refused) {
        Ok(plan) => plan,
        Err(e) if mode == Mode::Json => {
            // CI reading the events learns why nothing ran; people read stderr.
            let problems: Vec<String> = format!("{e:#}").lines().map(str::to_string).collect();
            println!(
                "{}",
                serde_json::json!({"event": "refused", "errors": problems})
            );
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let mut reporter = Reporter::new(mode);
    let log = match &args.log {
        Some(path) => path.clone(),
        None => report::new_log_path(&plan.stack.state_dir.join("logs"), entry.name()),
    };
    let start = run_start(&plan);
    // The journal records every step first, then the terminal and the log.
    let mut observers = Observers::new();
    if let Some(journal) = &journal {
        journal.run_started(journal::start_record(&start, &log))?;
        observers.add(JournalObserver::new(journal.clone()));
    }
    reporter.log_to(&log).inspect_err(refused)?;
    if args.log.is_none() {
        report::link_latest(&log);
    }
    observers.add(reporter);
    observers.event(&Event::RunStarted(&start));
    for note in &plan.notes {
        observers.event(&Event::Warning(note));
    }
    for skipped in &plan.skipped {
        let warning = format!("skipped {}: {}", skipped.path.display(), skipped.reason);
        observers.event(&Event::Warning(&warning));
    }
    let options = RunOptions {
        allow_install: plan.stack.operator.allow_install,
        dry_run: args.dry_run,
    };
    let observer: Observer = Arc::new(Mutex::new(observers));
    let summary = match execute(&plan, &options, observer.clone()) {
        Ok(summary) => summary,
        Err(e) => {
            // Refusals found while starting (a broken component): in the log too.
            let mut observer = observer.lock().unwrap_or_else(|e| e.into_inner());
            for line in format!("{e:#}").lines() {
                observer.event(&Event::Error(line));
            }
            refused(&e);
            return Ok(ExitCode::from(2));
        }
    };
    if let Some(journal) = &journal {
        let status = match (&summary.interrupted, summary.ok()) {
            (Some(_), _) => "interrupted",
            (None, true) => "ok",
            (None, false) => "failed",
        };
        journal.run_ended(status, summary.failures.len(), started.elapsed(), None);
    }
    Ok(if summary.interrupted.is_some() {
        ExitCode::from(interrupt::exit_status())
    } else if summary.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `HOOKHOST_RESOURCE_REPORT=FILE` (scripts/soak.sh): when the command is
/// done, append what this process still holds — open descriptors, threads,
/// resident and peak memory — to FILE as one JSON line.
fn report_resources() {
    let Some(path) = std::env::var_os("HOOKHOST_RESOURCE_REPORT") else {
        return;
    };
    // Minus the descriptor read_dir itself holds.
    let fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count().saturating_sub(1));
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find_map(|l| l.strip_prefix(name))?;
        line.split_whitespace().next()?.parse().ok()
    };
    let line = serde_json::json!({
        "fds": fds, "threads": field("Threads:"),
        "rss_kb": field("VmRSS:"), "hwm_kb": field("VmHWM:"),
    });
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, format!("{line}\n").as_bytes()));
    if let Err(e) = written {
        eprintln!(
            "warning: cannot write the resource report {}: {e}",
            Path::new(&path).display()
        );
    }
}

/// Take the stack's run lock and open its state journal. None when there
/// is no stack directory (planning then says so).
fn guard_stack(entry: Entry, top: &Path) -> anyhow::Result<Option<(RunLock, Arc<Journal>)>> {
    if !top.is_dir() {
        return Ok(None);
    }
    let top = top
        .canonicalize()
        .map_err(|e| anyhow::anyhow!("cannot resolve {}: {e}", top.display()))?;
    let state = top.join(hookhost::config::stack::STATE_DIR);
    let run = journal::new_run_id();
    let lock = RunLock::acquire(&state, entry.name(), &run)?;
    // A later run waits for this run's bash session, which the kernel ends
    // a moment after the lock when hookhost is killed.
    hookhost::bash::tied::on_session(lock.session_recorder());
    let journal = Journal::open(&state, &run)?;
    Ok(Some((lock, Arc::new(journal))))
}

/// A run refused before any hook ran: in the journal too, so `hookhost
/// status` says why.
fn journal_refused(
    journal: Option<&Journal>,
    entry: Entry,
    error: &anyhow::Error,
    started: std::time::Instant,
) {
    let Some(journal) = journal else {
        return;
    };
    if !journal.has_started() {
        // Best effort: the refusal itself is what the operator sees.
        // The journal is <top>/.hookhost/journal.jsonl.
        let top = journal.path().parent().and_then(Path::parent);
        let _ = journal.run_started(journal::Record {
            entry: Some(entry.name().to_string()),
            top: top.map(|t| t.display().to_string()),
            ..journal::Record::default()
        });
    }
    let reason = format!("{error:#}").replace('\n', "; ");
    journal.run_ended("refused", 0, started.elapsed(), Some(&reason));
}

/// `hookhost cache clean|dir`.
fn cache_command(action: cli::CacheAction) -> anyhow::Result<ExitCode> {
    let dir = hookhost::wasm::cache::default_dir().ok_or_else(|| {
        anyhow::anyhow!("no cache directory: set HOOKHOST_CACHE_DIR, XDG_CACHE_HOME or HOME")
    })?;
    match action {
        cli::CacheAction::Dir => println!("{}", dir.display()),
        cli::CacheAction::Clean => print!("{}", hookhost::wasm::cache::clean_report(&dir)?),
    }
    Ok(ExitCode::SUCCESS)
}
