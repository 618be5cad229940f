//! WIT versions side by side: a component built for 0.1.0 (kept as a
//! binary in host/tests/fixtures/wit-0.1.0, never rebuilt) runs in one stack
//! with a 0.2.0 plugin built from source and bash hooks, through every
//! phase, over one variable space; 0.2.0's INI helpers write what bash's
//! write and are refused, typed, outside the plugin's grants; a component
//! of a version this host does not know is refused naming both.

mod support;

use std::path::PathBuf;

use support::{repo_root, Run, TestStack};

/// The 0.1.0 fixture component.
fn fixture_0_1_0() -> PathBuf {
    repo_root().join("host/tests/fixtures/wit-0.1.0/probe-0.1.0.wasm")
}

/// Add the 0.1.0 fixture as `extras.d/<stem>.wasm` with `manifest`.
fn old_plugin(stack: &TestStack, stem: &str, manifest: &str) {
    std::fs::copy(
        fixture_0_1_0(),
        stack.path(&format!("extras.d/{stem}.wasm")),
    )
    .unwrap();
    stack.write(&format!("extras.d/{stem}.toml"), manifest);
}

const OLD_MANIFEST: &str = "[capabilities]\nvars-read = [\"PROBE_*\", \"FROM_BASH\"]\n\
                            vars-write = [\"PROBE_COPIED\"]\n";
const NEW_MANIFEST: &str = "[capabilities]\nvars-read = [\"CONFIGURER_*\", \"PROBE_COPIED\"]\n\
                            vars-write = [\"CONFIGURER_SAW\"]\nwrite = [\"etc/wasm\"]\n\
                            read = [\"etc/readonly\", \"etc/wasm/ro\"]\n";
const GRANTS: &str = "[grants.\"20-old\"]\nvars-read = [\"PROBE_*\", \"FROM_BASH\"]\n\
                      vars-write = [\"PROBE_COPIED\"]\n\
                      [grants.\"30-new\"]\nvars-read = [\"CONFIGURER_*\", \"PROBE_COPIED\"]\n\
                      vars-write = [\"CONFIGURER_SAW\"]\nwrite = [\"etc/wasm\"]\n\
                      read = [\"etc/readonly\", \"etc/wasm/ro\"]\n";

/// The bash hooks around the plugins: each prints `TRACE <stem> <args>`;
/// the first sets `FROM_BASH` (and `CONFIGURER_EDITS`), the last prints
/// what the 0.2.0 plugin saw and repeats the edits with bash's helpers on
/// `etc/bash/` instead of `etc/wasm/` (when `replay`).
fn mixed_stack(edits: &str, replay: bool) -> TestStack {
    let stack = TestStack::new();
    let first = format!(
        "echo \"TRACE 10-first $*\"\n\
         if [[ $1 == source ]]; then FROM_BASH='hello from bash'; CONFIGURER_EDITS={}; fi\n",
        ansi_c(edits)
    );
    let mut last = "echo \"TRACE 40-last $*\"\n\
        if [[ $1 == stack && $2 == extra ]]; then echo \"saw=${CONFIGURER_SAW-unset}\"; fi\n"
        .to_string();
    let bash_edits = "if [[ $1 == stack && $2 == post-config && -n ${CONFIGURER_EDITS-} ]]; then\n\
        \x20 while IFS=$'\\x1f' read -r -a f; do\n\
        \x20   file=${f[1]/#\\/stack\\/etc\\/wasm\\//$TOP_DIR/etc/bash/}\n\
        \x20   case ${f[0]} in\n\
        \x20     set) iniset \"$file\" \"${f[2]}\" \"${f[3]}\" \"${f[4]-}\" ;;\n\
        \x20     comment) inicomment \"$file\" \"${f[2]}\" \"${f[3]}\" ;;\n\
        \x20   esac\n\
        \x20 done <<<\"$CONFIGURER_EDITS\"\n\
        fi\n";
    if replay {
        last.push_str(bash_edits);
    }
    stack.bash("10-first.sh", &first);
    old_plugin(&stack, "20-old", OLD_MANIFEST);
    stack
        .wasm("30-new", "configurer", Some(NEW_MANIFEST))
        .bash("40-last.sh", &last)
        .write("hookhost.toml", GRANTS)
        .write(
            "local.conf",
            "[[local|localrc]]\nPROBE_COPY_FROM=FROM_BASH\nCONFIGURER_PEEK=\"PROBE_COPY_FROM CONFIGURER_NOT_SET HOME\"\n",
        )
        .write("etc/wasm/.keep", "")
        .write("etc/bash/.keep", "")
        .write("etc/other/.keep", "")
        .write("etc/readonly/ro.conf", "[DEFAULT]\nro = 1\n")
        .write("etc/wasm/ro/.keep", "");
    stack
}

