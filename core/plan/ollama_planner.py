"""The story planner that asks a local LLM through Ollama, and falls back to the rules.

One chat request per plan (``ollama.Client.chat``) with ``format`` set to a JSON schema
(Ollama's structured output: the model can only answer with the four phases, each a list
of ``{"id", "reason"}`` whose ids are the request's), temperature 0 and the request's seed,
and a timeout. The prompt carries the brief, the style, the music's sections and phases
with their energy, length and shot demand, and one compact line per shot
(:func:`shot_line`: id, source, duration, motion, exposure, time of day, caption).

The answer is checked and repaired (:func:`plan_from_answer`): unknown and repeated ids are
dropped, phases that are missing or have fewer shots than their slots need are filled from
the deterministic plan, chronological styles get creation-time order back; every repair is
a note on the plan. When the server cannot be reached, times out, lacks the model or
answers something that is not a plan, :class:`OllamaPlanner` returns the rules plan with a
one-line note saying why.

The model's text is data only: ids are matched against the request's ids, reasons are
cleaned (:func:`~montage_ai.core.plan.ollama_config.clean_text`) and only shown to the editor
(the cut's reasons); none of it reaches a path, a shell or a format string.

Built against the documented ``ollama`` Python client and Ollama's HTTP API; tested with the
fake server in ``tests/fake_ollama.py`` (no real model runs in CI).

>>> planner = OllamaPlanner(OllamaSettings.resolve(model="llama3.2:3b"))   # doctest: +SKIP
>>> plan = planner.plan(make_request(analyses, music, load_style("dynamic"), brief="a day at the sea"))  # doctest: +SKIP
>>> plan.planner, plan.notes                                                 # doctest: +SKIP
('ollama llama3.2:3b', ())
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Mapping

from montage_ai.core.base.types import ShotKey
from montage_ai.core.plan.ollama_config import (
    Deadline,
    OllamaSettings,
    bounded_call,
    check_ollama,
    clean_text,
    describe_error,
    make_client,
)
from montage_ai.core.plan.planner import (
    PHASES,
    Phase,
    Planner,
    PlanRequest,
    RulesPlanner,
    ShotCandidate,
    StoryPlan,
    chronological_key,
    validate_plan,
)

log = logging.getLogger(__name__)

__all__ = ["OllamaPlanner", "InvalidAnswer", "plan_schema", "build_messages", "shot_line", "plan_from_answer",
           "shots_needed", "REASON_MAX_CHARS"]

#: Longest reason kept from the model (characters).
REASON_MAX_CHARS = 120
#: A caption in the prompt is cut to this many characters.
CAPTION_MAX_CHARS = 100

SYSTEM_PROMPT = (
    "You are an assistant film editor planning the story of a rough cut edited to music. "
    "Assign the listed shots to the four story phases: intro (establish the place, calm), "
    "build (rising energy), climax (the most intense, striking shots, on the loudest music) and "
    "outro (wind down, end on a calm, resolving shot). List the shots of each phase in the order "
    "they should play. Use only ids from the shot list, each at most once; give every phase about "
    "the number of shots it asks for. Follow the editor's brief where it says what matters. "
    "For each shot add a short reason (a few words). Answer with JSON only."
)


class InvalidAnswer(ValueError):
    """The model's answer is not a plan (not JSON, wrong shape, no known shot)."""


# --------------------------------------------------------------------------- prompt


def _time_of_day(c: ShotCandidate) -> str | None:
    """``"09:14 morning"`` from the file's creation time plus the shot's offset in it."""
    if c.creation_time is None:
        return None
    t = c.creation_time + _dt.timedelta(seconds=float(c.usable_start_frame / c.rate))
    if t.tzinfo is not None:
        t = t.astimezone()  # the editor's zone: where the footage most likely was shot
    h = t.hour
    part = ("night" if h < 5 else "morning" if h < 12 else "afternoon" if h < 17 else "evening" if h < 21
            else "night")
    return f"{t:%H:%M} {part}"


