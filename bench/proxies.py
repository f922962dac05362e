"""Benchmark: our proxy encode against plain ffmpeg with the same arguments on the same file.

    .venv/bin/python bench/proxies.py [--seconds 20] [--profile h264-half] [--encoder auto] [--repeats 3]

Generates a 1080p H.264 clip at 24000/1001 with audio and a start timecode, picks the
encoder as ``montage-ai proxies`` would (trial encodes, cached), then times, alternating,
``repeats`` times each: the baseline ``ffmpeg`` run with exactly the arguments our proxy job
builds (same hardware decode, filter, encoder, audio), and :func:`encode_proxy` (which adds
the probe of the source, the up-to-date check, the progress pipe, the frame-count check of
the result and the atomic publish). Prints the medians and their ratio (goal <= 1.05) and
checks the proxy conforms (frames, rate, timecode).

On a GPU machine it also prints which encoder ``auto`` chose and whether ffmpeg decoded on
the device (H100/H200 have NVDEC but no NVENC: expect libx264 with ``-hwaccel`` decoding).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

from montage_ai.core.media.probe import probe
from montage_ai.core.render.encoders import EncoderRegistry, get_profile, proxy_args
from montage_ai.core.render.proxies import encode_proxy
from montage_ai.core.samples.footage import Segment, render_footage

RATE = Fraction(24000, 1001)


def make_clip(folder: Path, seconds: int) -> Path:
    silent = folder / "silent.mp4"
    per = int(round(RATE * 4))
    kinds = ["testsrc2", "mandelbrot", "smptebars", "gradients", "pan", "life"]
    segs = [Segment(kinds[i % len(kinds)], per, seed=i + 1, grain=2.0) for i in range(max(1, seconds // 4))]
    render_footage(silent, segs, rate=RATE, size=(1920, 1080), gop_frames=24, preset="veryfast")
    clip = folder / "A001.mov"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(silent), "-f", "lavfi", "-i",
                    "sine=frequency=440:sample_rate=48000", "-map", "0:v:0", "-map", "1:a", "-shortest",
                    "-c:v", "copy", "-c:a", "pcm_s24le", "-timecode", "01:00:00:00", str(clip)], check=True)
    silent.unlink()
    return clip


def cpu_seconds() -> float:
    """CPU time of this process and its finished children: robust on a busy machine."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def decoded_on_device(args: list[str], clip: Path) -> str:
    """Run ffmpeg's decode with the same -hwaccel at verbose level and say what it used."""
    if "-hwaccel" not in args:
        return "software (no -hwaccel)"
    hw = args[args.index("-hwaccel") + 1]
    err = subprocess.run(["ffmpeg", "-nostdin", "-v", "verbose", "-hwaccel", hw, "-i", str(clip), "-frames:v", "48",
                          "-f", "null", "-"], capture_output=True, text=True).stderr
    failed = ("Failed setup for format", "hwaccel initialisation returned error", "Device creation failed",
              "No device available", "Cannot load")
    if any(f in err for f in failed):
        return f"-hwaccel {hw}: fell back to software"
    used = [ln.strip() for ln in err.splitlines() if "hwaccel" in ln.lower() or "Using auto hwaccel" in ln]
    return f"-hwaccel {hw}: " + (used[-1][:120] if used else "no device reported (software decode)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--profile", default="h264-half")
    ap.add_argument("--encoder", default="auto")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    profile = get_profile(args.profile)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ.setdefault("MONTAGE_AI_CACHE", str(tmp / "cache"))
        clip = make_clip(tmp, args.seconds)
        media = probe(clip)
        registry = EncoderRegistry()
        chosen = registry.select(profile.codec, args.encoder)
        v = media.video
        out = tmp / "baseline.mp4"
        base_args = proxy_args(str(clip), str(out), width=v.display_width, height=v.display_height, rate=v.rate,
                               has_audio=media.has_audio, timecode=media.start_timecode, profile=profile,
                               kind=chosen.kind)
        base_t, ours_t, base_cpu, ours_cpu = [], [], [], []
        result = None
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), cpu_seconds()
            subprocess.run(["ffmpeg"] + base_args, check=True, capture_output=True)
            base_t.append(time.perf_counter() - t0)
            base_cpu.append(cpu_seconds() - c0)
            out.unlink()
            t0, c0 = time.perf_counter(), cpu_seconds()
            result = encode_proxy(clip, profile=profile, encoder=chosen.kind, out_dir=tmp / "px", registry=registry)
            ours_t.append(time.perf_counter() - t0)
            ours_cpu.append(cpu_seconds() - c0)
            Path(result.proxy).unlink()
        result = encode_proxy(clip, profile=profile, encoder=chosen.kind, out_dir=tmp / "px", registry=registry)
        px = probe(result.proxy)
        conforms = (px.video.frame_count, px.video.rate, px.start_timecode) == (v.frame_count, v.rate, media.start_timecode)
        b, o = statistics.median(base_t), statistics.median(ours_t)
        print(f"source: {v.width}x{v.height} {v.codec} {v.frame_count} frames at {v.rate}, tc {media.start_timecode}")
        print(f"profile {profile.name}: encoder {chosen.encoder} ({chosen.kind}); decode {decoded_on_device(base_args, clip)}")
        print(f"{'what':44s} {'median s':>9s}  runs")
        print(f"{'plain ffmpeg, same arguments (baseline)':44s} {b:9.3f}  " + " ".join(f"{t:.2f}" for t in base_t))
        print(f"{'encode_proxy (probe, check, atomic publish)':44s} {o:9.3f}  " + " ".join(f"{t:.2f}" for t in ours_t))
        bc, oc = statistics.median(base_cpu), statistics.median(ours_cpu)
        print(f"{'CPU seconds (process + children), baseline':44s} {bc:9.3f}")
        print(f"{'CPU seconds (process + children), ours':44s} {oc:9.3f}")
        print(f"ratio ours / baseline: wall median {o / b:.3f}, wall best {min(ours_t) / min(base_t):.3f}, "
              f"CPU {oc / bc:.3f} (goal <= 1.05); realtime factor {float(v.frame_count / v.rate) / o:.1f}x")
        print(f"proxy conforms (frames, rate, timecode): {'yes' if conforms else 'NO'} "
              f"({px.video.width}x{px.video.height}, {px.video.frame_count} frames, tc {px.start_timecode})")
    return 0 if conforms else 1


if __name__ == "__main__":
    sys.exit(main())