/// `text` as a bash `$'...'` word.
fn ansi_c(text: &str) -> String {
    let mut out = String::from("$'");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The trace of a run: `TRACE`, probe and configurer lines, as `stem args`.
fn trace(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| {
            if let Some((_, rest)) = line.split_once("TRACE ") {
                return Some(rest.trim().to_string());
            }
            if let Some((_, rest)) = line.split_once("] probe ") {
                return Some(rest.trim().to_string());
            }
            let (stem, rest) = line.split_once("] configurer ")?;
            Some(format!("{} {}", stem.trim_start_matches('['), rest.trim()))
        })
        .collect()
}

fn expected(phases: &[&str]) -> Vec<String> {
    phases
        .iter()
        .flat_map(|phase| {
            ["10-first", "20-old", "30-new", "40-last"]
                .into_iter()
                .map(move |stem| format!("{stem} {phase}"))
        })
        .collect()
}

#[test]
fn a_0_1_0_fixture_a_0_2_0_plugin_and_bash_hooks_share_one_run_through_every_phase() {
    let stack = mixed_stack("", false);
    let run = stack.hookhost(&["stack", "--test-config", "--override-defaults"]);
    run.assert_code(0).assert_no_panic();
    let phases = [
        "override_defaults",
        "source",
        "stack pre-install",
        "stack install",
        "stack post-config",
        "stack extra",
        "stack test-config",
    ];
    assert_eq!(trace(&run.stdout), expected(&phases), "{}", run.all());
    // bash -> 0.1.0 (stack install) -> 0.2.0 (post-config) -> bash (extra).
    run.assert_stdout_has("[40-last] saw=hello from bash");
    // 0.2.0's get-var tells set, unset and not permitted apart.
    run.assert_stdout_has("[30-new] get-var PROBE_COPY_FROM: denied vars-read PROBE_COPY_FROM / [grants.new] vars-read = [\"PROBE_COPY_FROM\"]")
        .assert_stdout_has("[30-new] get-var CONFIGURER_NOT_SET: unset")
        .assert_stdout_has("[30-new] get-var HOME: denied vars-read HOME");

    let run = stack.hookhost(&["clean"]);
    run.assert_code(0).assert_no_panic();
    assert_eq!(
        trace(&run.stdout),
        expected(&["source", "unstack", "clean"]),
        "{}",
        run.all()
    );
}

