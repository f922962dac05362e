"""The timeline's format comes from the footage the cut uses; option errors are one clear line."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from montage_ai.core.cut.assembly import assemble
from montage_ai.core.cut.format import checked_rate, used_format
from montage_ai.core.model.cutlist import Cut
from montage_ai.core.plan.planner import RulesPlanner, make_request
from montage_ai.core.plan.styles import load_style
from montage_ai.ui.cli.main import main
from shared_media import shared_dir
from test_cli import small_project  # noqa: F401 - the fixture
from test_planner import footage, music, varied_footage

NTSC24 = Fraction(24000, 1001)


def _cut(shots, style="dynamic", **kw):
    st = load_style(style)
    m = music()
    plan = RulesPlanner().plan(make_request(shots, m, st, duration_s=kw.get("duration_s")))
    return assemble(plan, shots, m, st, **kw)


def test_rate_and_size_come_from_the_clips_with_most_screen_time():
    # Two small SD clips at 25 fps (a few seconds) beside plenty of HD 23.976 footage: the cut
    # is mostly HD, so is the timeline, though the SD clips are the most common rate by count.
    sd = [footage(f"/clips/SD{i}.mp4", Fraction(25), [{"frames": 30}], size=(480, 320)) for i in range(3)]
    hd = varied_footage(rate=NTSC24, files=2, frames=int(NTSC24 * 6))
    cl = _cut(sd + hd, duration_s=20.0)
    by_path = {a.path: a for a in sd + hd}
    time = {}
    for c in cl.cuts:
        v = by_path[c.source_path].media.video
        time[(v.rate, v.display_width, v.display_height)] = time.get((v.rate, v.display_width, v.display_height), 0) \
            + c.record_frames
    top = max(time, key=time.get)
    assert (cl.rate, cl.width, cl.height) == top == (NTSC24, 1920, 1080)


def test_a_tie_in_screen_time_goes_to_the_higher_resolution():
    small = footage("/clips/small.mp4", Fraction(25), [{"frames": 100}], size=(1280, 544))
    big = footage("/clips/big.mp4", Fraction(25), [{"frames": 100}], size=(1920, 1080))
    cuts = [Cut(0, 50, small.path, Fraction(25), 0, 0, 0.5, "intro", "x"),
            Cut(50, 100, big.path, Fraction(25), 0, 0, 0.5, "intro", "x")]
    assert used_format(cuts, {small.path: small, big.path: big}) == (Fraction(25), (1920, 1080))


def test_explicit_rate_and_size_win():
    cl = _cut(varied_footage(rate=NTSC24, files=3), rate=Fraction(25), size=(1280, 720))
    assert (cl.rate, cl.width, cl.height) == (Fraction(25), 1280, 720)


def test_unusual_rates_need_the_option_and_get_a_warning(caplog):
    odd = varied_footage(rate=Fraction(13), files=3, frames=13 * 5)
    cl = _cut(odd)
    assert cl.rate == NTSC24  # the nearest standard rate, and a note saying how to keep 13
    assert any("13 fps, not a standard timeline rate" in n and "--fps 13" in n for n in cl.metadata["notes"])
    forced = _cut(odd, rate=Fraction(13))
    assert forced.rate == Fraction(13)
    assert any("13 fps is not a standard rate" in n for n in forced.metadata["notes"])
    assert "not a standard rate" in caplog.text
    for r in (NTSC24, Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30), Fraction(48000, 1001),
              Fraction(48), Fraction(50), Fraction(60000, 1001), Fraction(60)):
        assert checked_rate(r, given=False) == (r, [])


@pytest.mark.parametrize("value,expect", [("-5", "a positive number of seconds"), ("0", "a positive number"),
                                          ("100", "ask for at most")])
def test_cli_bad_durations_are_one_line_before_any_analysis(small_project, tmp_path, capsys, value, expect):  # noqa: F811
    root, song = small_project
    code = main(["cut", "--media", str(root / "footage"), "--music", song, "--duration", value,
                 "-o", str(tmp_path / "c.otio"), "--no-cache"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and expect in err and err.count("\n") == 0 and err.startswith("error: --duration")
    assert not (tmp_path / "c.otio").exists()


def test_cli_song_section_that_does_not_exist_is_named(small_project, tmp_path, capsys):  # noqa: F811
    root, song = small_project
    code = main(["cut", "--media", str(root / "footage"), "--music", song, "--song-start", "bridge",
                 "-o", str(tmp_path / "c.otio"), "--cache-dir", str(tmp_path / "cache"), "--workers", "1"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 1 and "--song-start 'bridge'" in err and "sections:" in err


def _shared() -> Path | None:
    real = shared_dir("realworld")
    return real.parent if real is not None else None


def _check_every_format(out: Path, rate: Fraction) -> None:
    """A1 ends within one frame of V1 in each export, read by ours and the official readers."""
    import opentimelineio as otio

    from montage_ai.core.model.timeline import cut_list_from_timeline
    from montage_ai.otio_adapters.export import read_timeline

    for suffix in (".otio", ".fcpxml", ".xml"):
        cl = cut_list_from_timeline(read_timeline(out.with_suffix(suffix)))
        assert cl.music_duration == cl.duration, suffix
    official = otio.adapters.read_from_string(out.with_suffix(".xml").read_text(), adapter_name="fcp_xml")
    v1 = official.video_tracks()[0].duration().to_seconds()
    a1 = max(t.duration().to_seconds() for t in official.audio_tracks())
    assert abs(a1 - v1) <= float(1 / rate) + 1e-9
    assert "MUSIC NOT CARRIED" in out.with_suffix(".edl").read_text()


def test_cli_cut_with_a_pattern_and_part_of_the_song(small_project, tmp_path, capsys):  # noqa: F811
    import opentimelineio as otio

    root, song = small_project
    out = tmp_path / "cut.otio"
    assert main(["cut", "--media", str(root / "footage"), "--music", song, "--pattern", "every_bar",
                 "--song-start", "6.1", "--duration", "2", "-o", str(out), "--cache-dir", str(tmp_path / "cache"),
                 "--workers", "1"]) == 0
    summary = capsys.readouterr().out
    assert "style dynamic+every_bar" in summary
    timeline = otio.adapters.read_from_file(str(out))
    song_clip = timeline.audio_tracks()[0][0]
    assert song_clip.source_range.start_time.to_seconds() == pytest.approx(6.3, abs=0.05)  # snapped to the bar at 6.3 s
    _check_every_format(out, Fraction(25))


@pytest.mark.slow
def test_real_clips_cut_to_a_real_song_fit_in_every_format_at_the_used_footages_format(tmp_path):
    shared = _shared()
    if shared is None:
        pytest.skip("no ../shared/realworld beside the repository (set MONTAGE_SHARED)")
    from montage_ai.core.cut.roughcut import RoughCutOptions, make_rough_cut
    from montage_ai.core.run.cache import AnalysisCache
    from montage_ai.otio_adapters.export import DEFAULT_FORMATS, export_path, export_timeline

    real = shared / "realworld"
    result = make_rough_cut([str(real / "footage")], str(real / "music" / "gtzan_pop_00068.flac"),
                            RoughCutOptions(style="dynamic", duration_s=12.0, planner="rules"),
                            cache=AnalysisCache(tmp_path / "cache"))
    cl = result.cut_list
    out = tmp_path / "real.otio"
    for fmt in DEFAULT_FORMATS:
        export_timeline(result.timeline, export_path(out, fmt), fmt)
    _check_every_format(out, cl.rate)
    by_path = {a.path: a for a in result.analyses}
    assert (cl.rate, (cl.width, cl.height)) == used_format(cl.cuts, by_path)
    time = {}
    for c in cl.cuts:
        v = by_path[c.source_path].media.video
        time[v.rate] = time.get(v.rate, 0) + c.record_frames
    assert cl.rate == max(time, key=time.get)


def test_cli_size_option_is_checked(capsys):
    with pytest.raises(SystemExit):
        main(["cut", "--media", "x", "--music", "y", "--size", "big", "-o", "c.otio"])
    assert "'big' is not a frame size (write it as 1920x1080)" in capsys.readouterr().err
