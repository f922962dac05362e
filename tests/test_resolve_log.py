"""Logging into Resolve's media pool through the fake: what the editor wrote is never
overwritten, --dry-run changes nothing, unlog restores the exact previous state."""

from __future__ import annotations

import json

import pytest

import __main__
from fake_resolve import find_clip, make_resolve
from montage_ai.core.analysis.duplicates import shot_hashes
from montage_ai.core.cut.clip_log import clip_logs
from montage_ai.core.cut.selects import SelectsOptions, choose_selects
from montage_ai.core.run.cache import AnalysisCache
from montage_ai.core.run.jobs import analyze_files
from montage_ai.resolve_plugin.direct import DirectClient
from montage_ai.resolve_plugin.media_log import (
    KEYWORD_PREFIX,
    MARKER_COLOR,
    REJECT_COLOR,
    apply_changes,
    caption_words,
    journal_path,
    plan_log,
    plan_unlog,
)
from montage_ai.resolve_plugin.pool import read_pool
from montage_ai.ui.cli.main import main
from selects_media import render_project


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    root = tmp_path_factory.mktemp("resolve log")
    paths = render_project(root)
    cache = AnalysisCache(root / "cache")
    files = [str(paths[k]) for k in ("A", "C", "D")]
    report = analyze_files(files, cache=cache)
    selects = choose_selects(report.analyses, SelectsOptions(), hashes=shot_hashes(report.analyses))
    return {k: str(v) for k, v in paths.items()}, report.analyses, clip_logs(selects, report.analyses), root


def _state(fake) -> dict:
    """Everything logging may touch, for every clip."""
    out = {}
    for folder in [fake.project.pool.root] + list(_folders(fake.project.pool.root)):
        for item in folder.clips:
            out[item.GetName()] = (item.GetMetadata(), item.GetClipColor(), item.GetMarkers())
    return out


def _folders(folder):
    for sub in folder.folders:
        yield sub
        yield from _folders(sub)


def _fake(media):
    paths = media[0]
    fake = make_resolve({"Day 1": [paths["A"], paths["C"], paths["D"]]}, rate="25")
    # What the editor wrote before we came.
    a = find_clip(fake, "A.mp4")
    a.SetMetadata("Description", "Interview, take 2 (editor's words)")
    a.SetMetadata("Keywords", "interview,day one")
    a.AddMarker(0, "Red", "editor's marker", "keep", 1, "")
    find_clip(fake, "D.mp4").SetClipColor("Blue")
    return fake


def test_log_adds_ours_and_never_overwrites_the_editors(media, tmp_path):
    paths, analyses, logs, _ = media
    fake = _fake(media)
    client = DirectClient(fake)
    captions = {(path, s.shot_index): "A surfer riding a wave at the beach"
                for path, log in ((paths["A"], logs[0]), (paths["C"], logs[1])) for s in log.shots}
    changes, notes = plan_log(client, read_pool(client), logs, captions)
    assert notes == []
    assert apply_changes(client, changes, journal=tmp_path / "journal.json") == []
    a, c, d = (find_clip(fake, n) for n in ("A.mp4", "C.mp4", "D.mp4"))
    assert a.GetMetadata("Description") == "Interview, take 2 (editor's words)"
    keywords = a.GetMetadata("Keywords").split(",")
    assert keywords[:2] == ["interview", "day one"] and KEYWORD_PREFIX + "best" in keywords
    assert all(k.startswith(KEYWORD_PREFIX) for k in keywords[2:])
    assert a.GetMarkers()[0]["name"] == "editor's marker"
    ours = [m for m in a.GetMarkers().values() if m["customData"]]
    assert ours and all(m["color"] == MARKER_COLOR and json.loads(m["customData"])["montage_ai"] == "log" for m in ours)
    assert c.GetMetadata("Description") == "A surfer riding a wave at the beach"  # it was empty
    assert {"montage:surfer", "montage:wave"} <= set(c.GetMetadata("Keywords").split(","))
    assert d.GetClipColor() == "Blue"  # the editor's colour stays on a clip with no usable shot


