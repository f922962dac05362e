"""The song strip of the panel: the beat-grid controls in a compact row on top of the song's
waveform (:class:`~montage_ai.ui.qt.song_range.SongRange`, the grid drawn over it), and under
it the grid's tempo, metre and confidence with its doubts in words.

The buttons are the panel's QActions (shared with the Beat grid menu and their shortcuts);
the boxes that take a number (the beat that starts the bar, the metre, the nudge step, a
typed tempo) emit a signal the panel turns into a correction
(:mod:`~montage_ai.ui.qt.grid_actions`).
"""

from __future__ import annotations

from typing import Any, Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from montage_ai.ui.qt.song_range import SongRange

#: The metres offered (beats to the bar), as the box shows them.
METERS = {2: "2/4", 3: "3/4", 4: "4/4", 5: "5/4", 6: "6/8", 7: "7/8", 9: "9/8", 12: "12/8"}
#: The toolbar's buttons, in order (None: a separator); keys of the panel's actions.
BUTTONS = ("grid_half", "grid_double", "grid_two_thirds", "grid_three_halves", "grid_shift", None,
           "grid_downbeat", "DOWNBEAT", "METER", None, "grid_earlier", "NUDGE", "grid_later", None, "grid_tap", "BPM",
           None, "grid_undo", "grid_reset", None, "grid_clicks", "grid_whole")
DOUBT_COLOR = "#f0b050"


def grid_summary(music: Any, stored: Any = None) -> tuple[str, bool]:
    """What the strip says about a song's grid, and whether there is a doubt to mark.

    ``music``: the MusicAnalysis shown (as kept); ``stored``: the StoredGrid kept for it, or None.
    """
    beats, downs = len(music.beat_times_s), len(music.downbeat_times_s)
    if beats < 2:
        parts = ["no beat grid"]
    else:
        parts = [f"{music.tempo_bpm:.1f} bpm", METERS.get(music.meter, f"{music.meter} beats to the bar"),
                 f"{downs} bars"]
    if stored is not None:
        labels = [c.label() for c in stored.corrections]
        shown = ", ".join(labels[-4:]) if len(labels) <= 4 else f"… {', '.join(labels[-3:])}"
        parts.append(f"corrected by you ({len(labels)}): {shown} (kept for this song; Reset grid undoes)")
    conf = getattr(music, "confidence", None)
    doubts: list[str] = []
    if conf is not None:
        tracked = " as tracked" if stored is not None else ""
        parts.append(f"confidence{tracked}: tempo {conf.tempo:.2f}, beats {conf.beats:.2f}, "
                     f"downbeats {conf.downbeats:.2f}")
        doubts = [d for d in conf.doubts if d]
    else:
        parts.append("confidence not measured (the fallback tracker)")
    text = " · ".join(parts)
    if doubts and stored is None:
        text += " · " + " · ".join(doubts)
    return text, bool(doubts) and stored is None


class GridStrip(QWidget):
    """The controls row, the song with its grid, and the grid's summary line."""

    downbeat_chosen = Signal(int)
    meter_chosen = Signal(int)
    bpm_typed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.bar = QToolBar("Beat grid")
        self.bar.setObjectName("beat-grid")
        self.bar.setToolButtonStyle(Qt.ToolButtonTextOnly)
        self.bar.setStyleSheet("QToolBar { spacing: 1px; padding: 0px; } QToolButton { padding: 1px 4px; }")
        self.downbeat = QSpinBox(prefix="beat ", minimum=1, maximum=4, keyboardTracking=False)
        self.downbeat.setToolTip("The beat (of the bar as counted now) that becomes beat 1: type it and press Enter")
        self.downbeat.lineEdit().returnPressed.connect(lambda: self.downbeat_chosen.emit(_typed(self.downbeat)))
        self.meter = QComboBox()
        self.meter.setToolTip("The metre: beats to the bar, counted from the first downbeat")
        for n, label in METERS.items():
            self.meter.addItem(label, n)
        self.meter.setCurrentIndex(self.meter.findData(4))
        self.meter.activated.connect(lambda i: self.meter_chosen.emit(int(self.meter.itemData(i))))
        self.nudge = QSpinBox(suffix=" ms", minimum=1, maximum=500, value=10)
        self.nudge.setToolTip("How far Earlier / Later moves the whole grid")
        self.bpm = QDoubleSpinBox(suffix=" bpm", minimum=20.0, maximum=400.0, decimals=1, keyboardTracking=False)
        self.bpm.setSpecialValueText("tempo")  # no song yet (the lowest tempo, 20 bpm, reads "tempo")
        self.bpm.setToolTip("Type a tempo and press Enter: a steady grid at that tempo from the first downbeat")
        self.bpm.lineEdit().returnPressed.connect(lambda: self.bpm_typed.emit(_typed(self.bpm)))
        layout.addWidget(self.bar)
        self.song = SongRange()
        layout.addWidget(self.song)
        self.summary = QLabel("")  # one line; the whole text is its tooltip too
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.summary.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        layout.addWidget(self.summary)
        self.set_controls_enabled(False)

    def install(self, actions: Mapping[str, QAction]) -> None:
        """The panel's grid actions as the row's buttons (in :data:`BUTTONS` order) and as the
        waveform's right-click menu."""
        boxes = {"DOWNBEAT": self.downbeat, "METER": self.meter, "NUDGE": self.nudge, "BPM": self.bpm}
        for key in BUTTONS:
            if key is None:
                self.bar.addSeparator()
            elif key in boxes:
                self.bar.addWidget(boxes[key])
            elif key in actions:
                self.bar.addAction(actions[key])
                if key != "grid_whole":
                    self.song.addAction(actions[key])
        self.song.setContextMenuPolicy(Qt.ActionsContextMenu)

    def button(self, action: QAction) -> QToolButton | None:
        """The strip's button of an action (what the editor clicks)."""
        widget = self.bar.widgetForAction(action)
        return widget if isinstance(widget, QToolButton) else None

    def set_controls_enabled(self, on: bool) -> None:
        for box in (self.downbeat, self.meter, self.nudge, self.bpm):
            box.setEnabled(on)

    def show_grid(self, music: Any, stored: Any = None) -> None:
        """The numbers of a grid in the boxes and its summary under the song."""
        self.downbeat.setMaximum(max(int(music.meter), 1))
        self.downbeat.setValue(1)
        index = self.meter.findData(int(music.meter))
        if index < 0:
            self.meter.addItem(f"{music.meter}/4", int(music.meter))
            index = self.meter.count() - 1
        self.meter.setCurrentIndex(index)
        if music.tempo_bpm >= 20:
            self.bpm.setValue(float(music.tempo_bpm))
        text, doubt = grid_summary(music, stored)
        self.summary.setText(text)
        self.summary.setToolTip(text)
        self.summary.setStyleSheet(f"color: {DOUBT_COLOR};" if doubt else "")

    def clear_grid(self, text: str = "") -> None:
        self.bpm.setValue(self.bpm.minimum())  # reads "tempo"
        self.downbeat.setValue(1)
        self.summary.setText(text)
        self.summary.setToolTip(text)
        self.summary.setStyleSheet("")


def _typed(box):
    """The number typed in a spin box (read as typed, before the box has taken it)."""
    box.interpretText()
    return box.value()
