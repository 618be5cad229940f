#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hookhost contributors
# SPDX-License-Identifier: Apache-2.0

"""Ansible module: run one hookhost entry point on the target with --json.

hookhost has no remote execution of its own; this module is how Ansible
runs it on each node and turns its JSON event lines into a task result.
"""

DOCUMENTATION = r"""
---
module: hookhost
short_description: Run a hookhost stack, unstack, clean or plan on the target
version_added: "0.1.0"
description:
  - Runs C(hookhost stack|unstack|clean|plan) with C(--json) on the target and
    returns what the binary reported, event by event, as structured results.
  - The result lists every hook step (hook, kind, phase, status, duration),
    the hooks that failed with their reason and the last lines of their output,
    the dry run's record, and the run's summary, log and journal paths.
  - On a failed run the task fails with a one-line message naming the hook
    and the phase it failed in.
  - hookhost keeps its state in C(TOP/.hookhost) (the journal, the logs, the
    run lock); it has no option to move it, see O(state_dir).
options:
  top:
    description:
      - The stack directory on the target (holds C(extras.d/), C(local.conf),
        C(hookhost.toml)). Passed as C(--top).
    type: path
    required: true
  entry:
    description:
      - The entry point to run.
      - V(plan) runs nothing; it prints the ordered sequence of O(plan_entry).
    type: str
    choices: [stack, unstack, clean, plan]
    default: stack
  plan_entry:
    description:
      - The entry point O(entry=plan) plans.
    type: str
    choices: [stack, unstack, clean]
    default: stack
  binary:
    description:
      - The hookhost executable. A bare name is looked up on E(PATH).
    type: path
    default: hookhost
  grants:
    description:
      - Capability grants for WASM plugins, added to the stack's
        C(hookhost.toml). Each item becomes one C(--allow-KIND=ITEM) or
        C(--deny-KIND=ITEM) flag; a deny beats every allow.
    type: dict
    suboptions:
      allow:
        description: What to grant.
        type: dict
        suboptions:
          read:
            description: Stack-relative directories plugins may read (C(--allow-read)).
            type: list
            elements: str
          write:
            description: Stack-relative directories plugins may read and write (C(--allow-write)).
            type: list
            elements: str
          env:
            description: Variables plugins may read and set, C(PREFIX_*) for a prefix (C(--allow-env)).
            type: list
            elements: str
          run:
            description: Programs plugins may run (C(--allow-run)).
            type: list
            elements: str
          net:
            description: Hosts plugins may connect to, C(HOST[:PORT]) (C(--allow-net)).
            type: list
            elements: str
          function:
            description: Shell functions of the bash session plugins may call (C(--allow-function)).
            type: list
            elements: str
      deny:
        description: What to refuse, whatever is granted elsewhere.
        type: dict
        suboptions:
          read:
            description: C(--deny-read) items.
            type: list
            elements: str
          write:
            description: C(--deny-write) items.
            type: list
            elements: str
          env:
            description: C(--deny-env) items.
            type: list
            elements: str
          run:
            description: C(--deny-run) items.
            type: list
            elements: str
          net:
            description: C(--deny-net) items.
            type: list
            elements: str
          function:
            description: C(--deny-function) items.
            type: list
            elements: str
  allow_install:
    description:
      - Really install the packages hooks ask for (C(--allow-install));
        otherwise hookhost only records them.
    type: bool
    default: false
  dry_run:
    description:
      - Run with C(--dry-run) - the hooks run, but C(sudo), package installs,
        C(git_clone) and calls to missing commands are recorded, not run.
      - Check mode does the same.
    type: bool
    default: false
  extra_env:
    description:
      - Environment variables added to hookhost's environment (and so to the
        bash session the hooks run in).
    type: dict
    default: {}
  state_dir:
    description:
      - Where hookhost keeps the stack's state. hookhost always uses
        C(TOP/.hookhost) and has no option to move it, so this may only name
        that directory (to assert it); any other value fails the task before
        anything runs.
      - The directory is returned as RV(state_dir) either way.
    type: path
  events_file:
    description:
      - Also write every JSON event line hookhost printed to this file on the
        target (for collecting with M(ansible.builtin.fetch)). Its directory is
        created.
    type: path
  timeout:
    description:
      - Seconds the whole run may take. hookhost has no time limit of its own
        for a run, so the module runs it under coreutils' C(timeout) - at the
        limit hookhost gets SIGTERM (it stops the running hook and records
        where it stopped), and SIGKILL 30 seconds later if it is still there.
      - 0 means no limit.
    type: int
    default: 0
notes:
  - Check mode runs C(hookhost ENTRY --dry-run) (the hooks do run, with every
    command that would change the system recorded instead), and O(entry=plan)
    as usual.
  - The result is changed when hooks really ran - never for O(entry=plan),
    O(dry_run) or check mode.
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Mapped to C(--dry-run); see notes.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
author:
  - hookhost contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Stack the node
  hookhost.stack.hookhost:
    top: /opt/stack/hookhost
    entry: stack
    grants:
      allow:
        read: [lib/template]
        env: ["TEMPLATE_*"]
      deny:
        net: [pypi.org]
    extra_env:
      LOGDIR: /opt/stack/logs
    events_file: /opt/stack/results/stack-events.jsonl
    timeout: 3600

- name: See what unstack would run
  hookhost.stack.hookhost:
    top: /opt/stack/hookhost
    entry: plan
    plan_entry: unstack
  register: plan

- name: Dry run, and keep going on failure to report it
  hookhost.stack.hookhost:
    top: /opt/stack/hookhost
    dry_run: true
  register: dry
  failed_when: false
"""