def test_a_rejected_clip_gets_our_colour_only_where_none_is_set(media, tmp_path):
    paths, _, logs, _ = media
    fake = make_resolve({"Day 1": [paths["A"], paths["D"]]}, rate="25")
    client = DirectClient(fake)
    changes, _ = plan_log(client, read_pool(client), logs)
    colours = [c for c in changes if c.kind == "color"]
    assert [c.clip for c in colours] == ["D.mp4"] and colours[0].after == REJECT_COLOR
    assert all(s.status == "reject" for s in next(l for l in logs if l.path == paths["D"]).shots)


def test_unlog_restores_the_exact_previous_state(media, tmp_path):
    paths, _, logs, _ = media
    fake = _fake(media)
    find_clip(fake, "D.mp4").ClearClipColor()  # so our colour is set on D
    client = DirectClient(fake)
    before = _state(fake)
    journal = tmp_path / "journal.json"
    captions = {(paths["C"], s.shot_index): "a red kite over hills" for s in logs[1].shots}
    changes, _ = plan_log(client, read_pool(client), logs, captions)
    assert {c.kind for c in changes} == {"keywords", "marker", "description", "color"}
    apply_changes(client, changes, journal=journal)
    assert _state(fake) != before
    undo = plan_unlog(client, read_pool(client), journal=journal)
    assert apply_changes(client, undo, journal=journal) == []
    assert _state(fake) == before
    assert plan_unlog(client, read_pool(client), journal=journal) == []  # nothing of ours is left


def test_unlog_leaves_what_the_editor_changed_after_the_log(media, tmp_path):
    paths, _, logs, _ = media
    fake = make_resolve({"Day 1": [paths["C"], paths["D"]]}, rate="25")
    client = DirectClient(fake)
    journal = tmp_path / "journal.json"
    captions = {(paths["C"], s.shot_index): "a red kite over hills" for s in logs[1].shots}
    apply_changes(client, plan_log(client, read_pool(client), logs, captions)[0], journal=journal)
    c, d = find_clip(fake, "C.mp4"), find_clip(fake, "D.mp4")
    c.SetMetadata("Description", "kite festival, the editor's own words")
    d.SetClipColor("Teal")
    apply_changes(client, plan_unlog(client, read_pool(client), journal=journal), journal=journal)
    assert c.GetMetadata("Description") == "kite festival, the editor's own words"
    assert d.GetClipColor() == "Teal"
    assert not any(k.startswith(KEYWORD_PREFIX) for k in c.GetMetadata("Keywords").split(","))


def test_cli_dry_run_changes_nothing_then_log_and_unlog(media, monkeypatch, capsys, tmp_path):
    paths, _, _, root = media
    fake = _fake(media)
    monkeypatch.setattr(__main__, "resolve", fake, raising=False)
    before = _state(fake)
    cache = ["--cache-dir", str(root / "cache")]
    assert main(["resolve", "log", "--bin", "Day 1", "--dry-run", "--workers", "1"] + cache) == 0
    out = capsys.readouterr().out
    assert "would A.mp4: add marker at frame" in out and "nothing was changed (--dry-run)" in out
    assert _state(fake) == before
    assert main(["resolve", "log", "--bin", "Day 1", "--workers", "1"] + cache) == 0
    assert _state(fake) != before
    assert journal_path(None, "Fake project").exists()
    assert not (root / "cache" / "resolve-log").exists()  # the journal is the project's data, not cache
    assert main(["resolve", "unlog", "--dry-run"]) == 0
    assert "would A.mp4: remove our marker" in capsys.readouterr().out
    assert main(["resolve", "unlog"]) == 0
    assert _state(fake) == before


def test_caption_words_are_subject_words():
    assert caption_words("The view of a mountain lake with two boats") == ["mountain", "lake", "boats"]
    assert caption_words("") == []


# --- Editor metadata is sacred: unlog takes back only what the journal says we added --------


