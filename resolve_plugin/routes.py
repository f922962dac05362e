"""Route selection: reach Resolve the best way the editor's edition allows, and say which.

:func:`select_route` tries, in order:

1. **injected**: we run inside Resolve (a menu script or its Console) and use the ``resolve``
   object Resolve gives us;
2. **external**: ``DaVinciResolveScript.scriptapp("Resolve")`` from our own process (Local, or
   Network with ``host``), with a bounded wait: Studio only;
3. **bridge**: an in-app bridge the editor started from Workspace > Scripts (Python, or Lua
   on editions whose Scripts menu lists no Python scripts: free 21.1 and later);
4. **file**: no live route: write FCP7 XML and FCPXML for File > Import > Timeline
   (:mod:`.file_route`).

The first live route gives the :class:`~.client.ResolveClient` (the same interface for every
route: push, read-back and proxy linking run unchanged). :class:`RouteResult` keeps every
attempt with its cause and fix, Resolve's product name and version, and which Python Resolve
uses for menu scripts, for ``montage-ai doctor`` and the panel (:meth:`RouteResult.lines`).

Verified against fakes only (a stand-in ``DaVinciResolveScript``, the fake Resolve behind the
bridges); the causes and fixes follow ``docs/resolve_api.md``.
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .bridge_client import START_BRIDGE, BridgeClient, BridgeUnavailable, connect_bridge
from .client import ProductInfo, ResolveClient
from .connect import connect, injected_resolve
from .direct import DirectClient
from .errors import ResolveError, ResolveNotConnected

log = logging.getLogger(__name__)


#: What to do for each cause an attempt can fail with.
FIXES = {
    "not-inside": "",
    "not-running": "start DaVinci Resolve and open a project, then try again",
    "refused": ("in Resolve: Preferences > System > General > External scripting using: Local (Network for another "
                "machine), then restart Resolve; the free edition never allows it: " + START_BRIDGE),
    "free-edition": ("the free edition of Resolve allows no external scripting: use the in-app bridge: "
                     + START_BRIDGE + " (free 21.1 and later list only Lua scripts: choose Montage AI Bridge (Lua))"),
    "timeout": ("Resolve did not answer in time: wait until a project is open and no dialog is up; for Network "
                "scripting check the host name and that the firewall lets the connection through"),
    "module-missing": ("install DaVinci Resolve on this machine, or set RESOLVE_SCRIPT_API and RESOLVE_SCRIPT_LIB "
                       "to its Developer/Scripting folder and fusionscript library"),
    "arch-mismatch": ("run Montage AI with a 64-bit Python of Resolve's CPU architecture (on Apple Silicon: an arm64 "
                      "Python, not one running under Rosetta), or use the in-app bridge: " + START_BRIDGE),
    "remote": "the in-app bridge serves this machine only (127.0.0.1): run Montage AI on Resolve's machine",
}


@dataclass(frozen=True)
class RouteAttempt:
    """One route tried: ``cause`` is empty when it worked."""

    route: str
    ok: bool
    reason: str
    cause: str = ""
    fix: str = ""


@dataclass(frozen=True)
class MenuPython:
    """The Python Resolve runs menu scripts with, and how we know (``source``)."""

    path: str
    version: str
    source: str
    note: str = ""

    def text(self) -> str:
        what = f"{self.path} ({self.version})" if self.version else (self.path or "none found")
        return f"{what}; {self.source}" + (f"; {self.note}" if self.note else "")


@dataclass(frozen=True)
class RouteResult:
    """The route in use and why the earlier ones failed."""

    client: ResolveClient | None
    route: str
    product: ProductInfo | None
    attempts: tuple[RouteAttempt, ...]
    menu_python: MenuPython
    notes: tuple[str, ...] = field(default=())

    @property
    def live(self) -> bool:
        return self.client is not None

    def lines(self) -> list[str]:
        """What ``doctor`` and the panel show: route, product, menu Python, every attempt."""
        what = f"{self.product.name} {self.product.version}" if self.product else "Resolve not reached"
        out = [f"route in use: {self.route} ({what})", f"Python for Resolve's menu scripts: {self.menu_python.text()}"]
        for a in self.attempts:
            if a.ok:
                out.append(f"{a.route}: ok: {a.reason}")
            else:
                out.append(f"{a.route}: no ({a.cause}): {a.reason}" + (f"; fix: {a.fix}" if a.fix else ""))
        out += [f"note: {n}" for n in self.notes]
        return out


def _edition_notes(product: ProductInfo | None, system: str) -> list[str]:
    if product is None:
        return []
    notes = []
    free = "studio" not in product.name.lower()
    try:
        major_minor = tuple(int(p) for p in product.version.split(".")[:2])
    except ValueError:
        major_minor = ()
    if free and major_minor >= (21, 1):
        notes.append(f"{product.name} {product.version}: the free edition lists only Lua scripts; the Python "
                     "bridge and launcher do not appear there: use Montage AI Bridge (Lua)")
    if free and system == "Linux":
        notes.append("the free edition on Linux does not decode H.264/H.265: use DNxHR or ProRes proxies")
    return notes


# ---------------------------------------------------------------------------- menu Python
def _python_version(path: str) -> str:
    try:
        done = subprocess.run([path, "-c", "import platform, sys; print('%d.%d.%d' % sys.version_info[:3], "
                               "platform.machine())"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _windows_pythons() -> list[tuple[tuple[int, ...], str]]:
    """Registered Python 3 installs (PEP 514) as ((major, minor), executable)."""
    try:
        import winreg  # type: ignore[import-not-found]
    except ImportError:
        return []
    found = []
    for hive in (winreg.HKEY_CURRENT_USER, winreg.HKEY_LOCAL_MACHINE):
        try:
            core = winreg.OpenKey(hive, r"Software\Python\PythonCore")
        except OSError:
            continue
        index = 0
        while True:
            try:
                tag = winreg.EnumKey(core, index)
            except OSError:
                break
            index += 1
            try:
                parts = tuple(int(p) for p in tag.split("-")[0].split(".")[:2])
                with winreg.OpenKey(core, tag + r"\InstallPath") as key:
                    exe = winreg.QueryValueEx(key, "ExecutablePath")[0]
            except (OSError, ValueError):
                continue
            if parts[:1] == (3,):
                found.append((parts, exe))
    return sorted(found)


def menu_python(system: str | None = None, env: Mapping[str, str] | None = None,
                bridge: BridgeClient | None = None, probe: Callable[[str], str] = _python_version,
                windows_pythons: Callable[[], list] = _windows_pythons) -> MenuPython:
    """Which Python Resolve uses for menu scripts: exact when a Python bridge runs (it
    reports its own), else where Resolve looks (reported): Windows the highest registered
    Python 3, macOS ``$PYTHON3HOME`` or ``/usr/local/bin/python3``."""
    system = system or platform.system()
    env = os.environ if env is None else env
    if bridge is not None and bridge.hello.kind == "python":
        return MenuPython(bridge.hello.executable, bridge.hello.python, "reported by the running Python bridge")
    if system == "Windows":
        pythons = windows_pythons()
        if not pythons:
            return MenuPython("", "", "Windows: no Python 3 is registered",
                              "install 64-bit Python 3 from python.org for the Python menu scripts")
        parts, exe = pythons[-1]
        return MenuPython(exe, probe(exe) or ".".join(map(str, parts)), "Windows: the highest registered Python 3 "
                          "(reported; a mismatched one crashes Resolve)")
    if system == "Darwin":
        home = env.get("PYTHON3HOME")
        path = os.path.join(home, "bin", "python3") if home else "/usr/local/bin/python3"
        source = "macOS: $PYTHON3HOME" if home else "macOS: /usr/local/bin/python3 (no $PYTHON3HOME)"
    else:
        path = (os.path.join(env["PYTHON3HOME"], "bin", "python3") if env.get("PYTHON3HOME")
                else shutil.which("python3", path=env.get("PATH")) or "")
        source = ("Linux: $PYTHON3HOME" if env.get("PYTHON3HOME") else
                  "Linux: python3 on PATH (not documented for Linux; start the Python bridge to see the exact one)")
    if not path or not os.path.exists(path):
        return MenuPython(path, "", source, "not found: Python menu scripts will not run; install Python 3 (64-bit)")
    return MenuPython(path, probe(path), source)


# ---------------------------------------------------------------------------- selection
def select_route(*, host: str | None = None, timeout_s: float = 5.0, bridge_file: str | None = None,
                 use_injected: bool = True, system: str | None = None, env: Mapping[str, str] | None = None,
                 running: Callable[[], bool | None] | None = None,
                 injected: Callable[[], Any] = injected_resolve) -> RouteResult:
    """The first live route, or the file route (see the module docstring).

    Parameters
    ----------
    host:
        Resolve on another machine (Network scripting); skips the injected object and the
        bridge (loopback only).
    timeout_s:
        Longest wait for the external route and for the bridge to answer.
    bridge_file:
        The bridge file (default: :func:`~.bridge.wire.default_bridge_file`).
    use_injected, system, env, running, injected:
        For tests and for callers that must not use an injected object.
    """
    system = system or platform.system()
    attempts: list[RouteAttempt] = []
    client: ResolveClient | None = None
    route = "file"
    bridge: BridgeClient | None = None

    # 1. inside Resolve
    obj = injected() if (use_injected and host is None) else None
    if obj is not None:
        client, route = DirectClient(obj), "injected"
        attempts.append(RouteAttempt("injected", True, "running inside Resolve (its resolve object)"))
    else:
        attempts.append(RouteAttempt("injected", False, "not started from Resolve's Scripts menu or Console",
                                     "not-inside", FIXES["not-inside"]))

    # 2. external scripting
    if client is None:
        try:
            client = connect(host=host, timeout_s=timeout_s, system=system, env=env, running=running,
                             use_injected=False)
            route = "external"
            attempts.append(RouteAttempt("external", True, "scriptapp('Resolve'" + (f", {host!r})" if host else ")")))
        except ResolveNotConnected as exc:
            cause = exc.cause or "refused"
            # Where the module was looked for (and which library has the wrong CPU) says what to fix.
            detail = ("; ".join(f for f in exc.findings if not f.startswith("set "))
                      if cause in ("arch-mismatch", "module-missing") else "")
            attempts.append(RouteAttempt("external", False, exc.summary + (f" ({detail})" if detail else ""), cause,
                                         FIXES.get(cause, "")))

    # 3. an in-app bridge
    if client is None:
        if host is not None:
            attempts.append(RouteAttempt("bridge", False, f"Resolve is on {host}", "remote", FIXES["remote"]))
        else:
            try:
                bridge = connect_bridge(bridge_file, timeout_s=timeout_s)
                client, route = bridge, bridge.route
                attempts.append(RouteAttempt("bridge", True, f"{bridge.hello.kind} bridge, process {bridge.hello.pid}"))
            except BridgeUnavailable as exc:
                attempts.append(RouteAttempt("bridge", False, exc.reason, exc.cause, exc.fix))

    product = None
    if client is not None:
        try:
            product = client.product()
        except ResolveError as exc:
            log.warning("Resolve answered but not its product name: %s", exc)
    if product is not None and "studio" not in product.name.lower():
        attempts = [RouteAttempt(a.route, a.ok, f"{product.name} {product.version} is the free edition", "free-edition",
                                 FIXES["free-edition"]) if a.route == "external" and a.cause == "refused" else a
                    for a in attempts]

    # 4. the file route is always there
    if client is None:
        attempts.append(RouteAttempt("file", True, "FCP7 XML and FCPXML for File > Import > Timeline; markers and "
                                     "proxy links travel only through a live route"))
    return RouteResult(client, route, product, tuple(attempts), menu_python(system, env, bridge),
                       tuple(_edition_notes(product, system)))
