"""The interchange matrix: every format x every rate case, checked by tools we did not write.

    .venv/bin/python bench/interchange_matrix.py [--cases 25,vfr,...] [--formats otio,edl] [--no-melt]

Cases (rows): 23.976, 24, 25, 29.97 NDF, 29.97 DF, 30, 50, 59.94, 60, mixed rates (25, 59.94
and 29.97 sources in 23.976), VFR (a frame-numbered file with every third frame dropped),
start timecode (a camera file at 01:00:00:00), hostile names (``#``, ``?``, ``%20``, a tab),
and, where ``../shared`` is here, the real VFR film clip and a real 29.97 clip. Formats
(columns): otio, fcpxml, premiere (FCP7 XML), edl.

Each cell writes the case with our exporter, then:

- ``xmllint``: FCPXML against Apple's DTD of its version, FCP7 XML well-formed;
- the official OTIO reader of the format (``otio_json``, ``fcpx_xml``, ``fcp_xml``,
  ``cmx_3600``): it must read the file with every V1 clip at its record place and length;
- ``melt`` (MLT, through ``otio-mlt-adapter``), frame by frame: the cut as that reader (ours
  where the official one cannot) understood it, rendered by MLT; each output frame's burnt-in
  number is compared with the frame the cut list means (placed by time: exact for sources at
  the timeline rate, within one source frame where MLT resamples another rate or a VFR file).
  Real clips carry no numbers: each frame MLT renders (and each frame of our preview, side
  by side) is compared with the source frames ffmpeg decodes directly around the one the cut
  means; it must match that one best (within 15%: encoding noise makes still shots ambiguous).

A cell prints ``ok`` or ``FAIL: <reason>``; a known limit of a tool we did not write prints
``n/a: <reason>`` (and still counts as checked by the others). Figures, not pass/fail: the
script exits 0 and prints the matrix, then the frames checked and wrong per format.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT.parent))

import opentimelineio as otio  # noqa: E402

from montage_ai.core.base.mediaurl import path_from_url  # noqa: E402
from montage_ai.core.base.timebase import timecode_to_frames  # noqa: E402
from montage_ai.core.media.probe import probe  # noqa: E402
from montage_ai.core.model.cutlist import Cut, CutList  # noqa: E402
from montage_ai.core.model.timeline import build_timeline, source_grid  # noqa: E402
from montage_ai.core.render.preview import render_preview  # noqa: E402
from montage_ai.core.samples.framecode import kept_indices, read_tagged_framecode, render_framecode  # noqa: E402
from montage_ai.otio_adapters.edit import set_timeline_options  # noqa: E402
from montage_ai.otio_adapters.export import export_path, export_timeline, read_timeline  # noqa: E402

NTSC24, NTSC30, NTSC60 = Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001)
FORMATS = ("otio", "fcpxml", "premiere", "edl")
OFFICIAL = {"otio": "otio_json", "fcpxml": "fcpx_xml", "premiere": "fcp_xml", "edl": "cmx_3600"}
SIZE = (64, 36)
DTD = ROOT / "otio_adapters" / "dtd" / "FCPXMLv1_9.dtd"
SHARED = Path(os.environ.get("MONTAGE_SHARED") or ROOT.parent / "shared")


@dataclasses.dataclass(frozen=True)
class Src:
    name: str
    rate: Fraction
    frames: int = 60
    start_tc: str | None = None
    drop_every: int | None = None
    real: str | None = None        #: a clip under ../shared (no burnt-in numbers)


@dataclasses.dataclass(frozen=True)
class Case:
    rate: Fraction
    sources: tuple[Src, ...]
    ins: tuple[int, ...] = (5, 17, 2)
    lengths: tuple[int, ...] = (11, 13, 9)
    drop_frame: bool = False


def _plain(rate: Fraction, **kw) -> Case:
    return Case(rate, (Src("a.mp4", rate, **kw), Src("b.mp4", rate)))


CASES: dict[str, Case] = {
    "23.976": _plain(NTSC24), "24": _plain(Fraction(24)), "25": _plain(Fraction(25)),
    "29.97 NDF": _plain(NTSC30), "29.97 DF": Case(NTSC30, (Src("a.mp4", NTSC30), Src("b.mp4", NTSC30)),
                                                    drop_frame=True),
    "30": _plain(Fraction(30)), "50": _plain(Fraction(50)), "59.94": _plain(NTSC60), "60": _plain(Fraction(60)),
    "mixed": Case(NTSC24, (Src("pal.mp4", Fraction(25)), Src("slow 60.mp4", NTSC60, frames=120),
                           Src("ntsc.mp4", NTSC30))),
    "VFR": Case(NTSC24, (Src("phone vfr.mp4", NTSC24, frames=90, drop_every=3), Src("b.mp4", NTSC24)),
                ins=(30, 10, 40)),
    "start TC": Case(NTSC24, (Src("camera A.mp4", NTSC24, start_tc="01:00:00:00"), Src("b.mp4", NTSC24))),
    "hostile names": Case(Fraction(25), (Src("take #2 100%.mp4", Fraction(25)), Src("what?%20\tx.mp4", Fraction(25)))),
    "real VFR": Case(NTSC24, (Src("goldeneye-vfr-drop3.mp4", NTSC24, real="media/goldeneye-vfr-drop3.mp4"),),
                     ins=(120, 30, 60), lengths=(24, 24, 24)),
    "real 29.97": Case(NTSC30, (Src("carphone.mp4", NTSC30, real="realworld/footage/carphone.mp4"),),
                       ins=(10, 60, 30), lengths=(20, 15, 20)),
}
#: Known limits of tools we did not write: (format, case) or (format, "*") -> reason.
KNOWN = {
    ("fcpxml", "ntsc"): "known: otio-fcpx-xml-adapter 1.0 mis-times NTSC rates",
}


# ---------------------------------------------------------------------------- media and cut lists
def make_case(name: str, case: Case, folder: Path) -> tuple[CutList, dict, dict[str, int], dict[str, Src]]:
    paths, tags, specs = {}, {}, {}
    for tag, src in enumerate(case.sources, start=1):
        if src.real:
            path = SHARED / src.real
            if not path.exists():
                raise FileNotFoundError(f"{path} is not here")
            paths[src.name] = str(path)
        else:
            path = folder / src.name
            if not path.exists():
                render_framecode(str(path), src.frames, rate=src.rate, size=SIZE, tag=tag, start_timecode=src.start_tc,
                                 drop_every=src.drop_every)
            paths[src.name] = str(path)
        tags[paths[src.name]] = tag
        specs[paths[src.name]] = src
    probes = {p: probe(p) for p in paths.values()}
    cuts, position = [], 0
    order = list(paths.values())
    for i, (length, source_in) in enumerate(zip(case.lengths, case.ins)):
        path = order[i % len(order)]
        cuts.append(Cut(position, position + length, path, probes[path].video.rate, source_in, i, 1.0, "setup", ""))
        position += length
    start = timecode_to_frames("01:00:00;00", case.rate) if case.drop_frame else 3600 * round(case.rate)
    cut_list = CutList(rate=case.rate, width=SIZE[0], height=SIZE[1], duration=position, cuts=tuple(cuts),
                       music_path="", music_duration=0, start_frames=start, name=f"matrix {name}")
    return cut_list, probes, tags, specs


def expected_codes(cut_list: CutList, probes: dict, specs: dict) -> list[tuple[int, int, int]]:
    """(tag, burnt-in number, grid position) of every output frame: the source placed by time
    on its grid (a VFR file holds its last frame over a missing one)."""
    out = []
    for tag_index, cut in enumerate(cut_list.cuts):
        info, spec = probes[cut.source_path], specs[cut.source_path]
        grid = source_grid(info)
        kept = kept_indices(spec.frames, spec.drop_every) if spec.drop_every else None
        grid_in = grid[cut.source_in] if grid is not None else cut.source_in
        for k in range(cut.record_frames):
            g = grid_in + math.floor(Fraction(k) * cut.source_rate / cut_list.rate)
            shown = max(i for i in kept if i <= g) if kept else g
            out.append((list(specs).index(cut.source_path) + 1, shown, g))
    return out


# ---------------------------------------------------------------------------- checks
def xmllint(fmt: str, path: Path) -> str:
    if shutil.which("xmllint") is None:
        return "n/a: xmllint is not installed"
    if fmt == "fcpxml":
        cmd = ["xmllint", "--noout", "--dtdvalid", str(DTD), str(path)]
    elif fmt == "premiere":
        cmd = ["xmllint", "--noout", str(path)]
    else:
        return "-"
    result = subprocess.run(cmd, capture_output=True, text=True)
    return "ok" if result.returncode == 0 else "FAIL: " + (result.stderr.strip().splitlines() or ["?"])[0][:90]


def official(fmt: str, path: Path, cut_list: CutList) -> tuple[str, otio.schema.Timeline | None]:
    try:
        args = {"rate": float(cut_list.rate)} if fmt == "edl" else {}
        timeline = otio.adapters.read_from_file(str(path), adapter_name=OFFICIAL[fmt], **args)
    except Exception as exc:  # noqa: BLE001 - a foreign reader's failure is the figure
        return f"FAIL: {OFFICIAL[fmt]}: {type(exc).__name__}: {str(exc)[:70]}", None
    if not isinstance(timeline, otio.schema.Timeline):  # fcpx_xml: a collection (library/event)
        timeline = next((t for t in timeline.find_children(descended_from_type=otio.schema.Timeline)), None) \
            if hasattr(timeline, "find_children") else None
        if timeline is None:
            return f"FAIL: {OFFICIAL[fmt]} found no timeline", None
    if not timeline.video_tracks():
        return f"FAIL: {OFFICIAL[fmt]} found no video track", None
    v1 = timeline.video_tracks()[0]
    clips = [(v1.range_of_child(c).start_time, c.duration()) for c in v1.find_clips()]
    want = [(c.record_in, c.record_frames) for c in cut_list.cuts]
    got = [(round(s.value * float(cut_list.rate) / s.rate), round(d.value * float(cut_list.rate) / d.rate))
           for s, d in clips]
    note = ""
    if timeline.global_start_time is None and got and got[0][0] >= cut_list.start_frames > 0:
        # fcpx_xml drops the sequence start and puts a gap of that length before the clips
        got = [(s - cut_list.start_frames, d) for s, d in got]
        note = " (its timeline starts at 0 with the sequence start as a leading gap)"
    if got != want:
        return f"FAIL: {OFFICIAL[fmt]} places clips at {got[:3]}, wanted {want[:3]}{note}", timeline
    return "ok" + note, timeline


def melt_timeline(timeline: otio.schema.Timeline, cut_list: CutList, probes: dict) -> otio.schema.Timeline:
    """V1 as MLT needs it: plain paths, each clip's zero-based source time at the timeline rate."""
    rate = cut_list.rate
    out = otio.schema.Timeline(name="melt")
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    v1 = timeline.video_tracks()[0]
    for cut, clip in zip(cut_list.cuts, v1.find_clips()):
        ref = clip.media_reference
        url = getattr(ref, "target_url", "") or ""
        path = cut.source_path if not url or "://" not in url and not url.startswith("/") else path_from_url(url)
        start = clip.source_range.start_time
        seconds = Fraction(start.value) / Fraction(start.rate).limit_denominator(1001)
        available = getattr(ref, "available_range", None)
        if available is not None:
            seconds -= Fraction(available.start_time.value) / Fraction(available.start_time.rate).limit_denominator(1001)
        elif probes[cut.source_path].start_timecode:  # EDL: the list states the file's timecode at the record rate
            tc = probes[cut.source_path].start_timecode
            seconds -= Fraction(timecode_to_frames(tc, rate)) / rate
        in_frames = round(seconds * rate)
        track.append(otio.schema.Clip(
            name=clip.name, media_reference=otio.schema.ExternalReference(target_url=path),
            source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(in_frames, float(rate)),
                                                 otio.opentime.RationalTime(cut.record_frames, float(rate)))))
    out.tracks.append(track)
    return out


