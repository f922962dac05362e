"""The panel's long actions, each a :class:`~.tasks.Task` started by the panel: analyse,
rough cut (and re-roll), selects, shot report, preview, export, send to Resolve, and the
frame the viewer shows. Each takes what it needs from the panel on the GUI thread before the
task starts, so the work never touches a widget."""

from __future__ import annotations

import html
import logging
import os
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QImage
from PySide6.QtWidgets import QFileDialog, QTableWidgetItem
from shiboken6 import isValid

from montage_ai.core.base.timebase import frames_to_timecode
from montage_ai.core.cut import edits
from montage_ai.ui.qt.tasks import Task

if TYPE_CHECKING:  # pragma: no cover
    from montage_ai.ui.qt.panel import MontagePanel

log = logging.getLogger(__name__)

EXPORT_FILTERS = {
    "FCPXML for Resolve / Final Cut (*.fcpxml)": "fcpxml",
    "Premiere / FCP7 XML (*.xml)": "premiere",
    "CMX 3600 EDL, video track 1 (*.edl)": "edl",
    "OpenTimelineIO (*.otio)": "otio",
    "OpenTimelineIO bundle with media (*.otioz)": "otioz",
}


def _thumbs(analyses) -> dict:
    return {(a.path, s.index): s.thumbnail for a in analyses for s in a.shots if s.thumbnail}


def analyse(panel: "MontagePanel") -> Task | None:
    from montage_ai.core.workflows import AnalysisJob, run_analysis

    files = panel.footage()
    if not files or panel.busy:
        return None
    panel.bad.clear()
    panel.clip_table.setRowCount(len(files))
    for row, path in enumerate(files):
        panel.clip_table.setItem(row, 0, QTableWidgetItem(os.path.basename(path)))
        panel.clip_table.setItem(row, 1, QTableWidgetItem("waiting"))
    job = AnalysisJob(work=panel.work_options())

    def work(task: Task):
        return run_analysis(files, job, clip_progress=task.report_clip, cancel=task.is_cancelled).report

    task = Task(work, "analyse")
    task.done.connect(lambda report: _analysed(panel, report))
    return panel._start(task, f"Analysing {len(files)} clips…")


def _analysed(panel: "MontagePanel", report) -> None:
    panel.analysed = {a.path: a for a in report.analyses}
    for row in range(panel.clip_table.rowCount()):
        panel.clip_table.item(row, 1).setText("done")
    show_failures(panel, report.failures)
    panel.stage_label.setText(f"Analysed {len(report.analyses)} clips"
                              + (f"; {len(report.failures)} cannot be used" if report.failures else "") + ".")
    panel.total.setValue(100)


def show_failures(panel: "MontagePanel", failures) -> None:
    rows = {panel.clip_table.item(r, 0).text(): r for r in range(panel.clip_table.rowCount())}
    from montage_ai.core.base import stages
    from montage_ai.core.base.types import Failure

    for path, reason in failures:
        name = os.path.basename(path)
        text = Failure(path, stages.FOOTAGE, reason).short()
        if not any(panel.bad.item(i).text() == text for i in range(panel.bad.count())):
            panel.bad.addItem(text)
            panel.bad.item(panel.bad.count() - 1).setToolTip(path)
        if name in rows:
            panel.clip_table.item(rows[name], 1).setText("skipped")


def rough_cut(panel: "MontagePanel", *, reroll: bool = False) -> Task | None:
    from montage_ai.core.base.errors import MontageError
    from montage_ai.core.media.probe import probe
    from montage_ai.core.workflows import RoughCutJob, run_rough_cut
    from montage_ai.ui.qt.timeline_view import waveform_envelope

    files, music = panel.footage(), panel.music.text().strip()
    if not files or not music or panel.busy:
        if not music:
            panel.stage_label.setText("Choose the music first.")
        return None
    job = RoughCutJob(panel.options(), panel.work_options())
    excluded = set(panel.excluded)
    locked = set(panel.tabs["cut"].locked) if reroll else set()

    def work(task: Task):
        result = run_rough_cut(files, music, job, progress=task.report_stage, cancel=task.is_cancelled)
        cut_list, notes = result.cut_list, []
        for key in sorted(excluded & {edits.shot_key(c) for c in cut_list.cuts}):
            try:
                cut_list = edits.exclude(cut_list, key, result.analyses, excluded=excluded)
            except edits.EditError as exc:
                notes.append(str(exc))
        if locked:
            cut_list = edits.keep_locked(cut_list, locked)
        cl = cut_list
        try:  # the timeline of an edited cut needs the music's probe: made here, off the GUI thread
            music_info = {result.cut_list.music_path: probe(result.cut_list.music_path)}
        except MontageError as exc:
            log.info("cannot probe the music %s: %s", os.path.basename(music), exc)
            music_info = {}
        try:
            wave = waveform_envelope(music, duration_s=float(cl.music_duration / cl.rate))
        except Exception as exc:  # noqa: BLE001 - the waveform is decoration; a video file as music has none
            log.info("no waveform for %s: %s", os.path.basename(music), exc)
            wave = None
        return result, cut_list, _thumbs(result.analyses), wave, notes, music_info

    task = Task(work, "rough cut")
    task.done.connect(lambda payload: _cut_done(panel, payload, reroll))
    return panel._start(task, "Re-rolling…" if reroll else "Cutting…")


