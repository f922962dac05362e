"""Small types that cross stages: a shot's key and a failure.

>>> key = ShotKey("/media/A001.mov", 2)
>>> key == ("/media/A001.mov", 2), key.path, key.shot_index
(True, '/media/A001.mov', 2)
>>> str(Failure("/media/B.mov", "footage", "no video stream"))
'/media/B.mov: no video stream'
>>> str(Failure("/media/B.mov", "footage", "/media/B.mov: truncated"))
'/media/B.mov: truncated'
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable, NamedTuple


class ShotKey(NamedTuple):
    """A shot named by its file and its index in that file's analysis. It is a plain tuple
    too: ``(path, index)`` built anywhere finds the same dict entry."""

    path: str
    shot_index: int


@dataclass(frozen=True)
class Failure:
    """One file a stage could not use: the file, the stage (a name of
    :mod:`~montage_ai.core.base.stages`) and a short reason an editor can act on."""

    path: str
    stage: str
    reason: str

    def __str__(self) -> str:
        r"""One line naming the file once (engine reasons often start with the path already);
        a line break, control character or non-UTF-8 byte in a name shows as a visible escape,
        so a crafted name can never split or forge a line.

        >>> str(Failure("/m/a\nb.mov", "footage", "/m/a\nb.mov: truncated"))
        '/m/a\\nb.mov: truncated'
        """
        from montage_ai.core.base.fileio import display_name

        text = self.reason if self.path and self.path in self.reason else f"{self.path}: {self.reason}"
        return display_name(text)

    def short(self) -> str:
        """The same line with the file's name only (for a list where the path is a tooltip).

        >>> Failure("/media/B.mov", "footage", "/media/B.mov: truncated").short()
        'B.mov: truncated'
        """
        from montage_ai.core.base.fileio import display_name

        name = os.path.basename(self.path)
        text = self.reason.replace(self.path, name) if self.path and self.path in self.reason else f"{name}: {self.reason}"
        return display_name(text)

    @classmethod
    def of(cls, stage: str, pairs: Iterable[tuple[str, str]]) -> tuple["Failure", ...]:
        """Failures of ``stage`` from the engine's ``(path, reason)`` pairs."""
        return tuple(cls(path, stage, reason) for path, reason in pairs)


def format_failures(failures: Iterable[Failure], prefix: str = "skipped: ") -> list[str]:
    """One line per failure, each starting with ``prefix``."""
    return [f"{prefix}{f}" for f in failures]
