"""The fallback route: import the cut as FCP7 XML (``ImportTimelineFromFile``).

Used when per-item appends fail. The XML comes from our own writer
(``montage_ai.otio_adapters.export.export_timeline(timeline, path, "premiere")``), imported
lazily: :func:`unavailable_reason` says why it cannot be used when it is missing. Resolve
relinks an FCP7 XML against clips already in the pool (``importSourceClips: False``,
``sourceClipsFolders`` the bins holding our sources) and keeps source in-points
frame-exact (reported, Resolve 19). The name inside the file is the unique timeline name
too: Resolve may prefer it over the ``timelineName`` option. Markers do not survive the XML
import (reported), so :mod:`.push` adds them through the API afterwards.

Verified only against ``tests/fake_resolve.py``.
"""

from __future__ import annotations

import copy
import logging
import os
import re
import tempfile
from typing import Any, Sequence

from montage_ai.core.model.cutlist import CutList

from .client import ResolveClient
from .errors import PushError

log = logging.getLogger(__name__)


def unavailable_reason() -> str:
    """Empty when the FCP7 XML writer can be imported, else why not."""
    try:
        from montage_ai.otio_adapters.export import export_timeline  # noqa: F401
    except ImportError as exc:
        return f"montage_ai.otio_adapters.export cannot be imported: {exc}"
    return ""


def _file_name(name: str) -> str:
    return (re.sub(r"[^\w.-]+", "_", name).strip("._") or "timeline") + ".xml"


def import_fcp7_xml(client: ResolveClient, cut_list: CutList, timeline: Any, name: str,
                    bin_ids: Sequence[str]) -> str:
    """Write ``timeline`` (built from ``cut_list`` when ``None``) as FCP7 XML named ``name``
    and import it; the new timeline's id.

    Raises
    ------
    PushError
        Resolve imported nothing (``ImportTimelineFromFile`` returns None for any failure,
        a taken name included).
    """
    from montage_ai.otio_adapters.export import export_timeline

    if timeline is None:
        from montage_ai.core.model.timeline import build_timeline

        timeline = build_timeline(cut_list)
    named = copy.deepcopy(timeline)
    named.name = name
    with tempfile.TemporaryDirectory(prefix="montage-ai-resolve-") as folder:
        path = os.path.join(folder, _file_name(name))
        export_timeline(named, path, "premiere", for_app="resolve")
        timeline_id = client.import_timeline_file(path, name, list(bin_ids))
    if not timeline_id:
        raise PushError(f"Resolve did not import the FCP7 XML of {name!r} (ImportTimelineFromFile returned nothing)")
    got = client.timeline_name(timeline_id)
    if got != name:
        log.warning("Resolve named the imported timeline %r instead of %r", got, name)
    return timeline_id
