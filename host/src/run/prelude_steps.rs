//! A DevStack tree's prelude as steps of a run (see `prelude`): the first
//! part once the session started, the second after `override_defaults`,
//! each reported as a step named `prelude`; and the hooks' sources a
//! restarted session replays.

use std::path::{Path, PathBuf};

use anyhow::bail;

use super::*;
use crate::bash::BashSession;
use crate::config::prelude::{Part, Prelude, DIR};

/// The step name the prelude is reported under.
const STEP: &str = "prelude";

/// Start the prelude of `plan` in `space`, and run its first part (all of
/// it unless `override_defaults` belongs between its parts). An error stops
/// the run before any hook: the hooks need what it defines.
pub(super) fn start(
    space: &mut Space,
    plan: &Plan,
    options: &RunOptions,
    observer: &Observer,
) -> anyhow::Result<()> {
    let Some(prelude) = &plan.prelude else {
        return Ok(());
    };
    let runner = Runner::new(
        prelude,
        &plan.stack.top,
        &plan.stack.state_dir,
        options.dry_run,
    )?;
    let split = runner.split() && plan.phases.first() == Some(&Phase::OverrideDefaults);
    space.replay_log().set_runner(runner);
    let phase = plan.phases.first().copied().unwrap_or(Phase::Source);
    run_part(space, phase, observer)?;
    if !split {
        finish(space, phase, observer)?;
    }
    Ok(())
}

/// Run the parts still pending (before a phase other than
/// `override_defaults`), and the post-source step before a phase after
/// `source`.
pub(super) fn finish(space: &mut Space, phase: Phase, observer: &Observer) -> anyhow::Result<()> {
    while space.replay_log().runner().is_some_and(|r| r.pending()) {
        run_part(space, phase, observer)?;
    }
    // stack.sh's passwords, database URL, save_stackenv: after the hooks'
    // `source`, before the first phase that installs.
    let after_source = !matches!(phase, Phase::OverrideDefaults | Phase::Source);
    if after_source
        && space
            .replay_log()
            .runner()
            .is_some_and(|r| r.post_source_pending())
    {
        run_part(space, phase, observer)?;
    }
    Ok(())
}

fn run_part(space: &mut Space, phase: Phase, observer: &Observer) -> anyhow::Result<()> {
    let mut step = Step::start(observer, STEP, "bash", phase);
    let dry_run = space.replay_log().runner().and_then(|r| r.dry_run.clone());
    let result = space.run_prelude_part(&mut |stream, line| {
        if let (Some((top, state)), BashStream::Stderr) = (&dry_run, stream) {
            crate::run::dryrun::note_refused_write(line, top, state);
        }
        step.output(stream, line)
    });
    match &result {
        Ok(()) => step.succeeded(),
        Err(e) => step.finish(StepStatus::Failed, Some(&format!("{e:#}"))),
    }
    result
}

impl Run<'_> {
    /// Before `phase`: the prelude's parts still pending. False when one
    /// failed (the run stops: the hooks need what it defines).
    pub(super) fn finish_prelude(&mut self, phase: Phase) -> bool {
        if phase == Phase::OverrideDefaults {
            return true;
        }
        let result = finish(&mut lock(&self.space), phase, &self.observer);
        self.collect_dry_run(STEP, &phase.to_string());
        let Err(e) = result else {
            return true;
        };
        let failure = StepFailure::new(format!("{e:#}"));
        self.fail(step::hook_failure(STEP, "bash", phase, failure));
        self.summary.stopped_at = Some((STEP.to_string(), phase));
        false
    }
}

/// Whether a bash hook's file sourced in `phase` is replayed after a
/// restart: the phases that define (functions, variables).
pub(super) fn replayed(phase: Phase) -> bool {
    matches!(phase, Phase::Source | Phase::OverrideDefaults)
}

