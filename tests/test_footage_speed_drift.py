"""Issue 18: the faster analysis gives the same values as the plain per-frame path, and a
camera move with an exposure drift inside one take is not a dissolve.

Generated media only, except the real tilt (../shared/realworld/footage, skipped when absent).
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from montage_ai.core.analysis import frame_work as FW
from montage_ai.core.analysis import quality as Q
from montage_ai.core.analysis.footage import analyze_footage, excluded_mask
from montage_ai.core.analysis.shot_signatures import frame_signature, frame_signatures
from montage_ai.core.analysis.shots import ShotDetector
from montage_ai.core.media.decode import decode_frames
from montage_ai.core.media.probe import probe
from montage_ai.core.samples.footage import Segment, render_footage

SIZE = (256, 144)


def _real_footage() -> Path | None:
    env = os.environ.get("MONTAGE_SHARED")
    here = Path(__file__).resolve().parent
    for cand in ([Path(env)] if env else []) + [here.parent.parent / "shared", here.parent.parent.parent / "shared"]:
        if (cand / "realworld" / "footage").is_dir():
            return cand / "realworld" / "footage"
    return None


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("speed") / "reel.mp4"
    segs = [Segment("testsrc2", 20), Segment("mandelbrot", 20, dissolve_in=6), Segment("pan", 25, pan_px_per_frame=8.0)]
    return render_footage(path, segs, rate=Fraction(25), size=SIZE, gop_frames=12)


# ---------------------------------------------------------------------------------------
# Same values, less time


def test_decode_reads_ahead_every_frame_and_stops_cleanly(clip):
    frames = list(decode_frames(clip.path))
    assert [f.index for f in frames] == list(range(clip.frame_count))
    assert all(f.image.shape == (144, 256, 3) for f in frames)
    before = threading.active_count()
    part = list(decode_frames(clip.path, start_frame=0, end_frame=5))  # stops while ffmpeg still runs
    assert [f.index for f in part] == list(range(5))
    assert np.array_equal(part[3].image, frames[3].image)
    assert threading.active_count() <= before  # the reader threads are gone


def test_small_sources_decode_on_one_thread_to_the_same_frames(clip):
    from montage_ai.core.media.decode import analysis_threads
    from montage_ai.core.media.probe import probe

    media = probe(clip.path)
    assert analysis_threads(media) == 1  # 256x144
    big = dataclasses.replace(media, video=dataclasses.replace(media.video, width=1920, height=1080))
    assert analysis_threads(big) == 0
    one = list(decode_frames(clip.path, threads=1))
    auto = list(decode_frames(clip.path, threads=0))
    assert [f.index for f in one] == [f.index for f in auto]
    assert all(np.array_equal(a.image, b.image) and a.pts_s == b.pts_s for a, b in zip(one, auto))


def test_one_filter_thread_gives_the_same_frames(clip, monkeypatch):
    """The filter graph on one thread (small sources) decodes the very same frames as
    ffmpeg's default filter threads."""
    from montage_ai.core.media import decode as D

    media = probe(clip.path)
    assert "-filter_complex_threads" in D._command(clip.path, media, 256, 144, keyframes_only=False, seek_s=None,
                                                   frames=None, hwaccel=None, fast=True, threads=0)
    one = list(decode_frames(clip.path))
    monkeypatch.setattr(D, "ONE_FILTER_THREAD_PIXELS", 0)
    assert "-filter_complex_threads" not in D._command(clip.path, media, 256, 144, keyframes_only=False, seek_s=None,
                                                       frames=None, hwaccel=None, fast=True, threads=0)
    default = list(decode_frames(clip.path))
    assert [f.index for f in one] == [f.index for f in default] == list(range(clip.frame_count))
    assert all(np.array_equal(a.image, b.image) and a.pts_s == b.pts_s for a, b in zip(one, default))