RETURN = r"""
cmd:
  description: The command line that ran.
  returned: always
  type: list
  elements: str
rc:
  description: hookhost's exit status (0 ok, 1 a hook failed, 2 refused, 143 stopped by SIGTERM).
  returned: always
  type: int
status:
  description:
    - V(ok), V(failed), V(interrupted) (from the run's summary), V(refused)
      (nothing ran), V(timeout) (the module stopped it) or V(error) (no summary).
  returned: always
  type: str
  sample: failed
state_dir:
  description: The stack's state directory (C(TOP/.hookhost)).
  returned: always
  type: str
journal:
  description: The state journal (C(TOP/.hookhost/journal.jsonl)).
  returned: always
  type: str
log:
  description: This run's log file on the target.
  returned: when the run started
  type: str
run_id:
  description: The run's id in the journal (from C(hookhost status --json)).
  returned: when the run started
  type: str
hooks:
  description: One item per hook step that ran, in run order.
  returned: always
  type: list
  elements: dict
  contains:
    hook:
      description: The hook's name (C(NN-name)).
      type: str
    kind:
      description: V(bash), V(wasm), V(driver) or V(merge).
      type: str
    phase:
      description: The phase, e.g. C(stack install).
      type: str
    status:
      description: V(ok), V(failed), V(interrupted) or V(not finished).
      type: str
    duration_ms:
      description: How long the step took.
      type: float
    error:
      description: Why it failed, or null.
      type: str
failures:
  description: Every hook that failed, in order.
  returned: always
  type: list
  elements: dict
  contains:
    hook:
      description: The hook's name.
      type: str
    kind:
      description: The hook's kind.
      type: str
    phase:
      description: The phase it failed in.
      type: str
    reason:
      description: hookhost's reason.
      type: str
    output_tail:
      description: The last lines of the hook's output.
      type: list
      elements: str
    help:
      description: What to do.
      type: str
failed_hook:
  description: The first item of RV(failures), or null.
  returned: always
  type: dict
dry_run:
  description:
    - The dry run's record (one item per command not run - kind, command,
      hook, phase, place), or null when this was not a dry run.
  returned: always
  type: list
  elements: dict
dry_run_confinement:
  description:
    - How the dry run was confined on the node (writes, network), as hookhost
      reports it; absent when this was not a dry run.
  returned: when a dry run reported it
  type: raw
summary:
  description: hookhost's closing C(summary) event (status, failures, hooks_run, duration_ms, stopped_at, log).
  returned: when the run ended with a summary
  type: dict
plan:
  description: The plan (C(hookhost plan --json)).
  returned: when O(entry=plan) and the stack was not refused
  type: dict
errors:
  description: Why hookhost refused the stack (one line per problem).
  returned: always
  type: list
  elements: str
events_count:
  description: How many JSON event lines hookhost printed.
  returned: always
  type: int
stderr_lines:
  description: hookhost's stderr (with C(--json) only refusals and fatal errors go there).
  returned: always
  type: list
  elements: str
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

GRANT_KINDS = ("read", "write", "env", "run", "net", "function")
# Seconds between the timeout's SIGTERM and SIGKILL.
KILL_GRACE = 30


def grant_spec():
    """The argument spec of one allow or deny list."""
    kinds = {}
    for kind in GRANT_KINDS:
        kinds[kind] = {"type": "list", "elements": "str"}
    return {"type": "dict", "options": kinds}


def argument_spec():
    return {
        "top": {"type": "path", "required": True},
        "entry": {"type": "str", "default": "stack", "choices": ["stack", "unstack", "clean", "plan"]},
        "plan_entry": {"type": "str", "default": "stack", "choices": ["stack", "unstack", "clean"]},
        "binary": {"type": "path", "default": "hookhost"},
        "grants": {"type": "dict", "options": {"allow": grant_spec(), "deny": grant_spec()}},
        "allow_install": {"type": "bool", "default": False},
        "dry_run": {"type": "bool", "default": False},
        "extra_env": {"type": "dict", "default": {}},
        "state_dir": {"type": "path"},
        "events_file": {"type": "path"},
        "timeout": {"type": "int", "default": 0},
    }


def grant_flags(grants):
    """--allow-KIND=ITEM / --deny-KIND=ITEM flags; `=` keeps an item that
    starts with `-` from being read as another option."""
    flags = []
    for verdict in ("allow", "deny"):
        lists = (grants or {}).get(verdict) or {}
        for kind in GRANT_KINDS:
            for item in lists.get(kind) or []:
                flags.append("--%s-%s=%s" % (verdict, kind, item))
    return flags


def build_command(binary, params, dry_run):
    """The argv of the run."""
    top = params["top"]
    if params["entry"] == "plan":
        cmd = [binary, "plan", params["plan_entry"], "--top", top, "--json"]
    else:
        cmd = [binary, params["entry"], "--top", top, "--json"]
        if dry_run:
            cmd.append("--dry-run")
    if params["allow_install"]:
        cmd.append("--allow-install")
    return cmd + grant_flags(params["grants"])


def check_grants(module, grants):
    """An empty item would become `--allow-read=` (hookhost refuses it with a
    less helpful message); say which list holds it."""
    for verdict in ("allow", "deny"):
        lists = (grants or {}).get(verdict) or {}
        for kind in GRANT_KINDS:
            for item in lists.get(kind) or []:
                if not item.strip():
                    module.fail_json(msg="grants.%s.%s has an empty item; remove it" % (verdict, kind))


def check_state_dir(module, top, state_dir):
    """hookhost has no flag to move its state: only TOP/.hookhost is accepted."""
    real = os.path.join(top, ".hookhost")
    if state_dir is None:
        return real
    if os.path.realpath(state_dir) != os.path.realpath(real):
        module.fail_json(
            msg="state_dir=%s: hookhost keeps a stack's state in TOP/.hookhost (%s) and has no "
            "option to move it; leave state_dir unset or set it to %s" % (state_dir, real, real),
            state_dir=real,
        )
    return real


def command_env(extra_env):
    """extra_env as strings, for run_command's environ_update."""
    return dict((str(k), "" if v is None else str(v)) for k, v in extra_env.items())