def render_melt(timeline: otio.schema.Timeline, rate: Fraction, out: Path, size: tuple[int, int]) -> Path:
    mlt = out.with_suffix(".mlt")
    mlt.write_text(otio.adapters.write_to_string(timeline, "mlt_xml"), encoding="utf-8")
    # real_time=0: MLT renders every frame (by default its consumer may drop frames when the
    # machine is busy); stdin closed: melt reads keys from it.
    run_melt(["melt", "-quiet", str(mlt), "-consumer", f"avformat:{out}", f"frame_rate_num={rate.numerator}",
              f"frame_rate_den={rate.denominator}", f"width={size[0]}", f"height={size[1]}", "progressive=1",
              "vcodec=libx264", "crf=12", "an=1", "real_time=0"], out)
    return out


def run_melt(cmd: list[str], out: Path, timeout: float = 30, attempts: int = 3) -> None:
    """Run melt. Debian's melt 7.12 now and then never exits (one thread left, asleep, waiting
    for its consumer): it is stopped after ``timeout`` and run again, up to ``attempts`` times
    (a tiny clip renders in well under a second)."""
    for attempt in range(1, attempts + 1):
        if out.exists():
            out.unlink()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            continue
        if proc.returncode != 0:
            raise RuntimeError(f"melt failed ({proc.returncode}): {err.decode(errors='replace').strip()[-200:]}")
        return
    raise RuntimeError(f"melt did not finish in {timeout:.0f} s, {attempts} times")


