//! A run an operator can see, with the real binary: `status --timeline`
//! drawn from a real run's journal (its structure, hostile text escaped,
//! and rendered by a real browser, headless Chromium), `--state-dir` and
//! `HOOKHOST_STATE_DIR` (a read-only stack runs), `status` while a run is
//! going, distinct colours per hook, and the spinner line gone after
//! Ctrl-C on a real pseudo-terminal.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{Run, TestStack};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_hookhost")
}

/// Run `hookhost ARGS` (no `--top` added) with `env` set.
fn hookhost(args: &[&str], env: &[(&str, &Path)]) -> Run {
    let mut command = Command::new(bin());
    command
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("HOOKHOST_STATE_DIR");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("run hookhost").into()
}

fn top_of(stack: &TestStack) -> &str {
    stack.top().to_str().unwrap()
}

// ------------------------------------------------------------ timeline

const HOSTILE_TEXT: &str = r#"</title></rect><script>alert("x")</script> \e[2K & done"#;

/// A stack of a bash hook, a slow bash hook and a WASM hook that fails in
/// `stack extra` with hostile text, run once: 15 calls in 5 phases.
fn timeline_stack() -> TestStack {
    let stack = TestStack::new();
    stack
        .bash("10-a.sh", "echo \"a $*\"\n")
        .bash(
            "20-slow.sh",
            "if [[ $2 == install ]]; then sleep 0.4; fi\n",
        )
        .wasm(
            "30-evil",
            "hostile",
            Some("[capabilities]\nvars-read = [\"HOSTILE_*\"]\n"),
        )
        .write(
            "hookhost.toml",
            "[grants.evil]\nvars-read = [\"HOSTILE_*\"]\n",
        )
        .write(
            "local.conf",
            &format!(
                "[[local|localrc]]\nHOSTILE_ATTACK=error\nHOSTILE_PHASE='stack extra'\nHOSTILE_TEXT='{HOSTILE_TEXT}'\n"
            ),
        );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(1).assert_stderr_has("<script>alert");
    stack
}

/// Draw the last run of `stack` into `file` (in a temp dir kept by the caller).
fn draw(stack: &TestStack, file: &Path) -> String {
    let file_arg = file.to_str().unwrap();
    let run = stack.hookhost(&["status", "--timeline", file_arg]);
    run.assert_code(0)
        .assert_stdout_has("wrote the timeline of run ");
    std::fs::read_to_string(file).unwrap()
}

/// A bar of the picture, as its SVG says.
#[derive(Debug)]
struct Bar {
    label: String,
    band: String,
    kind: String,
    status: String,
    title: String,
    x: f64,
    y: f64,
    width: f64,
    height: f64,
    fill: (u8, u8, u8),
}

fn class_has(node: &roxmltree::Node, class: &str) -> bool {
    node.attribute("class")
        .is_some_and(|c| c.split(' ').any(|w| w == class))
}

fn number(node: &roxmltree::Node, name: &str) -> f64 {
    node.attribute(name).unwrap().parse().unwrap()
}

fn hex(colour: &str) -> (u8, u8, u8) {
    let byte = |i: usize| u8::from_str_radix(&colour[i..i + 2], 16).unwrap();
    (byte(1), byte(3), byte(5))
}

/// The bars of `svg` (which must be well-formed XML) with their bands and labels.
fn bars_of(svg: &str) -> (Vec<Bar>, roxmltree::Document<'_>) {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}:\n{svg}"));
    let mut found = Vec::new();
    for band in doc.descendants().filter(|n| class_has(n, "band")) {
        let mut label = String::new();
        for node in band.children().filter(|n| n.is_element()) {
            if class_has(&node, "label") {
                label = node.text().unwrap_or("").to_string();
            }
            if !class_has(&node, "bar") {
                continue;
            }
            let title = node.children().find(|c| c.has_tag_name("title"));
            found.push(Bar {
                label: label.clone(),
                band: band.attribute("data-name").unwrap().to_string(),
                kind: node.attribute("data-kind").unwrap().to_string(),
                status: node.attribute("data-status").unwrap().to_string(),
                title: title.and_then(|t| t.text()).unwrap_or("").to_string(),
                x: number(&node, "x"),
                y: number(&node, "y"),
                width: number(&node, "width"),
                height: number(&node, "height"),
                fill: hex(node.attribute("fill").unwrap()),
            });
        }
    }
    (found, doc)
}

