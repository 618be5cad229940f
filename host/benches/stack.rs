//! hookhost's performance targets, measured: `cargo bench --bench stack`
//! (or `scripts/bench.sh`) prints one table, each row's measured median, its
//! target, the ratio and whether it is met. BENCHMARKS.md keeps the latest.
//!
//! Everything runs on stacks generated in a temp dir: no-op bash hooks
//! (`# no-op`) and distinct copies of the no-op component (`plugins/noop`,
//! each with its own custom section, so each is compiled and cached on its
//! own as a real plugin would be). Whole-process timings are hyperfine's
//! medians (`hyperfine -N`); the rest is measured in-process with the
//! hookhost library. Options (after `--`):
//!
//! - `--runs N`: hyperfine runs per command (default 30);
//! - `--only STEP`: only the rows of one step (wasm-call, bash, hand-over,
//!   warm, cold, first-run, large, write, call-vs-source, rss, build,
//!   instance, parts, batch);
//! - `--clean-build`: also time `cargo build --release -p hookhost` in an
//!   empty target dir (minutes; otherwise that row says "not run").

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use hookhost::bash::{BashSession, BatchHook, SessionConfig};
use hookhost::capabilities::Policy;
use hookhost::model::phases::Phase;
use hookhost::run::space::Space;
use hookhost::wasm::{self, LineSink, PluginConfig, Role, Runtime, SharedServices};

const HOOKHOST: &str = env!("CARGO_BIN_EXE_hookhost");

/// Serial and parallel timings each of the `cold` row (medians of these).
const COLD_ROUNDS: usize = 5;

fn main() -> Result<()> {
    let options = Options::parse()?;
    which("hyperfine", "apt-get install -y hyperfine")?;
    which("/usr/bin/time", "apt-get install -y time")?;
    let noop = build_fixture("noop")?;
    let relay = build_fixture("relay")?;
    let writer = build_fixture("writer")?;
    let work = tempfile::tempdir()?;
    let fixtures = Fixtures {
        noop,
        relay,
        writer,
    };
    let bench = Bench::new(work.path(), fixtures, options)?;
    let rows = bench.run()?;
    if std::env::var_os("HOOKHOST_BENCH_KEEP").is_some() {
        // The generated stacks, to profile or time by hand.
        eprintln!("bench: kept {}", work.keep().display());
    }
    print!("{}", render(&rows));
    Ok(())
}

struct Options {
    runs: u32,
    clean_build: bool,
    /// Only the rows whose step name contains this (see the module doc).
    only: Option<String>,
}

impl Options {
    fn parse() -> Result<Options> {
        let mut options = Options {
            runs: 30,
            clean_build: false,
            only: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                // cargo bench passes --bench to every bench target.
                "--bench" => {}
                "--clean-build" => options.clean_build = true,
                "--only" => options.only = Some(args.next().context("--only needs a step name")?),
                "--runs" => {
                    options.runs = args
                        .next()
                        .and_then(|n| n.parse().ok())
                        .context("--runs needs a number")?
                }
                other => {
                    bail!("unknown option {other} (known: --runs N, --only STEP, --clean-build)")
                }
            }
        }
        Ok(options)
    }
}

/// One line of the table.
struct Row {
    what: &'static str,
    measured: String,
    target: String,
    /// measured / target (both in the same unit); None when not measured.
    ratio: Option<f64>,
    note: String,
}

impl Row {
    /// A row whose figure must be at most `target`.
    fn at_most(what: &'static str, measured: f64, target: f64, unit: Unit, note: String) -> Row {
        Row {
            what,
            measured: unit.show(measured),
            target: format!("≤ {}", unit.show(target)),
            ratio: Some(measured / target),
            note,
        }
    }

    fn not_run(what: &'static str, target: &str, note: &str) -> Row {
        Row {
            what,
            measured: "not run".into(),
            target: target.into(),
            ratio: None,
            note: note.into(),
        }
    }

    fn met(&self) -> &'static str {
        match self.ratio {
            Some(r) if r <= 1.0 => "yes",
            Some(_) => "NO",
            None => "-",
        }
    }
}

#[derive(Clone, Copy)]
enum Unit {
    Micros,
    Millis,
    Times,
    Percent,
    Megabytes,
    Minutes,
}

impl Unit {
    fn show(self, v: f64) -> String {
        match self {
            Unit::Micros => format!("{v:.1} µs"),
            Unit::Millis => format!("{v:.1} ms"),
            Unit::Times => format!("{v:.2}×"),
            Unit::Percent => format!("{v:.0}%"),
            Unit::Megabytes => format!("{v:.1} MB"),
            Unit::Minutes => format!(
                "{:.0} min {:02.0} s",
                (v * 60.0).div_euclid(60.0),
                (v * 60.0).rem_euclid(60.0)
            ),
        }
    }
}

fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| what | measured (median) | target | ratio | met? | how |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for row in rows {
        let ratio = row.ratio.map_or("-".to_string(), |r| format!("{r:.2}"));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            row.what,
            row.measured,
            row.target,
            ratio,
            row.met(),
            row.note
        );
    }
    out
}

/// The components the generated stacks are made of.
struct Fixtures {
    /// `plugins/noop`: does nothing in every phase.
    noop: Vec<u8>,
    /// `plugins/relay`: copies RELAY_IN to RELAY_OUT in every phase.
    relay: Vec<u8>,
    /// `plugins/writer`: writes 1 KiB into its `/data` in every stack step.
    writer: Vec<u8>,
}

