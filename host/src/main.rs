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
use hookhost::model::hooks::HookKind;
use hookhost::model::phases::Entry;
use hookhost::model::problems::{Problem, Problems};
use hookhost::plan::{discover, fetch, make_plan, unmatched_grant_tables, Plan, PlanOptions};
use hookhost::report::{self, Mode, Reporter};
use hookhost::run::{execute, run_start, Observer, RunOptions};
use hookhost::state::journal::{self, Journal, JournalObserver};
use hookhost::state::runlock::RunLock;
use hookhost::wasm::Role;

fn main() -> ExitCode {
    // The hidden launcher of confined bash hooks (see hookhost::bash::confine).
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == hookhost::bash::confine::LAUNCHER)
    {
        return hookhost::bash::confine::launcher_main();
    }
    let cli = Cli::parse();
    let state_dir = match chosen_state_dir(cli.state_dir.clone()) {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let state_dir = state_dir.as_deref();
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
        Command::Stack(args) => run_entry(Entry::Stack, &args, state_dir),
        Command::Unstack(args) => run_entry(Entry::Unstack, &args, state_dir),
        Command::Clean(args) => run_entry(Entry::Clean, &args, state_dir),
        Command::Plan {
            entry,
            stack,
            json,
            dry_run,
        } => show_plan(entry.into(), &stack, state_dir, json, dry_run),
        Command::List { stack, json } => show_list(&stack, state_dir, json),
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
        Command::Status {
            top,
            json,
            timeline,
        } => show_status(&top, state_dir, json, timeline.as_deref()),
    };
    report_resources();
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", report::refusal_text(&e));
            ExitCode::from(2)
        }
    }
}

/// Open the stack (its state in `state_dir` when one was chosen) and plan
/// `entry` with the operator's grants applied, or say every problem found
/// before the first hook would run: local.conf, the grant flags, the hooks
/// of extras.d, manifests and grants, drivers, and (`components`, or when
/// anything else is wrong already) whether each WASM hook is a component
/// hookhost can run.
///
/// The warnings of a refused stack are said before its problems (as
/// `{"event":"warning"}` lines on stdout when `json`): a skipped file, a
/// service local.conf names or a grant (table, table entry or `--allow-*`
/// flag) that matches nothing often explains a refusal.
fn plan_for(
    entry: Entry,
    args: &StackArgs,
    state_dir: Option<&Path>,
    dry_run: bool,
    components: bool,
    json: bool,
) -> anyhow::Result<Plan> {
    let (mut stack, mut problems) = open_stack(&args.top, state_dir)?;
    let (flags, refused) = args.grants.flags().checked();
    problems.extend(refused);
    stack.operator.apply_flags(&flags);
    if let Some(path) = &args.audit {
        hookhost::capabilities::audit::start(path)?;
    }
    let options = PlanOptions {
        extensions: args.extensions(),
        allow_reserved: args.grants.allow_reserved,
        update_lock: args.update_lock,
        flags,
    };
    // Hooks first: a stack whose extras.d is refused fetches nothing. Then
    // the one step that clones; planning only checks, and the lock is
    // written after it.
    let discovery = match discover(&stack, &options) {
        Ok(discovery) => discovery,
        Err(found) => {
            problems.extend(found);
            warn_refused(&skip_warnings(&stack), json);
            return Err(problems.into());
        }
    };
    let files = discovery.hooks.clone();
    let warnings = unmatched_grant_tables(&stack, &files);
    // A dry run changes nothing outside .hookhost/ and uses no network.
    let fetched = match dry_run {
        true => fetch::preview_plugins(&stack),
        false => fetch::fetch_plugins(&stack, args.update_lock),
    };
    let planned = make_plan(&stack, entry, &options, discovery, &fetched);
    if !dry_run {
        fetch::record_lock(&stack, planned.lock.as_ref())?;
    }
    let late = planned.warnings;
    let plan = planned.plan.map_err(|found| problems.extend(found));
    if components || !problems.is_empty() {
        let mut wasm: Vec<(&Path, Role)> = match &plan {
            Ok(plan) => plan.hooks.iter().map(|h| &h.file).collect::<Vec<_>>(),
            Err(()) => files.iter().collect(),
        }
        .into_iter()
        .filter(|f| f.kind == HookKind::Wasm)
        .map(|f| (f.path.as_path(), Role::Hook))
        .collect();
        let driver = plan.as_ref().ok().and_then(|p| p.driver.as_ref());
        if let Some(driver) = driver.filter(|d| d.kind == HookKind::Wasm) {
            wasm.push((&driver.path, Role::Driver));
        }
        problems.extend(check_components(&wasm));
    }
    match plan {
        Ok(mut plan) if problems.is_empty() => {
            plan.notes.extend(warnings);
            plan.notes.extend(late);
            Ok(plan)
        }
        _ => {
            warn_refused(&skip_warnings(&stack), json);
            warn_refused(&warnings, json);
            warn_refused(&late, json);
            Err(problems.into())
        }
    }
}

