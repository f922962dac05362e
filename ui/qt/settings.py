"""The panel's settings, kept in QSettings between sessions, and the dialog that edits them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

ENCODERS = ("auto", "nvenc", "vaapi", "qsv", "videotoolbox", "cpu")


@dataclass
class PanelSettings:
    ollama_host: str = ""              #: empty: OLLAMA_HOST, else http://127.0.0.1:11434
    ollama_model: str = ""             #: empty: the planner's default model
    vision_model: str = ""             #: empty: no captions
    encoder: str = "auto"
    proxy_profile: str = "h264-half"
    cache_dir: str = ""                #: empty: the user cache folder
    default_style: str = "dynamic"
    workers: int = 0                   #: 0: one per core
    last_folder: str = ""

    @classmethod
    def load(cls, store: QSettings) -> "PanelSettings":
        values = {}
        for f in fields(cls):
            raw = store.value(f.name)
            if raw is None:
                continue
            values[f.name] = int(raw) if f.type in ("int", int) else str(raw)
        return cls(**values)

    def save(self, store: QSettings) -> None:
        for key, value in asdict(self).items():
            store.setValue(key, value)
        store.sync()


def default_store() -> QSettings:
    return QSettings("Montage AI", "montage-ai")


class SettingsDialog(QDialog):
    """Ollama host and models, hardware encoder and proxy format, cache folder, default style, workers."""

    def __init__(self, settings: PanelSettings, styles: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Montage AI settings")
        form = QFormLayout(self)
        self.host = QLineEdit(settings.ollama_host)
        self.host.setPlaceholderText("http://127.0.0.1:11434 (or $OLLAMA_HOST)")
        self.model = QLineEdit(settings.ollama_model)
        self.model.setPlaceholderText("llama3.2:3b")
        self.vision = QLineEdit(settings.vision_model)
        self.vision.setPlaceholderText("none: no shot captions (e.g. moondream)")
        self.encoder = QComboBox()
        self.encoder.addItems(ENCODERS)
        self.encoder.setCurrentText(settings.encoder)
        from montage_ai.core.render.encoders import PROFILES

        self.profile = QComboBox()
        for name, profile in PROFILES.items():
            self.profile.addItem(name, name)
        self.profile.setCurrentText(settings.proxy_profile)
        self.profile.setToolTip("Resolve's free edition on Linux does not decode H.264/H.265: choose ProRes or DNxHR there")
        self.cache = QLineEdit(settings.cache_dir)
        self.cache.setPlaceholderText("the user cache folder")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_cache)
        cache_row = QHBoxLayout()
        cache_row.addWidget(self.cache)
        cache_row.addWidget(browse)
        self.style = QComboBox()
        self.style.addItems(styles)
        self.style.setCurrentText(settings.default_style)
        self.workers = QSpinBox()
        self.workers.setRange(0, 256)
        self.workers.setSpecialValueText("one per core")
        self.workers.setValue(settings.workers)
        form.addRow("Ollama host", self.host)
        form.addRow("Planner model", self.model)
        form.addRow("Vision model", self.vision)
        form.addRow("Hardware encoder", self.encoder)
        form.addRow("Proxy format", self.profile)
        form.addRow("Cache folder", cache_row)
        form.addRow("Default style", self.style)
        form.addRow("Clips analysed at once", self.workers)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._base = settings

    def _choose_cache(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Analysis cache folder", self.cache.text())
        if folder:
            self.cache.setText(folder)

    def result_settings(self) -> PanelSettings:
        return PanelSettings(
            ollama_host=self.host.text().strip(), ollama_model=self.model.text().strip(),
            vision_model=self.vision.text().strip(), encoder=self.encoder.currentText(),
            proxy_profile=self.profile.currentText(),
            cache_dir=self.cache.text().strip(), default_style=self.style.currentText(),
            workers=self.workers.value(), last_folder=self._base.last_folder)
