//! The operator's grants against what the run's plugins ask for: an
//! `--allow-*` flag or a `[grants.NAME]` entry of hookhost.toml that no
//! request of its plugins uses grants nothing, and a typo there
//! (`--allow-write=fiels`, `vars-read = ["GREETING_NAM"]`) would
//! otherwise pass silently while the plugin meant is refused. Each such
//! grant gets a warning, with the nearest item its plugins do request.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::manifest::{escape_controls, Capabilities};
use crate::config::operator::{grant_table, GrantFlags, GrantSet};
use crate::model::suggest::hint;

/// One plugin's request, with the names a grant table may call it by.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub name: String,
    pub stem: String,
    pub capabilities: Capabilities,
}

/// What a grant of one kind could serve: the items of a request it may
/// cover, and whether one granted value covers one requested item.
struct Kind {
    requested: Requested,
    serves: Serves,
}

type Requested = fn(&Capabilities) -> Vec<&str>;
type Serves = fn(&str, &str) -> bool;

/// The grant kind of a hookhost.toml key (`env`: the `--allow-env`
/// flag's, which grants reading and writing).
fn kind(key: &str) -> Kind {
    let (requested, serves): (Requested, Serves) = match key {
        "read" => (|c| strs(&c.read).collect(), path_serves),
        // Writing a directory covers reading it.
        "write" => (
            |c| strs(&c.write).chain(strs(&c.read)).collect(),
            path_serves,
        ),
        "vars-read" => (|c| strs(&c.vars_read).collect(), name_serves),
        "vars-write" => (|c| strs(&c.vars_write).collect(), name_serves),
        "env" => (
            |c| strs(&c.vars_read).chain(strs(&c.vars_write)).collect(),
            name_serves,
        ),
        "functions" => (|c| strs(&c.functions).collect(), name_serves),
        "commands" => (|c| strs(&c.commands).collect(), same_program),
        "net" => (|c| strs(&c.net).collect(), host_serves),
        "packages" => (|c| strs(&c.packages).collect(), |a, b| a == b),
        _ => (|c| strs(&c.git).collect(), |a, b| a == b),
    };
    Kind { requested, serves }
}

/// Each of `values` (of grant kind `kind`) that none of `requests` uses,
/// with the nearest item they do request as a suggestion.
fn unused<'a>(
    values: &'a [String],
    kind: &Kind,
    requests: &[&Capabilities],
) -> Vec<(&'a str, String)> {
    let wanted: Vec<&str> = requests.iter().flat_map(|c| (kind.requested)(c)).collect();
    values
        .iter()
        .filter(|value| !wanted.iter().any(|item| (kind.serves)(value, item)))
        .map(|value| (value.as_str(), hint(value, wanted.iter().copied())))
        .collect()
}

/// A warning for each value of an `--allow-*` flag that none of
/// `requests` (every plugin's request) uses.
pub(crate) fn unused_flags(flags: &GrantFlags, requests: &[Request]) -> Vec<String> {
    let all: Vec<&Capabilities> = requests.iter().map(|r| &r.capabilities).collect();
    let mut warnings = Vec::new();
    for (name, values, key) in all_flags(flags) {
        for (value, suggestion) in unused(values, &kind(key), &all) {
            warnings.push(format!(
                "{name}={}: no plugin of this run requests it, so it grants nothing{suggestion}",
                escape_controls(value)
            ));
        }
    }
    warnings
}

