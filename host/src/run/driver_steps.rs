//! The hypervisor driver's calls at their points of a run (PRODUCT §6),
//! under the hooks' failure policy and Ctrl-C.

use super::*;

impl<'a> Run<'a> {
    /// Start the hypervisor driver, if the plan has one; a WASM driver that
    /// cannot start fails like a hook that cannot.
    pub(super) fn start_driver(
        &mut self,
        runtime: &Runtime,
        component: Option<&wasm::LoadedComponent>,
        services: &SharedServices,
    ) {
        let plan: &'a Plan = self.plan;
        let Some(planned) = &plan.driver else {
            return;
        };
        let sink = self.sink(&planned.plugin);
        let (driver, failure) = LiveDriver::start(planned, runtime, component, services, sink);
        self.driver = Some(driver);
        if let Some(failure) = failure {
            lock(&self.reporter).hook_failed(&failure);
            self.summary.failures.push(failure);
        }
    }

    /// The driver's calls at this point of `phase`, under the hooks'
    /// failure policy; false when the run stops here (a failure in `stack`,
    /// or Ctrl-C before or during a call).
    pub(super) fn driver_calls(&mut self, phase: Phase, at: drivers::At) -> bool {
        for &call in drivers::calls_at(phase, at) {
            if self.driver_interrupted(phase, false) {
                return false;
            }
            let Some(driver) = &mut self.driver else {
                return true;
            };
            lock(&self.space).set_caller(&driver.planned.plugin);
            let result = driver.call(call, phase, &self.space, &self.reporter);
            let plugin = driver.planned.plugin.clone();
            self.collect_dry_run(&plugin, &phase.to_string());
            if self.driver_interrupted(phase, true) {
                return false;
            }
            let Err(failure) = result else {
                continue;
            };
            let name = failure.hook.clone();
            lock(&self.reporter).hook_failed(&failure);
            self.summary.failures.push(failure);
            if self.plan.entry.stops_at_first_failure() {
                self.summary.stopped_at = Some((name, phase));
                return false;
            }
        }
        true
    }

    /// After Ctrl-C: record that the run stopped at the driver; true if so.
    pub(super) fn driver_interrupted(&mut self, phase: Phase, during: bool) -> bool {
        let Some(driver) = self.plan.driver.as_ref() else {
            return false;
        };
        if !interrupt::requested() {
            return false;
        }
        self.record_interrupt(Interrupted {
            hook: driver.plugin.clone(),
            kind: driver.kind,
            phase,
            during,
        });
        true
    }
}
