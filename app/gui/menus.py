"""Menus and the toolbar of the main window; every action calls one window method."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QKeySequence

from app.gui.compute_menu import add_compute_menu

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow


def build_menus(w: MainWindow) -> dict[str, Any]:
    """Create the menu bar and toolbar; returns the actions and menus tests and code refer to."""
    bar = w.menuBar()
    out: dict[str, Any] = {}
    file = bar.addMenu("&File")
    out["open"] = file.addAction("&Open…", QKeySequence.StandardKey.Open, w.ask_open)
    out["recent"] = file.addMenu("Open &Recent")
    out["record"] = file.addAction("&Record…", QKeySequence("Ctrl+R"), w.record)
    out["save_wav"] = file.addAction("&Save as WAV…", QKeySequence.StandardKey.Save, w.save_wav)
    file.addSeparator()
    out["quit"] = file.addAction("&Quit", QKeySequence.StandardKey.Quit, w.close)

    model = bar.addMenu("&Model")
    out["choose_model"] = model.addAction("&Choose, download or import…", w.choose_model)
    out["import_model"] = model.addAction("&Import a model file…",
                                          lambda: w.choose_model(import_file=True))
    out["train"] = model.addAction("&Train a model…", w.open_train_dialog)
    out.update(add_compute_menu(w, model))

    play = bar.addMenu("&Play")
    out["play"] = play.addAction("&Play", QKeySequence("Space"), w.play)
    out["stop"] = play.addAction("&Stop", QKeySequence("Esc"), w.player.stop)

    view = bar.addMenu("&View")
    for dock in w.docks:
        view.addAction(dock.toggleViewAction())

    help_menu = bar.addMenu("&Help")
    out["open_log"] = help_menu.addAction("Open &log file", w.open_log)
    out["about"] = help_menu.addAction("&About AST Studio", w.about)

    tools = w.addToolBar("Main")
    tools.setObjectName("MainToolbar")
    for key in ("open", "record", "play", "stop", "choose_model"):
        tools.addAction(out[key])
    out["choose_model"].setIconText("Model…")
    return out
