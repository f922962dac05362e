"""Reading Resolve's media pool and project through the client, and Resolve's rate strings."""

from __future__ import annotations

from fractions import Fraction

import pytest

from fake_resolve import Behaviour, FakeResolve, find_clip, make_resolve
from montage_ai.resolve_plugin.direct import DirectClient
from montage_ai.resolve_plugin.errors import ResolveError
from montage_ai.resolve_plugin.pool import read_pool, read_project, read_selection
from montage_ai.resolve_plugin.rates import format_resolve_rate, parse_resolve_rate
from resolve_media import NTSC24, make_media


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return make_media(tmp_path_factory.mktemp("resolve pool"))


@pytest.fixture
def resolve(media):
    return make_resolve({"Day 1": [media["a"], media["b"], ("Timeline 1", "Timeline")],
                         "Day 1/Cam B": [media["c"], ("Comp 1", "Compound")],
                         "Music": [media["song"], ("Solid Color", "Generator")]}, rate="29.97 DF")


def test_pool_reads_as_a_tree_of_bins(resolve):
    tree = read_pool(DirectClient(resolve))
    assert [("/".join(b.path), [c.name for c in b.clips]) for b in tree.root.walk()] == [
        ("Master", []), ("Master/Day 1", ["A001 café.mp4", "B002.mp4"]), ("Master/Day 1/Cam B", ["C003 pal.mp4"]),
        ("Master/Music", ["song.wav"])]


def test_clip_properties_become_exact_values(resolve, media):
    clip = read_pool(DirectClient(resolve)).find_bin("Day 1").clips[0]
    assert (clip.file_path, clip.rate, clip.frames, clip.width, clip.height, clip.start_tc) == \
        (media["a"], NTSC24, 48, 64, 36, "01:00:00:00")
    assert clip.has_video and not clip.has_audio_only
    pal = read_pool(DirectClient(resolve)).find_bin("Cam B").clips[0]
    assert pal.rate == Fraction(25) and pal.frames == 50


def test_items_without_a_file_are_skipped_with_the_reason(resolve):
    skipped = read_pool(DirectClient(resolve)).skipped
    assert [(s.name, s.type, "/".join(s.bin_path)) for s in skipped] == [
        ("Timeline 1", "Timeline", "Master/Day 1"), ("Comp 1", "Compound", "Master/Day 1/Cam B"),
        ("Solid Color", "Generator", "Master/Music")]
    assert "without a media file" in skipped[0].reason


def test_a_clip_with_an_unreadable_rate_is_skipped_not_fatal(resolve):
    find_clip(resolve, "B002.mp4").SetClipProperty("FPS", "fast")
    tree = read_pool(DirectClient(resolve))
    assert [c.name for c in tree.find_bin("Day 1").clips] == ["A001 café.mp4"]
    assert "unreadable frame rate" in [s for s in tree.skipped if s.name == "B002.mp4"][0].reason


def test_find_bin_by_name_or_path_and_names_the_bins_when_missing(resolve):
    tree = read_pool(DirectClient(resolve))
    assert tree.find_bin("Day 1/Cam B").name == "Cam B"
    with pytest.raises(ResolveError, match="no bin 'Day 9'.*Master/Day 1/Cam B"):
        tree.find_bin("Day 9")


def test_selection_wins_over_the_current_bin(resolve):
    pool = resolve.project.GetMediaPool()
    client = DirectClient(resolve)
    pool.SetCurrentFolder(pool.GetRootFolder().GetSubFolderList()[0])
    clips, source = read_selection(client)
    assert source == "bin Master/Day 1" and [c.name for c in clips] == ["A001 café.mp4", "B002.mp4"]
    pool.selected = [find_clip(resolve, "C003 pal.mp4")]
    clips, source = read_selection(client)
    assert source == "selection" and [c.name for c in clips] == ["C003 pal.mp4"]


def test_project_settings_give_exact_rate_and_drop_frame(resolve):
    settings = read_project(DirectClient(resolve))
    assert (settings.name, settings.rate, settings.drop_frame, settings.width, settings.height) == \
        ("Fake project", Fraction(30000, 1001), True, 1920, 1080)


def test_no_open_project_is_a_clear_error():
    with pytest.raises(ResolveError, match="no project is open"):
        read_pool(DirectClient(FakeResolve(None)))


def test_product_and_version_are_read(resolve):
    info = DirectClient(resolve).product()
    assert (info.name, info.version) == ("DaVinci Resolve Studio", "19.1.3.7")


@pytest.mark.parametrize("text, rate, drop", [
    ("23.976", Fraction(24000, 1001), False), ("24", Fraction(24), False), ("29.97", Fraction(30000, 1001), False),
    ("29.97 DF", Fraction(30000, 1001), True), ("47.952", Fraction(48000, 1001), False),
    ("59.94", Fraction(60000, 1001), False), ("119.88", Fraction(120000, 1001), False), ("25.000", Fraction(25), False),
    ("29.970", Fraction(30000, 1001), False), ("12.5", Fraction(25, 2), False)])
def test_resolve_rate_strings_parse_to_exact_fractions(text, rate, drop):
    assert parse_resolve_rate(text) == (rate, drop)


def test_rate_strings_round_trip_and_unknown_rates_are_refused():
    assert format_resolve_rate(Fraction(48000, 1001)) == "47.952"
    with pytest.raises(ValueError, match="no timeline rate 15/1"):
        format_resolve_rate(Fraction(15))
    with pytest.raises(ValueError):
        parse_resolve_rate("")


