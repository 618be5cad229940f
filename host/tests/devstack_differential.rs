//! Differential tests of DevStack's helpers: the same generated cases (fixed
//! seed) run once through a hookhost session and once through plain bash
//! that sources the same files the same way, and the two result files must
//! match byte for byte.
//!
//! The first test runs on a copy of the July 2015 DevStack tree
//! (`../shared/devstack-2015-07` or `HOOKHOST_DEVSTACK_TREE`): there the
//! tree's own functions win, so hookhost must add nothing of its own to
//! what they do. The second runs hookhost's own helpers (a plain stack, no
//! tree) against the tree's functions, and allows exactly the deliberate
//! differences listed in `DELIBERATE`; any other drift fails.
//!
//! Each case runs in a subshell (so `die` ends only the case) in a fresh
//! work directory holding a file named `E` (to catch unquoted globs), and
//! records its stdout, stderr, status, `ENABLED_SERVICES` and every file
//! it left in the work directory. `HOOKHOST_DIFF_DUMP=FILE` writes the
//! tree test's hookhost results there, to read what the cases do.

mod support;

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use support::Run;

/// The seed of the generated inputs: fixed, so a failure reproduces.
const SEED: u64 = 2_102_535;

/// The files stack.sh of the 2015 tree sourced before its hooks, minus its
/// side effects: both sides source exactly these, in this order.
const PRELUDE: &[&str] = &[
    "functions",
    "stackrc",
    "lib/database",
    "lib/rpc_backend",
    "lib/apache",
    "lib/tls",
    "lib/infra",
    "lib/oslo",
    "lib/lvm",
    "lib/horizon",
    "lib/keystone",
    "lib/glance",
    "lib/nova",
    "lib/cinder",
    "lib/swift",
    "lib/ceilometer",
    "lib/heat",
    "lib/neutron-legacy",
    "lib/ldap",
    "lib/dstat",
];

/// A copy of the tree in `dir` (the shared tree is never run in), with
/// none of its own hooks (a real run of them would install things).
fn copy_tree(tree: &Path, dir: &Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", tree.display()))
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success(), "copying {} failed", tree.display());
    for entry in std::fs::read_dir(dir.join("extras.d")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "sh") {
            std::fs::remove_file(path).unwrap();
        }
    }
}

fn run(command: &mut Command) -> Run {
    Run::from(command.output().expect("run a command"))
}

/// A bash word that stands for `text` literally.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A fixed-seed picker over the pools below.
struct Gen(fastrand::Rng);

impl Gen {
    fn pick<'a>(&mut self, pool: &[&'a str]) -> &'a str {
        pool[self.0.usize(..pool.len())]
    }
}

const VALUES: &[&str] = &[
    "",
    "file, http, rbd",
    "a&b",
    r"x\1y",
    "it's",
    "\"quoted\"",
    "a|b",
    "/etc/nova/nova.conf",
    "*",
    "E*",
    "  lead",
    "trail  ",
    "k=v",
    "$(echo hi)",
    "word",
];

const INI_FILES: &[&str] = &[
    "",
    "[DEFAULT]\nfoo = bar\n",
    "[DEFAULT]\nstores=old\n[glance_store]\nstores = a, b\n",
    "[glance_store]\nstores = x\n[other]\nstores = y\n[glance_store]\nstores = z\n",
    "[s-ect] ; note\nfoo=1\n",
    "[DEFAULT]\n#foo = commented\nfoo =   spaced  \n",
];

const SECTIONS: &[&str] = &["DEFAULT", "glance_store", "s.ect", "new section", ""];
const OPTIONS: &[&str] = &["foo", "stores", "f.o", "new_opt", ""];

const BOOLS: &[&str] = &[
    "1", "0", "yes", "Yes", "YES", "yEs", "true", "True", "TRUE", "tRue", "no", "No", "NO",
    "false", "False", "FALSE", "on", "On", "off", "2", "",
];

