"""Beat-grid corrections (pure) and the store that keeps them per song."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from montage_ai.core.analysis.beat_grid import (
    BeatGrid,
    Correction,
    apply_correction,
    apply_corrections,
    apply_grid,
    tap_tempo,
)
from montage_ai.core.analysis.music import MusicAnalysis, Section
from montage_ai.core.run.grid_store import GridStore, corrected_analysis, default_data_dir


def _grid(bpm: float = 120.0, n: int = 32, start: float = 0.25, meter: int = 4, phase: int = 0,
          duration: float | None = None) -> BeatGrid:
    beats = start + np.arange(n) * 60.0 / bpm
    downs = beats[phase::meter]
    return BeatGrid(tuple(beats), tuple(downs), meter, duration if duration is not None else float(beats[-1] + 0.5))


def _analysis(grid: BeatGrid) -> MusicAnalysis:
    n = len(grid.beat_times_s)
    energy = tuple(float(x) for x in np.linspace(0.2, 1.0, n))
    mid = grid.duration_s / 2
    return MusicAnalysis("/x/song.wav", grid.duration_s, 22050, grid.tempo_bpm, grid.meter, grid.beat_times_s,
                         grid.downbeat_times_s, energy, (Section(0.0, mid, "A", 0.3), Section(mid, grid.duration_s, "B", 0.9)))


def test_half_keeps_the_downbeats_beats():
    g = _grid(phase=1)
    h = apply_correction(g, Correction("half"))
    assert h.tempo_bpm == pytest.approx(60.0)
    assert set(h.beat_times_s) <= set(g.beat_times_s)
    assert g.downbeat_times_s[0] in h.beat_times_s
    assert h.downbeat_times_s[0] == g.downbeat_times_s[0] and h.meter == 4
    assert np.allclose(np.diff(h.downbeat_times_s), 4.0)


def test_double_puts_a_beat_between_beats():
    g = _grid(bpm=84, n=16)
    d = apply_correction(g, Correction("double"))
    assert d.tempo_bpm == pytest.approx(168.0)
    assert len(d.beat_times_s) == 2 * 16 - 1
    assert np.allclose(d.beat_times_s[1::2], (np.array(g.beat_times_s[:-1]) + np.array(g.beat_times_s[1:])) / 2)
    assert d.downbeat_times_s[0] == g.downbeat_times_s[0]
    assert np.allclose(np.diff(d.downbeat_times_s), 4 * 60 / 168)


def test_double_follows_the_tracked_timing():
    beats = np.cumsum(np.r_[0.3, np.linspace(0.5, 0.55, 20)])  # a drifting live tempo
    g = BeatGrid(tuple(beats), tuple(beats[::4]), 4, float(beats[-1] + 1))
    d = apply_correction(g, Correction("double"))
    assert np.allclose(d.beat_times_s[::2], beats)


@pytest.mark.parametrize("op,factor", [("two_thirds", 2 / 3), ("three_halves", 3 / 2)])
def test_triplet_ratios(op, factor):
    g = _grid(bpm=120, n=37)
    c = apply_correction(g, Correction(op))
    assert c.tempo_bpm == pytest.approx(120 * factor)
    assert c.downbeat_times_s[0] == pytest.approx(g.downbeat_times_s[0])
    # Every 3rd (x3/2) or 2nd (x2/3) new beat falls on an old beat.
    step = 3 if op == "three_halves" else 2
    assert np.allclose(c.beat_times_s[::step], g.beat_times_s[::2 if op == "three_halves" else 3][:len(c.beat_times_s[::step])])


def test_two_halvings_undone_by_two_doublings():
    g = _grid(n=33)
    back = apply_corrections(g, [Correction("half"), Correction("half"), Correction("double"), Correction("double")])
    assert np.allclose(back.beat_times_s, g.beat_times_s) and back.downbeat_times_s == g.downbeat_times_s


def test_shift_half_moves_onto_the_offbeat():
    g = _grid(start=0.5)
    s = apply_correction(g, Correction("shift_half"))
    assert s.beat_times_s[0] == pytest.approx(0.25)  # the half beat before the first one, inside the song
    assert np.allclose(np.array(s.beat_times_s[1:len(g.beat_times_s) + 1]), np.array(g.beat_times_s) + 0.25)
    assert np.allclose(s.downbeat_times_s[: len(g.downbeat_times_s)], np.array(g.downbeat_times_s) + 0.25)
    assert s.tempo_bpm == pytest.approx(120)
    twice = apply_correction(s, Correction("shift_half"))
    # Twice is a whole beat later: the same beats (one more in front), the bar lines a beat on.
    assert np.allclose(twice.beat_times_s[1:len(g.beat_times_s) + 1], g.beat_times_s)
    assert np.allclose(twice.downbeat_times_s[:len(g.downbeat_times_s)], np.array(g.downbeat_times_s) + 0.5)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_downbeat_n_makes_that_beat_one(n):
    g = _grid(phase=0)
    d = apply_correction(g, Correction("downbeat", n))
    assert d.downbeat_times_s[0] == g.beat_times_s[n - 1]
    assert np.allclose(np.diff(d.downbeat_times_s), 2.0) and d.beat_times_s == g.beat_times_s


def test_downbeat_beyond_the_bar_is_refused():
    with pytest.raises(ValueError, match="4 beats"):
        apply_correction(_grid(), Correction("downbeat", 5))
    with pytest.raises(ValueError):
        Correction("downbeat", 0)


def test_meter_counts_from_the_first_downbeat():
    g = _grid(phase=2)
    m = apply_correction(g, Correction("meter", 3))
    assert m.meter == 3 and m.downbeat_times_s[0] == g.downbeat_times_s[0]
    assert np.allclose(np.diff(m.downbeat_times_s), 1.5)
    assert m.downbeat_times_s[1] == g.beat_times_s[5] and m.beat_times_s == g.beat_times_s
    with pytest.raises(ValueError):
        Correction("meter", 1)


def test_offset_moves_everything_and_drops_what_leaves_the_song():
    g = _grid(start=0.01, duration=16.5)
    o = apply_correction(g, Correction("offset_ms", 20))
    assert np.allclose(o.beat_times_s, np.array(g.beat_times_s) + 0.02)
    e = apply_correction(g, Correction("offset_ms", -20))
    assert len(e.beat_times_s) == len(g.beat_times_s) - 1 and e.beat_times_s[0] == pytest.approx(0.49)
    assert e.downbeat_times_s[0] == pytest.approx(1.99)


def test_bpm_lays_a_constant_grid_from_the_first_downbeat():
    g = _grid(bpm=166, n=60, start=0.4, phase=1)
    b = apply_correction(g, Correction("bpm", 84))
    assert b.tempo_bpm == pytest.approx(84)
    assert g.downbeat_times_s[0] in [pytest.approx(t) for t in b.downbeat_times_s]
    assert b.beat_times_s[0] >= 0 and b.beat_times_s[-1] < g.duration_s
    assert np.allclose(np.diff(b.beat_times_s), 60 / 84)


def test_bpm_on_a_song_with_no_beats():
    empty = BeatGrid((), (), 4, 10.0)
    b = apply_correction(empty, Correction("bpm", 120))
    assert len(b.beat_times_s) == 20 and b.downbeat_times_s[:2] == (0.0, 2.0)
    with pytest.raises(ValueError, match="bpm|tap"):
        apply_correction(empty, Correction("half"))
    with pytest.raises(ValueError):
        Correction("bpm", 1000)


def test_tap_tempo_with_a_missed_tap():
    taps = [1.0, 1.714, 2.43, 3.857, 4.571]  # 84 bpm, one tap missed
    bpm, first = tap_tempo(taps)
    assert bpm == pytest.approx(84, abs=0.3) and first == pytest.approx(1.0, abs=0.01)
    g = apply_correction(_grid(bpm=166, n=40), Correction("tap", tuple(taps)))
    assert g.tempo_bpm == pytest.approx(84, abs=0.3)
    assert min(abs(t - 1.0) for t in g.downbeat_times_s) < 0.01
    with pytest.raises(ValueError):
        Correction("tap", (1.0,))


def test_apply_grid_keeps_other_fields_and_moves_sections_to_downbeats():
    g = _grid(n=40)
    a = _analysis(g)
    fixed = apply_correction(g, Correction("downbeat", 2))
    b = apply_grid(a, fixed)
    assert b.path == a.path and b.duration_s == a.duration_s
    assert b.downbeat_times_s == fixed.downbeat_times_s and len(b.beat_energy) == len(b.beat_times_s)
    assert b.sections[1].start_s in fixed.downbeat_times_s and b.sections[0].end_s == b.sections[1].start_s
    assert max(b.beat_energy) == pytest.approx(1.0)
    h = apply_grid(a, apply_correction(g, Correction("half")))
    assert h.tempo_bpm == pytest.approx(60) and len(h.beat_energy) == 20


def test_apply_grid_carries_the_low_end_per_beat_for_the_drop_detector():
    import dataclasses
    g = _grid(n=40)
    low = tuple(float(i % 8 == 7) * 0.9 + 0.1 for i in range(len(g.beat_times_s)))
    a = dataclasses.replace(_analysis(g), beat_low=low)
    d = apply_grid(a, apply_correction(g, Correction("double")))
    assert len(d.beat_low) == len(d.beat_times_s) == 2 * len(low) - 1
    # each new beat takes the low end of the tracked beat span it falls in
    assert d.beat_low[14] == pytest.approx(1.0) and d.beat_low[15] == pytest.approx(1.0)
    assert d.beat_low[13] == pytest.approx(0.1 / 1.0)
    assert apply_grid(_analysis(g), apply_correction(g, Correction("half"))).beat_low == ()


def test_corrections_round_trip_as_json():
    for c in (Correction("half"), Correction("downbeat", 3), Correction("offset_ms", -12.5), Correction("tap", (1.0, 1.5, 2.0))):
        assert Correction.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    assert Correction("offset_ms", 20).label() == "offset +20 ms"
    with pytest.raises(ValueError, match="unknown"):
        Correction("quadruple")


# ---------------------------------------------------------------------------- the store


@pytest.fixture
def song(tmp_path):
    path = tmp_path / "song.wav"
    path.write_bytes(os.urandom(4096))
    return path


def test_store_keeps_corrections_outside_the_cache(song, tmp_path, monkeypatch):
    monkeypatch.setenv("MONTAGE_AI_CACHE", str(tmp_path / "cache"))
    assert default_data_dir() != tmp_path / "cache"
    store = GridStore()
    a = _analysis(_grid())
    stored = store.correct(song, a, [Correction("half")])
    assert stored.labels() == "half"
    assert str(store.file_for(song)).startswith(os.environ["MONTAGE_AI_DATA"])
    # A second correction composes on the kept grid, in order.
    stored = store.correct(song, a, [Correction("downbeat", 2)])
    assert stored.labels() == "half, downbeat 2"
    got = corrected_analysis(str(song), a, store)
    assert got.tempo_bpm == pytest.approx(60) and got.downbeat_times_s[0] == pytest.approx(a.beat_times_s[2])
    # This run's extra corrections go on top without being kept.
    once = corrected_analysis(str(song), a, store, [Correction("double")])
    assert once.tempo_bpm == pytest.approx(120)
    assert store.get(song).labels() == "half, downbeat 2"
    assert not list(store.root.glob("*.tmp*")) and not list(store.root.glob(".*"))
    assert store.reset(song) and store.get(song) is None and not store.reset(song)
    assert corrected_analysis(str(song), a, store) is a


def test_store_follows_the_content_not_the_mtime_or_name(song, tmp_path):
    store = GridStore(tmp_path / "data")
    store.correct(song, _analysis(_grid()), [Correction("half")])
    os.utime(song, (1, 1))
    copy = tmp_path / "copy.wav"
    copy.write_bytes(song.read_bytes())
    assert store.get(song) is not None and store.get(copy) is not None
    song.write_bytes(os.urandom(4096))
    assert store.get(song) is None


def test_a_damaged_grid_file_is_left_alone_and_ignored(song, tmp_path, caplog):
    store = GridStore(tmp_path / "data")
    store.correct(song, _analysis(_grid()), [Correction("half")])
    store.file_for(song).write_text('{"format": 1, "grid": 3}')
    assert store.get(song) is None
    assert "cannot be read" in caplog.text
    assert store.file_for(song).read_text() == '{"format": 1, "grid": 3}'
