"""Run the Python bridge script as Resolve would, with the fake Resolve of the test process.

    python tests/run_python_bridge.py BRIDGE_SCRIPT

The script runs as ``__main__`` with a global ``resolve`` (as Resolve injects it): a
:class:`fake_resolve_remote.Proxy` whose calls go over this process's stdin/stdout to the
test's :class:`fake_resolve_remote.FakeHost`. Whatever the bridge prints goes to stderr.
"""

import os
import runpy
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_resolve_remote import proxy_resolve  # noqa: E402

calls_out = os.fdopen(os.dup(1), "wb")
answers_in = os.fdopen(os.dup(0), "rb")
os.dup2(2, 1)  # prints (Resolve's Console) go to stderr, the channel stays clean
devnull = os.open(os.devnull, os.O_RDONLY)
os.dup2(devnull, 0)
sys.path.pop(0)  # the bridge must not see the tests' modules
runpy.run_path(sys.argv[1], init_globals={"resolve": proxy_resolve(calls_out, answers_in)}, run_name="__main__")