@pytest.mark.parametrize("workers", [0, 3])  # 0: in line on the caller's thread (the default on two cores)
def test_frame_workers_give_the_serial_values_in_order(clip, workers):
    frames = list(decode_frames(clip.path))
    # A gap (as fast mode decodes ranges): the frame after it has no previous frame.
    frames = frames[:13] + frames[20:]
    before = {t.ident for t in threading.enumerate()}
    got = list(FW.worked_frames(iter(frames), step=3, native=False, workers=workers))
    if workers == 0:  # no thread was started for it
        assert not [t.name for t in threading.enumerate() if t.ident not in before and t.name.startswith("frame-work")]
    assert [f.index for f, _ in got] == [f.index for f in frames]
    prev = None
    for (frame, work), k in zip(got, range(len(frames))):
        consecutive = k > 0 and frames[k - 1].index == frame.index - 1
        sample = frame.index % 3 == 0
        want = FW.work_on(frame.image, prev if consecutive else None, sample, False,
                          detail=FW.measures_detail(frame.index, sample))
        assert np.array_equal(work.measure, want.measure, equal_nan=True)
        assert work.sample == want.sample and work.pattern == want.pattern and work.subject == want.subject
        assert (work.sample is not None) == (frame.index % 3 == 0)
        assert np.array_equal(work.small, want.small) and np.array_equal(work.tiny, want.tiny)
        assert np.array_equal(work.cells, want.cells)
        sig = frame_signature(frame.image)
        for a, b in zip(work.signature, sig):
            assert np.array_equal(np.asarray(a), np.asarray(b))
        prev = want.tiny