/// The generated stacks and the cache the runs share.
struct Bench {
    dir: PathBuf,
    fixtures: Fixtures,
    cache: PathBuf,
    options: Options,
}

impl Bench {
    fn new(dir: &Path, fixtures: Fixtures, options: Options) -> Result<Bench> {
        let cache = dir.join("cache");
        // Every hookhost this benchmark starts (hyperfine's too) uses it.
        std::env::set_var("HOOKHOST_CACHE_DIR", &cache);
        std::env::set_var("NO_COLOR", "1");
        Ok(Bench {
            dir: dir.to_path_buf(),
            fixtures,
            cache,
            options,
        })
    }

    fn run(&self) -> Result<Vec<Row>> {
        type Step = fn(&Bench) -> Result<Vec<Row>>;
        let steps: [(&str, Step); 14] = [
            ("wasm-call", |b| Ok(vec![b.wasm_call()?])),
            ("bash", Bench::bash_vs_loops),
            ("hand-over", |b| b.hand_over()),
            ("warm", |b| Ok(vec![b.warm_start()?])),
            ("cold", Bench::cold_start),
            ("first-run", |b| Ok(vec![b.first_run_demo()?])),
            ("large", Bench::large_component),
            ("write", |b| Ok(vec![b.file_write()?])),
            ("call-vs-source", |b| Ok(vec![b.call_vs_source()?])),
            ("rss", |b| Ok(vec![b.peak_rss()?])),
            ("build", |b| Ok(vec![b.clean_build()?])),
            ("instance", Bench::instance_lifetime),
            ("parts", |b| Ok(vec![b.start_up_parts()?])),
            ("batch", |b| Ok(vec![b.bash_batching()?])),
        ];
        let mut rows = Vec::new();
        for (name, step) in steps {
            if self
                .options
                .only
                .as_ref()
                .is_none_or(|only| name.contains(only.as_str()))
            {
                rows.extend(step(self)?);
            }
        }
        Ok(rows)
    }

    /// What a phase of a 100-plugin stack costs per plugin, everything
    /// included (the call, output capture, progress, log, journal): the
    /// time from one phase's start to the next one's, as `--json` reports
    /// it (`elapsed_ms` of each `phase-start`), / 100. The phases between
    /// `source` (the first calls page code in) and `extra` (whose span
    /// would hold the end of the run) of `--runs` runs: pre-install,
    /// install, post-config; the median of them all. In-process times, so
    /// the start-up and its noise are not in it.
    fn wasm_call(&self) -> Result<Row> {
        let top = self.stack("w100", &Layout::wasm(100))?;
        let mut per_call = Vec::new();
        for _ in 0..self.options.runs.max(3) {
            per_call.extend(self.phase_spans(&top)?.iter().map(|ms| ms / 100.0));
        }
        let runs = per_call.len();
        let median_ms = median(&mut per_call);
        Ok(Row::at_most(
            "one WASM hook call in a 100-hook stack (all it costs per phase)",
            median_ms * 1e3,
            20.0,
            Unit::Micros,
            format!(
                "median of {runs} phases (pre-install, install, post-config of each run): phase start to next phase start / 100 plugins, from `hookhost stack --json > file`"
            ),
        ))
    }

    /// 200 no-op bash hooks: `hookhost stack --quiet` against a loop that
    /// reports per hook as a careful stack.sh would ([`REPORTING_LOOP`]),
    /// and against DevStack's plain loop ([`PLAIN_LOOP`], the floor: no
    /// reporting at all), in one hyperfine run.
    fn bash_vs_loops(&self) -> Result<Vec<Row>> {
        let top = self.stack("b200", &Layout::bash(200))?;
        let script = |name: &str, text: &str| -> Result<String> {
            let path = self.dir.join(name);
            std::fs::write(&path, text)?;
            Ok(format!(
                "bash --norc --noprofile {} {}",
                path.display(),
                top.display()
            ))
        };
        let reporting = script("reporting-loop.sh", REPORTING_LOOP)?;
        let plain = script("plain-loop.sh", PLAIN_LOOP)?;
        let hookhost = format!("{} --quiet", run(&top, "stack"));
        let t = self.hyperfine(&[hookhost, reporting, plain])?;
        Ok(vec![
            Row::at_most(
                "200 no-op bash hooks, `hookhost stack --quiet` vs a loop that reports per hook",
                t[0] / t[1],
                1.5,
                Unit::Times,
                format!(
                    "hookhost {:.1} ms, reporting loop {:.1} ms (5 phases × 200 hooks, whole processes)",
                    t[0] * 1e3,
                    t[1] * 1e3
                ),
            ),
            Row {
                what: "(floor) the same against DevStack's plain loop, which reports nothing",
                measured: Unit::Times.show(t[0] / t[2]),
                target: "-".into(),
                ratio: None,
                note: format!("plain loop {:.1} ms", t[2] * 1e3),
            },
        ])
    }

