//! A WIT 0.2.0 hypervisor driver (`plugins/fake-driver2`, DevStack's fake
//! driver ported to `hookhost_sdk::v0_2`) selected by `VIRT_DRIVER`: its
//! five calls run, and the `nova.conf` it sets with the `iniset` helper is
//! byte for byte what bash's `iniset` makes of the same file.

mod support;

use std::process::Command;

use support::{component, Run, TestStack};

const DRIVERS: &str = "lib/nova_plugins";
const START: &str =
    "# nova.conf\n[DEFAULT]\nquota_cores=10\n#quota_ram = 5\n\n[libvirt]\nvirt_type = kvm\n";
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

fn hookhost(stack: &TestStack, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_hookhost"))
        .args(args)
        .arg("--top")
        .arg(stack.top())
        .env("NO_COLOR", "1")
        .env("VIRT_DRIVER", "fake2")
        .output()
        .expect("run hookhost");
    Run::from(output)
}

#[test]
fn a_0_2_0_driver_runs_and_its_iniset_matches_bash() {
    let stack = TestStack::new();
    std::fs::create_dir_all(stack.path(DRIVERS)).unwrap();
    std::fs::copy(
        component("fake-driver2"),
        stack.path(&format!("{DRIVERS}/hypervisor-fake2.wasm")),
    )
    .unwrap();
    let bash_edits: String = SETTINGS
        .iter()
        .map(|(k, v)| format!("iniset \"$TOP_DIR/etc/bash.conf\" DEFAULT {k} {v}\n"))
        .collect();
    stack
        .write(
            &format!("{DRIVERS}/hypervisor-fake2.toml"),
            "[capabilities]\n",
        )
        .write(".hookhost/plugin-data/hypervisor-fake2/nova.conf", START)
        .write("etc/bash.conf", START)
        .bash(
            "10-bash.sh",
            &format!("if [[ $1 == source ]]; then\n{bash_edits}fi\n"),
        );
    let run = hookhost(&stack, &["stack"]);
    run.assert_code(0)
        .assert_no_panic()
        .assert_stdout_has("install_nova_hypervisor: the fake driver needs nothing installed")
        .assert_stdout_has("configure_nova_hypervisor: compute_driver = fake.FakeDriver")
        .assert_stdout_has("start_nova_hypervisor");
    let wasm =
        std::fs::read_to_string(stack.path(".hookhost/plugin-data/hypervisor-fake2/nova.conf"))
            .unwrap();
    let bash = std::fs::read_to_string(stack.path("etc/bash.conf")).unwrap();
    assert!(
        wasm.contains("compute_driver = fake.FakeDriver\n"),
        "{wasm}"
    );
    assert_eq!(wasm, bash, "{}", run.all());
    let run = hookhost(&stack, &["clean"]);
    run.assert_code(0)
        .assert_stdout_has("stop_nova_hypervisor")
        .assert_stdout_has("cleanup_nova_hypervisor");
}
