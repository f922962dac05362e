"""`montage-ai beats`, `analyze SONG`, corrections on `cut`, the grid-only export, lazy imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction

import opentimelineio as otio
import pytest

from montage_ai.ui.cli.main import main


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    from montage_ai.core.samples.footage import Segment, render_footage
    from montage_ai.core.samples.music import MusicSpec, SectionSpec, render, write_audio

    root = tmp_path_factory.mktemp("beats")
    (root / "footage").mkdir()
    kinds = ["testsrc2", "smptebars", "mandelbrot", "gradients", "pan", "life"]
    for i in range(2):
        segs = [Segment(kinds[(i * 3 + k) % len(kinds)], 25 * 3, seed=i + k + 1) for k in range(3)]
        render_footage(root / "footage" / f"clip{i}.mp4", segs, rate=Fraction(25), size=(160, 90))
    y, truth = render(MusicSpec(tempo_bpm=120, sections=(SectionSpec("A", 3, 0.5), SectionSpec("B", 3, 0.95))))
    song = write_audio(root / "song.wav", y, truth.sample_rate)
    return root, song


def _beats(song, cache, *extra):
    return main(["beats", song, "--cache-dir", str(cache), *extra])


def test_beats_prints_the_grid_and_keeps_corrections(project, tmp_path, capsys):
    _, song = project
    cache = tmp_path / "cache"
    assert _beats(song, cache) == 0
    out = capsys.readouterr().out
    assert "120.0 bpm" in out or "119." in out or "120." in out
    assert "4 beats to the bar" in out and "first downbeat" in out and "as tracked" in out
    assert _beats(song, cache, "--half", "--downbeat", "2") == 0
    out = capsys.readouterr().out
    assert "kept half, downbeat 2" in out and "corrected by you: half, downbeat 2" in out
    assert " 60." in out or " 59." in out
    # Clearing the analysis cache does not lose the correction.
    import shutil

    shutil.rmtree(cache)
    assert _beats(song, cache, "--json", "-") == 0
    doc = json.loads(capsys.readouterr().out)
    assert [c["op"] for c in doc["grid_corrections"]] == ["half", "downbeat"]
    assert 58 < doc["tempo_bpm"] < 62
    assert _beats(song, cache, "--downbeat", "7") == 1
    assert "downbeat 7" in capsys.readouterr().err
    assert _beats(song, cache, "--reset") == 0
    out = capsys.readouterr().out
    assert "removed" in out and "as tracked" in out


def test_bad_correction_values_are_one_line_errors(project, capsys):
    _, song = project
    with pytest.raises(SystemExit) as exc:
        main(["beats", song, "--bpm", "fast"])
    assert exc.value.code == 2
    assert "--bpm" in capsys.readouterr().err


def _cut(root, song, out, cache, *extra):
    assert main(["cut", "--media", str(root / "footage"), "--music", song, "--style", "dynamic", "--fps", "25",
                 "--planner", "rules", "-o", str(out), "--cache-dir", str(cache), "--workers", "1", *extra]) == 0
    tl = otio.adapters.read_from_file(str(out))
    v1 = tl.video_tracks()[0]
    cuts = [v1.range_of_child_at_index(i).start_time.to_frames() for i in range(1, len(v1))]
    beats = sorted(int(m.marked_range.start_time.to_frames()) for m in tl.tracks.markers
                   if m.metadata.get("montage_ai", {}).get("kind") == "beat")
    return cuts, beats


def test_a_kept_correction_changes_the_next_cut(project, tmp_path, capsys):
    root, song = project
    cache = tmp_path / "cache"
    cuts1, beats1 = _cut(root, song, tmp_path / "one.otio", cache)
    assert set(cuts1) <= set(beats1)
    assert _beats(song, cache, "--half") == 0
    capsys.readouterr()
    cuts2, beats2 = _cut(root, song, tmp_path / "two.otio", cache)
    assert "using the beat grid you kept (half" in capsys.readouterr().err
    # Every other tracked beat (the cut may end on another bar than the first, so compare spacing, not counts).
    assert set(beats2) <= set(beats1) and len(beats2) >= 2
    index = [beats1.index(b) for b in beats2]
    assert all(j - i == 2 for i, j in zip(index, index[1:]))
    assert set(cuts2) <= set(beats2) and cuts2 != cuts1
    assert set(cuts1) - set(beats2)  # the first cut used beats the halved grid no longer has
    # A correction for one cut only: half then double is the tracked grid again; nothing more is kept.
    cuts3, beats3 = _cut(root, song, tmp_path / "three.otio", cache, "--double")
    # (each cut may end on another bar: the footage fills a different length of each grid)
    n = min(len(beats1), len(beats3))
    assert n >= 4 and all(abs(a - b) <= 1 for a, b in zip(beats3[:n], beats1[:n]))
    capsys.readouterr()
    assert _beats(song, cache) == 0 and "corrected by you: half" in capsys.readouterr().out
    # --keep keeps it; --reset goes back to the tracked grid and the first cut.
    _cut(root, song, tmp_path / "four.otio", cache, "--double", "--keep")
    assert _beats(song, cache) == 0 and "half, double" in capsys.readouterr().out
    assert _beats(song, cache, "--reset") == 0
    cuts5, beats5 = _cut(root, song, tmp_path / "five.otio", cache)
    assert (cuts5, beats5) == (cuts1, beats1)


def test_grid_export_holds_only_the_music_and_markers(project, tmp_path, capsys):
    _, song = project
    cache = tmp_path / "cache"
    assert _beats(song, cache, "--json", str(tmp_path / "g.json")) == 0
    grid = json.loads((tmp_path / "g.json").read_text())
    for name in ("grid.otio", "grid.fcpxml", "grid.xml"):
        assert _beats(song, cache, "--export", str(tmp_path / name)) == 0
    assert "wrote" in capsys.readouterr().out
    n_beats, n_downs, n_sections = len(grid["beat_times_s"]), len(grid["downbeat_times_s"]), len(grid["sections"])

    def kinds(markers):
        return [m.name.split()[0] for m in markers]

    # OTIO's own JSON reader.
    tl = otio.adapters.read_from_file(str(tmp_path / "grid.otio"))
    assert [len(t) for t in tl.video_tracks()] == [0]
    (a1,) = tl.audio_tracks()
    assert len(a1) == 1 and a1[0].media_reference.target_url.endswith("song.wav")
    marks = list(tl.tracks.markers)
    assert kinds(marks).count("beat") == n_beats and kinds(marks).count("downbeat") == n_downs
    assert sum(1 for m in marks if m.color == otio.schema.MarkerColor.GREEN) == n_sections
    first = min(m.marked_range.start_time.to_frames() for m in marks if m.name.startswith("downbeat"))
    assert abs(first / 24 - grid["downbeat_times_s"][0]) <= 1 / 48
    # The official FCP7 XML (Premiere) reader.
    pytest.importorskip("otio_fcp_adapter")
    xml = otio.adapters.read_from_file(str(tmp_path / "grid.xml"), adapter_name="fcp_xml")
    xml = xml if isinstance(xml, otio.schema.Timeline) else xml[0]
    clips = [c for t in xml.tracks for c in t if isinstance(c, otio.schema.Clip)]
    assert len(clips) == 1 and clips[0].name == "song.wav"
    found = list(xml.tracks.markers) + [m for t in xml.tracks for m in t.markers] + [m for c in clips for m in c.markers]
    assert kinds(found).count("beat") == n_beats
    # FCPXML: Apple's DTD (xmllint); the official reader sees the music clip at the song's length
    # (it reads markers on clips only, and ours sit on the spine's gap: checked with our reader).
    import shutil
    import xml.etree.ElementTree as ET

    from montage_ai.core.model.timeline import cut_list_from_timeline
    from montage_ai.otio_adapters import fcpxml
    from montage_ai.otio_adapters.export import read_timeline

    path = tmp_path / "grid.fcpxml"
    if shutil.which("xmllint"):
        dtd = os.path.join(os.path.dirname(fcpxml.__file__), "dtd", "FCPXMLv1_9.dtd")
        done = subprocess.run(["xmllint", "--noout", "--dtdvalid", dtd, str(path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert len(ET.parse(path).getroot().findall(".//spine/gap/marker")) == n_beats + n_downs + n_sections
    cl = cut_list_from_timeline(read_timeline(path))
    assert (len(cl.cuts), len(cl.beats), len(cl.downbeats), len(cl.sections)) == (0, n_beats, n_downs, n_sections)
    assert cl.music_duration == pytest.approx(grid["duration_s"] * 24, abs=1)
    pytest.importorskip("otio_fcpx_xml_adapter")
    fx = otio.adapters.read_from_file(str(path), adapter_name="fcpx_xml")
    fx = fx if isinstance(fx, otio.schema.Timeline) else fx[0]
    music = [c for t in fx.tracks for c in t if isinstance(c, otio.schema.Clip)]
    assert [c.name for c in music] == ["song.wav"]
    assert music[0].source_range.duration.to_frames() == cl.music_duration


def test_analyze_a_song_alone_prints_json_only(project, tmp_path):
    _, song = project
    env = dict(os.environ, MONTAGE_AI_CACHE=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, "-m", "montage_ai.ui.cli.main", "analyze", song, "--json", "-"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)  # nothing but JSON on stdout
    assert doc["footage"] == [] and 118 < doc["music"]["tempo_bpm"] < 122
    assert song in done.stderr  # the summary went to stderr
    done = subprocess.run([sys.executable, "-m", "montage_ai.ui.cli.main", "beats", song, "--json", "-"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0 and json.loads(done.stdout)["meter"] == 4


@pytest.mark.parametrize("argv", [["--help"], ["styles"], ["export", "--help"], ["beats", "--help"]])
def test_commands_without_music_never_import_librosa(argv):
    code = ("import sys\nfrom montage_ai.ui.cli.main import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            "heavy = sorted(m for m in ('librosa', 'numba', 'scipy.signal', 'sklearn') if m in sys.modules)\n"
            "print('HEAVY', heavy, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in done.stderr, done.stderr[-2000:]


def test_export_of_a_timeline_never_imports_librosa(project, tmp_path):
    _, song = project
    assert _beats(song, tmp_path / "cache", "--export", str(tmp_path / "g.otio")) == 0
    code = ("import sys\nfrom montage_ai.ui.cli.main import main\n"
            f"rc = main(['export', {str(tmp_path / 'g.otio')!r}, '--to', 'premiere'])\n"
            "print('HEAVY', rc, 'librosa' in sys.modules, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "HEAVY 0 False" in done.stderr, done.stderr[-2000:]


def test_corrections_parse_in_the_order_given():
    from montage_ai.core.analysis.beat_grid import Correction
    from montage_ai.ui.cli.main import build_parser

    args = build_parser().parse_args(["beats", "s.wav", "--double", "--offset-ms", "-20", "--tap", "1,1.5, 2",
                                      "--meter", "3", "--three-halves", "--two-thirds", "--shift-half", "--bpm", "84"])
    assert args.grid_corrections == [Correction("double"), Correction("offset_ms", -20.0), Correction("tap", (1.0, 1.5, 2.0)),
                                     Correction("meter", 3), Correction("three_halves"), Correction("two_thirds"),
                                     Correction("shift_half"), Correction("bpm", 84.0)]
    cut = build_parser().parse_args(["cut", "--media", "f", "--music", "s.wav", "-o", "c.otio", "--half", "--keep"])
    assert cut.grid_corrections == [Correction("half")] and cut.keep
    plain = build_parser().parse_args(["cut", "--media", "f", "--music", "s.wav", "-o", "c.otio"])
    assert plain.grid_corrections == [] and not plain.keep


def test_the_grid_shows_confidence_and_doubts_when_the_analysis_has_them():
    from montage_ai.core.analysis.beat_grid import BeatGrid, Correction
    from montage_ai.core.run.grid_store import StoredGrid
    from montage_ai.ui.cli.beats import describe

    class Tracked:  # what a tracker with confidence gives (its to_dict), no more
        path, tempo_bpm, meter = "/m/song.wav", 166.0, 4
        beat_times_s, downbeat_times_s, sections = (0.5, 0.86), (0.5,), ()

        def to_dict(self):
            return {"tempo_bpm": 166.0, "confidence": {"tempo": 0.41, "beats": 0.8, "downbeats": 0.35,
                                                       "doubts": ["tempo could be 83 or 166 bpm"],
                                                       "alternatives_bpm": [83.0], "tracker": "neural"}}

    lines = "\n".join(describe(Tracked(), None))
    assert "confidence  tempo 0.41, beats 0.80, downbeats 0.35, or 83.0 bpm (neural)" in lines
    assert "doubt       tempo could be 83 or 166 bpm" in lines and "as tracked (no corrections kept)" in lines
    kept = StoredGrid("/m/song.wav", BeatGrid((0.5,), (0.5,), 4, 2.0), (Correction("half"),), "today")
    lines = "\n".join(describe(Tracked(), kept))
    assert "before your corrections" in lines and "corrected by you: half" in lines
