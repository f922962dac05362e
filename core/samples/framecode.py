"""Frame-numbered footage: every frame shows its own index as a code a test can read back.

A frame is a grid of :data:`GRID_COLS` x :data:`GRID_ROWS` big black or white blocks filling
the whole picture. The blocks carry 32 bits: a 4-bit ``tag`` (which file the frame came
from), a 20-bit frame index and an 8-bit CRC of the two. Blocks are so large that the code
survives H.264 at a high CRF, chroma subsampling and scaling to any size or aspect ratio;
the CRC turns a misread (a blend, a dissolve, a half-decoded frame) into ``None`` rather
than a wrong number.

>>> img = framecode_image(1234, (128, 72), tag=3)
>>> read_framecode(img), read_tagged_framecode(img)
(1234, (3, 1234))
>>> render_framecode("numbers.mp4", 48, rate=Fraction(24000, 1001),
...                  start_timecode="01:00:00:00")                     # doctest: +SKIP
'numbers.mp4'

Files are written atomically (a temporary file beside, then a rename) and never replace an
existing file unless ``overwrite=True``.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from fractions import Fraction

import numpy as np

from montage_ai.core.base.errors import MediaError
from montage_ai.core.base.fileio import OutputExistsError, publish
from montage_ai.core.media.probe import require_tool

GRID_COLS = 8
GRID_ROWS = 4
TAG_BITS = 4
INDEX_BITS = 20
CRC_BITS = 8
#: The largest frame index a code can carry.
MAX_INDEX = (1 << INDEX_BITS) - 1
MAX_TAG = (1 << TAG_BITS) - 1
# Stored codes are XORed with this, so a black, white or grey frame is never a valid code.
_MASK = 0x5A3C96E1
_WHITE = 235
_BLACK = 16


def _crc8(value: int, nbytes: int = 3) -> int:
    """CRC-8 (polynomial 0x07) of ``value``'s low ``nbytes`` bytes, big-endian."""
    crc = 0
    for byte in value.to_bytes(nbytes, "big"):
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _bits(index: int, tag: int) -> np.ndarray:
    if not 0 <= index <= MAX_INDEX:
        raise ValueError(f"frame index {index} is outside 0..{MAX_INDEX}")
    if not 0 <= tag <= MAX_TAG:
        raise ValueError(f"tag {tag} is outside 0..{MAX_TAG}")
    payload = (tag << INDEX_BITS) | index
    word = ((payload << CRC_BITS) | _crc8(payload)) ^ _MASK
    total = TAG_BITS + INDEX_BITS + CRC_BITS
    return np.array([(word >> (total - 1 - i)) & 1 for i in range(total)], dtype=np.uint8)


def framecode_image(index: int, size: tuple[int, int] = (128, 72), *, tag: int = 0) -> np.ndarray:
    """The picture (grey, ``uint8``, ``height x width``) that encodes ``index`` and ``tag``.

    Examples
    --------
    >>> framecode_image(5, (64, 36)).shape
    (36, 64)
    """
    width, height = size
    if width < GRID_COLS * 2 or height < GRID_ROWS * 2:
        raise ValueError(f"size {width}x{height} is too small for a {GRID_COLS}x{GRID_ROWS} code")
    cells = _bits(index, tag).reshape(GRID_ROWS, GRID_COLS)
    ys = (np.arange(height) * GRID_ROWS) // height
    xs = (np.arange(width) * GRID_COLS) // width
    grid = cells[ys[:, None], xs[None, :]]
    return np.where(grid == 1, _WHITE, _BLACK).astype(np.uint8)


