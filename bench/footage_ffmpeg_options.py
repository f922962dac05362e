"""What each ffmpeg option of the analysis decode costs: plain command lines, timed alone.

    .venv/bin/python bench/footage_ffmpeg_options.py [--shared ../shared] [--repeat 3]
        [--only a,b] [--variants current,no_hwaccel,...] [--diff]

For every clip of ``<shared>/realworld/footage/`` (or a generated clip when that folder is
absent), the variants of the analysis decode's ffmpeg command (the one
:func:`~montage_ai.core.media.decode.decode_frames` builds for ``analyze_footage``: scaled to
the analysis size, 4:2:0, two ``metadata`` filters printing each frame's pts, raw frames into a
pipe) run next to the
baseline of ``bench/footage_real.py`` (``ffmpeg -nostdin -v error -i X -an -f null -``), the
variants taking turns within each repeat. Both pipes are read in 1 MiB blocks on threads, as
the decode reads them; each figure is the ffmpeg process's own CPU (``wait4`` rusage) and
wall time, the median of ``--repeat`` runs. Per clip and in total, as a ratio to the plain
decode. Each variant's output is hashed once (untimed) and marked ``*`` where its bytes differ
from the first variant's; with ``--diff`` each variant's frames are also kept and compared with the
first variant's (mean absolute luma difference, overall and on the worst frame, in 8-bit levels):
how far a ``-skip_loop_filter`` level (``slf_*`` variants) moves the pixels the analysis reads.
Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from footage_breakdown import clips  # noqa: E402
from footage_real import default_shared  # noqa: E402
from montage_ai.core.media.decode import _command, analysis_size, analysis_threads  # noqa: E402
from montage_ai.core.media.probe import MediaInfo, probe  # noqa: E402

NULL = ["ffmpeg", "-nostdin", "-v", "error", "-i", "{path}", "-an", "-f", "null", "-"]


def current(path: str, media: MediaInfo) -> list[str]:
    """The command the analysis decode runs today (``decode_frames``, 4:2:0)."""
    w, h = analysis_size(media)
    return _command(path, media, w, h, keyframes_only=False, seek_s=None, frames=None, hwaccel="auto", fast=True,
                    threads=analysis_threads(media), pix_fmt="yuv420p")


def _drop(cmd: list[str], flag: str, with_value: bool = True) -> list[str]:
    i = cmd.index(flag)
    return cmd[:i] + cmd[i + (2 if with_value else 1):]


def _graph(cmd: list[str], fn: Callable[[str], str]) -> list[str]:
    i = cmd.index("-filter_complex")
    return cmd[:i + 1] + [fn(cmd[i + 1])] + cmd[i + 2:]


def _set_threads(cmd: list[str], n: int | None) -> list[str]:
    if "-threads" in cmd:
        cmd = _drop(cmd, "-threads")
    if n is None:
        return cmd
    i = cmd.index("-i")
    return cmd[:i] + ["-threads", str(n)] + cmd[i:]


#: ``-skip_loop_filter`` levels, least skipped first.
LOOP_FILTER_LEVELS = ("noref", "bidir", "nointra", "nokey", "all")


def _loop_filter(cmd: list[str], level: str | None, fast: bool) -> list[str]:
    """``cmd`` with its input's ``-skip_loop_filter`` set to ``level`` (``None``: none) and
    ``-flags2 fast`` on or off."""
    for flag in ("-skip_loop_filter", "-flags2"):
        if flag in cmd:
            cmd = _drop(cmd, flag)
    i = cmd.index("-i")
    extra = (["-skip_loop_filter", level] if level else []) + (["-flags2", "fast"] if fast else [])
    return cmd[:i] + extra + cmd[i:]


_METADATA = "metadata=key=montage_ai.pts:mode=add:value=1,metadata=key=montage_ai.pts:mode=print"
#: The pts filters of either kind in a graph (``null``: a filter that passes frames on).
_PTS = re.compile(r"showinfo=checksum=0|metadata=key=montage_ai\.pts:mode=add:value=1(?:\[s\d+\];\[s\d+\]|,)"
                  r"metadata=key=montage_ai\.pts:mode=print")

VARIANTS: dict[str, Callable[[str, MediaInfo], list[str]]] = {
    "current": current,
    "no_hwaccel": lambda p, m: _drop(current(p, m), "-hwaccel"),
    "no_pts": lambda p, m: _graph(current(p, m), lambda g: _PTS.sub("null", g)),
    "no_format": lambda p, m: _graph(current(p, m), lambda g: g.replace("[s0];[s0]format=yuv420p[s1]", "[s1]")),
    "accurate_rnd": lambda p, m: _graph(current(p, m), lambda g: g.replace("flags=area", "flags=area+accurate_rnd")),
    "full_chroma": lambda p, m: _graph(current(p, m), lambda g: g.replace("flags=area",
                                                                          "flags=area+full_chroma_int")),
    "fast_bilinear": lambda p, m: _graph(current(p, m), lambda g: g.replace("flags=area", "flags=fast_bilinear")),
    "threads_default": lambda p, m: _set_threads(current(p, m), None),
    "threads_1": lambda p, m: _set_threads(current(p, m), 1),
    "threads_2": lambda p, m: _set_threads(current(p, m), 2),
    "threads_3": lambda p, m: _set_threads(current(p, m), 3),
    "filter_threads_default": lambda p, m: (_drop(current(p, m), "-filter_complex_threads")
                                            if "-filter_complex_threads" in current(p, m) else current(p, m)),
    "filter_threads_1": lambda p, m: (current(p, m) if "-filter_complex_threads" in current(p, m)
                                      else ["ffmpeg", "-filter_complex_threads", "1"] + current(p, m)[1:]),
    "loglevel_error": lambda p, m: [("error" if a == "info" else a) for a in current(p, m)],
    "no_skip_loop_filter": lambda p, m: _drop(_drop(current(p, m), "-skip_loop_filter"), "-flags2"),
    # The deblocking (loop) filter skipped on more or fewer frames (``-skip_loop_filter`` takes a
    # discard level: noref < bidir < nointra < nokey < all), with and without ``-flags2 fast``.
    **{f"slf_{level}": (lambda level: lambda p, m: _loop_filter(current(p, m), level, True))(level)
       for level in LOOP_FILTER_LEVELS},
    **{f"slf_{level}_nofast": (lambda level: lambda p, m: _loop_filter(current(p, m), level, False))(level)
       for level in LOOP_FILTER_LEVELS},
    "slf_none_fast": lambda p, m: _loop_filter(current(p, m), None, True),
    # pts from two metadata filters (add a key, print it: two log lines a frame) or from showinfo
    # (some ten log writes a frame): whichever the decode does not use today.
    "metadata_pts": lambda p, m: _graph(current(p, m), lambda g: _PTS.sub(_METADATA, g)),
    "showinfo_pts": lambda p, m: _graph(current(p, m), lambda g: _PTS.sub("showinfo=checksum=0", g)),
    "no_pipe": lambda p, m: current(p, m)[:-1] + ["-y", "/dev/null"],
}


class _Kept:
    """What a command writes, kept whole (a ``digest`` for :func:`run_once`)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def update(self, chunk) -> None:
        self.data += chunk

    def digest(self) -> bytes:
        return hashlib.blake2b(self.data).digest()


