//! `hookhost inspect FILE.wasm`: what a component is, before anyone runs it —
//! its world and WIT version, the phases or driver functions it exports,
//! what it imports, the capabilities it requests (its manifest beside it
//! and/or the one `hookhost build` embedded), size and sha256.
//!
//! The component goes through the same load-time checks as a run, so a
//! broken file gets the same one-line error it would get from `stack`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::config::manifest::{self, Manifest};
use crate::plan::render::requested_lines;
use crate::wasm::sections::{read_sections, MANIFEST_SECTION};
use crate::wasm::{self, Role, Runtime};

/// The phases a hook component's `run` is called with.
const PHASES: [&str; 9] = [
    "override-defaults",
    "source",
    "stack pre-install",
    "stack install",
    "stack post-config",
    "stack extra",
    "stack test-config",
    "unstack",
    "clean",
];

/// The functions a driver component exports.
const DRIVER_FUNCTIONS: [&str; 5] = [
    "install-nova-hypervisor",
    "configure-nova-hypervisor",
    "start-nova-hypervisor",
    "stop-nova-hypervisor",
    "cleanup-nova-hypervisor",
];

/// A manifest found for a component: where, and what it says.
#[derive(Debug)]
pub struct FoundManifest {
    /// The file beside the component, or `None` for the embedded one.
    pub path: Option<PathBuf>,
    pub text: String,
    /// The checked manifest, or the one-line error a run would give.
    pub parsed: Result<Manifest, String>,
}

/// What `inspect` found out.
#[derive(Debug)]
pub struct Facts {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
    pub world: &'static str,
    pub wit_version: String,
    pub exports_hook: bool,
    pub exports_driver: bool,
    pub exports: Vec<String>,
    pub imports: Vec<String>,
    pub manifests: Vec<FoundManifest>,
    /// `language`/`processed-by` entries of the producers sections.
    pub producers: Vec<String>,
}

/// Inspect `file` and print the facts (as JSON with `json`).
pub fn run(file: &Path, json: bool) -> anyhow::Result<Facts> {
    let facts = inspect(file)?;
    match json {
        true => println!("{}", serde_json::to_string_pretty(&facts.to_json())?),
        false => print!("{}", facts.render()),
    }
    Ok(facts)
}

