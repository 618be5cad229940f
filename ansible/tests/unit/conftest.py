# SPDX-License-Identifier: Apache-2.0
"""Test set-up for the module's unit tests: small stacks of bash hooks made
per test, the probe plugin, and the module run in this process (the
collection and the binary come from ../conftest.py)."""

from __future__ import annotations

import json
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.fixture(scope="session")
def probe_wasm():
    """The probe test plugin (plugins/probe), built by scripts/build-plugins.sh."""
    path = os.path.join(REPO, "plugins", "target", "wasm32-wasip2", "release", "probe.wasm")
    if not os.path.isfile(path):
        pytest.fail("no %s: run `scripts/build-plugins.sh probe`" % path)
    return path


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as out:
        out.write(text)
    os.chmod(path, mode)


def _make_stack(top, hooks, localrc=None):
    """A stack at `top`: extras.d/<name> for each hook, and a local.conf whose
    [[local|localrc]] holds `localrc` (a dict, or raw text)."""
    for name, body in hooks.items():
        write(os.path.join(top, "extras.d", name), body)
    if isinstance(localrc, dict):
        localrc = "".join("%s=%s\n" % item for item in localrc.items())
    write(os.path.join(top, "local.conf"), "[[local|localrc]]\n" + (localrc or ""))
    return top


def _run_module(capsys, args, check_mode=False):
    """Run the module's main() in this process as Ansible would, and return
    its JSON result (exit_json and fail_json both end in SystemExit)."""
    # Imported here: the collection is importable only once ../conftest.py staged it.
    from ansible.module_utils.testing import patch_module_args
    from ansible_collections.hookhost.stack.plugins.modules import hookhost

    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            hookhost.main()
    out = capsys.readouterr().out
    return json.loads(out)


@pytest.fixture
def make_stack(tmp_path):
    """make_stack(hooks, localrc=None, name="stack") -> the stack's directory."""
    def make(hooks, localrc=None, name="stack"):
        return _make_stack(str(tmp_path / name), hooks, localrc)
    return make


@pytest.fixture
def run_module(capsys, hookhost_bin):
    """run_module(args, check_mode=False) -> the module's result; `binary`
    defaults to the real hookhost under test."""
    def run(args, check_mode=False):
        return _run_module(capsys, dict({"binary": hookhost_bin}, **args), check_mode)
    return run
