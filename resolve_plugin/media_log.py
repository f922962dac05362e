"""Log what the analysis found into Resolve's media pool, without touching what the editor
wrote, and take it out again exactly.

What a log writes, per clip (a media-pool item whose file we analysed):

- **Description**: a caption of its best shot (when captions exist), only where the
  Description is empty.
- **Keywords**: ours (``montage:best``, ``montage:black``, ``montage:steady``, subject words
  from captions such as ``montage:beach``), appended after the clip's own keyword text, which
  stays byte for byte as it was; a word the editor already has is not added.
- **Markers**: one clip marker at each select's best frame (frame 0 = the clip's first frame),
  named with its score, the reason in the note, and our JSON in ``customData``
  (``{"montage_ai": "log", ...}``); never where a marker already is.
- **Clip colour**: :data:`REJECT_COLOR` on clips none of whose shots is usable, only where no
  colour is set.

:func:`plan_log` lists every change first (``--dry-run`` prints them and stops);
:func:`apply_changes` makes them and records every change it made in a journal
(one JSON file per Resolve project in the user data folder, keyed by clip id; never in the
cache, which may be cleared). :func:`plan_unlog` takes back only what that journal says we
added, and only where it still holds what we wrote: markers by the exact customData we gave
them, the very keywords we appended (the editor's own ``montage:opening`` is theirs, however
it looks), Description and colour by the value we set (a value the editor changed since is
theirs and stays). Nothing is ever recognised by a prefix.

Only documented ``MediaPoolItem`` calls are used (``GetMetadata``/``SetMetadata``,
``GetClipColor``/``SetClipColor``/``ClearClipColor``, ``AddMarker``/``GetMarkers``/
``DeleteMarkerByCustomData``), through the client interface. Verified against the fake in
``tests/fake_resolve.py`` only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from montage_ai.core.base.fileio import write_atomic
from montage_ai.core.base.types import ShotKey
from montage_ai.core.cut.clip_log import ClipLog

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
    #: For keywords: the words this change adds (a log) or takes out (an unlog).
    added: tuple[str, ...] = ()
    #: True for the changes of an unlog (they take a journal entry out).
    undo: bool = False

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


def _append_keywords(text: str, add: Sequence[str]) -> str:
    """The editor's keyword text, byte for byte, with ours after it."""
    if not text.strip():
        return text + ",".join(add)
    return text + ("" if text.rstrip().endswith(",") else ",") + ",".join(add)


def _marker_data(clip: ClipLog, shot_index: int, score: float | None, run: str) -> str:
    return json.dumps({"montage_ai": MARKER_TAG, "file": os.path.basename(clip.path), "shot": shot_index,
                       "score": None if score is None else round(score, 3), "run": run}, sort_keys=True,
                      ensure_ascii=True)


def plan_log(client: ResolveClient, tree: PoolTree, clips: Sequence[ClipLog],
             captions: Mapping[ShotKey, str] | None = None) -> tuple[list[Change], list[str]]:
    """The changes a log makes, and notes (clips not in the media pool). Reads only."""
    by_path = tree.by_path()
    run = uuid.uuid4().hex[:12]
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
            changes.append(Change(item.id, item.name, item.file_path, "description", meta.get("Description", ""),
                                  caption))
        text = meta.get("Keywords", "")
        have = _keywords(text)
        add = [k for k in clip_keywords(clip, captions) if k not in have]
        if add:
            changes.append(Change(item.id, item.name, item.file_path, "keywords", text, _append_keywords(text, add),
                                  added=tuple(add)))
        taken = {m.frame for m in client.clip_markers(item.id)}
        for shot in selects:
            if shot.best_frame in taken:
                continue
            taken.add(shot.best_frame)
            name = f"montage: best {shot.score:.2f}" if shot.score is not None else "montage: best"
            changes.append(Change(item.id, item.name, item.file_path, "marker", "", name, shot.best_frame,
                                  note="; ".join(shot.reasons),
                                  custom_data=_marker_data(clip, shot.shot_index, shot.score, run)))
        if clip.shots and not selects and not client.clip_color(item.id):
            changes.append(Change(item.id, item.name, item.file_path, "color", "", REJECT_COLOR))
    return changes, notes


JOURNAL_VERSION = 2


def journal_root() -> Path:
    """The user data folder (platformdirs) that keeps the log journals: the project's data, not
    the analysis cache, so clearing the cache never orphans what we wrote into Resolve."""
    import platformdirs

    return Path(platformdirs.user_data_dir("montage-ai", appauthor=False))


def journal_path(root: str | os.PathLike[str] | None, project: str) -> Path:
    """The journal of one Resolve project (``root`` defaults to :func:`journal_root`). The file
    name keeps the project name readable and adds a hash of it, so two names that read the
    same once sanitised never share a journal."""
    safe = re.sub(r"[^\w.-]+", "_", project).strip("_")[:60] or "project"
    digest = hashlib.sha1(project.encode("utf-8", "surrogateescape")).hexdigest()[:10]
    return Path(journal_root() if root is None else root) / "resolve-log" / f"{safe}-{digest}.json"


def _read_journal(path: Path | None) -> dict[str, dict]:
    """``{clip_id: record}``; a record holds what we added per field (see :func:`_record`)."""
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("%s: cannot read the log journal (%s); what we logged before stays in Resolve", path, exc)
        return {}
    if isinstance(data, list):  # version 1: a list of Description / colour changes
        clips: dict[str, dict] = {}
        for e in data:
            if isinstance(e, dict) and e.get("kind") in ("description", "color") and isinstance(e.get("after"), str):
                clips.setdefault(str(e.get("clip_id")), {})[e["kind"]] = {"before": "", "after": e["after"]}
        return clips
    if not isinstance(data, dict) or data.get("version") != JOURNAL_VERSION or not isinstance(data.get("clips"), dict):
        log.warning("%s: not a log journal of version %d; what we logged before stays in Resolve",
                    path, JOURNAL_VERSION)
        return {}
    return {str(k): v for k, v in data["clips"].items() if isinstance(v, dict)}