# ---------------------------------------------------------------------------- the fake itself
def test_fake_end_frame_is_the_last_frame_included(resolve):
    pool = resolve.project.GetMediaPool()
    timeline = pool.CreateEmptyTimeline("T")
    assert timeline.SetSetting("timelineFrameRate", "23.976") is False  # custom settings first
    assert timeline.SetSetting("useCustomSettings", "1") and timeline.SetSetting("timelineFrameRate", "23.976")
    items = pool.AppendToTimeline([{"mediaPoolItem": find_clip(resolve, "B002.mp4"), "startFrame": 0, "endFrame": 9,
                                    "mediaType": 1}])
    assert [it.GetDuration() for it in items] == [10] and timeline.GetItemListInTrack("video", 1) == items


def test_fake_clip_at_another_rate_is_floored_to_timeline_frames(resolve):
    pool = resolve.project.GetMediaPool()
    pool.CreateEmptyTimeline("T")  # 29.97 project, a 23.976 clip: 10 frames last 12.5 -> 12
    items = pool.AppendToTimeline([{"mediaPoolItem": find_clip(resolve, "B002.mp4"), "startFrame": 0, "endFrame": 9,
                                    "mediaType": 1}])
    assert [it.GetDuration() for it in items] == [12]


def test_fake_refuses_taken_timeline_names(resolve):
    pool = resolve.project.GetMediaPool()
    first = pool.CreateEmptyTimeline("T")
    assert pool.CreateEmptyTimeline("T") is None
    assert pool.CreateEmptyTimeline("U").SetName("T") is False and first.GetName() == "T"


def test_fake_create_timeline_from_clips_keeps_one_copy_of_a_repeated_item(resolve):
    pool = resolve.project.GetMediaPool()
    clip = find_clip(resolve, "B002.mp4")
    timeline = pool.CreateTimelineFromClips("T", [clip, clip])
    assert len(timeline.GetItemListInTrack("video", 1)) == 1


def test_fake_markers_are_offsets_one_per_frame(resolve):
    pool = resolve.project.GetMediaPool()
    timeline = pool.CreateEmptyTimeline("T")
    pool.AppendToTimeline([find_clip(resolve, "B002.mp4")])
    assert timeline.AddMarker(0, "Blue", "b", "", 1, "x")
    assert not timeline.AddMarker(0, "Red", "again", "", 1, "")
    assert not timeline.AddMarker(5, "Orange", "unknown colour", "", 1, "")
    assert list(timeline.GetMarkers()) == [0]


def test_fake_overlapping_append_is_silently_dropped(resolve):
    pool = resolve.project.GetMediaPool()
    timeline = pool.CreateEmptyTimeline("T")
    clip = find_clip(resolve, "B002.mp4")
    start = timeline.GetStartFrame()
    assert pool.AppendToTimeline([{"mediaPoolItem": clip, "startFrame": 0, "endFrame": 9, "recordFrame": start,
                                   "mediaType": 1}])
    assert pool.AppendToTimeline([{"mediaPoolItem": clip, "startFrame": 20, "endFrame": 29, "recordFrame": start + 5,
                                   "mediaType": 1}]) == []


def test_fake_failures_are_returned_not_raised():
    resolve = make_resolve({}, behaviour=Behaviour())
    pool = resolve.project.GetMediaPool()
    assert pool.AppendToTimeline([{"mediaPoolItem": None}]) == []
    assert pool.ImportTimelineFromFile("/no/such.xml", {}) is None
    assert resolve.project.GetTimelineByIndex(1) is None
    assert pool.ImportMedia(["/no/such.mov"]) == []


def test_fake_imports_fcp7_xml_against_pool_clips(resolve, tmp_path, media):
    """The fake's ImportTimelineFromFile (used by the FCP7 XML fallback's test): the name
    inside the file wins, clips relink from sourceClipsFolders, taken names are refused."""
    from pathlib import Path

    url = Path(media["b"]).as_uri().replace("file://", "file://localhost")
    xml = tmp_path / "cut.xml"
    xml.write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<xmeml version="4"><sequence><name>From XML</name><rate><timebase>24</timebase><ntsc>TRUE</ntsc></rate>
<media><video><track><clipitem id="c1"><start>0</start><end>10</end><in>4</in><out>14</out>
<file id="f1"><pathurl>{url}</pathurl></file></clipitem>
<clipitem id="c2"><start>10</start><end>15</end><in>20</in><out>25</out><file id="f1"/></clipitem>
</track></video></media></sequence></xmeml>""")
    pool = resolve.project.GetMediaPool()
    day1 = pool.GetRootFolder().GetSubFolderList()[0]
    options = {"timelineName": "ignored", "importSourceClips": False, "sourceClipsFolders": [day1]}
    timeline = pool.ImportTimelineFromFile(str(xml), options)
    items = timeline.GetItemListInTrack("video", 1)
    assert timeline.GetName() == "From XML" and timeline.GetSetting("timelineFrameRate") == "23.976"
    assert [(i.GetStart() - timeline.GetStartFrame(), i.GetDuration(), i.GetSourceStartFrame(),
             i.GetMediaPoolItem().GetName()) for i in items] == [(0, 10, 4, "B002.mp4"), (10, 5, 20, "B002.mp4")]
    assert pool.ImportTimelineFromFile(str(xml), options) is None


def test_the_direct_route_implements_the_client_interface(resolve):
    from montage_ai.resolve_plugin.client import ResolveClient

    client = DirectClient(resolve)
    assert isinstance(client, ResolveClient) and client.route == "direct" and client.end_frame_inclusive is None
