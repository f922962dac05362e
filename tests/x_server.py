"""A real X server for the panel's tests and benchmarks: Xvfb on a free display, Qt pointed at it.

One start-up for ``tests/test_panel.py`` (its session fixture, shared by ``test_panel_beats.py``)
and ``bench/panel_latency.py`` / ``bench/panel_beats.py`` (which put this folder on ``sys.path``).
Xvfb picks a free display itself (``-displayfd``) and ends with its last client (``-terminate``),
so a crashed run leaves no server behind. Where there is no X server to have (Xvfb not
installed, ``MONTAGE_QT_PLATFORM=offscreen``, a QApplication already made, Xvfb not up within
the deadline) Qt renders offscreen and :attr:`XServer.why` says why.

    server = start_xvfb()
    try:
        ...                    # make the QApplication and the windows
    finally:
        server.stop()
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from dataclasses import dataclass, field

__all__ = ["XServer", "start_xvfb"]

_ENV = ("DISPLAY", "QT_QPA_PLATFORM")


@dataclass
class XServer:
    """The Xvfb process and its display (``":99"``), or neither and why (Qt offscreen)."""

    proc: subprocess.Popen | None
    display: str | None
    why: str = ""
    _saved: dict[str, str | None] = field(default_factory=dict, repr=False)

    def describe(self) -> str:
        """``"Xvfb :99 (xcb, no OpenGL)"`` or ``"offscreen (Xvfb is not installed ...)"``."""
        if self.display is None:
            return f"offscreen ({self.why})"
        gl = "OpenGL" if os.environ.get("QT_XCB_GL_INTEGRATION") != "none" else "no OpenGL"
        return f"Xvfb {self.display} (xcb, {gl})"

    def stop(self, timeout_s: float = 5.0) -> None:
        """Put DISPLAY and QT_QPA_PLATFORM back as they were and end the server."""
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved = {}
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout_s)
        self.proc = None


def _why_offscreen() -> str:
    if os.environ.get("MONTAGE_QT_PLATFORM") == "offscreen":
        return "MONTAGE_QT_PLATFORM=offscreen asks for offscreen"
    if shutil.which("Xvfb") is None:
        return "Xvfb is not installed (installers/system_deps.sh installs it)"
    try:
        from PySide6.QtWidgets import QApplication
    except ImportError:
        return ""
    return "a QApplication was made before the X server" if QApplication.instance() is not None else ""


def _display_number(read_fd: int, deadline: float) -> bytes:
    """What Xvfb writes on its -displayfd pipe (the display number and a newline), by ``deadline``."""
    number = b""
    while time.monotonic() < deadline and not number.endswith(b"\n"):
        if select.select([read_fd], [], [], 0.5)[0]:
            chunk = os.read(read_fd, 16)
            if not chunk:
                break
            number += chunk
    return number


def start_xvfb(*, timeout_s: float = 15.0, screen: str = "1600x1000x24", raster_only: bool = True) -> XServer:
    """Start Xvfb and point Qt at it (DISPLAY, QT_QPA_PLATFORM=xcb), before any QApplication.

    ``raster_only`` paints without OpenGL, as ``run_panel`` does (Xvfb's software GL is slow and
    crash-prone). When no server can be had, QT_QPA_PLATFORM defaults to ``offscreen`` and the
    result's ``display`` is None.
    """
    why = _why_offscreen()
    if why:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        return XServer(None, None, why)
    read, write = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", screen, "-nolisten", "tcp",
                             "-terminate"], pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        number = _display_number(read, time.monotonic() + timeout_s)
    finally:
        os.close(read)
    if not number.strip():
        proc.kill()
        proc.wait(timeout_s)
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        return XServer(None, None, f"Xvfb did not start within {timeout_s:g} s")
    display = f":{number.decode().strip()}"
    server = XServer(proc, display, _saved={k: os.environ.get(k) for k in _ENV})
    os.environ["DISPLAY"], os.environ["QT_QPA_PLATFORM"] = display, "xcb"
    if raster_only:
        from montage_ai.ui.qt.panel import use_raster_only

        use_raster_only()
    return server
