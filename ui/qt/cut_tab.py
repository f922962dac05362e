"""One tab of cuts in the panel (the rough cut, or the selects): the timeline editor, the
history of the cut (every edit and re-roll, for Undo/Redo) and what belongs to it (the
analyses, the thumbnails, the locked cuts). The edits themselves are
:mod:`montage_ai.core.cut.edits`; this only keeps the state and shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from montage_ai.core.cut.edits import EditHistory, Version
from montage_ai.core.model.cutlist import Cut, CutList
from montage_ai.ui.qt.timeline_view import TimelineEditor


@dataclass(frozen=True)
class ShownCut:
    """What is shown, as export, preview and Send to Resolve take it: the cut list, its
    timeline (built from exactly that cut list) and the analyses of its footage."""

    cut_list: CutList
    timeline: Any
    analyses: list


class CutTab:
    """A tab's state; ``kind`` is "cut" or "selects"."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.editor = TimelineEditor()
        self.history = EditHistory()
        self.analyses: list = []
        self.music: Any = None
        self.plan: Any = None
        self.style: Any = None
        self.failures: list = []
        self.thumbs: dict = {}
        self.wave: Any = None
        self.locked: set[Cut] = set()
        self.preview: dict[int, str] = {}  # id of a cut list -> its rendered preview
        self._timelines: dict[int, Any] = {}
        self.extra_media: dict = {}  # probes of other files the timeline names (the music)

    @property
    def view(self):
        return self.editor.view

    @property
    def cut_list(self) -> CutList | None:
        current = self.history.current
        return current.cut_list if current else None

    def media(self) -> dict:
        return {**self.extra_media, **{a.path: a.media for a in self.analyses}}

    def timeline(self) -> Any:
        """The OTIO timeline of the cut shown (built once per version)."""
        from montage_ai.core.workflows import cut_timeline

        cl = self.cut_list
        key = id(cl)
        if key not in self._timelines:
            self._timelines[key] = cut_timeline(cl, media=self.media())
        return self._timelines[key]

    def shown(self) -> ShownCut | None:
        cl = self.cut_list
        return ShownCut(cl, self.timeline(), self.analyses) if cl is not None else None

    def show(self, version: Version | None = None, *, fresh: bool = False) -> None:
        """Draw the current version (``fresh``: a new cut, zoom and playhead reset)."""
        cl = self.cut_list
        if fresh:
            self.view.set_cut(cl, self.thumbs, self.wave)
        else:
            self.view.set_cut(cl, keep_view=True)
        self.view.set_locked({i for i, c in enumerate(cl.cuts) if c in self.locked} if cl else set())

    def push(self, cut_list: CutList, label: str, *, fresh: bool = False, timeline: Any = None) -> Version:
        """A new version on top of the history; ``timeline``: the one the engine built for it."""
        version = self.history.push(cut_list, label)
        if timeline is not None:
            self._timelines[id(cut_list)] = timeline
        self.show(version, fresh=fresh)
        return version