def _cut_done(panel: "MontagePanel", payload, reroll: bool) -> None:
    result, cut_list, thumbs, wave, notes, music_info = payload
    tab = panel.tabs["cut"]
    tab.extra_media = music_info
    tab.analyses, tab.music, tab.plan, tab.style, tab.failures = (result.analyses, result.music, result.plan,
                                                                  result.style, result.failures)
    tab.thumbs, tab.wave = thumbs, wave
    tab.locked = {c for c in cut_list.cuts if c in tab.locked} if reroll else set()
    panel.analysed = {a.path: a for a in result.analyses}
    label = (f"{'Re-roll' if reroll else 'Rough cut'} · {result.style.name} · seed {cut_list.seed} · "
             f"{result.plan.planner} planner")
    tab.push(cut_list, label, fresh=not reroll, timeline=result.timeline if cut_list is result.cut_list else None)
    panel.cut_tabs.setCurrentIndex(0)
    panel._show_history()
    show_failures(panel, result.failures)
    for note in notes:
        log.warning("%s", note)
    summarise(panel)
    panel.stage_label.setText(f"Rough cut ready: {len(cut_list.cuts)} cuts.")
    panel.total.setValue(100)


def summarise(panel: "MontagePanel") -> None:
    tab = panel.tabs["cut"]
    cl = tab.cut_list
    if cl is None:
        return
    notes = "".join(f"<br>note: {n}" for n in cl.metadata.get("notes", ()))
    planner = tab.plan.planner if tab.plan is not None else ""
    panel.summary.setText(
        f"<b>{cl.name}</b>: {len(cl.cuts)} cuts, {float(cl.duration / cl.rate):.2f} s at "
        f"{cl.rate.numerator}/{cl.rate.denominator} fps, style {cl.style}, seed {cl.seed}, planner {planner}; "
        f"{len(tab.locked)} locked, {len(panel.excluded)} shots excluded{notes}")


def selects(panel: "MontagePanel") -> Task | None:
    """A stringout of the best moments of every clip, in its own tab."""
    from montage_ai.core import defaults
    from montage_ai.core.workflows import SelectsJob, SelectsOptions, run_selects

    files = panel.footage()
    if not files or panel.busy:
        return None
    name = f"{panel.pool.bin_name()} Selects" if panel.pool is not None and panel.pool.bin_name() else "Selects"
    options = SelectsOptions(per_clip=defaults.SELECTS_PER_CLIP, min_score=defaults.SELECTS_MIN_SCORE,
                             piece_s=defaults.SELECTS_PIECE_S, seed=panel.seed.value(), group=defaults.SELECTS_GROUP)
    job = SelectsJob(options, name=name, work=panel.work_options())

    def work(task: Task):
        result = run_selects(files, job, progress=task.report_stage, cancel=task.is_cancelled)
        return result, result.cut_list, _thumbs(result.analyses)

    task = Task(work, "selects")
    task.done.connect(lambda payload: _selects_done(panel, payload))
    return panel._start(task, "Choosing the selects…")


def _selects_done(panel: "MontagePanel", payload) -> None:
    result, cut_list, thumbs = payload
    tab = panel.tabs["selects"]
    tab.analyses, tab.thumbs, tab.failures = list(result.analyses), thumbs, list(result.failures)
    tab.push(cut_list, f"Selects · seed {panel.seed.value()}", fresh=True, timeline=result.timeline)
    panel.cut_tabs.setTabEnabled(1, True)
    panel.cut_tabs.setCurrentIndex(1)
    show_failures(panel, result.failures)
    for rejection in result.selects.rejections:
        log.info("left out %s shot %d: %s", os.path.basename(rejection.path), rejection.shot_index, rejection.reason)
    panel.stage_label.setText(f"Selects ready: {len(cut_list.cuts)} pieces, "
                              f"{float(cut_list.duration / cut_list.rate):.1f} s; {len(result.selects.rejections)} "
                              "shots left out (the Log tab says why).")
    panel.total.setValue(100)


