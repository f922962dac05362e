"""Find Resolve: the ``resolve`` object it injects, else ``DaVinciResolveScript.scriptapp``.

:func:`connect` returns a :class:`~.direct.DirectClient`. In order:

1. A script started by Resolve (Workspace > Scripts) or typed in its Console sees a global
   ``resolve`` (older versions: ``app.GetResolve()``) in ``__main__``: used when present.
2. Otherwise ``DaVinciResolveScript`` is loaded from ``$RESOLVE_SCRIPT_API/Modules``, then
   from each OS's default install (:func:`script_locations`), with ``RESOLVE_SCRIPT_LIB``
   pointing at ``fusionscript`` so the module finds it, and ``scriptapp("Resolve")`` is
   called with a bounded wait.

When that fails, :class:`~.errors.ResolveNotConnected` carries a diagnosis: where we looked
for the module, whether ``fusionscript`` is built for another CPU than this Python, whether
a Resolve process runs, and what to change (Preferences > System > General > External
scripting using: Local; the free edition allows no external scripting, so start Montage AI
from Workspace > Scripts instead).

Paths are those documented by Blackmagic (``docs/resolve_api.md``); verified
only against fakes here (a stand-in ``DaVinciResolveScript`` module and
``tests/fake_resolve.py``).
"""

from __future__ import annotations

import importlib.util
import logging
import ntpath
import os
import platform
import posixpath
import struct
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .direct import DirectClient
from .errors import ResolveNotConnected

log = logging.getLogger(__name__)

ENV_API = "RESOLVE_SCRIPT_API"
ENV_LIB = "RESOLVE_SCRIPT_LIB"
MODULE = "DaVinciResolveScript"


@dataclass(frozen=True)
class ScriptLocation:
    """Where ``DaVinciResolveScript`` may live: ``api`` (the module is in ``api/Modules``),
    ``lib`` (the ``fusionscript`` library it loads) and where this pair came from."""

    api: str
    lib: str
    origin: str

    def module_dir(self, system: str) -> str:
        return (ntpath if system == "Windows" else posixpath).join(self.api, "Modules")


def script_locations(system: str | None = None, env: Mapping[str, str] | None = None) -> list[ScriptLocation]:
    """The places to look, environment first, then the documented defaults for ``system``
    (``platform.system()``: ``"Darwin"``, ``"Windows"``, ``"Linux"``)."""
    system = system or platform.system()
    env = os.environ if env is None else env
    out = []
    if env.get(ENV_API):
        out.append(ScriptLocation(env[ENV_API], env.get(ENV_LIB, ""), f"${ENV_API}"))
    if system == "Darwin":
        out.append(ScriptLocation(
            "/Library/Application Support/Blackmagic Design/DaVinci Resolve/Developer/Scripting",
            "/Applications/DaVinci Resolve/DaVinci Resolve.app/Contents/Libraries/Fusion/fusionscript.so", "macOS default"))
    elif system == "Windows":
        program_data = env.get("PROGRAMDATA", r"C:\ProgramData")
        program_files = env.get("PROGRAMFILES", r"C:\Program Files")
        out.append(ScriptLocation(
            ntpath.join(program_data, "Blackmagic Design", "DaVinci Resolve", "Support", "Developer", "Scripting"),
            ntpath.join(program_files, "Blackmagic Design", "DaVinci Resolve", "fusionscript.dll"), "Windows default"))
    else:
        out.append(ScriptLocation("/opt/resolve/Developer/Scripting", "/opt/resolve/libs/Fusion/fusionscript.so",
                                  "Linux default"))
        out.append(ScriptLocation("/home/resolve/Developer/Scripting", "/home/resolve/libs/Fusion/fusionscript.so",
                                  "Linux ISO install"))
    if env.get(ENV_LIB) and out and out[0].origin != f"${ENV_API}":
        out = [ScriptLocation(loc.api, env[ENV_LIB], loc.origin + f" with ${ENV_LIB}") for loc in out]
    return out


# ---------------------------------------------------------------------------- architecture
_ELF = {0x3E: "x86_64", 0xB7: "arm64", 0x03: "x86", 0x28: "arm"}
_MACHO = {0x01000007: "x86_64", 0x0100000C: "arm64", 7: "x86", 12: "arm"}
_PE = {0x8664: "x86_64", 0xAA64: "arm64", 0x14C: "x86"}


