"""Shot captions from a vision model in (fake) Ollama: computed once per shot and model,
cached with the analysis, cleaned, carried into the planner's prompt, and left out when
there is no vision model or no server."""

from __future__ import annotations

import base64
import datetime as dt
import os
from dataclasses import replace
from fractions import Fraction

import cv2
import numpy as np
import pytest

from fake_ollama import FakeOllama, closed_port_host
from montage_ai.core.cut.roughcut import RoughCutOptions, choose_planner
from montage_ai.core.plan.captions import CAPTION_PROMPT, caption_shots
from montage_ai.core.plan.ollama_config import OllamaSettings
from montage_ai.core.plan.ollama_planner import OllamaPlanner, build_messages
from montage_ai.core.plan.planner import make_request
from montage_ai.core.plan.styles import load_style
from montage_ai.core.run.cache import AnalysisCache
from test_planner import footage, music

TEXT, VISION = "llama3.2:3b", "moondream:latest"


@pytest.fixture
def server():
    with FakeOllama(models={TEXT: ("completion",), VISION: ("completion", "vision")}) as s:
        s.reply = lambda body: f"frame {len(body['messages'][0]['images'][0])} bytes\nat dawn"
        yield s


@pytest.fixture
def analyses(tmp_path):
    """Two 'clips' (real files, for their identity) of three shots, each with a keyframe JPEG."""
    out = []
    for f in range(2):
        clip = tmp_path / f"clip{f}.mp4"
        clip.write_bytes(os.urandom(4096))
        a = footage(str(clip), Fraction(25), [{"frames": 100, "motion": 0.01 * (k + 1)} for k in range(3)],
                    created=dt.datetime(2024, 6, 1, 7 + f, tzinfo=dt.timezone.utc))
        shots = []
        for s in a.shots:
            thumb = tmp_path / f"thumb{f}_{s.index}.jpg"
            image = np.full((36, 64, 3), 40 * (f * 3 + s.index), np.uint8)
            cv2.imwrite(str(thumb), image)
            shots.append(replace(s, thumbnail=str(thumb)))
        out.append(replace(a, shots=tuple(shots)))
    return out


def settings(server, vision=VISION) -> OllamaSettings:
    return OllamaSettings(host=server.host, model=TEXT, vision_model=vision, caption_timeout_s=5)


def test_each_shot_keyframe_is_sent_to_the_vision_model(server, analyses):
    report = caption_shots(analyses, settings(server))
    chats = server.chats()
    assert len(chats) == 6 and report.computed == 6
    first = chats[0]
    assert first["model"] == VISION and first["options"]["temperature"] == 0
    assert first["messages"][0]["content"] == CAPTION_PROMPT
    sent = base64.b64decode(first["messages"][0]["images"][0])
    assert sent == open(analyses[0].shots[0].thumbnail, "rb").read()


def test_a_caption_is_computed_once_and_then_comes_from_the_cache(server, analyses, tmp_path):
    cache = AnalysisCache(tmp_path / "cache")
    first = caption_shots(analyses, settings(server), cache=cache)
    again = caption_shots(analyses, settings(server), cache=cache)
    assert len(server.chats()) == 6
    assert again.captions == first.captions and again.cached == 6 and again.computed == 0


def test_another_model_or_a_changed_file_gets_a_new_caption(server, analyses, tmp_path):
    cache = AnalysisCache(tmp_path / "cache")
    caption_shots(analyses, settings(server), cache=cache)
    server.models["llava:7b"] = ("completion", "vision")
    caption_shots(analyses, settings(server, "llava:7b"), cache=cache)
    assert len(server.chats()) == 12
    with open(analyses[0].path, "ab") as f:
        f.write(b"more")
    caption_shots(analyses, settings(server), cache=cache)
    assert len(server.chats()) == 15  # only the changed file's three shots


def test_captions_are_one_clean_line(server, analyses):
    report = caption_shots(analyses, settings(server))
    caption = report.captions[(analyses[0].path, 0)]
    assert "\n" not in caption and caption.endswith("at dawn")


def test_without_a_vision_model_there_are_no_captions(server, analyses):
    report = caption_shots(analyses, settings(server, vision=None))
    assert report.captions == {} and server.chats() == []


def test_without_thumbnails_there_are_no_captions_and_it_says_why(server, analyses):
    bare = [replace(a, shots=tuple(replace(s, thumbnail=None) for s in a.shots)) for a in analyses]
    report = caption_shots(bare, settings(server))
    assert report.captions == {} and "thumbnails" in report.problem


def test_a_server_that_is_gone_stops_captioning_at_once(analyses):
    s = OllamaSettings(host=closed_port_host(), model=TEXT, vision_model=VISION)
    report = caption_shots(analyses, s)
    assert report.captions == {} and report.failed == 6 and "does not answer" in report.problem


def test_captions_reach_the_planners_prompt(server, analyses, tmp_path):
    options = RoughCutOptions(planner="ollama", ollama_host=server.host, model=TEXT, vision_model=VISION)
    planner = choose_planner(options, analyses, cache=AnalysisCache(tmp_path / "cache"))
    assert isinstance(planner, OllamaPlanner) and len(planner.captions) == 6
    request = make_request(analyses, music(), load_style("dynamic"))
    prompt = build_messages(request, planner.captions)[1]["content"]
    for c in request.shots:
        assert planner.captions[(c.path, c.shot_index)] in prompt


def test_a_vision_model_that_is_not_pulled_leaves_a_note(server, analyses):
    options = RoughCutOptions(planner="ollama", ollama_host=server.host, model=TEXT, vision_model="llava:13b")
    planner = choose_planner(options, analyses)
    assert planner.captions == {} and server.chats() == []
    assert any("ollama pull llava:13b" in n for n in planner.notes)
