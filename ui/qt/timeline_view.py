"""The cut as an editor's timeline: a timecode ruler from the timeline's start (01:00:00:00)
at the cut's rate, clips as blocks coloured by story phase with their thumbnails, beat and
downbeat ticks, section bands, the music's waveform and a playhead.

Zoom with Ctrl+wheel or +/- (:meth:`TimelineView.zoom_by`, :meth:`TimelineView.fit`), scroll
with the wheel or the scroll bar of :class:`TimelineEditor`; click or drag on the ruler to
move the playhead (:attr:`TimelineView.playhead_moved`). Hovering a block shows its source,
in and out points, score and the reason it was chosen; clicking it selects it and emits
:attr:`TimelineView.cut_clicked` with the cut's index.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QScrollBar,
    QSizePolicy,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from montage_ai.core.base.timebase import frames_to_timecode, nominal_fps
from montage_ai.core.model.cutlist import Cut, CutList
from montage_ai.ui.qt.theme import BEAT_COLOR, DOWNBEAT_COLOR, SECTION_COLOR, WAVEFORM_COLOR, phase_color

RULER_H, SECTION_H, CLIPS_H, TICKS_H, WAVE_H = 22, 18, 56, 8, 32
PAD = 4
PLAYHEAD_COLOR = QColor(255, 200, 60)
#: Ruler label spacings in whole seconds (the smallest that leaves ~90 px between labels).
_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600)


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
    playhead_moved = Signal(int)
    view_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMinimumHeight(RULER_H + SECTION_H + CLIPS_H + TICKS_H + WAVE_H + 14)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self._cut_list: CutList | None = None
        self._thumbs: dict[tuple[str, int], QPixmap] = {}
        self._wave: np.ndarray | None = None
        self._blocks: list[Block] = []
        self._selected: int | None = None
        self._locked: set[int] = set()
        self._ppf: float | None = None  # pixels per frame; None: fit to the width
        self._scroll = 0.0               # first frame shown at the left edge
        self._playhead = 0
        self._dragging = False
        self._stale = ""
        self._static: QPixmap | None = None

    # ------------------------------------------------------------------ data
    def set_cut(self, cut_list: CutList | None, thumbnails: dict[tuple[str, int], str] | None = None,
                waveform: np.ndarray | None = None, *, keep_view: bool = False) -> None:
        """Show ``cut_list``; ``thumbnails`` maps (source path, shot index) to an image file;
        ``waveform`` is the envelope of the part of the music the cut uses. ``keep_view``
        keeps zoom, scroll, playhead and selection (an edit of the cut shown)."""
        self._cut_list = cut_list
        if thumbnails is not None or not keep_view:
            self._thumbs = {}
            for key, path in (thumbnails or {}).items():
                if path and os.path.exists(path):
                    pixmap = QPixmap(path)
                    if not pixmap.isNull():
                        self._thumbs[key] = pixmap
        if waveform is not None or not keep_view:
            self._wave = waveform
        if not keep_view:
            self._selected, self._ppf, self._scroll, self._playhead = None, None, 0.0, 0
        if cut_list is not None and self._selected is not None and self._selected >= len(cut_list.cuts):
            self._selected = None
        self._stale = ""
        self._layout()
        self.update()
        self.view_changed.emit()

    def cut_list(self) -> CutList | None:
        return self._cut_list

    def blocks(self) -> list[Block]:
        """The drawn clips, in timeline order."""
        return list(self._blocks)

    def set_locked(self, indices: set[int]) -> None:
        self._locked = set(indices)
        self.update()

    def set_stale(self, reason: str) -> None:
        """Mark what is shown as out of date (the last attempt to replace it failed)."""
        self._stale = reason
        self.update()

    @property
    def stale(self) -> str:
        return self._stale

    def selected(self) -> int | None:
        return self._selected

    def select(self, index: int | None) -> None:
        self._selected = index
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(960, self.minimumHeight())

    # ------------------------------------------------------------------ zoom, scroll, playhead
    def fit_ppf(self) -> float:
        cl = self._cut_list
        return (self.width() - 2 * PAD) / cl.duration if cl and cl.duration else 1.0

    def pixels_per_frame(self) -> float:
        return self._ppf if self._ppf is not None else self.fit_ppf()

    def visible_frames(self) -> float:
        return (self.width() - 2 * PAD) / self.pixels_per_frame()

    def max_scroll(self) -> float:
        cl = self._cut_list
        return max(0.0, (cl.duration if cl else 0) - self.visible_frames())

    def scroll_frame(self) -> float:
        return self._scroll

    def set_scroll(self, frame: float) -> None:
        self._scroll = min(max(0.0, float(frame)), self.max_scroll())
        self._layout()
        self.update()
        self.view_changed.emit()

    def fit(self) -> None:
        """The whole cut in the width."""
        self._ppf, self._scroll = None, 0.0
        self._layout()
        self.update()
        self.view_changed.emit()

    def zoom_by(self, factor: float, anchor_frame: float | None = None) -> None:
        """Zoom by ``factor`` (>1: closer) keeping ``anchor_frame`` (default the playhead, when
        shown, else the middle) where it is on screen; no further out than the fit, no closer
        than 40 pixels a frame."""
        if self._cut_list is None or not self._cut_list.duration:
            return
        old = self.pixels_per_frame()
        new = min(max(old * factor, self.fit_ppf()), 40.0)
        if anchor_frame is None:
            shown = self._scroll <= self._playhead <= self._scroll + self.visible_frames()
            anchor_frame = self._playhead if shown else self._scroll + self.visible_frames() / 2
        screen = (anchor_frame - self._scroll) * old
        self._ppf = None if abs(new - self.fit_ppf()) < 1e-9 else new
        self._scroll = anchor_frame - screen / self.pixels_per_frame()
        self.set_scroll(self._scroll)

    def zoom_factor(self) -> float:
        """How much closer than the fit (1.0: the whole cut in the width)."""
        return self.pixels_per_frame() / self.fit_ppf()

    def playhead(self) -> int:
        return self._playhead

    def set_playhead(self, frame: int, *, follow: bool = True, emit: bool = False) -> None:
        cl = self._cut_list
        top = cl.duration - 1 if cl and cl.duration else 0
        self._playhead = int(min(max(0, frame), max(top, 0)))
        if follow and self._ppf is not None:
            right = self._scroll + self.visible_frames()
            if self._playhead < self._scroll or self._playhead > right:
                self.set_scroll(self._playhead - self.visible_frames() * 0.1)
        super().update()
        if emit:
            self.playhead_moved.emit(self._playhead)

    def timecode(self, frame: int) -> str:
        cl = self._cut_list
        return frames_to_timecode(cl.start_frames + frame, cl.rate) if cl else ""

    def index_at_frame(self, frame: int) -> int | None:
        cl = self._cut_list
        if cl is None:
            return None
        for i, cut in enumerate(cl.cuts):
            if cut.record_in <= frame < cut.record_out:
                return i
        return None

    # ------------------------------------------------------------------ geometry
    def x_of(self, frame: float) -> float:
        return PAD + (frame - self._scroll) * self.pixels_per_frame()

    def frame_at(self, x: float) -> int:
        return int(round(self._scroll + (x - PAD) / self.pixels_per_frame()))

    def _layout(self) -> None:
        self._blocks = []
        cl = self._cut_list
        if cl is None or not cl.duration:
            return
        top = RULER_H + SECTION_H + 2
        for i, cut in enumerate(cl.cuts):
            x0, x1 = self.x_of(cut.record_in), self.x_of(cut.record_out)
            self._blocks.append(Block(i, cut, QRectF(x0, top, max(x1 - x0, 1.0), CLIPS_H)))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._scroll = min(self._scroll, self.max_scroll())
        self._static = None
        self._layout()
        super().resizeEvent(event)
        self.view_changed.emit()

    # ------------------------------------------------------------------ painting
    def update(self) -> None:  # noqa: D401 - QWidget API, extended
        """Repaint everything (what is drawn changed, not only the playhead)."""
        self._static = None
        super().update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        # Everything but the playhead is drawn once into a pixmap; while playing only the
        # playhead moves, so a repaint is one blit and a line.
        if self._static is None or self._static.size() != self.size() * self.devicePixelRatioF():
            self._static = QPixmap(self.size() * self.devicePixelRatioF())
            self._static.setDevicePixelRatio(self.devicePixelRatioF())
            layer = QPainter(self._static)
            self._paint_static(layer)
            layer.end()
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._static)
        if self._cut_list is None:
            return
        x = self.x_of(self._playhead)
        painter.setPen(QPen(PLAYHEAD_COLOR, 2))
        painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        painter.setBrush(PLAYHEAD_COLOR)
        painter.drawPolygon([QPointF(x - 6, 0), QPointF(x + 6, 0), QPointF(x, 9)])

    def _paint_static(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.Antialiasing, False)
        painter.fillRect(self.rect(), self.palette().base())
        cl = self._cut_list
        if cl is None:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect(), Qt.AlignCenter, "The cut appears here.")
            return
        small = QFont(self.font())
        small.setPointSizeF(max(self.font().pointSizeF() - 1.5, 6.0))
        painter.setFont(small)
        self._paint_ruler(painter, cl)
        for section in cl.sections:
            x0, x1 = self.x_of(section.start), self.x_of(section.end)
            if x1 < 0 or x0 > self.width():
                continue
            rect = QRectF(x0, RULER_H, x1 - x0, SECTION_H)
            color = QColor(SECTION_COLOR)
            color.setAlpha(50 + int(140 * min(max(section.energy, 0.0), 1.0)))
            painter.fillRect(rect.adjusted(0, 1, -1, -1), color)
            painter.setPen(QColor(230, 230, 230))
            label = f"{section.label} · {section.phase}" if section.phase else section.label
            painter.drawText(rect.adjusted(4, 0, -2, 0), Qt.AlignVCenter | Qt.AlignLeft, label)
        for block in self._blocks:
            if block.rect.right() >= 0 and block.rect.left() <= self.width():
                self._paint_block(painter, block)
        ticks_top = RULER_H + SECTION_H + 2 + CLIPS_H + 2
        downbeats = set(cl.downbeats)
        painter.setPen(QPen(BEAT_COLOR, 1))
        for frame in cl.beats:
            if frame not in downbeats:
                x = self.x_of(frame)
                painter.drawLine(QPointF(x, ticks_top + TICKS_H / 2), QPointF(x, ticks_top + TICKS_H))
        painter.setPen(QPen(DOWNBEAT_COLOR, 2))
        for frame in cl.downbeats:
            x = self.x_of(frame)
            painter.drawLine(QPointF(x, ticks_top), QPointF(x, ticks_top + TICKS_H))
        if self._wave is not None and self._wave.size and cl.music_duration:
            self._paint_waveform(painter, cl, ticks_top + TICKS_H + 4)
        if self._stale:
            painter.fillRect(self.rect(), QBrush(QColor(180, 40, 40, 60), Qt.BDiagPattern))
            painter.setPen(QColor(255, 120, 110))
            painter.drawText(self.rect().adjusted(8, 0, -8, -4), Qt.AlignBottom | Qt.AlignRight,
                             f"out of date: {self._stale}")

    def _paint_ruler(self, painter: QPainter, cl: CutList) -> None:
        painter.fillRect(QRectF(0, 0, self.width(), RULER_H), QColor(22, 22, 25))
        # Label steps in whole frames that read well in timecode: 1, 2, 5, 10 frames, half a
        # second (when the rate is even), then whole seconds and minutes.
        fps = nominal_fps(cl.rate)
        steps = [1, 2, 5, 10] + ([fps // 2] if fps % 2 == 0 else []) + [fps * k for k in _STEPS_S]
        step = next((k for k in steps if k * self.pixels_per_frame() >= 90), steps[-1])
        first = int(self._scroll // step) * step
        last = self._scroll + self.visible_frames()
        painter.setPen(QColor(170, 170, 170))
        frame = first
        while frame <= last + step:
            x = self.x_of(frame)
            painter.drawLine(QPointF(x, RULER_H - 8), QPointF(x, RULER_H))
            painter.drawText(QPointF(x + 3, RULER_H - 9), self.timecode(frame))
            for k in range(1, 5):
                xs = self.x_of(frame + step * k / 5)
                painter.drawLine(QPointF(xs, RULER_H - 3), QPointF(xs, RULER_H))
            frame += step

    def _paint_block(self, painter: QPainter, block: Block) -> None:
        rect, cut = block.rect, block.cut
        painter.fillRect(rect.adjusted(0, 0, -1, 0), phase_color(cut.phase))
        thumb = self._thumbs.get((cut.source_path, cut.shot_index))
        inner = rect.adjusted(2, 2, -3, -14)
        if thumb is not None and inner.width() >= 16:
            scaled = thumb.scaled(inner.size().toSize(), Qt.KeepAspectRatio, Qt.SmoothTransformation)
            painter.drawPixmap(QPointF(inner.x(), inner.y()), scaled)
        if rect.width() > 40:
            painter.setPen(QColor(15, 15, 15))
            painter.drawText(rect.adjusted(3, 0, -3, -1), Qt.AlignBottom | Qt.AlignLeft, os.path.basename(cut.source_path))
        if block.index in self._locked:
            painter.fillRect(QRectF(rect.right() - 14, rect.top() + 2, 11, 11), QColor(20, 20, 20))
            painter.setPen(QColor(255, 220, 120))
            painter.drawText(QRectF(rect.right() - 14, rect.top() + 1, 11, 12), Qt.AlignCenter, "L")
        if block.index == self._selected:
            painter.setPen(QPen(QColor(255, 255, 255), 2))
            painter.setBrush(Qt.NoBrush)
            painter.drawRect(rect.adjusted(1, 1, -2, -1))

    def _paint_waveform(self, painter: QPainter, cl: CutList, top: float) -> None:
        wave = self._wave
        middle = top + WAVE_H / 2
        x0 = max(int(self.x_of(0)), 0)
        x1 = min(int(self.x_of(cl.music_duration)), self.width())
        path = QPainterPath()
        for x in range(x0, x1):
            col = int((self.frame_at(x) / cl.music_duration) * (wave.size - 1))
            h = float(wave[min(max(col, 0), wave.size - 1)]) * (WAVE_H / 2 - 1)
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
        if self._dragging:
            self.set_playhead(self.frame_at(event.position().x()), follow=False, emit=True)
            return
        block = self.block_at(event.position())
        if block is not None:
            QToolTip.showText(event.globalPosition().toPoint(), self.describe(block), self)
        else:
            QToolTip.hideText()

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.button() != Qt.LeftButton or self._cut_list is None:
            return
        pos = event.position()
        near_head = abs(pos.x() - self.x_of(self._playhead)) <= 5
        if pos.y() < RULER_H + SECTION_H or near_head:
            self._dragging = True
            self.set_playhead(self.frame_at(pos.x()), follow=False, emit=True)
            return
        block = self.block_at(pos)
        if block is not None:
            self._selected = block.index
            self.update()
            self.cut_clicked.emit(block.index)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._dragging = False

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt API
        steps = event.angleDelta().y() / 120 or event.angleDelta().x() / 120
        if event.modifiers() & Qt.ControlModifier:
            self.zoom_by(1.25 ** steps, self.frame_at(event.position().x()))
        else:
            self.set_scroll(self._scroll - steps * self.visible_frames() / 8)
        event.accept()

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt API
        key = event.key()
        if key in (Qt.Key_Plus, Qt.Key_Equal):
            self.zoom_by(1.5)
        elif key == Qt.Key_Minus:
            self.zoom_by(1 / 1.5)
        elif key == Qt.Key_Left:
            self.set_playhead(self._playhead - 1, emit=True)
        elif key == Qt.Key_Right:
            self.set_playhead(self._playhead + 1, emit=True)
        else:
            super().keyPressEvent(event)


class TimelineEditor(QWidget):
    """A :class:`TimelineView` with its zoom buttons, the playhead's timecode and a horizontal
    scroll bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = TimelineView()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        bar = QHBoxLayout()
        self.zoom_out = QToolButton(text="−", toolTip="Zoom out (-)")
        self.zoom_in = QToolButton(text="+", toolTip="Zoom in (+, Ctrl+wheel)")
        self.fit_button = QToolButton(text="Fit", toolTip="The whole cut in the width")
        self.zoom_out.clicked.connect(lambda: self.view.zoom_by(1 / 1.5))
        self.zoom_in.clicked.connect(lambda: self.view.zoom_by(1.5))
        self.fit_button.clicked.connect(lambda: self.view.fit())
        self.position = QLabel("")
        self.position.setTextInteractionFlags(Qt.TextSelectableByMouse)
        font = QFont("monospace")
        font.setStyleHint(QFont.Monospace)
        self.position.setFont(font)
        for b in (self.zoom_out, self.zoom_in, self.fit_button):
            bar.addWidget(b)
        bar.addWidget(self.position, 1)
        self.extra = QHBoxLayout()  # the panel adds its edit buttons here
        bar.addLayout(self.extra)
        layout.addLayout(bar)
        layout.addWidget(self.view)
        self.scroll = QScrollBar(Qt.Horizontal)
        self.scroll.valueChanged.connect(lambda v: self.view.set_scroll(v) if int(self.view.scroll_frame()) != v else None)
        layout.addWidget(self.scroll)
        self.view.view_changed.connect(self._sync)
        self.view.playhead_moved.connect(lambda _f: self._sync())

    def _sync(self) -> None:
        v = self.view
        self.scroll.blockSignals(True)
        self.scroll.setRange(0, int(np.ceil(v.max_scroll())))
        self.scroll.setPageStep(max(1, int(v.visible_frames())))
        self.scroll.setValue(int(v.scroll_frame()))
        self.scroll.blockSignals(False)
        self.scroll.setEnabled(v.max_scroll() > 0)
        cl = v.cut_list()
        self.position.setText(f"{v.timecode(v.playhead())}  ·  zoom {v.zoom_factor():.1f}×" if cl else "")

    def refresh_position(self) -> None:
        self._sync()
