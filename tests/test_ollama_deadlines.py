"""Every Ollama request has one deadline for the whole answer, and a cut has one budget for
all of them: a fake Ollama (tests/fake_ollama.py) that trickles a byte at a time, closes in
the middle of an answer, or is not Ollama at all, never hangs a cut and is named clearly."""

from __future__ import annotations

import json
import time

import pytest

from fake_ollama import FakeOllama
from montage_ai.core.cut.roughcut import RoughCutOptions, choose_planner
from montage_ai.core.plan.captions import caption_shots
from montage_ai.core.plan.ollama_config import Deadline, OllamaSettings, check_ollama
from montage_ai.core.plan.ollama_planner import OllamaPlanner
from montage_ai.core.plan.planner import RulesPlanner
from test_captions import TEXT, VISION, analyses  # noqa: F401 - the fixture
from test_ollama_planner import model_answer, request_for, rules_plan_with_note


@pytest.fixture
def trickling():
    with FakeOllama(models={TEXT: ("completion",), VISION: ("completion", "vision")}) as s:
        s.trickle_s = 0.2  # every read succeeds well inside any per-read timeout
        yield s


def test_a_trickling_tags_answer_ends_at_the_check_deadline(trickling):
    t0 = time.monotonic()
    status = check_ollama(trickling.host, timeout_s=1.0)
    assert time.monotonic() - t0 < 2.5
    assert not status.reachable and "did not answer in time" in status.error


def test_a_trickling_chat_falls_back_to_the_rules_at_the_deadline(trickling):
    _, request = request_for()
    trickling.reply = json.dumps(model_answer(request))
    trickling.trickle_paths = {"/api/chat"}
    t0 = time.monotonic()
    plan = OllamaPlanner(OllamaSettings(host=trickling.host, model=TEXT, timeout_s=1.0)).plan(request)
    assert time.monotonic() - t0 < 3.0
    rules_plan_with_note(plan, request, "did not answer in time")


def test_auto_with_a_trickling_ollama_does_not_hang(trickling):
    shots, _ = request_for()
    t0 = time.monotonic()
    planner = choose_planner(RoughCutOptions(planner="auto", ollama_host=trickling.host), shots)
    assert time.monotonic() - t0 < 6.0  # the check's own deadline (3 s)
    assert isinstance(planner, RulesPlanner)


def test_trickling_captions_stop_at_the_first_deadline(trickling, analyses):  # noqa: F811
    trickling.trickle_paths = {"/api/chat"}
    settings = OllamaSettings(host=trickling.host, model=TEXT, vision_model=VISION, caption_timeout_s=1.0)
    t0 = time.monotonic()
    report = caption_shots(analyses, settings)
    assert time.monotonic() - t0 < 3.0
    assert report.captions == {} and "did not answer in time" in report.problem


def test_one_budget_bounds_every_request_of_a_cut(trickling, analyses):  # noqa: F811
    """Captions and plan together stop when the cut's budget is spent, though each request's
    own limit is longer."""
    trickling.trickle_paths = {"/api/chat"}
    settings = OllamaSettings(host=trickling.host, model=TEXT, vision_model=VISION, caption_timeout_s=30,
                              timeout_s=30)
    deadline = Deadline(1.5)
    t0 = time.monotonic()
    caption_shots(analyses, settings, deadline=deadline)
    _, request = request_for()
    plan = OllamaPlanner(settings, check_first=False, deadline=deadline).plan(request)
    assert time.monotonic() - t0 < 4.0
    assert any("budget" in n or "did not answer in time" in n for n in plan.notes), plan.notes


def test_an_ollama_that_closes_mid_answer_is_not_called_refused():
    _, request = request_for()
    with FakeOllama(models={TEXT: ("completion",)}) as s:
        s.reply = json.dumps(model_answer(request))
        s.close_mid_answer = True
        plan = OllamaPlanner(OllamaSettings(host=s.host, model=TEXT, timeout_s=5), check_first=False).plan(request)
    note = " ".join(plan.notes)
    assert "closed the connection in the middle of its answer" in note and "refused" not in note


def test_an_html_404_names_the_host_not_a_blank_model():
    with FakeOllama() as s:
        s.html_404 = True
        status = check_ollama(s.host, timeout_s=3)
    assert not status.reachable
    assert "model  is" not in status.error and "ollama pull )" not in status.error
    assert "does not look like an Ollama server" in status.error
