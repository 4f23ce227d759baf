"""User preferences in one INI file beside the user's models; every default lives in `_DEFAULTS`.

The file is `data_dir()/settings.ini`, so `AST_STUDIO_DATA_DIR` (tests) redirects it too. Model
and feature parameters never live here: they travel inside the model folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from ast_core.store.model_store import data_dir

MAX_RECENT = 10

_DEFAULTS: dict[str, Any] = {
    "last_folder": str(Path.home()),
    "recent_files": [],
    "model": "",  # model folder path or hub id; "" = the store's default model
    "compute_device": "",  # "" = best available, or "cpu" / "cuda" / "mps"
    "precision": "auto",  # auto / fp32 / bf16 / int8 (see ast_core.run.classifier)
    "input_device": "",  # sounddevice input device name; "" = system default
    "top_k": 5,
    "threshold": 0.0,
    "colormap": "viridis",
    "db_low": -70.0,
    "db_high": 30.0,
    "attention_visible": True,
    "attention_opacity": 0.7,
    "geometry": QByteArray(),
    "window_state": QByteArray(),
}


def settings_path() -> Path:
    return data_dir() / "settings.ini"


class Settings:
    """Typed access to the INI file: `get` returns the default's type, `set` writes through."""

    def __init__(self, path: str | Path | None = None):
        self._q = QSettings(str(path or settings_path()), QSettings.Format.IniFormat)

    def get(self, key: str) -> Any:
        default = _DEFAULTS[key]
        value = self._q.value(key, default)
        if value is None:
            return default
        try:
            if isinstance(default, bool):
                return value if isinstance(value, bool) else str(value).lower() == "true"
            if isinstance(default, int):
                return int(value)
            if isinstance(default, float):
                return float(value)
            if isinstance(default, list):
                return [str(v) for v in value] if isinstance(value, list) else [str(value)]
            if isinstance(default, QByteArray):
                return value if isinstance(value, QByteArray) else default
            return str(value)
        except (TypeError, ValueError):
            return default

    def set(self, key: str, value: Any) -> None:
        if key not in _DEFAULTS:
            raise KeyError(f"unknown setting {key!r}")
        self._q.setValue(key, value)

    def add_recent(self, path: str) -> list[str]:
        """Put `path` first in the recent-files list (no duplicates, at most MAX_RECENT)."""
        recent = [p for p in self.get("recent_files") if p != path]
        recent = [path, *recent][:MAX_RECENT]
        self.set("recent_files", recent)
        return recent

    def sync(self) -> None:
        self._q.sync()