/// Check `file` as a run would and gather its facts.
pub fn inspect(file: &Path) -> anyhow::Result<Facts> {
    let runtime = Runtime::new()?;
    // A hook, else a driver; a file that is neither gets the hook's refusal,
    // which names what it does export.
    let loaded = wasm::load(&runtime, file, Role::Hook)
        .or_else(|hook_error| wasm::load(&runtime, file, Role::Driver).map_err(|_| hook_error))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let bytes = std::fs::read(file)
        .map_err(|e| anyhow::anyhow!("{}: cannot read it: {e}", file.display()))?;
    let sections = read_sections(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: is not a valid component: {e}", file.display()))?;
    let world = match (loaded.exports_hook, loaded.exports_driver) {
        (true, true) => "hook-and-driver-plugin",
        (false, true) => "driver-plugin",
        _ => "hook-plugin",
    };
    let mut manifests = Vec::new();
    manifests.extend(beside(file));
    manifests.extend(sections.embedded_manifest.map(|text| {
        FoundManifest {
            path: None,
            parsed: manifest::parse_str(
                Path::new(&format!("{} (embedded)", file.display())),
                &text,
            )
            .map_err(|e| format!("{e:#}")),
            text,
        }
    }));
    Ok(Facts {
        path: file.to_path_buf(),
        size: bytes.len() as u64,
        sha256: sha256_hex(&bytes),
        world,
        wit_version: loaded.version.to_string(),
        exports_hook: loaded.exports_hook,
        exports_driver: loaded.exports_driver,
        exports: sections.exports,
        imports: sections.imports,
        manifests,
        producers: sections.producers,
    })
}

/// `NAME.toml` beside `NAME.wasm`, as discovery pairs them.
fn beside(file: &Path) -> Option<FoundManifest> {
    let path = file.with_extension("toml");
    let text = std::fs::read_to_string(&path).ok()?;
    let parsed = manifest::parse_str(&path, &text).map_err(|e| format!("{e:#}"));
    Some(FoundManifest {
        path: Some(path),
        text,
        parsed,
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Facts {
    /// The facts as people read them.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.path.display());
        let _ = writeln!(
            out,
            "  world       hookhost:plugin/{}@{}",
            self.world, self.wit_version
        );
        let _ = writeln!(
            out,
            "  size        {} bytes ({:.1} KiB)",
            self.size,
            self.size as f64 / 1024.0
        );
        let _ = writeln!(out, "  sha256      {}", self.sha256);
        out.push_str("  exports\n");
        for export in &self.exports {
            let _ = writeln!(out, "    {export}");
            let interface = export.split('@').next().unwrap_or(export);
            if interface == "hookhost:plugin/hook" {
                let _ = writeln!(out, "      run(phase), called for: {}", PHASES.join(", "));
                out.push_str("      (a phase the plugin does not implement is a no-op)\n");
            } else if interface == "hookhost:plugin/driver" {
                let _ = writeln!(out, "      {}", DRIVER_FUNCTIONS.join(", "));
            }
        }
        out.push_str("  imports\n");
        for import in &self.imports {
            let _ = writeln!(out, "    {import}");
        }
        self.render_manifests(&mut out);
        if !self.producers.is_empty() {
            let _ = writeln!(out, "  producers   {}", self.producers.join(", "));
        }
        out
    }

    fn render_manifests(&self, out: &mut String) {
        if self.manifests.is_empty() {
            let _ = writeln!(
                out,
                "  requests    nothing: no manifest beside it ({}) and none embedded",
                self.path.with_extension("toml").display()
            );
            return;
        }
        for found in &self.manifests {
            let source = match &found.path {
                Some(path) => format!("manifest {}", path.display()),
                None => format!("manifest embedded by `hookhost build` ({MANIFEST_SECTION})"),
            };
            let _ = writeln!(out, "  {source}");
            match &found.parsed {
                Ok(m) => {
                    if let Some(description) = &m.description {
                        let shown = crate::model::inert::inert(description);
                        let _ = writeln!(out, "    description {shown}");
                    }
                    let lines = requested_lines(&m.capabilities);
                    if lines.is_empty() {
                        out.push_str("    requests nothing\n");
                    }
                    for line in lines {
                        let _ = writeln!(out, "    requests {line}");
                    }
                }
                Err(e) => {
                    let _ = writeln!(out, "    error: {e}");
                }
            }
        }
        if let [a, b] = &self.manifests[..] {
            if let (Ok(x), Ok(y)) = (&a.parsed, &b.parsed) {
                if x != y {
                    out.push_str(
                        "  note: the manifest beside it differs from the embedded one; \
                         a run uses the one beside it\n",
                    );
                }
            }
        }
    }

    /// The facts as one JSON document.
    pub fn to_json(&self) -> serde_json::Value {
        let manifests: Vec<_> = self
            .manifests
            .iter()
            .map(|m| {
                let (requested, error) = match &m.parsed {
                    Ok(parsed) => (Some(requested_lines(&parsed.capabilities)), None),
                    Err(e) => (None, Some(e.clone())),
                };
                json!({
                    "path": m.path, "embedded": m.path.is_none(),
                    "requested": requested, "error": error,
                })
            })
            .collect();
        json!({
            "path": self.path, "size": self.size, "sha256": self.sha256,
            "world": self.world, "wit_version": self.wit_version,
            "exports": self.exports, "imports": self.imports,
            "phases": if self.exports_hook { PHASES.to_vec() } else { Vec::new() },
            "driver_functions": if self.exports_driver { DRIVER_FUNCTIONS.to_vec() } else { Vec::new() },
            "manifests": manifests, "producers": self.producers,
        })
    }
}

/// `bytes` with a custom section `name` holding `data` appended: a component
/// may carry custom sections between or after its other sections.
pub fn with_custom_section(bytes: &[u8], name: &str, data: &[u8]) -> Vec<u8> {
    let mut payload = leb128(name.len() as u64);
    payload.extend_from_slice(name.as_bytes());
    payload.extend_from_slice(data);
    let mut out = bytes.to_vec();
    out.push(0); // custom section id
    out.extend(leb128(payload.len() as u64));
    out.extend(payload);
    out
}

fn leb128(mut value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_matches_the_spec_examples() {
        assert_eq!(leb128(0), [0]);
        assert_eq!(leb128(127), [0x7f]);
        assert_eq!(leb128(624_485), [0xe5, 0x8e, 0x26]);
    }

    #[test]
    fn sha256_of_empty_input_is_the_known_digest() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