def library_architectures(path: str) -> set[str]:
    """CPU architectures a shared library (ELF, Mach-O, universal, PE/DLL) is built for;
    empty when it cannot be read or is of another kind."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return set()
    if head[:4] == b"\x7fELF" and len(head) >= 20:
        order = "<" if head[5] == 1 else ">"
        return {_ELF.get(struct.unpack(order + "H", head[18:20])[0], "other")}
    if head[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe") and len(head) >= 8:
        return {_MACHO.get(struct.unpack("<I", head[4:8])[0], "other")}
    if head[:4] == b"\xca\xfe\xba\xbe" and len(head) >= 8:  # universal binary, big-endian header
        count = struct.unpack(">I", head[4:8])[0]
        return {_MACHO.get(struct.unpack(">I", head[8 + 20 * i: 12 + 20 * i])[0], "other")
                for i in range(min(count, 8)) if 12 + 20 * i <= len(head)}
    if head[:2] == b"MZ" and len(head) >= 0x40:
        offset = struct.unpack("<I", head[0x3C:0x40])[0]
        if head[offset:offset + 4] == b"PE\0\0" and len(head) >= offset + 6:
            return {_PE.get(struct.unpack("<H", head[offset + 4:offset + 6])[0], "other")}
    return set()


def python_architecture() -> str:
    """This interpreter's CPU architecture in the names :func:`library_architectures` uses."""
    machine = platform.machine().lower()
    if sys.maxsize <= 2**32:
        return "x86" if machine in ("x86_64", "amd64", "i386", "i686", "x86") else "arm"
    return {"amd64": "x86_64", "x64": "x86_64", "aarch64": "arm64"}.get(machine, machine)


# ---------------------------------------------------------------------------- processes
def resolve_running(system: str | None = None) -> bool | None:
    """Whether a Resolve process runs here (``None`` when it cannot be told)."""
    system = system or platform.system()
    try:
        if system == "Windows":
            out = subprocess.run(["tasklist", "/FI", "IMAGENAME eq Resolve.exe", "/NH"], capture_output=True,
                                 text=True, timeout=5).stdout
            return "resolve.exe" in out.lower()
        if os.path.isdir("/proc"):
            for pid in os.listdir("/proc"):
                if pid.isdigit():
                    try:
                        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as f:
                            if f.read().strip().lower() == "resolve":
                                return True
                    except OSError:
                        continue
            return False
        out = subprocess.run(["ps", "-A", "-o", "comm="], capture_output=True, text=True, timeout=5).stdout
        return any(os.path.basename(line.strip()).lower() == "resolve" for line in out.splitlines())
    except (OSError, subprocess.SubprocessError):
        return None


# ---------------------------------------------------------------------------- module
def injected_resolve() -> Any | None:
    """The ``resolve`` object Resolve put into ``__main__`` (a menu script, the Console)."""
    main = sys.modules.get("__main__")
    obj = getattr(main, "resolve", None)
    if obj is not None:
        return obj
    app = getattr(main, "app", None)
    if app is not None and hasattr(app, "GetResolve"):
        try:
            return app.GetResolve()
        except Exception:  # noqa: BLE001 - a stale app object from an older Resolve
            return None
    return None