def with_timeout(module, cmd, timeout):
    """hookhost has no time limit for a run: coreutils' timeout gives it one.
    SIGTERM first, to hookhost alone (--foreground): hookhost stops what runs
    below it and records where, as it does for a CI runner's SIGTERM;
    SIGKILL only if it is still there KILL_GRACE seconds later."""
    if not timeout:
        return cmd
    wrapper = module.get_bin_path("timeout", required=True)
    return [wrapper, "--foreground", "--signal=TERM", "--kill-after=%d" % KILL_GRACE, str(timeout)] + cmd


def run(module, cmd, env, timeout):
    """Run hookhost; return (rc, stdout, stderr, timed_out)."""
    rc, out, err = module.run_command(with_timeout(module, cmd, timeout), environ_update=env)
    # timeout(1) exits 124 when it sent SIGTERM and 137 when it had to send
    # SIGKILL; hookhost itself never exits with either.
    timed_out = bool(timeout) and rc in (124, 137)
    return rc, out, err, timed_out


def parse_events(stdout):
    """JSON event lines; anything else is kept aside (it should not happen)."""
    events, other = [], []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            other.append(line)
            continue
        if isinstance(value, dict):
            events.append(value)
        else:
            other.append(line)
    return events, other


def hook_steps(events):
    """One item per hook step: from `hook-end`, and a started step with no end
    (the run was killed in it) as `not finished`."""
    steps, open_step = [], None
    for event in events:
        kind = event.get("event")
        if kind == "hook-start":
            open_step = event
        elif kind == "hook-end":
            open_step = None
            steps.append({
                "hook": event.get("hook"),
                "kind": event.get("kind"),
                "phase": event.get("phase"),
                "status": event.get("status"),
                "duration_ms": event.get("duration_ms"),
                "error": event.get("error"),
            })
    if open_step is not None:
        steps.append({
            "hook": open_step.get("hook"),
            "kind": open_step.get("kind"),
            "phase": open_step.get("phase"),
            "status": "not finished",
            "duration_ms": None,
            "error": "the run was stopped in this hook",
        })
    return steps