    /// A stack alternating bash and WASM hooks (199 hand-overs a phase)
    /// against the same hooks grouped (1 a phase). Each hook hands a
    /// variable on: a bash hook sets RELAY_IN from RELAY_OUT, a plugin
    /// (`plugins/relay`) copies RELAY_IN to RELAY_OUT, so every hand-over
    /// carries a variable each way and pays for its sync. Measured like the
    /// WASM call, from `--json` phase spans (pre-install, install,
    /// post-config), so process start-up and its noise stay out; the two
    /// stacks run alternately, and each mixed phase is compared with the
    /// same phase of the grouped run next to it: (mixed − grouped) / 198.
    fn hand_over(&self) -> Result<Vec<Row>> {
        let mixed = self.stack("relay-mixed", &Layout::alternating(100).relaying())?;
        let grouped = self.stack("relay-grouped", &Layout::grouped(100, 100).relaying())?;
        // Warm the compiled cache and the page cache.
        self.phase_spans(&mixed)?;
        self.phase_spans(&grouped)?;
        let mut per_switch = Vec::new();
        let (mut mixed_ms, mut grouped_ms) = (Vec::new(), Vec::new());
        for _ in 0..self.options.runs.max(3) {
            let (m, g) = (self.phase_spans(&mixed)?, self.phase_spans(&grouped)?);
            for (m, g) in m.iter().zip(&g) {
                per_switch.push((m - g) / 198.0);
                mixed_ms.push(*m);
                grouped_ms.push(*g);
            }
        }
        let phases = per_switch.len();
        let switch_ms = median(&mut per_switch);
        let (get, set) = var_round_trips(&self.dir)?;
        Ok(vec![
            Row::at_most(
                "each bash↔WASM hand-over, incl. the variable sync",
                switch_ms * 1e3,
                100.0,
                Unit::Micros,
                format!(
                    "median of {phases} phases (pre-install, install, post-config of alternate runs): (mixed − grouped phase span) / 198, from `hookhost stack --json > file`; phase medians mixed {:.1} ms, grouped {:.1} ms; each hand-over passes a variable each way",
                    median(&mut mixed_ms),
                    median(&mut grouped_ms),
                ),
            ),
            Row {
                what: "(detail) a variable outside every exact grant (a glob): one query to bash",
                measured: Unit::Micros.show(get * 1e6),
                target: "-".into(),
                ratio: None,
                note: format!("get-var {:.1} µs, set-var {:.1} µs", get * 1e6, set * 1e6),
            },
        ])
    }

    /// The whole `hookhost stack` of 50 plugins with the cache warm
    /// (hyperfine's warm-up runs fill it): start-up plus 250 no-op calls.
    fn warm_start(&self) -> Result<Row> {
        let top = self.stack("w50", &Layout::wasm(50))?;
        let t = self.hyperfine(&[run(&top, "stack")])?;
        Ok(Row::at_most(
            "start-up with 50 WASM plugins, compiled cache warm",
            t[0] * 1e3,
            50.0,
            Unit::Millis,
            "whole `hookhost stack` process (5 phases of 50 no-op calls included)".into(),
        ))
    }

    /// Compiling 50 distinct components without a cache: one after another
    /// on this thread (serial) against `load_all` (parallel, one worker per
    /// core). Without a cache every component is a first run's, compiled by
    /// Winch, which spreads one component over the cores itself: "serial"
    /// is already parallel inside each compile, so the ratio measures what
    /// `load_all` adds on top.
    /// Medians over [`COLD_ROUNDS`] rounds, alternating which goes first;
    /// the compiled components are forgotten before each timing. Also the
    /// whole process with an empty cache.
    fn cold_start(&self) -> Result<Vec<Row>> {
        let top = self.stack("w50", &Layout::wasm(50))?;
        let paths = wasm_files(&top)?;
        let wanted: Vec<(&Path, Role)> = paths.iter().map(|p| (p.as_path(), Role::Hook)).collect();
        let runtime = Runtime::with_cache(None)?;
        // Wall seconds, and the cores it kept busy on average (CPU / wall).
        let time = |parallel: bool| -> Result<(f64, f64)> {
            runtime.cache().forget_compiled();
            let cpu = cpu_seconds();
            let started = Instant::now();
            if parallel {
                for loaded in wasm::load_all(&runtime, &wanted) {
                    loaded?;
                }
            } else {
                for &(path, role) in &wanted {
                    wasm::load(&runtime, path, role)?;
                }
            }
            let wall = started.elapsed().as_secs_f64();
            Ok((wall, (cpu_seconds() - cpu) / wall))
        };
        // The engine's first compile pays one-time set-up: not timed.
        let first = wanted.first().context("no component in the cold stack")?;
        wasm::load(&runtime, first.0, first.1)?;
        let mut serial = Vec::new();
        let mut parallel = Vec::new();
        for round in 0..COLD_ROUNDS {
            // false: serial, true: parallel; odd rounds start parallel.
            let order = match round % 2 {
                0 => [false, true],
                _ => [true, false],
            };
            let mut busy = [0.0; 2];
            for parallel_now in order {
                let (t, cores_busy) = time(parallel_now)?;
                busy[usize::from(parallel_now)] = cores_busy;
                match parallel_now {
                    true => parallel.push(t),
                    false => serial.push(t),
                }
            }
            eprintln!(
                "bench: cold round {}: serial {:.0} ms ({:.2} cores busy), parallel {:.0} ms ({:.2} cores busy)",
                round + 1,
                serial[round] * 1e3,
                busy[0],
                parallel[round] * 1e3,
                busy[1]
            );
        }
        let (serial, parallel) = (median(&mut serial), median(&mut parallel));
        eprintln!(
            "bench: cold medians: serial {:.0} ms, parallel {:.0} ms, ratio {:.0}% ({} cores)",
            serial * 1e3,
            parallel * 1e3,
            parallel / serial * 100.0,
            cores()
        );
        let cold = self.hyperfine_with(
            &[run(&top, "stack")],
            &["--prepare", &format!("{HOOKHOST} cache clean")],
            self.options.runs.min(10),
        )?;
        let warm = self.hyperfine(&[run(&top, "stack")])?;
        Ok(vec![
            Row::at_most(
                "first run vs later runs, 50 small plugins (whole `hookhost stack`)",
                cold[0] / warm[0],
                5.0,
                Unit::Times,
                format!(
                    "cold cache (`cache clean` before each) {:.1} ms, warm {:.1} ms",
                    cold[0] * 1e3,
                    warm[0] * 1e3
                ),
            ),
            Row::at_most(
            "start-up with 50 WASM plugins, cache cold: parallel vs serial compile",
            parallel / serial * 100.0,
            50.0,
            Unit::Percent,
            format!(
                "medians of {COLD_ROUNDS}, {} cores: `load_all` {:.0} ms, one by one {:.0} ms (in-process, Winch, no cache); whole cold `hookhost stack` {:.0} ms",
                cores(),
                parallel * 1e3,
                serial * 1e3,
                cold[0] * 1e3
            ),
        ),
        ])
    }

