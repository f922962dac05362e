"""The rough cut at a glance: clips as blocks coloured by story phase with their thumbnails,
beat and downbeat ticks, section bands, and the music's waveform.

Hovering a block shows its source, in and out points, score and the reason it was chosen;
clicking it emits :attr:`TimelineView.cut_clicked` with the cut's index (the panel shows that
moment of the source).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from montage_ai.core.base.timebase import frames_to_timecode
from montage_ai.core.model.cutlist import Cut, CutList
from montage_ai.ui.qt.theme import BEAT_COLOR, DOWNBEAT_COLOR, SECTION_COLOR, WAVEFORM_COLOR, phase_color

SECTION_H, CLIPS_H, TICKS_H, WAVE_H = 22, 64, 10, 44


@dataclass(frozen=True)
class Block:
    """One drawn clip: its cut and where it is in widget coordinates."""

    index: int
    cut: Cut
    rect: QRectF


def waveform_envelope(path: str, columns: int = 2000, *, duration_s: float | None = None) -> np.ndarray:
    """Peak amplitude (0..1) of the first ``duration_s`` seconds of an audio file (all of it
    when None) in ``columns`` equal slices, for drawing."""
    import soundfile as sf

    info = sf.info(path)
    frames = int(duration_s * info.samplerate) if duration_s is not None else -1
    data, _ = sf.read(path, frames=frames, dtype="float32", always_2d=True)
    mono = np.abs(data).max(axis=1)
    if mono.size == 0:
        return np.zeros(columns, dtype=np.float32)
    edges = np.linspace(0, mono.size, columns + 1).astype(int)
    peaks = np.maximum.reduceat(mono, np.minimum(edges[:-1], mono.size - 1))
    top = float(peaks.max()) or 1.0
    return (peaks / top).astype(np.float32)


class TimelineView(QWidget):
    """Paints a :class:`~montage_ai.core.model.cutlist.CutList`; see the module docstring."""

    cut_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumHeight(SECTION_H + CLIPS_H + TICKS_H + WAVE_H + 12)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self._cut_list: CutList | None = None
        self._thumbs: dict[tuple[str, int], QPixmap] = {}
        self._wave: np.ndarray | None = None
        self._blocks: list[Block] = []
        self._selected: int | None = None

    # ------------------------------------------------------------------ data
    def set_cut(self, cut_list: CutList | None, thumbnails: dict[tuple[str, int], str] | None = None,
                waveform: np.ndarray | None = None) -> None:
        """Show ``cut_list``; ``thumbnails`` maps (source path, shot index) to an image file;
        ``waveform`` is the envelope of the part of the music the cut uses (:func:`waveform_envelope`
        of its first ``music_duration`` frames)."""
        self._cut_list = cut_list
        self._thumbs = {}
        for key, path in (thumbnails or {}).items():
            if path and os.path.exists(path):
                pixmap = QPixmap(path)
                if not pixmap.isNull():
                    self._thumbs[key] = pixmap
        self._wave = waveform
        self._selected = None
        self._layout()
        self.update()

    def blocks(self) -> list[Block]:
        """The drawn clips, in timeline order."""
        return list(self._blocks)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(960, self.minimumHeight())

    # ------------------------------------------------------------------ geometry
    def _x(self, frame: int | float) -> float:
        cl = self._cut_list
        return 4 + (self.width() - 8) * (frame / cl.duration) if cl and cl.duration else 4.0

    def _layout(self) -> None:
        self._blocks = []
        cl = self._cut_list
        if cl is None or not cl.duration:
            return
        top = SECTION_H + 2
        for i, cut in enumerate(cl.cuts):
            x0, x1 = self._x(cut.record_in), self._x(cut.record_out)
            self._blocks.append(Block(i, cut, QRectF(x0, top, max(x1 - x0, 1.0), CLIPS_H)))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._layout()
        super().resizeEvent(event)

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing, False)
        painter.fillRect(self.rect(), self.palette().base())
        cl = self._cut_list
        if cl is None:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect(), Qt.AlignCenter, "The rough cut appears here.")
            return
        small = QFont(self.font())
        small.setPointSizeF(max(self.font().pointSizeF() - 1.5, 6.0))
        painter.setFont(small)
        # Section bands.
        for section in cl.sections:
            rect = QRectF(self._x(section.start), 0, self._x(section.end) - self._x(section.start), SECTION_H)
            color = QColor(SECTION_COLOR)
            color.setAlpha(50 + int(140 * min(max(section.energy, 0.0), 1.0)))
            painter.fillRect(rect.adjusted(0, 1, -1, -1), color)
            painter.setPen(QColor(230, 230, 230))
            label = f"{section.label} · {section.phase}" if section.phase else section.label
            painter.drawText(rect.adjusted(4, 0, -2, 0), Qt.AlignVCenter | Qt.AlignLeft, label)
        # Clip blocks with thumbnails.
        for block in self._blocks:
            rect, cut = block.rect, block.cut
            painter.fillRect(rect.adjusted(0, 0, -1, 0), phase_color(cut.phase))
            thumb = self._thumbs.get((cut.source_path, cut.shot_index))
            inner = rect.adjusted(2, 2, -3, -14)
            if thumb is not None and inner.width() >= 16:
                scaled = thumb.scaled(inner.size().toSize(), Qt.KeepAspectRatio, Qt.SmoothTransformation)
                painter.drawPixmap(QPointF(inner.x(), inner.y()), scaled)
            if rect.width() > 40:
                painter.setPen(QColor(15, 15, 15))
                painter.drawText(rect.adjusted(3, 0, -3, -1), Qt.AlignBottom | Qt.AlignLeft,
                                 os.path.basename(cut.source_path))
            if block.index == self._selected:
                painter.setPen(QPen(QColor(255, 255, 255), 2))
                painter.drawRect(rect.adjusted(1, 1, -2, -1))
        # Beat and downbeat ticks.
        ticks_top = SECTION_H + 2 + CLIPS_H + 2
        downbeats = set(cl.downbeats)
        for frame in cl.beats:
            if frame not in downbeats:
                painter.setPen(QPen(BEAT_COLOR, 1))
                painter.drawLine(QPointF(self._x(frame), ticks_top + TICKS_H / 2), QPointF(self._x(frame), ticks_top + TICKS_H))
        for frame in cl.downbeats:
            painter.setPen(QPen(DOWNBEAT_COLOR, 2))
            painter.drawLine(QPointF(self._x(frame), ticks_top), QPointF(self._x(frame), ticks_top + TICKS_H))
        # The music's waveform over the part of the song the cut uses.
        wave_top = ticks_top + TICKS_H + 4
        if self._wave is not None and self._wave.size and cl.music_duration:
            self._paint_waveform(painter, cl, wave_top)

    def _paint_waveform(self, painter: QPainter, cl: CutList, top: float) -> None:
        wave = self._wave
        middle = top + WAVE_H / 2
        width = max(int(self._x(cl.music_duration) - 4), 1)
        columns = np.linspace(0, wave.size - 1, width).astype(int)
        path = QPainterPath()
        for i, col in enumerate(columns):
            x = 4 + i
            h = float(wave[col]) * (WAVE_H / 2 - 1)
            path.moveTo(x, middle - h)
            path.lineTo(x, middle + h)
        painter.setPen(QPen(WAVEFORM_COLOR, 1))
        painter.drawPath(path)

    # ------------------------------------------------------------------ interaction
    def block_at(self, pos: QPointF) -> Block | None:
        for block in self._blocks:
            if block.rect.contains(pos):
                return block
        return None

    def describe(self, block: Block) -> str:
        """The hover text of a block: source, in/out (file frames and timecode), score, reason."""
        cl, cut = self._cut_list, block.cut
        source_out = cut.source_in + Fraction(cut.record_frames) * cut.source_rate / cl.rate
        rate = cut.source_rate
        return (f"<b>{os.path.basename(cut.source_path)}</b> · shot {cut.shot_index}<br>"
                f"in {cut.source_in} ({frames_to_timecode(cut.source_in, rate)}) · out {float(source_out):.0f} "
                f"· {float(cut.record_frames / cl.rate):.2f} s<br>"
                f"record {frames_to_timecode(cl.start_frames + cut.record_in, cl.rate)}<br>"
                f"phase <b>{cut.phase}</b> · score {cut.score:.2f}<br>{cut.reason}")

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt API
        block = self.block_at(event.position())
        if block is not None:
            QToolTip.showText(event.globalPosition().toPoint(), self.describe(block), self)
        else:
            QToolTip.hideText()

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt API
        block = self.block_at(event.position())
        if block is not None and event.button() == Qt.LeftButton:
            self._selected = block.index
            self.update()
            self.cut_clicked.emit(block.index)
