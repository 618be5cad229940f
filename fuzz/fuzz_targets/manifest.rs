//! Hook manifests (`NN-name.toml`, often a third party's): any text is a
//! manifest or a refusal of one line per problem, each naming the file and
//! free of control characters (a value's newline or terminal escape is
//! shown escaped); never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/stack/extras.d/50-x.toml");
    if let Err(e) = hookhost::config::manifest::parse_str(path, text) {
        for line in e.to_string().split('\n') {
            assert!(line.starts_with("/stack/extras.d/50-x.toml"), "{line:?}");
            assert!(!line.chars().any(char::is_control), "{line:?}");
        }
    }
});
