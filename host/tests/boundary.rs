//! The trust boundary between plugins and the shared bash session, tested
//! generatively: every helper a plugin reaches through the host services
//! ([`HostServices`], the code path behind the WIT `host` interface once a
//! call passed the plugin's policy) is fed a large, fixed-seed set of
//! hostile strings. For each one:
//!
//! - no command it carries ever runs (a marker file it would create never
//!   appears);
//! - every value bash can hold round-trips exactly: `set-var`, then bash's
//!   own `printf %s "$NAME"`, then `get-var`, and a function's arguments;
//! - the session's variables other than the ones written are unchanged,
//!   and the session still answers.
//!
//! The cases come from [`hostile`]: fragments of shell syntax (command
//! substitution, backticks, array subscripts, arithmetic, globs, quotes,
//! newlines, NUL, option-looking words) spliced together at random, plus a
//! few 1 MiB strings. `cargo fuzz run boundary` drives the same checks with
//! a fuzzer's inputs for longer runs (docs/fuzzing.md).

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hookhost::bash::{Outcome, SessionConfig, Stream as BashStream};
use hookhost::run::space::Space;
use hookhost::wasm::{HostServices, Stream};

/// How many generated strings each run checks (fixed seed: the same cases
/// every run, so a failure reproduces).
const CASES: usize = 1000;
const SEED: u64 = 0x5eed_b0da_7e57;

/// A small deterministic generator (xorshift64*), so the cases need no
/// crate and never change between runs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The hostile strings: each fragment alone, then random splices of them.
/// `M` in a fragment stands for the marker file's path.
fn hostile(marker: &Path) -> Vec<String> {
    let m = marker.display().to_string();
    let fragments: Vec<String> = [
        "$(touch M)",
        "`touch M`",
        "a[$(touch M)]",
        "x b[$(touch M)]=1",
        "x\tb[$(touch${IFS}M)]=1",
        "$((a[$(touch M)]))",
        "${a[$(touch M)]}",
        "${x:-$(touch M)}",
        "${!a[$(touch M)]}",
        "; touch M;",
        "| touch M",
        "&& touch M",
        "\ntouch M\n",
        "'$(touch M)'",
        "\"$(touch M)\"",
        "'\"'\"'$(touch M)",
        "\\$(touch M)",
        "<(touch M)",
        ">(touch M)",
        "-oDPkg::Pre-Invoke::=touch M",
        "--x=$(touch M)",
        "-x",
        "--",
        "-e touch M",
        "*",
        "?",
        "[a-z]*",
        "~root",
        "{a,b}",
        "!!",
        "a b",
        " ",
        "",
        ",",
        ",,a,,",
        "n-cpu",
        "nova",
        "s-proxy",
        "=",
        "a=b",
        "%s%n%x",
        "\\",
        "'",
        "\"",
        "\r\x1b[2K\r✓ done",
        "\x1b]0;title\x07",
        "\u{9b}31m",
        "\u{feff}ünïcødé",
        "\0",
        "a\0$(touch M)",
        "__hh_end x 0",
        "}",
        "{",
        "#",
        "$IFS",
        "$0",
        "$@",
    ]
    .iter()
    .map(|f| f.replace('M', &m))
    .collect();
    let mut cases = fragments.clone();
    let mut rng = Rng(SEED);
    while cases.len() < CASES {
        let parts = 2 + rng.below(4);
        let case: String = (0..parts)
            .map(|_| fragments[rng.below(fragments.len())].as_str())
            .collect();
        cases.push(case);
    }
    for fragment in ["$(touch M)", "a[$(touch M)]", "x y z\n"] {
        let big = fragment
            .replace('M', &m)
            .repeat((1 << 20) / fragment.len() + 1);
        cases.push(big);
    }
    cases
}

struct Boundary {
    _dir: tempfile::TempDir,
    top: PathBuf,
    marker: PathBuf,
    space: Space,
}

