"""The shot report: self-contained HTML (thumbnails embedded) and a CSV with one row per shot."""

from __future__ import annotations

import base64
import csv
import io
import os
import shutil
import subprocess
from dataclasses import dataclass, fields
from html.parser import HTMLParser
from pathlib import Path

import cv2
import numpy as np
import pytest

from montage_ai.core.analysis.duplicates import shot_hashes
from montage_ai.core.analysis.footage import FootageAnalysis, Shot, analyze_footage
from montage_ai.core.analysis.music import analyze_music
from montage_ai.core.base.fileio import OutputExistsError
from montage_ai.core.cut.selects import choose_selects
from montage_ai.core.render.report import CSV_COLUMNS, report_html, shot_thumbnails, write_report
from montage_ai.core.samples.footage import Segment, render_footage
from montage_ai.core.samples.music import MusicSpec, SectionSpec, render, write_audio
from montage_ai.ui.cli.main import main
from selects_media import SIZE, render_project

BROKEN = "broken.mp4: ffprobe cannot read it"


class Page(HTMLParser):
    """Collects what the tests check: images, links, scripts, text."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.external: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("src", ""))
        for key in ("src", "href"):
            if a.get(key) and not a[key].startswith("data:"):
                self.external.append(a[key])

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    paths = render_project(root / "footage")
    odd = root / "footage" / "odd"
    odd.mkdir()
    render_footage(odd / "rotated.mp4", [Segment("smptebars", 30)], size=SIZE, rotation=90)
    render_footage(odd / "vfr.mp4", [Segment("life", 40, seed=9)], size=SIZE, drop_every=5)
    analyses = [analyze_footage(str(p), mode="full")
                for p in list(paths.values()) + [odd / "rotated.mp4", odd / "vfr.mp4"]]
    y, _ = render(MusicSpec(tempo_bpm=120, sections=(SectionSpec("A", 2, 0.4), SectionSpec("B", 2, 0.95)), tail_s=0.5))
    music = analyze_music(write_audio(root / "song.wav", y, 22050))
    selects = choose_selects(analyses, hashes=shot_hashes(analyses),
                             failures=[(str(root / "broken.mp4"), f"{root}/{BROKEN}")])
    html_path, csv_path = write_report(root / "report.html", analyses, selects, music=music)
    return root, analyses, selects, music, html_path, csv_path


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def test_report_parses_as_html_and_embeds_every_thumbnail(project):
    _, analyses, _, _, html_path, _ = project
    page = parse(html_path)
    assert page.tags[0] == "html" and "body" in page.tags
    n_shots = sum(len(a.shots) for a in analyses)
    assert len(page.images) == n_shots
    for uri in page.images:
        assert uri.startswith("data:image/jpeg;base64,")
        image = cv2.imdecode(np.frombuffer(base64.b64decode(uri.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape[1] == 192


def test_report_needs_no_other_file(project):
    _, _, _, _, html_path, _ = project
    page = parse(html_path)
    assert page.external == [] and "script" not in page.tags and "link" not in page.tags


def test_csv_has_one_row_per_shot_and_one_per_unreadable_clip(project):
    _, analyses, selects, _, _, csv_path = project
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    shots = [r for r in rows if r["shot"] != ""]
    assert [(r["path"], int(r["shot"])) for r in shots] == [(a.path, s.index) for a in analyses for s in a.shots]
    unreadable = [r for r in rows if r["shot"] == ""]
    assert [r["status"] for r in unreadable] == ["unreadable"] and BROKEN in unreadable[0]["reasons"]
    assert {r["status"] for r in shots} == {"select", "reject"}
    assert all(r["reasons"] for r in shots)


def test_report_shows_every_kind_of_flag_and_the_music(project):
    _, _, _, music, html_path, csv_path = project
    text = html_path.read_text(encoding="utf-8")
    flags = {f for r in csv.DictReader(io.StringIO(csv_path.read_text())) for f in r["flags"].split("; ") if f}
    assert {"black", "blur", "shake", "duplicate", "dark", "bright", "vfr", "rotated", "unreadable"} <= flags
    for flag in ("black", "blur", "shake", "duplicate", "vfr", "rotated", "unreadable"):
        assert f">{flag}</span>" in text
    assert "<svg" in text and text.count('stroke="#e05050"') == len(music.downbeat_times_s)
    assert f"{music.tempo_bpm:.1f} bpm" in text


def test_report_without_music_has_no_chart(project, tmp_path):
    _, analyses, selects, _, _, _ = project
    page = report_html(analyses[:1], selects, {})
    assert "<svg" not in page and "no picture" in page


@dataclass(frozen=True)
class CaptionedShot(Shot):
    """A shot with a caption, as the vision-caption analysis will store it."""

    caption: str | None = None


def test_a_caption_is_shown_escaped_when_the_shot_has_one(project):
    _, analyses, selects, _, _, _ = project
    a = analyses[0]
    shot = a.shots[0]
    captioned = CaptionedShot(**{f.name: getattr(shot, f.name) for f in fields(Shot)},
                              caption="Two people <laughing> & waving")
    b = FootageAnalysis(**{**{f.name: getattr(a, f.name) for f in fields(FootageAnalysis)},
                           "shots": (captioned,) + a.shots[1:]})
    page = report_html([b], selects, {})
    assert "Two people &lt;laughing&gt; &amp; waving" in page and "<laughing>" not in page


def test_report_never_overwrites_without_force(project, tmp_path):
    _, analyses, selects, _, _, _ = project
    mine = tmp_path / "r.csv"
    mine.write_text("the editor's sheet")
    with pytest.raises(OutputExistsError):
        write_report(tmp_path / "r.html", analyses, selects)
    assert mine.read_text() == "the editor's sheet" and not (tmp_path / "r.html").exists()


def test_thumbnails_come_from_the_cache_when_the_analysis_wrote_them(project, tmp_path):
    _, analyses, _, _, _, _ = project
    a = analyze_footage(analyses[0].path, mode="full", thumbnail_dir=str(tmp_path / "thumbs"))
    thumbs = shot_thumbnails([a])
    assert len(thumbs) == len(a.shots) and all(s.thumbnail for s in a.shots)


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.skipif(_chromium() is None, reason="no Chromium or Chrome on PATH (chromium, chromium-browser, "
                                                "google-chrome): the rendered look is not checked")
def test_report_renders_in_headless_chromium(project, tmp_path):
    _, _, _, _, html_path, _ = project
    shots = Path(os.environ.get("MONTAGE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    png = shots / "shot_report.png"
    subprocess.run([_chromium(), "--headless=new", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
                    "--window-size=1280,1600", f"--screenshot={png}", html_path.as_uri()],
                   check=True, timeout=120, capture_output=True)
    image = cv2.imread(str(png))
    assert image is not None and image.shape[:2] == (1600, 1280)
    # the page's dark background and the thumbnails' colours are there, not a blank page
    assert len(np.unique(image.reshape(-1, 3)[::97], axis=0)) > 50


def test_cli_report_writes_html_and_csv(project, capsys):
    root, _, _, _, _, _ = project
    out = root / "cli" / "report.html"
    code = main(["report", str(root / "footage" / "day1"), "--music", str(root / "song.wav"), "-o", str(out),
                 "--cache-dir", str(root / "cache"), "--workers", "1"])
    assert code == 0
    assert out.exists() and out.with_suffix(".csv").exists()
    assert "selects" in capsys.readouterr().out
    assert "<svg" in out.read_text()
