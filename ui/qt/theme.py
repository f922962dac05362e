"""The panel's look: a dark palette like Resolve's, and the colours of the story phases."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

#: Block colours of the story phases in the timeline preview (and the legend).
PHASE_COLORS = {
    "intro": QColor(70, 130, 180),    # steel blue
    "build": QColor(218, 165, 32),    # goldenrod
    "climax": QColor(205, 70, 60),    # red
    "outro": QColor(120, 100, 170),   # muted violet
}
OTHER_PHASE = QColor(110, 110, 110)
BEAT_COLOR = QColor(90, 150, 230)
DOWNBEAT_COLOR = QColor(230, 80, 70)
SECTION_COLOR = QColor(80, 170, 100)
WAVEFORM_COLOR = QColor(120, 200, 140)


def phase_color(phase: str) -> QColor:
    return PHASE_COLORS.get(phase, OTHER_PHASE)


def apply_dark_palette(app: QApplication) -> None:
    """Resolve-like greys with an orange accent, on the Fusion style (same on every OS)."""
    app.setStyle("Fusion")
    p = QPalette()
    window, base, text = QColor(40, 40, 44), QColor(28, 28, 31), QColor(220, 220, 220)
    p.setColor(QPalette.Window, window)
    p.setColor(QPalette.WindowText, text)
    p.setColor(QPalette.Base, base)
    p.setColor(QPalette.AlternateBase, QColor(48, 48, 52))
    p.setColor(QPalette.ToolTipBase, QColor(20, 20, 22))
    p.setColor(QPalette.ToolTipText, text)
    p.setColor(QPalette.Text, text)
    p.setColor(QPalette.Button, QColor(52, 52, 57))
    p.setColor(QPalette.ButtonText, text)
    p.setColor(QPalette.BrightText, QColor(255, 90, 60))
    p.setColor(QPalette.Highlight, QColor(232, 118, 40))
    p.setColor(QPalette.HighlightedText, QColor(20, 20, 20))
    p.setColor(QPalette.Link, QColor(240, 150, 70))
    p.setColor(QPalette.PlaceholderText, QColor(130, 130, 130))
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        p.setColor(QPalette.Disabled, role, QColor(110, 110, 110))
    app.setPalette(p)