const SERVICE_LISTS: &[&str] = &[
    "",
    "n-cpu",
    "n-api,n-cpu,g-api",
    "tls-proxy",
    "s-proxy",
    "key",
    "c-api",
    "swift,s-proxy",
    "a,a,b",
    "a,-b",
    "g-api,foo",
    "xn-cell",
    "key,g-api,g-reg,n-api,n-crt,n-obj,n-cpu,n-net,n-cond,n-sch,n-novnc,n-xvnc,n-cauth,\
     c-sch,c-api,c-vol,h-eng,h-api,h-api-cfn,h-api-cw,horizon,rabbit,tempest,mysql,\
     q-svc,q-agt,q-dhcp,q-l3,q-meta,s-proxy,s-object,s-container,s-account",
];

const SERVICE_ARGS: &[&[&str]] = &[
    &["swift"],
    &["n-cpu-fake"],
    &["n-cell-foo"],
    &["s.proxy"],
    &["key g-api"],
    &["key", "g-api"],
    &["cinder"],
    &["nova"],
    &["glance"],
    &["neutron"],
    &["-svc"],
    &["a"],
    &["c"],
    &["n-cpu-*"],
    &["foo"],
    &["g-api", "foo"],
    &[""],
    &[],
];

const PACKAGES: &[&[&str]] = &[
    &[],
    &["bash"],
    &["no-such-package-hh"],
    &["bash", "coreutils"],
    &["bash", "no-such-package-hh"],
];

/// One case: a label, setup lines and the call, all bash.
struct Case {
    label: String,
    body: String,
}

fn ini_case(g: &mut Gen, helper: &str) -> Case {
    let content = g.pick(INI_FILES);
    let section = g.pick(SECTIONS);
    let option = g.pick(OPTIONS);
    let value = g.pick(VALUES);
    let setup = if content.is_empty() && g.0.bool() {
        String::new()
    } else {
        format!("printf %s {} > a.conf\n", quote(content))
    };
    let args = match helper {
        "iniset" => format!(
            "a.conf {} {} {}",
            quote(section),
            quote(option),
            quote(value)
        ),
        "iniset_multiline" => format!(
            "a.conf {} {} {} {}",
            quote(section),
            quote(option),
            quote(value),
            quote(g.pick(VALUES))
        ),
        _ => format!("a.conf {} {}", quote(section), quote(option)),
    };
    Case {
        label: format!("{helper} {args} on {content:?}"),
        body: format!("{setup}{helper} {args}"),
    }
}

fn bool_case(g: &mut Gen) -> Case {
    let value = g.pick(BOOLS);
    let default = g.pick(&["True", "False"]);
    let body = match g.0.u8(..4) {
        0 => format!("unset FLAG\ntrueorfalse {default} FLAG"),
        1 => format!("trueorfalse {default} {}", quote(value)),
        _ => format!("FLAG={}\ntrueorfalse {default} FLAG", quote(value)),
    };
    Case {
        label: format!("trueorfalse {default} with {value:?}"),
        body,
    }
}

fn service_case(g: &mut Gen, helper: &str) -> Case {
    let list = g.pick(SERVICE_LISTS);
    let args = SERVICE_ARGS[g.0.usize(..SERVICE_ARGS.len())];
    let words: Vec<String> = args.iter().map(|a| quote(a)).collect();
    let mut body = format!("ENABLED_SERVICES={}\n", quote(list));
    if args.contains(&"foo") && g.0.bool() {
        body.push_str("function is_foo_enabled { return 1; }\n");
    }
    write!(body, "{helper} {}", words.join(" ")).unwrap();
    Case {
        label: format!("{helper} {args:?} in {list:?}"),
        body,
    }
}

fn message_case(g: &mut Gen, helper: &str) -> Case {
    let first = g.pick(VALUES);
    let second = g.pick(VALUES);
    let mut body = String::new();
    if g.0.bool() {
        body.push_str("LOGDIR=$PWD/logs\nmkdir -p logs\n");
    }
    let call = format!("{helper} $LINENO {} {}", quote(first), quote(second));
    match g.0.u8(..3) {
        0 => body.push_str(&call),
        1 => write!(body, "(exit 3) || {call}").unwrap(),
        _ => write!(body, "function caller_fn {{\n{call}\n}}\ncaller_fn").unwrap(),
    }
    Case {
        label: format!("{helper} {first:?} {second:?}"),
        body,
    }
}