/// The prelude of a run, in its session: the padded parts written under
/// the state directory, the ones run so far (a restarted session runs them
/// again), and, in a dry run, `.localrc.auto` as it was before (put back
/// when the run ends: the prelude writes it, as stack.sh did).
pub(crate) struct Runner {
    prelude: Prelude,
    paths: Vec<PathBuf>,
    localrc_step: Option<PathBuf>,
    done: usize,
    /// In a dry run, the stack and its state directory (for the prelude's
    /// refused writes).
    dry_run: Option<(PathBuf, PathBuf)>,
    /// Held for its `Drop`, which puts the file back.
    _restore: Option<Restore>,
}

/// A file to put back as it was.
struct Restore {
    path: PathBuf,
    before: Option<Vec<u8>>,
}

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = match &self.before {
            Some(bytes) => std::fs::write(&self.path, bytes),
            None => std::fs::remove_file(&self.path).or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Ok(()),
                _ => Err(e),
            }),
        };
    }
}

/// hookhost's own extraction of `[[local|localrc]]` into `.localrc.auto`,
/// with the tree's inc/meta-config, as stack.sh did it (for unstack.sh,
/// clean.sh and a configured list, whose scripts do not). In a subshell:
/// nothing it defines stays.
const LOCALRC_STEP: &str = r##"(
builtin source "$TOP_DIR/inc/meta-config" || builtin exit 1
command rm -f "$TOP_DIR/.localrc.auto"
if [[ -r $TOP_DIR/local.conf ]]; then
    for lfile in $(get_meta_section_files "$TOP_DIR/local.conf" local); do
        if [[ $lfile == localrc ]]; then
            if [[ -r $TOP_DIR/localrc ]]; then
                builtin echo "[WARNING] localrc and local.conf:[[local]] both exist, using localrc"
            else
                builtin echo "# Generated file, do not edit" >"$TOP_DIR/.localrc.auto"
                get_meta_section "$TOP_DIR/local.conf" local "$lfile" >>"$TOP_DIR/.localrc.auto"
            fi
        fi
    done
fi
)
"##;

impl Runner {
    /// Write the padded parts under `state_dir`; in a dry run, remember
    /// `.localrc.auto` to put it back.
    pub(crate) fn new(
        prelude: &Prelude,
        top: &Path,
        state_dir: &Path,
        dry_run: bool,
    ) -> anyhow::Result<Runner> {
        let write = |path: &Path, text: &str| -> anyhow::Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
            }
            std::fs::write(path, text)
                .map_err(|e| anyhow::anyhow!("cannot write the prelude {}: {e}", path.display()))
        };
        let mut paths = Vec::new();
        // The post-source step, if any, is the last part.
        let parts = prelude.parts.iter().chain(&prelude.post_source);
        for (i, part) in parts.enumerate() {
            let path = prelude.part_path(state_dir, i);
            write(&path, &part_script(part))?;
            paths.push(path);
        }
        let localrc_step = match prelude.extract_localrc {
            true => {
                let path = state_dir.join(DIR).join("localrc.sh");
                write(&path, LOCALRC_STEP)?;
                Some(path)
            }
            false => None,
        };
        let restore = dry_run.then(|| {
            let path = top.join(".localrc.auto");
            let created = state_dir
                .join(crate::run::dryrun::BIN)
                .join(crate::run::dryrun::CREATED_LOCALRC);
            let before = match created.exists() {
                true => None,
                false => std::fs::read(&path).ok(),
            };
            Restore { path, before }
        });
        Ok(Runner {
            prelude: prelude.clone(),
            paths,
            localrc_step,
            done: 0,
            dry_run: dry_run.then(|| (top.to_path_buf(), state_dir.to_path_buf())),
            _restore: restore,
        })
    }

    /// Parts of the prelude not run yet.
    pub(crate) fn pending(&self) -> bool {
        self.done < self.prelude.parts.len()
    }

    /// The post-source step is next (the prelude ran, the step did not).
    pub(crate) fn post_source_pending(&self) -> bool {
        self.done == self.prelude.parts.len() && self.done < self.paths.len()
    }

    /// Parts run so far.
    pub(crate) fn done(&self) -> usize {
        self.done
    }

    /// Whether `override_defaults` belongs after the first part.
    pub(crate) fn split(&self) -> bool {
        self.prelude.split
    }

    /// Run the next part in `session` (the localrc step before the first).
    /// An error when the part ended bash (a `die`, `exit`), naming it.
    pub(crate) fn run_next(
        &mut self,
        session: &mut BashSession,
        out: &mut dyn FnMut(BashStream, &str),
    ) -> anyhow::Result<()> {
        let part = self.done;
        self.run_part(session, part, out)?;
        self.done += 1;
        Ok(())
    }

    fn run_part(
        &self,
        session: &mut BashSession,
        part: usize,
        out: &mut dyn FnMut(BashStream, &str),
    ) -> anyhow::Result<()> {
        if let (0, Some(step)) = (part, &self.localrc_step) {
            let label = "local.conf [[local|localrc]] -> .localrc.auto";
            if let Outcome::SessionEnded { .. } = session.source_prelude(step, label, out)? {
                bail!("the bash session ended while writing .localrc.auto from local.conf");
            }
        }
        let script = &self.prelude.script;
        let (label, what) = match part < self.prelude.parts.len() {
            true => (
                format!("{script} (prelude)"),
                format!("the DevStack prelude (what {script} runs before its hooks"),
            ),
            false => (
                format!("{script} (after run_phase source)"),
                format!("what {script} runs between its hooks' `source` and `stack pre-install` ("),
            ),
        };
        match session.source_prelude(&self.paths[part], &label, out)? {
            Outcome::SessionEnded { .. } => bail!(
                "the bash session ended in {what}; see its output above, and `hookhost plan` \
                 for the list)"
            ),
            Outcome::Success | Outcome::Failed { .. } => Ok(()),
        }
    }
}

