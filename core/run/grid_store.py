"""The editor's beat-grid corrections, kept per song until reset.

A correction is the editor's data, not a cache entry: it lives in the user *data* folder
(``$MONTAGE_AI_DATA`` or platformdirs' ``user_data_dir``), so clearing the analysis cache
never loses it. Each song has one JSON file, named by the song's content (size and the hash
of its first and last megabyte, :class:`~montage_ai.core.run.cache.FileIdentity`; not the
modification time, so a touched or copied song keeps its grid), written to a temporary file
and renamed into place.

The file holds the corrected grid itself (beats, downbeats, metre) and the corrections that
made it, in order. Storing the grid and not only the steps keeps what the editor approved
even when a later version of the tracker reads the song differently.

>>> store = GridStore(tmp_path)                                             # doctest: +SKIP
>>> store.correct("song.wav", analysis, [Correction("half")])                # doctest: +SKIP
>>> corrected_analysis("song.wav", analysis, store).tempo_bpm               # doctest: +SKIP
84.1
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import platformdirs

from montage_ai.core.analysis.beat_grid import BeatGrid, Correction, apply_corrections, apply_grid
from montage_ai.core.base.errors import MediaError
from montage_ai.core.base.fileio import write_atomic
from montage_ai.core.run.cache import FileIdentity

log = logging.getLogger(__name__)

GRID_FORMAT = 1
_FOLDER = "beat-grids"


def default_data_dir() -> Path:
    """``$MONTAGE_AI_DATA`` or the platform's user data folder for montage-ai."""
    env = os.environ.get("MONTAGE_AI_DATA")
    return Path(env) if env else Path(platformdirs.user_data_dir("montage-ai", "Montage AI"))


@dataclass(frozen=True)
class StoredGrid:
    """A song's kept grid: the corrected grid, the corrections that made it, when."""

    path: str
    grid: BeatGrid
    corrections: tuple[Correction, ...]
    saved: str

    def to_dict(self) -> dict[str, Any]:
        return {"format": GRID_FORMAT, "path": self.path, "saved": self.saved, "grid": self.grid.to_dict(),
                "corrections": [c.to_dict() for c in self.corrections]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "StoredGrid":
        if not isinstance(d, dict) or d.get("format") != GRID_FORMAT:
            raise ValueError("not a beat-grid file of this version")
        return cls(str(d["path"]), BeatGrid.from_dict(d["grid"]),
                   tuple(Correction.from_dict(c) for c in d["corrections"]), str(d.get("saved", "")))

    def labels(self) -> str:
        return ", ".join(c.label() for c in self.corrections)


def song_key(path: str | os.PathLike[str]) -> str:
    """The name a song's grid is kept under: its content, not its path or mtime."""
    try:
        ident = FileIdentity.of(path)
    except FileNotFoundError:
        raise MediaError(os.fspath(path), "file does not exist") from None
    except IsADirectoryError:
        raise MediaError(os.fspath(path), "is a folder, not a music file") from None
    except OSError as exc:
        raise MediaError(os.fspath(path), f"cannot be read: {exc.strerror or exc}") from None
    material = f"{ident.size}:{ident.head_tail_hash}".encode()
    return hashlib.blake2b(material, digest_size=16).hexdigest()


class GridStore:
    """A folder of kept beat grids, one JSON file per song."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = (Path(root) if root is not None else default_data_dir()) / _FOLDER

    def file_for(self, path: str | os.PathLike[str]) -> Path:
        return self.root / f"{song_key(path)}.json"

    def get(self, path: str | os.PathLike[str]) -> StoredGrid | None:
        """The kept grid of a song, or None. A damaged file is left alone (it is the editor's)
        and reported; the song then uses the tracked grid."""
        file = self.file_for(path)
        try:
            with open(file, "rb") as f:
                return StoredGrid.from_dict(json.loads(f.read()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            log.warning("%s: the kept beat grid of %s cannot be read (%s); using the tracked grid", file,
                        os.fspath(path), exc)
            return None

    def put(self, stored: StoredGrid) -> Path:
        """Keep a grid (atomically: :func:`~montage_ai.core.base.fileio.write_atomic`; the last writer wins)."""
        file = self.file_for(stored.path)
        file.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(file, json.dumps(stored.to_dict(), indent=1), overwrite=True)
        return file

    def reset(self, path: str | os.PathLike[str]) -> bool:
        """Forget a song's corrections; True when there were some."""
        try:
            self.file_for(path).unlink()
            return True
        except FileNotFoundError:
            return False

    def correct(self, path: str | os.PathLike[str], tracked: Any, corrections: Sequence[Correction]) -> StoredGrid:
        """Apply ``corrections`` on top of the song's current grid (the kept one, else the
        tracked one of ``tracked``, a MusicAnalysis) and keep the result."""
        path = os.path.abspath(os.fspath(path))
        before = self.get(path)
        grid = before.grid if before is not None else BeatGrid.of(tracked)
        grid = apply_corrections(grid, corrections)
        done = (before.corrections if before is not None else ()) + tuple(corrections)
        stored = StoredGrid(path, grid, done, _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
        self.put(stored)
        return stored


def corrected_analysis(path: str | os.PathLike[str], tracked: Any, store: GridStore | None,
                       extra: Sequence[Correction] = ()) -> Any:
    """The analysis every stage uses: the tracked one with the song's kept grid (when
    ``store`` has one) and then ``extra`` corrections (this run only) applied."""
    grid = None
    if store is not None:
        try:
            kept = store.get(path)
        except MediaError:
            kept = None
        if kept is not None:
            grid = kept.grid
            log.info("%s: using the kept beat grid (%s)", os.fspath(path), kept.labels())
    if extra:
        grid = apply_corrections(grid if grid is not None else BeatGrid.of(tracked), extra)
    return tracked if grid is None else apply_grid(tracked, grid)