    /// The demo stack (bash and WASM hooks, a driver) as an operator runs
    /// it: the whole `hookhost stack` with the compiled cache emptied before
    /// each run against the same with it warm.
    fn first_run_demo(&self) -> Result<Row> {
        let top = self.copy_of("demo", &repo_root().join("examples/demo"))?;
        let command = format!("{} --quiet", run(&top, "stack"));
        let cold = self.hyperfine_with(
            std::slice::from_ref(&command),
            &["--prepare", &format!("{HOOKHOST} cache clean")],
            self.options.runs.min(10),
        )?;
        let warm = self.hyperfine(&[command])?;
        Ok(Row::at_most(
            "first run vs later runs, examples/demo (whole `hookhost stack`)",
            cold[0] / warm[0],
            1.5,
            Unit::Times,
            format!(
                "cold cache (`cache clean` before each) {:.1} ms, warm {:.1} ms",
                cold[0] * 1e3,
                warm[0] * 1e3
            ),
        ))
    }

    /// The Python example plugin (a large component: the interpreter is
    /// inside it) alone in a stack: the whole `hookhost stack` with the
    /// cache cold, its wall time and peak RSS. Needs componentize-py
    /// (`scripts/setup.sh` installs it); without it the rows say so.
    fn large_component(&self) -> Result<Vec<Row>> {
        const TIME: &str = "first run, a large component (the Python example), whole `stack`";
        const RSS: &str = "peak RSS of that first run";
        let Some(component) = python_example()? else {
            let why = "the Python example was not built (scripts/build-python-plugin.sh needs componentize-py)";
            return Ok(vec![
                Row::not_run(TIME, "≤ 1000 ms", why),
                Row::not_run(RSS, "≤ 150 MB", why),
            ]);
        };
        let top = self.dir.join("python");
        let extras = top.join("extras.d");
        std::fs::create_dir_all(&extras)?;
        std::fs::copy(&component.wasm, extras.join("50-python.wasm"))?;
        if let Some(manifest) = &component.manifest {
            std::fs::copy(manifest, extras.join("50-python.toml"))?;
        }
        // What its manifest requests, granted, as the README says to.
        std::fs::create_dir_all(top.join("files"))?;
        std::fs::write(top.join("hookhost.toml"), PYTHON_GRANTS)?;
        let mut times = Vec::new();
        let mut peaks = Vec::new();
        for _ in 0..3 {
            let started = Instant::now();
            peaks.push(max_rss(&top, true)?);
            times.push(started.elapsed().as_secs_f64());
        }
        let (time, peak) = (median(&mut times), median(&mut peaks));
        let note = format!(
            "median of 3 runs, `cache clean` before each, {:.1} MB component",
            component.size as f64 / 1e6
        );
        Ok(vec![
            Row::at_most(TIME, time * 1e3, 1000.0, Unit::Millis, note.clone()),
            Row::at_most(RSS, peak, 150.0, Unit::Megabytes, note),
        ])
    }

    /// A hook that writes one small file: a WASM plugin writing 1 KiB into
    /// its `/data` against a bash hook doing the same with `printf > file`,
    /// per hook, from the phase spans of 100-hook stacks of each.
    fn file_write(&self) -> Result<Row> {
        let wasm = self.stack("write-wasm", &Layout::of(vec![Kind::WasmWriter; 100]))?;
        let bash = self.stack("write-bash", &Layout::of(vec![Kind::BashWriter; 100]))?;
        let (wasm_us, bash_us) = self.per_hook_pair(&wasm, &bash)?;
        Ok(Row::at_most(
            "a hook that writes one 1 KiB file: WASM plugin vs bash `printf > file`",
            wasm_us / bash_us,
            1.0,
            Unit::Times,
            format!(
                "per hook, 100-hook stacks, median phase span / 100: WASM {wasm_us:.1} µs, bash {bash_us:.1} µs"
            ),
        ))
    }

    /// A WASM hook call against sourcing a no-op bash hook, per hook, from
    /// the phase spans of 100-hook stacks of each kind.
    fn call_vs_source(&self) -> Result<Row> {
        let wasm = self.stack("w100", &Layout::wasm(100))?;
        let bash = self.stack("b100", &Layout::bash(100))?;
        let (wasm_us, bash_us) = self.per_hook_pair(&wasm, &bash)?;
        Ok(Row::at_most(
            "a WASM hook call vs sourcing a bash hook (no-op hooks)",
            wasm_us / bash_us,
            0.5,
            Unit::Times,
            format!(
                "per hook, 100-hook stacks, median phase span / 100: WASM {wasm_us:.1} µs, bash {bash_us:.1} µs"
            ),
        ))
    }