def frames_of(path: Path, size: tuple[int, int]) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "gray",
                          "-s", f"{size[0]}x{size[1]}", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, size[1], size[0])


def melt_check(fmt: str, name: str, case: Case, timeline: otio.schema.Timeline, cut_list: CutList, probes: dict,
               specs: dict, folder: Path, real: bool) -> tuple[str, int, int]:
    if shutil.which("melt") is None:
        return "n/a: melt is not installed", 0, 0
    if real:  # the source's own aspect ratio, so neither engine letterboxes
        video = probes[cut_list.cuts[0].source_path].video
        size = (160, max(2, round(160 * video.height / video.width / 2) * 2))
    else:
        size = SIZE
    try:
        theirs = render_melt(melt_timeline(timeline, cut_list, probes), cut_list.rate, folder / f"{fmt}.melt.mp4",
                             size)
    except RuntimeError as exc:
        return f"FAIL: {str(exc)[:100]}", 0, 0
    got = frames_of(theirs, size)
    n = cut_list.duration
    if real:
        ours = folder / f"{fmt}.preview.mp4"
        if not ours.exists():
            render_preview(build_timeline(cut_list, media=probes), ours, size=size, media=probes, overwrite=True)
        mine = frames_of(ours, size)
        if len(got) != n or len(mine) != n:
            return f"FAIL: {len(got)} melt frames, {len(mine)} preview frames, wanted {n}", n, n
        truth = source_frames(cut_list, probes, size)
        theirs_off, ours_off = match_offsets(got, truth), match_offsets(mine, truth)
        wrong = sum(1 for d in theirs_off if d)
        mine_wrong = sum(1 for d in ours_off if d)
        text = (f"melt {n - wrong}/{n}, our preview {n - mine_wrong}/{n} frames are the source frame the cut means"
                + (f" (melt off by {sorted(set(d for d in theirs_off if d))})" if wrong else "")
                + (f" (ours off by {sorted(set(d for d in ours_off if d))})" if mine_wrong else ""))
        return ("ok: " if not wrong else "FAIL: ") + text, n, wrong
    want = expected_codes(cut_list, probes, specs)
    codes = [read_tagged_framecode(f) for f in got]
    tolerance = 0 if all(s.rate == case.rate and not s.drop_every for s in case.sources) else 1
    # Exact where the source is at the timeline rate; where MLT resamples (another rate, a VFR
    # file) the frame shown must be within one frame of the source time.
    wrong = [(k, w[:2], g) for k, (w, g) in enumerate(zip(want, codes))
             if g is None or g[0] != w[0] or (g[1] != w[1] if not tolerance else abs(g[1] - w[2]) > tolerance)]
    if len(codes) != n:
        return f"FAIL: melt wrote {len(codes)} frames, wanted {n}", n, n
    return ("ok" if not wrong else f"FAIL: {len(wrong)}/{n} frames wrong, e.g. {wrong[:2]}"), n, len(wrong)


