//! Services local.conf enables that nothing is named after: DevStack
//! ignores them silently, so a typo (`enable_service greter`) leaves the
//! hook meant to run doing nothing. Each gets a warning with the nearest
//! known name: a hook's, a service a bash hook or the DevStack tree asks
//! `is_service_enabled` about, or one of DevStack's own.

use std::path::Path;

use crate::config::localconf::{LocalConf, Op, SERVICES};
use crate::config::stack::Stack;
use crate::model::hooks::{HookFile, HookKind};
use crate::model::suggest;

/// DevStack's own services: its default `ENABLED_SERVICES` and the
/// services its `lib/` scripts and `stack.sh` ask about.
pub const DEVSTACK_SERVICES: &[&str] = &[
    "key",
    "keystone",
    "n-api",
    "n-api-meta",
    "n-cpu",
    "n-net",
    "n-cond",
    "n-sch",
    "n-novnc",
    "n-crt",
    "n-cauth",
    "n-cell",
    "n-obj",
    "n-spice",
    "n-sproxy",
    "n-xvnc",
    "nova",
    "g-api",
    "g-reg",
    "g-search",
    "glance",
    "c-api",
    "c-sch",
    "c-vol",
    "c-bak",
    "cinder",
    "horizon",
    "rabbit",
    "qpid",
    "zeromq",
    "mysql",
    "postgresql",
    "tempest",
    "dstat",
    "tls-proxy",
    "q-svc",
    "q-agt",
    "q-dhcp",
    "q-l3",
    "q-meta",
    "q-lbaas",
    "q-fwaas",
    "q-vpn",
    "q-metering",
    "q-domua",
    "neutron",
    "s-proxy",
    "s-object",
    "s-container",
    "s-account",
    "swift",
    "swift3",
    "h-eng",
    "h-api",
    "h-api-cfn",
    "h-api-cw",
    "heat",
    "ceilometer",
    "ceilometer-acompute",
    "ceilometer-acentral",
    "ceilometer-anotification",
    "ceilometer-collector",
    "ceilometer-alarm-evaluator",
    "ceilometer-alarm-notifier",
    "ceilometer-api",
    "ceilometer-aipmi",
    "ceph",
    "ir-api",
    "ir-cond",
    "ironic",
    "ldap",
    "sahara",
    "zaqar-server",
    "trove",
    "tr-api",
    "tr-tmgr",
    "tr-cond",
];

/// The services `text` (shell) asks `is_service_enabled` about.
pub fn asked_about(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines() {
        let mut rest = line;
        while let Some(at) = rest.find("is_service_enabled") {
            rest = &rest[at + "is_service_enabled".len()..];
            for word in rest.split_whitespace() {
                let name = word.trim_end_matches([';', ')', '&', '|']);
                if !is_service_word(name) {
                    break;
                }
                names.push(name.to_string());
                if name.len() != word.len() {
                    break;
                }
            }
        }
    }
    names
}

fn is_service_word(word: &str) -> bool {
    !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The shell files of a DevStack tree at `top` that ask about services.
pub fn devstack_tree_services(top: &Path) -> Vec<String> {
    let mut files = vec![top.join("stack.sh")];
    if let Ok(dir) = std::fs::read_dir(top.join("lib")) {
        files.extend(dir.flatten().map(|e| e.path()).filter(|p| p.is_file()));
    }
    files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|text| asked_about(&text))
        .collect()
}

/// The warnings for `stack`'s local.conf, whose hooks are `hooks`: every
/// hook's name, every service a bash hook asks about, every plugin
/// `enable_plugin` names and (in a DevStack tree) every service the
/// tree's scripts ask about is known.
pub fn warnings<'a>(stack: &Stack, hooks: impl Iterator<Item = &'a HookFile>) -> Vec<String> {
    let Some(conf) = &stack.local_conf else {
        return Vec::new();
    };
    let mut known: Vec<String> = conf.plugins().into_iter().map(|p| p.name).collect();
    for hook in hooks {
        known.push(hook.name.clone());
        if hook.kind == HookKind::Bash {
            let text = std::fs::read_to_string(&hook.path).unwrap_or_default();
            known.extend(asked_about(&text));
        }
    }
    if stack.devstack {
        known.extend(devstack_tree_services(&stack.top));
    }
    unknown_services(conf, &known)
}