def _editor_keywords_fake(media):
    paths = media[0]
    fake = make_resolve({"Day 1": [paths["A"], paths["C"], paths["D"]]}, rate="25")
    find_clip(fake, "A.mp4").SetMetadata("Keywords", "hero, sunset ,  day one,montage:opening")
    find_clip(fake, "D.mp4").SetMetadata("Keywords", "montage:final-cut")
    return fake


def test_unlog_without_a_log_changes_nothing_of_the_editors(media, tmp_path):
    fake = _editor_keywords_fake(media)
    client = DirectClient(fake)
    before = _state(fake)
    journal = journal_path(tmp_path, "Fake project")
    assert plan_unlog(client, read_pool(client), journal=journal) == []
    apply_changes(client, plan_unlog(client, read_pool(client), journal=journal), journal=journal)
    assert _state(fake) == before
    assert find_clip(fake, "A.mp4").GetMetadata("Keywords") == "hero, sunset ,  day one,montage:opening"


def test_log_unlog_log_unlog_keeps_every_byte_of_the_editors_keywords(media, tmp_path):
    paths, _, logs, _ = media
    fake = _editor_keywords_fake(media)
    client = DirectClient(fake)
    before = _state(fake)
    journal = journal_path(tmp_path, "Fake project")
    for _ in range(2):
        assert apply_changes(client, plan_log(client, read_pool(client), logs)[0], journal=journal) == []
        a = find_clip(fake, "A.mp4").GetMetadata("Keywords")
        assert a.startswith("hero, sunset ,  day one,montage:opening,") and "montage:best" in a
        # a second log adds nothing twice
        assert [c for c in plan_log(client, read_pool(client), logs)[0] if c.kind == "keywords"] == []
        assert apply_changes(client, plan_unlog(client, read_pool(client), journal=journal), journal=journal) == []
        assert _state(fake) == before
    assert plan_unlog(client, read_pool(client), journal=journal) == []


def test_edits_between_log_and_unlog_stay_the_editors(media, tmp_path):
    paths, _, logs, _ = media
    fake = _editor_keywords_fake(media)
    client = DirectClient(fake)
    journal = journal_path(tmp_path, "Fake project")
    apply_changes(client, plan_log(client, read_pool(client), logs)[0], journal=journal)
    a = find_clip(fake, "A.mp4")
    ours = a.GetMetadata("Keywords").split(",")[4:]
    assert ours and "montage:best" in ours
    # The editor adds a keyword after ours, and a marker with a customData that looks like ours.
    a.SetMetadata("Keywords", a.GetMetadata("Keywords") + ", montage:closer ,extra")
    a.AddMarker(7, "Red", "editor", "", 1, json.dumps({"montage_ai": "log", "shot": 0}))
    apply_changes(client, plan_unlog(client, read_pool(client), journal=journal), journal=journal)
    assert a.GetMetadata("Keywords") == "hero, sunset ,  day one,montage:opening, montage:closer ,extra"
    assert [m["name"] for m in a.GetMarkers().values()] == ["editor"]


def test_a_cleared_cache_does_not_orphan_what_we_logged(media, tmp_path, monkeypatch):
    """The journal lives in the user data folder: a log, the cache folder deleted, then an
    unlog still takes our Description, keywords and markers out."""
    import shutil

    paths, _, logs, _ = media
    fake = _editor_keywords_fake(media)
    client = DirectClient(fake)
    before = _state(fake)
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_dir))
    captions = {(paths["C"], s.shot_index): "a red kite over hills" for s in logs[1].shots}
    apply_changes(client, plan_log(client, read_pool(client), logs, captions)[0],
                  journal=journal_path(None, "Fake project"), project="Fake project")
    assert find_clip(fake, "C.mp4").GetMetadata("Description") == "a red kite over hills"
    shutil.rmtree(cache_dir, ignore_errors=True)
    journal = journal_path(None, "Fake project")
    assert journal.exists() and json.loads(journal.read_text())["project"] == "Fake project"
    apply_changes(client, plan_unlog(client, read_pool(client), journal=journal), journal=journal)
    assert _state(fake) == before


def test_journals_of_projects_never_collide(tmp_path):
    assert journal_path(tmp_path, "Day 1/2") != journal_path(tmp_path, "Day 1:2")
