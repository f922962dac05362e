"""The Ollama story planner against a fake Ollama server (tests/fake_ollama.py): the
request it sends, plans it accepts, repairs, fallbacks, and cuts built from its plans."""

from __future__ import annotations

import json
import math
import time
from fractions import Fraction

import pytest

from fake_ollama import FakeOllama, closed_port_host
from montage_ai.core.base.errors import MontageError
from montage_ai.core.cut.assembly import assemble
from montage_ai.core.cut.roughcut import RoughCutOptions, choose_planner
from montage_ai.core.plan.ollama_config import OllamaSettings
from montage_ai.core.plan.ollama_planner import OllamaPlanner, build_messages, plan_schema, shot_line, shots_needed
from montage_ai.core.plan.planner import PHASES, RulesPlanner, chronological_key, make_request
from montage_ai.core.plan.styles import load_style
from test_assembly import STYLES, T0, assert_sound
from test_planner import music, varied_footage

MODEL = "llama3.2:3b"


@pytest.fixture
def server():
    with FakeOllama(models={MODEL: ("completion",)}) as s:
        yield s


def request_for(style: str = "dynamic", seed: int = 4, brief: str = "a day at the sea, ending at sunset"):
    shots = varied_footage(base_time=T0, files=5)
    return shots, make_request(shots, music(), load_style(style), seed=seed, brief=brief)


def model_answer(request, reasons: bool = True) -> dict:
    """A plan unlike the rules plan: shots by id, split with the rules plan's counts."""
    rules = RulesPlanner().plan(request)
    ids = sorted(c.id for c in request.shots)
    out, k = {}, 0
    for p in rules.phases:
        n = len(p.shot_ids)
        out[p.name] = [{"id": i, "reason": f"{p.name} pick {i}"} if reasons else {"id": i} for i in ids[k:k + n]]
        k += n
    return out


def planner_for(server, **kw) -> OllamaPlanner:
    return OllamaPlanner(OllamaSettings(host=server.host, model=MODEL, timeout_s=kw.pop("timeout_s", 10)), **kw)


# --------------------------------------------------------------------------- the request


def test_the_request_carries_the_schema_temperature_seed_and_shot_lines(server):
    _, request = request_for()
    server.reply = json.dumps(model_answer(request))
    planner_for(server).plan(request)
    (body,) = server.chats()
    assert body["model"] == MODEL and body["stream"] is False
    assert body["format"] == plan_schema(request)
    assert body["format"]["properties"]["climax"]["items"]["properties"]["id"]["enum"] == [c.id for c in request.shots]
    assert body["options"] == {"temperature": 0, "seed": 4}
    user = body["messages"][-1]["content"]
    assert "a day at the sea, ending at sunset" in user and "Style: dynamic" in user
    for c in request.shots:
        assert shot_line(c) in user
    for s in request.music.sections:
        assert f"energy {s.energy:.2f}" in user
    wanted = shots_needed(request, RulesPlanner().plan(request))
    assert sum(wanted.values()) <= len(request.shots)
    for p in request.phases:
        assert f"{p.name}: {p.start_s:.1f} to {p.end_s:.1f} s" in user
        assert f"about {wanted[p.name]} shots" in user


def test_shot_lines_carry_time_of_day_from_creation_time():
    _, request = request_for()
    line = shot_line(request.shots[0])
    assert ("morning" in line or "afternoon" in line or "evening" in line or "night" in line)


def test_the_answer_schema_only_allows_the_requests_ids_and_all_four_phases():
    _, request = request_for()
    schema = plan_schema(request)
    assert schema["required"] == list(PHASES)
    assert set(schema["properties"]) == set(PHASES)


# --------------------------------------------------------------------------- good answers


def test_a_good_answer_becomes_the_plan(server):
    _, request = request_for()
    answer = model_answer(request)
    server.reply = json.dumps(answer)
    plan = planner_for(server).plan(request)
    assert plan.planner == f"ollama {MODEL}"
    assert {p.name: list(p.shot_ids) for p in plan.phases} == {k: [x["id"] for x in v] for k, v in answer.items()}
    assert plan.shot_ids != RulesPlanner().plan(request).shot_ids
    assert plan.reasons[answer["climax"][0]["id"]] == f"climax pick {answer['climax'][0]['id']}"
    assert not any("rules planner used" in n for n in plan.notes)


