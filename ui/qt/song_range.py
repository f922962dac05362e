"""The whole song's waveform with its bar lines, where the editor drags out the part to cut
to; the part snaps to bars (:func:`~montage_ai.core.cut.song_part.snap_to_bars`)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from montage_ai.core.cut.song_part import SongPart, snap_to_bars
from montage_ai.ui.qt.theme import DOWNBEAT_COLOR, WAVEFORM_COLOR


class SongRange(QWidget):
    """Emits :attr:`part_changed` with the snapped :class:`SongPart` after each drag."""

    part_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(34)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setToolTip("The part of the song to cut to: drag across the waveform (it snaps to bars)")
        self._wave: np.ndarray | None = None
        self._duration = 0.0
        self._downbeats: tuple[float, ...] = ()
        self._part: SongPart | None = None
        self._drag_from: float | None = None
        self._status = "Choose the music: its waveform appears here."

    def set_song(self, wave: np.ndarray | None, duration_s: float, downbeats_s: tuple[float, ...]) -> None:
        self._wave, self._duration, self._downbeats = wave, float(duration_s), tuple(downbeats_s)
        self._part = None
        self._status = ""
        self.update()

    def set_status(self, text: str) -> None:
        self._status = text
        self.update()

    def part(self) -> SongPart | None:
        """The part chosen, or None: the whole song."""
        return self._part

    def choose(self, start_s: float, end_s: float) -> SongPart | None:
        if not self._duration:
            return None
        self._part = snap_to_bars(start_s, end_s, self._downbeats, self._duration)
        self.update()
        self.part_changed.emit(self._part)
        return self._part

    def clear(self) -> None:
        self._part = None
        self.update()
        self.part_changed.emit(None)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(300, 34)

    def time_at(self, x: float) -> float:
        return min(max((x - 2) / max(self.width() - 4, 1), 0.0), 1.0) * self._duration

    def x_of(self, t: float) -> float:
        return 2 + (self.width() - 4) * (t / self._duration if self._duration else 0.0)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().base())
        if not self._duration:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect(), Qt.AlignCenter, self._status)
            return
        h, mid = self.height(), self.height() / 2
        if self._part is not None:
            painter.fillRect(QRectF(self.x_of(self._part.start_s), 0, self.x_of(self._part.end_s)
                                    - self.x_of(self._part.start_s), h), QColor(232, 118, 40, 90))
        if self._wave is not None and self._wave.size:
            cols = np.linspace(0, self._wave.size - 1, max(self.width() - 4, 1)).astype(int)
            heights = self._wave[cols] * (mid - 2)
            painter.setPen(QPen(WAVEFORM_COLOR, 1))
            painter.drawLines([_line(2 + i, mid, float(v)) for i, v in enumerate(heights)])
        painter.setPen(QPen(DOWNBEAT_COLOR, 1))
        painter.drawLines([_vline(self.x_of(t), h) for t in self._downbeats])
        if self._part is not None:
            text = f"{_clock(self._part.start_s)}–{_clock(self._part.end_s)} · {self._part.bars} bars"
            box = painter.fontMetrics().boundingRect(text).adjusted(-4, -1, 4, 1)
            box.moveTopRight(self.rect().topRight() + QPoint(-2, (h - box.height()) // 2))
            painter.fillRect(box, QColor(20, 20, 22, 220))
            painter.setPen(QColor(240, 240, 240))
            painter.drawText(box, Qt.AlignCenter, text)

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.button() == Qt.LeftButton and self._duration:
            self._drag_from = self.time_at(event.position().x())

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self._drag_from is not None:
            t = self.time_at(event.position().x())
            self._part = SongPart(min(self._drag_from, t), max(self._drag_from, t), 0)
            self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self._drag_from is None:
            return
        start, end = self._drag_from, self.time_at(event.position().x())
        self._drag_from = None
        if abs(end - start) < 0.05 * self._duration / 20:
            self.clear()  # a click: the whole song
        else:
            self.choose(min(start, end), max(start, end))


def _line(x: float, mid: float, h: float) -> QLineF:
    return QLineF(x, mid - h, x, mid + h)


def _vline(x: float, h: float) -> QLineF:
    return QLineF(x, 0, x, h)


def _clock(t: float) -> str:
    return f"{int(t // 60)}:{t % 60:04.1f}"
