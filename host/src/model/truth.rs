//! DevStack's boolean words, as hookhost's own `trueorfalse` reads them
//! (bash/helpers.sh's `__hh_bool` for bash hooks, [`truth`] for plugins;
//! a test in bash/tests.rs holds the two to the same answers).

/// The boolean a word stands for: `1`, `yes`, `true`, `on` in their usual
/// spellings are true; `0`, `no`, `false`, `off` false; anything else is
/// no boolean at all.
pub fn truth(word: &str) -> Option<bool> {
    match word {
        "1" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "0" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}
