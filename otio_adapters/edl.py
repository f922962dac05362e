"""OTIO adapter ``montage_edl``: a CMX 3600 edit decision list of the first video track.

CMX 3600 is the lowest common denominator: one video track, timecode only, reel names of at
most eight characters. What we write:

- ``TITLE:`` and ``FCM: NON-DROP FRAME``; after the first event, comment lines saying plainly
  that the list carries V1 only (the music, other tracks and markers travel in the .otio,
  .fcpxml and .xml exports), the exact timeline rate (``* FRAME RATE: 24000/1001``) and its
  start (comments before the first event trip some readers).
- One cut (``C``) event per clip: the source timecode is the file's own (its start timecode
  plus the frames into it, in the file's own rate: a 25 fps clip in a 23.976 timeline
  carries 25 fps timecode, which is what the NLE matches against the clip), the record
  timecode counts from the timeline start (01:00:00:00). Gaps are simply not events.
- Reel names made from the file name: ASCII letters and digits, upper case, at most eight
  characters, unique per file in the list; each event is followed by
  ``* FROM CLIP NAME:``, ``* FROM FILE:`` and ``* SOURCE FILE:`` (the comments Resolve,
  Avid-style readers and OTIO's ``cmx_3600`` relink by) and a
  ``* MONTAGE_AI {json}`` line with the source's rate, start and length and our metadata,
  so our reader rebuilds the exact timeline.

Reading a list without our comment lines needs the timeline rate (adapter argument
``rate="24000/1001"``); sources are then taken to run at the timeline rate from 00:00:00:00.
"""

from __future__ import annotations

import json
import re
import unicodedata
from fractions import Fraction
from pathlib import PurePath

import opentimelineio as otio

from montage_ai.core.base.timebase import frames_to_timecode, parse_rate, timecode_to_frames
from montage_ai.otio_adapters.edit import Edit, Event, InterchangeError, Source, edit_from_timeline, frac_str, timeline_from_edit

COMMENT_PREFIX = "* MONTAGE_AI "
TIMELINE_PREFIX = "* MONTAGE_AI TIMELINE "
_EVENT = re.compile(r"^(\d+)\s+(\S+)\s+(\S+)\s+C\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$")


def reel_name(path: str, taken: set[str]) -> str:
    """An eight-character CMX reel name for a file, unique among ``taken`` (which it joins).

    >>> reel_name("/m/Day 1 café.mov", set())
    'DAY1CAFE'
    """
    stem = PurePath(path).stem
    ascii_name = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Z0-9]", "", ascii_name.upper())[:8] or "REEL"
    name, n = base, 1
    while name in taken:
        suffix = str(n)
        name = base[: 8 - len(suffix)] + suffix
        n += 1
    taken.add(name)
    return name


def _ascii_line(text: str) -> str:
    return " ".join(str(text).split())


def _music_notes(edit) -> list[str]:
    """What of the music the EDL cannot carry: which part of the song plays, and its fade."""
    out = []
    for track in edit.audio:
        for event in track:
            fade = int(event.metadata.get("fade_out_frames", 0) or 0)
            start = frames_to_timecode(event.source_in - event.source.start, edit.rate)
            out.append(f"* MUSIC NOT CARRIED: {_ascii_line(event.source.name)[:70]}")
            out.append(f"* MUSIC FROM {start} FOR {event.record_frames} FRAMES"
                       + (f", fading out over its last {fade} frames" if fade else ""))
            out.append("* (an EDL holds no audio or fades: see the .fcpxml or .xml)")
    return out


def write_to_string(input_otio: otio.schema.Timeline) -> str:
    """A CMX 3600 EDL of the first video track of ``input_otio`` (OTIO adapter entry point)."""
    edit = edit_from_timeline(input_otio)
    rate = edit.rate
    dropped = [n for n, track in ((f"V{i + 1}", t) for i, t in enumerate(edit.video)) if n != "V1" and track]
    dropped += [f"A{i + 1}" for i, t in enumerate(edit.audio) if t]
    notes = ["* MONTAGE AI: a CMX 3600 list carries one video track only: this EDL holds V1"
             + (f" (not {', '.join(dropped)})" if dropped else "")
             + "; the music, markers and any other tracks are in the .otio, .fcpxml and .xml exports.",
             *_music_notes(edit),
             f"* FRAME RATE: {frac_str(rate)}", f"* TIMELINE START: {frames_to_timecode(edit.start, rate)}"]
    if edit.metadata:
        notes.append(TIMELINE_PREFIX + json.dumps(edit.metadata, ensure_ascii=False, sort_keys=True))
    lines = [f"TITLE: {_ascii_line(edit.name)}", "FCM: NON-DROP FRAME", ""]
    reels: dict[str, str] = {}
    taken: set[str] = set()
    for number, event in enumerate(edit.video[0] if edit.video else (), start=1):
        src = event.source
        reel = reels.get(src.path) or reels.setdefault(src.path, reel_name(src.path, taken))
        src_out = event.source_in + round(event.source_frames(rate))
        rec_in = edit.start + event.record_in
        lines.append(f"{number:03d}  {reel:<8} V     C        "
                     f"{frames_to_timecode(event.source_in, src.rate)} {frames_to_timecode(src_out, src.rate)} "
                     f"{frames_to_timecode(rec_in, rate)} {frames_to_timecode(rec_in + event.record_frames, rate)}")
        lines.append(f"* FROM CLIP NAME: {_ascii_line(src.name)}")
        lines.append(f"* FROM FILE: {src.path}")
        lines.append(f"* SOURCE FILE: {src.path}")
        data = {"name": event.name, "source": src.metadata(), "start": src.start, "duration": src.duration,
                "metadata": event.metadata}
        lines.append(COMMENT_PREFIX + json.dumps(data, ensure_ascii=False, sort_keys=True))
        if number == 1:
            # Comments before the first event trip some readers (OTIO's cmx_3600): the list's
            # own notes follow the first event instead.
            lines += notes
            notes = []
    lines += notes
    return "\r\n".join(lines) + "\r\n"


