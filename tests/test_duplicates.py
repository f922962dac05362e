"""Near-duplicates: a DCT hash of each shot's keyframe and a threshold (generated clips)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from montage_ai.core.analysis.duplicates import DUPLICATE_THRESHOLD, dct_hash, find_duplicates, hamming, shot_hashes
from montage_ai.core.analysis.footage import analyze_footage
from selects_media import render_project


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    paths = render_project(tmp_path_factory.mktemp("dups"))
    return {k: analyze_footage(str(p), mode="full") for k, p in paths.items() if k in ("A", "B", "C")}


@pytest.fixture(scope="module")
def hashes(clips):
    return shot_hashes(list(clips.values()))


def test_hash_ignores_brightness_and_grain():
    rng = np.random.default_rng(4)
    import cv2
    a = cv2.resize(rng.integers(0, 256, (9, 16), dtype=np.uint8), (128, 72), interpolation=cv2.INTER_CUBIC)
    noisy = np.clip(a * 1.15 + rng.normal(0, 3, a.shape), 0, 255).astype(np.uint8)
    assert hamming(dct_hash(a), dct_hash(noisy)) <= 4


def test_near_identical_clips_are_found_as_duplicates(clips, hashes):
    dups = find_duplicates([clips["A"], clips["B"]], hashes)
    a, b = clips["A"].path, clips["B"].path
    pairs = {frozenset({(d.path, d.shot_index), (d.kept_path, d.kept_index)}) for d in dups.values()}
    assert pairs == {frozenset({(a, i), (b, i)}) for i in range(3)}


def test_different_clips_are_not_duplicates(clips, hashes):
    assert find_duplicates([clips["A"], clips["C"]], hashes) == {}


def test_measured_distances_straddle_the_threshold(clips, hashes):
    a, b, c = (clips[k] for k in "ABC")
    near = [hamming(hashes[(a.path, i)], hashes[(b.path, i)]) for i in range(3)]
    keys = [(x.path, s.index) for x in (a, c) for s in x.shots if not s.black]
    far = [hamming(hashes[k1], hashes[k2]) for k1, k2 in itertools.combinations(keys, 2)]
    assert max(near) <= DUPLICATE_THRESHOLD < min(far)


def test_the_better_shot_of_a_pair_is_kept(clips, hashes):
    a, b = clips["A"], clips["B"]
    worse = replace(b, shots=tuple(replace(s, scores=tuple(x * 0.5 for x in s.scores)) for s in b.shots))
    dups = find_duplicates([a, worse], hashes)
    assert {(d.path, d.kept_path) for d in dups.values()} == {(b.path, a.path)}
    assert "scores higher" in next(iter(dups.values())).reason()


def test_shots_without_a_hash_are_never_duplicates(clips, hashes):
    a, b = clips["A"], clips["B"]
    only_a = {k: h for k, h in hashes.items() if k[0] == a.path}
    assert find_duplicates([a, b], only_a) == {}


def test_black_shots_are_not_hashed(clips, hashes):
    a = clips["A"]
    black = [s.index for s in a.shots if s.black]
    assert black and all((a.path, i) not in hashes for i in black)


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    from montage_ai.core.analysis.music import analyze_music
    from montage_ai.core.samples.music import MusicSpec, SectionSpec, render, write_audio

    y, _ = render(MusicSpec(tempo_bpm=120, sections=(SectionSpec("A", 2, 0.4), SectionSpec("B", 2, 0.95)), tail_s=0.5))
    return analyze_music(write_audio(tmp_path_factory.mktemp("song") / "song.wav", y, 22050))


def _cut(clips, song, duration_s=5.0, **kw):
    from montage_ai.core.cut.assembly import assemble
    from montage_ai.core.plan.planner import RulesPlanner, make_request
    from montage_ai.core.plan.styles import load_style

    analyses = [clips[k] for k in "ABC"]
    style = load_style("dynamic")
    plan = RulesPlanner().plan(make_request(analyses, song, style, seed=0, duration_s=duration_s))
    return assemble(plan, analyses, song, style, seed=0, duration_s=duration_s, **kw)


def test_a_rough_cut_never_uses_both_of_two_near_identical_shots(clips, song):
    a, b = clips["A"].path, clips["B"].path
    cl = _cut(clips, song)
    used = {(c.source_path, c.shot_index) for c in cl.cuts}
    assert not any((a, i) in used and (b, i) in used for i in range(3))
    assert any("near-duplicate" in n for n in cl.metadata["notes"])


def test_without_the_check_the_same_footage_shows_a_moment_twice(clips, song):
    a, b = clips["A"].path, clips["B"].path
    cl = _cut(clips, song, duplicates={})
    used = {(c.source_path, c.shot_index) for c in cl.cuts}
    assert any((a, i) in used and (b, i) in used for i in range(3))


def test_near_duplicates_fill_only_what_nothing_else_can_with_a_note(clips, song):
    # the whole song's length (8.8 s), asked for, needs more than the 9.6 s of distinct footage
    # can give in whole slots: the assembly takes a near-duplicate rather than fail, and says so
    cl = _cut(clips, song, duration_s=song.duration_s)
    assert cl.duration > 0
    assert any("repeat" in n and "near-duplicate" in n for n in cl.metadata["notes"])
    assert any("near-duplicate of a better shot" in c.reason for c in cl.cuts)
    # asked for no length, the song ends earlier where that holds the style's own takes
    # (rather than capping them), and then needs no near-duplicate
    whole = _cut(clips, song, duration_s=None)
    assert any("rather than capping every take" in n for n in whole.metadata["notes"]), whole.metadata["notes"]
    assert cl.duration / 2 <= whole.duration < cl.duration
    assert not any("near-duplicate of a better shot" in c.reason for c in whole.cuts)
