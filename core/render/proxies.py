"""Proxies: small edit-friendly copies of the footage that conform frame for frame.

Each source ``DIR/clip.mov`` gets ``DIR/Proxy/clip.<ext>`` (or ``OUT/clip.<ext>`` with
``out_dir``): the name DaVinci Resolve, Premiere and Final Cut look for. A proxy has every
frame of the source at the source's rate and timestamps, the same start timecode, all audio
streams and the source's metadata (see :func:`~montage_ai.core.render.encoders.proxy_args`).

A proxy we wrote carries a tag in its ``comment`` metadata naming the profile and the
source's identity (size, modification time, a hash of its first and last megabyte), so an
unchanged source with an up-to-date proxy is skipped, a changed source gets a new proxy,
and a file at the proxy's name that we did not write is never replaced without ``force``.

The proxy is encoded into a temporary file beside its final name, its frame count checked
against the source, and only then published (:func:`~montage_ai.core.base.fileio.publish`).
Progress comes from ffmpeg's ``-progress pipe:1``; ``cancel()`` kills ffmpeg and removes
the temporary file. When a hardware encoder or hardware decoding fails part way (a driver
error, a session limit), the file is encoded again with software decoding on the CPU and
the result says so in ``note``.

For the Resolve bridge: :func:`proxy_links` maps source paths to their up-to-date proxies,
ready for ``MediaPoolItem.LinkProxyMedia(proxy_path)``.

>>> proxy_path("/footage/day1/A001.mov", get_profile("prores-proxy-half"))   # doctest: +SKIP
PosixPath('/footage/day1/Proxy/A001.mov')
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Sequence

import ffmpeg as ffmpeg_python

from montage_ai.core.base.errors import Cancelled, MediaError
from montage_ai.core.base.fileio import OutputExistsError, publish
from montage_ai.core.media.ffmpeg_progress import run_ffmpeg_progress
from montage_ai.core.media.probe import MediaInfo, probe, require_tool
from montage_ai.core.render.encoders import (
    DEFAULT_PROFILE,
    PROFILES,
    EncoderRegistry,
    ProxyProfile,
    default_registry,
    get_profile,
    proxy_args,
    proxy_size,
)
from montage_ai.core.run.cache import FileIdentity
from montage_ai.core.run.executor import CancelFn, Executor, InlineExecutor, ProgressFn

log = logging.getLogger(__name__)

PROXY_FOLDER = "Proxy"
TAG_PREFIX = "montage-ai proxy v1"


@dataclass(frozen=True)
class ProxyResult:
    """One source's proxy: where it is, how it was made, or that it was already current."""

    source: str
    proxy: str
    profile: str
    encoder: str | None
    skipped: bool
    frame_count: int
    note: str | None = None


@dataclass
class ProxyReport:
    results: list[ProxyResult] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)


