"""Where the app keeps its files, without importing torch (start-up must stay fast).

Mirrors `ast_core.model_store.data_dir` (same folder, same `AST_STUDIO_DATA_DIR` override);
`ast_core.model_store` imports torch at module level, so the GUI thread cannot use it early.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    env = os.environ.get("AST_STUDIO_DATA_DIR")
    return Path(env) if env else Path(platformdirs.user_data_dir("ast-studio", "ast-studio"))
