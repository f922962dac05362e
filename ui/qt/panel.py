"""The Montage AI panel: choose footage and music, analyse, cut, look at the cut, send it to
Resolve or export it. Every long step runs on a :class:`~.tasks.Task` thread with progress and
Cancel; the window never waits on the work.

    montage-ai panel [--resolve]          # standalone, or connected to a running Resolve
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QSettings, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QImage, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
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
    QMainWindow,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from montage_ai.core import defaults
from montage_ai.core.base import stages
from montage_ai.core.base.fileio import VIDEO_EXTENSIONS, collect_media
from montage_ai.core.base.timebase import format_rate
from montage_ai.core.plan.styles import available_styles
from montage_ai.core.workflows import AnalysisJob, RoughCut, RoughCutJob, RoughCutOptions, run_analysis, run_rough_cut
from montage_ai.ui.qt.settings import PanelSettings, SettingsDialog, default_store
from montage_ai.ui.qt.tasks import Task
from montage_ai.ui.qt.timeline_view import TimelineView, waveform_envelope

log = logging.getLogger(__name__)

AUDIO_FILTER = "Audio or video (*.wav *.mp3 *.aif *.aiff *.flac *.m4a *.aac *.ogg *.mov *.mp4);;All files (*)"
VIDEO_FILTER = "Video (" + " ".join(f"*{e}" for e in sorted(VIDEO_EXTENSIONS)) + ");;All files (*)"
EXPORT_FILTERS = {
    "FCPXML for Resolve / Final Cut (*.fcpxml)": "fcpxml",
    "Premiere / FCP7 XML (*.xml)": "premiere",
    "CMX 3600 EDL, video track 1 (*.edl)": "edl",
    "OpenTimelineIO (*.otio)": "otio",
    "OpenTimelineIO bundle with media (*.otioz)": "otioz",
}
SHORTCUTS = {"analyse": "F5", "cut": "Ctrl+R", "selects": "Ctrl+L", "send": "Ctrl+Shift+R", "export": "Ctrl+E",
             "preview": "Ctrl+P", "report": "Ctrl+Shift+H", "cancel": "Esc", "reroll": "Ctrl+Shift+N"}


class _LogBridge(QObject, logging.Handler):
    """Log records of the library, appended to the log pane on the GUI thread."""

    record = Signal(str)

    def __init__(self) -> None:
        QObject.__init__(self)
        logging.Handler.__init__(self, level=logging.INFO)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:  # noqa: A003 - logging API
        try:
            self.record.emit(self.format(record))
        except RuntimeError:  # the pane is gone (window closed)
            pass


@dataclass(frozen=True)
class ShownCut:
    """What the timeline view shows when it is not a rough cut (the selects): enough to
    export, preview or send it."""

    cut_list: Any
    timeline: Any
    analyses: list


class MontagePanel(QMainWindow):
    """The panel. ``resolve``: a connected Resolve client (``resolve_plugin``), or None."""

    def __init__(self, *, resolve: Any = None, route: Any = None, store: QSettings | None = None,
                 executor: Any = None, open_files: bool = True, file_route_folder: str | None = None) -> None:
        super().__init__()
        from montage_ai.ui.qt.theme import apply_dark_palette

        apply_dark_palette(QApplication.instance())
        self.setWindowTitle("Montage AI — Rough Cut")
        self.store = store or default_store()
        self.settings = PanelSettings.load(self.store)
        self.resolve = resolve
        self.route = route
        self.file_route_folder = file_route_folder
        self._executor = executor
        self._open_files = open_files
        self.task: Task | None = None
        self.last_finished: Task | None = None
        self.result: RoughCut | None = None
        self.analysed: dict[str, Any] = {}
        self._started = 0.0
        self._styles = {s.name: s for s in available_styles(strict=False)}
        self._build()
        self.pool = None
        if resolve is not None:
            from montage_ai.ui.qt.resolve_panel import ResolveSources

            self.pool = ResolveSources(self, resolve)
            try:
                product = resolve.product()
                how = f" ({route.route} route)" if route is not None else ""
                self.resolve_status.setText(f"Connected to {product.name} {product.version}{how}.")
                self.pool.refresh()
            except Exception as exc:  # noqa: BLE001 - a pool we cannot read leaves the file sources
                self.stage_label.setText(f"Cannot read Resolve's media pool: {exc}")
        else:
            self.resolve_status.setText("Not connected to Resolve: working with files; Send to Resolve writes "
                                        "files to import. Start the panel from Resolve (Workspace > Scripts > "
                                        "Montage AI) to use its media pool.")
        if route is not None:
            self.resolve_status.setToolTip("\n".join(route.lines()))
        self._log = _LogBridge()
        self._log.record.connect(self.log_pane.appendPlainText)
        logging.getLogger("montage_ai").addHandler(self._log)
        logging.getLogger("montage_ai").setLevel(logging.INFO)
        if route is not None:
            for line in route.lines():
                self.log_pane.appendPlainText(f"Resolve {line}")
        self._refresh_buttons()
        self.resize(1280, 720)

    # ================================================================== layout
    def _build(self) -> None:
        central = QWidget()
        self.setCentralWidget(central)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(8, 8, 8, 8)
        top = QSplitter(Qt.Horizontal)
        top.addWidget(self._sources_box())
        top.addWidget(self._options_box())
        top.addWidget(self._progress_box())
        top.setSizes([420, 380, 480])
        rows = QSplitter(Qt.Vertical)  # the editor can trade the log's room for the rest
        rows.setChildrenCollapsible(False)
        outer.addWidget(rows)
        rows.addWidget(top)
        self.timeline = TimelineView()
        self.timeline.cut_clicked.connect(self.show_moment)
        timeline_box = QGroupBox("Rough cut")
        tl = QVBoxLayout(timeline_box)
        tl.addWidget(self.timeline)
        self.summary = QLabel("Analyse your clips, then press Rough Cut.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        tl.addWidget(self.summary)
        rows.addWidget(timeline_box)
        bottom = QTabWidget()
        viewer = QWidget()
        vl = QHBoxLayout(viewer)
        self.viewer = QLabel("Click a clip in the rough cut to see its first frame.")
        self.viewer.setAlignment(Qt.AlignCenter)
        self.viewer.setMinimumHeight(60)
        vl.addWidget(self.viewer)
        bottom.addTab(viewer, "Viewer")
        log_tab = QWidget()
        ll = QVBoxLayout(log_tab)
        self.log_pane = QPlainTextEdit()
        self.log_pane.setReadOnly(True)
        self.log_pane.setMaximumBlockCount(5000)
        copy = QPushButton("Copy log")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.log_pane.toPlainText()))
        ll.addWidget(self.log_pane)
        ll.addWidget(copy, 0, Qt.AlignRight)
        bottom.addTab(log_tab, "Log")
        bottom.setMinimumHeight(90)
        rows.addWidget(bottom)
        rows.setSizes([330, 200, 150])
        self._toolbar()

    def _toolbar(self) -> None:
        bar = QToolBar("Actions")
        bar.setMovable(False)
        self.addToolBar(Qt.TopToolBarArea, bar)
        self.actions_: dict[str, QAction] = {}
        for key, label, slot in (("analyse", "Analyse", self.analyse), ("cut", "Rough Cut", self.rough_cut),
                                 ("selects", "Selects", self.selects),
                                 ("send", "Send to Resolve", self.send_to_resolve), ("export", "Export…", self.export),
                                 ("preview", "Preview", self.preview), ("report", "Shot report…", self.report),
                                 ("cancel", "Cancel", self.cancel)):
            action = QAction(label, self)
            action.setShortcut(QKeySequence(SHORTCUTS[key]))
            action.setToolTip(f"{label} ({SHORTCUTS[key]})")
            action.triggered.connect(slot)
            bar.addAction(action)
            self.actions_[key] = action
        bar.addSeparator()
        settings = QAction("Settings…", self)
        settings.triggered.connect(self.edit_settings)
        bar.addAction(settings)

    def _sources_box(self) -> QWidget:
        box = QGroupBox("Footage and music")
        layout = QVBoxLayout(box)
        self.resolve_row = QWidget()
        rr = QHBoxLayout(self.resolve_row)
        rr.setContentsMargins(0, 0, 0, 0)
        self.bin_combo = QComboBox()
        self.bin_combo.setToolTip("A bin of the Resolve media pool: its clips become the footage")
        self.bin_combo.activated.connect(self._use_bin)
        use_selected = QPushButton("Use selected clips")
        use_selected.setToolTip("The clips selected in Resolve's media pool")
        use_selected.clicked.connect(self._use_selected)
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
        layout.addWidget(self.files, 1)
        row = QHBoxLayout()
        for label, slot in (("Add folder…", self._add_folder), ("Add files…", self._add_files),
                            ("Remove", self._remove_files)):
            b = QPushButton(label)
            b.clicked.connect(slot)
            row.addWidget(b)
        layout.addLayout(row)
        music_row = QHBoxLayout()
        self.music = QLineEdit()
        self.music.setPlaceholderText("the song: a file, or a clip of the media pool")
        self.music.textChanged.connect(self._refresh_buttons)
        pick = QPushButton("Choose…")
        pick.clicked.connect(self._choose_music)
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
        self.style.setCurrentText(self.settings.default_style if self.settings.default_style in self._styles else "dynamic")
        self.style_help = QLabel()
        self.style_help.setWordWrap(True)
        self.style_help.setStyleSheet("color: palette(placeholder-text);")
        self.style.currentTextChanged.connect(self._describe_style)
        self._describe_style(self.style.currentText())
        self.brief = QPlainTextEdit()
        self.brief.setPlaceholderText("What is this story about? (used by the Ollama planner)")
        self.brief.setMaximumHeight(52)
        self.duration = QDoubleSpinBox()
        self.duration.setRange(0, 3600)
        self.duration.setDecimals(1)
        self.duration.setSuffix(" s")
        self.duration.setSpecialValueText("the whole song")
        seed_row = QHBoxLayout()
        self.seed = QSpinBox()
        self.seed.setRange(0, 1_000_000)
        reroll = QPushButton("Re-roll")
        reroll.setToolTip(f"Another cut with the same story arc ({SHORTCUTS['reroll']})")
        reroll.setShortcut(QKeySequence(SHORTCUTS["reroll"]))
        reroll.clicked.connect(self.reroll)
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(reroll)
        self.planner = QComboBox()
        self.planner.addItem("Rules (deterministic)", "rules")
        self.planner.addItem("Ollama when available", "auto")
        self.planner.addItem("Ollama", "ollama")
        self.markers = QCheckBox("Markers")
        self.markers.setToolTip("Beat, downbeat and section markers on the timeline sent to Resolve")
        self.markers.setChecked(True)
        self.proxies = QCheckBox("Make proxies")
        self.proxies.setToolTip("Before sending to Resolve, encode proxies of the clips the cut uses (those up to date "
                                "are kept) with the encoder and profile from Settings. Proxies that exist are linked "
                                "in Resolve either way.")
        form.addRow("Style", self.style)
        form.addRow("", self.style_help)
        form.addRow("Brief", self.brief)
        form.addRow("Length", self.duration)
        form.addRow("Seed", seed_row)
        form.addRow("Planner", self.planner)
        checks = QHBoxLayout()
        checks.addWidget(self.markers)
        checks.addWidget(self.proxies)
        form.addRow("Options", checks)
        return box

    def _progress_box(self) -> QWidget:
        box = QGroupBox("Progress")
        layout = QVBoxLayout(box)
        self.clip_table = QTableWidget(0, 2)
        self.clip_table.setHorizontalHeaderLabels(["Clip", "Analysis"])
        self.clip_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.clip_table.verticalHeader().setVisible(False)
        self.clip_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        layout.addWidget(self.clip_table, 2)
        self.total = QProgressBar()
        self.total.setFormat("%p%")
        self.stage_label = QLabel("Ready.")
        layout.addWidget(self.stage_label)
        layout.addWidget(self.total)
        layout.addWidget(QLabel("Clips that cannot be used"))
        self.bad = QListWidget()
        self.bad.setToolTip("Each clip that was skipped, with the reason")
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

    def _add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Footage folder", self.settings.last_folder)
        if folder:
            self.settings.last_folder = folder
            self.set_footage(self.footage() + [p for p in collect_media([folder]) if p not in self.footage()])

    def _add_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Footage", self.settings.last_folder, VIDEO_FILTER)
        if files:
            self.set_footage(self.footage() + [f for f in files if f not in self.footage()])

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

    # ================================================================== actions
    def _cache(self):
        return self.work_options().cache()

    def work_options(self):
        """Where the panel's jobs run (:class:`~montage_ai.core.workflows.WorkOptions`)."""
        from montage_ai.core.workflows import WorkOptions

        return WorkOptions(workers=self.settings.workers or None, cache_dir=self.settings.cache_dir or None,
                           executor=self._executor)

    def options(self) -> RoughCutOptions:
        return RoughCutOptions(
            style=self.style.currentText(), duration_s=self.duration.value() or None, seed=self.seed.value(),
            brief=self.brief.toPlainText().strip(), planner=self.planner.currentData(),
            ollama_host=self.settings.ollama_host or None, model=self.settings.ollama_model or None,
            vision_model=self.settings.vision_model or None, name=None)

    def _start(self, task: Task, label: str) -> Task:
        self.task = task
        self._started = time.monotonic()
        self.stage_label.setText(label)
        self.total.setValue(0)
        task.stage.connect(self._on_stage)
        task.clip.connect(self._on_clip)
        task.failed.connect(self._on_failed)
        task.cancelled.connect(self._on_cancelled)
        task.finished.connect(lambda t=task: self._on_finished(t))
        self._refresh_buttons()
        task.start()
        return task

    def analyse(self) -> Task | None:
        files = self.footage()
        if not files or self.busy:
            return None
        self.bad.clear()
        self.clip_table.setRowCount(len(files))
        for row, path in enumerate(files):
            self.clip_table.setItem(row, 0, QTableWidgetItem(os.path.basename(path)))
            self.clip_table.setItem(row, 1, QTableWidgetItem("waiting"))
        job = AnalysisJob(work=self.work_options())

        def work(task: Task):
            return run_analysis(files, job, clip_progress=task.report_clip, cancel=task.is_cancelled).report

        task = Task(work, "analyse")
        task.done.connect(self._analysed)
        return self._start(task, f"Analysing {len(files)} clips…")

    def _analysed(self, report) -> None:
        self.analysed = {a.path: a for a in report.analyses}
        for row in range(self.clip_table.rowCount()):
            self.clip_table.item(row, 1).setText("done")
        self._show_failures(report.failures)
        self.stage_label.setText(f"Analysed {len(report.analyses)} clips"
                                 + (f"; {len(report.failures)} cannot be used" if report.failures else "") + ".")
        self.total.setValue(100)

    def _show_failures(self, failures) -> None:
        rows = {self.clip_table.item(r, 0).text(): r for r in range(self.clip_table.rowCount())}
        for path, reason in failures:
            name = os.path.basename(path)
            text = reason.replace(path, name) if path in reason else f"{name}: {reason}"
            if not any(self.bad.item(i).text() == text for i in range(self.bad.count())):
                self.bad.addItem(text)
                self.bad.item(self.bad.count() - 1).setToolTip(path)
            if os.path.basename(path) in rows:
                self.clip_table.item(rows[os.path.basename(path)], 1).setText("skipped")

    def rough_cut(self) -> Task | None:
        files, music = self.footage(), self.music.text().strip()
        if not files or not music or self.busy:
            if not music:
                self.stage_label.setText("Choose the music first.")
            return None
        job = RoughCutJob(self.options(), self.work_options())

        def work(task: Task):
            result = run_rough_cut(files, music, job, progress=task.report_stage, cancel=task.is_cancelled)
            thumbs = {(a.path, s.index): s.thumbnail for a in result.analyses for s in a.shots if s.thumbnail}
            cl = result.cut_list
            try:
                wave = waveform_envelope(music, duration_s=float(cl.music_duration / cl.rate))
            except Exception as exc:  # noqa: BLE001 - the waveform is decoration; a video file as music has none
                log.info("no waveform for %s: %s", music, exc)
                wave = None
            return result, thumbs, wave

        task = Task(work, "rough cut")
        task.done.connect(self._cut_done)
        return self._start(task, "Cutting…")

    def _cut_done(self, payload) -> None:
        result, thumbs, wave = payload
        self.result = result
        self.analysed = {a.path: a for a in result.analyses}
        self.timeline.set_cut(result.cut_list, thumbs, wave)
        cl = result.cut_list
        self._show_failures(result.failures)
        notes = "".join(f"<br>note: {n}" for n in cl.metadata.get("notes", ()))
        self.summary.setText(
            f"<b>{cl.name}</b>: {len(cl.cuts)} cuts, {float(cl.duration / cl.rate):.2f} s at "
            f"{format_rate(cl.rate, ratio=True)} fps, style {result.style.name}, seed {cl.seed}, "
            f"planner {result.plan.planner}{notes}")
        self.stage_label.setText(f"Rough cut ready: {len(cl.cuts)} cuts.")
        self.total.setValue(100)

    def selects(self) -> Task | None:
        """A stringout of the best moments of every clip (the poor shots left out, each with its
        reason in the log), shown like a cut: export it or send it to Resolve."""
        files = self.footage()
        if not files or self.busy:
            return None
        from montage_ai.core.workflows import SelectsJob, SelectsOptions, run_selects

        name = f"{self.pool.bin_name()} Selects" if self.pool is not None and self.pool.bin_name() else "Selects"
        job = SelectsJob(SelectsOptions(seed=self.seed.value(), group=defaults.SELECTS_GROUP), name=name, work=self.work_options())

        def work(task: Task):
            result = run_selects(files, job, progress=task.report_stage, cancel=task.is_cancelled)
            thumbs = {(a.path, s.index): s.thumbnail for a in result.analyses for s in a.shots if s.thumbnail}
            return result, thumbs

        task = Task(work, "selects")
        task.done.connect(self._selects_done)
        return self._start(task, "Choosing the selects…")

    def _selects_done(self, payload) -> None:
        result, thumbs = payload
        cut_list = result.cut_list
        self.result = ShownCut(cut_list, result.timeline, result.analyses)
        self.timeline.set_cut(cut_list, thumbs, None)
        self._show_failures(result.failures)
        for rejection in result.selects.rejections:
            log.info("left out: %s #%d: %s", os.path.basename(rejection.path), rejection.shot_index,
                     rejection.reason)
        self.summary.setText(f"<b>{cut_list.name}</b>: {len(cut_list.cuts)} pieces, "
                             f"{float(cut_list.duration / cut_list.rate):.1f} s; {len(result.selects.rejections)} "
                             "shots left out (the Log tab says why).")
        self.stage_label.setText(f"Selects ready: {len(cut_list.cuts)} pieces.")
        self.total.setValue(100)

    def report(self, path: str | None = None) -> Task | None:
        """The shot report (HTML with the thumbnails, and a CSV beside it) of the footage."""
        files = self.footage()
        if not files or self.busy:
            return None
        if path is None:
            base = os.path.join(self.settings.last_folder or os.path.expanduser("~"), "shot report.html")
            path, _ = QFileDialog.getSaveFileName(self, "Shot report", base, "Web page (*.html)")
            if not path:
                return None
        from montage_ai.core.workflows import ReportJob, run_shot_report

        # The save dialog has already asked whether to replace the page.
        job = ReportJob(music=self.music.text().strip() or None, overwrite=True, work=self.work_options())

        def work(task: Task):
            result = run_shot_report(files, path, job, progress=task.report_stage, clip_progress=task.report_clip,
                                     cancel=task.is_cancelled)
            return result.html, result.csv

        task = Task(work, "report")
        task.done.connect(self._report_done)
        return self._start(task, "Writing the shot report…")

    def _report_done(self, paths) -> None:
        html_path, csv_path = paths
        self.last_report = str(html_path)
        self.stage_label.setText(f"Shot report: {html_path} (and {csv_path.name})")
        if self._open_files:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(html_path)))

    def reroll(self) -> None:
        self.seed.setValue(self.seed.value() + 1)
        if isinstance(self.result, RoughCut):
            self.rough_cut()

    def preview(self) -> Task | None:
        if self.result is None or self.busy:
            return None
        from montage_ai.core.workflows import PreviewJob, run_preview

        result = self.result
        folder = self._cache().root / "previews"  # ours: replaced on each render of the same cut
        out = folder / f"{result.cut_list.name} seed {result.cut_list.seed}.mp4"
        job = PreviewJob(height=540, overwrite=True)

        def work(task: Task):
            return str(run_preview(result, out, job, progress=task.report_stage, cancel=task.is_cancelled))

        task = Task(work, "preview")
        task.done.connect(self._preview_done)
        return self._start(task, "Rendering the preview…")

    def _preview_done(self, path: str) -> None:
        self.stage_label.setText(f"Preview: {path}")
        self.last_preview = path
        if self._open_files:
            QDesktopServices.openUrl(QUrl.fromLocalFile(path))

    def export(self, path: str | None = None, fmt: str | None = None) -> Task | None:
        """Export the cut; without ``path`` a save dialog asks for it (the filter picks the format)."""
        if self.result is None or self.busy:
            return None
        if path is None:
            base = os.path.join(self.settings.last_folder or os.path.expanduser("~"), self.result.cut_list.name)
            path, chosen = QFileDialog.getSaveFileName(self, "Export the rough cut", base, ";;".join(EXPORT_FILTERS))
            if not path:
                return None
            fmt = EXPORT_FILTERS.get(chosen)
        from montage_ai.core.workflows import ExportJob, MontageError, run_export
        from montage_ai.otio_adapters.export import FORMATS

        if fmt is None:
            fmt = next((f.name for f in FORMATS.values() if path.lower().endswith(f.suffix)), "otio")
        if not path.lower().endswith(FORMATS[fmt].suffix):
            path += FORMATS[fmt].suffix
        timeline = self.result.timeline
        # The save dialog has already asked the editor whether to replace an existing file.
        job = ExportJob(formats=(fmt,), overwrite=True)

        def work(task: Task):
            written = run_export(timeline, path, job, paths={fmt: path}, cancel=task.is_cancelled)
            if written.failures:
                raise MontageError(str(written.failures[0]))
            return written.written[fmt]

        task = Task(work, "export")
        task.done.connect(lambda written: self.stage_label.setText(f"Exported {written}"))
        return self._start(task, f"Exporting {os.path.basename(path)}…")

    def send_to_resolve(self) -> Task | None:
        """Push the cut into Resolve as a new timeline with markers; the read-back is reported.
        Without a live route, write FCP7 XML and FCPXML and show how to import them."""
        if self.result is None or self.busy:
            return None
        if self.resolve is None:
            from montage_ai.ui.qt.resolve_panel import write_file_route

            folder = self.file_route_folder or self._ask_file_route_folder()
            if not folder:
                return None
            task = write_file_route(self, folder)
            task.done.connect(self._file_route_done)
            return self._start(task, "Writing the cut for File > Import > Timeline…")
        from montage_ai.ui.qt.resolve_panel import push

        task = push(self, self.resolve)
        task.done.connect(self._pushed)
        return self._start(task, "Sending the cut to Resolve…")

    def _ask_file_route_folder(self) -> str:
        from PySide6.QtCore import QStandardPaths

        start = self.settings.last_folder or QStandardPaths.writableLocation(QStandardPaths.MoviesLocation)
        return QFileDialog.getExistingDirectory(self, "Where to write the timeline files for Resolve", start)

    def _file_route_done(self, written) -> None:
        self.last_file_route = written
        self.stage_label.setText(f"Written for Resolve: {written.xml.name} and {written.fcpxml.name}")
        self.summary.setText(self.summary.text() + "<br><b>To bring it into Resolve:</b><br>"
                             + written.text().replace("\n", "<br>"))
        log.info("To bring the cut into Resolve:\n%s", written.text())

    def _pushed(self, report) -> None:
        from montage_ai.ui.qt.resolve_panel import describe_push

        self.last_push = report
        text = describe_push(report)
        self.stage_label.setText(text.splitlines()[0])
        self.summary.setText(self.summary.text() + "<br>" + text.replace("\n", "<br>"))
        (log.info if report.ok else log.warning)("%s", text)

    def cancel(self) -> None:
        if self.task is not None and self.task.isRunning():
            self.task.cancel()
            self.stage_label.setText("Cancelling…")

    def show_moment(self, index: int) -> Task | None:
        """Show the first frame the cut ``index`` uses, decoded exactly (ffmpeg, off the GUI thread)."""
        if self.result is None:
            return None
        cut = self.result.cut_list.cuts[index]
        seconds = float(cut.source_in / cut.source_rate)

        def work(task: Task):
            import subprocess

            proc = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{seconds:.6f}", "-i", cut.source_path,
                                   "-frames:v", "1", "-vf", "scale=-2:240", "-f", "image2pipe", "-c:v", "png", "-"],
                                  capture_output=True, check=True)
            return QImage.fromData(proc.stdout, "PNG")

        task = Task(work, "moment")
        task.done.connect(lambda image: self.viewer.setPixmap(QPixmap.fromImage(image)))
        task.failed.connect(lambda reason: self.viewer.setText(f"Cannot show it: {reason}"))
        self._moment = task  # kept alive; does not block the other actions
        task.start()
        return task

    def edit_settings(self) -> None:
        dialog = SettingsDialog(self.settings, sorted(self._styles), self)
        if dialog.exec():
            self.settings = dialog.result_settings()
            self.settings.save(self.store)

    # ================================================================== progress
    @property
    def busy(self) -> bool:
        return self.task is not None and self.task.isRunning()

    def _on_stage(self, stage: str, fraction: float) -> None:
        self.stage_label.setText(f"{stages.label(stage)}… {self._remaining(fraction)}")
        self.total.setValue(int(round(100 * fraction)))

    def _on_clip(self, item: str, fraction: float, done: int, total: int) -> None:
        for row in range(self.clip_table.rowCount()):
            if self.clip_table.item(row, 0).text() == os.path.basename(item):
                self.clip_table.item(row, 1).setText("done" if fraction >= 1.0 else f"{int(fraction * 100)}%")
        overall = (done + (fraction if fraction < 1.0 else 0.0)) / max(total, 1)
        self.total.setValue(int(round(100 * overall)))
        self.stage_label.setText(f"Analysing {done} of {total} clips done… {self._remaining(overall)}")

    def _remaining(self, fraction: float) -> str:
        elapsed = time.monotonic() - self._started
        if fraction <= 0.02 or elapsed < 1.0:
            return ""
        left = elapsed * (1 - fraction) / fraction
        return f"about {int(left // 60)} min {int(left % 60)} s left" if left >= 60 else f"about {int(left)} s left"

    def _on_failed(self, reason: str) -> None:
        self.stage_label.setText(f"Failed: {reason}")
        log.error("%s", reason)

    def _on_cancelled(self) -> None:
        self.stage_label.setText("Cancelled.")

    def _on_finished(self, task: Task) -> None:
        """After a task's result (or failure) has been shown: the buttons follow."""
        self.last_finished = task
        self._refresh_buttons()

    def _refresh_buttons(self) -> None:
        if not hasattr(self, "actions_"):
            return
        busy = self.busy
        has_files, has_music, has_cut = bool(self.files.count()), bool(self.music.text().strip()), self.result is not None
        self.actions_["analyse"].setEnabled(not busy and has_files)
        self.actions_["cut"].setEnabled(not busy and has_files and has_music)
        self.actions_["selects"].setEnabled(not busy and has_files)
        self.actions_["report"].setEnabled(not busy and has_files)
        self.actions_["send"].setEnabled(not busy and has_cut)
        self.actions_["export"].setEnabled(not busy and has_cut)
        self.actions_["preview"].setEnabled(not busy and has_cut)
        self.actions_["cancel"].setEnabled(busy)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self.busy:
            self.task.cancel()
            self.task.wait(10_000)
        logging.getLogger("montage_ai").removeHandler(self._log)
        self.settings.default_style = self.style.currentText()
        self.settings.save(self.store)
        super().closeEvent(event)


def run_in_resolve(resolve: Any) -> int:
    """The panel inside Resolve's own Python (the Scripts menu launcher calls this with the
    ``resolve`` object Resolve injected)."""
    from montage_ai.resolve_plugin.direct import DirectClient

    return run_panel(resolve=DirectClient(resolve))


def run_panel(*, resolve: Any = None, route: Any = None) -> int:
    """Open the panel (creating the QApplication) and run until it is closed."""
    from PySide6.QtCore import Qt as _Qt

    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(_Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication([])
    app.setApplicationName("Montage AI")
    panel = MontagePanel(resolve=resolve, route=route)
    panel.show()
    return app.exec()
