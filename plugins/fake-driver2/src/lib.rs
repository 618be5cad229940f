//! DevStack's fake hypervisor driver as a WIT 0.2.0 component: the port of
//! `plugins/fake-driver` (a 0.1.0 driver that edits its INI file by hand)
//! to `hookhost_sdk::v0_2`, whose `iniset` does the edit with bash's
//! semantics. Install it as `lib/nova_plugins/hypervisor-fake2.wasm` and
//! select it with `VIRT_DRIVER=fake2`.
//!
//! `configure_nova_hypervisor` sets `compute_driver = fake.FakeDriver` and
//! every quota to -1 (unlimited) under `[DEFAULT]` of `/data/nova.conf`
//! (its data directory); the other calls only say what they did.

use hookhost_sdk::v0_2::prelude::*;

/// The file and section the settings go in.
const NOVA_CONF: &str = "/data/nova.conf";
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

impl Driver for Fake {
    fn install_nova_hypervisor(&mut self) -> Result {
        echo_summary("install_nova_hypervisor: the fake driver needs nothing installed");
        Ok(())
    }

    fn configure_nova_hypervisor(&mut self) -> Result {
        for (key, value) in SETTINGS {
            iniset(NOVA_CONF, SECTION, key, value)?;
        }
        echo_summary(format!(
            "configure_nova_hypervisor: compute_driver = fake.FakeDriver and unlimited quotas \
             in [{SECTION}] of {NOVA_CONF}"
        ));
        Ok(())
    }

    fn start_nova_hypervisor(&mut self) -> Result {
        echo_summary("start_nova_hypervisor: the fake driver has no service to start");
        Ok(())
    }

    fn stop_nova_hypervisor(&mut self) -> Result {
        echo_summary("stop_nova_hypervisor: the fake driver has no service to stop");
        Ok(())
    }

    fn cleanup_nova_hypervisor(&mut self) -> Result {
        echo_summary("cleanup_nova_hypervisor: the fake driver keeps no data to clean up");
        Ok(())
    }
}

export_driver!(Fake);
