//! The phases of an installer run and the entry points that walk through them.
//!
//! A phase is one hook point: DevStack's first argument to an extras.d
//! script (`source`, `stack`, `unstack`, `clean`) plus, for `stack`, the
//! second (`pre-install`, `install`, `post-config`, `extra`).

use std::fmt;

/// The second argument DevStack passes with `stack`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StackStep {
    PreInstall,
    Install,
    PostConfig,
    Extra,
    /// Opt-in extension: later DevStack's `stack test-config`, after `extra`.
    TestConfig,
}

/// One hook point of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    /// Opt-in extension: later DevStack's `override_defaults`, before `source`.
    OverrideDefaults,
    Source,
    Stack(StackStep),
    Unstack,
    Clean,
}

impl StackStep {
    pub fn as_str(self) -> &'static str {
        match self {
            StackStep::PreInstall => "pre-install",
            StackStep::Install => "install",
            StackStep::PostConfig => "post-config",
            StackStep::Extra => "extra",
            StackStep::TestConfig => "test-config",
        }
    }
}

impl Phase {
    /// The positional arguments a bash hook is sourced with (`$1`, `$2`).
    pub fn args(self) -> Vec<&'static str> {
        match self {
            Phase::OverrideDefaults => vec!["override_defaults"],
            Phase::Source => vec!["source"],
            Phase::Stack(step) => vec!["stack", step.as_str()],
            Phase::Unstack => vec!["unstack"],
            Phase::Clean => vec!["clean"],
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.args().join(" "))
    }
}

/// A hookhost subcommand that runs hooks: DevStack's `stack.sh`, `unstack.sh`, `clean.sh`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entry {
    Stack,
    Unstack,
    Clean,
}

/// Opt-in phases that DevStack added after extras.d.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extensions {
    /// Run `stack test-config` after `stack extra`.
    pub test_config: bool,
    /// Run `override_defaults` before `source`.
    pub override_defaults: bool,
}

impl Entry {
    pub fn name(self) -> &'static str {
        match self {
            Entry::Stack => "stack",
            Entry::Unstack => "unstack",
            Entry::Clean => "clean",
        }
    }

    /// The phases this entry point runs, in order. Every entry starts with
    /// `source`, so hooks must be re-entrant within one run; `clean` always
    /// runs `unstack` first (DevStack skipped it without a screen session).
    pub fn phases(self, ext: Extensions) -> Vec<Phase> {
        let mut phases = Vec::new();
        if ext.override_defaults {
            phases.push(Phase::OverrideDefaults);
        }
        phases.push(Phase::Source);
        match self {
            Entry::Stack => {
                phases.extend(
                    [
                        StackStep::PreInstall,
                        StackStep::Install,
                        StackStep::PostConfig,
                        StackStep::Extra,
                    ]
                    .map(Phase::Stack),
                );
                if ext.test_config {
                    phases.push(Phase::Stack(StackStep::TestConfig));
                }
            }
            Entry::Unstack => phases.push(Phase::Unstack),
            Entry::Clean => phases.extend([Phase::Unstack, Phase::Clean]),
        }
        phases
    }

    /// `stack` stops at the first failing hook; `unstack` and `clean` go on
    /// and report every failure at the end.
    pub fn stops_at_first_failure(self) -> bool {
        self == Entry::Stack
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_runs_source_then_four_steps() {
        let phases: Vec<String> = Entry::Stack
            .phases(Extensions::default())
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(
            phases,
            [
                "source",
                "stack pre-install",
                "stack install",
                "stack post-config",
                "stack extra"
            ]
        );
    }

    #[test]
    fn clean_always_unstacks_first() {
        assert_eq!(
            Entry::Clean.phases(Extensions::default()),
            [Phase::Source, Phase::Unstack, Phase::Clean]
        );
    }

    #[test]
    fn extensions_are_opt_in() {
        let ext = Extensions {
            test_config: true,
            override_defaults: true,
        };
        let phases = Entry::Stack.phases(ext);
        assert_eq!(phases.first(), Some(&Phase::OverrideDefaults));
        assert_eq!(phases.last(), Some(&Phase::Stack(StackStep::TestConfig)));
        assert_eq!(Entry::Unstack.phases(ext).len(), 3);
    }
}
