//! The README's "Write your first plugin" walk-through, followed step by
//! step for real: its `sh` blocks run in bash (with this build's `hookhost`
//! first on PATH) in a temp dir, its `rust` block replaces the scaffold's
//! `install` method, its `toml` block edits the manifest, and every line of
//! its `text` block must be in the output of the last step. A README that
//! drifts from what hookhost does fails here.
//!
//! One test: building the scaffolded crate compiles std with the Debian
//! fallback toolchain (a minute or two the first time).

mod support;

use std::path::Path;
use std::process::Command;

/// A fenced code block: its language and text.
struct Block {
    lang: String,
    text: String,
}

/// The code blocks of the README section `heading`, in order.
fn section_blocks(readme: &str, heading: &str) -> Vec<Block> {
    let start = readme
        .find(heading)
        .unwrap_or_else(|| panic!("README has no {heading:?}"));
    let rest = &readme[start + heading.len()..];
    let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    for line in section.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(lang)) => {
                current = Some(Block {
                    lang: lang.trim().to_string(),
                    text: String::new(),
                })
            }
            (Some(_), Some(_)) => blocks.push(current.take().unwrap()),
            (Some(block), None) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

/// Run a README `sh` block in `dir`; returns stdout and stderr.
fn run_sh(dir: &Path, script: &str) -> String {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_hookhost")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .output()
        .expect("run bash");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "README step failed:\n{script}\n---\n{text}"
    );
    text
}

/// Replace the scaffold's `install` method (with its doc comment) by `method`.
fn replace_install(lib_rs: &Path, method: &str) {
    let text = std::fs::read_to_string(lib_rs).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with("fn install(&mut self)"))
        .expect("the scaffold has an install method");
    let start = if lines[at - 1].trim_start().starts_with("///") {
        at - 1
    } else {
        at
    };
    let end = at + lines[at..].iter().position(|l| *l == "    }").unwrap();
    let mut out: Vec<&str> = lines[..start].to_vec();
    out.extend(method.lines());
    out.extend(&lines[end + 1..]);
    std::fs::write(lib_rs, out.join("\n") + "\n").unwrap();
}

/// Replace each `key = ...` line of `manifest` with the block's line for that key.
fn edit_manifest(manifest: &Path, block: &str) {
    let mut text = std::fs::read_to_string(manifest).unwrap();
    for new in block.lines().filter(|l| l.contains(" = ")) {
        let key = new.split(" = ").next().unwrap();
        let old = text
            .lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("the scaffold's manifest has no {key} line"))
            .to_string();
        text = text.replacen(&old, new, 1);
    }
    std::fs::write(manifest, text).unwrap();
}

#[test]
fn the_readme_walkthrough_scaffolds_builds_drops_in_and_runs_a_plugin() {
    let readme = std::fs::read_to_string(support::repo_root().join("README.md")).unwrap();
    let blocks = section_blocks(&readme, "## Write your first plugin");
    let langs: Vec<&str> = blocks.iter().map(|b| b.lang.as_str()).collect();
    assert_eq!(langs, ["sh", "rust", "toml", "sh", "sh", "sh", "text"]);
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    // The crate's name, from step 1 (`hookhost new NAME`).
    let name = blocks[0]
        .text
        .split_whitespace()
        .nth(2)
        .expect("hookhost new NAME")
        .to_string();
    let crate_dir = work.join(&name);
    let mut last_output = String::new();
    for block in &blocks {
        match block.lang.as_str() {
            "sh" => last_output = run_sh(work, &block.text),
            "rust" => replace_install(&crate_dir.join("src/lib.rs"), &block.text),
            "toml" => edit_manifest(&crate_dir.join(format!("{name}.toml")), &block.text),
            "text" => {
                for line in block.text.lines() {
                    assert!(
                        last_output.lines().any(|l| l.trim_end() == line),
                        "the run did not print {line:?}:\n{last_output}"
                    );
                }
            }
            other => panic!("unexpected block language {other}"),
        }
    }
    // The plan step showed what the operator granted.
    assert!(
        last_output
            .lines()
            .any(|l| l.contains("granted") && l.contains("vars-read HELLO_WHO")),
        "{last_output}"
    );
    // What `build` placed is what `inspect` describes, manifest embedded.
    let wasm = crate_dir.join(format!("target/hookhost/{name}.wasm"));
    let inspect = run_sh(work, &format!("hookhost inspect {}", wasm.display()));
    assert!(
        inspect.contains("hookhost:plugin/hook-plugin@0.2.0"),
        "{inspect}"
    );
    assert!(
        inspect.contains("manifest embedded by `hookhost build`"),
        "{inspect}"
    );
    assert!(
        inspect.contains("requests vars-write HELLO_GREETED"),
        "{inspect}"
    );
}
