"""OTIO adapter ``montage_edl``: a CMX 3600 edit decision list of the first video track.

CMX 3600 is the lowest common denominator: one video track, timecode only, reel names of at
most eight characters. What we write:

- ``TITLE:`` and ``FCM: NON-DROP FRAME``; after the first event, comment lines saying plainly
  that the list carries V1 only (the music, other tracks and markers travel in the .otio,
  .fcpxml and .xml exports), the exact timeline rate (``* FRAME RATE: 24000/1001``) and its
  start (comments before the first event trip some readers).
- One cut (``C``) event per clip, every timecode at the RECORD rate: the source timecode is
  the file's own start timecode plus the frames into it, stated at the list's rate (a 25 fps
  clip in a 23.976 list carries 23.976 timecode; each event's source and record lengths
  agree, which CMX readers such as OTIO's ``cmx_3600`` demand), the record timecode counts
  from the timeline start (01:00:00:00). Gaps are simply not events. ``FCM: DROP FRAME``
  and drop-frame timecode for 30000/1001 and 60000/1001 timelines with ``drop_frame``. A timeline rate
  timecode cannot count (12.5 fps) is refused with the reason; a clip whose source timecode
  cannot be stated is left out with a warning naming it (the rest is written).
- Reel names made from the file name: ASCII letters and digits, upper case, at most eight
  characters, unique per file in the list; each event is followed by
  ``* FROM CLIP NAME:``, ``* FROM FILE:`` and ``* SOURCE FILE:`` (the comments Resolve,
  Avid-style readers and OTIO's ``cmx_3600`` relink by) and ``* MONTAGE_AI {json}`` lines
  (at most 80 characters each, continued on ``* MONTAGE_AI+`` lines) with the source's rate,
  start, length, exact source frame and our metadata, so our reader rebuilds the exact timeline.

Reading a list without our comment lines needs the timeline rate (adapter argument
``rate="24000/1001"``); sources are then taken to run at the timeline rate from 00:00:00:00.
"""

from __future__ import annotations

import json
import logging
import math
import re
import unicodedata
from fractions import Fraction
from pathlib import PurePath

import opentimelineio as otio

from montage_ai.core.base.fileio import display_name
from montage_ai.core.base.timebase import frames_to_timecode, parse_rate, timecode_to_frames
from montage_ai.otio_adapters.edit import (
    DROP_FRAME_RATES_TEXT,
    Edit,
    Event,
    InterchangeError,
    LeftOut,
    Source,
    edit_from_timeline,
    frac_str,
    is_drop_frame_rate,
    note_left_out,
    timeline_from_edit,
)

COMMENT_PREFIX = "* MONTAGE_AI "
TIMELINE_PREFIX = "* MONTAGE_AI TIMELINE "
log = logging.getLogger(__name__)
#: An event: number, reel, channel, C (cut) or D/Wnnn (dissolve, wipe) with its length, 4 timecodes.
_EVENT = re.compile(r"^(\d+)\s+(?P<reel>\S+)\s+(?P<channel>\S+)\s+(?P<kind>C|D|W\d+|K[BO]?)\s+(?:\d+\s+)?"
                    r"(?P<si>\S+)\s+(?P<so>\S+)\s+(?P<ri>\S+)\s+(?P<ro>\S+)\s*$")


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
    """One comment line, whatever ``text`` holds: no line break (a name can never start a
    CMX event of its own), control characters and non-UTF-8 bytes visibly escaped."""
    one_line = re.sub(r"[^\S \t]+", " ", str(text))  # line breaks (any kind) become spaces; tabs and spaces stay
    return "\t".join(display_name(part) for part in one_line.split("\t"))


def timecode_rate_ok(rate: Fraction) -> bool:
    """Whether SMPTE timecode can count ``rate``: integer rates and NTSC ``n * 1000/1001``.

    >>> timecode_rate_ok(Fraction(24000, 1001)), timecode_rate_ok(Fraction(25, 2))
    (True, False)
    """
    return rate.denominator == 1 or (rate * Fraction(1001, 1000)).denominator == 1