impl Boundary {
    fn start() -> Boundary {
        let dir = tempfile::tempdir().unwrap();
        let top = dir.path().join("stack");
        let state = top.join(".hookhost");
        std::fs::create_dir_all(&state).unwrap();
        let marker = dir.path().join("pwned");
        std::fs::write(
            top.join("helpers.sh"),
            "bnd_args() { printf '%s\\0' \"$@\" >\"$BND_OUT\"; }\n\
             bnd_print() { printf '%s' \"${!1}\" >\"$BND_OUT\"; }\n\
             bnd_vars() { declare -p >\"$BND_OUT\"; }\n",
        )
        .unwrap();
        let config = SessionConfig {
            top_dir: top.clone(),
            dest: dir.path().join("dest"),
            state_dir: state,
            errexit: true,
            allow_install: false,
            dry_run: false,
            script: None,
            vars: vec![
                ("ENABLED_SERVICES".into(), "key,n-api,g-api".into()),
                (
                    "BND_OUT".into(),
                    dir.path().join("out").display().to_string(),
                ),
            ],
            // One variable the host mirrors (a plugin's granted variables
            // are), one it does not: both paths into the session.
            watch: vec!["BND_WATCHED".into()],
            devstack: false,
        };
        let mut space = Space::start(config).unwrap();
        let mut quiet = |_: BashStream, _: &str| {};
        let sourced = space
            .source_hook(Path::new("helpers.sh"), &[], false, &mut quiet)
            .unwrap();
        assert!(matches!(sourced, Outcome::Success));
        Boundary {
            top,
            marker,
            space,
            _dir: dir,
        }
    }

    fn out(&self) -> Vec<u8> {
        std::fs::read(self.top.parent().unwrap().join("out")).unwrap()
    }

    fn call(&mut self, function: &str, args: &[&str]) -> i32 {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let mut quiet = |_: Stream, _: &str| {};
        self.space
            .call_function(function, &args, &mut quiet)
            .unwrap_or_else(|e| panic!("{function} failed: {e:#}"))
    }

    /// Every session variable but the ones this test writes and bash's own
    /// changing ones, as `declare -p` lines.
    fn variables(&mut self) -> Vec<String> {
        assert_eq!(self.call("bnd_vars", &[]), 0);
        let dump = String::from_utf8_lossy(&self.out()).into_owned();
        let changing = [
            "BND_",
            "BASH",
            "__hh_",
            "_=",
            "RANDOM",
            "SRANDOM",
            "SECONDS",
            "LINENO",
            "EPOCH",
            "FUNCNAME",
            "PIPESTATUS",
            "ENABLED_SERVICES",
            "OLDPWD",
            "COLUMNS",
            "LINES",
        ];
        // A value may span lines; keep only the lines that start a declaration.
        dump.lines()
            .filter(|l| l.starts_with("declare "))
            .filter(|l| {
                let name = l.split_whitespace().nth(2).unwrap_or("");
                !changing.iter().any(|c| name.starts_with(c))
            })
            .map(str::to_string)
            .collect()
    }

    fn assert_no_marker(&self, case: &str, call: &str) {
        assert!(
            !self.marker.exists(),
            "{call} ran a command from the string {case:?}"
        );
    }
}