/// What a restarted session runs again, in the order it first ran: the
/// prelude's parts and every bash hook's `override_defaults` and `source`,
/// so what they defined is defined again.
#[derive(Default)]
pub(crate) struct Replay {
    runner: Option<Runner>,
    steps: Vec<ReplayStep>,
}

enum ReplayStep {
    Part(usize),
    Source(PathBuf, Vec<String>),
}

impl Replay {
    pub(crate) fn set_runner(&mut self, runner: Runner) {
        self.runner = Some(runner);
    }

    pub(crate) fn runner(&mut self) -> Option<&mut Runner> {
        self.runner.as_mut()
    }

    /// Run the prelude's next part and remember it.
    pub(crate) fn run_part(
        &mut self,
        session: &mut BashSession,
        out: &mut dyn FnMut(BashStream, &str),
    ) -> anyhow::Result<()> {
        let Some(runner) = &mut self.runner else {
            return Ok(());
        };
        let part = runner.done();
        runner.run_next(session, out)?;
        self.steps.push(ReplayStep::Part(part));
        Ok(())
    }

    /// A hook's file was sourced with `args` in a phase that defines.
    pub(crate) fn sourced(&mut self, path: &Path, args: &[&str]) {
        let args = args.iter().map(|a| a.to_string()).collect();
        self.steps
            .push(ReplayStep::Source(path.to_path_buf(), args));
    }

    /// Run every step again in a fresh `session`, output discarded. Stops
    /// at a step that ends bash, with an error naming it.
    pub(crate) fn run(&self, session: &mut BashSession) -> anyhow::Result<()> {
        let mut ignore = |_: BashStream, _: &str| {};
        for step in &self.steps {
            match step {
                ReplayStep::Part(part) => {
                    if let Some(runner) = &self.runner {
                        runner.run_part(session, *part, &mut ignore)?;
                    }
                }
                ReplayStep::Source(path, args) => {
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    if let Outcome::SessionEnded { .. } =
                        session.source_hook(path, &args, &mut ignore)?
                    {
                        bail!(
                            "{} ended the session when it was sourced again",
                            path.display()
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

/// A part's script: the padded statements, then a `source` line for each
/// file of a configured list (each path quoted).
fn part_script(part: &Part) -> String {
    let mut script = part.padded.clone();
    for file in &part.sources {
        let quoted = crate::bash::framing::quote(file.as_bytes());
        script.push_str("builtin source \"$TOP_DIR\"/");
        script.push_str(&String::from_utf8_lossy(&quoted));
        script.push('\n');
    }
    script
}