    /// The median per-hook time (µs) of two 100-hook stacks, run
    /// alternately, each phase span (pre-install, install, post-config)
    /// divided by 100.
    fn per_hook_pair(&self, a: &Path, b: &Path) -> Result<(f64, f64)> {
        self.phase_spans(a)?;
        self.phase_spans(b)?;
        let (mut a_us, mut b_us) = (Vec::new(), Vec::new());
        for _ in 0..self.options.runs.max(3) {
            a_us.extend(self.phase_spans(a)?.iter().map(|ms| ms * 10.0));
            b_us.extend(self.phase_spans(b)?.iter().map(|ms| ms * 10.0));
        }
        Ok((median(&mut a_us), median(&mut b_us)))
    }

    /// A copy of the directory `from` in the benchmark's dir (once), so
    /// runs leave nothing in the repository.
    fn copy_of(&self, name: &str, from: &Path) -> Result<PathBuf> {
        let to = self.dir.join(name);
        if !to.exists() {
            let status = Command::new("cp").arg("-a").arg(from).arg(&to).status()?;
            if !status.success() {
                bail!("cannot copy {} to {}", from.display(), to.display());
            }
        }
        Ok(to)
    }

    /// Peak RSS of `hookhost stack` over 200 plugins (warm cache), as
    /// `/usr/bin/time` reports it; the cold run's peak in the note.
    fn peak_rss(&self) -> Result<Row> {
        let top = self.stack("w200", &Layout::wasm(200))?;
        let cold = max_rss(&top, true)?;
        let mut warm: Vec<f64> = (0..5)
            .map(|_| max_rss(&top, false))
            .collect::<Result<_>>()?;
        let warm = median(&mut warm);
        Ok(Row::at_most(
            "peak RSS, 200 WASM hooks, whole `stack`",
            warm,
            100.0,
            Unit::Megabytes,
            format!("`/usr/bin/time -f %M`, warm cache; cold cache {cold:.1} MB"),
        ))
    }

    /// `cargo build --release -p hookhost` in an empty target dir, under
    /// `/usr/bin/time`: wall time against the target, CPU time and the load
    /// average before and after in the note (the machine may be shared).
    fn clean_build(&self) -> Result<Row> {
        const WHAT: &str = "`cargo build --release` of the host from clean";
        if !self.options.clean_build {
            return Ok(Row::not_run(
                WHAT,
                "≤ 6 min",
                "pass `--clean-build` (see BENCHMARKS.md for the last figure)",
            ));
        }
        let target = self.dir.join("clean-target");
        let times = self.dir.join("clean-build.time");
        let root = repo_root();
        let load_before = load_average();
        eprintln!("bench: cargo build --release -p hookhost (empty target dir; minutes)");
        let status = Command::new("/usr/bin/time")
            .args(["-f", "%e %U %S", "-o"])
            .arg(&times)
            .args(["cargo", "build", "--release", "-p", "hookhost", "--quiet"])
            .env("CARGO_TARGET_DIR", &target)
            .current_dir(root)
            .status()?;
        if !status.success() {
            bail!("cargo build --release failed");
        }
        let load_after = load_average();
        let text = std::fs::read_to_string(&times)?;
        let figures: Vec<f64> = text
            .lines()
            .last()
            .unwrap_or("")
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        let [wall, user, system] = figures[..] else {
            bail!("no times from /usr/bin/time: {text}");
        };
        let _ = std::fs::remove_dir_all(&target);
        Ok(Row::at_most(
            WHAT,
            wall / 60.0,
            6.0,
            Unit::Minutes,
            format!(
                "CARGO_TARGET_DIR=<empty>, {} cores; CPU {:.1} min (user+sys); load average {load_before} before, {load_after} after",
                cores(),
                (user + system) / 60.0
            ),
        ))
    }

    /// The decision that a plugin instance lives for the whole run, priced:
    /// a call on the live instance against instantiating per call.
    fn instance_lifetime(&self) -> Result<Vec<Row>> {
        let top = self.stack("one", &Layout::wasm(1))?;
        let path = wasm_files(&top)?.remove(0);
        let runtime = Runtime::with_cache(Some(self.cache.clone()))?;
        let loaded = wasm::load(&runtime, &path, Role::Hook)?;
        let space = Space::start(session_config(&top))?;
        let services: SharedServices = Arc::new(Mutex::new(space));
        let config = || PluginConfig {
            name: "10-noop".into(),
            policy: Policy::default(),
            services: services.clone(),
            sink: quiet_sink(),
        };
        let live_call = {
            let mut plugin = runtime
                .instantiate(&loaded, config())
                .map_err(|f| anyhow::anyhow!(f.reason))?;
            per_iteration(2000, || {
                plugin
                    .run_phase(Phase::Source)
                    .map_err(|f| anyhow::anyhow!(f.reason))
            })?
        };
        let fresh_call = per_iteration(500, || {
            let mut plugin = runtime
                .instantiate(&loaded, config())
                .map_err(|f| anyhow::anyhow!(f.reason))?;
            plugin
                .run_phase(Phase::Source)
                .map_err(|f| anyhow::anyhow!(f.reason))
        })?;
        Ok(vec![Row {
            what: "(decision) instance per run: a call on the live instance",
            measured: Unit::Micros.show(live_call * 1e6),
            target: "-".into(),
            ratio: None,
            note: format!(
                "per call with a fresh instance (Store, WASI ctx, instantiate, call, drop): {:.1} µs",
                fresh_call * 1e6
            ),
        }])
    }

