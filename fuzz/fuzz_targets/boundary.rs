//! The trust boundary: strings a plugin hands the host services reach the
//! shared bash session as data only. Each input is split on 0xff into
//! strings; each string goes through every service as a service name, a
//! variable value and a function argument. Checks: no command in it runs
//! (the seeds carry `$(>MARKER)`-style payloads aimed at the marker file),
//! a value bash can hold round-trips exactly (set, then get), and the
//! session still answers. One session serves every input, as one serves
//! every hook of a run.
#![no_main]

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hookhost::bash::SessionConfig;
use hookhost::run::space::Space;
use hookhost::wasm::{HostServices, Stream};
use libfuzzer_sys::fuzz_target;

/// Where the seeds' payloads would create a file.
const MARKER: &str = "/tmp/hookhost-fuzz-boundary/pwned";

fn space() -> &'static Mutex<Space> {
    static SPACE: OnceLock<Mutex<Space>> = OnceLock::new();
    SPACE.get_or_init(|| {
        let root = PathBuf::from("/tmp/hookhost-fuzz-boundary");
        let state = root.join("stack/.hookhost");
        std::fs::create_dir_all(&state).unwrap();
        let config = SessionConfig {
            top_dir: root.join("stack"),
            dest: root.join("dest"),
            state_dir: state,
            errexit: true,
            allow_install: false,
            dry_run: false,
            script: None,
            vars: vec![("ENABLED_SERVICES".into(), "key,n-api".into())],
            watch: vec!["FUZZ_WATCHED".into()],
            devstack: false,
        };
        Mutex::new(Space::start(config).unwrap())
    })
}

fuzz_target!(|data: &[u8]| {
    let mut space = space().lock().unwrap();
    for bytes in data.split(|b| *b == 0xff) {
        let Ok(case) = std::str::from_utf8(bytes) else {
            continue;
        };
        space.set_deadline(Some(Instant::now() + Duration::from_secs(10)));
        let one = vec![case.to_string()];
        let _ = space.is_service_enabled(&one);
        let _ = space.enable_service(&one);
        let _ = space.disable_service(&one);
        let mut quiet = |_: Stream, _: &str| {};
        let _ = space.call_function("trueorfalse", &["False".into(), case.into()], &mut quiet);
        for name in ["FUZZ_PLAIN", "FUZZ_WATCHED"] {
            if space.set_var(name, case).is_ok() {
                let back = space.get_var(name).unwrap();
                assert_eq!(back.as_deref(), Some(case), "{name} did not round-trip");
            } else {
                assert!(case.contains('\0'), "{name} refused {case:?}");
            }
        }
        let _ = space.get_var(case);
        space.set_deadline(None);
        assert!(
            !std::path::Path::new(MARKER).exists(),
            "{case:?} ran as shell code"
        );
        space.set_var("ENABLED_SERVICES", "key,n-api").unwrap();
    }
});