fn package_case(g: &mut Gen) -> Case {
    let args = PACKAGES[g.0.usize(..PACKAGES.len())];
    Case {
        label: format!("is_package_installed {args:?}"),
        body: format!("is_package_installed {}", args.join(" ")),
    }
}

/// git_clone's decision against the local bare repository `$REPO`: clone
/// when missing, nothing when OFFLINE, update or die under RECLONE.
fn git_cases() -> Vec<Case> {
    let pre_clone = "git clone -q \"$REPO\" dest 2>/dev/null\n";
    let variants: &[(&str, &str, &str)] = &[
        (
            "missing, master",
            "",
            "git_clone \"$REPO\" \"$PWD/dest\" master",
        ),
        ("missing, tag", "", "git_clone \"$REPO\" \"$PWD/dest\" v1"),
        (
            "missing, refs/",
            "",
            "git_clone \"$REPO\" \"$PWD/dest\" refs/heads/topic",
        ),
        (
            "missing, empty ref",
            "",
            "git_clone \"$REPO\" \"$PWD/dest\" ''",
        ),
        (
            "empty REPO",
            "",
            "git_clone \"$NO_REPO\" \"$PWD/dest\" master",
        ),
        (
            "OFFLINE, present",
            pre_clone,
            "OFFLINE=True\ngit_clone \"$REPO\" \"$PWD/dest\" topic",
        ),
        (
            "OFFLINE, missing",
            "",
            "OFFLINE=True\ngit_clone \"$REPO\" \"$PWD/dest\" master",
        ),
        (
            "present, master",
            pre_clone,
            "git_clone \"$REPO\" \"$PWD/dest\" master",
        ),
        (
            "RECLONE, branch",
            pre_clone,
            "RECLONE=yes\ngit_clone \"$REPO\" \"$PWD/dest\" topic",
        ),
        (
            "RECLONE, tag",
            pre_clone,
            "RECLONE=True\ngit_clone \"$REPO\" \"$PWD/dest\" v1",
        ),
        (
            "RECLONE, neither",
            pre_clone,
            "RECLONE=True\ngit_clone \"$REPO\" \"$PWD/dest\" nosuch",
        ),
        (
            "RECLONE=on",
            pre_clone,
            "RECLONE=on\ngit_clone \"$REPO\" \"$PWD/dest\" topic",
        ),
        (
            "ERROR_ON_CLONE",
            "",
            "ERROR_ON_CLONE=True\ngit_clone \"$REPO\" \"$PWD/dest\" master",
        ),
    ];
    variants
        .iter()
        .map(|(label, setup, call)| Case {
            label: format!("git_clone {label}"),
            body: format!("{setup}{call}\n__hh_git=$?\n[ -d dest ] && git -C dest rev-parse HEAD\n(exit $__hh_git)"),
        })
        .collect()
}