def shot_line(c: ShotCandidate, caption: str | None = None) -> str:
    """One compact prompt line for a shot. (No face count: the footage analysis has none yet.)

    Examples
    --------
    >>> from fractions import Fraction
    >>> c = ShotCandidate("a.mp4#2", "/clips/a.mp4", 2, 0, 50, Fraction(25), None, 0.04, 0.001, 120.0,
    ...                   0.5, 30.0, 0.3, 0.8, 0.7)
    >>> shot_line(c, caption="a dog runs on a beach")
    'a.mp4#2 | a.mp4 | 2.0 s | motion 0.040 (calm 0.30, intensity 0.80) | exposure 0.50 | quality 0.70 | "a dog runs on a beach"'
    """
    parts = [c.id, os.path.basename(c.path), f"{c.duration_s:.1f} s"]
    motion = f"motion {c.motion:.3f} " if c.motion is not None else ""
    parts.append(f"{motion}(calm {c.calm:.2f}, intensity {c.intensity:.2f})")
    if c.exposure is not None:
        parts.append(f"exposure {c.exposure:.2f}")
    parts.append(f"quality {c.quality:.2f}")
    when = _time_of_day(c)
    if when:
        parts.append(when)
    if caption:
        parts.append(json.dumps(clean_text(caption, CAPTION_MAX_CHARS), ensure_ascii=False))
    return " | ".join(parts)


def plan_schema(request: PlanRequest) -> dict[str, Any]:
    """The JSON schema of the answer: each phase a list of ``{"id": <a request id>, "reason"}``."""
    item = {"type": "object",
            "properties": {"id": {"type": "string", "enum": [c.id for c in request.shots]},
                           "reason": {"type": "string", "maxLength": REASON_MAX_CHARS}},
            "required": ["id"]}
    return {"type": "object", "properties": {name: {"type": "array", "items": item} for name in PHASES},
            "required": list(PHASES)}


def shots_needed(request: PlanRequest, rules: StoryPlan) -> dict[str, int]:
    """Shots each phase needs: as many as its slots (``request.demand``), or as many as the
    rules plan gives it when there are fewer shots than slots."""
    return {name: min(request.demand.get(name, 0), len(rules.phase(name).shot_ids)) for name in PHASES}


def build_messages(request: PlanRequest, captions: Mapping[ShotKey, str] | None = None,
                   wanted: Mapping[str, int] | None = None) -> list[dict]:
    """The system and user messages of the planning request; ``wanted`` is the shot count to
    ask for per phase (default: the request's demand)."""
    captions = captions or {}
    wanted = wanted or request.demand
    style, music = request.style, request.music
    lines = [f"Brief: {request.brief.strip() or '(none: make the strongest arc)'}",
             f"Style: {style.name}: {style.description}",
             f"  order {'chronological (keep creation-time order)' if style.chronological else 'story'}; "
             f"shots {style.min_shot_s:g} to {style.max_shot_s:g} s; reuse {style.reuse}",
             f"Music: {float(music.duration_s):.1f} s, {music.tempo_bpm:.0f} bpm, {music.meter}/4"]
    if music.sections:
        lines.append("Sections (label: start to end, length, energy 0..1):")
        lines += [f"  {s.label}: {s.start_s:.1f} to {s.end_s:.1f} s, {s.end_s - s.start_s:.1f} s, energy {s.energy:.2f}"
                  for s in music.sections]
    lines.append("Phases (start to end, length, energy, shots wanted):")
    lines += [f"  {p.name}: {p.start_s:.1f} to {p.end_s:.1f} s, {p.duration_s:.1f} s, energy {p.energy:.2f}, "
              f"about {wanted.get(p.name, 0)} shots" for p in request.phases]
    lines.append(f"Shots ({len(request.shots)}; id | source | duration | motion | exposure | quality | "
                 "time of day | caption):")
    lines += ["  " + shot_line(c, captions.get((c.path, c.shot_index))) for c in request.shots]
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "\n".join(lines)}]


