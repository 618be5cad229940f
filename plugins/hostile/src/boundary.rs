//! Attacks on the boundary between a plugin and the shared bash session:
//! the helpers every plugin may call without a grant
//! (`is-service-enabled`, `enable-service`, `disable-service`, with the
//! service name `HOSTILE_SERVICE`), and a value set for trusted hooks to
//! use (`set-value`: `HOSTILE_VAR` set to `HOSTILE_VALUE`).

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
                set_var(&name, crate::arg("HOSTILE_VALUE"))
                    .map(|()| format!("set {name}"))
                    .map_err(|e| format!("set {name}: {e}")),
            );
        }
        _ => return None,
    };
    Some(Ok(done))
}
