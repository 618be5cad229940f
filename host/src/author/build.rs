//! `hookhost build [PATH]`: a plugin crate to a component, with the right
//! target and flags on this machine, placed ready for `extras.d/`.
//!
//! The toolchain is chosen as `scripts/toolchain.sh` chooses it (see
//! docs/toolchain.md): the rustup `wasm32-wasip2` target where it is
//! installed, else Debian's second Rust (`rustc-web`, `cargo-web`,
//! `rust-web-src`, `lld-19`, `wasi-libc`) building std from source;
//! `HOOKHOST_WASM_TOOLCHAIN=rustup|debian` forces one. The component, with
//! the crate's manifest embedded as a custom section, and a copy of the
//! manifest land in `<target dir>/hookhost/`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::absolute;
use super::inspect::{self, with_custom_section};
use crate::config::manifest;
use crate::wasm::sections::MANIFEST_SECTION;

pub const TARGET: &str = "wasm32-wasip2";
const DEBIAN_PACKAGES: &str = "rustc-web cargo-web rust-web-src lld-19 wasi-libc";
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_LLVM_BIN: &str = "/usr/lib/llvm-19/bin";
const DEBIAN_WASI_LIBDIR: &str = "/usr/lib/wasm32-wasi";
const DEBIAN_RUST_SRC: &str = "/usr/lib/rustlib/src/rust";
/// rustup can hang without a network; every call to it is bounded.
const RUSTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// Variables a parent cargo (a build script or a test of the host) sets for
/// its own build; they must not leak into the guest build.
const PARENT_CARGO_VARS: [&str; 9] = [
    "RUSTC",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTDOC",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_BUILD_TARGET",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
];

/// How guests are built on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toolchain {
    /// rustup's toolchain with the wasm32-wasip2 target.
    Rustup,
    /// Debian's rustc-web with -Zbuild-std.
    Debian,
}

/// A built plugin.
#[derive(Debug)]
pub struct Built {
    pub name: String,
    pub wasm: PathBuf,
    pub manifest: Option<PathBuf>,
    pub world: &'static str,
}

/// Build the crate at `path` and say where the result is and how to use it.
pub fn run(path: &Path) -> anyhow::Result<Built> {
    let built = build(path)?;
    let facts = inspect::inspect(&built.wasm)?;
    println!(
        "\nbuilt {} ({}, WIT {}): {:.1} KiB, sha256 {}",
        built.name,
        built.world,
        facts.wit_version,
        facts.size as f64 / 1024.0,
        &facts.sha256[..16]
    );
    println!("  {}", built.wasm.display());
    if let Some(manifest) = &built.manifest {
        println!("  {}", manifest.display());
    }
    print_drop_in(&built);
    Ok(built)
}

fn print_drop_in(built: &Built) {
    let name = &built.name;
    let wasm = built.wasm.display();
    if built.world == "driver-plugin" {
        println!("\ndrop it into a stack as a hypervisor driver, and select it:");
        println!("  cp {wasm} STACK/lib/nova_plugins/hypervisor-{name}.wasm");
        println!("  echo 'VIRT_DRIVER={name}' in STACK/local.conf's [[local|localrc]] section");
        return;
    }
    println!("\ndrop it into a stack's extras.d/ under a two-digit number (10-89; 00-09 and 90-99 are hookhost's):");
    println!("  cp {wasm} STACK/extras.d/50-{name}.wasm");
    if let Some(manifest) = &built.manifest {
        println!("  cp {} STACK/extras.d/50-{name}.toml", manifest.display());
    }
    println!(
        "then grant what it requests under [grants.{name}] in STACK/hookhost.toml, and check:"
    );
    println!("  hookhost plan stack --top STACK");
}

/// Build without printing the summary (cargo's own output is shown).
pub fn build(path: &Path) -> anyhow::Result<Built> {
    let dir = absolute(path)?;
    let cargo_toml = dir.join("Cargo.toml");
    let package = read_package(&cargo_toml)?;
    let toolchain = detect_toolchain()?;
    eprintln!(
        "building {} for {TARGET} with the {} toolchain{}",
        package.name,
        match toolchain {
            Toolchain::Rustup => "rustup",
            Toolchain::Debian => "Debian fallback",
        },
        match toolchain {
            Toolchain::Debian => " (the first build compiles std: about a minute)",
            Toolchain::Rustup => "",
        }
    );
    let artifact = cargo_build(toolchain, &cargo_toml)?;
    place(&package.name, &dir, &artifact)
}