def read_tagged_framecode(image: np.ndarray) -> tuple[int, int] | None:
    """``(tag, index)`` of a frame made by :func:`framecode_image`, or ``None`` if unreadable.

    ``image`` is grey (``H x W``) or colour (``H x W x 3``, any channel order), at any size.

    Examples
    --------
    >>> read_tagged_framecode(framecode_image(77, tag=2))
    (2, 77)
    >>> read_tagged_framecode(np.zeros((72, 128), np.uint8)) is None    # black
    True
    >>> read_tagged_framecode(np.full((72, 128), 235, np.uint8)) is None  # white
    True
    """
    img = np.asarray(image)
    if img.ndim == 3:
        img = img.mean(axis=2)
    height, width = img.shape[:2]
    if height < GRID_ROWS * 2 or width < GRID_COLS * 2:
        return None
    bits = []
    for r in range(GRID_ROWS):
        y0, y1 = r * height // GRID_ROWS, (r + 1) * height // GRID_ROWS
        qy = max(1, (y1 - y0) // 4)
        for c in range(GRID_COLS):
            x0, x1 = c * width // GRID_COLS, (c + 1) * width // GRID_COLS
            qx = max(1, (x1 - x0) // 4)
            mean = float(img[y0 + qy:y1 - qy, x0 + qx:x1 - qx].mean())
            if 90 < mean < 160:  # neither black nor white: a blend, not a code
                return None
            bits.append(1 if mean >= 128 else 0)
    word = 0
    for b in bits:
        word = (word << 1) | b
    word ^= _MASK
    payload, crc = word >> CRC_BITS, word & ((1 << CRC_BITS) - 1)
    if _crc8(payload) != crc:
        return None
    return payload >> INDEX_BITS, payload & MAX_INDEX


def read_framecode(image: np.ndarray) -> int | None:
    """The frame index a frame shows, or ``None`` when it carries no readable code.

    Examples
    --------
    >>> read_framecode(framecode_image(1000, (320, 180)))
    1000
    """
    found = read_tagged_framecode(image)
    return None if found is None else found[1]


def render_framecode(
    path: str | os.PathLike[str],
    frames: int,
    *,
    rate: Fraction | int = Fraction(25),
    size: tuple[int, int] = (128, 72),
    tag: int = 0,
    first_index: int = 0,
    start_timecode: str | None = None,
    start_offset_s: float = 0.0,
    gop_frames: int | None = 12,
    crf: int = 23,
    drop_every: int | None = None,
    overwrite: bool = False,
) -> str:
    """Write an H.264 file of ``frames`` frames; frame ``n`` shows index ``first_index + n``.

    Parameters
    ----------
    rate:
        Exact frame rate (``Fraction(30000, 1001)``, 25, ...).
    size:
        ``(width, height)``, both even.
    tag:
        0..15, carried by every frame: tells the files of a test apart.
    start_timecode:
        A start timecode written into the file (``"01:00:00:00"``; ``;`` for drop frame).
    start_offset_s:
        Shift every timestamp by this much: the first frame is presented at this time, as
        in camera files whose video starts late.
    gop_frames:
        Keyframe interval; short GOPs make seeking in tests meaningful.
    drop_every:
        Drop every ``drop_every``-th frame, keeping the others' timestamps: a
        variable-frame-rate file whose decoded frame ``i`` shows index
        ``kept_indices(frames, drop_every)[i]``.

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is False.
    MediaError
        The encoder failed (the message names the file).
    """
    path = os.fspath(path)
    rate = Fraction(rate)
    width, height = size
    if width % 2 or height % 2:
        raise ValueError("width and height must be even")
    if frames <= 0:
        raise ValueError("frames must be positive")
    if os.path.exists(path) and not overwrite:
        raise OutputExistsError(path)
    ffmpeg = require_tool("ffmpeg")
    folder, base = os.path.split(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    stem, ext = os.path.splitext(base)
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=f".part{ext or '.mp4'}", dir=folder)
    os.close(fd)
    cmd = [ffmpeg, "-nostdin", "-v", "error", "-y",
           "-f", "rawvideo", "-pix_fmt", "gray", "-s", f"{width}x{height}",
           "-r", f"{rate.numerator}/{rate.denominator}", "-i", "pipe:0",
           "-c:v", "libx264", "-preset", "ultrafast", "-crf", str(crf), "-pix_fmt", "yuv420p"]
    if gop_frames:
        cmd += ["-g", str(gop_frames), "-keyint_min", str(gop_frames)]
    if drop_every:
        cmd += ["-vf", f"select='not(eq(mod(n\\,{drop_every})\\,{drop_every - 1}))'", "-fps_mode", "passthrough"]
    if start_timecode:
        cmd += ["-timecode", start_timecode]
    if start_offset_s:
        cmd += ["-output_ts_offset", f"{start_offset_s:.6f}"]
    cmd += ["-f", "mp4" if ext.lower() in ("", ".mp4", ".m4v") else "mov", tmp]
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            for n in range(frames):
                proc.stdin.write(framecode_image(first_index + n, size, tag=tag).tobytes())
            proc.stdin.close()
        except BrokenPipeError:
            pass
        err = proc.stderr.read()
        proc.wait()
        if proc.returncode != 0:
            raise MediaError(path, f"encoder failed: {err.decode(errors='replace').strip()[-300:]}")
        publish(tmp, path, overwrite=overwrite)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def kept_indices(frames: int, drop_every: int | None = None, first_index: int = 0) -> list[int]:
    """The indices a file made by :func:`render_framecode` shows, in decoding order.

    >>> kept_indices(7, 3)
    [0, 1, 3, 4, 6]
    """
    return [first_index + n for n in range(frames) if not drop_every or n % drop_every != drop_every - 1]