/// The 2015 quirks measured by hand, pinned so the random draw cannot
/// miss them (appended last: the numbers of the drawn cases stay put).
fn pinned_cases() -> Vec<Case> {
    let services: &[(&str, &str, &str)] = &[
        ("disable_service", "a,a,b", "a"),
        ("disable_service", "swift,s-proxy", "s-proxy"),
        ("disable_service", "n-api,n-cpu", "nova"),
        ("enable_service", "n-api", "nova"),
        ("enable_service", "a,-b", "c"),
        ("is_service_enabled", "tls-proxy", "swift"),
        ("is_service_enabled", "n-cpu", "n-cpu-fake"),
        ("is_service_enabled", "xn-cell", "n-cell-foo"),
        ("is_service_enabled", "s-proxy", "s.proxy"),
        ("is_service_enabled", "c-api", "cinder"),
        ("is_service_enabled", "key", "key g-api"),
    ];
    let mut out: Vec<Case> = services
        .iter()
        .map(|(helper, list, arg)| Case {
            label: format!("{helper} {arg:?} in {list:?} (pinned)"),
            body: format!("ENABLED_SERVICES={}\n{helper} {}", quote(list), quote(arg)),
        })
        .collect();
    let others: &[(&str, &str)] = &[
        (
            "is_service_enabled with is_foo_enabled false",
            "ENABLED_SERVICES=g-api,foo\nfunction is_foo_enabled { return 1; }\nis_service_enabled g-api foo",
        ),
        (
            "iniset a&b over an existing option",
            "printf '[DEFAULT]\\nstores=old\\n' > a.conf\niniset a.conf DEFAULT stores 'a&b'",
        ),
        (
            "iniset x\\1y over an existing option",
            "printf '[DEFAULT]\\nstores = old\\n' > a.conf\niniset a.conf DEFAULT stores 'x\\1y'",
        ),
        (
            "iniset under a duplicated section",
            "printf '[s]\\n[o]\\n[s]\\n' > a.conf\niniset a.conf s k 'v w'",
        ),
        (
            "iniget of a repeated option with a glob",
            "printf '[s]\\nk = * a\\n[s]\\nk = b=c\\n' > a.conf\niniget a.conf s k",
        ),
        (
            "inicomment of an option with |",
            "printf '[s]\\na|b = 1\\n' > a.conf\ninicomment a.conf s 'a|b'",
        ),
        ("inicomment of a missing file", "inicomment none.conf s k"),
        ("trueorfalse yEs", "FLAG=yEs\ntrueorfalse False FLAG"),
        ("trueorfalse tRue", "FLAG=tRue\ntrueorfalse False FLAG"),
        ("trueorfalse 2", "FLAG=2\ntrueorfalse True FLAG"),
        ("trueorfalse with no name", "trueorfalse False ''"),
        ("err with a glob", "err $LINENO '[ERROR] * x'"),
        ("warn at a function's depth", "function f { warn $LINENO 'in f'; }\nf"),
    ];
    out.extend(others.iter().map(|(label, body)| Case {
        label: format!("{label} (pinned)"),
        body: body.to_string(),
    }));
    out
}

/// Every case, in a fixed order from the fixed seed.
fn cases() -> Vec<Case> {
    let mut g = Gen(fastrand::Rng::with_seed(SEED));
    let mut out = Vec::new();
    for _ in 0..12 {
        for helper in [
            "iniset",
            "iniget",
            "inicomment",
            "ini_has_option",
            "iniset_multiline",
        ] {
            out.push(ini_case(&mut g, helper));
        }
        out.push(bool_case(&mut g));
        for helper in ["is_service_enabled", "enable_service", "disable_service"] {
            out.push(service_case(&mut g, helper));
            out.push(service_case(&mut g, helper));
        }
        out.push(package_case(&mut g));
    }
    for _ in 0..4 {
        for helper in ["die", "warn", "err"] {
            out.push(message_case(&mut g, helper));
        }
    }
    out.push(Case {
        label: "iniset with an unset file variable".into(),
        body: "iniset $GLANCE_API_CONF_UNSET glance_store stores 'file, http, rbd'".into(),
    });
    out.extend(git_cases());
    out.extend(pinned_cases());
    out
}

/// The shell's own state at the hook's top level: both sides must agree on
/// it, or the cases do not run the same way.
const STATE_CASE: &str = "echo \"opts=$- depth=${#BASH_SOURCE[@]} funcs=${#FUNCNAME[@]}\"\n\
shopt -p | tr '\\n' ' '\necho\numask\necho \"LC_ALL=$LC_ALL PWD=$PWD\"";

