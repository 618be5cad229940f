//! The operator's `--allow-*` flags against what the run's plugins ask
//! for: a flag no plugin's request uses grants nothing, and a typo there
//! (`--allow-write=fiels`) would otherwise pass silently while the plugin
//! meant is refused. Each such flag gets a warning, with the nearest item
//! plugins do request of that capability.

use crate::config::manifest::{escape_controls, Capabilities};
use crate::config::operator::GrantFlags;
use crate::model::suggest::hint;

/// One `--allow-*` flag: its name, its values, and the items of a request
/// it could serve.
struct Flag<'a> {
    name: &'static str,
    values: &'a [String],
    requested: fn(&Capabilities) -> Vec<&str>,
    serves: fn(&str, &str) -> bool,
}

/// A warning for each value of an `--allow-*` flag that none of
/// `requests` (every plugin's manifest capabilities) uses.
pub(crate) fn unused_flags(flags: &GrantFlags, requests: &[&Capabilities]) -> Vec<String> {
    let mut warnings = Vec::new();
    for flag in all_flags(flags) {
        let wanted: Vec<&str> = requests.iter().flat_map(|c| (flag.requested)(c)).collect();
        for value in flag.values {
            if wanted.iter().any(|item| (flag.serves)(value, item)) {
                continue;
            }
            let suggestion = hint(value, wanted.iter().copied());
            warnings.push(format!(
                "{}={}: no plugin of this run requests it, so it grants nothing{suggestion}",
                flag.name,
                escape_controls(value)
            ));
        }
    }
    warnings
}

fn all_flags(flags: &GrantFlags) -> [Flag<'_>; 6] {
    [
        Flag {
            name: "--allow-read",
            values: &flags.allow_read,
            requested: |c| strs(&c.read).collect(),
            serves: path_serves,
        },
        Flag {
            name: "--allow-write",
            values: &flags.allow_write,
            requested: |c| strs(&c.write).collect(),
            serves: path_serves,
        },
        Flag {
            name: "--allow-env",
            values: &flags.allow_env,
            requested: |c| strs(&c.vars_read).chain(strs(&c.vars_write)).collect(),
            serves: name_serves,
        },
        Flag {
            name: "--allow-run",
            values: &flags.allow_run,
            requested: |c| strs(&c.commands).collect(),
            serves: |value, command| command.split(' ').next() == Some(value),
        },
        Flag {
            name: "--allow-net",
            values: &flags.allow_net,
            requested: |c| strs(&c.net).collect(),
            serves: |value, item| value == item,
        },
        Flag {
            name: "--allow-function",
            values: &flags.allow_function,
            requested: |c| strs(&c.functions).collect(),
            serves: |value, item| value == item,
        },
    ]
}

fn strs(items: &[String]) -> impl Iterator<Item = &str> {
    items.iter().map(String::as_str)
}

/// A directory granted serves a request for it or for one inside it (and
/// `.`, the stack top, serves every one).
fn path_serves(granted: &str, requested: &str) -> bool {
    let granted = granted.trim_end_matches('/');
    let requested = requested.trim_end_matches('/');
    granted == "."
        || granted == requested
        || requested
            .strip_prefix(granted)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// A variable name (or `PREFIX*`) granted serves a request for the same
/// name, or names either side's prefix covers.
fn name_serves(granted: &str, requested: &str) -> bool {
    let covers = |pattern: &str, name: &str| match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    };
    covers(granted, requested) || covers(requested, granted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(write: &[&str], commands: &[&str]) -> Capabilities {
        Capabilities {
            write: write.iter().map(|s| s.to_string()).collect(),
            commands: commands.iter().map(|s| s.to_string()).collect(),
            ..Capabilities::default()
        }
    }

    #[test]
    fn a_flag_a_plugin_uses_is_quiet_one_none_uses_is_named_with_the_nearest() {
        let wants = request(&["files/cache"], &["id -u"]);
        let flags = GrantFlags {
            allow_write: vec!["files".into(), "fiels/cache".into()],
            allow_run: vec!["id".into(), "curl".into()],
            ..GrantFlags::default()
        };
        let warnings = unused_flags(&flags, &[&wants]);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].starts_with("--allow-write=fiels/cache: no plugin of this run requests it")
                && warnings[0].ends_with("(did you mean `files/cache`?)"),
            "{warnings:?}"
        );
        assert!(
            warnings[1].starts_with("--allow-run=curl: "),
            "{warnings:?}"
        );
    }

    #[test]
    fn a_prefix_and_a_name_serve_each_other() {
        assert!(name_serves("OS_*", "OS_PASSWORD"));
        assert!(name_serves("OS_PASSWORD", "OS_*"));
        assert!(!name_serves("OS_PASSWORD", "OS_USER"));
        assert!(path_serves(".", "lib"));
        assert!(!path_serves("lib", "library"));
    }
}