/// A warning for each file of extras.d skipped as not a hook.
fn skip_warnings(stack: &Stack) -> Vec<String> {
    let skipped = hookhost::plan::skipped_files(stack);
    let shown = skipped
        .iter()
        .map(|s| format!("skipped {}: {}", s.path.display(), s.reason));
    shown.collect()
}

/// The warnings of a refused stack: on stderr for people, as events on
/// stdout beside the `refused` event for machines.
fn warn_refused(warnings: &[String], json: bool) {
    for warning in warnings {
        match json {
            true => println!(
                "{}",
                serde_json::json!({"event": "warning", "message": warning})
            ),
            false => eprintln!("warning: {warning}"),
        }
    }
}

/// Whether each of `wasm` is a component hookhost can run in its role, as
/// a run checks it before its first hook (compiled, or read from the
/// compiled cache).
fn check_components(wasm: &[(&Path, Role)]) -> Problems {
    let mut problems = Problems::new();
    if wasm.is_empty() {
        return problems;
    }
    let runtime = match hookhost::wasm::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            problems.push_error(&e.context("cannot start the WebAssembly runtime"));
            return problems;
        }
    };
    for ((path, _), result) in wasm.iter().zip(hookhost::wasm::load_all(&runtime, wasm)) {
        if let Err(e) = result {
            problems.push(component_problem(path, &e.to_string()));
        }
    }
    problems
}

/// A component that cannot run, as a problem of its file and hook (the
/// file's stem: `85-broken`, `hypervisor-fake`).
fn component_problem(path: &Path, message: &str) -> Problem {
    let prefix = format!("{}: ", path.display());
    let mut problem = match message.strip_prefix(&prefix) {
        Some(rest) => Problem::at(path, None, rest),
        None => Problem::new(message),
    };
    problem.file = Some(path.to_path_buf());
    match path.file_stem() {
        Some(stem) => problem.for_hook(stem.to_string_lossy()),
        None => problem,
    }
}