    /// Where a warm start's time goes, in-process: the runtime (engine,
    /// pool, linker), loading 50 cached components, the bash session.
    fn start_up_parts(&self) -> Result<Row> {
        let top = self.stack("w50", &Layout::wasm(50))?;
        let paths = wasm_files(&top)?;
        let wanted: Vec<(&Path, Role)> = paths.iter().map(|p| (p.as_path(), Role::Hook)).collect();
        let mut runtime_t = Vec::new();
        let mut load_t = Vec::new();
        let mut bash_t = Vec::new();
        for _ in 0..10 {
            let started = Instant::now();
            let runtime = Runtime::with_cache(Some(self.cache.clone()))?;
            runtime_t.push(started.elapsed().as_secs_f64());
            let started = Instant::now();
            for loaded in wasm::load_all(&runtime, &wanted) {
                loaded?;
            }
            load_t.push(started.elapsed().as_secs_f64());
            let started = Instant::now();
            let session = BashSession::start(&session_config(&top))?;
            bash_t.push(started.elapsed().as_secs_f64());
            session.close()?;
        }
        Ok(Row {
            what: "(detail) warm start-up, in-process: WebAssembly runtime",
            measured: Unit::Millis.show(median(&mut runtime_t) * 1e3),
            target: "-".into(),
            ratio: None,
            note: format!(
                "then 50 cached components {:.1} ms, bash session start {:.1} ms",
                median(&mut load_t) * 1e3,
                median(&mut bash_t) * 1e3
            ),
        })
    }

    /// The bash session alone, in-process: the 1000 hook runs of the
    /// 200-hook stack one request each, against one request per phase.
    fn bash_batching(&self) -> Result<Row> {
        let top = self.stack("b200", &Layout::bash(200))?;
        let paths = files_with(&top, "sh")?;
        let phases: [&[&str]; 5] = [
            &["source"],
            &["stack", "pre-install"],
            &["stack", "install"],
            &["stack", "post-config"],
            &["stack", "extra"],
        ];
        let mut session = BashSession::start(&session_config(&top))?;
        let mut single = Vec::new();
        let mut batched = Vec::new();
        for _ in 0..5 {
            let started = Instant::now();
            for args in phases {
                for path in &paths {
                    session.source_hook(path, args, &mut |_, _| {})?;
                }
            }
            single.push(started.elapsed().as_secs_f64());
            let started = Instant::now();
            for args in phases {
                let batch: Vec<BatchHook> =
                    paths.iter().map(|path| BatchHook { path, args }).collect();
                session.source_hooks(&batch, &mut |_, _, _| {}, &mut |_, _| {})?;
            }
            batched.push(started.elapsed().as_secs_f64());
        }
        session.close()?;
        let (single, batched) = (median(&mut single), median(&mut batched));
        Ok(Row {
            what: "(detail) bash session alone, 1000 no-op hook runs: batched per phase",
            measured: Unit::Millis.show(batched * 1e3),
            target: "-".into(),
            ratio: None,
            note: format!(
                "one request per hook: {:.1} ms ({:.0} µs vs {:.0} µs a hook run)",
                single * 1e3,
                single * 1e3,
                batched * 1e3
            ),
        })
    }

    /// One `hookhost stack --json` run of `top`: the spans (ms) of its
    /// pre-install, install and post-config phases, each from its
    /// `phase-start` to the next one's (`source` pages code in; `extra`'s
    /// span would hold the end of the run). The events go to a file, as a
    /// CI system's log would take them: a pipe read live would add the
    /// reader's wake-ups to every event.
    fn phase_spans(&self, top: &Path) -> Result<Vec<f64>> {
        let events = self.dir.join("events.jsonl");
        let status = Command::new(HOOKHOST)
            .args(["stack", "--json", "--top"])
            .arg(top)
            .stdout(std::fs::File::create(&events)?)
            .stderr(Stdio::null())
            .status()?;
        if !status.success() {
            bail!("hookhost stack --json failed on {}", top.display());
        }
        let marks = phase_marks(&std::fs::read_to_string(&events)?)?;
        if marks.len() < 6 {
            bail!("hookhost --json reported {} phase marks", marks.len());
        }
        Ok(marks
            .windows(2)
            .skip(1)
            .take(3)
            .map(|w| w[1] - w[0])
            .collect())
    }

    /// Write a stack (once) and return its top directory.
    fn stack(&self, name: &str, layout: &Layout) -> Result<PathBuf> {
        let top = self.dir.join(name);
        if top.exists() {
            return Ok(top);
        }
        let extras = top.join("extras.d");
        std::fs::create_dir_all(&extras)?;
        for (file, kind) in layout.files() {
            let path = extras.join(&file);
            let tag = format!("{name}/{file}");
            let fixtures = &self.fixtures;
            match (kind, layout.relay) {
                (Kind::Bash, false) => std::fs::write(path, "# no-op\n")?,
                (Kind::Wasm, false) => std::fs::write(path, distinct(&fixtures.noop, &tag))?,
                (Kind::Bash, true) => std::fs::write(path, "RELAY_IN=$((${RELAY_OUT:-0} + 1))\n")?,
                (Kind::Wasm, true) => {
                    std::fs::write(&path, distinct(&fixtures.relay, &tag))?;
                    std::fs::write(path.with_extension("toml"), RELAY_MANIFEST)?;
                }
                (Kind::WasmWriter, _) => std::fs::write(path, distinct(&fixtures.writer, &tag))?,
                (Kind::BashWriter, _) => std::fs::write(path, BASH_WRITER)?,
            }
        }
        if layout.relay {
            std::fs::write(top.join("hookhost.toml"), RELAY_GRANTS)?;
        }
        Ok(top)
    }

