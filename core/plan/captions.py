"""Shot captions: a vision model in Ollama describes each shot's keyframe thumbnail, once.

A caption is one short line ("two people walk along a beach at sunset") that the LLM
planner puts on the shot's prompt line. It is computed from the keyframe thumbnail the
footage analysis wrote (:attr:`~montage_ai.core.analysis.footage.Shot.thumbnail`, present when the
analysis ran with a cache) and stored in the :class:`~montage_ai.core.run.cache.AnalysisCache`
under a key made of the file's identity (as for its analysis), the analysis version, the
shot, its keyframe and the model name: the same shot is never captioned twice by the same
model, and a changed file or another model gets a new caption.

Without a vision model, or without thumbnails, there are no captions and planning goes on
without them. A caption that fails (timeout, bad answer) is left out; when the server is
gone, the remaining shots are not tried.

Uses the documented ``ollama`` client (``chat`` with ``images``); tested with the fake
server in ``tests/fake_ollama.py``, not with a real vision model.

>>> captions = caption_shots(analyses, OllamaSettings.resolve(vision_model="moondream"), cache=cache)  # doctest: +SKIP
>>> captions[("/clips/A001.mp4", 0)]                                                                  # doctest: +SKIP
'a red car drives down a wet street at night'
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Callable, Collection, Sequence

import httpx
import ollama

from montage_ai.core.analysis.footage import FootageAnalysis
from montage_ai.core.base.errors import Cancelled
from montage_ai.core.base.types import ShotKey
from montage_ai.core.plan.ollama_config import (
    Deadline,
    OllamaSettings,
    RequestDeadline,
    bounded_call,
    clean_text,
    describe_error,
    make_client,
)
from montage_ai.core.run.cache import AnalysisCache, FileIdentity

log = logging.getLogger(__name__)

__all__ = ["caption_shots", "CaptionReport", "CAPTION_KIND", "CAPTION_VERSION", "CAPTION_PROMPT", "caption_key"]

CAPTION_KIND = "caption"
CAPTION_VERSION = "1"
CAPTION_MAX_CHARS = 160
CAPTION_PROMPT = ("Describe this video frame in one short sentence for a film editor: the subject, the action, "
                  "the place, the light. No preamble.")


@dataclass
class CaptionReport:
    """Captions by ``(path, shot index)``, and how many came from the cache or failed."""

    captions: dict[ShotKey, str] = field(default_factory=dict)
    cached: int = 0
    computed: int = 0
    failed: int = 0
    problem: str | None = None


def caption_key(cache: AnalysisCache, analysis: FootageAnalysis, shot_index: int, keyframe: int, model: str,
                identity: FileIdentity | None = None) -> str:
    """Cache key of one caption: file identity, analysis version, shot, keyframe, model."""
    identity = identity or FileIdentity.of(analysis.path)
    return cache.key(CAPTION_KIND, identity, CAPTION_VERSION,
                     analysis_version=analysis.analysis_version, mode=analysis.mode, shot=int(shot_index),
                     keyframe=int(keyframe), model=model)


def caption_shots(analyses: Sequence[FootageAnalysis], settings: OllamaSettings, *,
                  cache: AnalysisCache | None = None, only: Collection[ShotKey] | None = None,
                  progress: Callable[[float], None] | None = None,
                  cancel: Callable[[], bool] | None = None, client=None,
                  deadline: Deadline | None = None) -> CaptionReport:
    """Caption the keyframe thumbnail of every usable shot with ``settings.vision_model``.

    Parameters
    ----------
    analyses : sequence of FootageAnalysis
    settings : OllamaSettings
        ``vision_model`` None: no captions.
    cache : AnalysisCache, optional
        Where captions are kept; without it every call asks the model again.
    only : collection of (path, shot index), optional
        Caption just these shots (the planner's candidates).
    progress, cancel
        ``progress(fraction)``; ``cancel()`` returning True raises :class:`Cancelled`.
    client : ollama.Client, optional
        Made from ``settings`` when not given.
    deadline : Deadline, optional
        The cut's Ollama budget (default: ``settings.budget_s`` from now). Each caption has one
        deadline for its whole request (``settings.caption_timeout_s``, capped by the budget);
        when one misses it, or the budget is spent, no more shots are asked.

    Returns
    -------
    CaptionReport
    """
    report = CaptionReport()
    model = settings.vision_model
    if not model:
        return report
    todo = [(a, s) for a in analyses for s in a.shots if not s.black and s.thumbnail
            and (only is None or (a.path, s.index) in only)]
    if not todo:
        report.problem = "no keyframe thumbnails to caption (the analysis ran without a cache)"
        return report
    identities: dict[str, FileIdentity | None] = {}
    deadline = deadline or Deadline(settings.budget_s)
    own = client is None
    client = client or make_client(settings.host, settings.caption_timeout_s)
    try:
        for k, (a, s) in enumerate(todo):
            if cancel is not None and cancel():
                raise Cancelled("cancelled by the user")
            key = None
            if cache is not None:
                if a.path not in identities:
                    try:
                        identities[a.path] = FileIdentity.of(a.path)
                    except OSError as exc:
                        log.warning("%s: cannot read it to key its captions (%s)", a.path, exc)
                        identities[a.path] = None
                if identities[a.path] is not None:
                    key = caption_key(cache, a, s.index, s.keyframe_frame, model, identities[a.path])
                hit = cache.get(key) if key else None
                if hit is not None and isinstance(hit.get("caption"), str):
                    report.captions[(a.path, s.index)] = hit["caption"]
                    report.cached += 1
                    if progress:
                        progress((k + 1) / len(todo))
                    continue
            try:
                with open(s.thumbnail, "rb") as f:
                    image = f.read()
            except OSError as exc:
                log.warning("%s shot %d: thumbnail %s cannot be read (%s); no caption", a.path, s.index,
                            s.thumbnail, exc.strerror or exc)
                report.failed += 1
                continue
            try:
                response = bounded_call(client, deadline.limit(settings.caption_timeout_s), client.chat, model=model,
                                        stream=False, options={"temperature": 0, "seed": 0},
                                        messages=[{"role": "user", "content": CAPTION_PROMPT, "images": [image]}])
                caption = clean_text(response.message.content or "", CAPTION_MAX_CHARS)
            except (ConnectionError, httpx.TransportError, RequestDeadline) as exc:
                # the server is gone (or too slow for any shot): stop asking
                report.problem = describe_error(exc, settings.host, model)
                report.failed += len(todo) - k
                break
            except Exception as exc:  # one bad answer: this shot has no caption
                report.problem = describe_error(exc, settings.host, model)
                if isinstance(exc, ollama.ResponseError) and exc.status_code == 404:  # model missing
                    report.failed += len(todo) - k
                    break
                report.failed += 1
                continue
            if not caption:
                report.failed += 1
                continue
            report.captions[(a.path, s.index)] = caption
            report.computed += 1
            if cache is not None and key:
                try:
                    cache.put(key, {"caption": caption, "model": model, "path": os.path.basename(a.path),
                                    "shot": s.index})
                except OSError as exc:  # a full or read-only cache: the caption is still used
                    log.warning("caption of %s shot %d not cached (%s)", a.path, s.index, exc.strerror or exc)
            if progress:
                progress((k + 1) / len(todo))
    finally:
        if own:
            client.close()
    log.info("captions: %d from the cache, %d new, %d failed", report.cached, report.computed, report.failed)
    return report
