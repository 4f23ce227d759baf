"""The menus, shortcuts and toolbar are built from `app.gui.menus`' table, and every entry
calls the window method it names (without arguments)."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QToolBar

from app.gui.dialogs.model_picker import ModelPicker
from app.gui.main_window import MainWindow
from app.gui.menus import MENUS, SEPARATOR, TOOLBAR, Entry, Submenu
from app.gui.window_dialogs import WindowDialogs
from tests.support.gui_helpers import WAIT_MS, make_window


def _entries(items) -> list[Entry]:
    out: list[Entry] = []
    for item in items:
        if isinstance(item, Entry):
            out.append(item)
        elif isinstance(item, Submenu):
            out += _entries(item.items)
    return out


ENTRIES = [e for _, items in MENUS for e in _entries(items)]


def test_menus_shortcuts_and_toolbar_follow_the_table(qtbot):
    w = make_window(qtbot)
    menus = {a.text(): a.menu() for a in w.menuBar().actions()}
    assert list(menus) == [title for title, _ in MENUS]
    file_texts = [a.text() for a in menus["&File"].actions()]
    declared = [item.text if item != SEPARATOR else "" for item in dict(MENUS)["&File"]]
    assert file_texts == declared
    for e in ENTRIES:
        action = w.menu_actions[e.key]
        assert action.text() == e.text
        expected = QKeySequence(e.shortcut) if e.shortcut is not None else QKeySequence()
        assert action.shortcut() == expected, e.key
    assert w.menu_actions["live"].shortcut().toString() == "Ctrl+L"
    toolbar = w.findChild(QToolBar, "MainToolbar")
    assert toolbar.actions() == [w.menu_actions[key] for key in TOOLBAR]
    assert w.menu_actions["choose_model"].iconText() == "Model…"
    view = [a.text() for a in menus["&View"].actions()]
    assert view == ["Labels", "Attention", "Display", "Files", "Events"]  # one toggle per dock


def test_every_entry_calls_its_slot_without_arguments(qtbot, monkeypatch):
    calls: list[tuple[str, tuple]] = []
    for e in ENTRIES:  # replaced before the window is built, so the menus connect the spies
        owner = WindowDialogs if e.slot.startswith("dialogs.") else MainWindow
        monkeypatch.setattr(owner, e.slot.split(".")[-1],
                            lambda _self, *args, key=e.key: calls.append((key, args)))
    w = make_window(qtbot)
    for e in ENTRIES:
        w.menu_actions[e.key].trigger()
    assert calls == [(e.key, ()) for e in ENTRIES]


def test_import_a_model_file_opens_the_picker_and_asks_for_the_file(qtbot, monkeypatch):
    asked: list[str] = []

    def open_name(_parent, caption, *_args):
        asked.append(caption)
        return "", ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(open_name))
    w = make_window(qtbot)
    w.menu_actions["import_model"].trigger()
    assert asked == ["Import a model file"]
    pickers = [p for p in w.findChildren(ModelPicker) if p.isVisible()]
    assert len(pickers) == 1
    qtbot.waitUntil(lambda: "installed" in pickers[0].status.text(), timeout=WAIT_MS)
    pickers[0].reject()


def test_compute_menu_offers_every_precision_the_core_runs():
    from app.gui.menus import PRECISION_NAMES
    from ast_core.accel import PRECISIONS

    assert tuple(PRECISION_NAMES) == PRECISIONS
