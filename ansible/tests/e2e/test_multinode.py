# SPDX-License-Identifier: Apache-2.0
"""End to end: ansible-playbook runs hookhost.stack.multinode over three
"nodes" on this machine, each with its own stack directory and local.conf:
ansible_connection=local, or, with E2E_SSH_NODES set (scripts/ansible-test.sh
sets it where it can), ssh to an sshd per node in its own network namespace.

The fixture stack (tests/e2e/stack) records, from inside the real runs,
when each phase began and ended on each node, what local.conf gave its
hooks, and whether the compute nodes met while stacking; every check of
order and variables reads those records, not what the playbook says."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
STACK = os.path.join(HERE, "stack")
COMPUTE_FILES = os.path.join(HERE, "compute-files")
PROBE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(HERE))),
                     "plugins", "target", "wasm32-wasip2", "release", "probe.wasm")
NODES = {
    "controller1": {"group": "controller", "ip": "127.0.0.11"},
    "compute1": {"group": "compute", "ip": "127.0.0.12"},
    "compute2": {"group": "compute", "ip": "127.0.0.13"},
}
COMPUTES = ["compute1", "compute2"]
CONTROLLER_SERVICES = "key,n-api,n-cond,n-sch,placement-api,g-api,q-svc,q-agt,mysql,rabbit"
COMPUTE_SERVICES = "n-cpu,q-agt,placement-client"


def node_vars(work, name, spec):
    """One node's inventory variables: its own directories and address."""
    node = os.path.join(work, "nodes", name)
    values = {
        "hookhost_top": os.path.join(node, "stack"),
        "hookhost_bin": os.path.join(node, "bin", "hookhost"),
        "hookhost_host_ip": spec["ip"],
        "hookhost_localrc": {"NODE_NAME": name, "E2E_RECORD": os.path.join(node, "record.tsv"),
                             "E2E_COMPUTES": len(COMPUTES)},
    }
    if spec["group"] == "controller":
        values["hookhost_enabled_services_controller"] = CONTROLLER_SERVICES
    else:
        # Only the computes get the probe plugin, its manifest and the
        # hookhost.toml that grants what it requests.
        values["hookhost_stack_files"] = [
            {"src": PROBE, "dest": "extras.d/25-probe.wasm"},
            {"src": os.path.join(COMPUTE_FILES, "25-probe.toml"), "dest": "extras.d/25-probe.toml"},
        ]
        values["hookhost_config_src"] = os.path.join(COMPUTE_FILES, "hookhost.toml")
    values.update(spec.get("connection", {}))
    return values


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_inventory(work, hookhost_bin, connection):
    groups = {"controller": {"hosts": {}}, "compute": {"hosts": {}}}
    for name, spec in NODES.items():
        spec = dict(spec, connection=connection(name, spec))
        groups[spec["group"]]["hosts"][name] = node_vars(work, name, spec)
    # The controller installs the binary from a URL with its checksum (the
    # computes copy it from the Ansible controller).
    groups["controller"]["hosts"]["controller1"].update({
        "hookhost_binary_src": "",
        "hookhost_binary_url": "file://" + hookhost_bin,
        "hookhost_binary_checksum": "sha256:" + sha256_of(hookhost_bin),
    })
    inventory = {"all": {
        "vars": {
            "hookhost_binary_src": hookhost_bin,
            "hookhost_stack_src": STACK,
        },
        "children": groups,
    }}
    path = os.path.join(work, "inventory.json")
    with open(path, "w") as out:
        json.dump(inventory, out, indent=2)
    return path


def local_connection(dummy_name, dummy_spec):
    return {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}


def ssh_connection(name, dummy_spec):
    """The node as tests/e2e/ssh-nodes.sh made it (the JSON file named by
    E2E_SSH_NODES): its sshd in its own network namespace, reached by ssh,
    sftp and scp wrappers that enter that namespace."""
    with open(os.environ["E2E_SSH_NODES"]) as raw:
        node = json.load(raw)[name]
    return {
        "ansible_connection": "ssh",
        "ansible_host": node["host"],
        "ansible_port": node["port"],
        "ansible_user": node["user"],
        "ansible_ssh_private_key_file": node["key"],
        "ansible_ssh_executable": node["ssh"],
        "ansible_sftp_executable": node["sftp"],
        "ansible_scp_executable": node["scp"],
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
        "ansible_python_interpreter": node["python"],
    }