def _write_journal(path: Path, project: str, clips: Mapping[str, dict]) -> None:
    body = {"version": JOURNAL_VERSION, "project": project, "clips": {k: v for k, v in clips.items() if v}}
    write_atomic(path, json.dumps(body, indent=1, ensure_ascii=True), overwrite=True)


def _record(clips: dict[str, dict], change: Change) -> None:
    """Add a change we made to the journal: the value before, the value after and, for
    keywords, the very words we added; markers by the customData we gave them."""
    rec = clips.setdefault(change.clip_id, {})
    rec["path"] = change.path
    if change.kind == "marker":
        rec.setdefault("markers", [])
        if change.custom_data not in rec["markers"]:
            rec["markers"].append(change.custom_data)
    elif change.kind == "keywords":
        old = rec.get("keywords") or {"before": change.before, "added": []}
        old["added"] = list(dict.fromkeys(list(old.get("added", [])) + list(change.added)))
        old["after"] = change.after
        rec["keywords"] = old
    elif change.kind in ("description", "color"):
        rec.setdefault(change.kind, {"before": change.before, "after": change.after})


def _forget(clips: dict[str, dict], change: Change) -> None:
    """Take an undone change out of the journal."""
    rec = clips.get(change.clip_id)
    if rec is None:
        return
    if change.kind == "unmarker":
        rec["markers"] = [m for m in rec.get("markers", []) if m != change.custom_data]
        if not rec["markers"]:
            rec.pop("markers")
    else:
        rec.pop(change.kind, None)
    if set(rec) <= {"path"}:
        clips.pop(change.clip_id)


def _apply_one(client: ResolveClient, change: Change) -> bool:
    if change.kind == "description":
        return client.set_clip_metadata(change.clip_id, {"Description": change.after})
    if change.kind == "keywords":
        return client.set_clip_metadata(change.clip_id, {"Keywords": change.after})
    if change.kind == "color":
        return client.set_clip_color(change.clip_id, change.after)
    if change.kind == "marker":
        return client.add_clip_marker(change.clip_id, change.frame, MARKER_COLOR, change.after, change.note, 1,
                                      change.custom_data)
    if change.kind == "unmarker":
        return client.delete_clip_marker(change.clip_id, change.custom_data)
    raise ValueError(f"unknown change kind {change.kind!r}")


def apply_changes(client: ResolveClient, changes: Sequence[Change], *, journal: Path | None = None,
                  project: str = "") -> list[str]:
    """Make ``changes``; returns the ones Resolve refused (described). What a log made is
    recorded in ``journal`` (what :func:`plan_unlog` takes back); what an unlog undid leaves it.
    The journal is written after each change, so an interrupted run still knows what it did."""
    failed: list[str] = []
    clips = _read_journal(journal)
    for change in changes:
        if not _apply_one(client, change):
            failed.append(change.describe())
            continue
        if journal is None:
            continue
        if change.undo:
            _forget(clips, change)
        else:
            _record(clips, change)
        _write_journal(journal, project, clips)
    return failed


def _split_keywords(text: str) -> list[str]:
    return text.split(",") if text else []


def remove_keywords(text: str, ours: Sequence[str]) -> str:
    """``text`` without the keywords in ``ours`` (each once, the last occurrence first); every
    other byte of the editor's text (spacing, order, empty entries) stays as it was."""
    parts = _split_keywords(text)
    drop: set[int] = set()
    for word in ours:
        for i in range(len(parts) - 1, -1, -1):
            if i not in drop and parts[i].strip() == word:
                drop.add(i)
                break
    return ",".join(p for i, p in enumerate(parts) if i not in drop)


def _unlog_keywords(item, current: str, rec: Mapping) -> Change | None:
    added = [w for w in rec.get("added", []) if isinstance(w, str)]
    if current == rec.get("after") and isinstance(rec.get("before"), str):
        restored = rec["before"]
    else:
        restored = remove_keywords(current, added)
    if restored == current:
        return None
    return Change(item.id, item.name, item.file_path, "keywords", current, restored, added=tuple(added), undo=True)


def plan_unlog(client: ResolveClient, tree: PoolTree, *, journal: Path | None = None) -> list[Change]:
    """The changes that take out what our logs added, and nothing else: only what the journal
    says we added and what still holds the value we wrote (see the module docstring)."""
    clips = _read_journal(journal)
    changes: list[Change] = []
    for item in tree.clips():
        rec = clips.get(item.id)
        if not rec:
            continue
        meta = client.clip_metadata(item.id)
        ours = set(rec.get("markers", []))
        for marker in client.clip_markers(item.id):
            if marker.custom_data in ours:
                changes.append(Change(item.id, item.name, item.file_path, "unmarker", marker.name, "", marker.frame,
                                      custom_data=marker.custom_data, undo=True))
        if isinstance(rec.get("keywords"), dict):
            change = _unlog_keywords(item, meta.get("Keywords", ""), rec["keywords"])
            if change is not None:
                changes.append(change)
        for kind, current in (("description", lambda: meta.get("Description", "")),
                              ("color", lambda: client.clip_color(item.id))):
            wrote = rec.get(kind)
            if isinstance(wrote, dict) and isinstance(wrote.get("after"), str) and current() == wrote["after"]:
                changes.append(Change(item.id, item.name, item.file_path, kind, wrote["after"],
                                      str(wrote.get("before") or ""), undo=True))
    return changes
