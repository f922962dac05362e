"""Run an ffmpeg that writes ``-progress pipe:1``: report its ``frame=`` lines as a fraction,
kill it when the caller cancels, and keep the tail of its error output for the message.

Used by every long ffmpeg job we start (the preview render, proxy encodes).
"""

from __future__ import annotations

import logging
import queue
import subprocess
import threading
from collections import deque
from typing import Callable, Sequence

from montage_ai.core.base.errors import Cancelled

log = logging.getLogger(__name__)


def run_ffmpeg_progress(cmd: Sequence[str], total_frames: int, *, progress: Callable[[float], None] | None = None,
                        cancel: Callable[[], bool] | None = None, cancelled: str = "cancelled") -> tuple[int, list[str]]:
    """Run ``cmd`` (which must include ``-progress pipe:1``) to the end.

    Parameters
    ----------
    total_frames:
        Frames the job writes; ``frame=n`` is reported as ``n / total_frames`` (at most 1).
    progress, cancel:
        ``progress(fraction)``; ``cancel()`` is polled ten times a second: when it returns
        True ffmpeg is killed and :class:`~montage_ai.core.base.errors.Cancelled` raised with the
        message ``cancelled``.

    Returns
    -------
    (returncode, the last lines ffmpeg wrote to stderr)
    """
    log.debug("ffmpeg: %s", " ".join(cmd))
    proc = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    frames: queue.Queue[int | None] = queue.Queue()
    errors: deque[str] = deque(maxlen=20)

    def read_progress() -> None:
        for raw in proc.stdout:
            if raw.startswith(b"frame="):
                try:
                    frames.put(int(raw[6:].strip() or 0))
                except ValueError:
                    pass
        frames.put(None)

    def read_errors() -> None:
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").strip()
            if line:
                errors.append(line)

    readers = [threading.Thread(target=read_progress, daemon=True), threading.Thread(target=read_errors, daemon=True)]
    for t in readers:
        t.start()
    try:
        while True:
            if cancel is not None and cancel():
                raise Cancelled(cancelled)
            try:
                n = frames.get(timeout=0.1)
            except queue.Empty:
                continue
            if n is None:
                break
            if progress is not None and total_frames:
                progress(min(n / total_frames, 1.0))
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for t in readers:
            t.join(timeout=5)
        proc.stdout.close()
        proc.stderr.close()
    return proc.returncode, list(errors)
