"""The song's jobs: its analysis with the beat grid the editor kept, the grid's corrections
(keep, reset, undo), a click track to audition it and the grid alone as markers.

Part of :mod:`montage_ai.core.workflows`, which re-exports every name here: front ends call
``montage_ai.core.workflows`` only. The same conventions: one options object
(:class:`MusicJob`), ``progress(stage, fraction)`` and ``cancel()``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

from montage_ai.core.base import stages
from montage_ai.core.base.callbacks import CancelFn, StageFn, stage_fn
from montage_ai.core.run.work import WorkOptions

__all__ = ["MusicJob", "run_music_analysis", "keep_grid_corrections", "kept_grid", "reset_grid", "restore_grid",
           "run_click_track", "run_grid_export"]


@dataclass(frozen=True)
class MusicJob:
    """``montage-ai beats``: a song's analysis with the grid the editor kept (``kept_grid``)
    and ``corrections`` for this run on top (see :mod:`~montage_ai.core.analysis.beat_grid`)."""

    kept_grid: bool = True
    corrections: tuple[Any, ...] = ()
    work: WorkOptions = WorkOptions()


def run_music_analysis(song: str | os.PathLike[str], options: MusicJob = MusicJob(), *,
                       progress: StageFn | None = None, cancel: CancelFn | None = None) -> Any:
    """The song's MusicAnalysis (cached), its beat grid corrected as kept and asked; a
    truncated song is said once, as the cut says it."""
    from montage_ai.core.media.song import song_info
    from montage_ai.core.run.jobs import analyze_music_cached

    report_stage = stage_fn(progress)
    music = analyze_music_cached(os.fspath(song), cache=options.work.cache(), cancel=cancel,
                                 kept_grid=options.kept_grid, corrections=tuple(options.corrections),
                                 progress=lambda f: report_stage(stages.MUSIC, f))
    song_info(music)
    return music


def keep_grid_corrections(song: str | os.PathLike[str], corrections: Sequence[Any], options: MusicJob = MusicJob(),
                          *, progress: StageFn | None = None, cancel: CancelFn | None = None) -> Any:
    """Apply ``corrections`` to the song's tracked grid and keep the result for every later
    cut (the StoredGrid). Raises MediaError naming the song for a correction that cannot apply."""
    from montage_ai.core.base.errors import MediaError
    from montage_ai.core.run.grid_store import GridStore

    tracked = run_music_analysis(song, replace(options, kept_grid=False, corrections=()), progress=progress,
                                 cancel=cancel)
    try:
        return GridStore().correct(os.fspath(song), tracked, tuple(corrections))
    except ValueError as exc:
        raise MediaError(os.fspath(song), f"beat-grid correction: {exc}") from None


def kept_grid(song: str | os.PathLike[str]) -> Any:
    """The grid the editor kept for ``song`` (StoredGrid), or None."""
    from montage_ai.core.run.grid_store import GridStore

    return GridStore().get(os.fspath(song))


def reset_grid(song: str | os.PathLike[str]) -> bool:
    """Forget the grid kept for ``song``; whether one was kept."""
    from montage_ai.core.run.grid_store import GridStore

    return GridStore().reset(os.fspath(song))


def restore_grid(song: str | os.PathLike[str], stored: Any) -> None:
    """Put back a grid kept before (a StoredGrid from :func:`kept_grid`), or forget the kept
    one when ``stored`` is None: the panel's undo of a correction."""
    from montage_ai.core.run.grid_store import GridStore

    if stored is None:
        GridStore().reset(os.fspath(song))
    else:
        GridStore().put(stored)


def run_click_track(music: Any, path: str | os.PathLike[str], *, start_s: float = 0.0, end_s: float | None = None,
                    with_song: bool = True, progress: StageFn | None = None, cancel: CancelFn | None = None,
                    deadline_s: float = 60.0, rate: int | None = None) -> Any:
    """A click on every beat of ``music``'s grid (accented on downbeats), over the song from
    ``start_s`` to ``end_s`` unless ``with_song`` is False, written to ``path`` as a WAV to
    audition the grid (:class:`~montage_ai.core.render.click_track.ClickTrack`); ``rate``: its
    sample rate (default 44.1 kHz)."""
    from montage_ai.core.render.click_track import RATE, make_click_track

    report_stage = stage_fn(progress)
    return make_click_track(music.path, music.beat_times_s, music.downbeat_times_s, path,
                            duration_s=music.duration_s, start_s=start_s, end_s=end_s, with_song=with_song,
                            rate=rate or RATE,
                            progress=lambda f: report_stage(stages.MUSIC, f), cancel=cancel, deadline_s=deadline_s)


def run_grid_export(music: Any, path: str | os.PathLike[str], fmt: str, rate: Any = None, *,
                    overwrite: bool = False) -> Path:
    """The music alone with its beat, downbeat and section markers, written as ``fmt``."""
    from montage_ai.core.model.grid_timeline import GRID_RATE, grid_timeline
    from montage_ai.otio_adapters.export import export_timeline

    return export_timeline(grid_timeline(music, rate or GRID_RATE), path, fmt, overwrite=overwrite)
