"""The panel's actions: one QAction each (its label, shortcut from
:data:`~montage_ai.ui.qt.layout.SHORTCUTS` and tooltip), shared by the toolbar, the menus, the
shortcuts and the playback buttons beside the rough cut's ruler. Slots never take Qt's
``checked``; what one raises reaches the editor through the panel's ``_run_action``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolBar, QToolButton

from montage_ai.ui.qt import grid_actions
from montage_ai.ui.qt.layout import SHORTCUTS

if TYPE_CHECKING:  # pragma: no cover
    from montage_ai.ui.qt.panel import MontagePanel

#: The beat-grid menu (None: a separator).
GRID_MENU = ("grid_half", "grid_double", "grid_two_thirds", "grid_three_halves", "grid_shift", None, "grid_downbeat",
             "grid_earlier", "grid_later", "grid_tap", None, "grid_undo", "grid_reset", None, "grid_clicks", "grid_whole")

MakeFn = Callable[..., QAction]


def install(panel: "MontagePanel") -> None:
    """Toolbar, menus and shortcuts of ``panel``: its ``actions_`` (by key), ``toolbar`` and
    ``menus`` (by title)."""
    panel.actions_: dict[str, QAction] = {}

    def make(key: str, label: str, slot, tip: str = "") -> QAction:
        action = QAction(label, panel)
        action.setShortcut(QKeySequence(SHORTCUTS[key]))
        action.setShortcutContext(Qt.WindowShortcut)
        action.setToolTip(f"{tip or label} ({SHORTCUTS[key]})")
        action.triggered.connect(lambda _checked=False: panel._run_action(label, slot))
        panel.addAction(action)  # the shortcut works with the menus hidden too
        panel.actions_[key] = action
        return action

    _make_actions(panel, make)
    grid_actions.install(panel, make)
    _toolbar(panel)
    _menus(panel)
    _ruler_buttons(panel)


def _make_actions(panel: "MontagePanel", make: MakeFn) -> None:
    """The cut's, the edits' and playback's actions (the grid's are :func:`grid_actions.install`'s)."""
    make("analyse", "Analyse", panel.analyse)
    make("cut", "Rough Cut", panel.rough_cut)
    make("reroll", "Re-roll", panel.reroll, "Another cut with the same story arc; locked cuts stay")
    make("selects", "Selects", panel.selects)
    make("send", "Send to Resolve", panel.send_to_resolve)
    make("export", "Export…", panel.export)
    make("preview", "Preview", panel.preview, "Render the cut with the music and play it")
    make("report", "Shot report…", panel.report)
    make("cancel", "Cancel", panel.cancel, "Stop the running step")
    make("settings", "Settings…", panel.edit_settings)
    make("undo", "Undo", panel.undo)
    make("redo", "Redo", panel.redo)
    make("exclude", "Exclude shot", panel.exclude_selected, "Never use the selected cut's shot in this project")
    make("lock", "Lock cut", panel.toggle_lock, "Keep the selected cut in place on Re-roll")
    make("swap", "Swap shot", panel.swap_selected, "Replace the selected cut with the next-best shot")
    make("longer", "Lengthen by a beat", lambda: panel.trim_selected(1))
    make("shorter", "Shorten by a beat", lambda: panel.trim_selected(-1))
    make("play", "Play / Pause", panel.play_pause)
    make("j", "Play backwards", panel.player.backward)
    make("k", "Stop", panel.player.pause)
    make("l", "Play forwards", panel.play_forward)
    make("zoom_in", "Zoom in", lambda: panel.current_tab().view.zoom_by(1.5))
    make("zoom_out", "Zoom out", lambda: panel.current_tab().view.zoom_by(1 / 1.5))
    make("fit", "Fit the cut", lambda: panel.current_tab().view.fit())
    panel.actions_["zoom_in"].setShortcuts([QKeySequence("+"), QKeySequence("=")])


def _toolbar(panel: "MontagePanel") -> None:
    bar = QToolBar("Actions")
    bar.setObjectName("actions")
    bar.setMovable(False)
    panel.addToolBar(Qt.TopToolBarArea, bar)
    for key in ("analyse", "cut", "selects", "send", "export", "preview", "report", "cancel"):
        bar.addAction(panel.actions_[key])
    bar.addSeparator()
    for key in ("undo", "redo", "exclude", "lock", "swap", "shorter", "longer"):
        bar.addAction(panel.actions_[key])
    bar.addSeparator()
    bar.addAction(panel.actions_["settings"])
    panel.toolbar = bar


def _menus(panel: "MontagePanel") -> None:
    menus = panel.menuBar()
    file_menu = menus.addMenu("&File")
    for label, slot in (("Add folder…", panel._add_folder), ("Add files…", panel._add_files),
                        ("Choose music…", panel._choose_music)):
        file_menu.addAction(label).triggered.connect(lambda _c=False, s=slot: s())
    file_menu.addSeparator()
    for key in ("export", "report", "send"):
        file_menu.addAction(panel.actions_[key])
    file_menu.addSeparator()
    file_menu.addAction(panel.actions_["settings"])
    file_menu.addAction("Close").triggered.connect(lambda _c=False: panel.close())
    for title, keys in (("&Cut", ("analyse", "cut", "reroll", "selects", "preview", "cancel")),
                        ("&Edit", ("undo", "redo", None, "exclude", "lock", "swap", "shorter", "longer")),
                        ("&View", ("play", "j", "k", "l", None, "zoom_in", "zoom_out", "fit")),
                        ("Beat &grid", GRID_MENU)):
        menu = menus.addMenu(title)
        for key in keys:
            menu.addSeparator() if key is None else menu.addAction(panel.actions_[key])
    panel.menus = {m.title().replace("&", ""): m for m in menus.findChildren(type(file_menu))}


def _ruler_buttons(panel: "MontagePanel") -> None:
    """The playback buttons beside each cut tab's ruler."""
    for tab in panel.tabs.values():
        for key, text in (("j", "◀◀"), ("play", "▶ / ❚❚"), ("l", "▶▶")):
            button = QToolButton()
            button.setDefaultAction(QAction(text, button, toolTip=panel.actions_[key].toolTip()))
            button.defaultAction().triggered.connect(lambda _c=False, a=panel.actions_[key]: a.trigger())
            tab.editor.extra.addWidget(button)
