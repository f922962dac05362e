"""Pushing a cut list into Resolve through the fake: frame-exact items, markers, read-back,
names never reused, partial failures. Every push test runs over each live route: the direct
API, the in-app Python bridge (run by this Python and by Python 3.6, the oldest Resolve
documents) and the Lua bridge (each a subprocess whose ``resolve`` is this fake), so the same
checks hold whichever route the editor's edition allows."""

from __future__ import annotations

import json
import os

import pytest

from bridge_harness import LUAJIT, NO_LUAJIT, OLD_PYTHON, RouteClients
from fake_resolve import Behaviour, find_clip, make_resolve
from montage_ai.core.base.errors import Cancelled
from montage_ai.resolve_plugin import xml_fallback
from montage_ai.resolve_plugin.errors import PushError
from montage_ai.resolve_plugin.push import plan_markers, push_cut_list, unique_name
from resolve_media import make_cut_list, make_media


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return make_media(tmp_path_factory.mktemp("resolve push"))


@pytest.fixture(params=["direct", "bridge-python", "bridge-python3.6", "bridge-lua"])
def client_for(request, tmp_path):
    """``client_for(resolve)``: a client of the route under test for that fake Resolve."""
    if request.param == "bridge-lua" and not LUAJIT:
        pytest.skip(NO_LUAJIT)
    if request.param == "bridge-python3.6" and not OLD_PYTHON:
        pytest.skip("no Python 3.6 here to run the Python bridge as an old Resolve would")
    clients = RouteClients(request.param, tmp_path)
    yield clients
    clients.close()


def _resolve(media, behaviour=None, with_song=True, rate="23.976"):
    bins = {"Day 1": [media["a"], media["b"]], "Day 2/PAL": [media["c"]]}
    if with_song:
        bins["Music"] = [media["song"]]
    return make_resolve(bins, rate=rate, behaviour=behaviour)


def _no_fallback(monkeypatch):
    monkeypatch.setattr(xml_fallback, "unavailable_reason", lambda: "not in this test")


def test_push_places_every_cut_frame_exact(media, client_for):
    resolve = _resolve(media)
    cut_list = make_cut_list(media)
    report = push_cut_list(client_for(resolve), cut_list)
    assert report.ok, report.mismatches
    timeline = resolve.project.timeline("Rough cut")
    start = timeline.GetStartFrame()
    items = timeline.GetItemListInTrack("video", 1)
    got = [(it.GetStart() - start, it.GetDuration(), it.GetLeftOffset(), os.path.basename(it.GetMediaPoolItem().GetClipProperty("File Path")))
           for it in items]
    assert got == [(0, 12, 5, "A001 café.mp4"), (12, 18, 3, "B002.mp4"), (30, 17, 2, "C003 pal.mp4"),
                   (47, 13, 30, "A001 café.mp4")]
    assert report.route == "append" and report.end_frame_inclusive is True and report.items_placed == 5


def test_push_sets_the_cut_rate_and_size_on_the_new_timeline(media, client_for):
    resolve = _resolve(media, rate="25")
    report = push_cut_list(client_for(resolve), make_cut_list(media))
    assert report.ok, report.mismatches  # the song came in at the project's 25 fps: converted to 60 frames
    timeline = resolve.project.timeline("Rough cut")
    assert timeline.GetSetting("timelineFrameRate") == "23.976"
    assert (timeline.GetSetting("timelineResolutionWidth"), timeline.GetSetting("timelineResolutionHeight")) == ("64", "36")
    assert timeline.GetStartFrame() == 86400
    assert resolve.project.GetSetting("timelineFrameRate") == "25"  # the project is not changed


def test_push_puts_the_music_alone_on_audio_track_1(media, client_for):
    resolve = _resolve(media)
    push_cut_list(client_for(resolve), make_cut_list(media))
    timeline = resolve.project.timeline("Rough cut")
    audio = timeline.GetItemListInTrack("audio", 1)
    assert [(a.GetMediaPoolItem().GetName(), a.GetStart() - timeline.GetStartFrame(), a.GetDuration()) for a in audio] == \
        [("song.wav", 0, 60)]