@pytest.mark.parametrize("shape", [(144, 256), (192, 256), (144, 192), (144, 176), (36, 64), (100, 256)])
def test_block_reductions_equal_frame_by_frame(shape):
    """The block-wise reductions (one tall image per block) are the per-frame ones exactly,
    for whole and fractional reduction factors."""
    from montage_ai.core.analysis import obstruction as OB

    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, (9,) + shape + (3,), dtype=np.uint8)
    images[2] = 0  # flat
    smalls, tinys, lumas = FW.reduce_block(images)
    cells = OB.border_cells_block(smalls, tinys)
    for j, image in enumerate(images):
        small = cv2.resize(image, (64, 36), interpolation=cv2.INTER_AREA)
        assert np.array_equal(smalls[j], small)
        assert np.array_equal(tinys[j], cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))
        assert np.array_equal(lumas[j], cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
        assert np.array_equal(cells[j], OB.border_cells(small))


def test_frames_read_in_blocks_are_every_frame_once_in_order(clip):
    """The decoder reads the pipe a block of frames at a time: a clip whose length is no
    multiple of the block still gives every frame, each its own picture; a block of them
    is worked on without a copy, and a stop inside a block ends the decode."""
    from montage_ai.core.base.errors import Cancelled
    from montage_ai.core.media import decode as D

    frames = list(decode_frames(clip.path))
    assert clip.frame_count % D._BLOCK_FRAMES != 0
    assert [f.index for f in frames] == list(range(clip.frame_count))
    assert len({f.image.tobytes() for f in frames}) > clip.frame_count // 2
    block = FW._as_block([f.image for f in frames[:D._BLOCK_FRAMES]])
    assert np.shares_memory(block, frames[0].image)
    assert np.array_equal(block, np.stack([f.image for f in frames[:D._BLOCK_FRAMES]]))
    straddling = FW._as_block([f.image for f in frames[D._BLOCK_FRAMES - 2:D._BLOCK_FRAMES + 2]])
    assert np.array_equal(straddling, np.stack([f.image for f in frames[D._BLOCK_FRAMES - 2:D._BLOCK_FRAMES + 2]]))
    seen = []
    with pytest.raises(Cancelled):
        for f in decode_frames(clip.path, cancel=lambda: len(seen) >= 5):
            seen.append(f.index)
    assert seen == [0, 1, 2, 3, 4]


def test_signatures_in_a_batch_equal_one_at_a_time():
    rng = np.random.default_rng(3)
    smalls = rng.integers(0, 256, (11, 36, 64, 3), dtype=np.uint8)
    smalls[4] = 90  # flat: zero structure
    batch = frame_signatures(smalls)
    for j in range(len(smalls)):
        one = frame_signature(np.zeros((144, 256, 3), np.uint8), smalls[j])
        for k in range(6):
            assert np.array_equal(np.asarray(batch[k][j], np.float32), np.asarray(one[k], np.float32)), (j, k)
        # The thumbnails of a block (one tall reduction) are each frame's own.
        want = cv2.resize(smalls[j].astype(np.float32), (32, 18), interpolation=cv2.INTER_AREA)
        assert np.array_equal(batch[5][j], want)
    assert not batch[0][4].any()


def _median_reference(x: np.ndarray, half: int) -> np.ndarray:
    out = np.full(x.size, np.nan)
    for j in range(x.size):
        w = x[max(0, j - half):j + half + 1]
        w = w[np.isfinite(w)]
        if w.size:
            out[j] = np.median(w)
    return out


def test_sliding_window_medians_match_the_plain_loop():
    rng = np.random.default_rng(5)
    for n, half in ((1, 3), (7, 2), (40, 5), (90, 12)):
        x = rng.random(n) * 50
        x[rng.random(n) < 0.25] = np.nan
        assert np.array_equal(Q._local_median(x, half), _median_reference(x, half), equal_nan=True)
    mean = np.full(60, 80.0)
    mean[20:22] = 150.0  # a two-frame flash
    mean[40] = np.nan
    flags = Q._flashes(mean, 100, 25.0)
    assert [(f.first, f.last, f.reason) for f in flags] == [(120, 121, "flash")]


def test_full_analysis_is_the_same_in_line_with_one_worker_or_several(clip, monkeypatch):
    runs = []
    for n in (0, 1, 3):
        monkeypatch.setattr(FW, "default_workers", lambda n=n: n)
        runs.append(analyze_footage(clip.path, mode="full").to_dict())
    assert runs[0] == runs[1] == runs[2]


def test_two_cores_work_in_line_and_more_get_worker_threads(monkeypatch):
    for cores, want in ((1, 0), (2, 0), (3, 2), (4, 3), (16, 4)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid, n=cores: set(range(n)))  # read by .pools.cores
        assert FW.default_workers() == want, cores


# ---------------------------------------------------------------------------------------
# Drift is not a dissolve


def _tilt_with_exposure_drift(detector: ShotDetector, seed: int = 2) -> int:
    """A slow tilt over a smooth, bright sky with a dark object in it, the exposure falling
    by a quarter in the middle of the move (an aircraft shot like plane_fade's)."""
    rng = np.random.default_rng(seed)
    h, w = 72, 128
    sky = cv2.GaussianBlur(rng.uniform(0, 255, (h * 4, w * 2)).astype(np.float32), (0, 0), 10.0)
    sky = (sky - sky.mean()) / sky.std() * 25 + 170
    sky[h * 2 - 10:h * 2 + 6, w - 30:w + 30] -= 90
    n = 80
    for k in range(n):
        y0 = int(round(20 + 0.8 * min(k, 50)))
        gain = 1.0 - 0.25 * np.clip((k - 30) / 15, 0, 1)
        img = np.repeat(sky[y0:y0 + h, 20:20 + w, None], 3, axis=2) * gain + rng.normal(0, 2.0, (h, w, 1))
        detector.add(k, np.clip(np.rint(img), 0, 255).astype(np.uint8))
    return n


def test_tilt_with_exposure_drift_is_not_a_dissolve():
    detector = ShotDetector(Fraction(25), use_pyscenedetect=False)
    n = _tilt_with_exposure_drift(detector)
    result = detector.finish(n)
    assert result.transitions == () and [s.start_frame for s in result.segments] == [0]


def test_dissolves_are_still_found_beside_the_drift_test(tmp_path):
    segs = [Segment("testsrc2", 40, grain=3.0), Segment("gradients", 50, seed=2, dissolve_in=20),
            Segment("life", 40, seed=3, dissolve_in=12)]
    truth = render_footage(tmp_path / "dissolves.mp4", segs, rate=Fraction(25), size=SIZE, gop_frames=25)
    a = analyze_footage(truth.path, mode="full")
    spans = {s.transition_in for s in a.shots if s.transition_in}
    for t0, t1 in truth.transitions:
        assert any(a0 <= t1 and t0 <= a1 for a0, a1 in spans), (truth.transitions, spans)


def test_real_tilt_with_exposure_drift_is_one_shot():
    folder = _real_footage()
    if folder is None:
        pytest.skip("../shared/realworld/footage is absent")
    truth = json.loads((folder / "plane_fade.json").read_text())
    a = analyze_footage(folder / truth["file"], mode="full")
    g0, g1, _ = truth["gradual"][0]
    assert [b for b in a.boundaries if b < g0] == []
    assert any(s.transition_out and s.transition_out[0] <= g1 and g0 <= s.transition_out[1] for s in a.shots)


@pytest.mark.parametrize("moving", ["outgoing", "incoming"])
def test_dissolve_with_a_pan_on_one_side_is_found_and_its_frames_unused(tmp_path, moving):
    pan = dict(source="pan", pan_px_per_frame=6.0 if moving == "outgoing" else 8.0, still="scene")
    if moving == "outgoing":
        segs = [Segment(frames=60, **pan), Segment("mandelbrot", 60, dissolve_in=25)]
    else:
        segs = [Segment("testsrc2", 60), Segment(frames=70, dissolve_in=25, **pan)]
    truth = render_footage(tmp_path / f"{moving}.mp4", segs, rate=Fraction(25), size=SIZE, gop_frames=25)
    a = analyze_footage(truth.path, mode="full")
    (t0, t1), = truth.transitions
    spans = [s.transition_in for s in a.shots if s.transition_in]
    assert any(s0 <= t1 and t0 <= s1 for s0, s1 in spans), spans
    usable = [i for s in a.shots for i in range(s.usable_start_frame, s.usable_end_frame)]
    inside = [i for i in usable if t0 + 3 <= i <= t1 - 3]  # the blended middle of the dissolve
    assert inside == []
    assert len(a.boundaries) == 1 and t0 <= a.boundaries[0] <= t1 + 1


# ---------------------------------------------------------------------------------------
# Something over the lens


def _with_a_finger(path: Path, covered: range, frames: int = 75) -> None:
    """A detailed still scene, steady, and a blurred skin-coloured blob over its left edge
    for the ``covered`` frames (a finger over the lens), encoded with ffmpeg."""
    import subprocess

    rng = np.random.default_rng(4)
    w, h = SIZE
    scene = cv2.GaussianBlur(rng.uniform(0, 255, (h, w, 3)).astype(np.float32), (0, 0), 1.2)
    scene = np.clip((scene - 128) * 3 + 128, 0, 255)
    yy, xx = np.mgrid[0:h, 0:w]
    blob = (((xx + 10) / 60.0) ** 2 + ((yy - h / 2) / 50.0) ** 2 < 1.0).astype(np.float32)
    blob = cv2.GaussianBlur(blob, (0, 0), 6.0)[..., None]
    skin = np.array([70, 110, 190], np.float32)
    proc = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}",
                             "-r", "25", "-i", "-", "-c:v", "libx264", "-crf", "12", "-pix_fmt", "yuv420p", str(path)],
                            stdin=subprocess.PIPE)
    for k in range(frames):
        img = scene + rng.normal(0, 2.0, scene.shape)
        if k in covered:
            img = img * (1 - blob) + skin * blob
        proc.stdin.write(np.clip(img, 0, 255).astype(np.uint8).tobytes())
    proc.stdin.close()
    assert proc.wait() == 0