def proxy_path(source: str | os.PathLike[str], profile: ProxyProfile,
               out_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the proxy of ``source`` goes: ``<source folder>/Proxy/<stem>.<ext>`` or ``out_dir/<stem>.<ext>``."""
    src = Path(os.path.abspath(source))
    folder = Path(out_dir) if out_dir is not None else src.parent / PROXY_FOLDER
    return folder / f"{src.stem}.{profile.container}"


def proxy_tag(source: str | os.PathLike[str], profile: ProxyProfile) -> str:
    """The ``comment`` a proxy of the source in its present state carries."""
    ident = FileIdentity.of(source)
    return f"{TAG_PREFIX}; profile={profile.name}; source={ident.size}:{ident.mtime_ns}:{ident.head_tail_hash}"


def _read_tag(path: Path) -> str | None:
    try:
        data = ffmpeg_python.probe(str(path), cmd=require_tool("ffprobe"), v="error", show_entries="format_tags=comment")
    except ffmpeg_python.Error:
        return None
    return ((data.get("format") or {}).get("tags") or {}).get("comment")


def proxy_state(source: str | os.PathLike[str], proxy: str | os.PathLike[str], profile: ProxyProfile) -> str:
    """``missing``, ``current`` (ours, for this source as it is now), ``stale`` (ours, older) or ``foreign``."""
    proxy = Path(proxy)
    if not proxy.exists():
        return "missing"
    tag = _read_tag(proxy)
    if not tag or not tag.startswith(TAG_PREFIX):
        return "foreign"
    return "current" if tag == proxy_tag(source, profile) else "stale"


def find_proxy(source: str | os.PathLike[str], *, out_dir: str | os.PathLike[str] | None = None,
               profiles: Iterable[str] | None = None) -> Path | None:
    """The up-to-date proxy of ``source`` made with any of ``profiles`` (default: all), or None."""
    for name in profiles or PROFILES:
        profile = get_profile(name)
        candidate = proxy_path(source, profile, out_dir)
        if proxy_state(source, candidate, profile) == "current":
            return candidate
    return None


def proxy_links(sources: Iterable[str], *, out_dir: str | os.PathLike[str] | None = None,
                profiles: Iterable[str] | None = None) -> dict[str, str]:
    """``{source: proxy}`` for every source with an up-to-date proxy: what the Resolve bridge
    passes to ``MediaPoolItem.LinkProxyMedia(proxy)`` for the item whose ``"File Path"`` is
    ``source``. Sources without one are left out."""
    names = list(profiles) if profiles is not None else None
    links = {}
    for s in sources:
        found = find_proxy(s, out_dir=out_dir, profiles=names)
        if found is not None:
            links[os.path.abspath(s)] = str(found)
    return links


# --- one proxy ------------------------------------------------------------------------

def encode_proxy(source: str | os.PathLike[str], *, profile: str | ProxyProfile = DEFAULT_PROFILE,
                 encoder: str | None = None, out_dir: str | os.PathLike[str] | None = None, force: bool = False,
                 registry: EncoderRegistry | None = None, progress: Callable[[float], None] | None = None,
                 cancel: Callable[[], bool] | None = None) -> ProxyResult:
    """Make (or confirm) the proxy of one file.

    Parameters
    ----------
    profile:
        A :data:`~montage_ai.core.render.encoders.PROFILES` name or profile.
    encoder:
        ``auto|nvenc|vaapi|qsv|videotoolbox|cpu`` (default ``$FFMPEG_HWACCEL`` or auto).
    out_dir:
        Folder for the proxy (default: ``Proxy`` beside the source).
    force:
        Replace a file at the proxy's name that montage-ai did not write.

    Raises
    ------
    MediaError
        The source cannot be read, the encode fails on the CPU too, or the proxy's frame
        count differs from the source's.
    OutputExistsError
        A file we did not write is at the proxy's name and ``force`` is False.
    Cancelled
        ``cancel()`` returned True (no file is left behind).
    """
    source = os.path.abspath(source)
    prof = get_profile(profile) if isinstance(profile, str) else profile
    # The tail check is left to the encode: a truncated file gives fewer frames, and then
    # the full probe below says why.
    media = probe(source, verify_tail=False)
    target = proxy_path(source, prof, out_dir)
    size = proxy_size(media.video.display_width, media.video.display_height, prof)
    if size[0] < prof.min_size[0] or size[1] < prof.min_size[1]:
        raise MediaError(source, f"a {prof.name} proxy would be {size[0]}x{size[1]}; {prof.codec} needs at least "
                                 f"{prof.min_size[0]}x{prof.min_size[1]}: choose a larger profile")
    state = proxy_state(source, target, prof)
    if state == "current" and not force:
        if progress:
            progress(1.0)
        return ProxyResult(source, str(target), prof.name, None, True, media.video.frame_count)
    if state == "foreign" and not force:
        raise OutputExistsError(target)
    registry = registry or default_registry()
    verdict = registry.select(prof.codec, encoder)
    tag = proxy_tag(source, prof)
    try:
        _encode(source, target, media, prof, verdict.kind, tag, progress, cancel, hwdecode=True)
        return ProxyResult(source, str(target), prof.name, verdict.encoder, False, media.video.frame_count)
    except (Cancelled, OutputExistsError):
        raise
    except MediaError as exc:
        # The device may have failed (a driver error, no free encoder session, a decoder
        # that gave up part way): once more with software decoding and the CPU encoder.
        what = f"{verdict.encoder} failed" if verdict.kind != "cpu" else "hardware-assisted decoding failed"
        note = f"{what} ({exc.reason}); encoded on the CPU instead"
        log.warning("%s: %s", source, note)
    cpu = registry.select(prof.codec, "cpu")
    _encode(source, target, media, prof, "cpu", tag, progress, cancel, hwdecode=False)
    return ProxyResult(source, str(target), prof.name, cpu.encoder, False, media.video.frame_count, note=note)


def _encode(source: str, target: Path, media: MediaInfo, profile: ProxyProfile, kind: str, tag: str,
            progress: Callable[[float], None] | None, cancel: Callable[[], bool] | None, *, hwdecode: bool) -> None:
    v = media.video
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".part.{profile.container}", dir=target.parent)
    os.close(fd)
    try:
        args = proxy_args(source, tmp, width=v.display_width, height=v.display_height, rate=v.rate,
                          has_audio=media.has_audio, timecode=media.start_timecode, profile=profile, kind=kind,
                          hwdecode=hwdecode, metadata={"comment": tag})
        run_ffmpeg([require_tool("ffmpeg")] + args, source, v.frame_count, progress, cancel)
        made = probe(tmp, verify_tail=False)
        if made.video is None or made.video.frame_count != v.frame_count:
            probe(source)  # raises with the reason when the source is truncated
            got = made.video.frame_count if made.video else 0
            raise MediaError(source, f"proxy has {got} frames, the source {v.frame_count}")
        # Ours and stale (or force): replace; otherwise never clobber what appeared meanwhile.
        publish(tmp, target, overwrite=target.exists())
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def run_ffmpeg(cmd: Sequence[str], source: str, frame_count: int, progress: Callable[[float], None] | None,
               cancel: Callable[[], bool] | None) -> None:
    """Run a proxy encode (``-progress pipe:1``) with progress and cancel; errors name ``source``."""
    code, errors = run_ffmpeg_progress(cmd, frame_count, progress=progress, cancel=cancel,
                                       cancelled=f"proxy of {source} was cancelled")
    if code != 0:
        reason = "; ".join(errors[-3:]) or f"ffmpeg exited with {code}"
        raise MediaError(source, f"proxy encode failed: {reason}")


# --- many proxies ---------------------------------------------------------------------

def proxy_job(source: str, progress: Callable[[float], None], cancel: Callable[[], bool], *,
              profile: str = DEFAULT_PROFILE, encoder: str | None = None, out_dir: str | None = None,
              force: bool = False) -> ProxyResult:
    """Executor job (picklable). The encoder is chosen where the job runs: a cluster's
    workers prove their own hardware (verdicts cached per machine)."""
    return encode_proxy(source, profile=profile, encoder=encoder, out_dir=out_dir, force=force,
                        progress=progress, cancel=cancel)


def make_proxies(sources: Sequence[str], *, profile: str = DEFAULT_PROFILE, encoder: str | None = None,
                 out_dir: str | os.PathLike[str] | None = None, force: bool = False,
                 executor: Executor | None = None, progress: ProgressFn | None = None,
                 cancel: CancelFn | None = None) -> ProxyReport:
    """Proxies for many files; a file that fails is reported and the others go on.

    Two sources that would share a proxy name (``a.mov`` and ``a.mp4`` in one folder) are
    refused, the second with the first's name, rather than one overwriting the other.
    """
    prof = get_profile(profile)
    report = ProxyReport()
    todo: list[str] = []
    claimed: dict[Path, str] = {}
    for s in (os.path.abspath(p) for p in sources):
        target = proxy_path(s, prof, out_dir)
        if target in claimed:
            report.failures.append((s, f"{s}: its proxy {target} would have the same name as that of {claimed[target]}"))
            continue
        claimed[target] = s
        todo.append(s)
    job = partial(proxy_job, profile=prof.name, encoder=encoder,
                  out_dir=os.path.abspath(out_dir) if out_dir is not None else None, force=force)
    for r in (executor or InlineExecutor()).run(job, todo, progress=progress, cancel=cancel):
        if r.ok:
            report.results.append(r.value)
        else:
            report.failures.append((r.item, r.error or "failed"))
    order = {os.path.abspath(p): i for i, p in enumerate(sources)}
    report.results.sort(key=lambda r: order.get(r.source, 0))
    report.failures.sort(key=lambda f: order.get(f[0], 0))
    return report
