"""The Montage AI panel: choose footage and music, analyse, cut, look at and play the cut,
edit it (exclude, lock, swap, trim by a beat, undo), send it to Resolve or export it. Every
long step runs on a :class:`~.tasks.Task` thread with progress and Cancel; the window never
waits on the work.

    montage-ai panel [--resolve]          # standalone, or connected to a running Resolve
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from montage_ai.core.cut.edits import EditError
from montage_ai.core.plan.styles import available_styles
from montage_ai.core.workflows import RoughCutOptions
from montage_ai.ui.qt import edit_actions, grid_actions, jobs, menus
from montage_ai.ui.qt.beat_grid_view import GridStrip
from montage_ai.ui.qt.cut_tab import CutTab, ShownCut
from montage_ai.ui.qt.layout import PanelLayout
from montage_ai.ui.qt.messages import Banner, LogBridge
from montage_ai.ui.qt.player import FrameView, Player
from montage_ai.ui.qt.settings import PanelSettings, SettingsDialog, default_store
from montage_ai.ui.qt.task_progress import TaskProgress
from montage_ai.ui.qt.tasks import Task

log = logging.getLogger(__name__)

#: Actions that start a task: disabled while one runs (one task at a time).
TASK_ACTIONS = ("analyse", "cut", "reroll", "selects", "send", "export", "preview", "report")
EDIT_ACTIONS = ("undo", "redo", "exclude", "lock", "swap", "longer", "shorter")


class MontagePanel(PanelLayout, TaskProgress, QMainWindow):
    """The panel. ``resolve``: a connected Resolve client (``resolve_plugin``), or None."""

    def __init__(self, *, resolve: Any = None, route: Any = None, store: QSettings | None = None,
                 executor: Any = None, open_files: bool = True, file_route_folder: str | None = None) -> None:
        super().__init__()
        from montage_ai.ui.qt.theme import apply_dark_palette

        apply_dark_palette(QApplication.instance())
        self.setWindowTitle("Montage AI — Rough Cut")
        self.setAcceptDrops(True)
        self.store = store or default_store()
        self.settings = PanelSettings.load(self.store)
        self.excluded: set[tuple[str, int]] = {tuple(k) for k in json.loads(str(self.store.value("excluded", "[]")))}
        self.resolve = resolve
        self.route = route
        self.file_route_folder = file_route_folder
        self._executor = executor
        self._open_files = open_files
        self.task: Task | None = None
        self.last_finished: Task | None = None
        self.analysed: dict[str, Any] = {}
        self._started = 0.0
        self._styles = {s.name: s for s in available_styles(strict=False)}
        self.player = Player(self)
        self.click_player = Player(self, video=False)  # the click track (its "frames" are milliseconds)
        self.grid = grid_actions.GridState()
        self.song_loaded = None
        self.song_wave = None
        self.tap_timer = QTimer(self, singleShot=True)
        self.tap_timer.timeout.connect(lambda: grid_actions.taps_done(self))
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
        self._log = LogBridge()
        self._log.record.connect(self.log_pane.appendPlainText)
        logging.getLogger("montage_ai").addHandler(self._log)
        logging.getLogger("montage_ai").setLevel(logging.INFO)
        if route is not None:
            for line in route.lines():
                self.log_pane.appendPlainText(f"Resolve {line}")
        self.player.frame.connect(self._on_play_frame)
        self.player.picture.connect(lambda image: self.viewer.set_image(image))
        self.player.state.connect(lambda state: setattr(self.viewer, "fast", state == "playing"))
        self.player.error.connect(lambda message: self.banner.show_info(f"Playback: {message}"))
        self._refresh_buttons()
        self.resize(1280, 720)

    # ================================================================== layout
    def _build(self) -> None:
        central = QWidget()
        self.setCentralWidget(central)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(6, 6, 6, 6)
        self.banner = Banner()
        outer.addWidget(self.banner)
        self.grid_strip = GridStrip()
        self.song_range = self.grid_strip.song
        top = QSplitter(Qt.Horizontal)
        top.addWidget(self._sources_box())
        top.addWidget(self._options_box())
        top.addWidget(self._progress_box())
        top.setSizes([400, 380, 500])
        middle = QSplitter(Qt.Horizontal)
        self.viewer = FrameView()
        middle.addWidget(self.viewer)
        middle.addWidget(self._side_tabs())
        middle.setSizes([760, 520])
        rows = QSplitter(Qt.Vertical)  # the editor trades room between the parts
        rows.setChildrenCollapsible(False)
        outer.addWidget(rows)
        rows.addWidget(top)
        rows.addWidget(middle)
        rows.addWidget(self.grid_strip)
        rows.addWidget(self._cut_tabs())
        rows.setSizes([185, 120, 80, 330])  # the timeline gets its whole height first
        menus.install(self)

    def _cut_tabs(self) -> QWidget:
        self.tabs: dict[str, CutTab] = {"cut": CutTab("cut"), "selects": CutTab("selects")}
        self.cut_tabs = QTabWidget()
        for key, label in (("cut", "Rough cut"), ("selects", "Selects")):
            tab = self.tabs[key]
            box = QWidget()
            layout = QVBoxLayout(box)
            layout.setContentsMargins(4, 4, 4, 4)
            layout.addWidget(tab.editor)
            tab.view.cut_clicked.connect(self.show_moment)
            tab.view.playhead_moved.connect(self._on_playhead_dragged)
            self.cut_tabs.addTab(box, label)
        self.cut_tabs.setTabEnabled(1, False)
        self.cut_tabs.currentChanged.connect(lambda _i: self._on_tab_changed())
        self.timeline = self.tabs["cut"].view  # the rough cut's view
        self.summary = QLabel("Analyse your clips, then press Rough Cut.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.summary.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        # The summary and its notes scroll in three lines' room: a long list of notes never
        # pushes into the timeline above it.
        notes = QScrollArea()
        notes.setWidget(self.summary)
        notes.setWidgetResizable(True)
        notes.setFrameShape(QFrame.NoFrame)
        line = self.summary.fontMetrics().lineSpacing()
        notes.setMinimumHeight(line + 4)
        notes.setMaximumHeight(3 * line + 6)
        self.tabs["cut"].editor.layout().addWidget(notes)
        return self.cut_tabs

    def _side_tabs(self) -> QWidget:
        side = QTabWidget()
        history = QWidget()
        hl = QVBoxLayout(history)
        hl.setContentsMargins(2, 2, 2, 2)
        self.history_list = QListWidget()
        self.history_list.setMinimumHeight(40)
        self.history_list.setToolTip("Every version of the cut: double-click one to go back to it (Undo brings you back)")
        self.history_list.itemActivated.connect(lambda item: self.go_to_version(self.history_list.row(item)))
        hl.addWidget(self.history_list)
        side.addTab(history, "History")
        log_tab = QWidget()
        ll = QVBoxLayout(log_tab)
        ll.setContentsMargins(2, 2, 2, 2)
        ll.setSpacing(2)
        self.log_pane = QPlainTextEdit()
        self.log_pane.setReadOnly(True)
        self.log_pane.setMaximumBlockCount(5000)
        self.log_pane.setMinimumHeight(40)
        row = QHBoxLayout()
        self.copy_log = QPushButton("Copy log")
        self.copy_log.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.log_pane.toPlainText()))
        self.save_log = QPushButton("Save log…")
        self.save_log.clicked.connect(lambda: self.save_log_to())
        row.addStretch(1)
        row.addWidget(self.copy_log)
        row.addWidget(self.save_log)
        ll.addWidget(self.log_pane)
        ll.addLayout(row)
        side.addTab(log_tab, "Log")
        self.side_tabs = side
        return side

    def _run_action(self, label: str, slot) -> None:
        """An action's slot; what it raises (a file it cannot write, an option it refuses)
        reaches the editor in the banner, never as a traceback on stderr."""
        try:
            slot()
        except Exception as exc:  # noqa: BLE001 - every failure reaches the editor as a message
            log.error("%s: %s", label.rstrip("…"), exc)
            self.banner.show_error(label.rstrip("…"), "", str(exc) or type(exc).__name__)
            self._refresh_buttons()

    def tool_button(self, key: str) -> QToolButton:
        """The toolbar button of action ``key`` (what an editor clicks)."""
        return self.toolbar.widgetForAction(self.actions_[key])

    # ================================================================== what is shown
    def current_tab(self) -> CutTab:
        return self.tabs["selects"] if self.cut_tabs.currentIndex() == 1 else self.tabs["cut"]

    @property
    def result(self) -> ShownCut | None:
        """The cut shown in the current tab, as it is exported, previewed and sent."""
        return self.current_tab().shown()

    def _on_tab_changed(self) -> None:
        self.player.stop()
        self._show_history()
        self._refresh_buttons()

    def _show_history(self) -> None:
        tab = self.current_tab()
        self.history_list.clear()
        for i, version in enumerate(tab.history.versions()):
            stamp = time.strftime("%H:%M:%S", time.localtime(version.at))
            self.history_list.addItem(f"{stamp}  {version.label}")
            if i == tab.history.position:
                item = self.history_list.item(i)
                font = item.font()
                font.setBold(True)
                item.setFont(font)
        if tab.history.position >= 0:
            self.history_list.setCurrentRow(tab.history.position)

    # ================================================================== actions (in jobs / edit_actions)
    def work_options(self):
        """Where the panel's jobs run (:class:`~montage_ai.core.workflows.WorkOptions`)."""
        from montage_ai.core.workflows import WorkOptions

        return WorkOptions(workers=self.settings.workers or None, cache_dir=self.settings.cache_dir or None,
                           executor=self._executor)

    def options(self) -> RoughCutOptions:
        from dataclasses import fields

        extra: dict[str, Any] = {}
        duration = self.duration.value() or None
        part = self.song_range.part()
        if part is not None:
            if {"song_start", "song_end"} <= {f.name for f in fields(RoughCutOptions)}:
                extra = {"song_start": f"{part.start_s:.3f}", "song_end": f"{part.end_s:.3f}"}
            else:  # this engine cuts from the song's start: the part's end is the length
                duration = duration or part.end_s
        return RoughCutOptions(
            style=self.style.currentText(), duration_s=duration, seed=self.seed.value(),
            brief=self.brief.toPlainText().strip(), planner=self.planner.currentData(),
            ollama_host=self.settings.ollama_host or None, model=self.settings.ollama_model or None,
            vision_model=self.settings.vision_model or None, name=None, **extra)

    def _load_song(self) -> Task | None:
        """Analyse the music (cached; the cut reuses it) and show its waveform and bars."""
        from montage_ai.core.workflows import MusicJob, kept_grid, run_music_analysis
        from montage_ai.ui.qt.timeline_view import waveform_envelope

        path = self.music.text().strip()
        self.song_loaded = None
        grid_actions.stop_clicks(self)
        self.grid_strip.clear_grid()
        grid_actions.refresh(self)
        if not path or not os.path.isfile(path):
            self.song_range.set_song(None, 0.0, ())
            self.song_range.set_status("Choose the music: its waveform appears here.")
            return None
        work_options = self.work_options()
        self.song_range.set_song(None, 0.0, ())
        self.song_range.set_status("Reading the song's beats and bars…")

        def work(task: Task):
            music = run_music_analysis(os.path.abspath(path), MusicJob(work=work_options), cancel=task.is_cancelled)
            try:
                wave = waveform_envelope(path, 4000)
            except Exception:  # noqa: BLE001 - a video file as music: bars without a waveform
                wave = None
            return music, wave, kept_grid(os.path.abspath(path))

        task = Task(work, "song")
        song_range = self.song_range  # the answer may come after the window has closed
        task.done.connect(lambda r, p=path: isValid(song_range) and self._song_loaded(p, *r))
        task.failed.connect(lambda reason: isValid(song_range)
                            and song_range.set_status(f"Cannot read the song: {reason}"))
        self._song_task = task
        task.start()
        return task

    def _song_loaded(self, path: str, music, wave, stored) -> None:
        if path != self.music.text().strip():
            return  # the editor has chosen another song since
        self.song_wave = wave
        grid_actions.shown(self, music, stored, new_song=True)

    def _on_song_part(self, part) -> None:
        if part is None:
            self.stage_label.setText("The cut uses the whole song.")
        else:
            self.stage_label.setText(f"The cut uses the song from {part.start_s:.2f} s to {part.end_s:.2f} s "
                                     f"({part.bars} bars).")

    def analyse(self) -> Task | None:
        return jobs.analyse(self)

    def rough_cut(self, *, reroll: bool = False) -> Task | None:
        return jobs.rough_cut(self, reroll=reroll)

    def reroll(self) -> Task | None:
        if self.busy:
            return None
        self.seed.setValue(self.seed.value() + 1)
        return self.rough_cut(reroll=True) if self.tabs["cut"].cut_list is not None else None

    def selects(self) -> Task | None:
        return jobs.selects(self)

    def report(self, path: str | None = None) -> Task | None:
        return jobs.report(self, path)

    def preview(self, *, play: bool = True) -> Task | None:
        return jobs.preview(self, play=play)

    def export(self, path: str | None = None, fmt: str | None = None) -> Task | None:
        return jobs.export(self, path, fmt)

    def send_to_resolve(self) -> Task | None:
        return jobs.send_to_resolve(self)

    def show_moment(self, index: int) -> Task | None:
        return jobs.show_moment(self, index)

    def undo(self) -> None:
        edit_actions.undo(self)

    def redo(self) -> None:
        edit_actions.redo(self)

    def go_to_version(self, index: int) -> None:
        edit_actions.go_to(self, index)

    def exclude_selected(self) -> None:
        edit_actions.exclude(self)

    def toggle_lock(self) -> None:
        edit_actions.toggle_lock(self)

    def swap_selected(self) -> None:
        edit_actions.swap(self)

    def trim_selected(self, beats: int) -> None:
        edit_actions.trim(self, beats)

    def save_excluded(self) -> None:
        self.store.setValue("excluded", json.dumps(sorted(self.excluded)))
        self.store.sync()

    def cancel(self) -> None:
        if self.busy:
            self.task.cancel()
            self.cancel_pressed_at = time.monotonic()
            self.stage_label.setText("Cancelling…")
            self.actions_["cancel"].setEnabled(False)

    def edit_settings(self) -> None:
        dialog = SettingsDialog(self.settings, sorted(self._styles), self)
        self.settings_dialog = dialog
        if dialog.exec():
            self.settings = dialog.result_settings()
            self.settings.save(self.store)

    def save_log_to(self, path: str | None = None) -> str | None:
        if path is None:
            base = os.path.join(self.settings.last_folder or os.path.expanduser("~"), "montage-ai log.txt")
            path, _ = QFileDialog.getSaveFileName(self, "Save the log", base, "Text (*.txt)")
            if not path:
                return None
        from montage_ai.core.base.fileio import write_atomic

        # The save dialog has already asked whether to replace the file.
        write_atomic(path, self.log_pane.toPlainText() + "\n", overwrite=True)
        self.stage_label.setText(f"Log saved to {path}")
        return path

    # ================================================================== playback
    def play_pause(self) -> None:
        if self.player.speed:
            self.player.pause()
        else:
            self.play_forward()

    def play_forward(self) -> None:
        """Play the cut shown (rendering its preview first when there is none)."""
        tab = self.current_tab()
        if tab.cut_list is None:
            return
        path = tab.preview.get(id(tab.cut_list))
        if path is None or not os.path.exists(path):
            if not self.busy:
                self.preview(play=True)
            return
        grid_actions.stop_clicks(self)
        if self.player.path != path:
            self.player.load(path, tab.cut_list.rate)
            self.player.seek(tab.view.playhead())
        self.player.forward()
        if not self.player.has_audio_device:
            self.stage_label.setText("Playing (no audio output device found: the music is not heard).")

    def _on_play_frame(self, frame: int) -> None:
        view = self.current_tab().view
        view.set_playhead(frame)
        self.current_tab().editor.refresh_position()

    def _on_playhead_dragged(self, frame: int) -> None:
        tab = self.current_tab()
        if self.player.path is not None and self.player.path == tab.preview.get(id(tab.cut_list)):
            self.player.seek(frame)
        tab.editor.refresh_position()

    def _refresh_buttons(self) -> None:
        if not hasattr(self, "actions_"):
            return
        busy = self.busy
        tab = self.current_tab()
        has_files, has_music = bool(self.files.count()), bool(self.music.text().strip())
        has_cut = tab.cut_list is not None
        enabled = {"analyse": has_files, "cut": has_files and has_music, "selects": has_files, "report": has_files,
                   "reroll": has_files and has_music and self.tabs["cut"].cut_list is not None,
                   "send": has_cut, "export": has_cut, "preview": has_cut}
        for key in TASK_ACTIONS:
            self.actions_[key].setEnabled(not busy and enabled[key])
        self.reroll_button.setEnabled(self.actions_["reroll"].isEnabled())
        editable = not busy and has_cut and tab.kind == "cut"
        selected = editable and tab.view.selected() is not None
        self.actions_["undo"].setEnabled(not busy and tab.history.can_undo())
        self.actions_["redo"].setEnabled(not busy and tab.history.can_redo())
        for key in ("exclude", "lock", "swap", "longer", "shorter"):
            self.actions_[key].setEnabled(selected)
        for key in ("play", "j", "k", "l"):
            self.actions_[key].setEnabled(has_cut)
        self.actions_["cancel"].setEnabled(busy and not self.task.is_cancelled())
        grid_actions.refresh(self)

    def edit_failed(self, what: str, exc: EditError) -> None:
        self.banner.show_info(f"<b>{what}:</b> {exc}")
        self.stage_label.setText(f"{what}: {exc}")

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.player.close()
        grid_actions.close(self)
        for task in (self.task, getattr(self, "_song_task", None), *getattr(self, "_moments", ())):
            if task is not None and task.isRunning():
                task.cancel()
                task.wait(10_000)
        logging.getLogger("montage_ai").removeHandler(self._log)
        self.settings.default_style = self.style.currentText()
        self.settings.save(self.store)
        super().closeEvent(event)


def use_raster_only() -> None:
    """Before the QApplication: on X11, no OpenGL. The panel paints with the raster engine
    only, and without OpenGL QtMultimedia turns each played frame into an image on the CPU
    (0.3 ms a 540p frame) instead of through OpenGL, which is software rendering on machines
    without a GPU driver (Xvfb, remote desktops: 23 ms a frame, holding the interpreter)."""
    os.environ.setdefault("QT_XCB_GL_INTEGRATION", "none")


def run_in_resolve(resolve: Any) -> int:
    """The panel inside Resolve's own Python (the Scripts menu launcher calls this with the
    ``resolve`` object Resolve injected)."""
    from montage_ai.resolve_plugin.direct import DirectClient

    return run_panel(resolve=DirectClient(resolve))


def run_panel(*, resolve: Any = None, route: Any = None) -> int:
    """Open the panel (creating the QApplication) and run until it is closed."""
    from PySide6.QtCore import Qt as _Qt

    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(_Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    use_raster_only()
    app = QApplication.instance() or QApplication([])
    app.setApplicationName("Montage AI")
    panel = MontagePanel(resolve=resolve, route=route)
    panel.show()
    return app.exec()

