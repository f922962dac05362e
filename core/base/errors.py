"""Exceptions raised by the engine.

Every error that concerns a file names the file and the reason, so the CLI and the
panel can show it as is and carry on with the other files.
"""

from __future__ import annotations

import os


class MontageError(Exception):
    """Base class of every error the engine raises on purpose."""


class MediaError(MontageError):
    """A media file cannot be used: unreadable, empty, truncated, wrong kind.

    ``path`` is the file and ``reason`` a short sentence an editor can act on.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self):  # survive pickling across process pools
        return (type(self), (self.path, self.reason))


class AnalysisError(MediaError):
    """Decoding or analysing a readable file failed part way."""


class Cancelled(MontageError):
    """The user cancelled a long operation."""


class ToolMissingError(MontageError):
    """A required external program (ffmpeg, ffprobe) is not installed."""


class NoUsableFootage(MontageError):
    """None of the footage a job was given can be used (none found, or none analysed)."""
