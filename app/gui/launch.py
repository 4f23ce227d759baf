"""Start the desktop app: `run_gui(files)` creates the QApplication, shows the window, opens files.

The window appears before torch is imported; the model loads in a worker ("loading model…").
"""

from __future__ import annotations

import sys

from app.gui.log import log, setup_logging


def run_gui(files: list[str] | None = None) -> int:
    """Open the main window (and `files`, if any); returns the exit code of the event loop."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.gui.main_window import MainWindow

    setup_logging()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("AST Studio")
    app.setOrganizationName("ast-studio")
    window = MainWindow()
    window.show()
    log.info("window shown")
    if files:
        QTimer.singleShot(0, lambda: window.open_files(list(files)))
    return app.exec()
