"""The app's log file in the user data folder (Help → Open log shows it)."""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

from ast_core.store.model_store import data_dir

LOGGER_NAME = "ast_studio"
log = logging.getLogger(LOGGER_NAME)


def log_path() -> Path:
    return data_dir() / "logs" / "ast-studio.log"


def setup_logging(level: int = logging.INFO) -> Path:
    """Attach a rotating file handler to the app logger (once per log file); returns its path."""
    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    for handler in list(log.handlers):
        if isinstance(handler, RotatingFileHandler):
            if Path(handler.baseFilename) == path:
                return path
            log.removeHandler(handler)  # the data folder moved (tests): one log file at a time
            handler.close()
    handler = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    )
    log.addHandler(handler)
    log.setLevel(level)
    return path