const PHASES: [&str; 5] = [
    "source",
    "stack pre-install",
    "stack install",
    "stack post-config",
    "stack extra",
];

#[test]
fn the_timeline_has_a_band_per_phase_a_bar_per_call_and_escapes_hostile_text() {
    let stack = timeline_stack();
    let out = tempfile::tempdir().unwrap();
    let svg = draw(&stack, &out.path().join("run.svg"));
    let (bars, doc) = bars_of(&svg);
    let hook_bars: Vec<&Bar> = bars.iter().filter(|b| b.kind != "host").collect();
    assert_eq!(hook_bars.len(), 15, "{bars:#?}");
    let phase_bands: Vec<&str> = doc
        .descendants()
        .filter(|n| class_has(n, "phase"))
        .map(|n| n.attribute("data-name").unwrap())
        .collect();
    assert_eq!(phase_bands, PHASES);
    for phase in PHASES {
        let labels: Vec<&str> = hook_bars
            .iter()
            .filter(|b| b.band == phase)
            .map(|b| b.label.as_str())
            .collect();
        assert_eq!(
            labels,
            ["10-a (bash)", "20-slow (bash)", "30-evil (wasm)"],
            "{phase}"
        );
    }
    // The host's own work, as the journal recorded it, has bars of its own.
    let journal = std::fs::read_to_string(stack.path(".hookhost/journal.jsonl")).unwrap();
    let host_work = journal.matches("\"event\":\"host-work\"").count();
    // start-up, compile (a component was compiled or cached), session start
    assert!(host_work >= 3, "{journal}");
    assert_eq!(bars.iter().filter(|b| b.kind == "host").count(), host_work);
    for name in ["start-up", "compile", "session start"] {
        assert!(
            bars.iter()
                .any(|b| b.kind == "host" && b.label.starts_with(name)),
            "no {name} bar: {bars:#?}"
        );
    }
    // The failure is red, its reason (a plugin's text) is text, not markup.
    let failed: Vec<&&Bar> = hook_bars.iter().filter(|b| b.status == "failed").collect();
    assert_eq!(failed.len(), 1, "{bars:#?}");
    assert_eq!(
        (failed[0].band.as_str(), failed[0].kind.as_str()),
        ("stack extra", "wasm")
    );
    assert!(
        failed[0]
            .title
            .contains(r#"</title></rect><script>alert("x")</script> \e[2K & done"#),
        "{}",
        failed[0].title
    );
    assert!(hook_bars
        .iter()
        .filter(|b| b.status != "failed")
        .all(|b| b.status == "ok"));
    assert!(doc.descendants().all(|n| !n.has_tag_name("script")));
    assert!(!svg.contains("<script"), "{svg}");
    assert!(svg.contains("&lt;script&gt;"));
    assert!(!svg.chars().any(|c| c.is_control() && c != '\n'));
}

#[test]
fn the_html_timeline_holds_the_same_picture_and_allows_no_script() {
    let stack = timeline_stack();
    let out = tempfile::tempdir().unwrap();
    let html = draw(&stack, &out.path().join("run.html"));
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    assert!(!html.contains("<script"), "{html}");
    let svg = &html[html.find("<svg").unwrap()..html.find("</svg>").unwrap() + 6];
    let (bars, _) = bars_of(svg);
    assert_eq!(bars.iter().filter(|b| b.kind != "host").count(), 15);
    // Any other extension is refused, naming the two.
    let png = out.path().join("run.png");
    stack
        .hookhost(&["status", "--timeline", png.to_str().unwrap()])
        .assert_code(2)
        .assert_stderr_has("must end in .svg or .html");
    assert!(!png.exists());
    // No stack there: said as `status` says it, nothing drawn.
    let missing = out.path().join("no-stack");
    let svg = out.path().join("none.svg");
    let args = ["status", "--top", missing.to_str().unwrap(), "--timeline"];
    hookhost(&[&args[..], &[svg.to_str().unwrap()]].concat(), &[])
        .assert_code(2)
        .assert_stderr_has("no-stack: no such stack directory (pass --top DIR)");
    assert!(!svg.exists());
}

/// Headless Chromium: `HOOKHOST_CHROMIUM`, else `chromium` or
/// `chromium-browser` on PATH. Missing, the test fails and says how to
/// install it: a browser check that silently passes checks nothing.
fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("HOOKHOST_CHROMIUM") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            if dir.join(name).is_file() {
                return dir.join(name);
            }
        }
    }
    panic!(
        "headless Chromium is needed to check the timeline in a real browser, and none was found \
         (looked for chromium and chromium-browser on PATH, and HOOKHOST_CHROMIUM): install the \
         Debian package `chromium` (scripts/setup.sh does when CI=true)"
    );
}

