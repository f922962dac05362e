"""What the panel tells the editor: the Log as sentences (time, stage, message) and the
error banner (the whole message, the file it concerns, what to do)."""

from __future__ import annotations

import logging
import re

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

#: Logger name prefixes (most specific first) and the stage an editor reads for them.
STAGES = (
    ("montage_ai.core.analysis.music", "Music"), ("montage_ai.core.analysis", "Analysis"),
    ("montage_ai.core.run", "Analysis"), ("montage_ai.core.media", "Media"), ("montage_ai.core.plan", "Planning"),
    ("montage_ai.core.cut.selects", "Selects"), ("montage_ai.core.cut", "Cut"), ("montage_ai.core.render", "Render"),
    ("montage_ai.core.model", "Timeline"), ("montage_ai.otio_adapters", "Export"), ("montage_ai.resolve_plugin", "Resolve"),
    ("montage_ai.ui", "Panel"), ("montage_ai", "Montage AI"),
)

#: What to do after a failed action, by the task's name.
ADVICE = {
    "analyse": "Check that the file named above plays in a video player; remove it from the list or replace it, then press Analyse (F5) again.",
    "rough cut": "Check the music file and the clips named above, then press Rough Cut (Ctrl+R) again; the cut below is the previous one.",
    "selects": "Check the clips named above, then press Selects again.",
    "preview": "Check there is room on the disk and that the folder can be written (Settings), then press Preview (Ctrl+P) again.",
    "export": "Choose a folder you can write to (or another name) and export again.",
    "report": "Choose a folder you can write to and run Shot report again.",
    "send to Resolve": "Check that Resolve is running with a project open, then press Send to Resolve again; or Export… and import the file by hand.",
    "file route": "Choose a folder you can write to and press Send to Resolve again.",
    "beat grid": "The grid is as it was: try another correction, or Reset grid to go back to the tracked one.",
    "click track": "Check that the song plays in a media player and that the temporary folder can be written, "
                   "then press Clicks again.",
}

_PATH = re.compile(r"(/[^\s:;,'\"]+(?:\s[^\s:;,'\"/]+)*\.[A-Za-z0-9]{2,5})")


def stage_of(logger_name: str) -> str:
    return next((label for prefix, label in STAGES if logger_name.startswith(prefix)), "Montage AI")


def sentence(record: logging.LogRecord) -> str:
    """``HH:MM:SS  Stage  Message.``: a capitalised message ending with a full stop."""
    import time

    message = record.getMessage().strip()
    if message and message[0].islower():
        message = message[0].upper() + message[1:]
    if message and message[-1] not in ".!?:)":
        message += "."
    level = "" if record.levelno < logging.WARNING else ("Problem: " if record.levelno >= logging.ERROR else "Note: ")
    return f"{time.strftime('%H:%M:%S', time.localtime(record.created))}  {stage_of(record.name)}  {level}{message}"


def file_in(message: str) -> str | None:
    """The first file path a message names, if any."""
    found = _PATH.search(message)
    return found.group(1) if found else None


class LogBridge(QObject, logging.Handler):
    """Log records of the library, as :func:`sentence` lines, on the GUI thread."""

    record = Signal(str)

    def __init__(self) -> None:
        QObject.__init__(self)
        logging.Handler.__init__(self, level=logging.INFO)

    def emit(self, record: logging.LogRecord) -> None:  # noqa: A003 - logging API
        try:
            self.record.emit(sentence(record))
        except RuntimeError:  # the pane is gone (window closed)
            pass


class Banner(QFrame):
    """A coloured band over the panel with a whole message; Dismiss hides it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.dismiss = QPushButton("Dismiss")
        self.dismiss.clicked.connect(lambda: self.hide())
        layout.addWidget(self.text, 1)
        layout.addWidget(self.dismiss, 0, Qt.AlignTop)
        self.kind = ""
        self.hide()

    def show_error(self, action: str, task_name: str, reason: str) -> None:
        path = file_in(reason)
        parts = [f"<b>{action} failed.</b> {_html(reason)}"]
        if path:
            parts.append(f"File: <code>{_html(path)}</code>")
        parts.append("What to do: " + ADVICE.get(task_name, "Correct the problem named above and try again."))
        self._show("error", "<br>".join(parts), "#5a1f1f", "#ffb4a8")

    def show_info(self, text: str) -> None:
        self._show("info", text, "#23324a", "#cfe0ff")

    def _show(self, kind: str, html: str, background: str, border: str) -> None:
        self.kind = kind
        self.setStyleSheet(f"#banner {{ background: {background}; border: 1px solid {border}; border-radius: 4px; }}"
                           "#banner QLabel { color: #f2f2f2; }")
        self.text.setText(html)
        self.show()


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")