fn show_plan(
    entry: Entry,
    args: &StackArgs,
    state_dir: Option<&Path>,
    json: bool,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    let plan = plan_for(entry, args, state_dir, dry_run, true, false)?;
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

/// `hookhost list`: every hook, driver and grant of the stack, then every
/// problem `plan` would find in the stack's own files (local.conf, grant
/// flags, extras.d, manifests and grants, components, the driver), with
/// exit status 2: a stack `stack` would refuse is listed (what each plugin
/// requests and is granted helps to fix it) but not passed as fine. It
/// fetches nothing, so external plugins are listed as they are on disk.
fn show_list(args: &StackArgs, state_dir: Option<&Path>, json: bool) -> anyhow::Result<ExitCode> {
    let (mut stack, mut problems) = open_stack(&args.top, state_dir)?;
    let (flags, refused) = args.grants.flags().checked();
    problems.extend(refused);
    stack.operator.apply_flags(&flags);
    let options = PlanOptions {
        allow_reserved: args.grants.allow_reserved,
        ..PlanOptions::default()
    };
    match discover(&stack, &options) {
        Ok(discovery) => {
            for warning in unmatched_grant_tables(&stack, &discovery.hooks) {
                eprintln!("warning: {warning}");
            }
            problems.extend(hookhost::plan::check_local(&stack, &discovery));
            let wasm: Vec<(&Path, Role)> = discovery
                .hooks
                .iter()
                .filter(|f| f.kind == HookKind::Wasm)
                .map(|f| (f.path.as_path(), Role::Hook))
                .collect();
            problems.extend(check_components(&wasm));
        }
        Err(found) => problems.extend(found),
    }
    let allow_reserved = args.grants.allow_reserved || stack.operator.allow_reserved;
    // With extras.d refused, there is nothing to list but the problems.
    if let Ok(listing) = list::list(&stack, allow_reserved) {
        match json {
            true => println!("{}", serde_json::to_string_pretty(&listing.to_json())?),
            false => print!("{}", listing.render()),
        }
    }
    problems.or_ok(ExitCode::SUCCESS).map_err(Into::into)
}

/// `hookhost status`: the last run in words or JSON, or drawn into a file.
fn show_status(
    top: &Path,
    state_dir: Option<&Path>,
    json: bool,
    timeline: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    // As every other command: a directory that is not a stack is said so.
    hookhost::config::stack::check_is_stack(top)?;
    let top = &top.canonicalize()?;
    let state = match state_dir {
        Some(dir) => dir.to_path_buf(),
        None => top.join(hookhost::config::stack::STATE_DIR),
    };
    let text = match timeline {
        Some(file) => hookhost::commands::timeline::write(&state, file)?,
        None => hookhost::commands::status::show(top, &state, json)?,
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// The stack at `top`, its state kept in `state_dir` when one was chosen,
/// and local.conf's problems beside it (see [`Stack::open_checked`]).
fn open_stack(top: &Path, state_dir: Option<&Path>) -> anyhow::Result<(Stack, Problems)> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let state_dir = match top.is_dir() {
        true => state_dir_of(top, state_dir)?,
        // Opening says there is no such stack.
        false => None,
    };
    Stack::open_checked(top, &env, state_dir.as_deref())
}

/// The state directory chosen with `--state-dir`, else `HOOKHOST_STATE_DIR`
/// (set and not empty), made absolute; None: the stack's own `.hookhost`.
fn chosen_state_dir(
    flag: Option<std::path::PathBuf>,
) -> anyhow::Result<Option<std::path::PathBuf>> {
    let from_env = || {
        std::env::var_os("HOOKHOST_STATE_DIR")
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from)
    };
    let Some(dir) = flag.or_else(from_env) else {
        return Ok(None);
    };
    // `a/missing/../..` would be checked as written but created elsewhere.
    if dir
        .components()
        .any(|c| c == std::path::Component::ParentDir)
    {
        anyhow::bail!(
            "the state directory {} contains `..`: name it without (an absolute path is clearest)",
            dir.display()
        );
    }
    let absolute = std::path::absolute(&dir).map_err(|e| {
        anyhow::anyhow!("cannot resolve the state directory {}: {e}", dir.display())
    })?;
    Ok(Some(resolved(&absolute)))
}

/// `path` with symlinks resolved as far as it exists.
fn resolved(path: &Path) -> std::path::PathBuf {
    if let Ok(real) = path.canonicalize() {
        return real;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => resolved(parent).join(name),
        _ => path.to_path_buf(),
    }
}

/// The chosen state directory for the stack at `top` (None: its own
/// `.hookhost`). One inside the stack is refused: plugins' grants name
/// directories of the stack, and hookhost's state must stay out of their
/// reach.
fn state_dir_of(top: &Path, chosen: Option<&Path>) -> anyhow::Result<Option<std::path::PathBuf>> {
    let Some(dir) = chosen else {
        return Ok(None);
    };
    let top = top
        .canonicalize()
        .map_err(|e| anyhow::anyhow!("cannot resolve {}: {e}", top.display()))?;
    if dir == top.join(hookhost::config::stack::STATE_DIR) {
        return Ok(None);
    }
    if dir.starts_with(&top) {
        anyhow::bail!(
            "the state directory {} lies inside the stack {}: plugins may be granted directories \
             of the stack, and hookhost's journal, lock and logs must stay out of their reach; \
             choose a directory outside the stack (or drop --state-dir / HOOKHOST_STATE_DIR to use {}/.hookhost)",
            dir.display(),
            top.display(),
            top.display()
        );
    }
    Ok(Some(dir.to_path_buf()))
}

fn run_entry(entry: Entry, args: &RunArgs, state_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
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
    let (_lock, journal) = guard_stack(entry, &args.stack.top, state_dir)?.unzip();
    let top = &args.stack.top;
    let refused = |e: &anyhow::Error| journal_refused(journal.as_deref(), entry, top, e, started);
    // Ctrl-C while planning or starting ends what was under way with an
    // error of its own: the run was interrupted, not refused.
    let interrupted = |say: &mut dyn FnMut(&str)| {
        let line = format!(
            "interrupted ({}) while starting, before the first hook ran",
            interrupt::cause()
        );
        say(&line);
        if let Some(journal) = &journal {
            journal.run_ended("interrupted", 0, started.elapsed(), Some(&line));
        }
        Ok(ExitCode::from(interrupt::exit_status()))
    };
    let plan = match plan_for(
        entry,
        &args.stack,
        state_dir,
        args.dry_run,
        false,
        mode == Mode::Json,
    ) {
        Ok(plan) => plan,
        Err(_) if interrupt::requested() => {
            return interrupted(&mut |line| eprintln!("error: {line}"));
        }
        Err(e) if mode == Mode::Json => {
            refused(&e);
            // CI reading the events learns why nothing ran; people read stderr.
            println!("{}", report::refused_event(&e));
            return Err(e);
        }
        Err(e) => {
            refused(&e);
            return Err(e);
        }
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
    let observer: Observer = Arc::new(Mutex::new(DenialsFirst(observers)));
    let summary = match execute(&plan, &options, observer.clone()) {
        Ok(summary) => summary,
        Err(_) if interrupt::requested() => {
            let mut observer = observer.lock().unwrap_or_else(|e| e.into_inner());
            return interrupted(&mut |line| observer.event(&Event::Error(line)));
        }
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

/// The run's observers, told before the verdict what plugins were denied.
struct DenialsFirst(Observers);

impl RunObserver for DenialsFirst {
    fn event(&mut self, event: &Event) {
        if let Event::Finished(_) = event {
            if let Some((lines, data)) = denials_report() {
                self.0.event(&Event::Report {
                    event: "denials",
                    title: "denied to plugins during this run (each request was refused):",
                    lines: &lines,
                    data: &data,
                });
            }
        }
        self.0.event(event);
    }

    fn incomplete(&self) -> Option<String> {
        self.0.incomplete()
    }
}

/// After the hooks, every request a plugin was refused during the run,
/// per plugin: what, how often and how to grant it (with or without
/// `--audit`); None when nothing was denied.
fn denials_report() -> Option<(Vec<String>, serde_json::Value)> {
    use hookhost::capabilities::{audit, grant_hint};
    let (denials, more) = audit::take_denials();
    if denials.is_empty() {
        return None;
    }
    let how = |d: &audit::Denial| match &d.detail {
        Some(why) => format!("refused whatever the grants: {why}"),
        None => grant_hint(&d.hook, &d.kind, &d.item),
    };
    let mut lines: Vec<String> = denials
        .iter()
        .map(|d| {
            let times = match d.count {
                1 => String::new(),
                n => format!(" ({n} times)"),
            };
            format!("{}: {} {}{times} — {}", d.hook, d.kind, d.item, how(d))
        })
        .collect();
    if more > 0 {
        lines.push(format!(
            "… and {more} more (--audit FILE records every one)"
        ));
    }
    let list: Vec<_> = denials
        .iter()
        .map(|d| {
            serde_json::json!({"hook": d.hook, "capability": d.kind, "item": d.item,
                "count": d.count, "grant": d.detail.is_none().then(|| how(d)),
                "reason": d.detail})
        })
        .collect();
    Some((lines, serde_json::json!({"denials": list, "more": more})))
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

/// Take the stack's run lock and open its state journal, in the chosen
/// state directory or the stack's `.hookhost`, after checking that `top`
/// is a stack at all (so a wrong `--top` gets nothing written).
fn guard_stack(
    entry: Entry,
    top: &Path,
    chosen: Option<&Path>,
) -> anyhow::Result<Option<(RunLock, Arc<Journal>)>> {
    hookhost::config::stack::check_is_stack(top)?;
    let chosen = state_dir_of(top, chosen)?;
    let top = top
        .canonicalize()
        .map_err(|e| anyhow::anyhow!("cannot resolve {}: {e}", top.display()))?;
    let state = match &chosen {
        Some(dir) => dir.clone(),
        None => top.join(hookhost::config::stack::STATE_DIR),
    };
    if let Err(e) = std::fs::create_dir_all(&state) {
        let hint = match chosen {
            Some(_) => String::new(),
            None => "; to run a stack hookhost may not write to, keep its state elsewhere: \
                     --state-dir DIR (or HOOKHOST_STATE_DIR=DIR)"
                .to_string(),
        };
        anyhow::bail!(
            "cannot create the state directory {}: {e}{hint}",
            state.display()
        );
    }
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
    top: &Path,
    error: &anyhow::Error,
    started: std::time::Instant,
) {
    let Some(journal) = journal else {
        return;
    };
    if !journal.has_started() {
        // Best effort: the refusal itself is what the operator sees.
        let top = top.canonicalize().unwrap_or_else(|_| top.to_path_buf());
        let _ = journal.run_started(journal::Record {
            entry: Some(entry.name().to_string()),
            top: Some(top.display().to_string()),
            ..journal::Record::default()
        });
    }
    // Each problem's headline: the source snippets are for the terminal.
    let problems = hookhost::model::problems::Problems::from_error(error);
    let headlines: Vec<String> = problems.iter().map(|p| p.headline()).collect();
    let reason = headlines.join("; ").replace('\n', "; ");
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