    fn hyperfine(&self, commands: &[String]) -> Result<Vec<f64>> {
        self.hyperfine_with(commands, &["--warmup", "3"], self.options.runs)
    }

    /// hyperfine's median (seconds) of each command.
    fn hyperfine_with(&self, commands: &[String], extra: &[&str], runs: u32) -> Result<Vec<f64>> {
        let json = self.dir.join("hyperfine.json");
        eprintln!("bench: hyperfine {}", commands.join("  |  "));
        let status = Command::new("hyperfine")
            .args(["-N", "--style", "none", "--runs", &runs.to_string()])
            .args(extra)
            .arg("--export-json")
            .arg(&json)
            .args(commands)
            .stdout(Stdio::null())
            .status()
            .context("cannot run hyperfine")?;
        if !status.success() {
            bail!("hyperfine failed for {}", commands.join(", "));
        }
        let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json)?)?;
        let results = report["results"]
            .as_array()
            .context("hyperfine gave no results")?;
        results
            .iter()
            .map(|r| r["median"].as_f64().context("hyperfine gave no median"))
            .collect()
    }
}

/// The `elapsed_ms` of each `phase-start` event and of the `summary`, in
/// order, from `hookhost --json` output.
fn phase_marks(json_lines: &str) -> Result<Vec<f64>> {
    let mut marks = Vec::new();
    for line in json_lines.lines() {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if matches!(event["event"].as_str(), Some("phase-start" | "summary")) {
            marks.push(
                event["elapsed_ms"]
                    .as_f64()
                    .context("an event without elapsed_ms")?,
            );
        }
    }
    if marks.len() < 3 {
        bail!("hookhost --json reported {} phase marks", marks.len());
    }
    Ok(marks)
}

/// DevStack's loop, as stack.sh runs it: every hook sourced into one shell,
/// phase by phase.
const PLAIN_LOOP: &str = r#"cd "$1" || exit 1
for f in extras.d/*.sh; do source $f source; done
for phase in pre-install install post-config extra; do
    for f in extras.d/*.sh; do source $f stack $phase; done
done
"#;

/// A loop that reports per hook, as a careful stack.sh would: a start
/// record with a timestamp, the hook sourced, an end record with its status
/// and a timestamp, and a check that the shell options were not changed.
const REPORTING_LOOP: &str = r#"cd "$1"; LC_ALL=C; exec 3>/dev/null; saved_opts=$SHELLOPTS
for args in "source" "stack pre-install" "stack install" "stack post-config" "stack extra"; do
  for i in extras.d/*.sh; do
    printf 'start %s %s %s\n' "$i" "$args" "$EPOCHREALTIME" >&3
    source "$i" $args; st=$?
    printf 'end %s %s %s\n' "$i" "$st" "$EPOCHREALTIME" >&3
    [[ $SHELLOPTS == "$saved_opts" ]] || set -o posix
  done
done
"#;

/// The operator's grant for the Python example (what its manifest,
/// examples/python-plugin/py-greeter.toml, requests).
const PYTHON_GRANTS: &str = "[grants.\"50-python\"]\nread = [\"files\"]\n\
    vars-read = [\"PY_PLUGIN_WHO\", \"PY_PLUGIN_PROBE\"]\nvars-write = [\"PY_PLUGIN_GREETING\"]\n";

/// A bash hook that writes 1 KiB in every stack step, as `plugins/writer`
/// does into its `/data`.
/// (The directory is made once: a `mkdir` per hook would time a fork.)
const BASH_WRITER: &str = r#"if [[ $1 == stack ]]; then
    [[ -d $TOP_DIR/bench-data ]] || mkdir -p "$TOP_DIR/bench-data"
    printf '%1024s' '' > "$TOP_DIR/bench-data/${BASH_SOURCE##*/}-$2"
fi
"#;

#[derive(Clone, Copy)]
enum Kind {
    Bash,
    Wasm,
    /// `plugins/writer`.
    WasmWriter,
    /// [`BASH_WRITER`].
    BashWriter,
}

/// The relay plugin's manifest (plugins/relay/relay.toml).
const RELAY_MANIFEST: &str = include_str!("../../plugins/relay/relay.toml");

/// The operator's grant for every relay plugin of a stack.
const RELAY_GRANTS: &str =
    "[grants.\"*\"]\nvars-read = [\"RELAY_IN\"]\nvars-write = [\"RELAY_OUT\"]\n";

/// Which hooks a generated stack has, in order; with `relay`, each hands a
/// variable on (see `Bench::hand_over`) instead of doing nothing.
struct Layout {
    kinds: Vec<Kind>,
    relay: bool,
}

impl Layout {
    fn of(kinds: Vec<Kind>) -> Layout {
        Layout {
            kinds,
            relay: false,
        }
    }

    fn relaying(self) -> Layout {
        Layout {
            relay: true,
            ..self
        }
    }

    fn wasm(n: usize) -> Layout {
        Layout::of(vec![Kind::Wasm; n])
    }

    fn bash(n: usize) -> Layout {
        Layout::of(vec![Kind::Bash; n])
    }

    /// bash, WASM, bash, WASM... `pairs` of each.
    fn alternating(pairs: usize) -> Layout {
        Layout::of(
            (0..pairs * 2)
                .map(|i| if i % 2 == 0 { Kind::Bash } else { Kind::Wasm })
                .collect(),
        )
    }

    /// All bash hooks first, then all WASM hooks.
    fn grouped(bash: usize, wasm: usize) -> Layout {
        let mut kinds = vec![Kind::Bash; bash];
        kinds.extend(vec![Kind::Wasm; wasm]);
        Layout::of(kinds)
    }

