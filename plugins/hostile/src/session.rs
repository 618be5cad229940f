//! Attacks on the shared bash session through the host calls that reach it:
//! keep bash busy until the plugin's time limit stops the call, and see
//! whether the trusted hooks after it lose their shell.
//!
//! | attack | what it does |
//! |---|---|
//! | `ask-loop` | call `is_service_enabled` forever |
//! | `enable-loop` | call `enable_service` forever, a new name each time |
//! | `disable-loop` | call `disable_service` forever |
//! | `huge-services` | enable `HOSTILE_COUNT` (default 20000) services, 1000 a call, then call `enable_service` forever |
//! | `call-loop` | call the shell function `HOSTILE_FUNC` forever |
//! | `install-loop` | call `install_package(["hostile-pkg"])` forever |
//! | `getvar-loop` | read `HOSTILE_VAR` forever (a glob grant: each read asks bash) |
//! | `setvar-loop` | set `HOSTILE_VAR` forever (a glob grant: each write asks bash) |

/// `Some` result when `attack` is one of this module's.
pub fn attempt(attack: &str) -> Option<std::result::Result<String, String>> {
    use hookhost_sdk::prelude::*;
    let result = match attack {
        "ask-loop" => forever(|_| {
            is_service_enabled("hostile-nothing");
        }),
        "enable-loop" => forever(|n| enable_service(format!("hostile{n}"))),
        "disable-loop" => forever(|n| disable_service(format!("hostile{n}"))),
        "huge-services" => {
            let count = super::arg("HOSTILE_COUNT").parse().unwrap_or(20_000);
            let names: Vec<String> = (0..count).map(|n| format!("svc{n}")).collect();
            // In chunks the host takes (it refuses more than 1024 names a call).
            for chunk in names.chunks(1000) {
                enable_service(chunk);
            }
            forever(|_| {
                enable_service("hostile-nothing");
            })
        }
        "call-loop" => {
            let name = super::arg("HOSTILE_FUNC");
            forever(|_| {
                let _ = call_function(&name, &[] as &[&str]);
            })
        }
        "install-loop" => forever(|_| {
            let _ = install_package("hostile-pkg");
        }),
        "getvar-loop" => {
            let name = super::arg("HOSTILE_VAR");
            forever(|_| {
                let _ = get_var(&name);
            })
        }
        "setvar-loop" => {
            let name = super::arg("HOSTILE_VAR");
            forever(|n| {
                let _ = set_var(&name, n.to_string());
            })
        }
        _ => return None,
    };
    Some(result)
}

/// Call `f` with 0, 1, 2... until the host stops the plugin.
fn forever(mut f: impl FnMut(u64)) -> std::result::Result<String, String> {
    let mut n: u64 = 0;
    loop {
        f(n);
        n = n.wrapping_add(1);
    }
}
