"""py-greeter: a hookhost extras.d hook written in Python.

Built into a WebAssembly component with componentize-py against
wit/v0.1.0 (world `hook-plugin`) by scripts/build-python-plugin.sh; its
manifest py-greeter.toml requests exactly what it uses below.

- source: reads PY_PLUGIN_WHO (a bash hook or local.conf sets it), sets
  PY_PLUGIN_GREETING for the hooks after it, asks whether the `py-greeter`
  service is enabled and echoes a summary.
- stack install: reads its banner from the granted `files` directory
  (/stack/files/py-greeter.txt) and tries each guest path listed in
  PY_PLUGIN_PROBE (colon-separated), reporting what the sandbox refused.
- stack post-config: writes the greeting to /data/greeting.txt, its private
  data directory.
- stack extra: warns once per run that it is only an example.
- clean: removes what it wrote.
"""

import os

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import host, types

SERVICE = "py-greeter"
DATA_FILE = "/data/greeting.txt"
BANNER_FILE = "/stack/files/py-greeter.txt"


class Hook(exports.Hook):
    """The hook: one instance lives for the whole run."""

    def __init__(self) -> None:
        self.greeting = ""
        self.warned = False

    def run(self, phase: types.Phase) -> None:
        if isinstance(phase, types.Phase_Source):
            self.source()
        elif isinstance(phase, types.Phase_Stack):
            self.stack(phase.value)
        elif isinstance(phase, types.Phase_Clean):
            self.clean()

    def source(self) -> None:
        who = host.get_var("PY_PLUGIN_WHO") or "nobody"
        self.greeting = f"Hello, {who}, from Python"
        try:
            host.set_var("PY_PLUGIN_GREETING", self.greeting)
        except Err as refused:
            raise Err(f"could not set PY_PLUGIN_GREETING: {refused.value}")
        state = "enabled" if host.is_service_enabled([SERVICE]) else "disabled"
        host.echo_summary(f"py-greeter: {self.greeting!r}; service {SERVICE} is {state}")

    def stack(self, step: types.StackStep) -> None:
        if step == types.StackStep.INSTALL:
            self.read_banner()
            self.probe()
        elif step == types.StackStep.POST_CONFIG:
            with open(DATA_FILE, "w", encoding="utf-8") as out:
                out.write(self.greeting + "\n")
            host.echo_summary(f"py-greeter: wrote {DATA_FILE}")
        elif step == types.StackStep.EXTRA and not self.warned:
            self.warned = True
            host.warn("py-greeter is an example plugin; it configures nothing")

    def read_banner(self) -> None:
        try:
            with open(BANNER_FILE, encoding="utf-8") as banner:
                host.echo_summary(f"py-greeter: banner: {banner.readline().strip()}")
        except OSError as error:
            host.echo_summary(f"py-greeter: no banner ({error.strerror})")

    def probe(self) -> None:
        """Try to read each path in PY_PLUGIN_PROBE; say what was refused."""
        for path in filter(None, (host.get_var("PY_PLUGIN_PROBE") or "").split(":")):
            try:
                with open(path, "rb") as probed:
                    size = len(probed.read())
                host.echo_summary(f"py-greeter: read {path}: {size} bytes")
            except OSError as error:
                host.echo_summary(f"py-greeter: read {path}: refused ({error.strerror})")

    def clean(self) -> None:
        if os.path.exists(DATA_FILE):
            os.remove(DATA_FILE)
            host.echo_summary(f"py-greeter: removed {DATA_FILE}")