/// The file the hook sources: every case in its own subshell and work
/// directory, its record appended to `$DIFF/results.txt`.
fn cases_script(cases: &[Case]) -> String {
    let mut out = String::from(
        "# Generated by tests/devstack_differential.rs.\n\
         DIFF=$TOP_DIR/diff\n\
         RESULTS=$DIFF/results.txt\n\
         : > \"$RESULTS\"\n\
         __hh_case() {\n\
         \x20   { echo \"=== $1\"; echo \"--- stdout\"; cat \"$DIFF/out\"; echo \"--- stderr\";\n\
         \x20     cat \"$DIFF/err\"; echo \"--- status $2\"; echo \"--- files\";\n\
         \x20     (cd \"$DIFF/w\" && for f in * .[!.]* logs/*; do if [ -f \"$f\" ] && [ \"$f\" != E ]; then\n\
         \x20       echo \"[$f]\"; cat \"$f\"; fi; done); } >> \"$RESULTS\" 2>&1\n\
         }\n\
         __hh_fresh() { rm -rf \"$DIFF/w\"; mkdir \"$DIFF/w\"; : > \"$DIFF/w/E\"; }\n",
    );
    // stackrc's LOGDIR is /opt/stack/logs: err must not append there; a
    // plain stack has no stackrc: every case starts with no services.
    // The session runs hooks with errexit: a case that fails must end only
    // its subshell, whose EXIT trap records the status and returns 0.
    let cases = std::iter::once(("state".to_string(), STATE_CASE)).chain(
        cases
            .iter()
            .enumerate()
            .map(|(n, case)| (format!("{n}: {}", case.label), case.body.as_str())),
    );
    for (label, body) in cases {
        write!(
            out,
            "__hh_fresh\n(\ntrap '__hh_s=$?; echo \"ENABLED_SERVICES=$ENABLED_SERVICES\"; echo $__hh_s > \"$DIFF/rc\"; exit 0' EXIT\n\
             cd \"$DIFF/w\"\n{reset}{body}\n) > \"$DIFF/out\" 2> \"$DIFF/err\"\n\
             __hh_case {label} \"$(cat \"$DIFF/rc\")\"\n",
            label = quote(&label),
            reset = if label == "state" { "" } else { "LOGDIR=\nENABLED_SERVICES=\n" },
        )
        .unwrap();
    }
    out
}

/// The hook: runs the cases once, in `stack install`.
const HOOK: &str = "if [[ $1 == stack && $2 == install ]]; then\n\
    source $TOP_DIR/diff/cases.sh\n\
fi\n";

/// A bare repository with `master`, `topic` and tag `v1`, for git_clone.
fn make_repo(diff: &Path) {
    let work = diff.join("repo-work");
    let script = format!(
        "set -e\n\
         export GIT_AUTHOR_DATE=2015-07-01T00:00:00Z GIT_COMMITTER_DATE=2015-07-01T00:00:00Z\n\
         git init -q -b master {work}\n\
         cd {work}\n\
         git -c user.name=t -c user.email=t@t commit -q --allow-empty -m first\n\
         git tag v1\n\
         git -c user.name=t -c user.email=t@t commit -q --allow-empty -m second\n\
         git branch topic HEAD~1\n\
         git clone -q --bare {work} {bare}\n",
        work = quote(&work.display().to_string()),
        bare = quote(&diff.join("repo.git").display().to_string()),
    );
    run(Command::new("bash").arg("-c").arg(script)).assert_code(0);
}