/// A warning for each entry of a grant table of `file` (hookhost.toml)
/// that none of the requests of the plugins it names uses. A table that
/// names no plugin is warned about on its own (see `tables`).
pub(crate) fn unused_entries(
    file: &Path,
    tables: &BTreeMap<String, GrantSet>,
    requests: &[Request],
) -> Vec<String> {
    let mut warnings = Vec::new();
    for (table, set) in tables {
        let mine: Vec<&Request> = requests
            .iter()
            .filter(|r| table == "*" || r.name == *table || r.stem == *table)
            .collect();
        if mine.is_empty() && table != "*" {
            continue;
        }
        let who = match table.as_str() {
            "*" => "no plugin of this run requests it".to_string(),
            _ => format!(
                "plugin {} does not request it",
                escape_controls(&mine[0].name)
            ),
        };
        let caps: Vec<&Capabilities> = mine.iter().map(|r| &r.capabilities).collect();
        let shown = escape_controls(&grant_table(table));
        for (key, values) in set.lists() {
            for (value, suggestion) in unused(values, &kind(key), &caps) {
                warnings.push(format!(
                    "{}: {shown} {key} \"{}\": {who}, so it grants nothing{suggestion}; a plugin is \
                     granted only what its manifest requests",
                    file.display(),
                    escape_controls(value)
                ));
            }
        }
    }
    warnings
}

/// Each `--allow-*` flag with its values and the grant kind it is.
fn all_flags(flags: &GrantFlags) -> [(&'static str, &[String], &'static str); 6] {
    [
        ("--allow-read", &flags.allow_read, "read"),
        ("--allow-write", &flags.allow_write, "write"),
        ("--allow-env", &flags.allow_env, "env"),
        ("--allow-run", &flags.allow_run, "commands"),
        ("--allow-net", &flags.allow_net, "net"),
        ("--allow-function", &flags.allow_function, "functions"),
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

/// A command grant (`id`, `apt-get install *`) serves a request to run
/// the same program.
fn same_program(granted: &str, requested: &str) -> bool {
    granted.split(' ').next() == requested.split(' ').next()
}

/// A host (`pypi.org`) serves a request for any of its ports, `*` every one.
fn host_serves(granted: &str, requested: &str) -> bool {
    granted == "*"
        || granted == requested
        || requested
            .strip_prefix(granted)
            .is_some_and(|port| port.starts_with(':'))
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

    fn request(write: &[&str], commands: &[&str]) -> Request {
        let capabilities = Capabilities {
            write: write.iter().map(|s| s.to_string()).collect(),
            commands: commands.iter().map(|s| s.to_string()).collect(),
            ..Capabilities::default()
        };
        Request {
            name: "greeter".into(),
            stem: "20-greeter".into(),
            capabilities,
        }
    }

    #[test]
    fn a_table_entry_its_plugin_does_not_request_is_named_with_the_nearest() {
        let wants = request(&["files/cache"], &["id -u"]);
        let set = GrantSet {
            write: vec!["files".into(), "fiels/cache".into()],
            commands: vec!["id **".into()],
            ..GrantSet::default()
        };
        let other = GrantSet {
            net: vec!["pypi.org".into()],
            ..GrantSet::default()
        };
        let tables = BTreeMap::from([
            ("20-greeter".to_string(), set),
            ("*".to_string(), other),
            ("nobody".to_string(), GrantSet::default()),
        ]);
        let warnings = unused_entries(Path::new("hookhost.toml"), &tables, &[wants]);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].starts_with("hookhost.toml: [grants.\"*\"] net \"pypi.org\": no plugin"),
            "{warnings:?}"
        );
        assert!(
            warnings[1].starts_with(
                "hookhost.toml: [grants.20-greeter] write \"fiels/cache\": plugin greeter does not request it"
            ) && warnings[1].contains("(did you mean `files/cache`?)"),
            "{warnings:?}"
        );
    }

    #[test]
    fn a_flag_a_plugin_uses_is_quiet_one_none_uses_is_named_with_the_nearest() {
        let wants = request(&["files/cache"], &["id -u"]);
        let flags = GrantFlags {
            allow_write: vec!["files".into(), "fiels/cache".into()],
            allow_run: vec!["id".into(), "curl".into()],
            ..GrantFlags::default()
        };
        let warnings = unused_flags(&flags, &[wants]);
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
