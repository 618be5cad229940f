//! What hookhost prints from a plugin's strings, a third party's manifest
//! or a file name in extras.d stays data: the grant advice is quoted for
//! the shell and for TOML (pasting it grants the item and runs nothing),
//! an item no grant can name says so, hidden characters in a manifest are
//! refused and never reach the terminal raw, a grant table names one
//! plugin, and the INI helpers' denials carry their grant. Through the
//! real binary, with `plugins/hostile2` built from source.

mod support;

use std::process::Command;

use support::{Run, TestStack};

const MANIFEST: &str = "[capabilities]\nvars-read = [\"HOSTILE2_*\"]\nwrite = [\"etc/granted\"]\n";
const GRANTS: &str = "[grants.hostile2]\nvars-read = [\"HOSTILE2_*\"]\nwrite = [\"etc/granted\"]\n";

/// A stack with `hostile2` granted its manifest, set to run `attacks`.
fn hostile2(attacks: &str) -> TestStack {
    let stack = TestStack::new();
    stack
        .wasm("50-hostile2", "hostile2", Some(MANIFEST))
        .write("hookhost.toml", GRANTS)
        .write(
            "local.conf",
            &format!("[[local|localrc]]\nHOSTILE2_ATTACKS=\"{attacks}\"\n"),
        )
        .write("etc/granted/.keep", "")
        .write("etc/other/.keep", "");
    stack
}

/// The end-of-run denial line about `item` (`  50-hostile2: KIND ITEM — ...`).
fn denial<'r>(run: &'r Run, start: &str) -> &'r str {
    let wanted = format!("  50-hostile2: {start}");
    run.stdout
        .lines()
        .find(|l| l.starts_with(&wanted))
        .unwrap_or_else(|| panic!("no denial line {wanted:?}\n{}", run.all()))
}