#[test]
fn hostile_strings_are_data_in_every_helper() {
    let mut b = Boundary::start();
    let before = b.variables();
    let cases = hostile(&b.marker);
    for (i, case) in cases.iter().enumerate() {
        let one = std::slice::from_ref(case);
        let shown: String = case.chars().take(80).collect();
        // A helper that loops on a hostile string fails the case, not the
        // suite by hanging.
        b.space
            .set_deadline(Some(Instant::now() + Duration::from_secs(30)));

        accepted(b.space.is_service_enabled(one), case, "is_service_enabled");
        b.assert_no_marker(&shown, "is_service_enabled");
        accepted(b.space.enable_service(one), case, "enable_service");
        b.assert_no_marker(&shown, "enable_service");
        accepted(b.space.disable_service(one), case, "disable_service");
        b.assert_no_marker(&shown, "disable_service");
        b.space
            .set_var("ENABLED_SERVICES", "key,n-api,g-api")
            .unwrap();

        // Names: refused unless they are shell names, never evaluated.
        if !is_shell_name(case) {
            assert!(b.space.get_var(case).is_err(), "get_var took {shown:?}");
            assert!(
                b.space.set_var(case, "x").is_err(),
                "set_var took {shown:?}"
            );
        }
        b.assert_no_marker(&shown, "a variable name");

        for name in ["BND_PLAIN", "BND_WATCHED"] {
            match b.space.set_var(name, case) {
                Ok(()) => {
                    let back = b.space.get_var(name).unwrap();
                    assert_eq!(back.as_deref(), Some(case.as_str()), "{name} = {shown:?}");
                    assert_eq!(b.call("bnd_print", &[name]), 0);
                    assert_eq!(b.out(), case.as_bytes(), "bash's $${name} for {shown:?}");
                }
                // Bash cannot hold a NUL; nothing else may be refused.
                Err(e) => assert!(case.contains('\0'), "{name} = {shown:?}: {e:#}"),
            }
            b.assert_no_marker(&shown, "set_var");
        }

        if !case.contains('\0') {
            assert_eq!(b.call("trueorfalse", &["False", case]), 0);
            let args = [case.as_str(), "-x", case.as_str()];
            assert_eq!(b.call("bnd_args", &args), 0);
            let expected: Vec<u8> = args
                .iter()
                .flat_map(|a| [a.as_bytes(), b"\0"])
                .flatten()
                .copied()
                .collect();
            assert_eq!(b.out(), expected, "arguments {shown:?}");
            b.assert_no_marker(&shown, "a function's arguments");
        }

        let recorded = b.space.install_packages("50-hostile", one, false);
        accepted(recorded, case, "install_packages");
        b.assert_no_marker(&shown, "install_package");

        b.space.set_deadline(None);
        if i % 100 == 0 {
            assert_eq!(b.variables(), before, "after case {i} ({shown:?})");
        }
    }
    assert_eq!(b.variables(), before, "after every case");
    b.space.close().unwrap();
}

/// A value a bash hook passes to hookhost's helpers is data too: the
/// helpers bash hooks call with a plugin-set value must not evaluate it.
#[test]
fn helpers_called_from_bash_with_hostile_values_run_nothing() {
    let mut b = Boundary::start();
    let ini = b.top.join("x.ini");
    let ini = ini.display().to_string();
    for case in hostile(&b.marker).iter().take(300) {
        if case.contains('\0') {
            continue;
        }
        let shown: String = case.chars().take(80).collect();
        b.space.set_var("BND_PLAIN", case).unwrap();
        for (function, args) in [
            ("iniset", vec![ini.as_str(), "s", "o", case]),
            ("iniget", vec![ini.as_str(), "s", case]),
            ("inicomment", vec![ini.as_str(), case, "o"]),
            ("ini_has_option", vec![ini.as_str(), "s", case]),
            ("is_set", vec![case]),
            ("die_if_not_set", vec!["1", "BND_OUT", case]),
            ("warn", vec![case]),
            ("err", vec!["1", case]),
            ("echo_summary", vec![case]),
            ("is_package_installed", vec![case]),
            ("is_plugin_enabled", vec![case]),
            ("get_var", vec!["BND_PLAIN"]),
        ] {
            b.call(function, &args);
            b.assert_no_marker(&shown, function);
        }
        if !case.contains(['\n', '\r'])
            && !case.starts_with(['[', '#', ';'])
            && !case.trim().is_empty()
        {
            assert_eq!(b.call("iniset", &[&ini, "s", "o", case]), 0);
            let text = std::fs::read_to_string(&ini).unwrap();
            assert!(
                text.lines().any(|l| l == format!("o = {case}")),
                "iniset wrote {text:?} for {shown:?}"
            );
        }
    }
    // git reads a word starting with `-` as an option wherever it stands.
    let dest = b.top.join("clone").display().to_string();
    for ref_ in ["--orphan=pwned", "-b"] {
        assert_eq!(b.call("git_clone", &["/nonexistent", &dest, ref_]), 2);
    }
    b.space.close().unwrap();
}

/// A helper's result for one case: bash cannot hold a NUL, so a string
/// with one may be refused (with an error, never a panic); nothing else may.
fn accepted<T>(result: anyhow::Result<T>, case: &str, call: &str) {
    if let Err(e) = result {
        let shown: String = case.chars().take(80).collect();
        assert!(case.contains('\0'), "{call} refused {shown:?}: {e:#}");
    }
}