struct Package {
    name: String,
}

/// The package name, and a check that it builds a `cdylib` (a component).
fn read_package(cargo_toml: &Path) -> anyhow::Result<Package> {
    let text = std::fs::read_to_string(cargo_toml).map_err(|e| {
        anyhow::anyhow!(
            "{}: cannot read it ({e}); pass the plugin crate's directory",
            cargo_toml.display()
        )
    })?;
    let value: toml::Value = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: {}", cargo_toml.display(), e.message()))?;
    let Some(name) = value
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
    else {
        bail!(
            "{}: has no [package] name; pass one plugin crate, not a workspace",
            cargo_toml.display()
        );
    };
    let cdylib = value
        .get("lib")
        .and_then(|l| l.get("crate-type"))
        .and_then(|t| t.as_array())
        .is_some_and(|types| types.iter().any(|t| t.as_str() == Some("cdylib")));
    if !cdylib {
        bail!(
            "{}: `{name}` does not build a component: add `crate-type = [\"cdylib\"]` under [lib]",
            cargo_toml.display()
        );
    }
    Ok(Package {
        name: name.to_string(),
    })
}

/// The toolchain to build with, as scripts/toolchain.sh picks it.
pub fn detect_toolchain() -> anyhow::Result<Toolchain> {
    match std::env::var("HOOKHOST_WASM_TOOLCHAIN").as_deref() {
        Ok("rustup") => return Ok(Toolchain::Rustup),
        Ok("debian") => return Ok(Toolchain::Debian),
        Ok("") | Err(_) => {}
        Ok(other) => bail!("HOOKHOST_WASM_TOOLCHAIN must be rustup or debian, not `{other}`"),
    }
    if rustup_has_target() {
        return Ok(Toolchain::Rustup);
    }
    if debian_ready() {
        return Ok(Toolchain::Debian);
    }
    bail!(
        "no toolchain here can build {TARGET} components: the rustup toolchain lacks the \
         target and Debian's fallback is not installed\n  = help: `rustup target add {TARGET}`, \
         or `apt-get install {DEBIAN_PACKAGES}` (scripts/setup.sh in the hookhost repository \
         does either)"
    )
}

/// `rustup target list --installed` names the target (bounded in time).
fn rustup_has_target() -> bool {
    let child = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return false;
    };
    let deadline = Instant::now() + RUSTUP_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut stdout, &mut out);
    }
    out.lines().any(|l| l.trim() == TARGET)
}

fn debian_ready() -> bool {
    [DEBIAN_CARGO, DEBIAN_RUSTC]
        .iter()
        .all(|p| Path::new(p).is_file())
        && Path::new(DEBIAN_LLVM_BIN).join("wasm-ld").is_file()
        && Path::new(DEBIAN_WASI_LIBDIR).is_dir()
        && Path::new(DEBIAN_RUST_SRC).is_dir()
}

/// `cargo build --release --target wasm32-wasip2` with the toolchain's
/// flags; returns the `.wasm` cargo reports for the crate.
fn cargo_build(toolchain: Toolchain, cargo_toml: &Path) -> anyhow::Result<PathBuf> {
    let mut command = match toolchain {
        Toolchain::Rustup => Command::new("cargo"),
        Toolchain::Debian => debian_cargo(),
    };
    for var in PARENT_CARGO_VARS {
        command.env_remove(var);
    }
    command
        .args(["build", "--release", "--target", TARGET])
        .arg("--manifest-path")
        .arg(cargo_toml)
        .args(["--message-format", "json-render-diagnostics"]);
    if toolchain == Toolchain::Debian {
        command.arg("-Zbuild-std=std,panic_abort");
    }
    // cargo's progress and diagnostics (stderr) go to the author as they come.
    command.stdin(Stdio::null()).stdout(Stdio::piped());
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot run cargo for {}", cargo_toml.display()))?;
    let stdout = child.stdout.take().context("cargo has no stdout")?;
    let artifact = wasm_artifact(BufReader::new(stdout), cargo_toml);
    let status = child.wait().context("cannot wait for cargo")?;
    if !status.success() {
        bail!(
            "{}: cargo build failed ({status}); its errors are above",
            cargo_toml.display()
        );
    }
    artifact.with_context(|| {
        format!(
            "{}: cargo built no .wasm for this crate (is it a cdylib?)",
            cargo_toml.display()
        )
    })
}

