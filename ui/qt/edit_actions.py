"""The panel's edits of the cut shown: each calls a pure function of
:mod:`montage_ai.core.cut.edits` and pushes the result on the tab's history (so Undo and Redo
cover every edit and every re-roll)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from montage_ai.core.cut import edits

if TYPE_CHECKING:  # pragma: no cover
    from montage_ai.ui.qt.panel import MontagePanel


def _selected(panel: "MontagePanel"):
    tab = panel.current_tab()
    index = tab.view.selected()
    if tab.cut_list is None or index is None or panel.busy or tab.kind != "cut":
        return tab, None
    return tab, index


def _after(panel: "MontagePanel", tab, cut_list, label: str, index: int | None = None) -> None:
    panel.player.stop()
    tab.push(cut_list, label)
    if index is not None:
        tab.view.select(index)
    panel._show_history()
    from montage_ai.ui.qt.jobs import summarise

    summarise(panel)
    panel.stage_label.setText(label + ".")
    panel._refresh_buttons()
    if index is not None:
        panel.show_moment(index)


def _name(cut) -> str:
    return f"{os.path.basename(cut.source_path)} shot {cut.shot_index}"


def exclude(panel: "MontagePanel") -> None:
    tab, index = _selected(panel)
    if index is None:
        return
    cut = tab.cut_list.cuts[index]
    if cut in tab.locked:
        panel.edit_failed("Exclude", edits.EditError("the cut is locked: unlock it first (Ctrl+K)"))
        return
    key = edits.shot_key(cut)
    try:
        new = edits.exclude(tab.cut_list, key, tab.analyses, excluded=panel.excluded)
    except edits.EditError as exc:
        panel.edit_failed("Exclude", exc)
        return
    panel.excluded.add(key)
    panel.save_excluded()
    _after(panel, tab, new, f"Excluded {_name(cut)} (for this project)", index)


def swap(panel: "MontagePanel") -> None:
    tab, index = _selected(panel)
    if index is None:
        return
    cut = tab.cut_list.cuts[index]
    if cut in tab.locked:
        panel.edit_failed("Swap", edits.EditError("the cut is locked: unlock it first (Ctrl+K)"))
        return
    try:
        new = edits.swap(tab.cut_list, index, tab.analyses, excluded=panel.excluded)
    except edits.EditError as exc:
        panel.edit_failed("Swap", exc)
        return
    _after(panel, tab, new, f"Swapped {_name(cut)} for {_name(new.cuts[index])}", index)


def trim(panel: "MontagePanel", beats: int) -> None:
    tab, index = _selected(panel)
    if index is None:
        return
    cl = tab.cut_list
    neighbours = {index, index + 1} if index < len(cl.cuts) - 1 else {index, index - 1}
    if any(cl.cuts[i] in tab.locked for i in neighbours if 0 <= i < len(cl.cuts)):
        panel.edit_failed("Trim", edits.EditError("a locked cut would move: unlock it first (Ctrl+K)"))
        return
    try:
        new = edits.trim(cl, index, beats, tab.analyses)
    except edits.EditError as exc:
        panel.edit_failed("Trim", exc)
        return
    word = "Lengthened" if beats > 0 else "Shortened"
    _after(panel, tab, new, f"{word} {_name(cl.cuts[index])} by {abs(beats)} beat", index)


def toggle_lock(panel: "MontagePanel") -> None:
    tab, index = _selected(panel)
    if index is None:
        return
    cut = tab.cut_list.cuts[index]
    if cut in tab.locked:
        tab.locked.discard(cut)
        panel.stage_label.setText(f"Unlocked {_name(cut)}.")
    else:
        tab.locked.add(cut)
        panel.stage_label.setText(f"Locked {_name(cut)}: it stays in place on Re-roll.")
    tab.show()
    from montage_ai.ui.qt.jobs import summarise

    summarise(panel)


def undo(panel: "MontagePanel") -> None:
    tab = panel.current_tab()
    if panel.busy or not tab.history.can_undo():
        return
    undone = tab.history.current
    tab.history.undo()
    _shown(panel, tab, f"Undid: {undone.label}")


def redo(panel: "MontagePanel") -> None:
    tab = panel.current_tab()
    if panel.busy or not tab.history.can_redo():
        return
    version = tab.history.redo()
    _shown(panel, tab, f"Redid: {version.label}")


def go_to(panel: "MontagePanel", index: int) -> None:
    tab = panel.current_tab()
    if panel.busy or not 0 <= index < len(tab.history.versions()) or index == tab.history.position:
        return
    version = tab.history.go_to(index)
    _shown(panel, tab, version.label[0].upper() + version.label[1:])


def _shown(panel: "MontagePanel", tab, text: str) -> None:
    panel.player.stop()
    tab.show()
    panel._show_history()
    from montage_ai.ui.qt.jobs import summarise

    summarise(panel)
    panel.stage_label.setText(text + ".")
    panel._refresh_buttons()