def test_a_finger_over_the_lens_is_flagged_obstructed(tmp_path):
    path = tmp_path / "finger.mp4"
    _with_a_finger(path, range(40, 46))
    a = analyze_footage(path, mode="full")
    assert a.boundaries == ()
    hit = {i for f in a.flags if f.reason == "obstructed" for i in range(f.first, f.last + 1)}
    assert set(range(40, 46)) <= hit
    assert not hit & set(range(0, 30)) and not hit & set(range(55, 75))
    assert excluded_mask(a)[40:46].all()  # never in a cut


def test_real_finger_over_the_lens_is_flagged():
    folder = _real_footage()
    if folder is None:
        pytest.skip("../shared/realworld/footage is absent")
    truth = json.loads((folder / "pool_handheld.json").read_text())
    a = analyze_footage(folder / truth["file"], mode="full")
    f0, f1, _ = [b for b in truth["bad"] if b[2] == "finger"][0]
    hit = {i for f in a.flags if f.reason == "obstructed" for i in range(f.first, f.last + 1)}
    assert len(hit & set(range(f0, f1 + 1))) >= 0.5 * (f1 - f0 + 1)
    assert len(hit - set(range(f0 - 3, f1 + 4))) <= 0.02 * a.frame_count


def test_cancelling_leaves_no_analysis_thread_behind(clip, monkeypatch):
    """Nothing of a cancelled analysis runs on after it returns: no thread of its own is left
    (the process's shared pools stay, idle: see .pools), and none of its per-frame or
    PySceneDetect jobs is still running."""
    from montage_ai.core.analysis import shots as S
    from montage_ai.core.base.errors import Cancelled

    running = []

    def counted(fn):
        def run(*a, **k):
            running.append(1)
            try:
                time.sleep(0.002)  # long enough that a job is still busy when the cancel comes
                return fn(*a, **k)
            finally:
                running.pop()
        return run

    monkeypatch.setattr(FW, "_work_batch", counted(FW._work_batch))
    monkeypatch.setattr(S.ShotDetector, "_run_psd", counted(S.ShotDetector._run_psd))
    before = {t.ident for t in threading.enumerate()}
    calls = []
    with pytest.raises(Cancelled):
        analyze_footage(clip.path, mode="full", cancel=lambda: calls.append(1) or len(calls) > 20)
    assert running == []
    left = [t.name for t in threading.enumerate() if t.ident not in before and t.is_alive()
            and not t.name.startswith(("frame-work", "pyscenedetect"))]
    assert left == []