class Stack:
    """The three-node inventory and the playbook runs made over it."""

    def __init__(self, work, inventory, collections_path):
        self.work = work
        self.inventory = inventory
        self.collections_path = collections_path
        self.runs = {}

    def env(self):
        env = dict(os.environ)
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": self.collections_path,
            "ANSIBLE_FORKS": "5",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCAL_TEMP": os.path.join(self.work, "ansible-tmp"),
        })
        return env

    def run(self, label, entry, fail_node=None, check=False):
        """ansible-playbook hookhost.stack.multinode once per label (the runs
        build on each other: unstack after stack)."""
        if label in self.runs:
            return self.runs[label]
        meet = os.path.join(self.work, "meet", label)
        os.makedirs(meet)
        extra_env = {"E2E_RUN": label, "E2E_MEET_DIR": meet}
        if fail_node:
            extra_env["E2E_FAIL_NODE"] = fail_node
        results = os.path.join(self.work, "results", label)
        extra = {"hookhost_entry": entry, "hookhost_results_dir": results, "hookhost_extra_env": extra_env}
        cmd = ["ansible-playbook", "-i", self.inventory, "hookhost.stack.multinode", "-e", json.dumps(extra)]
        if check:
            cmd.append("--check")
        done = subprocess.run(cmd, env=self.env(), cwd=self.work, capture_output=True, text=True,
                              timeout=900, check=False)
        with open(os.path.join(self.work, "%s.out" % label), "w") as out:
            out.write(done.stdout + done.stderr)
        self.runs[label] = Run(self, label, results, done)
        return self.runs[label]

    def records(self, node, label):
        """(kind, phase-or-detail, value) recorded on `node` during run `label`."""
        path = os.path.join(self.work, "nodes", node, "record.tsv")
        rows = []
        with open(path) as lines:
            for line in lines:
                fields = line.rstrip("\n").split("\t")
                if fields[0] == label:
                    rows.append(tuple(fields[1:]))
        return rows

    def times(self, node, label, kind):
        return [int(row[2]) for row in self.records(node, label) if row[0] == kind]


class Run:
    def __init__(self, stack, label, results, done):
        self.stack = stack
        self.label = label
        self.results = results
        self.rc = done.returncode
        self.output = done.stdout + done.stderr

    def where(self):
        return "(output in %s/%s.out)" % (self.stack.work, self.label)

    def node_file(self, node, name):
        return os.path.join(self.results, node, name)

    def result(self, node, entry):
        with open(self.node_file(node, "%s-result.json" % entry)) as raw:
            return json.load(raw)

    def summary(self):
        with open(os.path.join(self.results, "summary.json")) as raw:
            return dict((row["node"], row) for row in json.load(raw))


@pytest.fixture(scope="module")
def stack(tmp_path_factory, hookhost_bin, collections_path):
    work = str(tmp_path_factory.mktemp("multinode"))
    ssh = bool(os.environ.get("E2E_SSH_NODES"))
    inventory = write_inventory(work, hookhost_bin, ssh_connection if ssh else local_connection)
    return Stack(work, inventory, collections_path)


def recap(output, node):
    """The failed= count of `node` in the play's recap."""
    found = re.search(r"^%s\s+: ok=\d+ .*\bfailed=(\d+)" % re.escape(node), output, re.M)
    assert found, "no recap line for %s" % node
    return int(found.group(1))


def first(times):
    assert times, "nothing recorded"
    return min(times)


def last(times):
    assert times, "nothing recorded"
    return max(times)


def test_stack_runs_the_controller_then_every_compute(stack):
    run = stack.run("stack1", "stack")
    assert run.rc == 0, run.where()
    controller_end = last(stack.times("controller1", "stack1", "end"))
    for compute in COMPUTES:
        assert first(stack.times(compute, "stack1", "begin")) > controller_end, compute
    # The controller ran every phase, each compute too.
    phases = ["source", "stack pre-install", "stack install", "stack post-config", "stack extra"]
    for node in NODES:
        assert [r[1] for r in stack.records(node, "stack1") if r[0] == "end"] == phases, node


def test_compute_nodes_stack_at_the_same_time(stack):
    run = stack.run("stack1", "stack")
    assert run.rc == 0, run.where()
    # Each compute waited in `stack install` until both were there.
    for compute in COMPUTES:
        assert [r for r in stack.records(compute, "stack1") if r[0] == "met"] == [("met", "2")], compute


def test_each_node_gets_its_own_local_conf(stack):
    run = stack.run("stack1", "stack")
    assert run.rc == 0, run.where()
    controller_ip = NODES["controller1"]["ip"]
    for node, spec in NODES.items():
        services = CONTROLLER_SERVICES if spec["group"] == "controller" else COMPUTE_SERVICES
        saw = [r[1] for r in stack.records(node, "stack1") if r[0] == "saw"]
        assert saw == ["NODE_NAME=%s HOST_IP=%s SERVICE_HOST=%s MYSQL_HOST=%s ENABLED_SERVICES=%s"
                       % (node, spec["ip"], controller_ip, controller_ip, services)], node
    with open(run.node_file("compute1", "local.conf")) as conf:
        text = conf.read()
    assert "SERVICE_HOST=%s\n" % controller_ip in text
    assert "VNCSERVER_LISTEN=$HOST_IP\n" in text
    with open(run.node_file("controller1", "local.conf")) as conf:
        assert "SERVICE_HOST=$HOST_IP\n" in conf.read()


def test_plugins_and_grants_reach_only_the_computes(stack):
    run = stack.run("stack1", "stack")
    assert run.rc == 0, run.where()
    for node, spec in NODES.items():
        with open(run.node_file(node, "stack-events.jsonl")) as lines:
            said = [json.loads(line).get("line") for line in lines]
        probed = "probe 25-probe stack install" in said
        assert probed == (spec["group"] == "compute"), node
        installed = os.path.join(stack.work, "nodes", node, "bin", "hookhost")
        assert os.access(installed, os.X_OK), node