def source_frames_at_record_rate(src: Source, source_in: int, rate: Fraction) -> int:
    """The source position of ``source_in`` (a frame of ``src`` on its timecode grid) as a
    frame count at the RECORD rate, which is how a CMX list states every source timecode: the
    file's start timecode keeps its hours, minutes, seconds and (scaled) frames, and the frames
    into the file become record frames (the first record frame that shows that source frame).

    >>> source_frames_at_record_rate(Source("/a.mov", Fraction(25), 90000, 500), 90005, Fraction(24000, 1001))
    86405
    """
    src_fps, rec_fps = round(src.rate), round(rate)
    seconds, frames = divmod(src.start, src_fps)
    start = seconds * rec_fps + math.floor(Fraction(frames) * rec_fps / src_fps)
    return start + math.ceil(Fraction(source_in - src.start) * rate / src.rate)


def _music_notes(edit) -> list[str]:
    """What of the music the EDL cannot carry: which part of the song plays, and its fade
    (comment lines of at most :data:`COMMENT_WIDTH` characters)."""
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


def write_to_string(input_otio: otio.schema.Timeline, drop_frame: bool | None = None) -> str:
    """A CMX 3600 EDL of the first video track of ``input_otio`` (OTIO adapter entry point).

    Every timecode is at the record rate, source timecode included (a 25 fps clip in a 23.976
    list is stated in 23.976 timecode, so each event's source and record lengths agree, as CMX
    readers demand). ``drop_frame`` (default: the timeline's ``montage_ai.drop_frame``) writes
    ``FCM: DROP FRAME`` and drop-frame timecode (drop-frame rates only). A clip the list cannot
    state is left out with a warning naming it and the reason; the rest is written."""
    edit = edit_from_timeline(input_otio)
    rate = edit.rate
    if not timecode_rate_ok(rate):
        raise InterchangeError(f"an EDL counts timecode, which has no {frac_str(rate)} fps; "
                               "export this timeline as .otio, .fcpxml or .xml")
    df = edit.drop_frame if drop_frame is None else bool(drop_frame)
    if df and not is_drop_frame_rate(rate):
        raise InterchangeError(f"drop-frame timecode exists for {DROP_FRAME_RATES_TEXT} fps, not {frac_str(rate)}")

    def tc(frames: int) -> str:
        return frames_to_timecode(frames, rate, drop_frame=df)

    dropped = [n for n, track in ((f"V{i + 1}", t) for i, t in enumerate(edit.video)) if n != "V1" and track]
    dropped += [f"A{i + 1}" for i, t in enumerate(edit.audio) if t]
    notes = ["* MONTAGE AI: a CMX 3600 list carries one video track only: this EDL holds V1"
             + (f" (not {', '.join(dropped)})" if dropped else ""),
             "* the music, markers and other tracks are in the .otio, .fcpxml and .xml exports.",
             *_music_notes(edit),
             f"* FRAME RATE: {frac_str(rate)}", f"* TIMELINE START: {tc(edit.start)}"]
    if edit.metadata:
        notes += _json_lines(TIMELINE_PREFIX, edit.metadata)
    lines = [f"TITLE: {_ascii_line(edit.name)[:70]}", "FCM: DROP FRAME" if df else "FCM: NON-DROP FRAME", ""]
    reels: dict[str, str] = {}
    taken: set[str] = set()
    number = 0
    for event in edit.video[0] if edit.video else ():
        src = event.source
        try:
            src_in = source_frames_at_record_rate(src, event.source_in, rate)
            if src_in < 0:
                raise ValueError("its source timecode is negative")
            src_tc = (tc(src_in), tc(src_in + event.record_frames))
        except ValueError as exc:
            note_left_out(LeftOut("CMX 3600 EDL", src.path, tc(edit.start + event.record_in), str(exc)))
            continue
        number += 1
        reel = reels.get(src.path) or reels.setdefault(src.path, reel_name(src.path, taken))
        rec_in = edit.start + event.record_in
        channel = "AA/V" if edit.camera_audio and src.has_audio else "V"
        lines.append(f"{number:03d}  {reel:<8} {channel:<5} C        "
                     f"{src_tc[0]} {src_tc[1]} {tc(rec_in)} {tc(rec_in + event.record_frames)}")
        lines.append(f"* FROM CLIP NAME: {_ascii_line(src.name)}")
        lines.append(f"* FROM FILE: {_ascii_line(src.path)}")  # the exact path is in our JSON line
        lines.append(f"* SOURCE FILE: {_ascii_line(src.path)}")
        data = {"name": event.name, "source": src.metadata(), "start": src.start, "duration": src.duration,
                "source_in": event.source_in, "metadata": event.metadata}
        if not event.enabled:
            data["enabled"] = False
        if _ascii_line(src.path) != src.path:
            data["path"] = src.path  # the exact path, where the comment lines show it escaped
        lines += _json_lines(COMMENT_PREFIX, data)
        if number == 1:
            # Comments before the first event trip some readers (OTIO's cmx_3600): the list's
            # own notes follow the first event instead.
            lines += notes
            notes = []
    lines += notes
    return "\r\n".join(lines) + "\r\n"