# --------------------------------------------------------------------------- answer


def _parse(content: str) -> dict[str, list[tuple[Any, Any]]]:
    """The answer's phases as ``{phase: [(id, reason), ...]}``; phases that are absent or not
    lists are left out. Raises :class:`InvalidAnswer` when it is not a JSON object."""
    try:
        doc = json.loads(content)
    except (TypeError, ValueError) as exc:
        raise InvalidAnswer(f"the answer is not JSON ({type(exc).__name__} at character "
                            f"{getattr(exc, 'pos', '?')})") from None
    if isinstance(doc, dict) and isinstance(doc.get("phases"), dict):
        doc = doc["phases"]  # tolerated wrapper
    if not isinstance(doc, dict):
        raise InvalidAnswer(f"the answer is a JSON {type(doc).__name__}, not an object of phases")
    out: dict[str, list[tuple[Any, Any]]] = {}
    for name in PHASES:
        items = doc.get(name)
        if not isinstance(items, list):
            continue
        out[name] = [(it.get("id"), it.get("reason")) if isinstance(it, dict) else (it, None) for it in items]
    return out


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def plan_from_answer(content: str, request: PlanRequest, rules: StoryPlan, planner: str = "ollama"
                     ) -> tuple[StoryPlan, list[str]]:
    """Turn the model's answer into a valid plan, repairing what is safe.

    Parameters
    ----------
    content : str
        The assistant message (JSON).
    request : PlanRequest
    rules : StoryPlan
        The deterministic plan of the same request: what fills gaps.
    planner : str
        The plan's planner name.

    Returns
    -------
    (StoryPlan, list of str)
        The plan and one line per repair (empty when the answer was used as it is).

    Raises
    ------
    InvalidAnswer
        Not JSON, not an object of phases, or no known shot id in it.

    Examples
    --------
    >>> plan, repairs = plan_from_answer(answer, request, RulesPlanner().plan(request))   # doctest: +SKIP
    >>> repairs                                                                          # doctest: +SKIP
    ['dropped 1 unknown shot id', 'outro was missing: 2 shots from the rules plan']
    """
    phases = _parse(content)
    known = {c.id for c in request.shots}
    seen: set[str] = set()
    chosen: dict[str, list[str]] = {name: [] for name in PHASES}
    reasons: dict[str, str] = {}
    unknown = dupes = malformed = 0
    for name in PHASES:
        for sid, why in phases.get(name, []):
            if not isinstance(sid, str):
                malformed += 1
            elif sid not in known:
                unknown += 1
            elif sid in seen:
                dupes += 1
            else:
                seen.add(sid)
                chosen[name].append(sid)
                reasons[sid] = clean_text(why, REASON_MAX_CHARS) if isinstance(why, str) else ""
    if not seen:
        raise InvalidAnswer("the answer names none of the shots" + (f" ({_count(unknown, 'unknown id')})"
                                                                      if unknown else ""))
    repairs: list[str] = []
    if unknown:
        repairs.append(f"dropped {_count(unknown, 'unknown shot id')}")
    if dupes:
        repairs.append(f"dropped {_count(dupes, 'repeated shot id')}")
    if malformed:
        repairs.append(f"dropped {_count(malformed, 'entry')} without an id")
    rules_order = list(rules.shot_ids)
    needed = shots_needed(request, rules)
    for name in PHASES:
        need = needed[name]
        have = len(chosen[name])
        if have >= need:
            continue
        pool = [i for i in rules.phase(name).shot_ids if i not in seen] + \
               [i for i in rules_order if i not in seen and i not in rules.phase(name).shot_ids]
        added = pool[: need - have]
        for sid in added:
            seen.add(sid)
            chosen[name].append(sid)
            reasons[sid] = rules.reasons.get(sid, "")
        if not added:
            continue
        what = f"{_count(len(added), 'shot')} from the rules plan"
        repairs.append(f"{name} was missing: {what}" if name not in phases
                       else f"{name} had {have} of {need} shots needed: {what}")
    if request.style.chronological:
        flat = [i for name in PHASES for i in chosen[name]]
        by_id = {c.id: c for c in request.shots}
        ordered = sorted(flat, key=lambda i: chronological_key(by_id[i]))
        if ordered != flat:
            k = 0
            for name in PHASES:
                n = len(chosen[name])
                chosen[name], k = ordered[k:k + n], k + n
            repairs.append("put the shots back in creation-time order (chronological style)")
    for sid in seen:
        reasons[sid] = reasons.get(sid) or "chosen by the model"
    plan = StoryPlan(
        phases=tuple(Phase(p.name, p.start_s, p.end_s, p.energy, tuple(chosen[p.name])) for p in request.phases),
        reasons=MappingProxyType(reasons), planner=planner,
        notes=tuple(f"{planner}: {r}" for r in repairs), seed=request.seed, style=request.style.name)
    return validate_plan(plan, request), repairs


