"""Safe writes: a file appears whole or not at all, and nothing existing is overwritten
unless the caller says so."""

from __future__ import annotations

import errno
import logging
import os
import re
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


class OutputExistsError(FileExistsError):
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        super().__init__(f"{self.path}: already exists; choose another name or pass --force to replace it")


def write_atomic(path: str | os.PathLike[str], data: bytes | str, *, overwrite: bool = False) -> Path:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place.

    Raises :class:`OutputExistsError` when ``path`` exists and ``overwrite`` is False.
    """
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file: choose another output name", str(target))
    if target.exists() and not overwrite:
        raise OutputExistsError(target)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        publish(tmp, target, overwrite=overwrite)
    except OutputExistsError:
        raise
    except OSError as exc:  # read-only or full disk: name the output, not our temporary file
        raise type(exc)(exc.errno, f"cannot write it: {exc.strerror or exc}", str(target)) from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return target


_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    ch = match.group()
    code = ord(ch)
    if ch in _NAMED:
        return _NAMED[ch]
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (os.fsdecode's surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def display_name(text: str) -> str:
    """``text`` (a file or timeline name) fit for any text format we write: control characters
    and line breaks as visible escapes (``\\n``, ``\\x07``), bytes of a name that was not UTF-8
    (kept by ``surrogateescape``) as ``\\xNN``. XML 1.0 forbids most C0 controls, an EDL
    comment must stay one line, UTF-8 cannot encode a lone surrogate. Paths themselves are
    not passed through this: they travel exactly (percent-encoded URLs, JSON escapes).

    >>> display_name("take\\n1\\x07 caf" + "\\udce9" + ".mov")
    'take\\\\n1\\\\x07 caf\\\\xe9.mov'
    """
    return _UNSAFE.sub(_escape, text)


def not_a_regular_file(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be read as media, from ``stat`` alone (nothing is opened: opening a
    FIFO blocks until someone writes to it, a device never ends), or None for a regular file
    (through symlinks). A symlink loop or a missing file are named too."""
    import stat as _stat

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "file does not exist" if not os.path.islink(path) else "is a broken symbolic link"
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            return "is a symbolic link loop"
        return f"cannot be read: {exc.strerror or exc}"
    except ValueError:
        return "the name holds a NUL byte"
    if _stat.S_ISREG(mode):
        return None
    if _stat.S_ISDIR(mode):
        return "is a folder, not a media file"
    if _stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe), not a media file; skipped without reading it"
    if _stat.S_ISCHR(mode) or _stat.S_ISBLK(mode):
        return "is a device, not a media file; skipped without reading it"
    if _stat.S_ISSOCK(mode):
        return "is a socket, not a media file; skipped without reading it"
    return "is not a regular file"


def current_umask() -> int:
    """The process's umask, read without changing it where the system tells it (Linux
    ``/proc/self/status``), else set and put back at once."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def output_mode(path: str | os.PathLike[str] | None = None) -> int:
    """The mode a new output gets: what ``open()`` would give it under the user's umask
    (``0o666 & ~umask``), or the mode of the file at ``path`` it replaces."""
    if path is not None:
        try:
            return os.stat(path).st_mode & 0o7777
        except OSError:
            pass
    return 0o666 & ~current_umask()


def publish(tmp: str | os.PathLike[str], path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """Move the finished temporary file ``tmp`` onto ``path`` in one step.

    Without ``overwrite`` a file at ``path`` is never replaced, also one that appeared
    while ``tmp`` was being written (:class:`OutputExistsError`; ``tmp`` is left for the
    caller to remove). The file gets the mode the user's umask gives new files (a temporary
    file is made 0600; an output is for others too: render workers, shared storage), or the
    mode of the file it replaces.
    """
    try:
        os.chmod(tmp, output_mode(path if overwrite else None))
    except OSError:
        pass  # a file system without modes
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # fails if path exists: no window in which we could clobber it
    except FileExistsError:
        raise OutputExistsError(path) from None
    except OSError:  # a file system without hard links
        if os.path.exists(path):
            raise OutputExistsError(path) from None
        os.replace(tmp, path)
    else:
        os.unlink(tmp)


VIDEO_EXTENSIONS = frozenset(
    ".mov .mp4 .m4v .mxf .mkv .avi .mts .m2ts .ts .webm .mpg .mpeg .dv .wmv .3gp .braw .r3d".split()
)


#: Sub-folders never searched for footage: proxies live there (core/render/proxies.py).
SKIPPED_FOLDERS = frozenset({"Proxy"})


def collect_media(paths: list[str], extensions: frozenset[str] = VIDEO_EXTENSIONS,
                  skipped: list[tuple[str, str]] | None = None) -> list[str]:
    """Files named directly, plus the media files found (recursively, sorted) in folders.

    Inside a folder, hidden folders and folders named ``Proxy`` (proxies, see
    core/render/proxies.py) are not searched; a folder named directly always is. Symlinked
    folders are followed, each real folder once; a folder that cannot be read or a link that
    loops back is skipped and said: a warning, and ``(folder, reason)`` in ``skipped``."""
    found: list[str] = []
    notes = skipped if skipped is not None else []

    def note(folder: str, reason: str) -> None:
        notes.append((folder, reason))
        log.warning("%s: %s; skipped", display_name(folder), reason)

    for p in paths:
        if not os.path.isdir(p):
            found.append(p)
            continue
        seen: set[tuple[int, int]] = set()

        def unreadable(exc: OSError) -> None:
            note(exc.filename or p, f"folder cannot be read ({exc.strerror or exc})")

        for root, dirs, files in os.walk(p, onerror=unreadable, followlinks=True):
            try:
                st = os.stat(root)
            except OSError as exc:
                note(root, f"folder cannot be read ({exc.strerror or exc})")
                dirs[:] = []
                continue
            if (st.st_dev, st.st_ino) in seen:
                note(root, f"a symbolic link loop (back to {display_name(os.path.realpath(root))})")
                dirs[:] = []
                continue
            seen.add((st.st_dev, st.st_ino))
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_FOLDERS)
            found += [os.path.join(root, f) for f in sorted(files)
                      if not f.startswith(".") and os.path.splitext(f)[1].lower() in extensions]
    return found