def test_pools_are_made_once_a_process_and_again_in_a_forked_child(clip):
    """A second analysis starts no per-frame or PySceneDetect thread (the pools are kept), and
    gives the same analysis; a forked child, whose copy of a pool has no live threads, makes
    its own rather than waiting on threads that are not there."""
    import multiprocessing

    from montage_ai.core.analysis.pools import shared_pool

    first = analyze_footage(clip.path, mode="full")
    before = {t.ident for t in threading.enumerate()}
    second = analyze_footage(clip.path, mode="full")
    new = [t.name for t in threading.enumerate() if t.ident not in before]
    assert not [n for n in new if n.startswith(("frame-work", "pyscenedetect"))]
    assert second == first
    shared_pool("frame-work", max(1, FW.default_workers())).submit(int).result()
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as child:
        got = child.apply_async(_analysed_shots, (str(clip.path),)).get(timeout=60)
    assert got == [(s.start_frame, s.end_frame) for s in first.shots]


def _analysed_shots(path: str) -> list[tuple[int, int]]:
    return [(s.start_frame, s.end_frame) for s in analyze_footage(path, mode="full").shots]


def test_a_border_cell_flickering_frame_to_frame_is_not_something_over_the_lens():
    """A generated pattern that flips a border cell on and off every other frame (Game of
    Life, a frame-coded clip) is picture; a cell covered over neighbouring frames is a finger,
    flagged a little beyond the frames found (its partly covered coming and going)."""
    from montage_ai.core.analysis import obstruction as OB

    rate, n = 25.0, 100
    cells = np.zeros((n, 24, 4), np.float32)
    cells[..., :3] = 100.0
    cells[..., 3] = 10.0                                   # some detail everywhere, as usual
    flicker = cells.copy()
    flicker[20:60:2, 3, :3] = 250.0                        # every other frame: another colour...
    flicker[20:60:2, 3, 3] = 1.0                           # ...and smooth
    assert OB.obstructed(flicker, [(0, n)], rate) == []
    finger = cells.copy()
    finger[50:56, 0, :3] = 230.0
    finger[50:56, 0, 3] = 1.0
    flags = OB.obstructed(finger, [(0, n)], rate)
    pad = max(1, int(round(OB.EDGE_S * rate)))
    assert [(f.first, f.last, f.reason) for f in flags] == [(50 - pad, 55 + pad, "obstructed")]