def luma_difference(a: bytes, b: bytes, w: int, h: int) -> tuple[float, float]:
    """(mean, worst frame's mean) absolute difference of the Y planes of two I420 frame runs of
    ``w`` x ``h`` (the frames both have), in 8-bit levels."""
    size = w * h * 3 // 2
    n = min(len(a), len(b)) // size
    if n == 0:
        return float("nan"), float("nan")
    ya = np.frombuffer(bytes(a[:n * size]), np.uint8).reshape(n, size)[:, :w * h].astype(np.int16)
    yb = np.frombuffer(bytes(b[:n * size]), np.uint8).reshape(n, size)[:, :w * h].astype(np.int16)
    per_frame = np.abs(ya - yb).mean(axis=1)
    return float(per_frame.mean()), float(per_frame.max())


def _drain(pipe, digest=None) -> None:
    buf = bytearray(1 << 20)
    while True:
        k = pipe.readinto(buf)
        if not k:
            return
        if digest is not None:
            digest.update(memoryview(buf)[:k])


def run_once(cmd: list[str], digest=None) -> tuple[float, float]:
    """(wall, CPU) seconds of ffmpeg ``cmd``, its pipes read on threads (``digest``: hash of
    what it writes to stdout)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
    readers = [threading.Thread(target=_drain, args=(p, d), daemon=True)
               for p, d in ((proc.stdout, digest), (proc.stderr, None))]
    for r in readers:
        r.start()
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    for r in readers:
        r.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return wall, ru.ru_utime + ru.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=default_shared())
    ap.add_argument("--only", default="", help="comma-separated clip names")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--variants", default="current,showinfo_pts,no_pts,no_format,threads_1",
                    help="comma-separated, of: " + ",".join(VARIANTS))
    ap.add_argument("--diff", action="store_true",
                    help="also print each variant's luma difference from the first variant's (kept in memory)")
    args = ap.parse_args()
    names = ["null"] + [v for v in args.variants.split(",") if v]
    paths = clips(args.shared)
    if args.only:
        paths = [p for p in paths if Path(p).stem in args.only.split(",")]
    tot = {n: [0.0, 0.0] for n in names}
    diffs: dict[str, list[tuple[float, float]]] = {}
    print(f"{'clip':20s} " + " ".join(f"{n[:16]:>16s}" for n in names) + "   (CPU x / wall x of the plain decode)")
    for path in paths:
        media = probe(path, verify_tail=False)
        cmds = {"null": [a.replace("{path}", path) for a in NULL]}
        cmds.update({n: VARIANTS[n](path, media) for n in names[1:]})
        runs: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
        digests = {n: (_Kept() if args.diff else hashlib.blake2b()) for n in names[1:]}
        for n in names[1:]:  # the pixels: once each, untimed (hashing costs this process)
            run_once(cmds[n], digests[n])
        same = {n: digests[n].digest() == digests[names[1]].digest() for n in names[1:]}
        if args.diff:
            w, h = analysis_size(media)
            print(f"{Path(path).stem:20s} " + " ".join(
                "{:7.2f}/{:7.2f} ".format(*luma_difference(digests[names[1]].data, digests[n].data, w, h))
                for n in names[1:]) + f"  luma |diff| vs {names[1]!r}: mean/worst frame")
            diffs.update({n: diffs.get(n, []) + [luma_difference(digests[names[1]].data, digests[n].data, w, h)]
                          for n in names[1:]})
        for _ in range(max(1, args.repeat)):
            for n in names:
                runs[n].append(run_once(cmds[n]))
        med = {n: (statistics.median(r[0] for r in runs[n]), statistics.median(r[1] for r in runs[n]))
               for n in names}
        for n in names:
            tot[n][0] += med[n][0]
            tot[n][1] += med[n][1]
        bw, bc = med["null"]
        print(f"{Path(path).stem:20s} " + " ".join(
            f"{med[n][1] / bc:7.3f}/{med[n][0] / bw:7.3f}" + ("*" if n != "null" and not same[n] else " ")
            for n in names) + f"  null {bc * 1000:.0f} ms CPU")
    bw, bc = tot["null"]
    print(f"(* other bytes than {names[1]!r}; 'no_pipe' writes nothing to compare)")
    print(f"\n{'total':20s} " + " ".join(f"{tot[n][1] / bc:7.3f}/{tot[n][0] / bw:7.3f} " for n in names)
          + f"  null {bc:.2f} s CPU {bw:.2f} s wall")
    for n in names:
        if n in diffs:
            print(f"  {n:24s} luma |diff| vs {names[1]}: mean {np.mean([d[0] for d in diffs[n]]):.2f}, "
                  f"worst frame {max(d[1] for d in diffs[n]):.2f} (levels)")
        print(f"  {n:24s} CPU {tot[n][1]:6.2f} s ({tot[n][1] / bc:.3f}x)  wall {tot[n][0]:6.2f} s ({tot[n][0] / bw:.3f}x)")


if __name__ == "__main__":
    main()