/// A screenshot of `file` in a `width` x `height` window: its RGB pixels.
fn screenshot(file: &Path, width: u32, height: u32) -> (u32, Vec<u8>) {
    let png = file.with_extension("png");
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox", // tests may run as root, where the sandbox refuses to start
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
        ])
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("file://{}", file.display()))
        .output()
        .expect("run chromium");
    assert!(
        png.exists(),
        "chromium wrote no screenshot: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height), (width, height));
    let channels = info.color_type.samples();
    let rgb = pixels[..info.buffer_size()]
        .chunks(channels)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    (width, rgb)
}

fn pixel(shot: &(u32, Vec<u8>), x: f64, y: f64) -> (u8, u8, u8) {
    let at = (y as usize * shot.0 as usize + x as usize) * 3;
    (shot.1[at], shot.1[at + 1], shot.1[at + 2])
}

fn near(a: (u8, u8, u8), b: (u8, u8, u8)) -> bool {
    let close = |x: u8, y: u8| x.abs_diff(y) <= 40;
    close(a.0, b.0) && close(a.1, b.1) && close(a.2, b.2)
}

#[test]
fn a_real_browser_draws_every_bar_where_the_svg_puts_it() {
    let stack = timeline_stack();
    let out = tempfile::tempdir().unwrap();
    for name in ["run.svg", "run.html"] {
        let file = out.path().join(name);
        let text = draw(&stack, &file);
        let svg = &text[text.find("<svg").unwrap()..];
        let height: f64 = svg["<svg".len()..]
            .split("height=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .parse()
            .unwrap();
        let (bars, _) = bars_of(&svg[..svg.find("</svg>").unwrap() + 6]);
        let shot = screenshot(&file, 1000, height as u32);
        let white = (255, 255, 255);
        // Below the legend, right: background only.
        assert_eq!(pixel(&shot, 995.0, height - 3.0), white, "{name}");
        for bar in &bars {
            let seen = pixel(&shot, bar.x + bar.width / 2.0, bar.y + bar.height / 2.0);
            assert!(seen != white, "{name}: nothing drawn for {bar:?}");
            assert!(
                near(seen, bar.fill),
                "{name}: {seen:?} where {bar:?} should be"
            );
        }
        let failed = bars.iter().find(|b| b.status == "failed").unwrap();
        let red = pixel(&shot, failed.x + 1.0, failed.y + failed.height / 2.0);
        assert!(red.0 > 150 && red.1 < 100, "{name}: the failure is {red:?}");
    }
}

/// A journal of an older hookhost (no host-work records) with a hook name
/// no file could have, then a run with the host's work recorded.
#[test]
fn an_old_journal_still_draws_and_host_work_has_bars_and_names_are_escaped() {
    let stack = TestStack::new();
    let state = tempfile::tempdir().unwrap();
    let journal = state.path().join("journal.jsonl");
    let start = |run: &str| {
        format!(
            "{{\"run\":\"{run}\",\"event\":\"run-start\",\"time\":\"2026-01-01 00:00:00\",\"unix_ms\":1000000,\"entry\":\"stack\",\"top\":\"/s\"}}\n"
        )
    };
    let mut text = start("old");
    text.push_str(
        r#"{"run":"old","event":"start","unix_ms":1000010,"phase":"source","hook":"<b onload=alert(1)>x","kind":"bash"}
{"run":"old","event":"end","unix_ms":1000030,"phase":"source","hook":"<b onload=alert(1)>x","kind":"bash","status":"ok","duration_ms":20.0}
{"run":"old","event":"run-end","unix_ms":1000040,"status":"ok","duration_ms":40.0}
"#,
    );
    std::fs::write(&journal, &text).unwrap();
    let svg_path = state.path().join("old.svg");
    let args = ["status", "--top", top_of(&stack), "--timeline"];
    let svg_arg = svg_path.to_str().unwrap();
    let env = [("HOOKHOST_STATE_DIR", state.path())];
    hookhost(&[&args[..], &[svg_arg]].concat(), &env).assert_code(0);
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    let (bars, _) = bars_of(&svg);
    assert_eq!(bars.len(), 1, "{bars:#?}");
    assert_eq!(bars[0].label, "<b onload=alert(1)>x (bash)");
    assert!(svg.contains("&lt;b onload=alert(1)&gt;x (bash)"), "{svg}");
    text.push_str(&start("new"));
    text.push_str(
        r#"{"run":"new","event":"host-work","unix_ms":1000500,"work":"compile","detail":"2 components (1 cached)","duration_ms":400.0}
{"run":"new","event":"host-work","unix_ms":1000600,"work":"session start","detail":"","duration_ms":100.0}
{"run":"new","event":"start","unix_ms":1000600,"phase":"source","hook":"10-a","kind":"bash"}
{"run":"new","event":"end","unix_ms":1000700,"phase":"source","hook":"10-a","kind":"bash","status":"ok","duration_ms":100.0}
{"run":"new","event":"run-end","unix_ms":1000700,"status":"ok","duration_ms":700.0}
"#,
    );
    std::fs::write(&journal, &text).unwrap();
    hookhost(&[&args[..], &[svg_arg]].concat(), &env).assert_code(0);
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    let (bars, _) = bars_of(&svg);
    let seen: Vec<(&str, &str, &str)> = bars
        .iter()
        .map(|b| (b.band.as_str(), b.kind.as_str(), b.label.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("hookhost", "host", "compile: 2 components (1 cached)"),
            ("hookhost", "host", "session start"),
            ("source", "bash", "10-a (bash)"),
        ]
    );
    // Placed by time: compile began 400 ms before it was recorded.
    assert!(
        bars[0].x < bars[1].x && bars[1].x < bars[2].x + 1.0,
        "{bars:#?}"
    );
}

// ----------------------------------------------------------- state dir

/// Every path under `dir`, relative, with its size (directories: 0).
fn tree(dir: &Path) -> BTreeMap<PathBuf, u64> {
    let mut found = BTreeMap::new();
    let mut queue = vec![dir.to_path_buf()];
    while let Some(at) = queue.pop() {
        for entry in std::fs::read_dir(&at).unwrap().flatten() {
            let meta = entry.metadata().unwrap();
            let path = entry.path();
            found.insert(
                path.strip_prefix(dir).unwrap().to_path_buf(),
                if meta.is_dir() { 0 } else { meta.len() },
            );
            if meta.is_dir() {
                queue.push(path);
            }
        }
    }
    found
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn is_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn a_read_only_stack_runs_with_its_state_elsewhere() {
    let stack = TestStack::new();
    stack
        .bash("10-a.sh", "echo \"a $*\"\n")
        .wasm("20-noop", "noop", None);
    let state = tempfile::tempdir().unwrap();
    let state_dir = state.path().join("state");
    for dir in ["extras.d", ""] {
        set_mode(&stack.path(dir), 0o555);
    }
    let before = tree(stack.top());
    if !is_root() {
        // Without a state directory, the refusal says what to do. (Root
        // ignores the mode bits, and would write .hookhost.)
        stack
            .hookhost(&["stack"])
            .assert_code(2)
            .assert_stderr_has("--state-dir DIR (or HOOKHOST_STATE_DIR=DIR)");
    }
    let dir_arg = state_dir.to_str().unwrap();
    let run = stack.hookhost(&["stack", "--state-dir", dir_arg]);
    run.assert_code(0);
    for dir in ["extras.d", ""] {
        set_mode(&stack.path(dir), 0o755);
    }
    assert_eq!(tree(stack.top()), before, "the run wrote into the stack");
    for kept in [
        "journal.jsonl",
        "run.lock",
        "logs/latest.log",
        "plugin-data/noop",
    ] {
        assert!(
            state_dir.join(kept).exists(),
            "no {kept}: {:?}",
            tree(&state_dir)
        );
    }
    run.assert_stdout_has("stack finished");
    let status = stack.hookhost(&["status", "--state-dir", dir_arg]);
    status.assert_code(0).assert_stdout_has("  result   ok in ");
    status.assert_stdout_has(&format!("  journal  {dir_arg}/journal.jsonl"));
}

#[test]
fn the_flag_beats_the_variable_and_the_variable_beats_the_stack() {
    let stack = TestStack::new();
    stack.bash("10-a.sh", "echo \"a $*\"\n");
    let dirs = tempfile::tempdir().unwrap();
    let (from_env, from_flag) = (dirs.path().join("env"), dirs.path().join("flag"));
    let top = top_of(&stack);
    let env = [("HOOKHOST_STATE_DIR", from_env.as_path())];
    hookhost(&["unstack", "--top", top], &env).assert_code(0);
    assert!(from_env.join("journal.jsonl").exists());
    assert!(!stack.path(".hookhost").exists());
    let flag = from_flag.to_str().unwrap();
    hookhost(&["--state-dir", flag, "unstack", "--top", top], &env).assert_code(0);
    assert!(from_flag.join("journal.jsonl").exists());
    let runs = |dir: &Path| {
        std::fs::read_to_string(dir.join("journal.jsonl"))
            .unwrap()
            .matches("\"run-start\"")
            .count()
    };
    assert_eq!((runs(&from_env), runs(&from_flag)), (1, 1));
    // Neither: the stack's own .hookhost, as before.
    hookhost(&["unstack", "--top", top], &[]).assert_code(0);
    assert!(stack.path(".hookhost/journal.jsonl").exists());
}

#[test]
fn a_state_dir_inside_the_stack_is_refused_before_anything_runs() {
    let stack = TestStack::new();
    stack.bash("10-a.sh", "touch \"$TOP_DIR/ran\"\n");
    let inside = stack.path("state");
    let run = stack.hookhost(&["stack", "--state-dir", inside.to_str().unwrap()]);
    run.assert_code(2)
        .assert_stderr_has("lies inside the stack")
        .assert_stderr_has("choose a directory outside the stack");
    assert!(!stack.path("ran").exists());
    assert!(!inside.exists() && !stack.path(".hookhost").exists());
    // Through a directory that does not exist and back up: checked as
    // written, it would be outside; created, it would be inside.
    let outside = tempfile::tempdir().unwrap();
    let parent = outside.path().parent().unwrap();
    let stack_below = stack.top().strip_prefix(parent).unwrap();
    let sneaky = outside
        .path()
        .join("missing/../..")
        .join(stack_below)
        .join("state");
    let run = stack.hookhost(&["stack", "--state-dir", sneaky.to_str().unwrap()]);
    run.assert_code(2).assert_stderr_has("contains `..`");
    assert!(!stack.path("ran").exists());
    assert!(!inside.exists() && !stack.path(".hookhost").exists());
}

#[test]
fn a_dry_run_with_a_state_dir_writes_nothing_in_the_stack() {
    let stack = TestStack::new();
    stack
        .bash(
            "10-a.sh",
            "echo \"a $*\"\nsudo apt-get install -y cowsay\necho x > \"$HOOKHOST_STATE_DIR/hook-$1\"\n",
        )
        .wasm("20-noop", "noop", None);
    let before = tree(stack.top());
    let state = tempfile::tempdir().unwrap();
    let dir_arg = state.path().to_str().unwrap();
    let run = stack.hookhost(&["stack", "--dry-run", "--state-dir", dir_arg]);
    run.assert_code(0).assert_stdout_has("cowsay");
    assert_eq!(
        tree(stack.top()),
        before,
        "the dry run wrote into the stack"
    );
    assert!(
        state.path().join("dry-run").exists(),
        "{:?}",
        tree(state.path())
    );
    // The confined session may write in the state directory it was given.
    assert!(state.path().join("hook-stack").exists(), "{}", run.all());
}

#[test]
fn with_a_state_dir_a_dry_run_reports_a_write_into_the_stack_s_own_hookhost_dir() {
    let stack = TestStack::new();
    stack.bash(
        "10-a.sh",
        "[[ $2 == install ]] || return 0\necho x > \"$TOP_DIR/.hookhost/planted\"\n",
    );
    std::fs::create_dir(stack.top().join(".hookhost")).unwrap();
    let state = tempfile::tempdir().unwrap();
    let dir_arg = state.path().to_str().unwrap();
    let run = stack.hookhost(&["stack", "--dry-run", "--state-dir", dir_arg]);
    // Not hookhost's state under --state-dir: the write is a finding of
    // the hook, not its failure.
    run.assert_code(0);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.contains("would write") && l.contains("/.hookhost/planted")),
        "{}",
        run.all()
    );
    assert!(!stack.top().join(".hookhost/planted").exists());
}