/// Debian's cargo, its rustc and linker first on PATH, building std.
fn debian_cargo() -> Command {
    let mut command = Command::new(DEBIAN_CARGO);
    let path = std::env::var("PATH").unwrap_or_default();
    let rustflags = match std::env::var("RUSTFLAGS") {
        Ok(flags) if !flags.is_empty() => format!("-L {DEBIAN_WASI_LIBDIR} {flags}"),
        _ => format!("-L {DEBIAN_WASI_LIBDIR}"),
    };
    command
        .env_remove("RUSTUP_TOOLCHAIN")
        .env("PATH", format!("{DEBIAN_LLVM_BIN}:/usr/bin:{path}"))
        .env("RUSTC", DEBIAN_RUSTC)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("RUSTFLAGS", rustflags);
    command
}

/// The `.wasm` in cargo's `compiler-artifact` messages for this manifest.
fn wasm_artifact(messages: impl BufRead, cargo_toml: &Path) -> Option<PathBuf> {
    let mut found = None;
    for line in messages.lines().map_while(Result::ok) {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let ours = message["manifest_path"]
            .as_str()
            .is_some_and(|p| same_file(Path::new(p), cargo_toml));
        if message["reason"] != "compiler-artifact" || !ours {
            continue;
        }
        let files = message["filenames"].as_array().into_iter().flatten();
        if let Some(wasm) = files
            .filter_map(|f| f.as_str())
            .find(|f| f.ends_with(".wasm"))
        {
            found = Some(PathBuf::from(wasm));
        }
    }
    found
}

/// Paths naming one file, symlinks resolved where they exist.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Check the component as a run would, embed the manifest, and copy both
/// to `<target dir>/hookhost/`.
fn place(name: &str, crate_dir: &Path, artifact: &Path) -> anyhow::Result<Built> {
    // <target>/wasm32-wasip2/release/<lib>.wasm
    let target_dir = artifact
        .ancestors()
        .nth(3)
        .map_or_else(|| crate_dir.join("target"), Path::to_path_buf);
    let out_dir = target_dir.join("hookhost");
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let manifest_src = crate_dir.join(format!("{name}.toml"));
    let manifest_text = match std::fs::read_to_string(&manifest_src) {
        Ok(text) => {
            manifest::parse_str(&manifest_src, &text)?;
            Some(text)
        }
        Err(_) => {
            eprintln!(
                "warning: no manifest {}: the plugin will request nothing",
                manifest_src.display()
            );
            None
        }
    };
    let bytes =
        std::fs::read(artifact).with_context(|| format!("cannot read {}", artifact.display()))?;
    let bytes = match &manifest_text {
        Some(text) => with_custom_section(&bytes, MANIFEST_SECTION, text.as_bytes()),
        None => bytes,
    };
    let wasm = out_dir.join(format!("{name}.wasm"));
    std::fs::write(&wasm, &bytes).with_context(|| format!("cannot write {}", wasm.display()))?;
    let manifest = match &manifest_text {
        Some(text) => {
            let path = out_dir.join(format!("{name}.toml"));
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Some(path)
        }
        None => None,
    };
    // The same checks a run does: a component the host would refuse fails here.
    let facts = inspect::inspect(&wasm)?;
    Ok(Built {
        name: name.to_string(),
        wasm,
        manifest,
        world: facts.world,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wasm_of_this_crate_is_picked_from_cargo_messages() {
        let messages = r#"{"reason":"compiler-artifact","manifest_path":"/x/dep/Cargo.toml","filenames":["/t/libdep.rlib"]}
{"reason":"compiler-artifact","manifest_path":"/x/me/Cargo.toml","filenames":["/t/wasm32-wasip2/release/me.wasm"]}
{"reason":"build-finished","success":true}"#;
        let found = wasm_artifact(messages.as_bytes(), Path::new("/x/me/Cargo.toml"));
        assert_eq!(
            found,
            Some(PathBuf::from("/t/wasm32-wasip2/release/me.wasm"))
        );
    }

    #[test]
    fn a_crate_without_cdylib_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Cargo.toml");
        std::fs::write(&path, "[package]\nname = \"x\"\nversion = \"0.1.0\"\n").unwrap();
        let err = read_package(&path).err().unwrap().to_string();
        assert!(err.contains("crate-type = [\"cdylib\"]"), "{err}");
    }
}
