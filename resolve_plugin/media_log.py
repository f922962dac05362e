"""Log what the analysis found into Resolve's media pool, without touching what the editor
wrote, and take it out again exactly.

What a log writes, per clip (a media-pool item whose file we analysed):

- **Description**: a caption of its best shot (when captions exist), only where the
  Description is empty.
- **Keywords**: ours, all prefixed ``montage:`` (``montage:best``, ``montage:black``,
  ``montage:steady``, subject words from captions such as ``montage:beach``), added to the
  clip's own keywords, which stay as they are.
- **Markers**: one clip marker at each select's best frame (frame 0 = the clip's first frame),
  named with its score, the reason in the note, and our JSON in ``customData``
  (``{"montage_ai": "log", ...}``); never where a marker already is.
- **Clip colour**: :data:`REJECT_COLOR` on clips none of whose shots is usable, only where no
  colour is set.

:func:`plan_log` lists every change first (``--dry-run`` prints them and stops);
:func:`apply_changes` makes them and records the Description and colour changes in a journal
(one JSON file per project in our data folder). :func:`plan_unlog` finds exactly what we
added: markers by our ``customData``, keywords by their prefix, and Description and colour
where the journal says we set them and they still hold what we wrote (a value the editor
changed since is theirs and stays).

Only documented ``MediaPoolItem`` calls are used (``GetMetadata``/``SetMetadata``,
``GetClipColor``/``SetClipColor``/``ClearClipColor``, ``AddMarker``/``GetMarkers``/
``DeleteMarkerByCustomData``), through the client interface. Verified against the fake in
``tests/fake_resolve.py`` only.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Mapping, Sequence

from montage_ai.core.base.fileio import write_atomic
from montage_ai.core.base.types import ShotKey
from montage_ai.core.cut.selects import ClipLog

from .client import ResolveClient
from .pool import PoolTree, path_key

log = logging.getLogger(__name__)

KEYWORD_PREFIX = "montage:"
MARKER_COLOR = "Yellow"
REJECT_COLOR = "Orange"
MARKER_TAG = "log"
#: Words of a caption that say nothing about the subject.
_STOP = frozenset("""a an the and or of in on at to with from by for is are was were be being this that these those
it its his her their there here some many few one two three very into over under near out up down off
shot view image photo picture scene frame video close closeup wide someone something person people""".split())


@dataclass(frozen=True)
class Change:
    """One change to one clip: ``kind`` is ``description``, ``keywords``, ``color``,
    ``marker`` (add) or ``unmarker`` (delete); ``before``/``after`` the values (for markers,
    the marker's name and customData)."""

    clip_id: str
    clip: str
    path: str
    kind: str
    before: str
    after: str
    frame: int = 0
    note: str = ""
    custom_data: str = ""

    def describe(self) -> str:
        if self.kind == "marker":
            return f"{self.clip}: add marker at frame {self.frame}: {self.after!r} ({self.note})"
        if self.kind == "unmarker":
            return f"{self.clip}: remove our marker at frame {self.frame}: {self.before!r}"
        return f"{self.clip}: {self.kind} {self.before!r} -> {self.after!r}"


def caption_words(caption: str, limit: int = 3) -> list[str]:
    """Subject words of a caption as keywords (lower case, no stop words, at most ``limit``).

    >>> caption_words("A surfer riding a wave at the beach at sunset")
    ['surfer', 'riding', 'wave']
    """
    words = [w for w in re.findall(r"[a-z][a-z-]{2,}", caption.lower()) if w not in _STOP]
    return list(dict.fromkeys(words))[:limit]


def clip_keywords(clip: ClipLog, captions: Mapping[ShotKey, str] | None = None) -> list[str]:
    """Our keywords for a clip: ``montage:best`` when it has a select, the shots' own keywords
    and flags, subject words of its captions; each prefixed with :data:`KEYWORD_PREFIX`."""
    words: list[str] = []
    if any(s.status == "select" for s in clip.shots):
        words.append("best")
    for shot in clip.shots:
        words += [k.lower() for k in shot.keywords] + list(shot.flags)
        caption = (captions or {}).get((clip.path, shot.shot_index))
        if caption:
            words += caption_words(caption)
    words += list(clip.flags)
    return [KEYWORD_PREFIX + w.replace(" ", "-") for w in dict.fromkeys(words)]


def _keywords(text: str) -> list[str]:
    return [k.strip() for k in (text or "").split(",") if k.strip()]


def _marker_data(clip: ClipLog, shot_index: int, score: float | None) -> str:
    return json.dumps({"montage_ai": MARKER_TAG, "file": os.path.basename(clip.path), "shot": shot_index,
                       "score": None if score is None else round(score, 3)}, sort_keys=True)


def _ours(custom_data: str) -> bool:
    try:
        data = json.loads(custom_data)
    except (TypeError, ValueError):
        return False
    return isinstance(data, dict) and data.get("montage_ai") == MARKER_TAG


def plan_log(client: ResolveClient, tree: PoolTree, clips: Sequence[ClipLog],
             captions: Mapping[ShotKey, str] | None = None) -> tuple[list[Change], list[str]]:
    """The changes a log makes, and notes (clips not in the media pool). Reads only."""
    by_path = tree.by_path()
    changes: list[Change] = []
    notes: list[str] = []
    for clip in clips:
        item = by_path.get(path_key(clip.path))
        if item is None:
            notes.append(f"{clip.path}: not in the media pool; nothing logged for it")
            continue
        meta = client.clip_metadata(item.id)
        selects = sorted((s for s in clip.shots if s.status == "select"), key=lambda s: -(s.score or 0.0))
        caption = next(((captions or {}).get((clip.path, s.shot_index)) for s in selects
                        if (captions or {}).get((clip.path, s.shot_index))), None)
        if caption and not meta.get("Description", "").strip():
            changes.append(Change(item.id, item.name, item.file_path, "description", "", caption))
        have = _keywords(meta.get("Keywords", ""))
        add = [k for k in clip_keywords(clip, captions) if k not in have]
        if add:
            changes.append(Change(item.id, item.name, item.file_path, "keywords", ",".join(have), ",".join(have + add)))
        taken = {m.frame for m in client.clip_markers(item.id)}
        for shot in selects:
            if shot.best_frame in taken:
                continue
            taken.add(shot.best_frame)
            name = f"montage: best {shot.score:.2f}" if shot.score is not None else "montage: best"
            changes.append(Change(item.id, item.name, item.file_path, "marker", "", name, shot.best_frame,
                                  note="; ".join(shot.reasons),
                                  custom_data=_marker_data(clip, shot.shot_index, shot.score)))
        if clip.shots and not selects and not client.clip_color(item.id):
            changes.append(Change(item.id, item.name, item.file_path, "color", "", REJECT_COLOR))
    return changes, notes


def journal_path(root: str | os.PathLike[str], project: str) -> Path:
    """Where the Description and colour changes of a project's logs are recorded."""
    safe = re.sub(r"[^\w.-]+", "_", project).strip("_") or "project"
    return Path(root) / "resolve-log" / f"{safe}.json"


def _read_journal(path: Path) -> list[dict]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        log.warning("%s: cannot read the log journal (%s); Descriptions and colours we set stay", path, exc)
        return []
    return [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []


def apply_changes(client: ResolveClient, changes: Sequence[Change], *, journal: Path | None = None) -> list[str]:
    """Make ``changes``; returns the ones Resolve refused (described). Description and colour
    changes made are added to ``journal`` so :func:`plan_unlog` can take exactly them back."""
    failed: list[str] = []
    made: list[dict] = []
    for change in changes:
        if change.kind == "description":
            ok = client.set_clip_metadata(change.clip_id, {"Description": change.after})
        elif change.kind == "keywords":
            ok = client.set_clip_metadata(change.clip_id, {"Keywords": change.after})
        elif change.kind == "color":
            ok = client.set_clip_color(change.clip_id, change.after)
        elif change.kind == "marker":
            ok = client.add_clip_marker(change.clip_id, change.frame, MARKER_COLOR, change.after, change.note, 1,
                                        change.custom_data)
        elif change.kind == "unmarker":
            ok = client.delete_clip_marker(change.clip_id, change.custom_data)
        else:
            raise ValueError(f"unknown change kind {change.kind!r}")
        if not ok:
            failed.append(change.describe())
        elif change.kind in ("description", "color") and change.before == "":
            made.append(asdict(change))
    if journal is not None:
        entries = _read_journal(journal)
        undone = {(c.clip_id, c.kind) for c in changes if c.after == "" and c.kind in ("description", "color")}
        entries = [e for e in entries if (e.get("clip_id"), e.get("kind")) not in undone] + made
        write_atomic(journal, json.dumps(entries, indent=1, ensure_ascii=False), overwrite=True)
    return failed


def plan_unlog(client: ResolveClient, tree: PoolTree, *, journal: Path | None = None) -> list[Change]:
    """The changes that take out what our logs added, and nothing else (see the module docstring)."""
    set_by_us = {(e.get("clip_id"), e.get("kind")): str(e.get("after", "")) for e in
                 (_read_journal(journal) if journal is not None else [])}
    changes: list[Change] = []
    for item in tree.clips():
        meta = client.clip_metadata(item.id)
        for marker in client.clip_markers(item.id):
            if _ours(marker.custom_data):
                changes.append(Change(item.id, item.name, item.file_path, "unmarker", marker.name, "", marker.frame,
                                      custom_data=marker.custom_data))
        have = _keywords(meta.get("Keywords", ""))
        keep = [k for k in have if not k.startswith(KEYWORD_PREFIX)]
        if keep != have:
            changes.append(Change(item.id, item.name, item.file_path, "keywords", ",".join(have), ",".join(keep)))
        wrote = set_by_us.get((item.id, "description"))
        if wrote is not None and meta.get("Description", "") == wrote:
            changes.append(Change(item.id, item.name, item.file_path, "description", wrote, ""))
        wrote = set_by_us.get((item.id, "color"))
        if wrote is not None and client.clip_color(item.id) == wrote:
            changes.append(Change(item.id, item.name, item.file_path, "color", wrote, ""))
    return changes
