"""``montage-ai doctor``: what the tools Montage AI uses are, and how to fix what is missing.

    montage-ai doctor [--ollama-host URL] [--model NAME] [--vision-model NAME]

Each check is a function ``check(args) -> Check`` in :data:`CHECKS`; add one with
:func:`register_check`. A check says its name, whether it passed, what it found and, when
it did not pass, the command or step that fixes it. The exit code is 1 when a required
check fails (ffmpeg, ffprobe), else 0: optional tools only enable features.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Callable

__all__ = ["Check", "CHECKS", "register_check", "run_checks", "add_commands"]


@dataclass(frozen=True)
class Check:
    """One check's outcome; ``fix`` is the command or step that makes it pass."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = False


CheckFn = Callable[[argparse.Namespace], Check]


def _version(cmd: list[str]) -> str | None:
    """First line of a tool's version output (stdout or stderr), or None when it fails."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (done.stdout or "").strip() or (done.stderr or "").strip()
    if done.returncode != 0 or not text:
        return None
    return text.splitlines()[0].split(" Copyright")[0].strip()


def _tool(name: str, version_args: list[str], purpose: str, fix: str, required: bool = False) -> Check:
    path = shutil.which(name)
    if path is None:
        return Check(name, False, f"not found on PATH ({purpose})", fix, required)
    version = _version([path, *version_args])
    if version is None:
        return Check(name, False, f"{path} does not run ({purpose})", fix, required)
    return Check(name, True, f"{version} ({path})", "", required)


def check_ffmpeg(args: argparse.Namespace) -> Check:
    return _tool("ffmpeg", ["-version"], "decoding and rendering",
                 "install ffmpeg: `apt-get install ffmpeg` or `brew install ffmpeg`", required=True)


def check_ffprobe(args: argparse.Namespace) -> Check:
    return _tool("ffprobe", ["-version"], "reading media",
                 "install ffmpeg (it ships ffprobe): `apt-get install ffmpeg` or `brew install ffmpeg`", required=True)


def check_xmllint(args: argparse.Namespace) -> Check:
    return _tool("xmllint", ["--version"], "optional: validates exported FCPXML against its DTD",
                 "`apt-get install libxml2-utils` (macOS ships it)")


def check_melt(args: argparse.Namespace) -> Check:
    return _tool("melt", ["--version"], "optional: MLT renders for cross-checking the preview",
                 "`apt-get install melt` or `brew install mlt`")


def check_ollama_server(args: argparse.Namespace) -> Check:
    """Ollama reachable, which models it has, and whether the planner's models are there."""
    from montage_ai.core.plan.ollama_config import OllamaSettings, check_ollama, pull_command

    settings = OllamaSettings.resolve(host=getattr(args, "ollama_host", None), model=getattr(args, "model", None),
                                      vision_model=getattr(args, "vision_model", None))
    status = check_ollama(settings)
    if not status.reachable:
        return Check("ollama", False, f"{status.error}; optional: the LLM story planner and captions",
                     "install Ollama (https://ollama.com/download), start it with `ollama serve`, "
                     f"then `{pull_command(settings.model)}`; or point --ollama-host / OLLAMA_HOST at it")
    present = ", ".join(status.models) if status.models else "no models"
    wanted = [settings.model] + ([settings.vision_model] if settings.vision_model else [])
    missing = [m for m in wanted if not status.has(m)]
    detail = f"reachable at {settings.host}; models: {present}"
    if missing:
        return Check("ollama", False, detail + f"; missing: {', '.join(missing)}",
                     " && ".join(pull_command(m) for m in missing))
    return Check("ollama", True, detail + f"; planner model {settings.model}"
                 + (f", vision model {settings.vision_model}" if settings.vision_model else ""))


def check_resolve(args: argparse.Namespace) -> Check:
    """Which route reaches DaVinci Resolve, its product and version, the Python Resolve uses
    for menu scripts, and why each earlier route failed with its fix (optional: the file route
    always works)."""
    from montage_ai.resolve_plugin.routes import select_route

    result = select_route(host=getattr(args, "resolve_host", None), timeout_s=getattr(args, "resolve_timeout", 2.0))
    try:
        detail = "\n".join(result.lines())
    finally:
        close = getattr(result.client, "close", None)
        if close is not None:
            close()
    if result.live:
        return Check("resolve", True, detail)
    fixes = [a.fix for a in result.attempts if not a.ok and a.fix]
    return Check("resolve", False, detail + "; optional: the cut can always be imported as a file",
                 fixes[0] if fixes else "")


#: The checks ``doctor`` runs, in order. Append with :func:`register_check`.
CHECKS: list[CheckFn] = [check_ffmpeg, check_ffprobe, check_xmllint, check_melt, check_ollama_server]


def register_check(fn: CheckFn) -> CheckFn:
    """Add a check to :data:`CHECKS` (usable as a decorator)."""
    if fn not in CHECKS:
        CHECKS.append(fn)
    return fn


register_check(check_resolve)


def run_checks(args: argparse.Namespace, checks: list[CheckFn] | None = None) -> list[Check]:
    """Run every check; a check that raises is reported as failed, the others still run."""
    out = []
    for fn in CHECKS if checks is None else checks:
        try:
            out.append(fn(args))
        except Exception as exc:  # a broken check must not hide the others
            out.append(Check(getattr(fn, "__name__", "check"), False, f"the check failed: {exc}"))
    return out


def cmd_doctor(args: argparse.Namespace) -> int:
    results = run_checks(args)
    width = max(len(r.name) for r in results)
    for r in results:
        mark = "ok  " if r.ok else ("FAIL" if r.required else "--  ")
        detail = r.detail.replace("\n", "\n     " + " " * width + "  ")
        print(f"{mark} {r.name:{width}s}  {detail}")
        if not r.ok and r.fix:
            print(f"     {'':{width}s}  fix: {r.fix}")
    failed = [r.name for r in results if r.required and not r.ok]
    if failed:
        print(f"required tools missing: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("doctor", help="check ffmpeg, ffprobe, xmllint, melt, Ollama and the route into DaVinci Resolve, "
                                      "and say how to fix them")
    add_ollama_options(d)
    d.add_argument("--resolve-host", default=None, metavar="HOST",
                   help="Resolve on another machine (Network scripting); default: this machine")
    d.add_argument("--resolve-timeout", type=float, default=2.0, metavar="S", help="longest wait for Resolve (default 2)")
    d.set_defaults(func=cmd_doctor)


def add_ollama_options(parser: argparse.ArgumentParser) -> None:
    """``--ollama-host``, ``--model``, ``--vision-model`` (shared by ``cut`` and ``doctor``)."""
    parser.add_argument("--ollama-host", default=None, metavar="URL",
                        help="Ollama server (default: $OLLAMA_HOST or http://127.0.0.1:11434)")
    parser.add_argument("--model", default=None, metavar="NAME",
                        help="Ollama model that plans the story (default: $MONTAGE_AI_OLLAMA_MODEL or llama3.2:3b)")
    parser.add_argument("--vision-model", default=None, metavar="NAME",
                        help="Ollama vision model that captions each shot's keyframe, e.g. moondream "
                             "(default: $MONTAGE_AI_VISION_MODEL; none: no captions)")