def load_module(system: str | None = None, env: Mapping[str, str] | None = None) -> tuple[Any | None, list[str]]:
    """Load ``DaVinciResolveScript``; ``(module or None, findings)`` where the findings say
    every place looked at and what went wrong there."""
    system = system or platform.system()
    env = os.environ if env is None else env
    if MODULE in sys.modules:
        return sys.modules[MODULE], []
    findings: list[str] = []
    python_arch = python_architecture()
    for loc in script_locations(system, env):
        folder = loc.module_dir(system)
        path = (ntpath if system == "Windows" else posixpath).join(folder, MODULE + ".py")
        if not os.path.isfile(path):
            findings.append(f"{MODULE}.py is not in {folder} ({loc.origin})")
            continue
        archs = library_architectures(loc.lib) if loc.lib else set()
        if archs and python_arch not in archs:
            findings.append(f"{loc.lib} is built for {', '.join(sorted(archs))}, this Python "
                            f"({sys.executable}, {platform.python_version()}) for {python_arch}: use a "
                            f"{'/'.join(sorted(archs))} Python 3 (64-bit)")
            continue
        if loc.lib and not os.environ.get(ENV_LIB):
            os.environ[ENV_LIB] = loc.lib  # the module reads it to find fusionscript
        if folder not in sys.path:
            sys.path.append(folder)
        try:
            spec = importlib.util.spec_from_file_location(MODULE, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[MODULE] = module
            spec.loader.exec_module(module)
        except (ImportError, OSError, SystemExit) as exc:  # the module calls sys.exit() when fusionscript fails
            sys.modules.pop(MODULE, None)
            findings.append(f"{path} ({loc.origin}) did not load: {type(exc).__name__} {exc}; its library "
                            f"{loc.lib or '(unset)'} must exist and match Python {platform.python_version()} "
                            f"{python_arch}")
            continue
        if not hasattr(module, "scriptapp"):
            sys.modules.pop(MODULE, None)
            findings.append(f"{path} has no scriptapp(): not Resolve's scripting module")
            continue
        return module, findings
    return None, findings


def _bounded(call: Callable[[], Any], timeout_s: float) -> tuple[bool, Any]:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True, name="resolve-scriptapp")
    thread.start()
    thread.join(timeout_s)
    return (not thread.is_alive(), result[0] if result else None)


def connect(*, timeout_s: float = 10.0, host: str | None = None, system: str | None = None,
            env: Mapping[str, str] | None = None,
            running: Callable[[], bool | None] | None = None, use_injected: bool = True) -> DirectClient:
    """A client for the running Resolve (see the module docstring).

    Parameters
    ----------
    timeout_s:
        Longest wait for ``scriptapp`` to answer.
    host:
        Another machine's Resolve (its Preferences set "External scripting using: Network").
    system, env, running:
        The OS, environment and process check to use (tests).
    use_injected:
        False: only the external ``scriptapp`` route (route selection tries the injected
        object itself).

    Raises
    ------
    ResolveNotConnected
        With a diagnosis naming what was tried and what to change.
    """
    if host is None and use_injected:
        injected = injected_resolve()
        if injected is not None:
            log.info("using the resolve object Resolve injected")
            return DirectClient(injected)
    module, findings = load_module(system, env)
    if module is None:
        mismatch = any(" is built for " in line for line in findings)
        raise ResolveNotConnected(
            f"cannot find Resolve's scripting module {MODULE}" if not mismatch else
            "Resolve's scripting library is built for another CPU than this Python", findings + [
                f"set {ENV_API} to Resolve's Developer/Scripting folder and {ENV_LIB} to its fusionscript library, "
                "or start Montage AI from Resolve: Workspace > Scripts > Utility > Montage AI"],
            cause="arch-mismatch" if mismatch else "module-missing")
    args = ("Resolve",) if host is None else ("Resolve", host)
    finished, resolve = _bounded(lambda: module.scriptapp(*args), timeout_s)
    if resolve is not None:
        return DirectClient(resolve)
    lines = list(findings)
    if not finished:
        lines.append(f"scriptapp{args!r} did not answer within {timeout_s:g} s")
    is_running = (running or (lambda: resolve_running(system)))() if host is None else None
    cause = "timeout" if not finished else "refused"
    if is_running is False:
        cause = "not-running"
        return_summary = "DaVinci Resolve is not running"
        lines.append("start DaVinci Resolve and open a project, then try again")
    else:
        return_summary = ("DaVinci Resolve did not accept the connection" if is_running
                          else "no answer from DaVinci Resolve (it may not be running)")
        lines += [
            "in Resolve: Preferences > System > General > External scripting using: Local "
            "(Network to connect from another machine), then restart Resolve",
            "the free edition of Resolve allows no external scripting: start Montage AI inside Resolve from "
            "Workspace > Scripts > Utility > Montage AI (install it with `montage-ai install-resolve`)",
            f"this Python is {platform.python_version()} {python_architecture()} ({sys.executable}); Resolve needs "
            "a 64-bit Python 3 of its own architecture",
        ]
    raise ResolveNotConnected(return_summary, lines, cause=cause)
