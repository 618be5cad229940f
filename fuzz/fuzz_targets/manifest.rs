//! Hook manifests (`NN-name.toml`): any text is a manifest or a refusal
//! whose every line names the file; never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/stack/extras.d/50-x.toml");
    if let Err(e) = hookhost::manifest::parse_str(path, text) {
        for line in e.to_string().lines() {
            assert!(line.starts_with("/stack/extras.d/50-x.toml"), "{line}");
        }
    }
});