def test_push_adds_one_marker_per_frame_coloured_by_kind(media, client_for):
    resolve = _resolve(media)
    push_cut_list(client_for(resolve), make_cut_list(media))
    markers = resolve.project.timeline("Rough cut").GetMarkers()
    assert {f: (m["color"], m["duration"]) for f, m in markers.items()} == {
        0: ("Green", 30), 12: ("Blue", 1), 24: ("Blue", 1), 30: ("Green", 30), 36: ("Blue", 1), 48: ("Red", 1)}
    kinds = [m["kind"] for m in json.loads(markers[0]["customData"])["montage_ai"]["marks"]]
    assert kinds == ["section", "downbeat", "beat"]
    assert json.loads(markers[30]["customData"])["montage_ai"]["marks"][0]["phase"] == "climax"


def test_markers_outside_the_cut_are_not_planned(media):
    cut_list = make_cut_list(media, beats=(0, 59, 60, 75))
    assert [m.frame for m in plan_markers(cut_list) if m.color == "Blue"] == [59]


def test_push_never_reuses_or_changes_a_taken_name(media, client_for):
    resolve = _resolve(media)
    pool = resolve.project.GetMediaPool()
    mine = pool.CreateEmptyTimeline("Rough cut")
    pool.CreateEmptyTimeline("Rough cut 2")
    report = push_cut_list(client_for(resolve), make_cut_list(media))
    assert report.timeline_name == "Rough cut 3"
    assert mine.GetItemListInTrack("video", 1) == [] and mine.GetMarkers() == {}
    assert unique_name("Cut", ["Cut", "Cut 2"]) == "Cut 3"


def test_push_imports_sources_missing_from_the_pool(media, client_for):
    resolve = _resolve(media, with_song=False)
    report = push_cut_list(client_for(resolve), make_cut_list(media))
    assert report.ok and report.imported == (os.path.abspath(media["song"]),)
    assert [c for c in resolve.behaviour.calls if c[0] == "ImportMedia"] == [("ImportMedia", ((os.path.abspath(media["song"]),),))]
    assert find_clip(resolve, "song.wav") in resolve.project.pool.root.clips  # into the current bin


def test_push_reports_a_read_back_mismatch_and_leaves_the_timeline(media, client_for):
    resolve = _resolve(media, Behaviour(places_one_frame_late=True))
    report = push_cut_list(client_for(resolve), make_cut_list(media))
    assert not report.ok
    assert "cut 1 (A001 café.mp4): shows source frame 6 first, expected 5" in report.mismatches
    assert "cut 3 (C003 pal.mp4): shows source frame 3 first, expected 2" in report.mismatches
    assert resolve.project.timeline("Rough cut") is not None and not resolve.project.deleted


def test_a_source_start_read_one_frame_off_is_settled_by_the_left_offset(media, client_for):
    resolve = _resolve(media, Behaviour(source_start_off_by_one=True))
    report = push_cut_list(client_for(resolve), make_cut_list(media))
    # The 25 fps clip has no second reading at another rate: its one-off start is reported.
    assert report.mismatches == ("cut 3 (C003 pal.mp4): shows source frame 3 first, expected 2",)
    assert any("GetLeftOffset" in note for note in report.notes)


def test_source_frames_counted_from_the_timecode_are_accepted(media, client_for):
    resolve = _resolve(media, Behaviour(source_frames_from_timecode=True))
    report = push_cut_list(client_for(resolve), make_cut_list(media))
    assert report.ok, report.mismatches
    assert any("start timecode" in note for note in report.notes)


def test_exclusive_end_frame_is_detected_and_the_timeline_rebuilt(media, client_for):
    resolve = _resolve(media, Behaviour(end_frame_exclusive=True))
    client = client_for(resolve)
    report = push_cut_list(client, make_cut_list(media))
    assert report.ok, report.mismatches
    assert client.end_frame_inclusive is False and report.timeline_name == "Rough cut"
    assert resolve.project.deleted == ["Rough cut"]  # the first try, one frame short, ours
    # Decided once per connection: the next push builds one timeline.
    assert push_cut_list(client, make_cut_list(media)).ok and resolve.project.deleted == ["Rough cut"]