def source_frames(cut_list: CutList, probes: dict, size: tuple[int, int]) -> list[tuple[np.ndarray, ...]]:
    """For each output frame: the decoded source frames around the one the cut means (that one
    in the middle), decoded by ffmpeg directly at ``size``: the truth for real clips."""
    from montage_ai.core.model.timeline import index_at_grid

    decoded: dict[str, np.ndarray] = {}
    out = []
    for cut in cut_list.cuts:
        if cut.source_path not in decoded:
            raw = subprocess.run(["ffmpeg", "-v", "error", "-i", cut.source_path, "-fps_mode", "passthrough",
                                  "-f", "rawvideo", "-pix_fmt", "gray", "-s", f"{size[0]}x{size[1]}", "-"],
                                 capture_output=True, check=True).stdout
            decoded[cut.source_path] = np.frombuffer(raw, np.uint8).reshape(-1, size[1], size[0])
        frames = decoded[cut.source_path]
        grid = source_grid(probes[cut.source_path])
        grid_in = grid[cut.source_in] if grid is not None else cut.source_in
        for k in range(cut.record_frames):
            g = grid_in + math.floor(Fraction(k) * cut.source_rate / cut_list.rate)
            index = index_at_grid(grid, g) if grid is not None else g
            out.append(tuple(frames[j] if 0 <= j < len(frames) else None for j in range(index - 3, index + 4)))
    return out