def test_reasons_are_cleaned_of_control_characters_and_cut_short(server):
    _, request = request_for()
    answer = model_answer(request)
    sid = answer["intro"][0]["id"]
    answer["intro"][0]["reason"] = "calm\x1b[2J\x00 opening\n" + "x" * 500
    server.reply = json.dumps(answer)
    why = planner_for(server).plan(request).reasons[sid]
    assert len(why) <= 120 and "\x1b" not in why and "\x00" not in why and "\n" not in why
    assert why.startswith("calm[2J opening x")


# --------------------------------------------------------------------------- repairs


def test_unknown_ids_are_dropped_and_the_repair_is_noted(server):
    _, request = request_for()
    answer = model_answer(request)
    answer["build"].insert(0, {"id": "../../etc/passwd#0", "reason": "x"})
    answer["climax"].append({"id": "nosuch.mp4#9"})
    server.reply = json.dumps(answer)
    plan = planner_for(server).plan(request)
    assert set(plan.shot_ids) <= {c.id for c in request.shots}
    assert any("dropped 2 unknown shot ids" in n for n in plan.notes)
    assert not any("passwd" in n or "nosuch" in n for n in plan.notes)  # the model's words stay out
    assert plan.planner == f"ollama {MODEL}"


def test_repeated_ids_keep_their_first_place(server):
    _, request = request_for()
    answer = model_answer(request)
    first = answer["intro"][0]["id"]
    answer["climax"].append({"id": first})
    server.reply = json.dumps(answer)
    plan = planner_for(server).plan(request)
    assert plan.shot_ids.count(first) == 1 and first in plan.phase("intro").shot_ids
    assert any("dropped 1 repeated shot id" in n for n in plan.notes)


def test_a_missing_phase_is_filled_from_the_rules_plan(server):
    _, request = request_for()
    answer = model_answer(request)
    del answer["outro"]
    server.reply = json.dumps(answer)
    plan = planner_for(server).plan(request)
    rules = RulesPlanner().plan(request)
    need = min(request.demand["outro"], len(rules.phase("outro").shot_ids))
    assert len(plan.phase("outro").shot_ids) == need
    assert set(plan.phase("outro").shot_ids) <= set(rules.shot_ids) - {i for n in PHASES[:3] for i in plan.phase(n).shot_ids}
    assert any(n.endswith(f"outro was missing: {need} shot{'s' if need != 1 else ''} from the rules plan")
               for n in plan.notes), plan.notes


def test_too_few_shots_for_the_slots_are_filled_up(server):
    _, request = request_for()
    answer = {name: items[:1] for name, items in model_answer(request).items()}
    server.reply = json.dumps(answer)
    plan = planner_for(server).plan(request)
    rules = RulesPlanner().plan(request)
    for name in PHASES:
        need = min(request.demand[name], len(rules.phase(name).shot_ids))
        assert len(plan.phase(name).shot_ids) >= need
        assert plan.phase(name).shot_ids[0] == answer[name][0]["id"]  # the model's pick stays first
    assert any("build had 1 of" in n for n in plan.notes)


def test_a_chronological_style_gets_creation_time_order_back(server):
    _, request = request_for("vlog")
    answer = model_answer(request)
    server.reply = json.dumps({k: list(reversed(v)) for k, v in reversed(list(answer.items()))})
    plan = planner_for(server).plan(request)
    by_id = {c.id: c for c in request.shots}
    keys = [chronological_key(by_id[i]) for i in plan.shot_ids]
    assert keys == sorted(keys)
    assert any("creation-time order" in n for n in plan.notes)


# --------------------------------------------------------------------------- fallbacks


def rules_plan_with_note(plan, request, words: str) -> None:
    assert plan.shot_ids == RulesPlanner().plan(request).shot_ids
    assert plan.planner == "rules"
    (line,) = [n for n in plan.notes if n.startswith("rules planner used:")]
    assert words in line, line
    assert "\n" not in line


def test_invalid_json_falls_back_to_the_rules_with_a_reason(server):
    _, request = request_for()
    server.reply = '{"intro": [{"id": "C000.mp4#1"'
    rules_plan_with_note(planner_for(server).plan(request), request, "is not JSON")


def test_an_answer_that_names_no_known_shot_falls_back(server):
    _, request = request_for()
    server.reply = json.dumps({name: [{"id": f"made-up#{k}"}] for k, name in enumerate(PHASES)})
    rules_plan_with_note(planner_for(server).plan(request), request, "names none of the shots")


