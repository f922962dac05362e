"""Analysis cache: results keyed by file identity and analysis version.

A file's identity is its size, its modification time and a hash of its first and last
megabyte: cheap to compute (no decode, no ffprobe), and it changes when the file does.
Entries are JSON files under the user cache dir (platformdirs), written to a temporary
file and renamed into place, so concurrent writers never leave a half-written entry and
readers see either the old or the new one. An entry that cannot be read is deleted and
reported as a miss: the caller rebuilds it.

>>> cache = AnalysisCache(tmp_path)                         # doctest: +SKIP
>>> key = cache.key("footage", FileIdentity.of("a.mov"), "1", mode="full")  # doctest: +SKIP
>>> cache.get(key) is None                                  # doctest: +SKIP
True
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from montage_ai.core.base.fileio import not_a_regular_file

log = logging.getLogger(__name__)

HASH_SPAN_BYTES = 1 << 20
CACHE_FORMAT = 2  # 2: entries carry format and checksum


def default_cache_dir() -> Path:
    """``$MONTAGE_AI_CACHE`` or the platform's user cache folder for montage-ai."""
    env = os.environ.get("MONTAGE_AI_CACHE")
    return Path(env) if env else Path(platformdirs.user_cache_dir("montage-ai", "Montage AI"))


def _checksum(payload: Any) -> str:
    material = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8", "surrogateescape")
    return hashlib.blake2b(material, digest_size=16).hexdigest()


def _envelope_problem(envelope: Any, key: str) -> str | None:
    """Why a stored entry must not be used, or None (see :meth:`AnalysisCache.get`)."""
    if not isinstance(envelope, dict):
        return f"a JSON {type(envelope).__name__}, not an entry"
    if envelope.get("key") != key:
        return "entry does not match its key"
    if envelope.get("format") != CACHE_FORMAT:
        return f"cache format {envelope.get('format')!r}, this version reads {CACHE_FORMAT}"
    if not isinstance(envelope.get("payload"), dict):
        return "its payload is not an object"
    if envelope.get("sum") != _checksum(envelope["payload"]):
        return "its content does not match its checksum (changed after it was written)"
    return None


class NotARegularFile(OSError):
    """A path that names a FIFO, device, socket or folder: not opened, not media."""


@dataclass(frozen=True)
class FileIdentity:
    """What identifies the content of a file without reading all of it."""

    size: int
    mtime_ns: int
    head_tail_hash: str

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> "FileIdentity":
        """Raises :class:`OSError` (``NotARegularFile`` for a FIFO, device or socket, which is
        never opened) when the file cannot be read."""
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise NotARegularFile(not_a_regular_file(path) or "is not a regular file")
        h = hashlib.blake2b(digest_size=16)
        with open(path, "rb") as f:
            h.update(f.read(HASH_SPAN_BYTES))
            if st.st_size > HASH_SPAN_BYTES:
                f.seek(max(HASH_SPAN_BYTES, st.st_size - HASH_SPAN_BYTES))
                h.update(f.read(HASH_SPAN_BYTES))
        h.update(str(st.st_size).encode())
        return cls(size=st.st_size, mtime_ns=st.st_mtime_ns, head_tail_hash=h.hexdigest())


class AnalysisCache:
    """A folder of JSON entries keyed by (kind, file identity, version, parameters)."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()

    @staticmethod
    def key(kind: str, identity: FileIdentity, version: str, **params: Any) -> str:
        material = json.dumps(
            {"format": CACHE_FORMAT, "kind": kind, "version": version, "size": identity.size,
             "mtime_ns": identity.mtime_ns, "hash": identity.head_tail_hash, "params": params},
            sort_keys=True,
        )
        return f"{kind}-{hashlib.blake2b(material.encode(), digest_size=20).hexdigest()}"

    def path_for(self, key: str) -> Path:
        return self.root / key[-2:] / f"{key}.json"

    def asset_dir(self, key: str) -> Path:
        """A folder for files that belong to an entry (thumbnails)."""
        return self.root / key[-2:] / key

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored payload, or None on a miss or an entry that is not valid (removed, so
        the caller rebuilds it). Valid means: a JSON object of this cache format, under its
        own key, whose payload is an object and still matches the checksum written with it
        (an entry edited or truncated by hand, or of another shape, is never used)."""
        path = self.path_for(key)
        try:
            with open(path, "rb") as f:
                envelope = json.loads(f.read())
            problem = _envelope_problem(envelope, key)
            if problem:
                raise ValueError(problem)
            return envelope["payload"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
            log.warning("cache entry %s is unreadable or invalid (%s); rebuilding it", path, exc)
            try:
                path.unlink()
            except OSError:
                pass
            return None

    def put(self, key: str, payload: dict[str, Any]) -> Path:
        """Store a JSON-safe payload atomically; the last writer wins."""
        path = self.path_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"key": key, "format": CACHE_FORMAT, "sum": _checksum(payload), "payload": payload},
                          separators=(",", ":")).encode()
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return path
