"""JSON files of the model store and the trainer: read with a message fit for a user."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_json(path: Path, error: type[Exception], missing: str) -> Any:
    """The parsed file; `error(missing)` when it doesn't exist, `error(...)` naming the file when
    it can't be read or parsed."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(missing) from None
    except (OSError, ValueError) as e:
        raise error(f"{path}: unreadable ({e})") from None