fn is_shell_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// A stack with the hostile plugin at 50 and a trusted bash hook at 60
/// that, in `unstack`, uses the helpers and values a plugin can reach: the
/// plugin's strings must not run there either. The plugin is granted only
/// the variables that carry its payload (`HOSTILE_*`); the helpers it
/// attacks need no grant at all.
struct Attack {
    stack: support::TestStack,
    marker: PathBuf,
}

impl Attack {
    fn new(vars_write: &str) -> Attack {
        let stack = support::TestStack::new();
        let caps = format!("vars-read = [\"HOSTILE_*\"]\n{vars_write}");
        stack.wasm(
            "50-hostile",
            "hostile",
            Some(&format!("[capabilities]\n{caps}")),
        );
        stack.write("hookhost.toml", &format!("[grants.\"50-hostile\"]\n{caps}"));
        stack.bash(
            "60-trusted.sh",
            "if [[ $1 == unstack ]]; then\n\
             \x20   is_service_enabled nova || true\n\
             \x20   enable_service n-cpu\n\
             \x20   disable_service n-cpu\n\
             \x20   iniset \"$TOP_DIR/x.ini\" s o \"${HOSTILE_VAR_VALUE-}\"\n\
             \x20   echo \"trusted hook ran: $ENABLED_SERVICES\"\n\
             fi\n",
        );
        let marker = stack.path("pwned");
        Attack { stack, marker }
    }

    /// Run `hookhost unstack` with the attack's variables (and a secret the
    /// plugin must never see) in local.conf; bounded, so a hang fails.
    fn unstack(&self, vars: &[(&str, &str)]) -> support::Run {
        self.unstack_with(&[], vars)
    }

    fn unstack_with(&self, args: &[&str], vars: &[(&str, &str)]) -> support::Run {
        self.run("unstack", args, vars)
    }

    /// `hookhost stack` with the attack in every phase.
    fn stack(&self, vars: &[(&str, &str)]) -> support::Run {
        let mut vars = vars.to_vec();
        vars.push(("HOSTILE_PHASE", "every"));
        self.run("stack", &[], &vars)
    }

    fn run(&self, entry: &str, args: &[&str], vars: &[(&str, &str)]) -> support::Run {
        let mut conf = String::from(
            "[[local|localrc]]\nADMIN_PASSWORD=s3cret-pw\nENABLED_SERVICES=key,g-api\n\
             HOSTILE_PHASE=unstack\n",
        );
        for (name, value) in vars {
            conf.push_str(&format!("{name}='{value}'\n"));
        }
        self.stack.write("local.conf", &conf);
        let output = std::process::Command::new("timeout")
            .args(["-k", "5", "120", env!("CARGO_BIN_EXE_hookhost"), entry])
            .args(args)
            .arg("--top")
            .arg(self.stack.top())
            .env("NO_COLOR", "1")
            .output()
            .expect("run hookhost");
        let run = support::Run::from(output);
        assert_ne!(run.code, Some(124), "the run hung\n{}", run.all());
        run.assert_no_panic();
        run
    }

    fn assert_nothing_ran(&self, run: &support::Run) {
        assert!(
            !self.marker.exists(),
            "the plugin's string ran as shell code\n{}",
            run.all()
        );
        let dump = self.stack.path("dump");
        assert!(
            !dump.exists(),
            "the plugin dumped the session's variables\n{}",
            run.all()
        );
        assert!(
            run.all().contains("trusted hook ran: "),
            "the trusted hook after the plugin did not run\n{}",
            run.all()
        );
    }
}

/// Payloads that ran as shell code in the bash helpers: an array subscript
/// evaluated when a value was word-split into a declaration.
fn payloads(stack: &Attack) -> Vec<String> {
    let marker = stack.marker.display();
    let dump = stack.stack.path("dump");
    vec![
        format!("x b[$(>{marker})]=1"),
        format!("x b[$(declare>{})]=1", dump.display()),
        format!("a[$(>{marker})]"),
        format!("$(>{marker})"),
    ]
}

#[test]
fn service_names_from_a_plugin_never_run_in_the_session() {
    for attack in ["is-enabled", "enable", "disable"] {
        let a = Attack::new("");
        for payload in payloads(&a) {
            let run = a.unstack(&[("HOSTILE_ATTACK", attack), ("HOSTILE_SERVICE", &payload)]);
            a.assert_nothing_ran(&run);
            assert!(!run.all().contains("s3cret-pw"), "{}", run.all());
        }
    }
}