/// A warning for each service `conf` enables or disables
/// (`enable_service`, `disable_service`, or `ENABLED_SERVICES=`/`+=` with
/// a literal list, `-name` removing one) that is not in `known` nor one of
/// DevStack's: `local.conf:3: enable_service greter: ...`.
pub fn unknown_services(conf: &LocalConf, known: &[String]) -> Vec<String> {
    let candidates: Vec<&str> = known
        .iter()
        .map(String::as_str)
        .chain(DEVSTACK_SERVICES.iter().copied())
        .collect();
    let mut warnings = Vec::new();
    for line in &conf.localrc {
        for (shown, service, verb) in named(&line.value) {
            if candidates.contains(&service.as_str()) {
                continue;
            }
            let hint = suggest::hint(&service, candidates.iter().copied());
            warnings.push(format!(
                "{}:{}: {shown}: no hook, plugin or DevStack service is \
                 named `{service}`{hint}; {verb} it changes nothing",
                conf.path.display(),
                line.line
            ));
        }
    }
    warnings
}

/// The services one statement enables or disables: each as written
/// (`disable_service greter`), its name, and what the statement does.
fn named(op: &Op) -> Vec<(String, String, &'static str)> {
    let each = |statement: &str, names: &[String], verb| {
        let names = names.iter();
        names
            .map(|n| (format!("{statement} {n}"), n.clone(), verb))
            .collect()
    };
    match op {
        Op::EnableService(names) => each("enable_service", names, "enabling"),
        Op::DisableService(names) => each("disable_service", names, "disabling"),
        Op::Set { name, value, .. } if name == SERVICES => {
            let Some(list) = value.literal() else {
                return Vec::new();
            };
            let items = list.split(',').map(str::trim).filter(|s| !s.is_empty());
            items
                .map(|s| match s.strip_prefix('-') {
                    Some(name) => (format!("{SERVICES} {s}"), name.to_string(), "removing"),
                    None => (format!("{SERVICES} {s}"), s.to_string(), "enabling"),
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::localconf::parse_str;

    fn warnings(localrc: &str, known: &[&str]) -> Vec<String> {
        let conf = parse_str(
            Path::new("local.conf"),
            &format!("[[local|localrc]]\n{localrc}"),
        )
        .unwrap();
        let known: Vec<String> = known.iter().map(|s| s.to_string()).collect();
        unknown_services(&conf, &known)
    }

    #[test]
    fn a_typo_of_a_hook_is_warned_with_the_name_meant() {
        let found = warnings("enable_service greter\n", &["greeter"]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("local.conf:2: enable_service greter: no hook"),
            "{found:?}"
        );
        assert!(found[0].contains("(did you mean `greeter`?)"), "{found:?}");
    }

    #[test]
    fn devstack_services_and_known_names_are_not_warned() {
        assert!(warnings("enable_service n-api greeter\n", &["greeter"]).is_empty());
        assert!(warnings("ENABLED_SERVICES+=,-rabbit,,heat\n", &[]).is_empty());
        let found = warnings(
            "disable_service greter\nENABLED_SERVICES+=,-motdd\n",
            &["greeter", "motd"],
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with("local.conf:2: disable_service greter: no hook")
                && found[0].contains("(did you mean `greeter`?); disabling it changes nothing"),
            "{found:?}"
        );
        assert!(found[1].contains("ENABLED_SERVICES -motdd: "), "{found:?}");
        assert!(
            found[1].contains("(did you mean `motd`?); removing it"),
            "{found:?}"
        );
        let found = warnings("ENABLED_SERVICES=key,n-apii\n", &[]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("ENABLED_SERVICES n-apii"), "{found:?}");
        assert!(found[0].contains("did you mean `n-api`"), "{found:?}");
    }

    #[test]
    fn services_a_script_asks_about_are_found() {
        let text =
            "if is_service_enabled foo bar-baz; then\n  x\nfi\n[[ $(is_service_enabled q) ]]";
        assert_eq!(asked_about(text), ["foo", "bar-baz", "q"]);
    }
}