#: Longest comment line we write (CMX readers and NLE viewers choke on long lines).
COMMENT_WIDTH = 80
CONTINUATION = "* MONTAGE_AI+ "


def _json_lines(prefix: str, data: dict) -> list[str]:
    """``data`` as JSON after ``prefix``, split over continuation lines of at most
    :data:`COMMENT_WIDTH` characters (joined back by the reader)."""
    text = json.dumps(data, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    first = COMMENT_WIDTH - len(prefix)
    out = [prefix + text[:first]]
    step = COMMENT_WIDTH - len(CONTINUATION)
    out += [CONTINUATION + text[i:i + step] for i in range(first, len(text), step)]
    return out


def _tc(text: str, rate: Fraction, drop_frame: bool) -> int:
    """A timecode in a list: drop frame when it says so (``;``) or the list is ``FCM: DROP FRAME``."""
    if drop_frame and ";" not in text and "." not in text:
        text = text[:8] + ";" + text[9:]
    return timecode_to_frames(text, rate)


def _scan(text: str) -> dict:
    """One pass over the lines: header, events with their comments, what we cannot carry."""
    out = {"title": "Timeline", "events": [], "start_tc": None, "meta": {}, "rate": None, "drop_frame": False,
           "lost": []}
    events, lost = out["events"], out["lost"]
    pending_json: list[str] | None = None
    target: dict | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        body = raw.rstrip("\r\n").lstrip()  # JSON chunks keep their spaces at both ends
        if pending_json is not None and not line.startswith(CONTINUATION.rstrip()):
            _store_json(pending_json, target, out, number)
            pending_json = None
        if not line:
            continue
        m = _EVENT.match(line)
        if line.startswith("TITLE:"):
            out["title"] = line[6:].strip() or out["title"]
        elif line.startswith("* FRAME RATE:"):
            out["rate"] = line.split(":", 1)[1].strip()
        elif line.startswith("* TIMELINE START:"):
            out["start_tc"] = line.split(":", 1)[1].strip()
        elif line.startswith("FCM:"):
            out["drop_frame"] = "NON" not in line.upper() and "DROP" in line.upper()
        elif m:
            channel, kind = m.group("channel").upper(), m.group("kind").upper()
            if channel != "B" and "V" not in channel:
                lost.append(f"line {number}: audio event {m.group(1)} ({channel})")
                continue
            if kind != "C":
                lost.append(f"line {number}: {'dissolve' if kind == 'D' else 'wipe ' + kind} of event "
                            f"{m.group(1)} read as a cut")
            events.append({"line": number, "reel": m.group("reel"), "tc": m.group("si", "so", "ri", "ro"),
                           "comments": {}})
        elif line.startswith(CONTINUATION.rstrip()) and pending_json is not None:
            pending_json.append(body[len(CONTINUATION):] if body.startswith(CONTINUATION) else "")
        elif line.startswith(TIMELINE_PREFIX):
            pending_json, target = [body[len(TIMELINE_PREFIX):]], None
        elif line.startswith(COMMENT_PREFIX) and events:
            pending_json, target = [body[len(COMMENT_PREFIX):]], events[-1]
        elif line.startswith("*") and events:
            if ":" in line:
                key, value = line[1:].split(":", 1)
                events[-1]["comments"][key.strip().upper()] = value.strip()
        elif line.startswith("M2"):
            lost.append(f"line {number}: speed change (M2) {' '.join(line.split()[1:])}: read at normal speed")
        elif line.startswith(("AUD", "SPLIT", "SWIPE", "EFFECTS")):
            lost.append(f"line {number}: {line.split()[0]} line not carried")
        elif not line.startswith(("*", ">>>", "|")):
            raise InterchangeError(f"line {number}: not an EDL event: {line!r}")
    if pending_json is not None:
        _store_json(pending_json, target, out, 0)
    return out


def _store_json(parts: list[str], event: dict | None, out: dict, number: int) -> None:
    try:
        data = json.loads("".join(parts))
    except json.JSONDecodeError:
        raise InterchangeError(f"line {number}: a MONTAGE_AI comment that is not JSON") from None
    if event is None:
        out["meta"] = data if isinstance(data, dict) else {}
    else:
        event["comments"]["montage"] = data


def read_edit(text: str, rate: str | Fraction | None = None) -> Edit:
    """The :class:`~.edit.Edit` of an EDL we wrote (or any CMX 3600 list and its ``rate``).

    Drop-frame lists (``FCM: DROP FRAME``) are read; every event with video (``V``, ``AA/V``,
    ``B``) is read, dissolves and wipes as cuts; what a timeline of ours cannot carry (audio
    events, speed changes, dissolves) is named in one warning. A list without our comments
    has its sources at the list's rate, named by ``FROM FILE`` (else the reel, kept relative:
    never a path invented under the current directory)."""
    scan = _scan(text)
    timeline_rate = parse_rate(rate) if rate is not None else (parse_rate(scan["rate"]) if scan["rate"] else None)
    if timeline_rate is None:
        raise InterchangeError("the EDL does not say its frame rate (no '* FRAME RATE:' line); "
                               "give it (--rate 24000/1001, or rate= to the adapter)")
    df = scan["drop_frame"]
    if df and not is_drop_frame_rate(timeline_rate):
        raise InterchangeError(f"FCM: DROP FRAME in a {frac_str(timeline_rate)} fps list: drop frame exists "
                               f"for {DROP_FRAME_RATES_TEXT} only")
    start = _tc(scan["start_tc"], timeline_rate, df) if scan["start_tc"] else None
    events: list[Event] = []
    sources: dict[str, Source] = {}
    unnamed: list[str] = []
    for raw in scan["events"]:
        info = raw["comments"].get("montage", {})
        comments = raw["comments"]
        path = (info.get("path") if isinstance(info.get("path"), str) else None) or comments.get("FROM FILE") \
            or comments.get("SOURCE FILE")
        if not path:
            path = comments.get("FROM CLIP NAME") or comments.get("FROM CLIP") or raw["reel"]
            unnamed.append(path)
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
            record_in = _tc(rec_in, timeline_rate, df)
            record_out = _tc(rec_out, timeline_rate, df)
            # Our own lists say the exact source frame; a plain list states it at its own rate.
            source_in = int(info["source_in"]) if "source_in" in info else _tc(src_in, timeline_rate, df)
        except ValueError as exc:
            raise InterchangeError(f"line {raw['line']}: {exc}") from None
        start = record_in if start is None else start
        events.append(Event(record_in, record_out, src, source_in, str(info.get("name", src.name)),
                            dict(info.get("metadata", {})), bool(info.get("enabled", True))))
    if unnamed:
        scan["lost"].append(f"no FROM FILE for {', '.join(sorted(set(unnamed)))}: media named by clip or reel only")
    if scan["lost"]:
        log.warning("EDL: read with losses: %s", "; ".join(scan["lost"]))
    start = start or 0
    shifted = tuple(Event(e.record_in - start, e.record_out - start, e.source, e.source_in, e.name, e.metadata,
                          e.enabled) for e in sorted(events, key=lambda e: e.record_in))
    first = next(iter(sources.values()), None)
    meta = dict(scan["meta"])
    if df:
        meta["drop_frame"] = True
    return Edit(scan["title"], timeline_rate, start, first.width if first else 0, first.height if first else 0,
                (shifted,), metadata=meta)


def read_from_string(input_str: str, rate: str | None = None) -> otio.schema.Timeline:
    """An OTIO timeline from EDL text (OTIO adapter entry point; ``rate`` for lists without
    our ``* FRAME RATE:`` line)."""
    return timeline_from_edit(read_edit(input_str, rate))