def match_offsets(frames: np.ndarray, truth: list) -> list[int]:
    """For each rendered frame: 0 when it matches the meant source frame best (or within 15%,
    as encoding noise makes still shots ambiguous), else the offset of the source frame it is."""
    out = []
    for frame, near in zip(frames, truth):
        mads = {j - 3: float(np.abs(frame.astype(int) - f.astype(int)).mean()) for j, f in enumerate(near)
                if f is not None}
        best = min(mads, key=mads.get)
        out.append(0 if mads[0] <= mads[best] * 1.15 + 0.3 else best)
    return out


def run_cell(fmt: str, name: str, case: Case, folder: Path, use_melt: bool) -> dict:
    cut_list, probes, _, specs = make_case(name, case, folder)
    timeline = build_timeline(cut_list, media=probes)
    if case.drop_frame:
        set_timeline_options(timeline, drop_frame=True)
    path = export_path(folder / f"{fmt} cut.otio", fmt)
    if path.exists():
        path.unlink()
    export_timeline(timeline, path, fmt)
    lint = xmllint(fmt, path)
    verdict, theirs = official(fmt, path, cut_list)
    ntsc = case.rate.denominator == 1001 or any(s.rate.denominator == 1001 for s in case.sources)
    if fmt == "fcpxml" and ntsc and verdict.startswith("FAIL"):
        verdict = f"n/a ({KNOWN[('fcpxml', 'ntsc')]}: {verdict[6:]})"
    if not verdict.startswith("ok"):
        theirs = None  # melt renders the cut as our reader reads it back
    reader = theirs if theirs is not None else read_timeline(path)
    real = any(s.real for s in case.sources)
    melt, checked, wrong = melt_check(fmt, name, case, reader, cut_list, probes, specs, folder, real) if use_melt \
        else ("-", 0, 0)
    return {"xmllint": lint, "official": verdict, "melt": melt, "checked": checked, "wrong": wrong,
            "melt_reader": OFFICIAL[fmt] if theirs is not None else "ours"}


def run(cases: list[str], formats: list[str], use_melt: bool = True, folder: Path | None = None) -> dict:
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="interchange matrix ") as tmp:
        root = folder or Path(tmp)
        for name in cases:
            case = CASES[name]
            case_dir = root / name.replace(" ", "_").replace(".", "_")
            case_dir.mkdir(parents=True, exist_ok=True)
            for fmt in formats:
                try:
                    results[(name, fmt)] = run_cell(fmt, name, case, case_dir, use_melt)
                except FileNotFoundError as exc:
                    results[(name, fmt)] = {"skip": str(exc)}
                except Exception as exc:  # noqa: BLE001 - a cell that breaks names its reason
                    results[(name, fmt)] = {"error": f"{type(exc).__name__}: {str(exc)[:100]}"}
    return results


def cell_text(cell: dict) -> str:
    if "skip" in cell:
        return f"skipped: {cell['skip']}"
    if "error" in cell:
        return f"FAIL: {cell['error']}"
    parts = [f"xmllint {cell['xmllint']}" if cell["xmllint"] != "-" else "",
             f"reader {cell['official']}", f"melt {cell['melt']}"
             + (f" ({cell['checked'] - cell['wrong']}/{cell['checked']} frames, via {cell['melt_reader']})"
                if cell["checked"] else "")]
    return "; ".join(p for p in parts if p)


def failures(results: dict) -> list[str]:
    """Cells with a check that fails for a reason that is not a known limit."""
    out = []
    for (name, fmt), cell in results.items():
        text = cell_text(cell)
        if "FAIL" in text:
            out.append(f"{name} x {fmt}: {text}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated rows")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--no-melt", action="store_true")
    parser.add_argument("--json", metavar="PATH", help="also write the cells as JSON")
    args = parser.parse_args(argv)
    cases = [c for c in args.cases.split(",") if c]
    formats = [f for f in args.formats.split(",") if f]
    began = time.perf_counter()
    results = run(cases, formats, not args.no_melt)
    elapsed = time.perf_counter() - began
    for name in cases:
        print(f"{name}")
        for fmt in formats:
            print(f"  {fmt:9} {cell_text(results[(name, fmt)])}")
    print()
    for fmt in formats:
        cells = [results[(n, fmt)] for n in cases if "checked" in results[(n, fmt)]]
        checked = sum(c["checked"] for c in cells)
        wrong = sum(c["wrong"] for c in cells)
        print(f"{fmt:9} frames rendered by melt and checked: {checked}, wrong: {wrong}")
    bad = failures(results)
    print(f"\n{len(results)} cells in {elapsed:.1f} s; {len(bad)} with a failing check")
    if args.json:
        Path(args.json).write_text(json.dumps({f"{k[0]} x {k[1]}": v for k, v in results.items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
