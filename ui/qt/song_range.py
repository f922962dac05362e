"""The whole song's waveform with its beat grid drawn over it: beats as thin lines, downbeats
stronger with their bar numbers, the sections shaded and labelled, the beat under the mouse
(the one "Downbeat here" moves the bar to) and the audition's playhead.

The editor drags out the part to cut to; the part snaps to bars
(:func:`~montage_ai.core.cut.song_part.snap_to_bars`). Ctrl+wheel zooms around the mouse,
the wheel scrolls a zoomed song, a double-click shows the whole song again.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QLineF, QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from montage_ai.core.cut.song_part import SongPart, snap_to_bars
from montage_ai.ui.qt.theme import BEAT_COLOR, DOWNBEAT_COLOR, WAVEFORM_COLOR

SECTION_TINTS = (QColor(70, 130, 180), QColor(218, 165, 32), QColor(150, 90, 200), QColor(80, 170, 100),
                 QColor(205, 90, 70), QColor(60, 170, 170))
CURSOR_COLOR = QColor(255, 200, 60)
LABEL_H = 14  # the band at the top: section labels and bar numbers


class SongRange(QWidget):
    """Emits :attr:`part_changed` with the snapped :class:`SongPart` after each drag and
    :attr:`cursor_moved` with the index of the beat under the mouse."""

    part_changed = Signal(object)
    cursor_moved = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(40)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.ClickFocus)
        self.setToolTip("The song and its beat grid. Drag across it: the part to cut to (it snaps to bars). "
                        "The highlighted beat is the one Downbeat here moves the bar to; Ctrl+wheel zooms.")
        self._wave: np.ndarray | None = None
        self._duration = 0.0
        self._beats: tuple[float, ...] = ()
        self._downbeats: tuple[float, ...] = ()
        self._sections: tuple = ()
        self._part: SongPart | None = None
        self._drag_from: float | None = None
        self._cursor: int | None = None
        self._playhead: float | None = None
        self._view = (0.0, 0.0)  # the song seconds shown, left to right
        self._status = "Choose the music: its waveform appears here."

    # ------------------------------------------------------------------ data
    def set_song(self, wave: np.ndarray | None, duration_s: float, downbeats_s: tuple[float, ...],
                 beats_s: tuple[float, ...] = (), sections: tuple = ()) -> None:
        """A new song (the part and the zoom are reset)."""
        self._wave, self._duration = wave, float(duration_s)
        self._part, self._cursor, self._playhead = None, None, None
        self._view = (0.0, self._duration)
        self._status = ""
        self.set_grid(beats_s, downbeats_s, sections)

    def set_grid(self, beats_s: tuple[float, ...], downbeats_s: tuple[float, ...], sections: tuple = ()) -> None:
        """The grid drawn (after a correction): the song, its part and zoom stay."""
        self._beats, self._downbeats, self._sections = tuple(beats_s), tuple(downbeats_s), tuple(sections)
        if self._cursor is not None and self._cursor >= len(self._beats):
            self._cursor = None
        self.update()

    def set_status(self, text: str) -> None:
        self._status = text
        self.update()

    def set_playhead(self, t: float | None) -> None:
        """The audition's position in song seconds (None: not auditioning)."""
        self._playhead = t
        self.update()

    def playhead(self) -> float | None:
        return self._playhead

    def beats(self) -> tuple[float, ...]:
        return self._beats

    def downbeats(self) -> tuple[float, ...]:
        return self._downbeats

    def cursor_beat(self) -> int | None:
        """Index of the beat under the mouse (the last place it was on the song), or None."""
        return self._cursor

    def set_cursor_beat(self, index: int | None) -> None:
        self._cursor = index
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
        return QSize(600, 72)

    # ------------------------------------------------------------------ geometry and zoom
    def shown(self) -> tuple[float, float]:
        """The song seconds shown at the left and right edge."""
        return self._view

    def zoom_by(self, factor: float, anchor_s: float | None = None) -> None:
        """Closer by ``factor`` (>1) around ``anchor_s``; no further out than the whole song,
        no closer than two seconds in the width."""
        if not self._duration:
            return
        a, b = self._view
        anchor = (a + b) / 2 if anchor_s is None else anchor_s
        span = min(max((b - a) / factor, min(2.0, self._duration)), self._duration)
        frac = (anchor - a) / (b - a) if b > a else 0.5
        start = min(max(anchor - frac * span, 0.0), self._duration - span)
        self._view = (start, start + span)
        self.update()

    def scroll_by(self, seconds: float) -> None:
        a, b = self._view
        start = min(max(a + seconds, 0.0), self._duration - (b - a))
        self._view = (start, start + (b - a))
        self.update()

    def time_at(self, x: float) -> float:
        a, b = self._view
        return a + min(max((x - 2) / max(self.width() - 4, 1), 0.0), 1.0) * (b - a)

    def x_of(self, t: float) -> float:
        a, b = self._view
        return 2 + (self.width() - 4) * ((t - a) / (b - a) if b > a else 0.0)

    def beat_near(self, t: float) -> int | None:
        if not self._beats:
            return None
        return int(np.argmin(np.abs(np.asarray(self._beats) - t)))

    def bar_number(self, t: float) -> int:
        """1 for the first downbeat's bar (0 before it)."""
        return int(np.searchsorted(np.asarray(self._downbeats), t + 1e-6, side="right"))

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().base())
        if not self._duration:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect(), Qt.AlignCenter, self._status)
            return
        small = QFont(self.font())
        small.setPointSizeF(max(self.font().pointSizeF() - 1.5, 6.0))
        painter.setFont(small)
        h = self.height()
        self._paint_sections(painter, h)
        if self._part is not None:
            painter.fillRect(QRectF(self.x_of(self._part.start_s), LABEL_H, self.x_of(self._part.end_s)
                                    - self.x_of(self._part.start_s), h - LABEL_H), QColor(232, 118, 40, 80))
        self._paint_wave(painter, h)
        self._paint_grid(painter, h)
        if self._cursor is not None and self._cursor < len(self._beats):
            x = self.x_of(self._beats[self._cursor])
            painter.setPen(QPen(CURSOR_COLOR, 1, Qt.DashLine))
            painter.drawLine(QLineF(x, LABEL_H, x, h))
        if self._playhead is not None:
            x = self.x_of(self._playhead)
            painter.setPen(QPen(CURSOR_COLOR, 2))
            painter.drawLine(QLineF(x, 0, x, h))
        if self._part is not None:
            text = f"{_clock(self._part.start_s)}–{_clock(self._part.end_s)} · {self._part.bars} bars"
            box = painter.fontMetrics().boundingRect(text).adjusted(-4, -1, 4, 1)
            box.moveTopRight(self.rect().topRight() + QPoint(-2, h - box.height() - 2))
            painter.fillRect(box, QColor(20, 20, 22, 220))
            painter.setPen(QColor(240, 240, 240))
            painter.drawText(box, Qt.AlignCenter, text)

    def _paint_sections(self, painter: QPainter, h: int) -> None:
        tints: dict[str, QColor] = {}
        for s in self._sections:
            x0, x1 = self.x_of(s.start_s), self.x_of(s.end_s)
            if x1 < 0 or x0 > self.width():
                continue
            tint = QColor(tints.setdefault(s.label, SECTION_TINTS[len(tints) % len(SECTION_TINTS)]))
            tint.setAlpha(40 + int(60 * min(max(float(s.energy), 0.0), 1.0)))
            painter.fillRect(QRectF(x0, 0, x1 - x0, h), tint)
            painter.setPen(QColor(235, 235, 235))
            painter.drawText(QRectF(x0 + 3, 0, max(x1 - x0 - 4, 0), LABEL_H), Qt.AlignVCenter | Qt.AlignLeft, s.label)

    def _paint_wave(self, painter: QPainter, h: int) -> None:
        if self._wave is None or not self._wave.size:
            return
        mid, half = (LABEL_H + h) / 2, (h - LABEL_H) / 2 - 2
        xs = np.arange(2, self.width() - 2)
        t = self._view[0] + (xs - 2) / max(self.width() - 4, 1) * (self._view[1] - self._view[0])
        cols = np.clip((t / self._duration * (self._wave.size - 1)).astype(int), 0, self._wave.size - 1)
        painter.setPen(QPen(WAVEFORM_COLOR, 1))
        painter.drawLines([QLineF(float(x), mid - float(v) * half, float(x), mid + float(v) * half)
                           for x, v in zip(xs, self._wave[cols])])

    def _paint_grid(self, painter: QPainter, h: int) -> None:
        a, b = self._view
        beats = [t for t in self._beats if a <= t <= b]
        downs = set(round(t, 3) for t in self._downbeats)
        px_per_beat = (self.width() - 4) / max(len(beats), 1)
        if px_per_beat >= 3:
            beat = QColor(BEAT_COLOR)
            beat.setAlpha(170)
            painter.setPen(QPen(beat, 1))
            painter.drawLines([QLineF(self.x_of(t), LABEL_H + 2, self.x_of(t), h) for t in beats
                               if round(t, 3) not in downs])
        painter.setPen(QPen(DOWNBEAT_COLOR, 2 if px_per_beat >= 3 else 1))
        shown = [t for t in self._downbeats if a <= t <= b]
        painter.drawLines([QLineF(self.x_of(t), LABEL_H - 4, self.x_of(t), h) for t in shown])
        if not shown:
            return
        # Bar numbers: every bar when there is room, else every 2nd, 4th, 8th... bar.
        width = painter.fontMetrics().horizontalAdvance("888") + 6
        bar_s = (shown[-1] - shown[0]) / (len(shown) - 1) if len(shown) > 1 else b - a
        px_per_bar = (self.width() - 4) * bar_s / max(b - a, 1e-9)
        every = 1
        while px_per_bar * every < width and every < 4096:
            every *= 2
        painter.setPen(QColor(255, 150, 140))
        for t in shown:
            n = self.bar_number(t)
            if (n - 1) % every == 0:
                painter.drawText(QPointF(self.x_of(t) + 3, LABEL_H + 11), str(n))

    def describe_cursor(self) -> str:
        """What the tooltip says about the beat under the mouse: its bar, its number in the bar
        and its time."""
        if self._cursor is None or self._cursor >= len(self._beats):
            return self.toolTip()
        t = self._beats[self._cursor]
        bar = self.bar_number(t)
        downs = np.asarray(self._downbeats)
        start = downs[bar - 1] if bar >= 1 else None
        if start is None:
            where = "before the first bar"
        else:
            number = int(np.searchsorted(np.asarray(self._beats), t + 1e-6)
                         - np.searchsorted(np.asarray(self._beats), start - 1e-6))
            where = f"bar {bar}, beat {number}"
        return (f"{where} ({_clock(t)}). Downbeat here (Alt+B) makes it beat 1; right-click for the corrections; "
                "drag to choose the part to cut to")

    def event(self, event) -> bool:  # noqa: D401 - QWidget API
        if event.type() == QEvent.ToolTip and self._cursor is not None:
            QToolTip.showText(event.globalPos(), self.describe_cursor(), self)
            return True
        return super().event(event)

    # ------------------------------------------------------------------ the mouse
    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt API
        if not self._duration:
            return
        t = self.time_at(event.position().x())
        self._set_cursor(t)
        if event.button() == Qt.LeftButton:
            self._drag_from = t

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt API
        if not self._duration:
            return
        t = self.time_at(event.position().x())
        if self._drag_from is not None:
            self._part = SongPart(min(self._drag_from, t), max(self._drag_from, t), 0)
            self.update()
        else:
            self._set_cursor(t)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self._drag_from is None:
            return
        start, end = self._drag_from, self.time_at(event.position().x())
        self._drag_from = None
        if abs(end - start) < 0.05 * (self._view[1] - self._view[0]) / 20:
            self.clear()  # a click: the whole song
        else:
            self.choose(min(start, end), max(start, end))

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._view = (0.0, self._duration)
        self.update()

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt API
        steps = event.angleDelta().y() / 120
        if not steps or not self._duration:
            return
        if event.modifiers() & Qt.ControlModifier:
            self.zoom_by(1.25 ** steps, self.time_at(event.position().x()))
        else:
            a, b = self._view
            self.scroll_by(-steps * (b - a) / 10)
        event.accept()

    def _set_cursor(self, t: float) -> None:
        beat = self.beat_near(t)
        if beat != self._cursor:
            self._cursor = beat
            self.update()
            if beat is not None:
                self.cursor_moved.emit(beat)


def _clock(t: float) -> str:
    return f"{int(t // 60)}:{t % 60:05.2f}"