// ------------------------------------------------- status of a live run

#[test]
fn status_of_a_running_run_says_what_it_is_doing_in_words() {
    let stack = TestStack::new();
    stack.bash(
        "20-slow.sh",
        "if [[ $2 == install ]]; then echo READY; echo waiting; sleep 41.9; fi\n",
    );
    let mut child = Command::new(bin())
        .args(["stack", "--top", top_of(&stack)])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains("[20-slow] READY"));
    assert!(ready, "the hook never got going");
    let text = stack.hookhost(&["status"]);
    let json = stack.hookhost(&["status", "--json"]);
    stop(&mut child);
    text.assert_code(0)
        .assert_stdout_has("  result   running: stack, at 20-slow (bash) in stack install for ");
    assert!(
        text.stdout.contains(&format!("(pid {})", child.id())),
        "{}",
        text.all()
    );
    assert!(!text.stdout.contains("stopped"), "{}", text.all());
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["status"], "running");
    assert_eq!(json["stopped_at"], serde_json::Value::Null);
    let now = json["now"].as_str().unwrap();
    assert!(
        now.starts_with("at 20-slow (bash) in stack install for "),
        "{now}"
    );
}

/// SIGTERM `child` and wait for it (bounded).
fn stop(child: &mut Child) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "hookhost did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ------------------------------------------------------------- colours

