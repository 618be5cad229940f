//! Tests of the bash session against real bash, with real hook files in
//! temporary directories.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::*;

struct Stack {
    _dir: TempDir,
    top: PathBuf,
    state: PathBuf,
    dest: PathBuf,
}

fn stack() -> Stack {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().join("top");
    let state = dir.path().join("state");
    fs::create_dir_all(top.join("extras.d")).unwrap();
    fs::create_dir_all(top.join("lib")).unwrap();
    fs::create_dir_all(&state).unwrap();
    let dest = dir.path().join("dest");
    Stack {
        _dir: dir,
        top,
        state,
        dest,
    }
}

impl Stack {
    fn config(&self, errexit: bool, vars: &[(&str, &str)]) -> SessionConfig {
        SessionConfig {
            dest: self.dest.clone(),
            state_dir: self.state.clone(),
            errexit,
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..SessionConfig::new(&self.top)
        }
    }

    fn start(&self, errexit: bool, vars: &[(&str, &str)]) -> BashSession {
        BashSession::start(&self.config(errexit, vars)).unwrap()
    }

    /// Write a file relative to the top directory; returns its path.
    fn file(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.top.join(rel);
        fs::write(&path, text).unwrap();
        path
    }
}

/// What a hook or call printed, per stream, and how it ended.
#[derive(Debug)]
struct Ran {
    outcome: Outcome,
    out: Vec<String>,
    err: Vec<String>,
}

fn collect(f: impl FnOnce(&mut dyn FnMut(Stream, &str)) -> Result<Outcome>) -> Ran {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let outcome = f(&mut |stream, line| match stream {
        Stream::Stdout => out.push(line.to_string()),
        Stream::Stderr => err.push(line.to_string()),
    })
    .unwrap();
    Ran { outcome, out, err }
}

fn source(session: &mut BashSession, path: &Path, args: &[&str]) -> Ran {
    collect(|out| session.source_hook(path, args, out))
}

fn call(session: &mut BashSession, function: &str, args: &[&str]) -> Ran {
    collect(|out| session.call(function, args, out))
}

/// Source a one-off hook with this body; returns what it printed.
fn snippet(stack: &Stack, session: &mut BashSession, body: &str) -> Ran {
    let path = stack.file("extras.d/55-snippet.sh", body);
    source(session, &path, &["stack", "install"])
}

fn ok_lines(ran: Ran) -> Vec<String> {
    assert_eq!(ran.outcome, Outcome::Success, "{ran:?}");
    ran.out
}