/// Edits on generated inputs: values with blanks, quotes, `=`, `$`, `&`,
/// backslashes, tabs and nothing at all; sections that are not there yet;
/// options set again and again, commented out, set after that.
fn generated_edits() -> Vec<String> {
    let files = ["/stack/etc/wasm/a.conf", "/stack/etc/wasm/new.conf"];
    let sections = ["DEFAULT", "db", "new", "two words", "a.b"];
    let keys = ["debug", "x", "connection", "new_key", "k.e-y"];
    let values = [
        "",
        "True",
        "with space",
        " lead",
        "trail ",
        "a=b",
        "\"dq\"",
        "'sq'",
        "$HOME ${X}",
        "a&b \\1",
        "x*y?",
        "[notasection]",
        "#hash ;semi",
        "tab\there",
        "mysql+pymysql://root:pw@127.0.0.1/nova?charset=utf8",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) as usize) % n
    };
    (0..60)
        .map(|_| {
            let (file, section, key) = (
                files[next(files.len())],
                sections[next(sections.len())],
                keys[next(keys.len())],
            );
            match next(6) {
                0 => format!("comment\x1f{file}\x1f{section}\x1f{key}"),
                _ => format!(
                    "set\x1f{file}\x1f{section}\x1f{key}\x1f{}",
                    values[next(values.len())]
                ),
            }
        })
        .collect()
}

const START: &str = "# a config\n[DEFAULT]\ndebug=False\n#debug = commented\n\n[db]\nx = 1\n\
                     connection = sqlite://\n[DEFAULT]\ndebug = 2\n[other]\nx = y\n";

#[test]
fn ini_edits_inside_the_grant_match_bash_byte_for_byte() {
    let edits = generated_edits();
    let stack = mixed_stack(&edits.join("\n"), true);
    stack
        .write("etc/wasm/a.conf", START)
        .write("etc/bash/a.conf", START);
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0).assert_no_panic();
    for n in 1..=edits.len() {
        run.assert_stdout_has(&format!("[30-new] edit {n}: ok"));
    }
    for name in ["a.conf", "new.conf"] {
        let wasm = std::fs::read(stack.path(&format!("etc/wasm/{name}"))).unwrap();
        assert!(
            wasm.len() > 100 && wasm != START.as_bytes(),
            "{name} was not edited"
        );
        let bash = std::fs::read(stack.path(&format!("etc/bash/{name}"))).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&wasm),
            String::from_utf8_lossy(&bash),
            "{name}: the plugin's iniset and bash's differ\n{}",
            run.all()
        );
    }
}