/// The escape sequence in front of each hook's first prefixed line.
fn prefix_colours(stdout: &str) -> Vec<(String, String)> {
    let mut seen: Vec<(String, String)> = Vec::new();
    for line in stdout.lines() {
        let Some(open) = line.find("m[") else {
            continue;
        };
        let Some(close) = line[open..].find(']') else {
            continue;
        };
        let hook = line[open + 2..open + close].to_string();
        let colour = line[..open + 1].to_string();
        if line.starts_with('\x1b') && !seen.iter().any(|(h, _)| *h == hook) {
            seen.push((hook, colour));
        }
    }
    seen
}

fn coloured_run(stack: &TestStack, term: &str) -> Vec<(String, String)> {
    let output = Command::new(bin())
        .args(["stack", "--top", top_of(stack)])
        .env_remove("NO_COLOR")
        .env_remove("COLORTERM")
        .env("CLICOLOR_FORCE", "1")
        .env("TERM", term)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    prefix_colours(&String::from_utf8_lossy(&output.stdout))
}

#[test]
fn hooks_get_colours_of_their_own_while_the_palette_has_any() {
    let stack = TestStack::new();
    for n in 0..12 {
        stack.bash(&format!("{:02}-h{n}.sh", 10 + n), "echo \"hi $*\"\n");
    }
    let distinct = |seen: &[(String, String)]| {
        seen.iter()
            .map(|(_, c)| c.clone())
            .collect::<BTreeSet<_>>()
            .len()
    };
    let wide = coloured_run(&stack, "xterm-256color");
    assert_eq!(wide.len(), 12, "{wide:?}");
    assert_eq!(distinct(&wide), 12, "{wide:?}");
    // A 16-colour terminal has ten that are not red, black or white.
    let basic = coloured_run(&stack, "xterm");
    assert_eq!(basic.len(), 12, "{basic:?}");
    assert_eq!(distinct(&basic[..10]), 10, "{basic:?}");
}

