//! Component loading: any bytes in an `extras.d/NN-x.wasm` file are loaded
//! and checked against the hook world (and the driver world) or refused
//! with a one-line error naming the file; never a panic.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use hookhost::wasm::{self, Role, Runtime};
use libfuzzer_sys::fuzz_target;

/// One runtime per process (no compiled cache: nothing is written).
fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::with_cache(None).expect("a runtime"))
}

fn file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        std::env::temp_dir().join(format!("hookhost-fuzz-{}-50-x.wasm", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = file();
    std::fs::write(path, data).unwrap();
    for role in [Role::Hook, Role::Driver] {
        if let Err(e) = wasm::load(runtime(), path, role) {
            let text = e.to_string();
            assert!(text.starts_with(&path.display().to_string()), "{text}");
            assert!(!text.contains('\n'), "{text}");
        }
    }
});