#[test]
fn ini_helpers_read_what_they_may_and_are_denied_typed_elsewhere() {
    let edits = [
        "get\x1f/stack/etc/readonly/ro.conf\x1fDEFAULT\x1fro",
        "has\x1f/stack/etc/readonly/ro.conf\x1fDEFAULT\x1fnope",
        "set\x1f/stack/etc/readonly/ro.conf\x1fDEFAULT\x1fro\x1f2",
        "set\x1f/stack/etc/other/x.conf\x1fDEFAULT\x1fowned\x1fyes",
        "set\x1f/stack/etc/wasm/../other/x.conf\x1fDEFAULT\x1fowned\x1fyes",
        "set\x1f/etc/x.conf\x1fDEFAULT\x1fowned\x1fyes",
        "set\x1f/stack/etc/wasm/out/x.conf\x1fDEFAULT\x1fowned\x1fyes",
        "set\x1f/stack/etc/wasm/ok.conf\x1fDEFAULT\x1fk\x1fv",
        "multi\x1f/stack/etc/wasm/ok.conf\x1fpci\x1falias\x1fa\x1fb c",
        "get\x1f/data/none.conf\x1fDEFAULT\x1fk",
        "pkg\x1fhookhost-no-such-package",
        "pkg\x1fbash",
        "pkg\x1f--admindir=/tmp",
        "set\x1f/stack/etc/wasm/ro/x.conf\x1fDEFAULT\x1fowned\x1fyes",
    ];
    let stack = mixed_stack(&edits.join("\n"), false);
    std::os::unix::fs::symlink(stack.path("etc/other"), stack.path("etc/wasm/out")).unwrap();
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0).assert_no_panic();
    let grant = |dir: &str| {
        format!("[grants.new] write = [\"{dir}\"] in hookhost.toml, or --allow-write={dir}")
    };
    run.assert_stdout_has("[30-new] edit 1: value Some(\"1\")")
        .assert_stdout_has("[30-new] edit 2: value false")
        .assert_stdout_has(&format!(
            "[30-new] edit 3: denied write /stack/etc/readonly/ro.conf / {}",
            grant("etc/readonly")
        ))
        .assert_stdout_has(&format!(
            "[30-new] edit 4: denied write /stack/etc/other/x.conf / {}",
            grant("etc/other")
        ))
        .assert_stdout_has("[30-new] edit 5: invalid 30-new may not use the path")
        .assert_stdout_has("[30-new] edit 6: invalid 30-new may not use the path \"/etc/x.conf\": only /stack/... and /data/...")
        .assert_stdout_has("[30-new] edit 7: invalid /stack/etc/wasm/out/x.conf leads outside its grant")
        .assert_stdout_has("[30-new] edit 8: ok")
        .assert_stdout_has("[30-new] edit 9: ok")
        .assert_stdout_has("[30-new] edit 10: value None")
        .assert_stdout_has("[30-new] edit 11: value false")
        .assert_stdout_has("[30-new] edit 13: invalid 30-new may not install package \"--admindir=/tmp\"");
    // A read grant inside the write grant is read-only here too, as for
    // the plugin's own file calls.
    run.assert_stdout_has(&format!(
        "[30-new] edit 14: denied write /stack/etc/wasm/ro/x.conf / {}",
        grant("etc/wasm/ro")
    ));
    assert!(!stack.path("etc/wasm/ro/x.conf").exists());
    // bash is installed wherever the tests run; dpkg or rpm says so.
    let has_manager = ["dpkg-query", "rpm"].iter().any(|tool| {
        std::process::Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if has_manager {
        run.assert_stdout_has("[30-new] edit 12: value true");
    }
    assert!(!stack.path("etc/other/x.conf").exists(), "{}", run.all());
    assert_eq!(
        std::fs::read_to_string(stack.path("etc/readonly/ro.conf")).unwrap(),
        "[DEFAULT]\nro = 1\n"
    );
    assert_eq!(
        std::fs::read_to_string(stack.path("etc/wasm/ok.conf")).unwrap(),
        "[DEFAULT]\nk = v\n\n[pci]\nalias = a\nalias = b c\n"
    );
}

/// `hookhost inspect FILE`.
fn inspect(file: &std::path::Path) -> Run {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hookhost"))
        .arg("inspect")
        .arg(file)
        .env("NO_COLOR", "1")
        .output()
        .expect("run hookhost");
    Run::from(output)
}

#[test]
fn inspect_shows_each_components_wit_version() {
    let stack = TestStack::new();
    old_plugin(&stack, "20-old", OLD_MANIFEST);
    stack.wasm("30-new", "configurer", None);
    for (stem, version) in [("20-old", "0.1.0"), ("30-new", "0.2.0")] {
        let file = stack.path(&format!("extras.d/{stem}.wasm"));
        let run = inspect(&file);
        run.assert_code(0).assert_stdout_has(&format!(
            "world       hookhost:plugin/hook-plugin@{version}"
        ));
    }
}

/// The 0.1.0 fixture with every `@0.1.0` made `@{version}`: names keep
/// their length, so the component stays valid and only its version changes.
fn renamed_fixture(version: &str) -> Vec<u8> {
    assert_eq!(version.len(), 5);
    let mut bytes = std::fs::read(fixture_0_1_0()).unwrap();
    let (from, to) = (b"@0.1.0", format!("@{version}"));
    let mut i = 0;
    while i + from.len() <= bytes.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to.as_bytes());
        }
        i += 1;
    }
    bytes
}

