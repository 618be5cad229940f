//! DevStack compatibility steps of a run: local.conf's meta-sections
//! merged at their points, and what `--dry-run` recorded.

use super::*;

/// DevStack compatibility: local.conf's meta-sections merged at their
/// points, and what `--dry-run` recorded.
impl Run<'_> {
    /// Merge local.conf's meta-sections that belong after `phase`'s hooks
    /// (DevStack's `merge_config_group`), each reported as a step named
    /// `local.conf`. False when a merge failed and the run stops here.
    pub(super) fn merge_local_conf(&mut self, phase: Phase) -> bool {
        let plan = self.plan;
        let Some(conf) = &plan.stack.local_conf else {
            return true;
        };
        let groups = crate::config::ini::groups_after(phase);
        if groups.contains(&"extra") {
            self.warn_unmerged_test_config(conf);
        }
        let sections = conf
            .meta
            .iter()
            .filter(|m| groups.contains(&m.phase.as_str()));
        for section in sections {
            let stops = plan.entry.stops_at_first_failure() && self.dry_run.is_none();
            if !self.merge_one(conf, section, phase) && stops {
                self.summary.stopped_at = Some(("local.conf".to_string(), phase));
                return false;
            }
        }
        true
    }

    /// One meta-section; false when it failed.
    pub(super) fn merge_one(
        &mut self,
        conf: &crate::config::localconf::LocalConf,
        section: &crate::config::localconf::MetaSection,
        phase: Phase,
    ) -> bool {
        lock(&self.reporter).hook_started("local.conf", "merge", phase);
        let started = Instant::now();
        let write = self.dry_run.is_none();
        let result =
            crate::config::ini::merge_section(&mut lock(&self.space), conf, section, write);
        let timing = Timing {
            phase,
            hook: "local.conf".to_string(),
            kind: "merge".to_string(),
            duration: started.elapsed(),
            ok: result.is_ok(),
        };
        let mut reporter = lock(&self.reporter);
        match result {
            Ok(crate::config::ini::Merged::Into(path)) if !write => {
                // A dry run records the merge instead of writing the file.
                self.summary.dry_run.push(crate::run::dryrun::Record {
                    hook: "local.conf".to_string(),
                    phase: phase.to_string(),
                    kind: "merge".to_string(),
                    place: format!("{}:{}", conf.path.display(), section.line),
                    command: format!(
                        "[[{}|{}]] into {}",
                        section.phase,
                        section.file,
                        path.display()
                    ),
                    note: String::new(),
                });
                reporter.hook_finished(timing, None);
                true
            }
            Ok(crate::config::ini::Merged::Into(path)) => {
                let line = format!(
                    "merged [[{}|{}]] (line {}) into {}",
                    section.phase,
                    section.file,
                    section.line,
                    path.display()
                );
                reporter.output("local.conf", false, &line);
                reporter.hook_finished(timing, None);
                true
            }
            Ok(crate::config::ini::Merged::Skipped(why)) => {
                // A dry run's hooks did not create the file's directory
                // (their mkdir was recorded): the merge is still reported.
                if !write {
                    self.summary.dry_run.push(crate::run::dryrun::Record {
                        hook: "local.conf".to_string(),
                        phase: phase.to_string(),
                        kind: "merge".to_string(),
                        place: format!("{}:{}", conf.path.display(), section.line),
                        command: format!("[[{}|{}]]", section.phase, section.file),
                        note: why.clone(),
                    });
                }
                reporter.warning(&why);
                reporter.hook_finished(timing, None);
                true
            }
            Err(reason) => {
                reporter.hook_finished(timing, Some(&reason));
                reporter.error(&reason);
                self.summary.failures.push(HookFailure {
                    hook: "local.conf".to_string(),
                    kind: HookKind::Bash,
                    phase,
                    reason,
                    output_tail: Vec::new(),
                });
                false
            }
        }
    }

    /// `[[test-config|FILE]]` is merged after `stack test-config`; say so
    /// when this run does not include that phase.
    pub(super) fn warn_unmerged_test_config(&self, conf: &crate::config::localconf::LocalConf) {
        let test_config = Phase::Stack(crate::model::phases::StackStep::TestConfig);
        if self.plan.phases.contains(&test_config) {
            return;
        }
        for section in conf.meta.iter().filter(|m| m.phase == "test-config") {
            lock(&self.reporter).warning(&format!(
                "{}:{}: [[test-config|{}]] is merged after `stack test-config`, which this run \
                 does not run — pass --test-config",
                conf.path.display(),
                section.line,
                section.file
            ));
        }
    }

    /// Take what the dry run recorded since the last step, as `hook`'s.
    pub(super) fn collect_dry_run(&mut self, hook: &str, phase: &str) {
        if let Some(recorder) = &mut self.dry_run {
            let records = recorder.collect(hook, phase);
            self.summary.dry_run.extend(records);
        }
    }

    /// The dry run's report, before the timing table.
    pub(super) fn report_dry_run(&mut self) {
        if self.dry_run.is_none() {
            return;
        }
        self.collect_dry_run("hookhost", "end of run");
        let records = &self.summary.dry_run;
        let lines = crate::run::dryrun::render(records);
        let data = crate::run::dryrun::to_json(records);
        lock(&self.reporter).report("dry-run", "dry run: recorded instead of run", &lines, data);
    }
}