    /// File names that sort in layout order: `NN-hIIII.sh|wasm`, NN from 10
    /// (00-09 and 90-99 are reserved).
    fn files(&self) -> Vec<(String, Kind)> {
        let n = self.kinds.len();
        self.kinds
            .iter()
            .enumerate()
            .map(|(i, &kind)| {
                let nn = 10 + i * 80 / n.max(1);
                let ext = match kind {
                    Kind::Bash | Kind::BashWriter => "sh",
                    Kind::Wasm | Kind::WasmWriter => "wasm",
                };
                (format!("{nn:02}-h{i:04}.{ext}"), kind)
            })
            .collect()
    }
}

/// The no-op component with a custom section naming `tag` appended: the
/// same code, but other bytes, so it is compiled and cached on its own.
fn distinct(component: &[u8], tag: &str) -> Vec<u8> {
    let mut body = leb128(b"hookhost-bench".len());
    body.extend_from_slice(b"hookhost-bench");
    body.extend_from_slice(tag.as_bytes());
    let mut out = component.to_vec();
    out.push(0); // custom section
    out.extend(leb128(body.len()));
    out.extend(body);
    out
}

fn leb128(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

fn wasm_files(top: &Path) -> Result<Vec<PathBuf>> {
    files_with(top, "wasm")
}

/// The stack's hook files with this extension, in order.
fn files_with(top: &Path, extension: &str) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(top.join("extras.d"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == extension));
    files.sort();
    Ok(files)
}

/// `hookhost ENTRY --top TOP`, as hyperfine runs it.
fn run(top: &Path, entry: &str) -> String {
    format!("{HOOKHOST} {entry} --top {}", top.display())
}

/// Peak RSS in MB of one `hookhost stack` (after emptying the cache when
/// `cold`).
fn max_rss(top: &Path, cold: bool) -> Result<f64> {
    if cold {
        Command::new(HOOKHOST)
            .args(["cache", "clean"])
            .stdout(Stdio::null())
            .status()?;
    }
    let out = tempfile::NamedTempFile::new()?;
    let status = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(out.path())
        .args([HOOKHOST, "stack", "--top"])
        .arg(top)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("hookhost stack failed on {}", top.display());
    }
    let text = std::fs::read_to_string(out.path())?;
    let kb: f64 = text
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .context("no RSS figure from /usr/bin/time")?;
    Ok(kb / 1024.0)
}

/// The median time of a get-var and of a set-var round trip to a bash
/// session (what a plugin's read or write of one variable costs).
fn var_round_trips(dir: &Path) -> Result<(f64, f64)> {
    let top = dir.join("vars");
    std::fs::create_dir_all(&top)?;
    let mut session = BashSession::start(&session_config(&top))?;
    session.set_var("HANDED_OVER", "value")?;
    let get = per_iteration(1000, || session.get_var("HANDED_OVER").map(|_| ()))?;
    let set = per_iteration(1000, || session.set_var("HANDED_OVER", "other"))?;
    session.close()?;
    Ok((get, set))
}

fn session_config(top: &Path) -> SessionConfig {
    SessionConfig::new(top)
}

fn quiet_sink() -> LineSink {
    Arc::new(|_, _| {})
}

/// Median seconds per call of `f` over `n` timed calls (after 10% warm-up).
fn per_iteration(n: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    for _ in 0..n / 10 {
        f()?;
    }
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        f()?;
        times.push(started.elapsed().as_secs_f64());
    }
    Ok(median(&mut times))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

/// CPU seconds (user and system) this process has used so far.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The 1-minute load average, as /proc/loadavg says ("?" if unreadable).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The repository's root.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A built component and the manifest beside it.
struct Component {
    wasm: PathBuf,
    manifest: Option<PathBuf>,
    size: u64,
}

/// The Python example plugin, built by its script; `None` when the script
/// or componentize-py is missing (the script says which on stderr).
fn python_example() -> Result<Option<Component>> {
    let script = repo_root().join("scripts/build-python-plugin.sh");
    if !script.exists() {
        return Ok(None);
    }
    eprintln!("bench: building the Python example plugin");
    let output = Command::new(&script)
        .current_dir(repo_root())
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run scripts/build-python-plugin.sh")?;
    if !output.status.success() {
        return Ok(None);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some(wasm) = stdout.lines().last().map(|l| PathBuf::from(l.trim())) else {
        return Ok(None);
    };
    let manifest = Some(wasm.with_extension("toml")).filter(|m| m.exists());
    let size = std::fs::metadata(&wasm)
        .with_context(|| format!("cannot read {}", wasm.display()))?
        .len();
    Ok(Some(Component {
        wasm,
        manifest,
        size,
    }))
}

/// Build `plugins/<name>` and return the component's bytes.
fn build_fixture(name: &str) -> Result<Vec<u8>> {
    let root = repo_root();
    eprintln!("bench: building plugins/{name}");
    let output = Command::new(root.join("scripts/build-plugins.sh"))
        .arg(name)
        .current_dir(&root)
        .output()
        .context("cannot run scripts/build-plugins.sh")?;
    if !output.status.success() {
        bail!(
            "building plugins/{name} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let path = String::from_utf8_lossy(&output.stdout).trim().to_string();
    std::fs::read(&path).with_context(|| format!("cannot read {path}"))
}

fn which(program: &str, install: &str) -> Result<()> {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()?
        .success();
    if !found {
        bail!("the benchmark needs {program}: {install}");
    }
    Ok(())
}
