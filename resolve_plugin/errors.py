"""Errors of the Resolve integration: each says what failed and what the editor can do."""

from __future__ import annotations

from typing import Sequence

from montage_ai.core.base.errors import MontageError


class ResolveError(MontageError):
    """Something in Resolve did not do what we asked (the message names the call)."""


class ResolveNotConnected(ResolveError):
    """No ``resolve`` object: the message is a diagnosis, one line per finding.

    ``findings`` holds the lines (what was tried, what was seen, what to do); ``cause`` one
    word for route selection: ``not-running``, ``refused`` (external scripting off, or an
    edition without it), ``timeout``, ``module-missing``, ``arch-mismatch`` (or empty).
    """

    def __init__(self, summary: str, findings: Sequence[str] = (), cause: str = "") -> None:
        self.summary = summary
        self.findings = tuple(findings)
        self.cause = cause
        text = summary + "".join(f"\n  - {line}" for line in self.findings)
        super().__init__(text)

    def __reduce__(self):
        return (type(self), (self.summary, self.findings, self.cause))


class PushError(ResolveError):
    """A rough cut could not be pushed; ``timeline`` names a timeline left for inspection
    (empty when none was left)."""

    def __init__(self, message: str, timeline: str = "") -> None:
        self.timeline = timeline
        super().__init__(message + (f" (timeline {timeline!r} was left in the project for inspection)"
                                    if timeline else ""))

    def __reduce__(self):
        return (type(self), (str(self), ""))


class InstallError(MontageError):
    """Installing or removing the Resolve launcher failed; the message names the file."""
