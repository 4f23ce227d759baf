"""Model > Compute: which device runs the model and at what precision (saved in settings).

Choosing another entry reloads the current model in a worker, as choosing a model does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow

DEVICES = {
    "": "Best available device",
    "cpu": "CPU",
    "cuda": "NVIDIA GPU (CUDA)",
    "mps": "Apple GPU (MPS)",
}
PRECISIONS = {
    "auto": "Automatic precision (bf16 where the hardware has it, else fp32)",
    "fp32": "fp32 (exact)",
    "bf16": "bf16",
    "int8": "int8 linear layers (fastest on CPU; scores further from fp32)",
}


def add_compute_menu(w: MainWindow, parent: QMenu) -> dict[str, QAction]:
    """Two exclusive groups under `parent`; returns the actions keyed `device:…`/`precision:…`."""
    menu = parent.addMenu("Co&mpute")
    actions: dict[str, QAction] = {}
    for key, names in (("compute_device", DEVICES), ("precision", PRECISIONS)):
        group = QActionGroup(menu)
        current = w.settings.get(key)
        for value, text in names.items():
            action = menu.addAction(text)
            action.setCheckable(True)
            action.setChecked(value == current)
            action.triggered.connect(lambda _=False, k=key, v=value: _choose(w, k, v))
            group.addAction(action)
            actions[f"{key}:{value}"] = action
        menu.addSeparator()
    return actions


def _choose(w: MainWindow, key: str, value: str) -> None:
    if w.settings.get(key) == value:
        return
    w.settings.set(key, value)
    w.session.compute_device = w.settings.get("compute_device")
    w.session.precision = w.settings.get("precision")
    if w.model_path:
        w.load_model(w.model_path)
