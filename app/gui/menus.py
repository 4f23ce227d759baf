"""Every menu, action, shortcut and toolbar entry of the main window, declared in one table.

`MENUS` lists the menus in order. An `Entry` names the window method its action calls (without
arguments); a `Choices` group is a set of exclusive, checkable entries that saves one setting
and calls the window's `slot(setting, value)`; a `Submenu` nests entries (an empty one is filled
by the window, as Open Recent is); `DOCKS` stands for one show/hide toggle per dock. `TOOLBAR`
names the entries on the toolbar, in order. `build_menus` creates all of it and returns the
actions and submenus by key; the window builds from it and connects nothing by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu

Key = QKeySequence.StandardKey


@dataclass(frozen=True)
class Entry:
    key: str  # the action's key in `build_menus`' result
    text: str
    slot: str  # the window method the action calls, without arguments ("a.b": window.a.b)
    shortcut: Key | str | None = None
    icon_text: str | None = None  # the toolbar's shorter text


@dataclass(frozen=True)
class Choices:
    setting: str  # the setting the checked entry mirrors; actions are keyed "setting:value"
    options: dict[str, str]  # value -> text
    slot: str  # the window method called with (setting, value)


@dataclass(frozen=True)
class Submenu:
    key: str
    text: str
    items: tuple[Item, ...] = ()  # empty: the window fills it


SEPARATOR = "-"
DOCKS = "docks"
Item = Entry | Choices | Submenu | str  # str: SEPARATOR or DOCKS

DEVICES = {
    "": "Best available device",
    "cpu": "CPU",
    "cuda": "NVIDIA GPU (CUDA)",
    "mps": "Apple GPU (MPS)",
}
PRECISION_NAMES = {  # one entry for each of ast_core.accel.PRECISIONS (a test checks)
    "auto": "Automatic precision (bf16 where the hardware has it, else fp32)",
    "fp32": "fp32 (exact)",
    "bf16": "bf16",
    "int8": "int8 linear layers (fastest on CPU; scores further from fp32)",
}

MENUS: tuple[tuple[str, tuple[Item, ...]], ...] = (
    ("&File", (
        Entry("open", "&Open…", "ask_open", Key.Open),
        Submenu("recent", "Open &Recent"),
        Entry("record", "&Record…", "dialogs.record", "Ctrl+R"),
        Entry("live", "&Live tagging…", "dialogs.live", "Ctrl+L", icon_text="Live"),
        Entry("batch", "&Batch classify a folder…", "dialogs.batch"),
        Entry("save_wav", "&Save as WAV…", "save_wav", Key.Save),
        SEPARATOR,
        Entry("quit", "&Quit", "close", Key.Quit),
    )),
    ("&Model", (
        Entry("choose_model", "&Choose, download or import…", "dialogs.choose_model",
              icon_text="Model…"),
        Entry("import_model", "&Import a model file…", "dialogs.import_model"),
        Entry("train", "&Train a model…", "dialogs.train"),
        Submenu("compute", "Co&mpute", (
            Choices("compute_device", DEVICES, "choose_compute"),
            SEPARATOR,
            Choices("precision", PRECISION_NAMES, "choose_compute"),
        )),
    )),
    ("&Play", (
        Entry("play", "&Play", "play", "Space"),
        Entry("stop", "&Stop", "stop_playback", "Esc"),
    )),
    ("&View", (DOCKS,)),
    ("&Help", (
        Entry("open_log", "Open &log file", "open_log"),
        Entry("about", "&About AST Studio", "about"),
    )),
)
TOOLBAR = ("open", "record", "live", "play", "stop", "choose_model")


def build_menus(window: QMainWindow, docks: Sequence[QDockWidget],
                setting: Callable[[str], Any]) -> dict[str, QAction | QMenu]:
    """Create `MENUS` in the menu bar and `TOOLBAR`; `setting(name)` says which choice is checked.

    Returns the actions (and submenus) by key; a slot `MENUS` names that `window` lacks raises
    AttributeError here, not when the user clicks."""
    out: dict[str, QAction | QMenu] = {}
    bar = window.menuBar()
    for title, items in MENUS:
        _add_items(bar.addMenu(title), items, window, docks, setting, out)
    tools = window.addToolBar("Main")
    tools.setObjectName("MainToolbar")
    for key in TOOLBAR:
        tools.addAction(out[key])
    return out


def _add_items(menu: QMenu, items: tuple[Item, ...], window: QMainWindow,
               docks: Sequence[QDockWidget], setting: Callable[[str], Any],
               out: dict[str, QAction | QMenu]) -> None:
    for item in items:
        if item == SEPARATOR:
            menu.addSeparator()
        elif item == DOCKS:
            for dock in docks:
                menu.addAction(dock.toggleViewAction())
        elif isinstance(item, Submenu):
            out[item.key] = sub = menu.addMenu(item.text)
            _add_items(sub, item.items, window, docks, setting, out)
        elif isinstance(item, Choices):
            _add_choices(menu, item, _slot(window, item.slot), setting(item.setting), out)
        else:
            out[item.key] = _add_entry(menu, item, _slot(window, item.slot))


def _slot(window: QMainWindow, name: str) -> Callable[..., Any]:
    target: Any = window
    for part in name.split("."):
        target = getattr(target, part)
    return target


def _add_entry(menu: QMenu, entry: Entry, slot: Callable[[], Any]) -> QAction:
    action = menu.addAction(entry.text)
    if entry.shortcut is not None:
        action.setShortcut(QKeySequence(entry.shortcut))
    if entry.icon_text:
        action.setIconText(entry.icon_text)
    action.triggered.connect(lambda _=False: slot())  # never pass `checked` on to the slot
    return action


def _add_choices(menu: QMenu, choices: Choices, slot: Callable[[str, str], Any], current: Any,
                 out: dict[str, QAction | QMenu]) -> None:
    group = QActionGroup(menu)
    for value, text in choices.options.items():
        action = menu.addAction(text)
        action.setCheckable(True)
        action.setChecked(value == current)
        action.triggered.connect(lambda _=False, v=value: slot(choices.setting, v))
        group.addAction(action)
        out[f"{choices.setting}:{value}"] = action