def read_edit(text: str, rate: str | Fraction | None = None) -> Edit:
    """The :class:`~.edit.Edit` of an EDL we wrote (or a plain CMX 3600 list and its ``rate``)."""
    title, events_raw, start_tc, timeline_meta = "Timeline", [], None, {}
    timeline_rate = parse_rate(rate) if rate is not None else None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("TITLE:"):
            title = line[6:].strip() or title
        elif line.startswith("* FRAME RATE:") and timeline_rate is None:
            timeline_rate = parse_rate(line.split(":", 1)[1].strip())
        elif line.startswith("* TIMELINE START:"):
            start_tc = line.split(":", 1)[1].strip()
        elif line.startswith("FCM:"):
            if "NON-DROP" not in line:
                raise InterchangeError(f"line {number}: drop-frame lists are not read ({line})")
        elif _EVENT.match(line):
            m = _EVENT.match(line)
            if m.group(3) != "V":
                continue  # audio events: the video track is what an EDL of ours carries
            events_raw.append({"line": number, "reel": m.group(2), "tc": m.groups()[3:], "comments": {}})
        elif line.startswith(TIMELINE_PREFIX):
            try:
                timeline_meta = json.loads(line[len(TIMELINE_PREFIX):])
            except json.JSONDecodeError:
                raise InterchangeError(f"line {number}: a MONTAGE_AI comment that is not JSON") from None
        elif line.startswith("*") and events_raw:
            comments = events_raw[-1]["comments"]
            if line.startswith(COMMENT_PREFIX):
                try:
                    comments["montage"] = json.loads(line[len(COMMENT_PREFIX):])
                except json.JSONDecodeError:
                    raise InterchangeError(f"line {number}: a MONTAGE_AI comment that is not JSON") from None
            elif ":" in line:
                key, value = line[1:].split(":", 1)
                comments[key.strip().upper()] = value.strip()
        elif not line.startswith(("*", ">>>", "M2", "|")):
            raise InterchangeError(f"line {number}: not an EDL event: {line!r}")
    if timeline_rate is None:
        raise InterchangeError("the EDL does not say its frame rate (no '* FRAME RATE:' line); pass rate=")
    start = timecode_to_frames(start_tc, timeline_rate) if start_tc else None
    events: list[Event] = []
    sources: dict[str, Source] = {}
    for raw in events_raw:
        info = raw["comments"].get("montage", {})
        comments = raw["comments"]
        path = (comments.get("FROM FILE") or comments.get("SOURCE FILE") or comments.get("FROM CLIP")
                or comments.get("FROM CLIP NAME") or raw["reel"])
        if path not in sources:
            smeta = info.get("source", {})
            src_rate = Fraction(str(smeta["rate"])) if "rate" in smeta else timeline_rate
            sources[path] = Source(
                path=path, rate=src_rate, start=int(info.get("start", 0)), duration=int(info.get("duration", 0)),
                width=int(smeta.get("width", 0)), height=int(smeta.get("height", 0)),
                has_video=bool(smeta.get("has_video", True)), audio_channels=int(smeta.get("audio_channels", 0)),
                audio_rate=int(smeta.get("audio_rate", 0)), audio_streams=int(smeta.get("audio_streams", 0)))
        src = sources[path]
        src_in, _, rec_in, rec_out = raw["tc"]
        try:
            record_in = timecode_to_frames(rec_in, timeline_rate)
            record_out = timecode_to_frames(rec_out, timeline_rate)
            source_in = timecode_to_frames(src_in, src.rate)
        except ValueError as exc:
            raise InterchangeError(f"line {raw['line']}: {exc}") from None
        start = record_in if start is None else start
        events.append(Event(record_in, record_out, src, source_in, str(info.get("name", src.name)),
                            dict(info.get("metadata", {}))))
    start = start or 0
    shifted = tuple(Event(e.record_in - start, e.record_out - start, e.source, e.source_in, e.name, e.metadata)
                    for e in events)
    first = next(iter(sources.values()), None)
    return Edit(title, timeline_rate, start, first.width if first else 0, first.height if first else 0, (shifted,),
                metadata=timeline_meta if isinstance(timeline_meta, dict) else {})


def read_from_string(input_str: str, rate: str | None = None) -> otio.schema.Timeline:
    """An OTIO timeline from EDL text (OTIO adapter entry point; ``rate`` for lists without
    our ``* FRAME RATE:`` line)."""
    return timeline_from_edit(read_edit(input_str, rate))
