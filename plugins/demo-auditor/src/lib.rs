//! Demo hook: audits the enabled services into its private data directory.
//!
//! - `stack extra`: writes `/data/audit.txt` (on the host:
//!   `.hookhost/plugin-data/<hook-name>/audit.txt` in the stack) listing `ENABLED_SERVICES` and
//!   whether `GREETING` was set, then enables the `auditor` service so later
//!   hooks see `is_service_enabled auditor`.
//! - `clean`: removes `/data/audit.txt`.
//!
//! Built for WIT 0.2.0 (`hookhost_sdk::v0_2`): run without the grant to
//! read `ENABLED_SERVICES`, it fails saying so rather than audit "0
//! services enabled".

use std::fmt::Write as _;
use std::fs;
use std::io::ErrorKind;
use std::path::PathBuf;

use hookhost_sdk::v0_2::prelude::*;

#[derive(Default)]
struct Auditor;

fn audit_file() -> PathBuf {
    data_dir().join("audit.txt")
}

impl Hook for Auditor {
    fn extra(&mut self) -> Result {
        let enabled = get_var("ENABLED_SERVICES")?.unwrap_or_default();
        let services: Vec<&str> = enabled
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();

        let mut audit = String::from("# hookhost demo audit (stack extra)\n");
        writeln!(audit, "enabled services ({}):", services.len())?;
        for service in &services {
            writeln!(audit, "- {service}")?;
        }
        let greeting = get_var("GREETING")?.unwrap_or_else(|| "(unset)".to_string());
        writeln!(audit, "GREETING: {greeting}")?;

        let path = audit_file();
        fs::write(&path, audit).with_context(|| format!("writing {}", path.display()))?;
        echo_summary(format!(
            "Auditor: {} services enabled; wrote audit.txt to its data directory",
            services.len()
        ));
        enable_service("auditor");
        Ok(())
    }

    fn clean(&mut self) -> Result {
        match fs::remove_file(audit_file()) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

export_hook!(Auditor);