def failures_of(events):
    keys = ("hook", "kind", "phase", "reason", "output_tail", "help")
    return [dict((k, e.get(k)) for k in keys) for e in events if e.get("event") == "hook-failed"]


def first_event(events, name):
    for event in events:
        if event.get("event") == name:
            return event
    return None


def last_event(events, name):
    for event in reversed(events):
        if event.get("event") == name:
            return event
    return None


def refusal_errors(events, stderr):
    """A refusal is one `refused` event; `plan` has no JSON for it, only
    `error: ...` lines on stderr."""
    refused = first_event(events, "refused")
    if refused is not None:
        return [str(e) for e in refused.get("errors") or []]
    errors = []
    for line in stderr.splitlines():
        if line.startswith("error: "):
            errors.append(line[len("error: "):])
    return errors


def run_status(rc, summary, errors, timed_out):
    if timed_out:
        return "timeout"
    if summary is not None:
        return summary.get("status") or "error"
    if rc == 2 or errors:
        return "refused"
    return "ok" if rc == 0 else "error"


def where(failure):
    return "%s (%s) in `%s`" % (failure.get("hook"), failure.get("kind"), failure.get("phase"))


def last_started(events):
    started = last_event(events, "hook-start")
    if started is None:
        return "before any hook started"
    return "in hook " + where(started)


def failure_message(result, events, timeout):
    """One line naming the hook (or why no hook is named)."""
    what = "hookhost %s" % result["entry"]
    failures = result["failures"]
    status = result["status"]
    if status == "timeout":
        return "%s exceeded timeout=%ss %s; stopped" % (what, timeout, last_started(events))
    if status == "refused":
        return "%s refused the stack, nothing ran: %s" % (what, "; ".join(result["errors"]) or "no reason given")
    if status == "interrupted":
        return "%s was interrupted %s" % (what, last_started(events))
    if len(failures) == 1:
        return "%s failed at hook %s: %s" % (what, where(failures[0]), failures[0].get("reason"))
    if failures:
        return "%s: %d hooks failed: %s" % (what, len(failures), ", ".join(where(f) for f in failures))
    tail = result["stderr_lines"][-1:] or ["no summary from hookhost"]
    return "%s failed with exit status %s: %s" % (what, result["rc"], tail[0])