# --------------------------------------------------------------------------- planner


@dataclass
class OllamaPlanner:
    """Plans with a local LLM through Ollama; the rules plan when the model cannot.

    Parameters
    ----------
    settings : OllamaSettings
        Host, model, timeout.
    captions : mapping of (path, shot index) to str
        Keyframe captions from :func:`~montage_ai.core.plan.captions.caption_shots` (optional).
    check_first : bool
        Ask the server which models it has before the chat (a clear "pull the model"
        reason instead of a 404, and no long wait on a server that is not there).
    notes : tuple of str
        Lines added to the plan's notes (e.g. why there are no captions).
    """

    settings: OllamaSettings = field(default_factory=OllamaSettings)
    captions: Mapping[ShotKey, str] = field(default_factory=dict)
    check_first: bool = True
    notes: tuple[str, ...] = ()
    fallback: Planner = field(default_factory=RulesPlanner)
    name: str = "ollama"
    #: The cut's Ollama budget (shared with the check and the captions); None: its own.
    deadline: Deadline | None = None

    def plan(self, request: PlanRequest) -> StoryPlan:
        rules = self.fallback.plan(request)  # fills gaps, and is the answer when the model fails
        if self.deadline is None:
            self.deadline = Deadline(self.settings.budget_s)
        if self.check_first:
            problem = check_ollama(self.settings, deadline=self.deadline).problem(self.settings.model)
            if problem:
                return self._fall_back(rules, problem)
        try:
            content = self._ask(request, shots_needed(request, rules))
        except Exception as exc:  # timeout, refused, 404, bad response: all mean "use the rules"
            return self._fall_back(rules, describe_error(exc, self.settings.host, self.settings.model))
        try:
            plan, repairs = plan_from_answer(content, request, rules, planner=f"ollama {self.settings.model}")
        except InvalidAnswer as exc:
            return self._fall_back(rules, f"{self.settings.model} answered no usable plan: {exc}")
        except Exception as exc:  # a repaired plan that still fails validation
            return self._fall_back(rules, f"{self.settings.model}'s plan is invalid: {clean_text(exc, 200)}")
        for line in repairs:
            log.info("ollama plan repaired: %s", line)
        return replace(plan, notes=self.notes + plan.notes)

    def _ask(self, request: PlanRequest, wanted: Mapping[str, int]) -> str:
        s = self.settings
        limit = self.deadline.limit(s.timeout_s) if self.deadline is not None else s.timeout_s
        with make_client(s.host, limit) as client:
            response = bounded_call(client, limit, client.chat, model=s.model,
                                    messages=build_messages(request, self.captions, wanted),
                                    format=plan_schema(request), stream=False,
                                    options={"temperature": 0, "seed": int(request.seed)})
        return response.message.content or ""

    def _fall_back(self, rules: StoryPlan, reason: str) -> StoryPlan:
        line = f"rules planner used: {reason}"
        log.warning("%s", line)
        return replace(rules, notes=self.notes + rules.notes + (line,))
