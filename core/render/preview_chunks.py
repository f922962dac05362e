"""A long preview in bounded memory: the video rendered in chunks of a few cuts, joined.

One ffmpeg job with every clip as an input holds a decoder, its first frames and a filter
chain per clip at once (200 cuts: 0.6 GB). Here the video track is cut into chunks of at
most ``chunk`` pieces (clips and gaps); each chunk is one ffmpeg job with the filter graph
:func:`~.preview._video_graph` builds for those pieces alone, encoded to H.264 with exactly
the chunk's record frames at the timeline rate. The audio track is rendered once, as PCM,
exactly the timeline's length (music trimmed and faded as in the one-pass render: it is
the same graph). A last job joins the chunks with ffmpeg's concat demuxer, copying the
video packets (every chunk has the same codec, size and rate, so no frame is re-encoded,
repeated or lost at a join), and encodes the audio over the whole to AAC.

Chunks live in a temporary folder beside the output, removed whatever happens; the MP4 is
written under a temporary name and published in one step. Progress runs over all jobs by
frames; cancel is polled in each.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from typing import Callable

import opentimelineio as otio

from montage_ai.core.media.probe import MediaInfo
from montage_ai.core.render import preview as one

log = logging.getLogger(__name__)

#: Share of the progress bar for the audio job and for the join.
_AUDIO_SHARE = 0.03
_JOIN_SHARE = 0.03


def _concat_line(name: str) -> str:
    """A concat-demuxer ``file`` line for a file beside the list (a bare name: the output
    folder's own name, whatever characters it holds, never enters the list)."""
    return "file '" + name.replace("'", "'\\''") + "'\n"


def chunked(pieces: list, chunk: int) -> list[list]:
    """``pieces`` in runs of at most ``chunk`` (the last may be shorter)."""
    size = max(1, int(chunk))
    return [pieces[i:i + size] for i in range(0, len(pieces), size)]


def render_chunked(timeline: otio.schema.Timeline, tmp_out: str, *, size: tuple[int, int] | None,
                   chunk: int, media: dict[str, MediaInfo] | None,
                   progress: Callable[[float], None] | None, cancel: Callable[[], bool] | None,
                   label: str) -> int:
    """Render ``timeline`` to ``tmp_out`` (an MP4) chunk by chunk; the frame count written.

    ``label`` names the output in messages (the final path, not the temporary one).
    """
    rate, pieces, total = one._timeline_pieces(timeline)
    width, height = one._output_size(timeline, size)
    probes = dict(media or {})
    folder = tempfile.mkdtemp(prefix=".chunks.", dir=os.path.dirname(tmp_out) or ".")
    video_share = 1.0 - _AUDIO_SHARE - _JOIN_SHARE
    try:
        listing = os.path.join(folder, "chunks.txt")
        done = 0
        with open(listing, "w", encoding="utf-8") as lst:
            for k, run in enumerate(chunked(pieces, chunk)):
                frames = sum(p.record_frames for p in run)
                path = os.path.join(folder, f"chunk{k:05d}.mp4")
                vargs, graph = one._video_graph(run, rate, width, height, probes)
                graph_path = os.path.join(folder, f"chunk{k:05d}.filtergraph")
                one._write_graph(graph, graph_path)
                cmd = [*one._ffmpeg_head(), "-copyts", *vargs, "-filter_complex_script", graph_path,
                       "-map", "[vout]", "-an", *one._video_codec(rate),
                       "-video_track_timescale", str(rate.numerator), "-f", "mp4",
                       "-progress", "pipe:1", "-nostats", "-y", path]
                base = done
                one._run(cmd, frames, label,
                         (lambda f, b=base, n=frames: progress(video_share * (b + f * n) / total)) if progress else None,
                         cancel)
                os.unlink(graph_path)
                done += frames
                lst.write(_concat_line(os.path.basename(path)))
        audio = os.path.join(folder, "audio.wav")
        aargs, agraph = one._audio_graph(timeline, rate, total, 0)
        graph_path = os.path.join(folder, "audio.filtergraph")
        one._write_graph(agraph, graph_path)
        one._run([*one._ffmpeg_head(), *aargs, "-filter_complex_script", graph_path, "-map", "[aout]",
                  "-c:a", "pcm_f32le", "-ar", str(one.AUDIO_RATE), "-ac", "2", "-f", "wav",
                  "-progress", "pipe:1", "-nostats", "-y", audio], 0, label, None, cancel)
        if progress:
            progress(video_share + _AUDIO_SHARE)
        join = [*one._ffmpeg_head(), "-f", "concat", "-safe", "0", "-i", listing, "-i", audio,
                "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", *one._audio_codec_and_mp4(rate),
                "-progress", "pipe:1", "-nostats", "-y", tmp_out]
        one._run(join, total, label,
                 (lambda f: progress(video_share + _AUDIO_SHARE + _JOIN_SHARE * f)) if progress else None, cancel)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    log.debug("preview %s: %d frames in %d chunks of up to %d pieces", label, total,
              len(chunked(pieces, chunk)), chunk)
    return total


def needs_chunks(timeline: otio.schema.Timeline, chunk: int) -> bool:
    """Whether the video track has more pieces than one chunk holds."""
    _, pieces, _ = one._timeline_pieces(timeline)
    return len(pieces) > max(1, int(chunk))