#[test]
fn functions_from_source_phase_are_callable_in_later_phases() {
    let stack = stack();
    stack.file(
        "lib/template",
        "install_template() { echo \"installing template in $1\"; }\nTEMPLATE_DIR=$DEST/template\n",
    );
    let dispatch = stack.file(
        "extras.d/50-template.sh",
        r#"if is_service_enabled template; then
    if [[ "$1" == "source" ]]; then
        source $TOP_DIR/lib/template
    elif [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing Template"
        install_template "$TEMPLATE_DIR"
    fi
fi
"#,
    );
    let mut s = stack.start(false, &[("ENABLED_SERVICES", "key,template")]);
    assert_eq!(
        ok_lines(source(&mut s, &dispatch, &["source"])),
        Vec::<String>::new()
    );
    let lines = ok_lines(source(&mut s, &dispatch, &["stack", "install"]));
    let expected = format!("installing template in {}/template", stack.dest.display());
    assert_eq!(lines, ["Installing Template", expected.as_str()]);
    assert!(s.function_exists("install_template").unwrap());
    assert!(!s.function_exists("uninstall_template").unwrap());
    s.close().unwrap();
}

#[test]
fn positional_arguments_follow_the_phase() {
    let stack = stack();
    let hook = stack.file("extras.d/20-args.sh", "echo \"[$#] [$1] [${2-}]\"\n");
    let mut s = stack.start(true, &[]);
    let phases: [&[&str]; 4] = [
        &["source"],
        &["stack", "pre-install"],
        &["unstack"],
        &["clean"],
    ];
    let seen: Vec<String> = phases
        .iter()
        .flat_map(|args| ok_lines(source(&mut s, &hook, args)))
        .collect();
    assert_eq!(
        seen,
        [
            "[1] [source] []",
            "[2] [stack] [pre-install]",
            "[1] [unstack] []",
            "[1] [clean] []"
        ]
    );
    // The session's own positional parameters are untouched between hooks.
    assert_eq!(
        ok_lines(snippet(&stack, &mut s, "true")),
        Vec::<String>::new()
    );
}

#[test]
fn variables_persist_and_config_vars_are_not_exported() {
    let stack = stack();
    let mut s = stack.start(false, &[("MY_OPT", "from conf"), ("DATA_DIR", "/srv/data")]);
    let first = stack.file(
        "extras.d/10-a.sh",
        "SHARED=\"set by a\"\ndeclare -A MAP=([k]=v)\n",
    );
    ok_lines(source(&mut s, &first, &["source"]));
    let lines = ok_lines(snippet(
        &stack,
        &mut s,
        "echo \"$SHARED|${MAP[k]}|$MY_OPT|$DATA_DIR\"\nprintenv MY_OPT || echo not-exported\nprintenv TOP_DIR DEST\n",
    ));
    assert_eq!(
        lines,
        [
            "set by a|v|from conf|/srv/data".to_string(),
            "not-exported".to_string(),
            stack.top.display().to_string(),
            stack.dest.display().to_string(),
        ]
    );
}

#[test]
fn config_values_are_literal() {
    let stack = stack();
    let tricky = "$(touch pwned) `touch pwned2` 'q' \"d\" \\ ;|&";
    let mut s = stack.start(false, &[("TRICKY", tricky)]);
    assert_eq!(s.get_var("TRICKY").unwrap().as_deref(), Some(tricky));
    assert!(!stack.top.join("pwned").exists() && !stack.top.join("pwned2").exists());
    let bad = BashSession::start(&stack.config(false, &[("NOT-A-NAME", "x")]));
    assert!(bad
        .err()
        .unwrap()
        .to_string()
        .contains("not a valid variable name"));
}

#[test]
fn get_and_set_var_round_trip_any_text() {
    let stack = stack();
    let mut s = stack.start(true, &[]);
    let values = [
        "",
        "plain",
        "with  spaces ",
        "it's \"quoted\"",
        "line1\nline2\n",
        "\n\n",
        "ünïcødé ✓ 日本",
        "$(echo no) `no` ${HOME} \\n \\",
        "}__hh_x{",
    ];
    for value in values {
        s.set_var("ROUND", value).unwrap();
        assert_eq!(s.get_var("ROUND").unwrap().as_deref(), Some(value));
    }
    assert_eq!(s.get_var("NEVER_SET_ANYWHERE").unwrap(), None);
    s.set_var("FROM_HOST", "a b\nc").unwrap();
    let lines = ok_lines(snippet(
        &stack,
        &mut s,
        "printf '%s|' \"$FROM_HOST\"\nFROM_HOOK='x y'\n",
    ));
    assert_eq!(lines, ["a b", "c|"]);
    assert_eq!(s.get_var("FROM_HOOK").unwrap().as_deref(), Some("x y"));
    assert!(s
        .set_var("bad name", "x")
        .unwrap_err()
        .to_string()
        .contains("not a valid variable name"));
    assert!(s.get_var("1x").is_err());
    assert!(s.set_var("NUL", "a\0b").is_err());
    ok_lines(snippet(&stack, &mut s, "readonly LOCKED=1\n"));
    let err = s.set_var("LOCKED", "2").unwrap_err().to_string();
    assert_eq!(err, "cannot set LOCKED: it is a read-only variable");
    assert!(s.is_alive());
}

#[test]
fn exit_in_a_hook_ends_the_session() {
    let stack = stack();
    let mut s = stack.start(false, &[]);
    let ran = snippet(
        &stack,
        &mut s,
        "echo before\necho oops >&2\nexit 3\necho after\n",
    );
    assert_eq!(
        ran.outcome,
        Outcome::SessionEnded {
            status: Some(3),
            signal: None
        }
    );
    assert_eq!(
        (ran.out, ran.err),
        (vec!["before".to_string()], vec!["oops".to_string()])
    );
    assert!(!s.is_alive());
    let err = s.get_var("X").unwrap_err().to_string();
    assert!(err.contains("session has ended (exit status 3)"), "{err}");
    let hook = stack.file("extras.d/60-x.sh", "true\n");
    let err = s.source_hook(&hook, &[], &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("ended"));
    s.close().unwrap();
}

#[test]
fn exec_in_a_hook_ends_the_session() {
    let stack = stack();
    let mut s = stack.start(false, &[]);
    let ran = snippet(&stack, &mut s, "exec sh -c 'echo replaced; exit 5'\n");
    assert_eq!(
        ran.outcome,
        Outcome::SessionEnded {
            status: Some(5),
            signal: None
        }
    );
    assert_eq!(ran.out, ["replaced"]);
}

#[test]
fn errexit_failure_ends_the_session_with_the_err_trap_line() {
    let stack = stack();
    let mut s = stack.start(true, &[]);
    let hook = stack.file("extras.d/30-x.sh", "echo before\n\n\nfalse\necho after\n");
    let ran = source(&mut s, &hook, &["stack", "install"]);
    assert_eq!(
        ran.outcome,
        Outcome::SessionEnded {
            status: Some(1),
            signal: None
        }
    );
    assert_eq!(ran.out, ["before"]);
    assert_eq!(
        ran.err,
        ["hookhost: 'false' failed with status 1 at extras.d/30-x.sh line 4"]
    );
}

#[test]
fn errexit_failure_inside_a_lib_function_names_the_lib_file() {
    let stack = stack();
    stack.file(
        "lib/foo",
        "configure_foo() {\n    ls /nonexistent-hookhost-dir >/dev/null 2>&1\n}\n",
    );
    let mut s = stack.start(true, &[]);
    ok_lines(snippet(&stack, &mut s, "source $TOP_DIR/lib/foo\n"));
    let ran = snippet(&stack, &mut s, "configure_foo\n");
    assert!(
        matches!(
            ran.outcome,
            Outcome::SessionEnded {
                status: Some(2),
                ..
            }
        ),
        "{ran:?}"
    );
    assert_eq!(
        ran.err,
        ["hookhost: 'ls /nonexistent-hookhost-dir > /dev/null 2>&1' failed with status 2 at lib/foo line 2"]
    );
}

#[test]
fn errexit_hook_returning_non_zero_is_named() {
    let stack = stack();
    let mut s = stack.start(true, &[]);
    let ran = snippet(&stack, &mut s, "return 4\n");
    assert!(matches!(
        ran.outcome,
        Outcome::SessionEnded {
            status: Some(4),
            ..
        }
    ));
    assert_eq!(
        ran.err,
        ["hookhost: extras.d/55-snippet.sh returned status 4"]
    );
}

#[test]
fn errexit_is_suppressed_in_conditions_like_stack_sh() {
    let stack = stack();
    let mut s = stack.start(true, &[("ENABLED_SERVICES", "a")]);
    let ran = snippet(
        &stack,
        &mut s,
        "if is_service_enabled b; then echo b; fi\nfalse || echo recovered\nis_service_enabled a && echo a\n",
    );
    assert_eq!(
        ok_lines_with_err(ran),
        (vec!["recovered".to_string(), "a".to_string()], vec![])
    );
}

#[test]
fn failure_without_errexit_keeps_the_session() {
    let stack = stack();
    let mut s = stack.start(false, &[]);
    let ran = snippet(&stack, &mut s, "false\necho still running\n(exit 7)\n");
    assert_eq!(ran.outcome, Outcome::Failed { status: 7 });
    assert_eq!(ran.out, ["still running"]);
    let ran = snippet(&stack, &mut s, "echo next\n");
    assert_eq!(ok_lines(ran), ["next"]);
    assert!(s.is_alive());
}

#[test]
fn forged_markers_do_not_end_a_hook_early() {
    let stack = stack();
    let mut s = stack.start(false, &[]);
    let body = r#"
printf '\n__hh_00000000000000000000000000000000 0\n'
printf '\n%s 0\n' "$__hh_current"
echo "__hh_end 0" >&2
printf '\n__hh_deadbeef 0\n' >&2
declare -f __hh_end >/dev/null && echo "can see __hh_end"
echo after
return 6
"#;
    let ran = snippet(&stack, &mut s, body);
    assert_eq!(ran.outcome, Outcome::Failed { status: 6 });
    assert_eq!(ran.out.last().map(String::as_str), Some("after"));
    assert!(ran
        .out
        .contains(&"__hh_00000000000000000000000000000000 0".to_string()));
    assert!(ran.err.contains(&"__hh_deadbeef 0".to_string()));
    // Session functions cannot be redefined by hooks.
    let ran = snippet(
        &stack,
        &mut s,
        "__hh_end() { echo forged; }\necho redefined\n",
    );
    assert!(
        ran.err.iter().any(|l| l.contains("readonly function")),
        "{ran:?}"
    );
    assert_eq!(ok_lines(snippet(&stack, &mut s, "echo fine\n")), ["fine"]);
}

#[test]
fn hooks_read_eof_from_stdin() {
    let stack = stack();
    let mut s = stack.start(false, &[]);
    let started = Instant::now();
    let ran = snippet(
        &stack,
        &mut s,
        "read -r line; echo \"read=$?\"\ncat; echo \"cat=$?\"\n",
    );
    assert_eq!(ok_lines(ran), ["read=1", "cat=0"]);
    let ran = call(&mut s, "read", &[]);
    assert!(matches!(ran.outcome, Outcome::Failed { status: 127 }));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn children_cannot_reach_the_control_pipe() {
    let stack = stack();
    let mut s = stack.start(false, &[]);
    let body = r#"control=$(readlink /proc/$$/fd/255)
case $control in pipe:*) echo "control is a pipe" ;; esac
sh -c 'for f in /proc/self/fd/*; do readlink "$f"; done' | grep -cF "$control"
"#;
    let ran = snippet(&stack, &mut s, body);
    assert_eq!(ran.out, ["control is a pipe", "0"], "{ran:?}");
}

#[test]
fn background_process_holding_stdout_does_not_hang() {
    let stack = stack();
    let mut s = stack.start(false, &[]);
    let started = Instant::now();
    let ran = snippet(&stack, &mut s, "sleep 30 &\necho started\n");
    assert_eq!(ok_lines(ran), ["started"]);
    assert_eq!(ok_lines(snippet(&stack, &mut s, "echo next\n")), ["next"]);
    s.close().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn background_process_holding_stdout_does_not_hang_an_exit() {
    let stack = stack();
    let mut s = stack.start(false, &[]);
    let started = Instant::now();
    let ran = snippet(&stack, &mut s, "sleep 30 &\necho bye\nexit 4\n");
    assert_eq!(
        ran.outcome,
        Outcome::SessionEnded {
            status: Some(4),
            signal: None
        }
    );
    assert_eq!(ran.out, ["bye"]);
    s.close().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_background_process_that_keeps_printing_does_not_hide_an_exit() {
    // It prints every 5 ms for ~20 s: more often than the host's poll
    // times out, so only a check of bash itself sees the exit.
    let stack = stack();
    let mut s = stack.start(false, &[]);
    let started = Instant::now();
    let ran = snippet(
        &stack,
        &mut s,
        "( for i in $(seq 4000); do echo tick; sleep 0.005; done ) &\nexit 5\n",
    );
    assert_eq!(
        ran.outcome,
        Outcome::SessionEnded {
            status: Some(5),
            signal: None
        }
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn background_output_between_requests_goes_to_the_next_hook() {
    let stack = stack();
    let mut s = stack.start(false, &[]);
    ok_lines(snippet(
        &stack,
        &mut s,
        "(sleep 0.2; echo late; echo late-err >&2) &\nV=1\n",
    ));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(s.get_var("V").unwrap().as_deref(), Some("1"));
    let ran = snippet(&stack, &mut s, "echo own\n");
    assert_eq!(ran.out, ["late", "own"]);
    assert_eq!(ran.err, ["late-err"]);
}

#[test]
fn invalid_utf8_and_partial_lines_are_delivered() {
    let stack = stack();
    let mut s = stack.start(false, &[]);
    let ran = snippet(
        &stack,
        &mut s,
        "printf 'a\\xffb\\n\\x00bin\\n'\nprintf 'no newline'\nprintf 'err' >&2\n",
    );
    let (out, err) = ok_lines_with_err(ran);
    assert_eq!(out, ["a\u{fffd}b", "\0bin", "no newline"]);
    assert_eq!(err, ["err"]);
    let ran = snippet(&stack, &mut s, "printf 'x\\n\\n'\n");
    assert_eq!(ok_lines(ran), ["x", ""]);
}

fn ok_lines_with_err(ran: Ran) -> (Vec<String>, Vec<String>) {
    assert_eq!(ran.outcome, Outcome::Success, "{ran:?}");
    (ran.out, ran.err)
}

#[test]
fn one_hook_cannot_break_the_next() {
    let stack = stack();
    let mut s = stack.start(true, &[]);
    let breaker = r#"
cd /
IFS=,
set -u -f -o pipefail +e
set -x
shopt -s nullglob failglob nocasematch expand_aliases
alias __hh_post='echo hijacked'
cd() { echo "fake cd"; }
printf() { echo "fake printf"; }
echo() { builtin echo "fake echo"; }
set() { builtin echo "fake set"; }
trap() { builtin echo "fake trap"; }
builtin trap 'builtin echo debug-trap' DEBUG
builtin trap 'builtin echo exit-trap' EXIT
umask 077
exec >"$TOP_DIR/captured.log" 2>&1 0<"${BASH_SOURCE[0]}"
"#;
    let ran = snippet(&stack, &mut s, breaker);
    assert_eq!(ran.outcome, Outcome::Success, "{ran:?}");
    unset_builtin_shadows(&stack, &mut s);
    let check = r#"builtin echo "pwd=$PWD"
builtin echo "ifs=$(builtin printf '%q' "$IFS")"
builtin echo "undefined=[${UNDEFINED_VAR}]"
builtin echo glob=nomatch*
builtin echo "opts=$-"
builtin echo "umask=$(umask)"
"#;
    let ran = snippet(&stack, &mut s, check);
    let lines = ok_lines(ran);
    assert_eq!(lines[0], format!("pwd={}", stack.top.display()));
    assert_eq!(lines[1], "ifs=$' \\t\\n'");
    assert_eq!(lines[2], "undefined=[]");
    assert_eq!(lines[3], "glob=nomatch*");
    assert!(
        lines[4].contains('e') && !lines[4].contains('u') && !lines[4].contains('x'),
        "{}",
        lines[4]
    );
    assert_eq!(lines[5], format!("umask={}", initial_umask()));
    let log = fs::read_to_string(stack.top.join("captured.log")).unwrap_or_default();
    assert!(
        !log.contains("__hh_"),
        "markers leaked into the hook's log: {log}"
    );
}

/// The restore resets options only when a hook changed them: what it
/// compares against must be the options it sets itself, errexit included
/// under `stack` (saved without errexit, every hook paid a full reset).
#[test]
fn the_saved_options_are_the_sessions_own_in_both_modes() {
    for errexit in [true, false] {
        let stack = stack();
        let mut s = stack.start(errexit, &[]);
        snippet(&stack, &mut s, "set -u +e; shopt -s nullglob\n");
        let check = "[[ $SHELLOPTS == \"$__hh_opts\" && $BASHOPTS == \"$__hh_bopts\" ]] \
                     && echo same; echo \"$-\"\n";
        let lines = ok_lines(snippet(&stack, &mut s, check));
        assert_eq!(lines[0], "same", "errexit {errexit}: {lines:?}");
        assert_eq!(lines[1].contains('e'), errexit, "{lines:?}");
        assert!(!lines[1].contains('u'), "{lines:?}");
        s.close().unwrap();
    }
}

/// Remove the shadowing functions so the check hook sees plain bash.
fn unset_builtin_shadows(stack: &Stack, s: &mut BashSession) {
    // The session works even with them defined: prove it first.
    assert_eq!(s.get_var("IFS").unwrap().as_deref(), Some(" \t\n"));
    let ran = snippet(stack, s, "echo shadowed\n");
    assert_eq!(ok_lines(ran), ["fake echo"]);
    let ran = snippet(stack, s, "unset -f cd printf echo set trap\n");
    assert_eq!(ran.outcome, Outcome::Success, "{ran:?}");
}

fn initial_umask() -> String {
    let out = std::process::Command::new("bash")
        .args(["--noprofile", "--norc", "-c", "umask"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn is_service_enabled_catch_alls_and_any_semantics() {
    let stack = stack();
    let services = "n-api,g-reg,c-vol,q-svc,ir-api,tr-api,s-proxy,ceilometer-acompute,key";
    let mut s = stack.start(true, &[("ENABLED_SERVICES", services)]);
    let check = |s: &mut BashSession, svc: &[&str]| call(s, "is_service_enabled", svc).outcome;
    for svc in [
        "nova",
        "glance",
        "cinder",
        "neutron",
        "ironic",
        "trove",
        "swift",
        "ceilometer",
        "key",
        "n-api",
    ] {
        assert_eq!(check(&mut s, &[svc]), Outcome::Success, "{svc}");
    }
    let ran = snippet(
        &stack,
        &mut s,
        "for x in keystone n-cpu ke n horizon 'n-*' ''; do is_service_enabled \"$x\" && echo \"$x\"; done; true\n\
         is_service_enabled horizon key && echo any\n\
         ENABLED_SERVICES=swift; is_service_enabled s-object && echo s-object\n",
    );
    assert_eq!(ok_lines(ran), ["any", "s-object"]);
}

#[test]
fn is_service_enabled_respects_override_functions_and_xtrace() {
    let stack = stack();
    let mut s = stack.start(false, &[("ENABLED_SERVICES", "bar,baz")]);
    let body = r#"
is_foo_enabled() { return 0; }
is_bar_enabled() { return 1; }
is_baz_enabled() { is_service_enabled baz; }
for x in foo bar baz; do is_service_enabled $x && echo "$x on" || echo "$x off"; done
(set -u; unset ENABLED_SERVICES; is_service_enabled qux || echo "qux off")
set -x
is_service_enabled foo
[[ $- == *x* ]] && echo "xtrace kept" >&2
set +x
"#;
    let ran = snippet(&stack, &mut s, body);
    assert_eq!(ran.outcome, Outcome::Success, "{ran:?}");
    assert_eq!(ran.out, ["foo on", "bar off", "baz on", "qux off"]);
    assert!(ran.err.contains(&"xtrace kept".to_string()), "{ran:?}");
    assert!(
        !ran.err.iter().any(|l| l.contains("__hh_service_enabled")),
        "{ran:?}"
    );
}

#[test]
fn enable_and_disable_service_are_idempotent() {
    let stack = stack();
    let mut s = stack.start(true, &[]);
    let services = |s: &mut BashSession| s.get_var("ENABLED_SERVICES").unwrap().unwrap();
    assert_eq!(services(&mut s), "");
    assert_eq!(
        call(&mut s, "enable_service", &["a"]).outcome,
        Outcome::Success
    );
    assert_eq!(services(&mut s), "a");
    call(&mut s, "enable_service", &["b", "a", "c"]);
    call(&mut s, "enable_service", &["c"]);
    assert_eq!(services(&mut s), "a,b,c");
    call(&mut s, "disable_service", &["b"]);
    call(&mut s, "disable_service", &["b", "zzz"]);
    assert_eq!(services(&mut s), "a,c");
    s.set_var("ENABLED_SERVICES", ",x,,y,").unwrap();
    call(&mut s, "enable_service", &["y", "z"]);
    assert_eq!(services(&mut s), "x,y,z");
    call(&mut s, "disable_all_services", &[]);
    assert_eq!(services(&mut s), "");
    call(&mut s, "disable_service", &["x"]);
    assert_eq!(services(&mut s), "");
}

#[test]
fn trueorfalse_accepts_both_devstack_forms() {
    let stack = stack();
    let mut s = stack.start(
        true,
        &[("USE_FOO", "yes"), ("USE_BAR", "Off"), ("ODD", "maybe")],
    );
    let body = r#"
trueorfalse False USE_FOO
trueorfalse True USE_BAR
trueorfalse True ODD
trueorfalse False NOT_SET_VAR
trueorfalse True $USE_BAR
trueorfalse False $NOT_SET_VAR
for v in 1 yes Yes YES true True TRUE on On ON 0 no No NO false False FALSE off Off OFF; do
    printf '%s ' "$(trueorfalse X "$v")"
done; builtin echo
trueorfalse false ""
trueorfalse weird ""
"#;
    let lines = ok_lines(snippet(&stack, &mut s, body));
    assert_eq!(
        lines,
        [
            "True",
            "False",
            "True",
            "False",
            "False",
            "False",
            "True True True True True True True True True True False False False False False False False False False False ",
            "False",
            "weird",
        ]
    );
}

#[test]
fn install_package_records_without_a_grant() {
    let stack = stack();
    let mut s = stack.start(true, &[]);
    let ran = snippet(
        &stack,
        &mut s,
        "install_package cowsay sl\ninstall_package jq\n",
    );
    assert_eq!(
        ok_lines(ran),
        [
            "install_package: would install cowsay sl (no install grant; pass --allow-install)",
            "install_package: would install jq (no install grant; pass --allow-install)",
        ]
    );
    let wanted = fs::read_to_string(stack.state.join("packages-wanted")).unwrap();
    assert_eq!(wanted, "cowsay\nsl\njq\n");
}

#[test]
fn messages_name_the_calling_file_and_line() {
    let stack = stack();
    let mut s = stack.start(true, &[]);
    let body = "echo_summary \"Configuring   Foo\" now\nwarn $LINENO \"careful\"\nwarn \"no line given\"\n";
    let ran = snippet(&stack, &mut s, body);
    assert_eq!(ran.outcome, Outcome::Success, "{ran:?}");
    assert_eq!(ran.out, ["Configuring   Foo now"]);
    assert_eq!(
        ran.err,
        [
            "[WARNING] extras.d/55-snippet.sh:2 careful",
            "[WARNING] extras.d/55-snippet.sh:3 no line given"
        ]
    );
    let ran = snippet(
        &stack,
        &mut s,
        "echo working\ndie $LINENO \"cannot go on\"\necho unreachable\n",
    );
    assert_eq!(
        ran.outcome,
        Outcome::SessionEnded {
            status: Some(1),
            signal: None
        }
    );
    assert_eq!(ran.out, ["working"]);
    assert_eq!(ran.err, ["[ERROR] extras.d/55-snippet.sh:2 cannot go on"]);
}

#[test]
fn die_without_line_uses_the_callers_line_and_status() {
    let stack = stack();
    let mut s = stack.start(false, &[]);
    let ran = snippet(&stack, &mut s, "\n(exit 9) || die \"bad thing\"\n");
    assert!(
        matches!(
            ran.outcome,
            Outcome::SessionEnded {
                status: Some(9),
                ..
            }
        ),
        "{ran:?}"
    );
    assert_eq!(ran.err, ["[ERROR] extras.d/55-snippet.sh:2 bad thing"]);
}

#[test]
fn get_var_and_set_var_helpers_work_in_bash() {
    let stack = stack();
    let mut s = stack.start(true, &[]);
    let body = "f() { local X=local; set -u; set_var X \"global value\"; set +u; }\nf\nget_var X\nget_var UNSET_THING\necho \"[$(get_var X)]\"\nset_var 'bad-name' v || echo \"rc=$?\"\n(set -u; set_var FRESH v; echo \"$FRESH\")\n";
    let ran = snippet(&stack, &mut s, body);
    assert_eq!(ran.outcome, Outcome::Success, "{ran:?}");
    assert_eq!(ran.out, ["global value", "[global value]", "rc=2", "v"]);
    assert_eq!(ran.err, ["set_var: invalid variable name 'bad-name'"]);
    assert_eq!(s.get_var("X").unwrap().as_deref(), Some("global value"));
}

#[test]
fn common_variables_have_devstack_defaults_unless_configured() {
    let stack = stack();
    let mut s = stack.start(false, &[("FILES", "/my/files")]);
    let get = |s: &mut BashSession, n: &str| s.get_var(n).unwrap().unwrap();
    assert_eq!(get(&mut s, "TOP_DIR"), stack.top.display().to_string());
    assert_eq!(get(&mut s, "DEST"), stack.dest.display().to_string());
    assert_eq!(
        get(&mut s, "DATA_DIR"),
        format!("{}/data", stack.dest.display())
    );
    assert_eq!(get(&mut s, "FILES"), "/my/files");
    assert_eq!(
        get(&mut s, "HOOKHOST_STATE_DIR"),
        stack.state.display().to_string()
    );
    assert_eq!(get(&mut s, "ENABLED_SERVICES"), "");
    assert!(!get(&mut s, "STACK_USER").is_empty());
}

#[test]
fn call_runs_functions_in_the_session() {
    let stack = stack();
    let mut s = stack.start(false, &[]);
    ok_lines(snippet(
        &stack,
        &mut s,
        "install_nova_hypervisor() { HYPERVISOR_ARGS=\"$*\"; echo \"installing $1\"; pwd; return ${RC:-0}; }\n",
    ));
    let ran = call(&mut s, "install_nova_hypervisor", &["fake", "it's"]);
    assert_eq!(
        ok_lines(ran),
        [
            "installing fake".to_string(),
            stack.top.display().to_string()
        ]
    );
    assert_eq!(
        s.get_var("HYPERVISOR_ARGS").unwrap().as_deref(),
        Some("fake it's")
    );
    s.set_var("RC", "3").unwrap();
    assert_eq!(
        call(&mut s, "install_nova_hypervisor", &[]).outcome,
        Outcome::Failed { status: 3 }
    );
    let ran = call(&mut s, "no_such_function", &[]);
    assert_eq!(ran.outcome, Outcome::Failed { status: 127 });
    assert_eq!(
        ran.err,
        ["hookhost: function 'no_such_function' is not defined"]
    );
    assert!(s.call("rm -rf", &[], &mut |_, _| {}).is_err());
    assert!(s.function_exists("a;b").is_err());
}

#[test]
fn call_under_errexit_ends_the_session_like_stack_sh() {
    let stack = stack();
    let mut s = stack.start(true, &[]);
    ok_lines(snippet(&stack, &mut s, "start_it() { return 2; }\n"));
    let ran = call(&mut s, "start_it", &[]);
    assert!(matches!(
        ran.outcome,
        Outcome::SessionEnded {
            status: Some(2),
            ..
        }
    ));
    assert_eq!(ran.err, ["hookhost: function start_it returned status 2"]);
}

#[test]
fn missing_hook_file_is_an_error() {
    let stack = stack();
    let mut s = stack.start(false, &[]);
    let err = s
        .source_hook(Path::new("extras.d/99-gone.sh"), &[], &mut |_, _| {})
        .unwrap_err();
    assert!(err.to_string().contains("is not a file"));
    assert!(s.is_alive());
}

#[test]
fn relative_hook_paths_are_relative_to_top_dir() {
    let stack = stack();
    stack.file("extras.d/40-rel.sh", "echo \"${BASH_SOURCE[0]}\"\n");
    let mut s = stack.start(false, &[]);
    let ran = source(&mut s, Path::new("extras.d/40-rel.sh"), &["source"]);
    assert_eq!(
        ok_lines(ran),
        [stack.top.join("extras.d/40-rel.sh").display().to_string()]
    );
}

#[test]
fn watched_variables_are_read_from_the_copy_and_written_before_the_next_request() {
    let stack = stack();
    let mut config = stack.config(true, &[("FROM_CONF", "conf")]);
    config.watch = ["FROM_CONF", "RELAY", "BACK", "FIXED", "GONE"]
        .map(String::from)
        .to_vec();
    let mut s = BashSession::start(&config).unwrap();
    assert_eq!(s.get_var("FROM_CONF").unwrap().as_deref(), Some("conf"));
    assert_eq!(s.get_var("RELAY").unwrap(), None);
    // A hook's assignments, unsets and readonly show in the copy after it.
    let ran = snippet(
        &stack,
        &mut s,
        "RELAY=\"a b\nc\"; unset FROM_CONF; readonly FIXED=1; GONE=x; unset GONE\n",
    );
    assert_eq!(ran.outcome, Outcome::Success, "{ran:?}");
    assert_eq!(s.get_var("RELAY").unwrap().as_deref(), Some("a b\nc"));
    assert_eq!(s.get_var("FROM_CONF").unwrap(), None);
    assert_eq!(s.get_var("GONE").unwrap(), None);
    let err = s.set_var("FIXED", "2").unwrap_err().to_string();
    assert_eq!(err, "cannot set FIXED: it is a read-only variable");
    // A plugin's write is seen by the next hook, and only once set there.
    s.set_var("BACK", "it's $HOME").unwrap();
    s.set_var("BACK", "last one wins").unwrap();
    assert_eq!(s.get_var("BACK").unwrap().as_deref(), Some("last one wins"));
    let ran = snippet(
        &stack,
        &mut s,
        "echo \"BACK=$BACK\"; BACK=changed-in-bash\n",
    );
    assert_eq!(ok_lines(ran), ["BACK=last one wins"]);
    assert_eq!(
        s.get_var("BACK").unwrap().as_deref(),
        Some("changed-in-bash")
    );
    // Unwatched names still go to bash, after the queued assignments.
    s.set_var("RELAY", "queued").unwrap();
    s.set_var("UNWATCHED", "direct").unwrap();
    assert_eq!(s.get_var("UNWATCHED").unwrap().as_deref(), Some("direct"));
    let ran = call(&mut s, "get_var_helper_check", &[]);
    assert!(
        matches!(ran.outcome, Outcome::Failed { status: 127 }),
        "{ran:?}"
    );
    let ran = snippet(&stack, &mut s, "echo \"$RELAY $UNWATCHED\"\n");
    assert_eq!(ok_lines(ran), ["queued direct"]);
    // A hook that removes the session's record of what it sent does not
    // turn values into arithmetic; the copy stays right.
    let ran = snippet(
        &stack,
        &mut s,
        "unset __hh_s_RELAY __hh_o; RELAY='x[$(touch pwned)]'\n",
    );
    assert_eq!(ran.outcome, Outcome::Success, "{ran:?}");
    s.set_var("BACK", "y[$(touch pwned)]").unwrap();
    let ran = snippet(&stack, &mut s, "echo \"$BACK\"\n");
    assert_eq!(ok_lines(ran), ["y[$(touch pwned)]"]);
    assert_eq!(
        s.get_var("RELAY").unwrap().as_deref(),
        Some("x[$(touch pwned)]")
    );
    // An integer variable would evaluate a plugin's value as arithmetic,
    // running the command in the subscript: refused, watched or not; the
    // copy then learns what bash really has. A plain number is fine.
    let ran = snippet(&stack, &mut s, "declare -gi RELAY=7 UNWATCHED=8\n");
    assert_eq!(ran.outcome, Outcome::Success, "{ran:?}");
    s.set_var("RELAY", "z[$(touch pwned)]").unwrap();
    let ran = snippet(&stack, &mut s, "echo \"$RELAY\"\n");
    assert_eq!(ran.out, ["7"], "{ran:?}");
    assert!(ran.err[0].contains("could not set RELAY"), "{ran:?}");
    assert_eq!(s.get_var("RELAY").unwrap().as_deref(), Some("7"));
    let err = s.set_var("UNWATCHED", "w[$(touch pwned)]").unwrap_err();
    assert!(err.to_string().contains("integer variable"), "{err}");
    s.set_var("RELAY", "-12").unwrap();
    s.set_var("UNWATCHED", "13").unwrap();
    let ran = snippet(&stack, &mut s, "echo \"$RELAY $UNWATCHED\"\n");
    assert_eq!(ok_lines(ran), ["-12 13"]);
    assert!(!stack.top.join("pwned").exists());
    s.close().unwrap();
}

#[test]
fn break_or_continue_outside_a_loop_ends_the_session_and_says_so() {
    for word in ["break", "continue"] {
        let stack = stack();
        let mut s = stack.start(false, &[]);
        // Inside the hook's own loop they are the hook's business.
        let ran = snippet(
            &stack,
            &mut s,
            &format!(
                "for i in 1 2; do echo $i; if [[ $i == 2 ]]; then {word}; fi; done\necho after\n"
            ),
        );
        assert_eq!(ok_lines(ran), ["1", "2", "after"]);
        let ran = snippet(
            &stack,
            &mut s,
            &format!("echo before\n{word}\necho after\n"),
        );
        let ended = Outcome::SessionEnded {
            status: Some(70),
            signal: None,
        };
        assert_eq!(ran.outcome, ended, "{word}: {ran:?}");
        assert_eq!(ran.out, ["before"]);
        assert!(
            ran.err
                .iter()
                .any(|l| l.contains("55-snippet.sh ran `break` or `continue` outside a loop")),
            "{word}: {ran:?}"
        );
        s.close().unwrap();
    }
}

#[test]
fn a_hook_setting_tmout_does_not_time_out_the_session() {
    let stack = stack();
    let mut s = stack.start(false, &[]);
    let ran = snippet(&stack, &mut s, "TMOUT=1\n");
    assert_eq!(ran.outcome, Outcome::Success);
    // Longer than TMOUT between two requests: bash waits on.
    std::thread::sleep(Duration::from_millis(1500));
    let ran = snippet(&stack, &mut s, "echo still-here \"$TMOUT\"\n");
    assert_eq!(ok_lines(ran), ["still-here 1"]);
    s.close().unwrap();
}

#[test]
fn requests_past_the_rotation_size_and_secrets_do_not_stay_in_the_mailbox() {
    let stack = stack();
    let mut s = stack.start(false, &[("ADMIN_PASSWORD", "s3cret-value")]);
    let dir = s.mailbox.as_ref().unwrap().dir().to_path_buf();
    // ~1.5 MiB of requests: the file is switched at least once.
    let hook = stack.file("extras.d/20-count.sh", "COUNT=$((COUNT + 1))\n");
    let long = "x".repeat(50_000);
    for _ in 0..30 {
        let ran = source(&mut s, &hook, &["stack", &long]);
        assert_eq!(ran.outcome, Outcome::Success, "{ran:?}");
    }
    assert_eq!(s.get_var("COUNT").unwrap().as_deref(), Some("30"));
    assert_eq!(
        s.get_var("ADMIN_PASSWORD").unwrap().as_deref(),
        Some("s3cret-value")
    );
    let files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let held = fs::read(&files[0]).unwrap();
    assert!(held.len() < 1_200_000, "{} bytes", held.len());
    assert!(!String::from_utf8_lossy(&held).contains("s3cret-value"));
    s.close().unwrap();
}

#[test]
fn the_session_scripts_define_the_same_without_their_comment_lines() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("session-code.sh");
    // Everything the scripts define, minus what bash changes by itself.
    let dump = |text: &[u8]| {
        fs::write(&script, text).unwrap();
        let out = std::process::Command::new("bash")
            .args(["--noprofile", "--norc", "-c"])
            .arg(
                "source \"$1\" >/dev/null 2>&1; declare -f; declare -p | \
                 grep -vE '^declare -[-a-zA-Z]* (BASH[A-Z_]*|RANDOM|SRANDOM|SECONDS|EPOCH[A-Z]*|LINENO|_|PPID|BASHPID|FUNCNAME|PIPESTATUS|HISTCMD)='",
            )
            .arg("dump")
            .arg(&script)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    for original in [SESSION_SH, HELPERS_SH] {
        let stripped = without_comment_lines(original);
        assert!(stripped.len() < original.len() * 3 / 4);
        assert_eq!(
            stripped.iter().filter(|&&b| b == b'\n').count(),
            original.lines().count()
        );
        let (want, got) = (dump(original.as_bytes()), dump(&stripped));
        assert!(want.contains("__hh_") || want.contains("is_service_enabled"));
        assert_eq!(want, got);
    }
}

// --- bounded calls: a plugin's time limit -------------------------------------

/// Functions a plugin may be granted that never return on their own.
const ENDLESS: &str = r#"KEPT=kept-value
kept() { echo "kept $KEPT"; }
spin() { while :; do :; done; }
nested() { spin; echo not-reached; }
waits() { sleep 300; }
ignores_int() { trap '' INT; while :; do :; done; }
stubborn() {
    local s
    for ((s = 1; s < 65; s++)); do trap '' "$s" 2>/dev/null; done
    while :; do :; done
}
ends() { exit 3; }
"#;

/// `ask(function)` bounded by `after` from now, its output collected.
fn bounded(s: &mut BashSession, function: &str, after: Duration) -> (Result<Outcome>, Vec<String>) {
    let mut lines = Vec::new();
    s.set_deadline(Some(Instant::now() + after));
    let result = s.ask(function, &[], &mut |_, line| lines.push(line.to_string()));
    s.set_deadline(None);
    (result, lines)
}

fn stopped_at_deadline(result: &Result<Outcome>) -> bool {
    matches!(result, Err(e) if e.is::<DeadlinePassed>())
}

/// Whether `pid` runs (a zombie does not).
fn running(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat[stat.rfind(')').unwrap() + 1..]
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

fn read_pid(path: &Path) -> u32 {
    fs::read_to_string(path).unwrap().trim().parse().unwrap()
}

#[test]
fn a_call_stopped_at_its_deadline_costs_the_session_nothing() {
    let stack = stack();
    for errexit in [true, false] {
        let mut s = stack.start(errexit, &[]);
        ok_lines(snippet(&stack, &mut s, ENDLESS));
        for function in ["spin", "nested", "waits", "ignores_int"] {
            let (result, lines) = bounded(&mut s, function, Duration::from_millis(100));
            assert!(stopped_at_deadline(&result), "{function}: {result:?}");
            assert!(s.is_alive(), "{function}");
            assert!(
                !lines.iter().any(|l| l.contains("not-reached")),
                "{lines:?}"
            );
            // Nothing of the stop is left for the next hook.
            let ran = snippet(
                &stack,
                &mut s,
                "kept; trap -p DEBUG; [[ $- == *T* ]] && echo functrace; shopt -q extdebug && echo extdebug; :\n",
            );
            assert_eq!(ok_lines(ran), ["kept kept-value"], "after {function}");
            // And no snapshot stays behind it.
            assert_eq!(s.take_snapshot(), None);
        }
        s.close().unwrap();
    }
}

#[test]
fn a_helper_call_is_stopped_the_same_way() {
    let stack = stack();
    let mut s = stack.start(true, &[]);
    ok_lines(snippet(
        &stack,
        &mut s,
        "is_service_enabled() { while :; do :; done; }\nKEPT=yes\n",
    ));
    s.set_deadline(Some(Instant::now() + Duration::from_millis(100)));
    let result = s.ask_helper("is_service_enabled", &["x"], &mut |_, _| {});
    s.set_deadline(None);
    assert!(stopped_at_deadline(&result), "{result:?}");
    assert_eq!(s.get_var("KEPT").unwrap().as_deref(), Some("yes"));
}

#[test]
fn a_stop_signal_between_calls_changes_nothing() {
    let stack = stack();
    let mut s = stack.start(true, &[]);
    ok_lines(snippet(&stack, &mut s, "quick() { echo quick; }\n"));
    let (result, lines) = bounded(&mut s, "quick", Duration::from_secs(30));
    assert_eq!(result.unwrap(), Outcome::Success);
    assert_eq!(lines, ["quick"]);
    // A stop that arrives late: the session is waiting for a request.
    for _ in 0..20 {
        s.bash.signal(stop_signal());
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(s.is_alive());
    let ran = snippet(&stack, &mut s, "trap -p DEBUG; quick\n");
    assert_eq!(ok_lines(ran), ["quick"]);
    // A hook's own ignoring of the signal does not outlive the call either.
    ok_lines(snippet(&stack, &mut s, "trap '' INT\n"));
    ok_lines(snippet(&stack, &mut s, "spin() { while :; do :; done; }\n"));
    let (result, _) = bounded(&mut s, "spin", Duration::from_millis(100));
    assert!(stopped_at_deadline(&result), "{result:?}");
    assert!(s.is_alive());
}

#[test]
fn a_stopped_call_ends_what_it_started_and_spares_what_ran_before() {
    let stack = stack();
    let mut s = stack.start(false, &[]);
    let old = stack.top.join("old.pid");
    let new = stack.top.join("new.pid");
    let ran = snippet(
        &stack,
        &mut s,
        &format!(
            "sleep 300 & echo $! >{old}\n\
             starts() {{ sleep 300 & echo $! >{new}; ( trap '' INT; sleep 300 ); }}\n",
            old = old.display(),
            new = new.display()
        ),
    );
    ok_lines(ran);
    let (result, _) = bounded(&mut s, "starts", Duration::from_millis(100));
    assert!(stopped_at_deadline(&result), "{result:?}");
    assert!(s.is_alive());
    let (old, new) = (read_pid(&old), read_pid(&new));
    // bash reaps what it started; give it the moment that takes.
    for _ in 0..100 {
        if !running(new) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!running(new), "the call's background sleep still runs");
    assert!(
        running(old),
        "a hook's earlier background process was stopped"
    );
    crate::interrupt::signal_pids(&[old], libc::SIGKILL);
    s.close().unwrap();
}

/// The session's state as bash prints it, less what a restart does not
/// carry over (bash's and the session's own variables).
fn state(stack: &Stack, s: &mut BashSession) -> (Vec<String>, String) {
    let path = stack.top.join("state.txt");
    let body = format!(
        "{{ declare -p; echo '# hookhost functions'; declare -f; }} >{}\n",
        path.display()
    );
    ok_lines(snippet(stack, s, &body));
    let dump = fs::read(&path).unwrap();
    let functions = String::from_utf8_lossy(&dump)
        .split_once("# hookhost functions\n")
        .unwrap()
        .1
        .to_string();
    (snapshot::restorable_declarations(&dump), functions)
}

/// Values that would run `touch` if a replay ever evaluated them.
const HOSTILE_STATE: &str = r#"SCALAR=$'line1\nline2 "q" \\ $(touch MARK) `touch MARK` \x01'
declare -a ARR=("a b" $'c\nd' '$(touch MARK)' '')
declare -A MAP=(["k \"1\""]=v1 [$'k\n2']='$(touch MARK)' ['a[$(touch MARK)]']=x)
declare -i NUM=42
declare -r FIXED=ro
export EXPORTED=yes
declare -n REF=SCALAR
declare -a EMPTY=()
declare -i DECLARED_ONLY
unset DROPPED
is_service_enabled() { echo overridden; }
"#;

#[test]
fn a_call_that_ends_bash_is_replaced_by_a_session_with_the_state_before_it() {
    let stack = stack();
    let config = stack.config(true, &[("FROM_CONF", "conf"), ("DROPPED", "x")]);
    for function in ["ends", "stubborn"] {
        let mut s = BashSession::start(&config).unwrap();
        ok_lines(snippet(&stack, &mut s, ENDLESS));
        ok_lines(snippet(&stack, &mut s, HOSTILE_STATE));
        let before = state(&stack, &mut s);
        let (result, _) = bounded(&mut s, function, Duration::from_millis(100));
        assert!(!s.is_alive(), "{function}: {result:?}");
        let dump = s
            .take_snapshot()
            .expect("a snapshot of the state before the call");
        drop(s);
        let mut fresh = BashSession::start(&config).unwrap();
        fresh.restore(&dump).unwrap();
        let after = state(&stack, &mut fresh);
        assert_eq!(before.0, after.0, "variables after {function}");
        assert_eq!(before.1, after.1, "functions after {function}");
        assert!(before.0.iter().any(|d| d.contains("MAP=")), "{before:?}");
        assert!(!stack.top.join("MARK").exists());
        assert_eq!(fresh.get_var("DROPPED").unwrap(), None);
        let ran = collect(|out| fresh.call("is_service_enabled", &[], out));
        assert_eq!(ok_lines(ran), ["overridden"]);
        fresh.close().unwrap();
    }
}

#[test]
fn a_helper_call_takes_no_snapshot() {
    let stack = stack();
    let mut s = stack.start(true, &[]);
    ok_lines(snippet(
        &stack,
        &mut s,
        "is_service_enabled() { exit 4; }\n",
    ));
    s.set_deadline(Some(Instant::now() + Duration::from_secs(30)));
    let result = s.ask_helper("is_service_enabled", &["x"], &mut |_, _| {});
    s.set_deadline(None);
    assert!(
        matches!(result, Ok(Outcome::SessionEnded { .. })),
        "{result:?}"
    );
    assert_eq!(s.take_snapshot(), None);
}

#[test]
fn a_snapshot_that_cannot_be_written_does_not_fail_the_call() {
    let stack = stack();
    let mut s = stack.start(true, &[]);
    ok_lines(snippet(&stack, &mut s, "quick() { echo quick; }\n"));
    // Something in the way of the file: the redirection fails under errexit.
    let path = s.mailbox.as_ref().unwrap().snapshot_path();
    fs::create_dir(&path).unwrap();
    let (result, lines) = bounded(&mut s, "quick", Duration::from_secs(30));
    assert_eq!(result.unwrap(), Outcome::Success);
    assert_eq!(lines, ["quick"]);
    assert!(s.is_alive());
    fs::remove_dir(&path).unwrap();
    s.close().unwrap();
}

#[test]
fn a_helper_stopped_inside_its_own_loop_costs_the_session_nothing() {
    // disable_service over a huge list spends its time in the helpers'
    // own `__hh_list_without`: that frame unwinds too.
    let stack = stack();
    let mut s = stack.start(true, &[]);
    let names: Vec<String> = (0..20_000).map(|n| format!("svc{n}")).collect();
    s.set_var("ENABLED_SERVICES", &names.join(",")).unwrap();
    let args: Vec<&str> = names.iter().map(String::as_str).collect();
    s.set_deadline(Some(Instant::now() + Duration::from_millis(200)));
    let result = s.ask_helper("disable_service", &args, &mut |_, _| {});
    s.set_deadline(None);
    assert!(stopped_at_deadline(&result), "{result:?}");
    assert!(s.is_alive(), "bash was killed: the helper did not unwind");
    let services = s.get_var("ENABLED_SERVICES").unwrap().unwrap();
    assert!(services.starts_with("svc0,svc1,"));
}

/// The readers and `inicomment` (what 0.2.0 plugins call through
/// `config`) answer and write as the session's bash helpers do, on
/// generated files: repeated sections and options, commented and
/// indented lines, `key=v` without blanks, blanks around `=`, a `\r`
/// line end, a last line without a newline.
#[test]
fn the_bash_and_rust_ini_readers_and_inicomment_agree() {
    use crate::config::ini::{inicomment, iniget, join_lines, split_lines};
    let dir = tempfile::tempdir().unwrap();
    let mut session = BashSession::start(&SessionConfig::new(dir.path())).unwrap();
    let pieces = [
        "[DEFAULT]",
        "[db]",
        "[db]  ",
        "debug = True",
        "debug=False",
        "debug   =   spaced out  ",
        "#debug = commented",
        " debug = indented",
        "x = a=b",
        "x =",
        "connection = mysql://u:p@h/db?x=1",
        "debugging = 1",
        "x = crlf\r",
        "",
    ];
    let mut seed: u64 = 7;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) as usize) % n
    };
    for n in 0..40 {
        let lines: Vec<&str> = (0..next(12)).map(|_| pieces[next(pieces.len())]).collect();
        let mut text = lines.join("\n");
        if next(3) > 0 {
            text.push('\n');
        }
        for (section, key) in [
            ("DEFAULT", "debug"),
            ("db", "x"),
            ("db", "connection"),
            ("none", "x"),
        ] {
            let path = dir.path().join(format!("r{n}-{section}-{key}.conf"));
            std::fs::write(&path, &text).unwrap();
            let file = path.to_str().unwrap();
            let mut printed = Vec::new();
            let mut keep = |_: Stream, line: &str| printed.push(line.to_string());
            session
                .call("iniget", &[file, section, key], &mut keep)
                .unwrap();
            let has = session
                .call("ini_has_option", &[file, section, key], &mut |_, _| {})
                .unwrap();
            let lines = split_lines(&text);
            let rust = iniget(&lines, section, key);
            let why = format!("file {text:?}, [{section}] {key}");
            assert_eq!(
                printed,
                rust.iter().cloned().collect::<Vec<_>>(),
                "iniget: {why}"
            );
            assert_eq!(
                has == Outcome::Success,
                rust.is_some(),
                "ini_has_option: {why}"
            );
            session
                .call("inicomment", &[file, section, key], &mut |_, _| {})
                .unwrap();
            let mut lines = lines;
            let rust = match inicomment(&mut lines, section, key) {
                true => join_lines(&lines),
                false => text.clone(),
            };
            assert_eq!(
                std::fs::read_to_string(&path).unwrap(),
                rust,
                "inicomment: {why}"
            );
        }
    }
    session.close().unwrap();
}

/// The session's `trueorfalse` and the plugins' (`model::truth`) give the
/// same answer for every word: DevStack's spellings, near misses, case
/// changes, blanks and empty.
#[test]
fn bash_and_rust_trueorfalse_agree() {
    use crate::model::truth::truth;
    let stack = stack();
    let mut s = stack.start(false, &[]);
    let mut words: Vec<String> = [
        "1", "0", "yes", "no", "true", "false", "on", "off", "y", "n", "t", "f", "2", "-1", "",
        " ", "yes ", " true", "enabled", "None", "01", "1.0",
    ]
    .iter()
    .map(|w| w.to_string())
    .collect();
    for word in ["yes", "no", "true", "false", "on", "off"] {
        let mut upper_first = word.to_string();
        upper_first[..1].make_ascii_uppercase();
        words.extend([word.to_ascii_uppercase(), upper_first]);
        let mut mixed: Vec<char> = word.chars().collect();
        if let Some(last) = mixed.last_mut() {
            *last = last.to_ascii_uppercase();
        }
        words.push(mixed.into_iter().collect());
    }
    for default in [true, false] {
        let shown = if default { "True" } else { "False" };
        for word in &words {
            s.set_var("HH_WORD", word).unwrap();
            let ran = call(&mut s, "trueorfalse", &[shown, "HH_WORD"]);
            let bash = ok_lines(ran);
            let rust = truth(word).unwrap_or(default);
            let expected = if rust { "True" } else { "False" };
            assert_eq!(bash, [expected], "trueorfalse {shown} with {word:?}");
        }
    }
}