# ---------------------------------------------------------------------------------------
# Defocused light drifting is not a dissolve


def test_real_defocused_night_lights_drifting_are_one_shot():
    """bokeh_night: defocused lights drift and brighten (light adds, so the frames are blends
    of their neighbours); no boundary but the black tail, every frame before it out of focus."""
    folder = _real_footage()
    if folder is None:
        pytest.skip("../shared/realworld/footage is absent")
    truth = json.loads((folder / "bokeh_night.json").read_text())
    a = analyze_footage(folder / truth["file"], mode="full")
    (b0, _), = truth["black"]
    assert [b for b in a.boundaries if b < b0 - 2] == []
    assert all(s.transition_in is None or s.transition_in[0] >= b0 - 6 for s in a.shots)
    excluded = excluded_mask(a)
    assert excluded[:b0].all()


def test_dissolve_from_a_sharp_shot_into_a_defocused_one_is_still_found(tmp_path):
    segs = [Segment("testsrc2", 40), Segment("mandelbrot", 50, blur_sigma=6.0, dissolve_in=12)]
    truth = render_footage(tmp_path / "soft.mp4", segs, rate=Fraction(25), size=SIZE, gop_frames=25)
    a = analyze_footage(truth.path, mode="full")
    (t0, t1), = truth.transitions
    soft = [f for f in a.flags if f.reason == "out of focus"]
    assert soft and soft[-1].last >= truth.frame_count - 5  # the incoming side is defocused
    spans = [s.transition_in for s in a.shots if s.transition_in]
    assert any(s0 <= t1 and t0 <= s1 for s0, s1 in spans), spans


def test_a_dissolve_is_dropped_only_when_every_frame_of_it_is_defocused():
    from montage_ai.core.analysis.shots import ShotResult, ShotSegment, Transition, without_defocused_dissolves

    segs = (ShotSegment(0, 30, False, None, (10, 20)), ShotSegment(30, 60, False, (10, 20), None))
    r = ShotResult((), (Transition("dissolve", 10, 20),), (), segs)
    soft = np.full(60, 2e-4)
    dropped = without_defocused_dissolves(r, soft, Q.DEFOCUS_ABS)
    assert dropped.boundaries == () and dropped.transitions == ()
    one_sharp_end = soft.copy()
    one_sharp_end[21] = 5e-3  # the frame after the span (the incoming shot) is in focus
    assert without_defocused_dissolves(r, one_sharp_end, Q.DEFOCUS_ABS) is r
    unmeasured = soft.copy()
    unmeasured[15] = np.nan
    assert without_defocused_dissolves(r, unmeasured, Q.DEFOCUS_ABS) is r
    fade = ShotResult((), (Transition("fade_out", 10, 20),), ((21, 29),), segs)
    assert without_defocused_dissolves(fade, soft, Q.DEFOCUS_ABS) is fade


# ---------------------------------------------------------------------------------------
# The third pass: the decoder's Y plane, detail measured on every other frame


