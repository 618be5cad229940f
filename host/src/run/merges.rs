//! DevStack compatibility steps of a run: local.conf's meta-sections
//! merged at their points (the file names expand from the variable space
//! at that moment; the INI edit itself is `config::ini`'s), and what
//! `--dry-run` recorded.

use std::path::{Path, PathBuf};

use super::*;

use crate::config::ini::{expand, merge_file, parse_body};
use crate::config::localconf::{LocalConf, MetaSection};

/// What merging one meta-section did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Merged {
    /// Merged into this file.
    Into(PathBuf),
    /// Not merged, as DevStack skips it (its file's variable is unset, or
    /// its directory does not exist); the warning says why.
    Skipped(String),
}

/// Merge one meta-section into its file: `$NAME`/`${NAME}` in the file name
/// expand from the variable space now, a relative name is relative to the
/// stack. An unset variable or a missing directory skips it with a warning
/// (DevStack skipped both, silently or nearly); a file that cannot be
/// written is an error. With `write` false (a dry run) nothing is written.
pub(super) fn merge_section(
    space: &mut Space,
    conf: &LocalConf,
    section: &MetaSection,
    write: bool,
) -> Result<Merged, String> {
    let at = format!(
        "{}:{}: [[{}|{}]]",
        conf.path.display(),
        section.line,
        section.phase,
        section.file
    );
    let mut unset = Vec::new();
    let mut failure = None;
    let file = expand(&section.file, |name| match space.var(name) {
        Ok(Some(value)) if !value.is_empty() => value,
        Ok(_) => {
            unset.push(name.to_string());
            String::new()
        }
        Err(e) => {
            failure = Some(format!("{e:#}"));
            String::new()
        }
    });
    if let Some(e) = failure {
        return Err(format!("{at}: cannot read the file name's variables: {e}"));
    }
    if !unset.is_empty() {
        return Ok(Merged::Skipped(format!(
            "{at}: not merged: {} is not set when the {} section is merged",
            unset.join(", "),
            section.phase
        )));
    }
    let top = conf.path.parent().unwrap_or(Path::new("/"));
    let path = top.join(&file);
    let dir = path.parent().unwrap_or(Path::new("/"));
    if !dir.is_dir() {
        return Ok(Merged::Skipped(format!(
            "{at}: not merged: the directory {} does not exist (as DevStack, hookhost merges \
             only into a directory that is there)",
            dir.display()
        )));
    }
    let settings = parse_body(&section.body).map_err(|errors| {
        let (line, message) = &errors[0];
        format!("{}:{line}: {message}", conf.path.display())
    })?;
    if write {
        merge_file(&path, &settings)
            .map_err(|e| format!("{at}: cannot merge into {}: {e}", path.display()))?;
    }
    Ok(Merged::Into(path))
}

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
        conf: &LocalConf,
        section: &MetaSection,
        phase: Phase,
    ) -> bool {
        let mut step = Step::start(&self.observer, "local.conf", "merge", phase);
        let write = self.dry_run.is_none();
        let result = merge_section(&mut lock(&self.space), conf, section, write);
        step.stop_clock();
        match result {
            Ok(Merged::Into(path)) if !write => {
                // A dry run records the merge instead of writing the file.
                let command = format!(
                    "[[{}|{}]] into {}",
                    section.phase,
                    section.file,
                    path.display()
                );
                self.record_merge(conf, section, phase, command, String::new());
                step.succeeded();
                true
            }
            Ok(Merged::Into(path)) => {
                let line = format!(
                    "merged [[{}|{}]] (line {}) into {}",
                    section.phase,
                    section.file,
                    section.line,
                    path.display()
                );
                step.output(BashStream::Stdout, &line);
                step.succeeded();
                true
            }
            Ok(Merged::Skipped(why)) => {
                // A dry run's hooks did not create the file's directory
                // (their mkdir was recorded): the merge is still reported.
                if !write {
                    let command = format!("[[{}|{}]]", section.phase, section.file);
                    self.record_merge(conf, section, phase, command, why.clone());
                }
                tell(&self.observer, Event::Warning(&why));
                step.succeeded();
                true
            }
            Err(reason) => {
                step.finish(StepStatus::Failed, Some(&reason));
                tell(&self.observer, Event::Error(&reason));
                let failure = StepFailure::new(reason);
                let failure = step::hook_failure("local.conf", "bash", phase, failure);
                self.summary.failures.push(failure);
                false
            }
        }
    }

    /// A merge a dry run recorded instead of writing its file.
    fn record_merge(
        &mut self,
        conf: &LocalConf,
        section: &MetaSection,
        phase: Phase,
        command: String,
        note: String,
    ) {
        self.summary.dry_run.push(crate::run::dryrun::Record {
            hook: "local.conf".to_string(),
            phase: phase.to_string(),
            kind: "merge".to_string(),
            place: format!("{}:{}", conf.path.display(), section.line),
            command,
            note,
        });
    }

    /// `[[test-config|FILE]]` is merged after `stack test-config`; say so
    /// when this run does not include that phase.
    pub(super) fn warn_unmerged_test_config(&self, conf: &LocalConf) {
        let test_config = Phase::Stack(crate::model::phases::StackStep::TestConfig);
        if self.plan.phases.contains(&test_config) {
            return;
        }
        for section in conf.meta.iter().filter(|m| m.phase == "test-config") {
            let warning = format!(
                "{}:{}: [[test-config|{}]] is merged after `stack test-config`, which this run \
                 does not run — pass --test-config",
                conf.path.display(),
                section.line,
                section.file
            );
            tell(&self.observer, Event::Warning(&warning));
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
        tell(
            &self.observer,
            Event::Report {
                event: "dry-run",
                title: "dry run: recorded instead of run",
                lines: &lines,
                data: &data,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::ini::iniset;

    /// hookhost's two copies of iniset, the session's (helpers.sh, for
    /// stacks that are not DevStack trees) and this one (meta-section
    /// merges), write the same file for the same inputs.
    #[test]
    fn the_bash_and_rust_iniset_agree() {
        use crate::bash::SessionConfig;
        use crate::run::space::Space;
        let dir = tempfile::tempdir().unwrap();
        let mut session = Space::start(SessionConfig::new(dir.path())).unwrap();
        let files = [
            "",
            "[DEFAULT]\ndebug = False\n",
            "[DEFAULT]\ndebug=False\n\n[db]\nx = 1\n[DEFAULT]\ndebug = 2\n",
            "# comment\n[other]\ndebug = x\n",
            "[DEFAULT]  \ndebugging = 1\n",
        ];
        let settings = [
            ("DEFAULT", "debug", "True"),
            ("glance_store", "stores", "file, http, rbd"),
            ("DEFAULT", "debug", "a&b \\1 'q' \"dq\""),
            ("db", "connection", ""),
        ];
        let mut ignore = |_: crate::bash::Stream, _: &str| {};
        for (n, text) in files.iter().enumerate() {
            for (m, (section, key, value)) in settings.iter().enumerate() {
                let path = dir.path().join(format!("f{n}-{m}.conf"));
                if !text.is_empty() {
                    std::fs::write(&path, text).unwrap();
                }
                let file = path.to_str().unwrap();
                let outcome = session
                    .call("iniset", &[file, section, key, value], &mut ignore)
                    .unwrap();
                assert_eq!(outcome, crate::bash::Outcome::Success);
                let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
                iniset(&mut lines, section, key, value);
                let rust = lines.join("\n") + "\n";
                let bash = std::fs::read_to_string(&path).unwrap();
                assert_eq!(
                    bash, rust,
                    "file {text:?}, iniset {section} {key} {value:?}"
                );
            }
        }
        session.close().unwrap();
    }
}
