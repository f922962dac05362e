"""The names of the stages a job reports progress for, and what a front end shows for each.

Every long job reports ``progress(stage, fraction)`` with one of these names; the CLI's
progress bars and the panel's status line label them from :data:`LABELS`, so a stage is
named in one place.
"""

from __future__ import annotations

FOOTAGE = "footage"
MUSIC = "music"
DUPLICATES = "duplicates"
PLAN = "plan"
ASSEMBLE = "assemble"
TIMELINE = "timeline"
PREVIEW = "preview"
REPORT = "report"
PROXIES = "proxies"
RESOLVE = "resolve"
EXPORT = "export"

#: What a front end shows while a stage runs.
LABELS: dict[str, str] = {
    FOOTAGE: "Analysing footage",
    MUSIC: "Analysing music",
    DUPLICATES: "Comparing shots",
    PLAN: "Planning the story",
    ASSEMBLE: "Cutting on the beat",
    TIMELINE: "Building the timeline",
    PREVIEW: "Rendering preview",
    REPORT: "Writing the report",
    PROXIES: "Making proxies",
    RESOLVE: "Sending to Resolve",
    EXPORT: "Writing the timeline files",
}


def label(stage: str) -> str:
    """The text shown for ``stage`` (the name itself for a stage not listed).

    >>> label("music"), label("something else")
    ('Analysing music', 'something else')
    """
    return LABELS.get(stage, stage)
