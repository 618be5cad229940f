//! local.conf: any text must parse or be refused with `path:line: message`
//! lines free of control characters, never panic; what parses must also resolve (variable expansion,
//! service lists) without panicking.
#![no_main]

use std::collections::BTreeMap;
use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/stack/local.conf");
    match hookhost::config::localconf::parse_str(path, text) {
        Ok(conf) => {
            let base = BTreeMap::from([("HOME".to_string(), "/root".to_string())]);
            let _ = conf.resolve(&base);
            let _ = conf.plugins();
        }
        Err(e) => {
            for problem in e.iter() {
                let line = problem.to_string();
                assert!(line.starts_with("/stack/local.conf:"), "{line:?}");
                assert!(!line.chars().any(char::is_control), "{line:?}");
            }
        }
    }
});
