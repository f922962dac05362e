"""One way to read and write where a media file is: any URL form in, the form each format wants out.

Timelines name media in many forms, and each tool writes its own:

- percent-encoded ``file:///media/Day%201/caf%C3%A9.mov`` (FCPXML, :meth:`pathlib.Path.as_uri`);
- ``file://localhost/media/...`` (FCP7 XML from Premiere and Resolve; Premiere writes
  ``file://localhost/D%3a/media/x.mov`` for Windows drives, and may wrap it over lines);
- UNencoded ``file:///media/take #2 100%.mov`` (what OTIO 0.18's ``url_from_filepath`` and
  other tools write): a ``#`` or ``?`` there is part of the name, not a fragment or a query;
- a plain path, POSIX or Windows (``C:\\media\\x.mov``), or UNC (``\\\\server\\share\\x.mov``,
  ``file://server/share/x.mov``).

:func:`path_from_url` reads all of them. A URL is percent-decoded unless it cannot be an
encoded URL (it holds characters an encoded URL never does: spaces, tabs, non-ASCII, a ``%``
not followed by two hex digits), or the file exists under the literal name and not under the
decoded one (a file really named ``%20 intro.mov``).

Writers: :func:`file_url` (percent-encoded, FCPXML and OTIO for OTIO tools), :func:`fcp7_url`
(``file://localhost/`` + percent-encoded, FCP7 XML), and plain absolute paths for Resolve's
OTIO importer (:func:`plain_path`).

>>> path_from_url("file:///media/Day%201/caf%C3%A9.mov")
'/media/Day 1/café.mov'
>>> path_from_url("file:///media/take #2 100%.mov")
'/media/take #2 100%.mov'
>>> path_from_url("file://localhost/D%3a/media/x.mov")
'D:/media/x.mov'
>>> file_url("/media/take #2 100%.mov")
'file:///media/take%20%232%20100%25.mov'
"""

from __future__ import annotations

import ntpath
import os
import posixpath
import re
import urllib.parse
from pathlib import Path

__all__ = ["path_from_url", "file_url", "fcp7_url", "plain_path", "is_absolute"]

_DRIVE = re.compile(r"^/?([A-Za-z])(?::|%3[aA]|\|)(/.*)?$")
#: Characters a percent-encoded URL never holds literally.
_NOT_ENCODED = re.compile(r"[\s\"<>\\^`{|}]|[^\x00-\x7f]|%(?![0-9A-Fa-f]{2})")
#: Characters left as they are in the paths we encode (RFC 3986 unreserved, plus "/").
_SAFE = "/-._~"


def is_absolute(path: str) -> bool:
    """Absolute as a POSIX path, a Windows drive path or a UNC path."""
    return posixpath.isabs(path) or bool(ntpath.splitdrive(path)[0]) and ntpath.isabs(path)


def _decode(text: str, literal_ok: bool) -> str:
    if literal_ok or "%" not in text:
        return text
    return urllib.parse.unquote(text, errors="surrogateescape")


def path_from_url(url: str, *, base: str | os.PathLike[str] | None = None) -> str:
    """The local path a media reference names (see the module docstring for the forms).

    ``base``: the folder relative paths are relative to (a bundle's or a timeline file's
    folder); without it, a relative path is returned as it is.

    Raises ``ValueError`` for a URL of another scheme (``http:``, ``s3:``).
    """
    text = url.strip()
    if not text:
        raise ValueError("an empty media reference")
    scheme, sep, rest = text.partition(":")
    if sep and scheme.lower() == "file":
        path = _file_url_path(rest)
    elif sep and len(scheme) > 1 and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme) and rest.startswith("//"):
        raise ValueError(f"{url}: not a local file URL")
    else:
        path = text
    if base is not None and not is_absolute(path):
        path = os.path.join(os.fspath(base), path)
    return path


def _file_url_path(rest: str) -> str:
    """The path of a ``file:`` URL after the scheme (never split at ``#`` or ``?``)."""
    literal = bool(_NOT_ENCODED.search(rest))
    if rest.startswith("//"):
        authority, slash, path = rest[2:].partition("/")
        path = slash + path
        host = _decode(authority, literal)
        if host and host.lower() != "localhost":
            if _DRIVE.match("/" + host) and not path.startswith("/" + host):
                path = "/" + host + path  # file://C:/x (a drive written as the host)
            else:
                return "//" + host + _choose(path, literal)  # UNC: //server/share/...
    else:
        path = rest  # file:/path
    decoded = _choose(path, literal)
    drive = _DRIVE.match(decoded)
    if drive and (drive.group(2) is not None or len(decoded) <= 3):
        return f"{drive.group(1).upper()}:{drive.group(2) or '/'}"
    return decoded


def _choose(path: str, literal: bool) -> str:
    """Decoded, unless the URL cannot be encoded or only the literal name exists."""
    if literal or "%" not in path:
        return path
    decoded = urllib.parse.unquote(path, errors="surrogateescape")
    if decoded != path and not _exists(decoded) and _exists(path):
        return path
    return decoded


def _exists(path: str) -> bool:
    try:
        return os.path.exists(path)
    except (OSError, ValueError):
        return False


def _encode(path: str) -> str:
    data = os.fsencode(path) if isinstance(path, str) else path
    return urllib.parse.quote_from_bytes(data, safe=_SAFE)


def _url_path(path: str) -> str:
    """``path`` as the absolute, ``/``-separated path part of a URL (``/C:/x`` for a drive,
    ``//server/share/x`` for UNC), percent-encoded."""
    text = os.fspath(path)
    drive, tail = ntpath.splitdrive(text)
    if drive and len(drive) == 2 and drive[1] == ":":
        return "/" + drive.upper() + _encode(tail.replace("\\", "/") or "/")
    if drive.startswith(("\\\\", "//")):  # UNC
        return _encode(text.replace("\\", "/"))
    return _encode(os.path.abspath(text))


def file_url(path: str | os.PathLike[str]) -> str:
    """Percent-encoded ``file://`` URL of a path (made absolute): FCPXML's and OTIO's form.

    >>> file_url("/media/Day 1/café.mov")
    'file:///media/Day%201/caf%C3%A9.mov'
    >>> file_url("C:\\\\media\\\\x y.mov")
    'file:///C:/media/x%20y.mov'
    """
    url_path = _url_path(os.fspath(path))
    return "file:" + url_path if url_path.startswith("//") else "file://" + url_path


def fcp7_url(path: str | os.PathLike[str]) -> str:
    """``file://localhost`` + the percent-encoded absolute path: FCP7 XML's form (Premiere,
    Resolve).

    >>> fcp7_url("/media/Day 1/café #2.mov")
    'file://localhost/media/Day%201/caf%C3%A9%20%232.mov'
    """
    url_path = _url_path(os.fspath(path))
    return "file:" + url_path if url_path.startswith("//") else "file://localhost" + url_path


def plain_path(url_or_path: str, *, base: str | os.PathLike[str] | None = None) -> str:
    """A plain absolute path (what Resolve's OTIO importer relinks by), from any form."""
    path = path_from_url(url_or_path, base=base)
    return path if is_absolute(path) else str(Path(path).absolute())
