//! The operator's grants (`hookhost.toml`): any text is loaded (through the
//! public API, from a file) or refused in one line naming the file, free of
//! control characters; what loads is then
//! checked against a plugin's request covering every kind of capability,
//! in a real stack directory, without panicking.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hookhost::config::operator::OperatorConfig;
use hookhost::model::hooks::{HookFile, HookKind};
use libfuzzer_sys::fuzz_target;

/// A stack with a `lib/` directory, made once per process.
fn stack() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("hookhost-fuzz-grants-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("lib")).unwrap();
        std::fs::create_dir_all(dir.join("extras.d")).unwrap();
        dir
    })
}

const REQUEST: &str = r#"[capabilities]
read = ["lib"]
write = ["."]
vars-read = ["ENABLED_SERVICES", "NOVA_*"]
vars-write = ["X_DONE"]
functions = ["is_service_enabled"]
commands = ["git clone *"]
net = ["example.org:443"]
packages = ["curl"]
memory = "64MiB"
timeout = "30s"
"#;

fuzz_target!(|data: &[u8]| {
    let top = stack();
    let path = top.join("hookhost.toml");
    std::fs::write(&path, data).unwrap();
    let config = match OperatorConfig::load(&path) {
        Ok(config) => config,
        Err(e) => {
            // One line naming the file, with no control characters.
            let text = format!("{e:#}");
            assert!(text.starts_with(&path.display().to_string()), "{text:?}");
            assert!(!text.chars().any(char::is_control), "{text:?}");
            return;
        }
    };
    let manifest = hookhost::config::manifest::parse_str(&top.join("extras.d/50-x.toml"), REQUEST)
        .expect("the fixed request parses");
    let hook = HookFile {
        number: 50,
        name: "x".into(),
        stem: "50-x".into(),
        kind: HookKind::Wasm,
        path: PathBuf::from("extras.d/50-x.wasm"),
        manifest: Some(PathBuf::from("extras.d/50-x.toml")),
    };
    let _ = config.resolve(top, &hook, Some(&manifest.capabilities), &top.join("data"));
    let _ = config.resolve_confined(top, &hook, Some(&manifest.capabilities));
});
