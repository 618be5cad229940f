//! A first run (nothing compiled yet), through the real binary: it says
//! what it compiles, its timing table gives the host's own work (start-up,
//! compile, session start) and each phase rows that add up to the total,
//! and a later run finds everything cached.

mod support;

use std::path::Path;
use std::process::Command;

use support::{Run, TestStack};

/// `hookhost stack --top STACK` with the compiled-component cache in `cache`.
fn stack_with_cache(stack: &TestStack, cache: &Path) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_hookhost"))
        .args(["stack", "--top"])
        .arg(stack.top())
        .env("HOOKHOST_CACHE_DIR", cache)
        .env("NO_COLOR", "1")
        .output()
        .expect("run hookhost");
    Run::from(output)
}

/// Two WASM hooks around a bash hook.
fn two_plugin_stack() -> TestStack {
    let stack = TestStack::new();
    stack
        .wasm("20-noop", "noop", None)
        .bash("30-mid.sh", "echo mid-$1\n")
        .wasm("40-probe", "probe", None);
    stack
}

/// Milliseconds of a duration as the table shows it (`1.23 ms`, `1.50 s`).
fn millis(value: &str, unit: &str) -> f64 {
    let n: f64 = value
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {value}"));
    match unit {
        "ms" => n,
        "s" => n * 1000.0,
        other => panic!("unexpected unit {other}"),
    }
}

/// The table's rows above `per hook:` (host work and phases) by name, and
/// its total.
fn summed_rows(stdout: &str) -> (Vec<(String, f64)>, f64) {
    let table = stdout
        .split("hookhost timing\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no timing table:\n{stdout}"));
    let mut rows = Vec::new();
    let mut total = None;
    let mut summed = true;
    // The table ends at its closing rule (the verdict and its notes follow).
    let table = table.split("\n=====").next().unwrap_or(table);
    for line in table.lines() {
        match line.trim_end() {
            "host:" | "per phase:" => summed = true,
            "per hook:" => summed = false,
            _ if line.starts_with("  ") => {
                let words: Vec<&str> = line.split_whitespace().collect();
                let at = words
                    .iter()
                    .position(|w| *w == "ms" || *w == "s")
                    .unwrap_or_else(|| panic!("no duration in {line:?}"));
                let value = millis(words[at - 1], words[at]);
                let name = words[..at - 1].join(" ");
                if name == "total" {
                    total = Some(value);
                } else if summed {
                    rows.push((name, value));
                }
            }
            _ => {}
        }
    }
    (rows, total.expect("a total row"))
}

#[test]
fn a_cold_run_names_the_compile_and_its_table_adds_up() {
    let stack = two_plugin_stack();
    let cache = tempfile::tempdir().unwrap();
    let cold = stack_with_cache(&stack, cache.path());
    cold.assert_code(0).assert_no_panic();
    // Not a terminal: one line when compiling starts, one when it is done.
    cold.assert_stdout_has("compiling 2 components (0 cached): 0/2 compiled")
        .assert_stdout_has("compiled 2 components (0 cached) in ");

    let (rows, total) = summed_rows(&cold.stdout);
    let names: Vec<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "start-up",
            "compile",
            "session start",
            "source",
            "stack pre-install",
            "stack install",
            "stack post-config",
            "stack extra"
        ],
        "{}",
        cold.stdout
    );
    let sum: f64 = rows.iter().map(|(_, ms)| ms).sum();
    // Rounding to 0.01 ms per row and the moments between events.
    assert!(
        (total - sum).abs() <= 3.0,
        "rows sum to {sum:.2} ms, total {total:.2} ms\n{}",
        cold.stdout
    );
    assert!(
        cold.stdout.contains("2 components (0 cached)\n"),
        "the compile row says what it compiled:\n{}",
        cold.stdout
    );
}

#[test]
fn a_warm_run_compiles_nothing_and_says_so_only_in_its_table() {
    let stack = two_plugin_stack();
    let cache = tempfile::tempdir().unwrap();
    stack_with_cache(&stack, cache.path()).assert_code(0);
    let warm = stack_with_cache(&stack, cache.path());
    warm.assert_code(0).assert_no_panic();
    assert!(
        !warm.stdout.contains("compiling") && !warm.stdout.contains("compiled "),
        "{}",
        warm.all()
    );
    assert!(
        warm.stdout.contains("2 components (2 cached)\n"),
        "{}",
        warm.stdout
    );
    let (rows, total) = summed_rows(&warm.stdout);
    let sum: f64 = rows.iter().map(|(_, ms)| ms).sum();
    assert!(
        (total - sum).abs() <= 3.0,
        "{sum} vs {total}\n{}",
        warm.stdout
    );
}

#[test]
fn a_half_cached_run_counts_what_it_compiles() {
    let stack = TestStack::new();
    stack.wasm("20-noop", "noop", None);
    let cache = tempfile::tempdir().unwrap();
    stack_with_cache(&stack, cache.path()).assert_code(0);
    stack.wasm("40-probe", "probe", None);
    stack_with_cache(&stack, cache.path())
        .assert_code(0)
        .assert_stdout_has("compiling 2 components (1 cached): 0/1 compiled")
        .assert_stdout_has("probe 40-probe stack extra");
}
