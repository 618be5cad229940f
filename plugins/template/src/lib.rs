//! DevStack's `extras.d` template dispatch script, as a hookhost component.
//!
//! The bash original sources `lib/template` in `source` and dispatches each
//! phase to a function there; here the functions are methods and `source`
//! has nothing to load. Like the original, it acts only when the `template`
//! service is enabled.
//!
//! Reads `TEMPLATE_GREETING`, sets `TEMPLATE_INSTALLED=True`, installs
//! `cowsay` and sets `greeting` in `[template]` of `template.conf` in its
//! data directory (`/data`) with `iniset`, as a DevStack `lib/` script
//! would. Built for WIT 0.2.0 (`hookhost_sdk::v0_2`).

use hookhost_sdk::v0_2::prelude::*;

/// The service this hook belongs to (`ENABLED_SERVICES`).
const SERVICE: &str = "template";
/// Used when `TEMPLATE_GREETING` is unset or empty.
const DEFAULT_GREETING: &str = "Hello from Template";

#[derive(Default)]
struct Template;

impl Template {
    fn enabled(&self) -> bool {
        is_service_enabled(SERVICE)
    }

    /// `install_template` of `lib/template`.
    fn install_template(&self) -> Result {
        Ok(set_var("TEMPLATE_INSTALLED", "True")?)
    }

    /// `configure_template` of `lib/template`.
    fn configure_template(&self) -> Result {
        let greeting = get_var("TEMPLATE_GREETING")?
            .filter(|g| !g.is_empty())
            .unwrap_or_else(|| DEFAULT_GREETING.to_string());
        let conf = data_dir().join("template.conf");
        let conf = conf.to_str().context("the data directory is not UTF-8")?;
        iniset(conf, "template", "greeting", greeting)
            .with_context(|| format!("setting the greeting in {conf}"))
    }
}

impl Hook for Template {
    // `source`: nothing to load, the default no-op.

    fn pre_install(&mut self) -> Result {
        if self.enabled() {
            // Set up system services
            echo_summary("Configuring system services Template");
            install_package(&["cowsay"])?;
        }
        Ok(())
    }

    fn install(&mut self) -> Result {
        if self.enabled() {
            // Perform installation of service source
            echo_summary("Installing Template");
            self.install_template()?;
        }
        Ok(())
    }

    fn post_config(&mut self) -> Result {
        if self.enabled() {
            // Configure after the other layer 1 and 2 services have been configured
            echo_summary("Configuring Template");
            self.configure_template()?;
        }
        Ok(())
    }

    fn extra(&mut self) -> Result {
        if self.enabled() {
            // Initialize and start the template service
            echo_summary("Initializing Template");
        }
        Ok(())
    }

    // `unstack` and `clean`: no-ops, as in the original.
}

export_hook!(Template);