@pytest.mark.parametrize("shape", [(144, 256), (192, 256), (144, 176), (36, 64)])
def test_i420_block_reductions_equal_frame_by_frame_and_the_bgr_path(shape):
    """The I420 reductions of a block are those of each frame alone, and the colours and
    luma they give are the BGR path's within rounding (BT.601 limited range)."""
    rng = np.random.default_rng(7)
    h, w = shape
    images = cv2.GaussianBlur(rng.integers(0, 256, (5 * h, w, 3), dtype=np.uint8), (0, 0), 2.0).reshape(5, h, w, 3)
    images[1] = 0
    planes = np.stack([cv2.cvtColor(im, cv2.COLOR_BGR2YUV_I420) for im in images])  # limited range, BT.601
    smalls, tinys, lumas = FW.reduce_block_i420(planes)
    ref_smalls, ref_tinys, ref_lumas = FW.reduce_block(np.stack([cv2.cvtColor(p, cv2.COLOR_YUV2BGR_I420)
                                                                 for p in planes]))
    for j, p in enumerate(planes):
        small, tiny, luma = FW.reduce_frame(p)
        assert np.array_equal(smalls[j], small) and np.array_equal(tinys[j], tiny) and np.array_equal(lumas[j], luma)
    assert np.abs(lumas.astype(int) - ref_lumas).max() <= 2
    assert np.abs(tinys.astype(int) - ref_tinys).mean() < 1.0
    assert np.abs(smalls.astype(int) - ref_smalls).mean() < 2.0


def test_decoder_gives_the_same_frames_as_planes(clip):
    """``pix_fmt="yuv420p"``: the same frames and times, half the bytes; the Y plane is the
    luma of the BGR decode within a few code values."""
    bgr = list(decode_frames(clip.path))
    yuv = list(decode_frames(clip.path, pix_fmt="yuv420p"))
    assert [(f.index, f.pts_s) for f in yuv] == [(f.index, f.pts_s) for f in bgr]
    h, w = bgr[0].image.shape[:2]
    assert yuv[0].image.shape == (h * 3 // 2, w) and FW.is_i420(yuv[0].image)
    for a, b in zip(bgr, yuv):
        luma = cv2.LUT(b.image[:h], FW.Y_FULL)
        assert np.abs(luma.astype(int) - cv2.cvtColor(a.image, cv2.COLOR_BGR2GRAY)).mean() < 3.0
        assert np.abs(FW.to_bgr(b.image).astype(int) - a.image).mean() < 4.0
    with pytest.raises(ValueError):
        next(decode_frames(clip.path, pix_fmt="rgb48"))


def test_detail_on_every_other_frame_gives_the_same_judgement(clip, monkeypatch):
    """Detail measured on every second frame (and every sample), filled within the shot,
    gives the boundaries and flagged reasons of measuring every frame, and the filled values
    follow the measured ones."""
    from montage_ai.core.analysis import quality as Q
    from montage_ai.core.analysis.footage import analyze_footage

    every = analyze_footage(clip.path, mode="full")
    monkeypatch.setattr(Q, "DETAIL_STEP", 1)
    ref = analyze_footage(clip.path, mode="full")
    assert every.boundaries == ref.boundaries
    assert {f.reason for f in every.flags} == {f.reason for f in ref.flags}
    assert [s.best_frame for s in every.shots] == [s.best_frame for s in ref.shots]


def test_filled_detail_never_crosses_a_boundary_or_a_gap():
    from montage_ai.core.analysis import quality as Q

    nan = np.nan
    m = {f: np.array([1.0, nan, 5.0, nan, nan, 7.0, nan, 9.0]) for f in Q.DETAIL_FIELDS}
    m["mean"] = np.array([1, 1, 1, 1, nan, 1, 1, 1.0])  # frame 4 was not decoded
    Q.fill_detail(m, [2])
    assert m["fine"][:4].tolist() == [1.0, 1.0, 5.0, 5.0]   # 1 from its own piece, 3 never from after the gap
    assert np.isnan(m["fine"][4]) and m["fine"][5:].tolist() == [7.0, 8.0, 9.0]