/// The `denials` event of a `--json` run.
fn json_denials(run: &Run) -> Vec<serde_json::Value> {
    let event = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "denials")
        .unwrap_or_else(|| panic!("no denials event\n{}", run.all()));
    event["data"]["denials"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// What bash makes of `words` as one command line's arguments.
fn bash_words(words: &str) -> Vec<String> {
    let out = Command::new("bash")
        .args(["-c", &format!("printf '%s\\n' {words}")])
        .output()
        .expect("bash runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn run_time_denials_are_advised_quoted_or_said_to_be_ungrantable() {
    let stack = hostile2("adv-shell adv-toml adv-git adv-sh");
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0).assert_no_panic();

    // A program that is shell code is never advised as a flag.
    let line = denial(&run, "commands x;touch");
    assert!(line.contains("cannot be granted"), "{line}");
    assert!(!line.contains("--allow-run"), "{line}");

    // A quote in an argument stays inside one TOML string.
    let line = denial(&run, "commands systemctl restart nova");
    let toml_line = line
        .split(" — [grants.hostile2] ")
        .nth(1)
        .and_then(|rest| rest.split(" in hookhost.toml").next())
        .unwrap_or_else(|| panic!("no hookhost.toml advice: {line}"));
    let table: toml::Table = toml::from_str(toml_line).expect("the advice is TOML");
    let commands = table["commands"].as_array().expect("a list");
    assert_eq!(commands.len(), 1, "{line}");
    assert_eq!(
        commands[0].as_str(),
        Some("systemctl restart nova\", \"bash")
    );

    // A git URL no grant could hold is said so, not advised.
    let line = denial(&run, "git https://evil.example/x");
    assert!(line.contains("cannot be granted"), "{line}");
    assert!(!line.contains("git = ["), "{line}");

    // The flag for a command line says it grants more than the call.
    let line = denial(&run, "commands sh -c id");
    assert!(line.contains("commands = [\"sh -c id\"]"), "{line}");
    assert!(
        line.contains("--allow-run=sh would allow sh with any arguments"),
        "{line}"
    );
    assert!(!line.contains(", or --allow-run"), "{line}");

    let denials = json_denials(&stack.hookhost(&["stack", "--json"]));
    let shell = denials
        .iter()
        .find(|d| d["item"].as_str().is_some_and(|i| i.starts_with("x;touch")))
        .expect("the shell-named command is listed");
    assert!(
        !shell["grant"].to_string().contains("--allow-run"),
        "{shell}"
    );
    assert!(!std::path::Path::new("/tmp/hostile2-advice").exists());
}

#[test]
fn a_manifests_request_is_advised_as_one_shell_word_and_mkdir_runs_nothing() {
    let stack = TestStack::new();
    let marker = stack.path("pwned");
    let item = format!("lib/$(touch${{IFS}}{})", marker.display());
    stack.wasm(
        "50-inj",
        "hostile2",
        Some(&format!(
            "[capabilities]\nread = [{}]\ncommands = [\"systemctl;id **\"]\n",
            toml::Value::String(item.clone())
        )),
    );
    let run = stack.hookhost(&["plan", "stack"]);
    run.assert_no_panic();
    let flag = run
        .stderr
        .lines()
        .find_map(|l| l.split(" or pass ").nth(1))
        .unwrap_or_else(|| panic!("no flag advised\n{}", run.all()));
    assert_eq!(bash_words(flag), [format!("--allow-read={item}")], "{flag}");
    let command = run
        .stderr
        .lines()
        .find(|l| l.contains("commands systemctl;id"))
        .unwrap_or_else(|| panic!("no command line\n{}", run.all()));
    assert!(command.contains("cannot be granted"), "{command}");
    assert!(!command.contains("--allow-run"), "{command}");

    // Granted as advised, the directory does not exist: the advised
    // `mkdir -p` makes exactly it.
    let words = bash_words(flag);
    let run = stack.hookhost(&["plan", "stack", &words[0]]);
    let mkdir = run
        .stderr
        .split("(`")
        .nth(1)
        .and_then(|rest| rest.split("`)").next())
        .unwrap_or_else(|| panic!("no mkdir advised\n{}", run.all()));
    assert!(mkdir.starts_with("mkdir -p "), "{mkdir}");
    let made = Command::new("bash").args(["-c", mkdir]).status().unwrap();
    assert!(made.success());
    assert!(
        !marker.exists(),
        "pasting the advice ran the manifest's code"
    );
    assert!(stack.path(&item).is_dir(), "{mkdir}");
}

const HIDDEN: [char; 4] = ['\u{1b}', '\u{7}', '\u{202e}', '\u{200b}'];

fn assert_inert(what: &str, text: &str) {
    for c in HIDDEN {
        assert!(!text.contains(c), "{what} printed {c:?} raw:\n{text}");
    }
    assert!(
        !text.lines().any(|l| l.starts_with("error: forged")),
        "{what} printed a forged line:\n{text}"
    );
}

#[test]
fn hidden_characters_in_a_manifest_are_refused_and_never_printed_raw() {
    let stack = TestStack::new();
    stack.wasm(
        "53-m4",
        "hostile2",
        Some(
            "[plugin]\ndescription = \"nice \\u001b]0;TITLE\\u0007\\nerror: forged desc\"\n\
             [capabilities]\nread = [\"lib/\\u001b[31mRED\\u202e\\nerror: forged\"]\n\
             commands = [\"x\\u200b\\u001b[31m **\"]\n",
        ),
    );
    let run = stack.hookhost(&["stack"]);
    run.assert_no_panic();
    assert_ne!(run.code, Some(0), "{}", run.all());
    assert_inert("stack", &run.all());
    for field in [
        "line 2: plugin.description",
        "line 4: capabilities.read",
        "line 5: capabilities.commands",
    ] {
        run.assert_stderr_has(&format!("extras.d/53-m4.toml: {field}: "));
    }
    run.assert_stderr_has("holds a control, bidirectional or invisible character");
    assert_inert("plan", &stack.hookhost(&["plan", "stack"]).all());
    assert_inert("list", &stack.hookhost(&["list"]).all());
    let inspect = Command::new(env!("CARGO_BIN_EXE_hookhost"))
        .args(["inspect", "53-m4.wasm"])
        .current_dir(stack.path("extras.d"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_inert("inspect", &Run::from(inspect).all());
    let json = stack.hookhost(&["stack", "--json"]);
    let refused = json
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["errors"].is_array())
        .unwrap_or_else(|| panic!("no errors in --json\n{}", json.all()));
    for error in refused["errors"].as_array().unwrap() {
        let error = error.as_str().unwrap_or_default();
        assert!(error.contains("53-m4.toml: line "), "{error}");
    }
}

#[test]
fn skipped_file_names_are_shown_inert_by_plan_and_list() {
    let stack = TestStack::new();
    stack
        .bash("10-ok.sh", "true\n")
        .write("extras.d/51-e\u{1b}]0;TITLE\u{7}\u{1b}[31mred.wasm", "")
        .write("extras.d/56-nl\nerror: forged refusal.wasm", "")
        .write("extras.d/57-\u{202e}exe\u{200b}.wasm", "");
    for entry in [&["plan", "stack"][..], &["list"][..]] {
        let run = stack.hookhost(entry);
        run.assert_no_panic();
        assert_inert(entry[0], &run.all());
        assert!(run.stdout.contains("51-e\\e]0;TITLE\\x07"), "{}", run.all());
    }
}

#[test]
fn bidi_and_zero_width_characters_in_keys_and_snippets_are_escaped() {
    let stack = TestStack::new();
    stack.wasm(
        "50-m1",
        "hostile2",
        Some("[capabilities]\n\"vars-rea\\u202e\\u200b\" = [\"A\"]\n"),
    );
    let run = stack.hookhost(&["plan", "stack"]);
    assert_inert("a manifest's unknown key", &run.all());
    run.assert_stderr_has("unknown field `vars-rea\\u{202e}\\u{200b}` (did you mean `vars-read`?)");

    std::fs::remove_file(stack.path("extras.d/50-m1.toml")).unwrap();
    stack.write(
        "hookhost.toml",
        "[grants.m1]\n\"rea\u{202e}d\u{200b}\" = [\"x\"]\n",
    );
    assert_inert(
        "hookhost.toml's unknown key",
        &stack.hookhost(&["plan", "stack"]).all(),
    );

    std::fs::remove_file(stack.path("hookhost.toml")).unwrap();
    stack.write("local.conf", "[[local|localrc]]\nFOO=bar;\u{200b}hidden\n");
    assert_inert(
        "a local.conf snippet",
        &stack.hookhost(&["plan", "stack"]).all(),
    );
}

#[test]
fn a_grant_table_named_nn_name_matches_only_the_hook_of_that_stem() {
    let stack = TestStack::new();
    let wants = "[capabilities]\nwrite = [\"etc\"]\n";
    stack
        .wasm("20-nova", "hostile2", Some(wants))
        .wasm("50-20-nova", "hostile2", Some(wants))
        .write("etc/.keep", "")
        .write("hookhost.toml", "[grants.20-nova]\nwrite = [\"etc\"]\n");
    let run = stack.hookhost(&["plan", "stack"]);
    run.assert_no_panic();
    assert_ne!(run.code, Some(0), "{}", run.all());
    run.assert_stderr_has(
        "extras.d/50-20-nova.wasm requests capabilities the operator has not granted",
    );
    run.assert_stderr_has("under [grants.50-20-nova] in hookhost.toml");
    assert!(
        !run.stderr.contains("extras.d/20-nova.wasm requests"),
        "{}",
        run.all()
    );

    // Alone, the third party's plugin does not take the table either, and
    // the table is named as matching nothing, with the table it needs.
    std::fs::remove_file(stack.path("extras.d/20-nova.wasm")).unwrap();
    std::fs::remove_file(stack.path("extras.d/20-nova.toml")).unwrap();
    let run = stack.hookhost(&["plan", "stack"]);
    assert_ne!(run.code, Some(0), "{}", run.all());
    run.assert_stderr_has("[grants.20-nova] matches no hook, plugin or driver");
    run.assert_stderr_has("the plugin 50-20-nova.wasm is [grants.50-20-nova]");

    // Named by its stem, it is granted.
    stack.write("hookhost.toml", "[grants.50-20-nova]\nwrite = [\"etc\"]\n");
    stack.hookhost(&["plan", "stack"]).assert_code(0);
}

#[test]
fn ini_helper_denials_are_listed_with_the_grant_the_plugin_was_told() {
    let stack = hostile2("ini-outside");
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0).assert_no_panic();
    let told =
        "[grants.hostile2] write = [\"etc/other\"] in hookhost.toml, or --allow-write=etc/other";
    run.assert_stdout_has("hostile2 ini-outside: denied");
    let line = denial(&run, "write etc/other");
    assert!(line.ends_with(told), "{line}");
    assert!(
        !run.stdout.contains("refused whatever the grants"),
        "{}",
        run.all()
    );
    let denials = json_denials(&stack.hookhost(&["stack", "--json"]));
    assert_eq!(denials.len(), 1, "{denials:?}");
    assert_eq!(denials[0]["capability"], "write");
    assert_eq!(denials[0]["grant"], told);
    assert!(denials[0]["reason"].is_null(), "{denials:?}");
}
