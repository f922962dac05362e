"""The song as a timeline uses it: its probe, with the length its audio really decodes to.

A truncated song (an MP3 cut short by a failed copy) still declares its full length in its
header. Music analysis decodes what is there and goes on; every stage that places the song
on a timeline (the rough cut, the grid export) takes its probe from :func:`song_info`, so
the song is accepted the same way everywhere and the timeline never runs past its audio.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from montage_ai.core.media.probe import MediaInfo, probe

log = logging.getLogger(__name__)

#: A song that decodes this much shorter than it claims is reported as truncated.
TRUNCATION_SLACK_S = 0.5


def song_info(analysis: Any) -> MediaInfo:
    """The probe of ``analysis.path`` (a MusicAnalysis), its duration the decoded one when
    the file stops early (with a warning naming the file)."""
    info = probe(analysis.path, require_video=False, verify_tail=False)
    decoded = float(analysis.duration_s)
    if decoded > 0 and info.duration_s - decoded > TRUNCATION_SLACK_S:
        log.warning("%s: file is truncated: it claims %.2f s but its audio stops at %.2f s; using the %.2f s there are",
                    analysis.path, info.duration_s, decoded, decoded)
        info = dataclasses.replace(info, duration_s=decoded)
    return info
