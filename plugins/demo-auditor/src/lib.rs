//! Demo hook: audits the enabled services into its private data directory.
//!
//! - `stack extra`: records, with DevStack's INI helpers, `ENABLED_SERVICES`
//!   (one `enabled = ...` line per service and a `count`) and `GREETING` in
//!   `/data/audit.conf` (on the host: `.hookhost/plugin-data/<hook-name>/`
//!   in the stack), then enables the `auditor` service so later hooks see
//!   `is_service_enabled auditor`.
//! - `clean`: removes `/data/audit.conf`.
//!
//! Built for WIT 0.2.0 (`hookhost_sdk::v0_2`): run without the grant to
//! read `ENABLED_SERVICES`, it fails saying so rather than audit "0
//! services enabled".

use std::fs;
use std::io::ErrorKind;

use hookhost_sdk::v0_2::prelude::*;

/// The audit, a guest path in the plugin's data directory.
const AUDIT: &str = "/data/audit.conf";

#[derive(Default)]
struct Auditor;

impl Hook for Auditor {
    fn extra(&mut self) -> Result {
        let enabled = get_var("ENABLED_SERVICES")?.unwrap_or_default();
        let services: Vec<&str> = enabled
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let greeting = get_var("GREETING")?.unwrap_or_else(|| "(unset)".to_string());

        iniset_multiline(AUDIT, "services", "enabled", &services)?;
        iniset(AUDIT, "services", "count", services.len().to_string())?;
        iniset(AUDIT, "greeting", "GREETING", greeting)?;
        echo_summary(format!(
            "Auditor: {} services enabled; wrote audit.conf to its data directory",
            services.len()
        ));
        enable_service("auditor");
        Ok(())
    }

    fn clean(&mut self) -> Result {
        match fs::remove_file(AUDIT) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

export_hook!(Auditor);