def write_events(module, path, stdout):
    directory = os.path.dirname(path)
    try:
        if directory and not os.path.isdir(directory):
            os.makedirs(directory)
        with open(path, "w") as out:
            out.write(stdout)
    except (IOError, OSError) as err:
        module.fail_json(msg="events_file=%s: cannot write it: %s" % (path, err))


def last_run_id(module, binary, top, env):
    """The journal's id of the run that just ended (`--json` events carry none)."""
    rc, out, dummy = module.run_command([binary, "status", "--top", top, "--json"], environ_update=env)
    try:
        return json.loads(out).get("run") if rc == 0 else None
    except (ValueError, AttributeError):
        return None


def base_result(params, cmd, state_dir, dry_run):
    return {
        "changed": False,
        "entry": params["entry"],
        "top": params["top"],
        "cmd": cmd,
        "state_dir": state_dir,
        "journal": os.path.join(state_dir, "journal.jsonl"),
        "dry_run": [] if dry_run and params["entry"] != "plan" else None,
    }


def fill_from_run(result, rc, stdout, stderr, timed_out):
    events, other = parse_events(stdout)
    summary = last_event(events, "summary")
    run_start = first_event(events, "run-start")
    errors = refusal_errors(events, stderr)
    dry = first_event(events, "dry-run")
    result.update({
        "rc": rc,
        "hooks": hook_steps(events),
        "failures": failures_of(events),
        "errors": errors,
        "summary": summary,
        "status": run_status(rc, summary, errors, timed_out),
        "events_count": len(events),
        "stderr_lines": stderr.splitlines(),
        "warnings_from_hookhost": [e.get("message") for e in events if e.get("event") == "warning"],
    })
    result["failed_hook"] = result["failures"][0] if result["failures"] else None
    if run_start is not None:
        result["log"] = run_start.get("log")
    if dry is not None:
        data = dry.get("data") or []
        if isinstance(data, dict):
            # {confinement, records, hooks}: the records are the list.
            result["dry_run"] = data.get("records") or []
            result["dry_run_confinement"] = data.get("confinement")
        else:
            result["dry_run"] = data
    if other:
        result["unparsed_lines"] = other
    return events


def fill_plan(result, rc, stdout):
    """`plan --json` prints one JSON document, not event lines."""
    if rc != 0:
        return
    try:
        result["plan"] = json.loads(stdout)
    except ValueError:
        result["unparsed_lines"] = stdout.splitlines()


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    binary = params["binary"]
    if os.sep not in binary:
        binary = module.get_bin_path(binary, required=True)
    check_grants(module, params["grants"])
    state_dir = check_state_dir(module, params["top"], params["state_dir"])
    dry_run = params["dry_run"] or module.check_mode
    if params["timeout"] < 0:
        module.fail_json(msg="timeout=%d: give seconds, or 0 for no limit" % params["timeout"])

    cmd = build_command(binary, params, dry_run)
    env = command_env(params["extra_env"])
    result = base_result(params, cmd, state_dir, dry_run)
    rc, stdout, stderr, timed_out = run(module, cmd, env, params["timeout"])
    planning = params["entry"] == "plan"
    events = fill_from_run(result, rc, "" if planning else stdout, stderr, timed_out)

    if planning:
        fill_plan(result, rc, stdout)
    else:
        if result["summary"] is not None:
            result["run_id"] = last_run_id(module, binary, params["top"], env)
        result["changed"] = not dry_run and result["events_count"] > 0 and result["status"] != "refused"
        if params["events_file"]:
            write_events(module, params["events_file"], stdout)
        for message in result["warnings_from_hookhost"]:
            module.warn("hookhost: %s" % message)

    if result["status"] != "ok" or rc != 0:
        # One line, whatever the reason's text holds.
        result["msg"] = " ".join(failure_message(result, events, params["timeout"]).splitlines())
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