def report(panel: "MontagePanel", path: str | None) -> Task | None:
    """The shot report (HTML with the thumbnails, and a CSV beside it) of the footage."""
    files = panel.footage()
    if not files or panel.busy:
        return None
    if path is None:
        base = os.path.join(panel.settings.export_folder or panel.settings.last_folder or os.path.expanduser("~"),
                            "shot report.html")
        path, _ = QFileDialog.getSaveFileName(panel, "Shot report", base, "Web page (*.html)")
        if not path:
            return None
    from montage_ai.core.workflows import ReportJob, run_shot_report

    # The save dialog has already asked whether to replace the page.
    job = ReportJob(music=panel.music.text().strip() or None, overwrite=True, work=panel.work_options())

    def work(task: Task):
        result = run_shot_report(files, path, job, progress=task.report_stage, clip_progress=task.report_clip,
                                 cancel=task.is_cancelled)
        return result.html, result.csv

    task = Task(work, "report")
    task.done.connect(lambda paths: _report_done(panel, paths))
    return panel._start(task, "Writing the shot report…")


def _report_done(panel: "MontagePanel", paths) -> None:
    html_path, csv_path = paths
    panel.last_report = str(html_path)
    opened = panel._open_files and QDesktopServices.openUrl(QUrl.fromLocalFile(str(html_path)))
    panel.stage_label.setText(f"Shot report written: {html_path} (and {csv_path.name})"
                              + ("" if opened else "; open it in a web browser."))


def preview_path(panel: "MontagePanel", cut_list) -> str:
    """Next to the exports (or the footage folder): a name no file has yet."""
    folder = panel.settings.export_folder or panel.settings.last_folder
    if not folder or not os.path.isdir(folder):
        folder = os.path.dirname(panel.footage()[0]) if panel.footage() else os.path.expanduser("~")
    stem = f"{cut_list.name} seed {cut_list.seed} preview"
    path, n = os.path.join(folder, stem + ".mp4"), 2
    while os.path.exists(path):
        path, n = os.path.join(folder, f"{stem} {n}.mp4"), n + 1
    return path


def preview(panel: "MontagePanel", *, play: bool = True) -> Task | None:
    from montage_ai.core.workflows import PreviewJob, run_preview

    shown, tab = panel.result, panel.current_tab()
    if shown is None or panel.busy:
        return None
    cl = shown.cut_list
    out = preview_path(panel, cl)
    # ``out`` is a name no file had: nothing of the editor's is replaced.
    job = PreviewJob(height=540, overwrite=False)

    def work(task: Task):
        return str(run_preview(shown, out, job, progress=task.report_stage, cancel=task.is_cancelled))

    task = Task(work, "preview")
    task.done.connect(lambda path: _preview_done(panel, tab, cl, path, play))
    return panel._start(task, "Rendering the preview…")


def _preview_done(panel: "MontagePanel", tab, cut_list, path: str, play: bool) -> None:
    panel.last_preview = str(path)
    tab.preview[id(cut_list)] = str(path)
    panel.stage_label.setText(f"Preview written to {path}")
    panel.banner.show_info(f"Preview written to <code>{path}</code>; it plays below (Space, J/K/L).")
    if play and tab is panel.current_tab() and tab.cut_list is cut_list:
        panel.player.load(str(path), cut_list.rate)
        panel.player.seek(0)
        panel.player.forward()


def export(panel: "MontagePanel", path: str | None, fmt: str | None) -> Task | None:
    """Export the cut shown; without ``path`` a save dialog asks for it (the filter picks the format)."""
    from montage_ai.core.workflows import ExportJob, MontageError, run_export
    from montage_ai.otio_adapters.export import FORMATS

    shown = panel.result
    if shown is None or panel.busy:
        return None
    if path is None:
        folder = panel.settings.export_folder or panel.settings.last_folder or os.path.expanduser("~")
        path, chosen = QFileDialog.getSaveFileName(panel, "Export the cut", os.path.join(folder, shown.cut_list.name),
                                                   ";;".join(EXPORT_FILTERS))
        if not path:
            return None
        fmt = EXPORT_FILTERS.get(chosen)
    path = str(path)
    if fmt is None:
        fmt = next((f.name for f in FORMATS.values() if path.lower().endswith(f.suffix)), "otio")
    if not path.lower().endswith(FORMATS[fmt].suffix):
        path += FORMATS[fmt].suffix
    panel.settings.export_folder = os.path.dirname(os.path.abspath(path))
    timeline = shown.timeline
    # The save dialog has already asked the editor whether to replace an existing file.
    job = ExportJob(formats=(fmt,), overwrite=True)

    def work(task: Task):
        written = run_export(timeline, path, job, paths={fmt: path}, cancel=task.is_cancelled)
        if written.failures:
            raise MontageError(str(written.failures[0]))
        return written.written[fmt], written.incomplete

    task = Task(work, "export")
    task.done.connect(lambda done: _exported(panel, *done))
    return panel._start(task, f"Exporting {os.path.basename(path)}…")