/// `sleep` that returns at once: DevStack's `die` sleeps a second.
fn fast_path(dir: &Path) -> String {
    let bin = dir.join("fast-bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(bin.join("sleep"), "#!/bin/sh\nexit 0\n").unwrap();
    run(Command::new("chmod").arg("+x").arg(bin.join("sleep"))).assert_code(0);
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A stack at `top` ready for the cases: the hook, the generated cases,
/// the repository.
fn prepare(top: &Path, cases: &[Case]) {
    let diff = top.join("diff");
    std::fs::create_dir_all(&diff).unwrap();
    std::fs::create_dir_all(top.join("extras.d")).unwrap();
    std::fs::write(top.join("extras.d/50-differential.sh"), HOOK).unwrap();
    let mut script = cases_script(cases);
    script.insert_str(0, "REPO=$TOP_DIR/diff/repo.git\n");
    std::fs::write(diff.join("cases.sh"), script).unwrap();
    make_repo(&diff);
}

/// Run the cases through `hookhost stack`; the results file's text.
fn through_hookhost(top: &Path, path: &str) -> String {
    let result = run(Command::new(env!("CARGO_BIN_EXE_hookhost"))
        .args(["stack", "--top"])
        .arg(top)
        .env("NO_COLOR", "1")
        .env("PATH", path));
    result.assert_code(0).assert_no_panic();
    take_results(top, &result)
}

/// Run the cases through plain bash: `sources` in order, then the hook,
/// read from `/dev/stdin` at top level with `$0` and errexit as in the
/// session, from the same cwd.
fn through_bash(top: &Path, sources: &[&str], path: &str) -> String {
    let mut driver =
        String::from("export LC_ALL=C\numask 022\nTOP_DIR=$1\nBASH_ARGV0=$TOP_DIR/stack.sh\n");
    for file in sources {
        writeln!(driver, "source $TOP_DIR/{file}").unwrap();
    }
    driver.push_str("set -o errexit\nsource $TOP_DIR/extras.d/50-differential.sh stack install\n");
    let driver_file = top.join("diff/driver.sh");
    std::fs::write(&driver_file, driver).unwrap();
    let result = run(Command::new("bash")
        .arg("/dev/stdin")
        .arg(top)
        .stdin(std::fs::File::open(&driver_file).unwrap())
        .current_dir(top)
        .env("PATH", path));
    take_results(top, &result)
}

fn take_results(top: &Path, result: &Run) -> String {
    let file = top.join("diff/results.txt");
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("no results in {}: {e}\n{}", file.display(), result.all()));
    std::fs::remove_file(&file).unwrap();
    text
}

/// The cases of a results file, by label: each starts at a line
/// `=== LABEL` (outputs never start a line with it: the cases' values
/// hold no `===`).
fn split(results: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in results.lines() {
        if let Some(label) = line.strip_prefix("=== ") {
            out.push((label.to_string(), String::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.push_str(line);
            last.1.push('\n');
        }
    }
    out
}

/// The cases whose records differ: (label, hookhost's, bash's).
fn differences(hookhost: &str, bash: &str) -> Vec<(String, String, String)> {
    let (a, b) = (split(hookhost), split(bash));
    assert_eq!(
        a.iter().map(|c| &c.0).collect::<Vec<_>>(),
        b.iter().map(|c| &c.0).collect::<Vec<_>>(),
        "the two sides did not run the same cases"
    );
    a.into_iter()
        .zip(b)
        .filter(|(x, y)| x.1 != y.1)
        .map(|(x, y)| (x.0, x.1, y.1))
        .collect()
}

fn show(diffs: &[(String, String, String)]) -> String {
    let mut out = String::new();
    for (label, a, b) in diffs {
        write!(out, "=== {label}\n--- hookhost\n{a}--- bash\n{b}\n").unwrap();
    }
    out
}

/// A DevStack tree's own call trace ends at the line of the session (or the
/// driver) that sourced the hook; that line number is not the helpers'.
fn normalize(results: &str) -> String {
    results
        .lines()
        .map(|line| match line.strip_prefix("/dev/stdin:") {
            Some(rest) => match rest.split_once(':') {
                Some((n, tail)) if n.parse::<u32>().is_ok() => format!("/dev/stdin:N:{tail}"),
                _ => line.to_string(),
            },
            None => line.to_string(),
        })
        .fold(String::new(), |acc, line| acc + &line + "\n")
}

fn prelude_toml() -> String {
    let files: Vec<String> = PRELUDE.iter().map(|f| format!("{f:?}")).collect();
    format!("[devstack]\nprelude = [{}]\n", files.join(", "))
}

/// In a DevStack tree the tree's functions win: hookhost's session must
/// give every helper exactly what plain bash with the same files gives.
#[test]
fn in_a_tree_every_helper_behaves_as_under_plain_bash() {
    let Some(tree) = support::devstack_tree() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().join("devstack");
    std::fs::create_dir(&top).unwrap();
    copy_tree(&tree, &top);
    std::fs::write(top.join("hookhost.toml"), prelude_toml()).unwrap();
    let cases = cases();
    prepare(&top, &cases);
    let path = fast_path(dir.path());
    let hookhost = normalize(&through_hookhost(&top, &path));
    let bash = normalize(&through_bash(&top, PRELUDE, &path));
    if let Some(dump) = std::env::var_os("HOOKHOST_DIFF_DUMP") {
        std::fs::write(dump, &hookhost).unwrap();
    }
    assert_eq!(split(&hookhost).len(), cases.len() + 1, "{hookhost}");
    let diffs = differences(&hookhost, &bash);
    assert!(
        diffs.is_empty(),
        "hookhost differs from DevStack:\n{}",
        show(&diffs)
    );
}

/// hookhost's own helpers (a stack that is not a tree) against the tree's
/// functions: which generated cases (by number) may differ, per helper,
/// and why (docs/devstack.md says the same). Any other difference, or one
/// of these ceasing to differ, fails.
const DELIBERATE: &[(&str, &[usize], &str)] = &[
    ("state", &[], "no prelude: no stackrc (ENABLED_SERVICES, LC_ALL), and errtrace for the session's error reports"),
    ("iniget", &[1, 14, 27, 40, 53, 66, 92, 105, 118, 131, 144, 197], "the first occurrence, literal; nothing printed for a missing option (DevStack echoed every match unquoted, or an empty line)"),
    ("iniset", &[13, 168, 194, 195, 196], "a new file starts with its header; `option = value` written literally (no sed specials); the first of duplicated sections"),
    ("ini_has_option", &[29, 133], "a missing file is status 1, silently (DevStack's sed failed with 2)"),
    ("inicomment", &[198, 199], "the option is literal (`a|b` works); a missing file is silent, status 0"),
    ("iniset_multiline", &[4, 17, 30, 43, 56, 69, 82, 95, 108, 121, 134, 147], "not provided"),
    ("trueorfalse", &[18, 57, 70, 83, 203], "on/off accepted; the value form (`trueorfalse True False`) reads the value; an empty name gives the default"),
    ("is_service_enabled", &[19, 20, 188, 189, 190, 192, 193], "exact names: no n-cpu-*/n-cell-* catch-alls, no regex, a quoted \"key g-api\" is one name; any is_X_enabled that is true is enough"),
    ("enable_service", &[48, 87, 125, 139, 151, 185, 186], "an exact item is added: catch-alls do not count as enabled, `-svc` and a quoted \"a b\" are added as given"),
    ("disable_service", &[182], "every copy of the item is removed"),
    ("die", &[156, 159, 162, 165], "no call trace; the hook's file (relative) and message as given on stderr; no LOGDIR/error.log"),
    ("warn", &[157, 160, 163, 166, 205], "on stderr, every argument, the caller's own file (relative), nothing globbed"),
    ("err", &[158, 161, 164, 167, 204], "every argument, the caller's own file (relative), nothing globbed; no LOGDIR/error.log"),
    ("git_clone", &[169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179, 180, 181], "one line `git_clone: DEST at <commit>`, git's own chatter hidden; no ERROR_ON_CLONE; errors name git_clone, not die"),
];

/// A plain stack's session traces errors (errtrace) and reports each
/// failing command on stderr, inside functions and subshells too; a tree's
/// session does not (its functions return statuses the callers test).
fn without_err_reports(results: &str) -> String {
    results
        .lines()
        .filter(|line| !(line.starts_with("hookhost: '") && line.contains("' failed with status ")))
        .fold(String::new(), |acc, line| acc + line + "\n")
}

/// hookhost's own helpers differ from DevStack's only where docs/devstack.md
/// says so.
#[test]
fn hookhost_s_own_helpers_differ_only_where_documented() {
    let Some(tree) = support::devstack_tree() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().join("devstack");
    std::fs::create_dir(&top).unwrap();
    copy_tree(&tree, &top);
    std::fs::write(top.join("hookhost.toml"), "[devstack]\ntree = false\n").unwrap();
    let cases = cases();
    prepare(&top, &cases);
    let path = fast_path(dir.path());
    let hookhost = without_err_reports(&normalize(&through_hookhost(&top, &path)));
    let bash = normalize(&through_bash(&top, PRELUDE, &path));
    let diffs = differences(&hookhost, &bash);
    let found: Vec<&str> = diffs.iter().map(|d| d.0.as_str()).collect();
    assert_eq!(found, deliberate(&cases), "\n{}", show(&diffs));
}

/// The labels `DELIBERATE` allows to differ, in the results' order; each
/// number must name a case of its helper.
fn deliberate(cases: &[Case]) -> Vec<String> {
    let mut numbers: Vec<usize> = Vec::new();
    for (helper, listed, _) in DELIBERATE {
        for &n in *listed {
            let label = &cases[n].label;
            assert!(
                label.starts_with(&format!("{helper} ")),
                "DELIBERATE lists case {n} under {helper}, but it is {label}"
            );
            numbers.push(n);
        }
    }
    numbers.sort();
    let labels = numbers.iter().map(|&n| format!("{n}: {}", cases[n].label));
    std::iter::once("state".to_string()).chain(labels).collect()
}