#[test]
fn a_component_of_an_unknown_newer_version_is_refused_naming_both() {
    let stack = TestStack::new();
    for version in ["0.3.0", "1.0.0"] {
        let file = stack.path(&format!(
            "extras.d/20-new-{}.wasm",
            version.replace('.', "")
        ));
        std::fs::write(&file, renamed_fixture(version)).unwrap();
        let run = inspect(&file);
        assert_ne!(run.code, Some(0), "{}", run.all());
        run.assert_no_panic().assert_stderr_has(&format!(
            "built for WIT version {version}, but this hookhost runs WIT versions 0.1.0 and 0.2.0"
        ));
        std::fs::remove_file(&file).unwrap();
    }
    // The same refusal stops a run before anything runs.
    std::fs::write(stack.path("extras.d/20-x.wasm"), renamed_fixture("0.3.0")).unwrap();
    stack.bash("10-a.sh", "touch \"$TOP_DIR/ran\"\n");
    let run = stack.hookhost(&["stack"]);
    assert_ne!(run.code, Some(0), "{}", run.all());
    run.assert_stderr_has("0.1.0 and 0.2.0");
    assert!(!stack.path("ran").exists());
}

/// The Python example plugin (a 0.1.0 component from componentize-py),
/// built by its script; None when componentize-py is not installed (a
/// failure under `CI=true`, whose set-up installs it).
fn python_component() -> Option<PathBuf> {
    let output = std::process::Command::new(repo_root().join("scripts/build-python-plugin.sh"))
        .output()
        .expect("run scripts/build-python-plugin.sh");
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(3) {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "componentize-py is missing on CI:\n{stderr}"
        );
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED the Python plugin in the mixed stack: componentize-py is not installed"
        );
        return None;
    }
    assert!(
        output.status.success(),
        "building the Python plugin failed:\n{stderr}"
    );
    Some(PathBuf::from(
        String::from_utf8_lossy(&output.stdout).trim(),
    ))
}

/// The Python plugin joins the mixed stack: bash -> Python (source) ->
/// the 0.1.0 fixture (stack install) -> the 0.2.0 plugin (post-config) ->
/// bash (extra), one value handed along through every phase.
#[test]
fn a_python_plugin_joins_the_0_1_0_fixture_the_0_2_0_plugin_and_bash() {
    let Some(python) = python_component() else {
        return;
    };
    let stack = mixed_stack("", false);
    std::fs::copy(&python, stack.path("extras.d/15-py-greeter.wasm")).unwrap();
    stack
        .write(
            "extras.d/15-py-greeter.toml",
            &std::fs::read_to_string(python.with_extension("toml")).unwrap(),
        )
        .write("files/py-greeter.txt", "banner\n")
        .write(
            "extras.d/20-old.toml",
            "[capabilities]\nvars-read = [\"PROBE_*\", \"PY_PLUGIN_GREETING\"]\n\
             vars-write = [\"PROBE_COPIED\"]\n",
        )
        .write(
            "hookhost.toml",
            &format!(
                "{}[grants.py-greeter]\nread = [\"files\"]\n\
                 vars-read = [\"PY_PLUGIN_WHO\", \"PY_PLUGIN_PROBE\"]\n\
                 vars-write = [\"PY_PLUGIN_GREETING\"]\n",
                GRANTS.replace("\"FROM_BASH\"", "\"PY_PLUGIN_GREETING\"")
            ),
        )
        .write(
            "local.conf",
            "[[local|localrc]]\nPY_PLUGIN_WHO=bash\nPROBE_COPY_FROM=PY_PLUGIN_GREETING\n",
        );
    let run = stack.hookhost(&["stack", "--test-config", "--override-defaults"]);
    run.assert_code(0).assert_no_panic();
    run.assert_stdout_has("[40-last] saw=Hello, bash, from Python");
    for phase in [
        "source",
        "stack install",
        "stack post-config",
        "stack test-config",
    ] {
        run.assert_stdout_has(&format!("[20-old] probe 20-old {phase}"))
            .assert_stdout_has(&format!("[30-new] configurer {phase}"));
    }
    let run = stack.hookhost(&["clean"]);
    run.assert_code(0).assert_no_panic();
}