def _exported(panel: "MontagePanel", written, incomplete=()) -> None:
    """The file written; a clip its format cannot carry (left out, a gap in its place) is said
    in the banner, one line per clip, and in the status line."""
    panel.last_export = str(written)
    if not incomplete:
        panel.stage_label.setText(f"Exported {written}")
        return
    n = len(incomplete)
    panel.stage_label.setText(f"Exported {written} without {n} clip{'s' if n > 1 else ''} its format cannot carry")
    lines = "<br>".join(html.escape(f.short()) for f in incomplete)
    panel.banner.show_info(f"<b>{html.escape(os.path.basename(str(written)))} is missing {n} "
                           f"clip{'s' if n > 1 else ''}:</b><br>{lines}")


def send_to_resolve(panel: "MontagePanel") -> Task | None:
    """Push the cut into Resolve as a new timeline with markers; the read-back is reported.
    Without a live route, write FCP7 XML and FCPXML and show how to import them."""
    if panel.result is None or panel.busy:
        return None
    if panel.resolve is None:
        from montage_ai.ui.qt.resolve_panel import write_file_route

        folder = panel.file_route_folder or _ask_file_route_folder(panel)
        if not folder:
            return None
        task = write_file_route(panel, folder)
        task.done.connect(lambda written: _file_route_done(panel, written))
        return panel._start(task, "Writing the cut for File > Import > Timeline…")
    from montage_ai.ui.qt.resolve_panel import push

    task = push(panel, panel.resolve)
    task.done.connect(lambda report: _pushed(panel, report))
    return panel._start(task, "Sending the cut to Resolve…")


def _ask_file_route_folder(panel: "MontagePanel") -> str:
    from PySide6.QtCore import QStandardPaths

    start = panel.settings.last_folder or QStandardPaths.writableLocation(QStandardPaths.MoviesLocation)
    return QFileDialog.getExistingDirectory(panel, "Where to write the timeline files for Resolve", start)


def _file_route_done(panel: "MontagePanel", written) -> None:
    panel.last_file_route = written
    panel.stage_label.setText(f"Written for Resolve: {written.xml.name} and {written.fcpxml.name}")
    panel.summary.setText(panel.summary.text() + "<br><b>To bring it into Resolve:</b><br>"
                          + written.text().replace("\n", "<br>"))
    log.info("To bring the cut into Resolve: %s", written.text().replace("\n", " "))


def _pushed(panel: "MontagePanel", report) -> None:
    from montage_ai.ui.qt.resolve_panel import describe_push

    panel.last_push = report
    text = describe_push(report)
    panel.stage_label.setText(text.splitlines()[0])
    panel.summary.setText(panel.summary.text() + "<br>" + text.replace("\n", "<br>"))
    (log.info if report.ok else log.warning)("%s", text)


def show_moment(panel: "MontagePanel", index: int) -> Task | None:
    """Show the first frame cut ``index`` uses, whole, at its display aspect (ffmpeg applies
    the rotation and the pixel aspect), with its clip name, source timecode and score."""
    tab = panel.current_tab()
    cl = tab.cut_list
    panel._refresh_buttons()
    if cl is None:
        return None
    cut = cl.cuts[index]
    seconds = float(cut.source_in / cut.source_rate)
    caption = (f"{os.path.basename(cut.source_path)} · shot {cut.shot_index} · "
               f"source {frames_to_timecode(cut.source_in, cut.source_rate)} · score {cut.score:.2f}"
               f"{' · locked' if cut in tab.locked else ''}")
    if not panel.player.speed:
        tab.view.set_playhead(cut.record_in)
        tab.editor.refresh_position()

    def work(task: Task):
        import subprocess

        proc = subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-ss", f"{seconds:.6f}", "-i", cut.source_path, "-frames:v", "1",
             "-vf", "scale=trunc(ih*dar/2)*2:ih,setsar=1,scale=-2:'min(480,ih)'", "-f", "image2pipe", "-c:v", "png",
             "-"], capture_output=True, timeout=30)
        if proc.returncode != 0 or not proc.stdout:
            lines = proc.stderr.decode(errors="replace").strip().splitlines()
            raise RuntimeError(f"{os.path.basename(cut.source_path)}: ffmpeg cannot decode that frame: "
                               + (lines[-1] if lines else "no picture"))
        return QImage.fromData(proc.stdout, "PNG")

    task = Task(work, "moment")
    viewer = panel.viewer
    task.done.connect(lambda image: isValid(viewer) and viewer.set_image(image, caption))
    task.failed.connect(lambda reason: isValid(viewer) and viewer.set_image(None, f"Cannot show it: {reason}"))
    panel._moment = task  # does not block the other actions
    panel._moments = [t for t in getattr(panel, "_moments", []) if t.isRunning()] + [task]
    panel._moment_started = time.monotonic()
    task.start()
    return task
