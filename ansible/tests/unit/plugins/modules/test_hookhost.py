# SPDX-License-Identifier: Apache-2.0
"""Unit tests of the hookhost module, run against the real hookhost binary
on small stacks of bash hooks (and the probe WASM plugin for grants)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

# A hook that appends "<phase args>" to $MARKS (a file) in every phase.
MARK = 'echo "$HOOKHOST_HOOK_NAME_FOR_TEST ${1}${2:+ $2}" >> "$MARKS"\n'


def marking(name):
    return MARK.replace("$HOOKHOST_HOOK_NAME_FOR_TEST", name)


def failing_in(phase_test, name):
    """A hook that marks, then fails with output when `phase_test` holds."""
    return marking(name) + (
        "if %s; then\n"
        "    echo 'about to fail in %s'\n"
        "    echo 'the reason on stderr' >&2\n"
        "    return 3\n"
        "fi\n" % (phase_test, name)
    )


def marks(path):
    with open(path) as lines:
        return [line.rstrip("\n") for line in lines]


@pytest.fixture
def marks_file(tmp_path):
    return str(tmp_path / "marks")


def test_stack_reports_every_hook_step_in_order(make_stack, run_module, marks_file, hookhost_bin):
    top = make_stack({"10-a.sh": marking("a"), "20-b.sh": marking("b")}, {"MARKS": marks_file})
    result = run_module({"top": top, "entry": "stack"})

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert result["status"] == "ok" and result["rc"] == 0
    steps = [(h["hook"], h["phase"], h["status"]) for h in result["hooks"]]
    phases = ["source", "stack pre-install", "stack install", "stack post-config", "stack extra"]
    assert steps == [(hook, phase, "ok") for phase in phases for hook in ("10-a", "20-b")]
    assert all(isinstance(h["duration_ms"], float) for h in result["hooks"])
    # What the hooks themselves recorded agrees with what the module reports.
    assert marks(marks_file) == ["%s %s" % (hook, phase) for phase in phases for hook in ("a", "b")]
    assert result["failed_hook"] is None and result["failures"] == []
    assert result["summary"]["hooks_run"] == 10
    assert os.path.isfile(result["log"])
    assert result["state_dir"] == os.path.join(top, ".hookhost")
    assert os.path.isfile(result["journal"])
    status = json.loads(subprocess.check_output([hookhost_bin, "status", "--top", top, "--json"]))
    assert result["run_id"] == status["run"]
    assert result["dry_run"] is None


def test_failed_hook_fails_the_task_with_one_line_naming_it(make_stack, run_module, marks_file):
    top = make_stack({
        "10-a.sh": marking("a"),
        "20-bad.sh": failing_in('[[ "$1 $2" == "stack post-config" ]]', "bad"),
        "30-c.sh": marking("c"),
    }, {"MARKS": marks_file})
    result = run_module({"top": top})

    assert result["failed"] is True
    assert result["status"] == "failed" and result["rc"] == 1
    assert "\n" not in result["msg"]
    assert result["msg"].startswith("hookhost stack failed at hook 20-bad (bash) in `stack post-config`: ")
    failed = result["failed_hook"]
    assert (failed["hook"], failed["kind"], failed["phase"]) == ("20-bad", "bash", "stack post-config")
    assert "about to fail in bad" in failed["output_tail"]
    assert "the reason on stderr" in failed["output_tail"]
    assert failed["reason"] and failed["help"]
    # stack stops at the first failure: nothing of `stack extra` ran.
    assert not [m for m in marks(marks_file) if m.endswith("stack extra")]
    assert "c stack post-config" not in marks(marks_file)
    assert result["hooks"][-1]["status"] == "failed"


def test_unstack_goes_on_and_names_every_failed_hook(make_stack, run_module, marks_file):
    top = make_stack({
        "10-x.sh": failing_in('[[ "$1" == "unstack" ]]', "x"),
        "20-y.sh": failing_in('[[ "$1" == "unstack" ]]', "y"),
        "30-z.sh": marking("z"),
    }, {"MARKS": marks_file})
    result = run_module({"top": top, "entry": "unstack"})

    assert result["failed"] is True
    assert [f["hook"] for f in result["failures"]] == ["10-x", "20-y"]
    assert result["msg"] == ("hookhost unstack: 2 hooks failed: 10-x (bash) in `unstack`, "
                             "20-y (bash) in `unstack`")
    assert "z unstack" in marks(marks_file)


def test_plan_runs_nothing_and_returns_the_plan(make_stack, run_module, marks_file):
    top = make_stack({"10-a.sh": marking("a")}, {"MARKS": marks_file})
    result = run_module({"top": top, "entry": "plan", "plan_entry": "clean"})

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is False
    assert result["plan"]["entry"] == "clean"
    assert result["plan"]["phases"] == ["source", "unstack", "clean"]
    assert [h["hook"] for h in result["plan"]["hooks"]] == ["10-a"]
    assert result["cmd"][1:3] == ["plan", "clean"]
    assert "unparsed_lines" not in result and result["events_count"] == 0
    assert not os.path.exists(marks_file)


def test_dry_run_returns_the_record_and_changes_nothing(make_stack, run_module, tmp_path):
    target = str(tmp_path / "made-by-sudo")
    hook = ('if [[ "$1 $2" == "stack install" ]]; then\n'
            '    sudo touch %s\n'
            '    install_package some-package\n'
            'fi\n' % target)
    top = make_stack({"10-pkg.sh": hook})
    result = run_module({"top": top, "dry_run": True})

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is False
    assert "--dry-run" in result["cmd"]
    kinds = dict((r["kind"], r) for r in result["dry_run"])
    # A sudo is recorded by what it runs: `sudo touch` writes a file.
    assert kinds["file"]["command"] == "sudo touch %s" % target
    assert kinds["file"]["hook"] == "10-pkg" and kinds["file"]["phase"] == "stack install"
    assert kinds["package"]["command"] == "install_package some-package"
    assert not os.path.exists(target)


def test_check_mode_is_a_dry_run(make_stack, run_module, tmp_path):
    target = str(tmp_path / "made-by-sudo")
    top = make_stack({"10-pkg.sh": 'if [[ "$1" == "stack" ]]; then sudo touch %s; fi\n' % target})
    result = run_module({"top": top}, check_mode=True)

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is False
    assert "--dry-run" in result["cmd"]
    assert [r["kind"] for r in result["dry_run"]] == ["file"] * 4
    assert result["dry_run_confinement"], result
    assert not os.path.exists(target)


def test_refused_stack_names_the_file_and_line(make_stack, run_module, marks_file):
    top = make_stack({"10-a.sh": marking("a")}, "MARKS=%s\n  not an assignment\n" % marks_file)
    result = run_module({"top": top})

    assert result["failed"] is True
    assert result["status"] == "refused" and result["rc"] == 2
    assert result["changed"] is False
    assert result["msg"].startswith("hookhost stack refused the stack, nothing ran: ")
    assert "local.conf:3" in result["msg"]
    assert result["hooks"] == []
    assert not os.path.exists(marks_file)


def test_refused_plan_reports_the_errors_from_stderr(make_stack, run_module):
    top = make_stack({"10-a.sh": ""}, "  not an assignment\n")
    result = run_module({"top": top, "entry": "plan"})

    assert result["failed"] is True
    assert result["status"] == "refused"
    assert len(result["errors"]) == 1 and "local.conf:2" in result["errors"][0]


def probe_stack(make_stack, probe_wasm, seen):
    """A stack whose WASM plugin needs the PROBE_* variables granted; a bash
    hook after it writes what the plugin handed over to `seen`."""
    top = make_stack({
        "20-probe.toml": '[capabilities]\nvars-read = ["PROBE_*"]\nvars-write = ["PROBE_COPIED"]\n',
        "30-show.sh": 'if [[ "$1 $2" == "stack extra" ]]; then echo "$PROBE_COPIED" > %s; fi\n' % seen,
    }, {"PROBE_SRC": "handed-over", "PROBE_COPY_FROM": "PROBE_SRC"})
    shutil.copy(probe_wasm, os.path.join(top, "extras.d", "20-probe.wasm"))
    return top


def test_grants_reach_the_binary(make_stack, run_module, probe_wasm, tmp_path):
    seen = str(tmp_path / "seen")
    top = probe_stack(make_stack, probe_wasm, seen)

    refused = run_module({"top": top})
    assert refused["status"] == "refused"
    # The advice is pasteable: the pattern is one quoted shell word.
    assert "--allow-env='PROBE_*'" in refused["msg"]
    # One problem is one entry (its lines joined); the task's message is one line.
    assert len(refused["errors"]) == 1 and "\n" not in refused["msg"]

    granted = run_module({"top": top, "grants": {"allow": {"env": ["PROBE_*"]}}})
    assert granted.get("failed") is not True, granted.get("msg")
    assert "--allow-env=PROBE_*" in granted["cmd"]
    with open(seen) as value:
        assert value.read() == "handed-over\n"

    denied = run_module({"top": top, "grants": {"allow": {"env": ["PROBE_*"]},
                                                "deny": {"env": ["PROBE_SRC"]}}})
    assert denied["status"] == "refused"
    assert "denied by the operator" in denied["msg"]


def test_every_grant_kind_maps_to_its_flag(make_stack, run_module):
    top = make_stack({"10-a.sh": ""})
    kinds = ["read", "write", "env", "run", "net", "function"]

    def item(prefix, kind):
        # Each value valid for its kind (hookhost refuses a flag that can
        # never match): variables are names, the rest may hold a dash.
        return "%s_ENV" % prefix.upper() if kind == "env" else "%s-%s" % (prefix, kind)

    allow = dict((k, [item("a", k)]) for k in kinds)
    deny = dict((k, [item("d", k)]) for k in kinds)
    allow["read"] = ["-looks-like-an-option"]
    result = run_module({"top": top, "entry": "plan", "grants": {"allow": allow, "deny": deny}})

    assert result.get("failed") is not True, result.get("msg")
    flags = result["cmd"][result["cmd"].index("--json") + 1:]
    assert flags[0] == "--allow-read=-looks-like-an-option"
    assert flags[1:6] == ["--allow-%s=%s" % (k, item("a", k)) for k in kinds[1:]]
    assert flags[6:] == ["--deny-%s=%s" % (k, item("d", k)) for k in kinds]


def test_empty_grant_item_is_refused_by_name(make_stack, run_module):
    top = make_stack({"10-a.sh": ""})
    result = run_module({"top": top, "grants": {"deny": {"net": [" "]}}})
    assert result["failed"] is True
    assert result["msg"] == "grants.deny.net has an empty item; remove it"


def test_allow_install_is_passed(make_stack, run_module):
    top = make_stack({"10-a.sh": ""})
    result = run_module({"top": top, "allow_install": True, "dry_run": True})
    assert "--allow-install" in result["cmd"]


def test_extra_env_reaches_the_hooks(make_stack, run_module, tmp_path):
    seen = str(tmp_path / "seen")
    top = make_stack({"10-env.sh": 'echo "$FROM_ANSIBLE|$EMPTY_ONE|" > %s\n' % seen})
    result = run_module({"top": top, "extra_env": {"FROM_ANSIBLE": "it's here", "EMPTY_ONE": None}})
    assert result.get("failed") is not True, result.get("msg")
    with open(seen) as value:
        assert value.read() == "it's here||\n"


def test_state_dir_other_than_top_hookhost_is_refused(make_stack, run_module, marks_file, tmp_path):
    top = make_stack({"10-a.sh": marking("a")}, {"MARKS": marks_file})
    elsewhere = str(tmp_path / "elsewhere")
    result = run_module({"top": top, "state_dir": elsewhere})
    assert result["failed"] is True
    assert result["msg"].startswith("state_dir=%s: hookhost keeps a stack's state in TOP/.hookhost" % elsewhere)
    assert not os.path.exists(marks_file)

    same = run_module({"top": top, "state_dir": os.path.join(top, ".hookhost")})
    assert same.get("failed") is not True, same.get("msg")


def test_events_file_holds_every_event_line(make_stack, run_module, tmp_path):
    events = str(tmp_path / "results" / "deeper" / "stack-events.jsonl")
    top = make_stack({"10-a.sh": 'echo "said in $1"\n'})
    result = run_module({"top": top, "events_file": events})
    with open(events) as lines:
        parsed = [json.loads(line) for line in lines]
    assert len(parsed) == result["events_count"]
    assert parsed[0]["event"] == "run-start" and parsed[-1]["event"] == "summary"
    assert {"event": "output", "hook": "10-a", "line": "said in source", "stream": "stdout"} in [
        dict((k, e.get(k)) for k in ("event", "hook", "line", "stream")) for e in parsed]


def test_timeout_stops_the_run_in_its_hook(make_stack, run_module, hookhost_bin, tmp_path):
    marker = "hookhost-module-test-sleeper-%d" % os.getpid()
    hook = ('if [[ "$1 $2" == "stack install" ]]; then\n'
            '    bash -c "exec -a %s sleep 600"\n'
            'fi\n' % marker)
    top = make_stack({"10-fast.sh": "", "20-slow.sh": hook})
    result = run_module({"top": top, "timeout": 3})

    assert result["failed"] is True
    assert result["status"] == "timeout"
    assert result["msg"] == ("hookhost stack exceeded timeout=3s in hook 20-slow (bash) "
                             "in `stack install`; stopped")
    status = json.loads(subprocess.check_output([hookhost_bin, "status", "--top", top, "--json"]))
    assert status["status"] == "interrupted" and status["signal"] == "SIGTERM"
    # hookhost stopped what ran below it: no sleeper outlives the run.
    assert not [p for p in os.listdir("/proc") if p.isdigit() and marker in cmdline(p)]


def cmdline(pid):
    try:
        with open("/proc/%s/cmdline" % pid, "rb") as raw:
            return raw.read().decode("utf-8", "replace")
    except OSError:
        return ""


def test_negative_timeout_is_refused(make_stack, run_module):
    top = make_stack({"10-a.sh": ""})
    result = run_module({"top": top, "timeout": -1})
    assert result["failed"] is True
    assert result["msg"] == "timeout=-1: give seconds, or 0 for no limit"


def test_missing_binary_is_named(make_stack, run_module, tmp_path):
    top = make_stack({"10-a.sh": ""})
    result = run_module({"top": top, "binary": "hookhost-not-installed-here"})
    assert result["failed"] is True
    assert "hookhost-not-installed-here" in result["msg"]
