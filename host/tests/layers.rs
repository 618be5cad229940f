//! host/src is built in layers (docs/design.md, "Layers"): each folder
//! may import only from the folders listed for it here, so data flows one
//! way and no two folders import each other. This test reads every
//! `crate::` path in the source and fails on an import the table does not
//! allow, naming the file and the line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each layer and what it may import, lowest first.
const LAYERS: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("interrupt", &[]),
    ("config", &["model"]),
    ("capabilities", &["model", "config"]),
    ("bash", &["model", "interrupt", "config", "capabilities"]),
    ("wasm", &["model", "interrupt", "config", "capabilities"]),
    ("report", &["model", "interrupt", "capabilities"]),
    ("state", &["model", "interrupt", "report"]),
    ("plan", &["model", "config", "capabilities", "bash", "wasm"]),
    (
        "run",
        &[
            "model",
            "interrupt",
            "config",
            "capabilities",
            "bash",
            "wasm",
            "plan",
        ],
    ),
    (
        "commands",
        &["model", "config", "capabilities", "plan", "report", "state"],
    ),
    ("author", &["model", "config", "wasm", "plan"]),
];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The layer a source file belongs to: its folder, or its name for a
/// top-level file (`interrupt.rs`). `lib.rs`, `main.rs` and `cli.rs` are
/// the crate's roots and the binary, above every layer.
fn layer_of(path: &Path) -> Option<String> {
    let relative = path.strip_prefix(src_dir()).unwrap();
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    match name {
        "lib" | "main" | "cli" => None,
        _ => Some(name.to_string()),
    }
}

/// Every top-level module named after `crate::` on each line (`use
/// crate::{a::X, b}` names `a` and `b`), with its line number. Comment
/// lines are skipped: doc links are not imports.
fn imports(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let name = item.trim().split("::").next().unwrap_or("").trim();
                    if !name.is_empty() {
                        found.push((number + 1, name.to_string()));
                    }
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                found.push((number + 1, name));
            }
        }
    }
    found
}

#[test]
fn every_import_goes_down_the_layers() {
    let allowed: BTreeMap<&str, BTreeSet<&str>> = LAYERS
        .iter()
        .map(|(layer, below)| (*layer, below.iter().copied().collect()))
        .collect();
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for file in &files {
        let Some(layer) = layer_of(file) else {
            continue;
        };
        let Some(may) = allowed.get(layer.as_str()) else {
            wrong.push(format!(
                "{}: the folder {layer} is in no layer (add it to LAYERS)",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (line, target) in imports(&text) {
            if target != layer && !may.contains(target.as_str()) {
                wrong.push(format!(
                    "{}:{line}: {layer} imports {target}",
                    file.strip_prefix(src_dir()).unwrap().display()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layering:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_layer_table_has_no_cycle() {
    // Each layer may import only layers listed before it, so the table
    // itself is an order.
    for (at, (layer, below)) in LAYERS.iter().enumerate() {
        for name in *below {
            let position = LAYERS.iter().position(|(l, _)| l == name);
            assert!(
                position.is_some_and(|p| p < at),
                "{layer} may import {name}, which is not below it"
            );
        }
    }
}

#[test]
fn the_import_reader_sees_groups_and_skips_comments() {
    let text = "use crate::{model::X, config};\n// crate::run\nlet x = crate::plan::make();\n";
    let names = imports(text);
    assert_eq!(
        names,
        vec![
            (1, "model".to_string()),
            (1, "config".to_string()),
            (3, "plan".to_string())
        ]
    );
}