#[test]
fn a_service_name_with_a_space_does_not_hang_later_calls() {
    let a = Attack::new("");
    let run = a.unstack(&[("HOSTILE_ATTACK", "enable"), ("HOSTILE_SERVICE", "a b")]);
    a.assert_nothing_ran(&run);
}

#[test]
fn a_value_a_plugin_sets_is_data_in_trusted_helpers() {
    let a = Attack::new("vars-write = [\"HOSTILE_VAR_VALUE\"]\n");
    for payload in payloads(&a) {
        let run = a.unstack(&[
            ("HOSTILE_ATTACK", "set-value"),
            ("HOSTILE_VAR", "HOSTILE_VAR_VALUE"),
            ("HOSTILE_VALUE", &payload),
        ]);
        a.assert_nothing_ran(&run);
        assert!(
            run.all().contains("HOSTILE got: set HOSTILE_VAR_VALUE"),
            "{}",
            run.all()
        );
        let ini = std::fs::read_to_string(a.stack.path("x.ini")).unwrap();
        assert!(ini.contains(&format!("o = {payload}\n")), "{ini}");
    }
}

/// Grants that hand a plugin the operator's power are said to be so in
/// `plan`, next to each grant.
#[test]
fn plan_marks_grants_of_trusted_power() {
    let stack = support::TestStack::new();
    let caps = "functions = [\"configure_thing\"]\ncommands = [\"git **\", \"echo hello\"]\n";
    stack.wasm(
        "50-hostile",
        "hostile",
        Some(&format!("[capabilities]\n{caps}")),
    );
    stack.write("hookhost.toml", &format!("[grants.\"50-hostile\"]\n{caps}"));
    let run = stack.hookhost(&["plan", "stack"]);
    run.assert_code(0)
        .assert_stdout_has(
            "function configure_thing (TRUSTED: runs in the bash session with your rights, any arguments)",
        )
        .assert_stdout_has("command git ** (TRUSTED: runs unsandboxed with your rights, any arguments)")
        .assert_stdout_has("command echo hello (TRUSTED: runs unsandboxed with your rights)");
}

/// A variable a trusted hook declared `-i` takes no plugin value that is
/// not a plain number (bash would evaluate it as arithmetic), and the
/// operator is told, through both ways a value reaches the session: a
/// granted pattern (asked of bash) and a granted name (mirrored).
#[test]
fn an_integer_variable_refuses_a_plugin_value_and_the_operator_is_told() {
    for (grant, name) in [("NUM_*", "NUM_PATTERN"), ("NUM_NAMED", "NUM_NAMED")] {
        let a = Attack::new(&format!("vars-write = [\"{grant}\"]\n"));
        a.stack.bash("10-int.sh", &format!("declare -i {name}=1\n"));
        let payload = format!("a[$(>{})]", a.marker.display());
        let run = a.unstack(&[
            ("HOSTILE_ATTACK", "set-value"),
            ("HOSTILE_VAR", name),
            ("HOSTILE_VALUE", &payload),
        ]);
        a.assert_nothing_ran(&run);
        assert!(
            run.all().contains(&format!("{name} is declared -i"))
                || run.all().contains(&format!("could not set {name}")),
            "the operator was not told\n{}",
            run.all()
        );
    }
}

