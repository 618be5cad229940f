# SPDX-License-Identifier: Apache-2.0
"""Shared test set-up: the collection importable and findable as
ansible_collections.hookhost.stack (a symlink to this checkout's ansible/),
and the real hookhost binary."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

import pytest

COLLECTION = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(COLLECTION)


def _stage_collection():
    """<tmp>/ansible_collections/hookhost/stack -> ansible/; <tmp> goes on
    sys.path (the module's unit tests import it) and is returned (for
    ANSIBLE_COLLECTIONS_PATH)."""
    root = tempfile.mkdtemp(prefix="hookhost-collections-")
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    parent = os.path.join(root, "ansible_collections", "hookhost")
    os.makedirs(parent)
    os.symlink(COLLECTION, os.path.join(parent, "stack"))
    sys.path.insert(0, root)
    return root


COLLECTIONS_PATH = _stage_collection()


@pytest.fixture(scope="session")
def collections_path():
    return COLLECTIONS_PATH


@pytest.fixture(scope="session")
def hookhost_bin():
    """The real binary: $HOOKHOST_BIN, else the release build of this checkout."""
    path = os.environ.get("HOOKHOST_BIN") or os.path.join(REPO, "target", "release", "hookhost")
    if not os.access(path, os.X_OK):
        pytest.fail("no hookhost binary at %s: run `cargo build --release -p hookhost` "
                    "or set HOOKHOST_BIN" % path)
    return path