def test_every_node_result_is_collected(stack):
    run = stack.run("stack1", "stack")
    assert run.rc == 0, run.where()
    for node in NODES:
        result = run.result(node, "stack")
        assert result["status"] == "ok" and result["changed"] is True, node
        with open(run.node_file(node, "journal.jsonl")) as lines:
            journal = [json.loads(line) for line in lines]
        assert journal[-1]["event"] == "run-end", node
        assert result["run_id"] in [r.get("run") for r in journal], node
        with open(run.node_file(node, "stack-events.jsonl")) as lines:
            events = [json.loads(line) for line in lines]
        assert events[0]["event"] == "run-start" and events[-1]["event"] == "summary", node
        assert events[-1]["status"] == "ok", node
        log = run.node_file(node, os.path.join("logs", os.path.basename(result["log"])))
        with open(log) as text:
            assert "stack finished" in text.read(), node
    summary = run.summary()
    assert sorted(summary) == sorted(NODES)
    assert all(row["status"] == "ok" for row in summary.values())


def test_unstack_runs_the_computes_then_the_controller(stack):
    assert stack.run("stack1", "stack").rc == 0
    run = stack.run("unstack1", "unstack")
    assert run.rc == 0, run.where()
    controller_begin = first(stack.times("controller1", "unstack1", "begin"))
    for compute in COMPUTES:
        assert last(stack.times(compute, "unstack1", "end")) < controller_begin, compute
        assert run.result(compute, "unstack")["status"] == "ok"
    assert os.path.isfile(run.node_file("controller1", "unstack-events.jsonl"))


def test_clean_runs_the_computes_then_the_controller(stack):
    assert stack.run("unstack1", "unstack").rc == 0
    run = stack.run("clean1", "clean")
    assert run.rc == 0, run.where()
    controller_begin = first(stack.times("controller1", "clean1", "begin"))
    for compute in COMPUTES:
        assert last(stack.times(compute, "clean1", "end")) < controller_begin, compute
    assert [r[1] for r in stack.records("controller1", "clean1") if r[0] == "end"] == [
        "source", "unstack", "clean"]


def test_check_mode_is_a_dry_run_on_every_node(stack):
    assert stack.run("stack1", "stack").rc == 0
    run = stack.run("check1", "stack", check=True)
    assert run.rc == 0, run.where()
    for node in NODES:
        result = run.result(node, "stack")
        assert "--dry-run" in result["cmd"], node
        assert result["changed"] is False, node
        # The hooks ran, but a dry run writes nothing outside the stack's
        # .hookhost/: each write to their record file was refused and is
        # reported as one the run would have made.
        assert stack.records(node, "check1") == [], node
        writes = [r for r in result["dry_run"] if "record.tsv" in r["command"]]
        assert {r["phase"] for r in writes} >= {"source", "stack extra"}, (node, result["dry_run"])


def test_a_failed_compute_is_reported_by_node_and_hook(stack):
    run = stack.run("fail-compute", "stack", fail_node="compute2")
    assert run.rc == 2, run.where()
    line = ("compute2: hookhost stack failed at hook 30-fail (bash) in `stack post-config`")
    assert line in run.output, run.where()
    # The play's recap counts the failure against compute2 only.
    assert recap(run.output, "compute2") == 1 and recap(run.output, "compute1") == 0
    failed = run.result("compute2", "stack")
    assert failed["failed_hook"]["hook"] == "30-fail"
    assert "failing on purpose on compute2" in failed["failed_hook"]["output_tail"]
    # compute2 stopped at the failure; compute1 finished, and both were collected.
    assert "stack extra" not in [r[1] for r in stack.records("compute2", "fail-compute") if r[0] == "begin"]
    assert run.result("compute1", "stack")["status"] == "ok"
    assert "stack extra" in [r[1] for r in stack.records("compute1", "fail-compute") if r[0] == "end"]
    with open(run.node_file("compute2", "journal.jsonl")) as lines:
        ends = [json.loads(line) for line in lines if '"run-end"' in line]
    assert ends[-1]["status"] == "failed"
    summary = run.summary()
    assert summary["compute2"]["status"] == "failed"
    assert summary["compute2"]["failed_hook"]["hook"] == "30-fail"
    assert summary["compute1"]["status"] == "ok" and summary["controller1"]["status"] == "ok"


def test_a_failed_controller_leaves_the_computes_alone(stack):
    run = stack.run("fail-controller", "stack", fail_node="controller1")
    assert run.rc == 2, run.where()
    assert ("controller1: hookhost stack failed at hook 30-fail (bash) in `stack post-config`"
            in run.output), run.where()
    for compute in COMPUTES:
        assert stack.records(compute, "fail-controller") == [], compute
        assert ("%s: not run: the controller controller1 did not finish" % compute) in run.output
    summary = run.summary()
    assert summary["controller1"]["status"] == "failed"
    assert summary["compute1"]["status"] == "not run"