def test_an_append_that_places_nothing_stops_and_leaves_the_partial_timeline(media, monkeypatch, client_for):
    _no_fallback(monkeypatch)
    resolve = _resolve(media, Behaviour(append_fails_from_call=3))
    with pytest.raises(PushError) as info:
        push_cut_list(client_for(resolve), make_cut_list(media))
    text = str(info.value)
    assert "placed nothing for cut 3 of 4" in text and "C003 pal.mp4" in text and "not in this test" in text
    assert info.value.timeline == "Rough cut"
    assert len(resolve.project.timeline("Rough cut").GetItemListInTrack("video", 1)) == 2


def test_a_locked_track_is_reported(media, monkeypatch, client_for):
    _no_fallback(monkeypatch)
    resolve = _resolve(media, Behaviour(locked_track=("video", 1)))
    with pytest.raises(PushError, match="placed nothing for cut 1 of 4.*locked track"):
        push_cut_list(client_for(resolve), make_cut_list(media))


def test_a_timeline_rate_resolve_refuses_is_reported(media, monkeypatch, client_for):
    _no_fallback(monkeypatch)
    resolve = _resolve(media, Behaviour(fixed_timeline_rate=True), rate="25")
    with pytest.raises(PushError, match="kept timeline 'Rough cut' at 25 fps instead of 23.976"):
        push_cut_list(client_for(resolve), make_cut_list(media))


def test_a_pool_clip_at_another_rate_stops_the_push_before_anything_is_made(media, client_for):
    resolve = _resolve(media)
    find_clip(resolve, "C003 pal.mp4").SetClipProperty("FPS", "24")
    with pytest.raises(PushError, match="C003 pal.mp4: Resolve reads it at 24/1 fps, the cut list counts it at 25/1"):
        push_cut_list(client_for(resolve), make_cut_list(media))
    assert resolve.project.timelines == []


def test_cancel_removes_the_incomplete_timeline(media, client_for):
    resolve = _resolve(media)
    calls = []
    with pytest.raises(Cancelled):
        push_cut_list(client_for(resolve), make_cut_list(media), cancel=lambda: calls.append(1) or len(calls) > 2)
    assert resolve.project.timelines == [] and resolve.project.deleted == ["Rough cut"]


def test_items_without_unique_ids_still_push(media, client_for):
    resolve = _resolve(media, Behaviour(null_unique_ids=True))
    assert push_cut_list(client_for(resolve), make_cut_list(media)).ok


def test_proxies_are_linked_when_they_exist(media, tmp_path, client_for):
    resolve = _resolve(media)
    proxy = tmp_path / "B002_proxy.mov"
    proxy.write_bytes(b"proxy")
    report = push_cut_list(client_for(resolve), make_cut_list(media),
                           proxies={media["b"]: str(proxy), media["c"]: str(tmp_path / "missing.mov")})
    assert report.proxies_linked == (os.path.abspath(media["b"]),)
    assert find_clip(resolve, "B002.mp4").proxy == str(proxy)
    assert any("missing.mov" in note for note in report.notes)


def test_progress_reaches_one(media, client_for):
    seen = []
    push_cut_list(client_for(_resolve(media)), make_cut_list(media), progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen)


@pytest.mark.skipif(bool(xml_fallback.unavailable_reason()), reason="the FCP7 XML writer "
                    "(montage_ai.otio_adapters.export) is not in this tree yet: " + xml_fallback.unavailable_reason())
def test_fcp7_xml_fallback_replaces_a_failed_per_item_push(media, client_for):
    from montage_ai.core.model.timeline import build_timeline

    resolve = _resolve(media, Behaviour(append_fails_from_call=3))
    cut_list = make_cut_list(media)
    report = push_cut_list(client_for(resolve), cut_list, timeline=build_timeline(cut_list))
    assert report.route == "fcp7-xml" and report.ok, report.mismatches
    assert [t.GetName() for t in resolve.project.timelines] == ["Rough cut"]
    imported = [c for c in resolve.behaviour.calls if c[0] == "ImportTimelineFromFile"]
    assert imported and imported[0][1][1] == ("importSourceClips", "sourceClipsFolders", "timelineName")
