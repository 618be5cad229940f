//! Attacks on the boundary between a plugin and the shared bash session:
//! the helpers every plugin may call without a grant
//! (`is-service-enabled`, `enable-service`, `disable-service`, with the
//! service name `HOSTILE_SERVICE`), and a value set for trusted hooks to
//! use (`set-value`: `HOSTILE_VAR` set to `HOSTILE_VALUE`); and what a
//! plugin can make the host spend: `many-packages` (distinct names in
//! batches of 100), `fill-disk` (1 MiB writes to `/data/big`, forever),
//! `denied-loop` (a denied read, forever: audit records), `newlines`
//! (1 MiB of empty lines).

use hookhost_sdk::prelude::*;

/// Carry out a service attack, or `None` when `attack` is not one.
pub fn attempt(attack: &str) -> Option<std::result::Result<String, String>> {
    let service = crate::arg("HOSTILE_SERVICE");
    let names = vec![service.clone()];
    let done = match attack {
        "is-enabled" => format!("is_service_enabled: {}", is_service_enabled(names)),
        "enable" => {
            enable_service(names);
            format!("enabled {service:?}")
        }
        "disable" => {
            disable_service(names);
            format!("disabled {service:?}")
        }
        "set-value" => {
            let name = crate::arg("HOSTILE_VAR");
            return Some(
                // `\n` stands for a newline (local.conf values are one line).
                set_var(&name, crate::arg("HOSTILE_VALUE").replace("\\n", "\n"))
                    .map(|()| format!("set {name}"))
                    .map_err(|e| format!("set {name}: {e}")),
            );
        }
        "many-packages" => {
            for n in 0..1_000_000u64 {
                let names: Vec<String> = (0..100).map(|i| format!("zz{n}x{i}")).collect();
                if let Err(e) = install_package(names) {
                    return Some(Err(format!("install_package: {e}")));
                }
            }
            return Some(Ok("asked for 100000000 packages".to_string()));
        }
        "fill-disk" => {
            use std::io::Write;
            let chunk = vec![b'x'; 1 << 20];
            let mut file = match std::fs::File::create("/data/big") {
                Ok(file) => file,
                Err(e) => return Some(Err(format!("create /data/big: {e}"))),
            };
            loop {
                if let Err(e) = file.write_all(&chunk) {
                    return Some(Err(format!("write /data/big: {e}")));
                }
            }
        }
        "fill-per-call" => {
            // 300 MiB more in each call, in a file of its own.
            use std::io::Write;
            let chunk = vec![b'x'; 1 << 20];
            let n = (0..).find(|n| !std::path::Path::new(&format!("/data/part-{n}")).exists());
            let path = format!("/data/part-{}", n.unwrap_or(0));
            let mut file = match std::fs::File::create(&path) {
                Ok(file) => file,
                Err(e) => return Some(Err(format!("create {path}: {e}"))),
            };
            for _ in 0..300 {
                if let Err(e) = file.write_all(&chunk) {
                    return Some(Err(format!("write {path}: {e}")));
                }
            }
            format!("wrote 300 MiB to {path}")
        }
        "denied-loop" => loop {
            let _ = get_var("ADMIN_PASSWORD");
        },
        "newlines" => {
            use std::io::Write;
            let lines = vec![b'\n'; 1 << 20];
            let _ = std::io::stdout().write_all(&lines);
            return Some(Ok("printed 1 MiB of newlines".to_string()));
        }
        _ => return None,
    };
    Some(Ok(done))
}
