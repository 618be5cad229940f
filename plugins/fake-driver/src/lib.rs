//! DevStack's fake hypervisor driver (`lib/nova_plugins/hypervisor-fake`) as
//! a hookhost WASM driver: install it as `lib/nova_plugins/hypervisor-fake.wasm`
//! and select it with `VIRT_DRIVER=fake`.
//!
//! Like DevStack's, it has nothing to install, start, stop or clean up (it
//! says so), and `configure_nova_hypervisor` writes the driver settings into
//! a nova.conf-style INI file: `compute_driver = fake.FakeDriver` and every
//! quota set to -1 (unlimited), under `[DEFAULT]`. The file is `nova.conf` in
//! the driver's own data directory (`/data` in its sandbox, which is
//! `.hookhost/plugin-data/hypervisor-fake` in the stack); settings already there are
//! updated in place, anything else in the file is kept.
//!
//! Test switch: when the variable `FAKE_DRIVER_FAIL` (granted as vars-read)
//! is `install`, `configure`, `start`, `stop` or `cleanup`, that call returns
//! an error instead.

use hookhost_sdk::prelude::*;

/// The INI section the settings go in.
const SECTION: &str = "DEFAULT";

/// What DevStack's fake driver configures: the driver, and no quota limits.
const SETTINGS: [(&str, &str); 12] = [
    ("compute_driver", "fake.FakeDriver"),
    ("quota_instances", "-1"),
    ("quota_cores", "-1"),
    ("quota_ram", "-1"),
    ("quota_floating_ips", "-1"),
    ("quota_fixed_ips", "-1"),
    ("quota_metadata_items", "-1"),
    ("quota_injected_files", "-1"),
    ("quota_injected_file_path_bytes", "-1"),
    ("quota_security_groups", "-1"),
    ("quota_security_group_rules", "-1"),
    ("quota_key_pairs", "-1"),
];

#[derive(Default)]
struct Fake;

/// Fail the call named `call` when `FAKE_DRIVER_FAIL` asks for it.
fn fail_if_asked(call: &str) -> Result {
    if get_var("FAKE_DRIVER_FAIL").as_deref() == Some(call) {
        bail!("failing on purpose (FAKE_DRIVER_FAIL={call})");
    }
    Ok(())
}

impl Driver for Fake {
    fn install_nova_hypervisor(&mut self) -> Result {
        fail_if_asked("install")?;
        echo_summary("install_nova_hypervisor: the fake driver needs nothing installed");
        Ok(())
    }

    fn configure_nova_hypervisor(&mut self) -> Result {
        fail_if_asked("configure")?;
        let path = data_dir().join("nova.conf");
        let old = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => bail!("reading {}: {e}", path.display()),
        };
        let mut text = old;
        for (key, value) in SETTINGS {
            text = ini_set(&text, SECTION, key, value);
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        echo_summary(format!(
            "configure_nova_hypervisor: compute_driver = fake.FakeDriver and unlimited quotas \
             in [{SECTION}] of its /data/nova.conf"
        ));
        Ok(())
    }

    fn start_nova_hypervisor(&mut self) -> Result {
        fail_if_asked("start")?;
        echo_summary("start_nova_hypervisor: the fake driver has no service to start");
        Ok(())
    }

    fn stop_nova_hypervisor(&mut self) -> Result {
        fail_if_asked("stop")?;
        echo_summary("stop_nova_hypervisor: the fake driver has no service to stop");
        Ok(())
    }

    fn cleanup_nova_hypervisor(&mut self) -> Result {
        fail_if_asked("cleanup")?;
        echo_summary("cleanup_nova_hypervisor: the fake driver keeps no data to clean up");
        Ok(())
    }
}

export_driver!(Fake);

/// DevStack's `iniset FILE SECTION KEY VALUE` on text: replace `key` in
/// `[section]`, or add it at the end of the section, or add the section at
/// the end of the file.
fn ini_set(text: &str, section: &str, key: &str, value: &str) -> String {
    let setting = format!("{key} = {value}");
    let header = format!("[{section}]");
    let mut out: Vec<String> = Vec::new();
    let mut in_section = false;
    let mut done = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            if in_section && !done {
                insert_before_blanks(&mut out, &setting);
                done = true;
            }
            in_section = trimmed == header;
        } else if in_section && !done && is_key(trimmed, key) {
            out.push(setting.clone());
            done = true;
            continue;
        }
        out.push(line.to_string());
    }
    if !done {
        if !in_section {
            if out.last().is_some_and(|l| !l.trim().is_empty()) {
                out.push(String::new());
            }
            out.push(header);
        }
        insert_before_blanks(&mut out, &setting);
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

/// Whether an INI line sets `key` (`key = v`, `key=v`).
fn is_key(line: &str, key: &str) -> bool {
    line.split_once('=')
        .is_some_and(|(name, _)| name.trim() == key)
}

/// Add `line` after the last non-blank line, so a section keeps the blank
/// line that separates it from the next.
fn insert_before_blanks(out: &mut Vec<String>, line: &str) {
    let at = out
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(0, |i| i + 1);
    out.insert(at, line.to_string());
}