/// What a plugin can make hookhost spend with no grant beyond a package
/// request is bounded: the record of wanted packages, its private
/// directory's growth, the audit file, the log.
#[test]
fn what_a_plugin_makes_the_host_spend_is_bounded() {
    let a = Attack::new("packages = [\"zz*\"]\ntimeout = \"20s\"\n");
    let run = a.unstack(&[("HOSTILE_ATTACK", "many-packages")]);
    a.assert_nothing_ran(&run);
    assert!(
        run.all().contains("more than 1024 different packages"),
        "{}",
        run.all()
    );
    let wanted = std::fs::read_to_string(a.stack.path(".hookhost/packages-wanted")).unwrap();
    assert!(
        wanted.lines().count() <= 1024,
        "{} lines",
        wanted.lines().count()
    );

    let run = a.unstack(&[("HOSTILE_ATTACK", "fill-disk")]);
    a.assert_nothing_ran(&run);
    assert!(run.all().contains("wrote more than 1GiB"), "{}", run.all());
    let data = std::fs::read_dir(a.stack.path(".hookhost/plugin-data"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let big = std::fs::metadata(data.join("big")).unwrap();
    assert!(big.len() < 3 << 30, "{} bytes written", big.len());
    std::fs::remove_file(data.join("big")).unwrap();

    // 300 MiB per call stays under the limit of one call, but not of a
    // run: a later call fails; and what the run left keeps the plugin from
    // starting the next run.
    let a = Attack::new("timeout = \"60s\"\n");
    let run = a.stack(&[("HOSTILE_ATTACK", "fill-per-call")]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.all().contains("in this run"), "{}", run.all());
    let data = a.stack.path(".hookhost/plugin-data");
    let total = || -> u64 {
        let dir = std::fs::read_dir(&data)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum()
    };
    assert!(total() < 2 << 30, "{} bytes written", total());
    let run = a.stack(&[("HOSTILE_ATTACK", "fill-per-call")]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.all().contains("between runs"), "{}", run.all());
    assert!(total() < 2 << 30, "{} bytes after two runs", total());
    std::fs::remove_dir_all(&data).unwrap();

    // A denied read repeated until the time limit.
    let a = Attack::new("timeout = \"2s\"\n");
    let audit = a.stack.path("audit.jsonl");
    let audit_arg = format!("--audit={}", audit.display());
    let vars = [("HOSTILE_ATTACK", "denied-loop")];
    let run = a.unstack_with(&[&audit_arg], &vars);
    a.assert_nothing_ran(&run);
    let records = std::fs::read_to_string(&audit).unwrap();
    let lines = records.lines().count();
    assert!(lines <= audit_cap() + 100, "{lines} audit records");
    assert!(records.contains("further decisions in this run are not recorded"));

    let run = a.unstack(&[("HOSTILE_ATTACK", "newlines")]);
    a.assert_nothing_ran(&run);
    let log = std::fs::metadata(a.stack.path(".hookhost/logs/latest.log")).unwrap();
    assert!(log.len() < 4 << 20, "a log of {} bytes", log.len());
}

fn audit_cap() -> usize {
    hookhost::capabilities::audit::MAX_RECORDS_PER_HOOK
}

/// A variable programs read as where their configuration is (`HOME`) is
/// never a plugin's to set, whatever the grant; `plan` says so.
#[test]
fn a_plugin_cannot_point_programs_at_its_own_files() {
    let a = Attack::new("vars-write = [\"HOME\", \"GIT_SSH_COMMAND\"]\n");
    let plan = a.stack.hookhost(&["plan", "unstack"]);
    plan.assert_stdout_has("vars-write HOME is refused at run time");
    for name in ["HOME", "GIT_SSH_COMMAND"] {
        let run = a.unstack(&[
            ("HOSTILE_ATTACK", "set-value"),
            ("HOSTILE_VAR", name),
            ("HOSTILE_VALUE", "/data"),
        ]);
        a.assert_nothing_ran(&run);
        assert!(
            run.all().contains(&format!("HOSTILE refused: set {name}")),
            "{}",
            run.all()
        );
    }
}

/// A plugin's value with a newline, passed by a trusted hook to `iniset`,
/// cannot add sections or options to the file.
#[test]
fn a_value_cannot_add_lines_to_an_ini_file() {
    let a = Attack::new("vars-write = [\"HOSTILE_VAR_VALUE\"]\n");
    std::fs::write(a.stack.path("x.ini"), "[s]\no = before\n").unwrap();
    let run = a.unstack(&[
        ("HOSTILE_ATTACK", "set-value"),
        ("HOSTILE_VAR", "HOSTILE_VAR_VALUE"),
        ("HOSTILE_VALUE", "x\\n[DEFAULT]\\ninjected = yes"),
    ]);
    a.assert_nothing_ran(&run);
    let ini = std::fs::read_to_string(a.stack.path("x.ini")).unwrap();
    assert_eq!(ini, "[s]\no = before\n");
}
