"""The panel's layout and its sources: the footage and music box, the options of the cut,
the progress box, and what the editor does to choose media (add, remove, drop, the Resolve
media pool). A mixin of :class:`~montage_ai.ui.qt.panel.MontagePanel`."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from montage_ai.core import defaults
from montage_ai.core.base.fileio import VIDEO_EXTENSIONS, collect_media

AUDIO_EXTENSIONS = (".wav", ".mp3", ".aif", ".aiff", ".flac", ".m4a", ".aac", ".ogg")
AUDIO_FILTER = "Audio or video (*.wav *.mp3 *.aif *.aiff *.flac *.m4a *.aac *.ogg *.mov *.mp4);;All files (*)"
VIDEO_FILTER = "Video (" + " ".join(f"*{e}" for e in sorted(VIDEO_EXTENSIONS)) + ");;All files (*)"
SHORTCUTS = {"analyse": "F5", "cut": "Ctrl+R", "selects": "Ctrl+L", "send": "Ctrl+Shift+R", "export": "Ctrl+E",
             "preview": "Ctrl+P", "report": "Ctrl+Shift+H", "cancel": "Esc", "reroll": "Ctrl+Shift+N",
             "settings": "Ctrl+,", "undo": "Ctrl+Z", "redo": "Ctrl+Shift+Z", "exclude": "Shift+Del", "lock": "Ctrl+K",
             "swap": "S", "longer": "]", "shorter": "[", "play": "Space", "j": "J", "k": "K", "l": "L",
             "zoom_in": "+", "zoom_out": "-", "fit": "Shift+Z",
             "grid_half": "Alt+H", "grid_double": "Alt+D", "grid_two_thirds": "Alt+2", "grid_three_halves": "Alt+3",
             "grid_shift": "Alt+S", "grid_downbeat": "Alt+B", "grid_earlier": "Alt+Left", "grid_later": "Alt+Right",
             "grid_tap": "T", "grid_undo": "Alt+Z", "grid_reset": "Alt+R", "grid_clicks": "Alt+K", "grid_whole": "Alt+W"}


class PanelLayout:
    """The boxes of the panel and the slots that fill the footage and the music."""

    def _sources_box(self) -> QWidget:
        box = QGroupBox("Footage and music (drop folders, clips or a song here)")
        layout = QVBoxLayout(box)
        self.resolve_row = QWidget()
        rr = QHBoxLayout(self.resolve_row)
        rr.setContentsMargins(0, 0, 0, 0)
        self.bin_combo = QComboBox()
        self.bin_combo.setToolTip("A bin of the Resolve media pool: its clips become the footage")
        self.bin_combo.activated.connect(self._use_bin)
        use_selected = QPushButton("Use selected clips")
        use_selected.setObjectName("use-selected")
        use_selected.setToolTip("The clips selected in Resolve's media pool")
        use_selected.clicked.connect(lambda _c=False: self._use_selected())
        rr.addWidget(QLabel("Bin"))
        rr.addWidget(self.bin_combo, 1)
        rr.addWidget(use_selected)
        layout.addWidget(self.resolve_row)
        self.resolve_row.setVisible(self.resolve is not None)
        self.resolve_status = QLabel()
        self.resolve_status.setWordWrap(True)
        self.resolve_status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(self.resolve_status)
        self.files = QListWidget()
        self.files.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.files.setToolTip("The clips to cut from")
        self.files.setMinimumHeight(40)
        layout.addWidget(self.files, 1)
        row = QHBoxLayout()
        self.source_buttons: dict[str, QPushButton] = {}
        for label, slot in (("Add folder…", self._add_folder), ("Add files…", self._add_files),
                            ("Remove", self._remove_files)):
            b = QPushButton(label)
            b.clicked.connect(lambda _c=False, s=slot: s())
            row.addWidget(b)
            self.source_buttons[label] = b
        layout.addLayout(row)
        music_row = QHBoxLayout()
        self.music = QLineEdit()
        self.music.setPlaceholderText("the song: a file, or a clip of the media pool")
        self.music.textChanged.connect(lambda _t: self._refresh_buttons())
        pick = QPushButton("Choose…")
        pick.clicked.connect(lambda _c=False: self._choose_music())
        music_row.addWidget(QLabel("Music"))
        music_row.addWidget(self.music, 1)
        music_row.addWidget(pick)
        layout.addLayout(music_row)
        self.pool_music = QComboBox()
        self.pool_music.setToolTip("An audio clip of the Resolve media pool as the music")
        self.pool_music.activated.connect(self._use_pool_music)
        self.pool_music.setVisible(self.resolve is not None)
        layout.addWidget(self.pool_music)
        return box

    def _options_box(self) -> QWidget:
        box = QGroupBox("The cut")
        form = QFormLayout(box)
        self.style = QComboBox()
        for name in sorted(self._styles):
            self.style.addItem(name)
            self.style.setItemData(self.style.count() - 1, self._styles[name].description, Qt.ToolTipRole)
        wanted = self.settings.default_style
        self.style.setCurrentText(wanted if wanted in self._styles else defaults.STYLE)
        self.style_help = QLabel()
        self.style_help.setWordWrap(True)
        self.style_help.setStyleSheet("color: palette(placeholder-text);")
        self.style.currentTextChanged.connect(self._describe_style)
        self._describe_style(self.style.currentText())
        self.brief = QPlainTextEdit()
        self.brief.setPlaceholderText("What is this story about? (used by the Ollama planner)")
        self.brief.setMaximumHeight(38)
        self.duration = QDoubleSpinBox()
        self.duration.setRange(0, 3600)
        self.duration.setDecimals(1)
        self.duration.setSuffix(" s")
        self.duration.setSpecialValueText("the whole song")
        seed_row = QHBoxLayout()
        self.seed = QSpinBox()
        self.seed.setRange(0, 1_000_000)
        self.seed.setValue(defaults.SEED)
        self.reroll_button = QPushButton("Re-roll")
        self.reroll_button.setToolTip(f"Another cut with the same story arc; locked cuts stay ({SHORTCUTS['reroll']})")
        self.reroll_button.clicked.connect(lambda _c=False: self.actions_["reroll"].trigger())
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.reroll_button)
        self.planner = QComboBox()
        labels = {"auto": "Ollama when available, else rules", "ollama": "Ollama", "rules": "Rules (deterministic)"}
        for name in defaults.PLANNERS:
            self.planner.addItem(labels.get(name, name), name)
        self.planner.setCurrentIndex(self.planner.findData(defaults.PLANNER))
        self.markers = QCheckBox("Markers")
        self.markers.setToolTip("Beat, downbeat and section markers on the timeline sent to Resolve")
        self.markers.setChecked(True)
        self.proxies = QCheckBox("Make proxies")
        self.proxies.setToolTip("Before sending to Resolve, encode proxies of the clips the cut uses (those up to date "
                                "are kept) with the encoder and profile from Settings. Proxies that exist are linked "
                                "in Resolve either way.")
        # The song and its beat grid are in their own strip (beat_grid_view.GridStrip).
        self.song_range.part_changed.connect(self._on_song_part)
        self._song_timer = QTimer(self, singleShot=True, interval=400)
        self._song_timer.timeout.connect(self._load_song)
        self.music.textChanged.connect(lambda _t: self._song_timer.start())
        form.addRow("Style", self.style)
        form.addRow("", self.style_help)
        form.addRow("Brief", self.brief)
        length_row = QHBoxLayout()  # length, seed and re-roll on one row: the song strip needs the height
        length_row.addWidget(self.duration, 1)
        length_row.addWidget(QLabel("Seed"))
        length_row.addLayout(seed_row, 1)
        form.addRow("Length", length_row)
        planner_row = QHBoxLayout()
        planner_row.addWidget(self.planner, 1)
        planner_row.addWidget(self.markers)
        planner_row.addWidget(self.proxies)
        form.addRow("Planner", planner_row)
        return box

    def _progress_box(self) -> QWidget:
        box = QGroupBox("Progress")
        layout = QVBoxLayout(box)
        self.clip_table = QTableWidget(0, 2)
        self.clip_table.setHorizontalHeaderLabels(["Clip", "Analysis"])
        self.clip_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.clip_table.verticalHeader().setVisible(False)
        self.clip_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.clip_table.setMinimumHeight(40)
        layout.addWidget(self.clip_table, 2)
        self.total = QProgressBar()
        self.total.setFormat("%p%")
        self.stage_label = QLabel("Ready.")
        self.stage_label.setWordWrap(True)
        self.stage_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(self.stage_label)
        layout.addWidget(self.total)
        layout.addWidget(QLabel("Clips that cannot be used"))
        self.bad = QListWidget()
        self.bad.setToolTip("Each clip that was skipped, with the reason")
        self.bad.setMinimumHeight(24)
        layout.addWidget(self.bad, 1)
        return box

    # ================================================================== sources
    def footage(self) -> list[str]:
        return [self.files.item(i).data(Qt.UserRole) for i in range(self.files.count())]

    def set_footage(self, paths: list[str]) -> None:
        self.files.clear()
        for path in paths:
            self.files.addItem(os.path.basename(path))
            item = self.files.item(self.files.count() - 1)
            item.setData(Qt.UserRole, os.path.abspath(path))
            item.setToolTip(path)
        self._refresh_buttons()

    def add_media(self, paths: list[str]) -> None:
        """Folders and clips join the footage; an audio file becomes the music."""
        footage = self.footage()
        for path in paths:
            if os.path.isfile(path) and path.lower().endswith(AUDIO_EXTENSIONS):
                self.music.setText(os.path.abspath(path))
                continue
            for found in collect_media([path]):
                if os.path.abspath(found) not in footage:
                    footage.append(os.path.abspath(found))
        self.set_footage(footage)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        self.add_media(paths)
        self.stage_label.setText(f"Added {len(paths)} dropped item(s): {len(self.footage())} clips"
                                 + (f", music {os.path.basename(self.music.text())}" if self.music.text() else "") + ".")
        event.acceptProposedAction()

    def _add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Footage folder", self.settings.last_folder)
        if folder:
            self.settings.last_folder = folder
            self.add_media([folder])

    def _add_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Footage", self.settings.last_folder, VIDEO_FILTER)
        if files:
            self.add_media(files)

    def _remove_files(self) -> None:
        for item in self.files.selectedItems():
            self.files.takeItem(self.files.row(item))
        self._refresh_buttons()

    def _choose_music(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Music", self.settings.last_folder, AUDIO_FILTER)
        if path:
            self.music.setText(path)

    def _use_bin(self, index: int) -> None:
        if self.pool is not None:
            self.pool.use_bin(index)

    def _use_selected(self) -> None:
        if self.pool is not None:
            self.pool.use_selected()

    def _use_pool_music(self, index: int) -> None:
        path = self.pool_music.itemData(index)
        if path:
            self.music.setText(path)

    def _describe_style(self, name: str) -> None:
        style = self._styles.get(name)
        self.style_help.setText(style.description if style else "")