// ----------------------------------------------------- spinner, Ctrl-C

/// Run `hookhost stack` on a pseudo-terminal `cols` wide (`script`), press
/// Ctrl-C (the ^C byte on the terminal, as a keyboard sends it) once the
/// spinner has drawn the slow hook, and return what was drawn before the
/// key and in all.
fn ctrl_c_on_a_terminal(stack: &TestStack, cols: u16) -> (Vec<u8>, Vec<u8>) {
    let command = format!(
        "stty cols {cols} rows 200; exec {} stack --top {}",
        bin(),
        stack.top().display()
    );
    let mut script = Command::new("script")
        .args(["-qefc", &command, "/dev/null"])
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run script(1)");
    let drawn = Arc::new(Mutex::new(Vec::new()));
    let mut stdout = script.stdout.take().unwrap();
    let sink = drawn.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let spinning = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes);
        text.find("READY\r\n")
            .is_some_and(|at| text[at..].matches("20-slow (bash)").count() >= 2)
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !spinning(&drawn.lock().unwrap()) {
        assert!(Instant::now() < deadline, "no spinner within 30 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    let before = drawn.lock().unwrap().clone();
    let mut stdin = script.stdin.take().unwrap();
    stdin.write_all(b"\x03").unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while script.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "hookhost did not end after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stdin);
    reader.join().unwrap();
    let all = drawn.lock().unwrap().clone();
    (before, all)
}

/// The rows a terminal `cols` wide shows after `bytes`.
fn screen(bytes: &[u8], cols: u16) -> Vec<String> {
    let mut terminal = vt100::Parser::new(200, cols, 0);
    terminal.process(bytes);
    terminal.screen().rows(0, cols).collect()
}

fn spinner_rows(rows: &[String]) -> Vec<&String> {
    // The spinner's frames are braille patterns.
    rows.iter()
        .filter(|r| r.chars().any(|c| ('\u{2800}'..='\u{28ff}').contains(&c)))
        .collect()
}

#[test]
fn after_ctrl_c_no_spinner_line_is_left_on_the_screen() {
    let stack = TestStack::new();
    stack.bash("10-a.sh", "echo \"a $*\"\n").bash(
        "20-slow.sh",
        "if [[ $2 == install ]]; then echo READY; sleep 33.1; fi\n",
    );
    for cols in [60, 80] {
        let (before, all) = ctrl_c_on_a_terminal(&stack, cols);
        let shown = screen(&before, cols);
        assert_eq!(
            spinner_rows(&shown).len(),
            1,
            "the spinner was on screen before Ctrl-C: {shown:#?}"
        );
        let text = String::from_utf8_lossy(&all);
        assert!(text.contains("^C"), "the terminal echoed no ^C: {text:?}");
        let rows = screen(&all, cols);
        assert!(
            spinner_rows(&rows).is_empty(),
            "{cols} columns: a spinner line is left: {rows:#?}"
        );
        // The session died of the terminal's SIGINT too, maybe before
        // hookhost's signal thread ran: still an interrupt, not a failure.
        assert!(
            rows.iter().any(|r| r.starts_with("stack interrupted in ")),
            "{rows:#?}"
        );
        assert!(
            rows.iter()
                .any(|r| r.starts_with("error: interrupted (Ctrl-C)")),
            "{rows:#?}"
        );
    }
}