def test_an_answer_beyond_the_timeout_falls_back(server):
    _, request = request_for()
    server.reply = json.dumps(model_answer(request))
    server.delay_s = 5.0
    t0 = time.monotonic()
    plan = planner_for(server, timeout_s=0.5).plan(request)
    assert time.monotonic() - t0 < 3.0
    rules_plan_with_note(plan, request, "did not answer in time")


def test_a_server_that_is_down_falls_back():
    _, request = request_for()
    planner = OllamaPlanner(OllamaSettings(host=closed_port_host(), model=MODEL, timeout_s=5))
    rules_plan_with_note(planner.plan(request), request, "does not answer")


@pytest.mark.parametrize("check_first", [True, False])
def test_a_missing_model_falls_back_with_the_pull_command(check_first):
    _, request = request_for()
    with FakeOllama(models={"llava:latest": ("completion", "vision")}) as s:
        planner = OllamaPlanner(OllamaSettings(host=s.host, model=MODEL), check_first=check_first)
        plan = planner.plan(request)
        assert bool(s.chats()) is not check_first  # without the check, the chat's 404 says it
    rules_plan_with_note(plan, request, f"ollama pull {MODEL}")


# --------------------------------------------------------------------------- the cut


def plan_from_schema(body: dict) -> str:
    """What a model constrained by the schema might say: the allowed ids, reversed, spread
    over the phases in proportion 2:3:4:1."""
    ids = list(reversed(body["format"]["properties"]["intro"]["items"]["properties"]["id"]["enum"]))
    cuts = [0] + [round(len(ids) * f) for f in (0.2, 0.5, 0.9)] + [len(ids)]
    return json.dumps({name: [{"id": i, "reason": "fits the music"} for i in ids[a:b]]
                       for name, a, b in zip(PHASES, cuts, cuts[1:])})


@pytest.mark.parametrize("name", STYLES)
def test_a_cut_from_an_ollama_plan_keeps_every_rule_of_the_style(server, name):
    style = load_style(name)
    shots, request = request_for(name)
    server.reply = plan_from_schema
    plan = planner_for(server).plan(request)
    assert plan.planner == f"ollama {MODEL}"
    cl = assemble(plan, shots, request.music, style, seed=request.seed)
    assert_sound(cl, shots, style)
    lengths = [c.record_frames for c in cl.cuts]
    assert min(lengths) >= math.ceil(Fraction(str(style.min_shot_s)) * cl.rate)
    assert max(lengths) <= math.floor(Fraction(str(style.max_shot_s)) * cl.rate)
    if style.reuse == "never":
        used = [(c.source_path, c.shot_index) for c in cl.cuts]
        assert len(used) == len(set(used))
    if style.chronological:
        times = [(c.source_path, c.source_in) for c in cl.cuts]
        assert times == sorted(times)  # varied_footage: file order is creation order
    assert any(c.reason.startswith(f"{c.phase}: fits the music") for c in cl.cuts)


# --------------------------------------------------------------------------- choosing


def test_auto_uses_the_rules_when_ollama_does_not_answer():
    shots, _ = request_for()
    planner = choose_planner(RoughCutOptions(planner="auto", ollama_host=closed_port_host()), shots)
    assert isinstance(planner, RulesPlanner)


def test_auto_uses_ollama_when_it_answers_and_has_the_model(server):
    shots, _ = request_for()
    planner = choose_planner(RoughCutOptions(planner="auto", ollama_host=server.host, model=MODEL), shots)
    assert isinstance(planner, OllamaPlanner) and planner.settings.host == server.host


def test_auto_honours_ollama_host_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", server.host)
    monkeypatch.delenv("MONTAGE_AI_OLLAMA_MODEL", raising=False)
    shots, _ = request_for()
    planner = choose_planner(RoughCutOptions(planner="auto"), shots)
    assert isinstance(planner, OllamaPlanner) and planner.settings.host == server.host


def test_rules_never_asks_ollama(server):
    shots, _ = request_for()
    assert isinstance(choose_planner(RoughCutOptions(planner="rules", ollama_host=server.host), shots), RulesPlanner)
    assert server.requests == []


def test_an_unknown_planner_is_refused():
    shots, _ = request_for()
    with pytest.raises(MontageError, match="unknown planner 'gpt'"):
        choose_planner(RoughCutOptions(planner="gpt"), shots)


def test_default_settings_use_the_local_host(monkeypatch):
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    assert OllamaSettings.resolve().host == "http://127.0.0.1:11434"


def test_the_brief_is_in_the_prompt_and_an_empty_one_says_so():
    _, request = request_for(brief="")
    assert "Brief: (none" in build_messages(request)[1]["content"]
