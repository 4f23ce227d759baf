"""Training checkpoints and run files, written atomically and read without unpickling code.

`checkpoint.pt` holds only tensors and plain containers (dict/list/tuple/str/int/float/bool/None),
so `torch.load(path, weights_only=True)` reads it: model and optimizer state, the step counter
that drives the learning-rate schedule, every RNG state (python, numpy, torch, CUDA; one set per
DDP rank), epoch, best metric, early-stopping and weight-averaging state, and the TrainConfig.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ast_core.errors import AstStudioError
from ast_core.store import json_files
from ast_core.store.atomic import atomic_write, atomic_write_text

CHECKPOINT = "checkpoint.pt"
RUN_FILE = "run.json"
BEST_WEIGHTS = "best.safetensors"
MODEL_DIR = "model"


class CheckpointError(AstStudioError):
    """A run folder that cannot be resumed."""


def write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def read_json(path: Path) -> Any:
    return json_files.read_json(path, CheckpointError,
                                f"{path.parent}: nothing to resume (no {path.name})")


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_checkpoint(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise CheckpointError(f"{path.parent}: nothing to resume (no {path.name})")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # corrupt file, or a pickle that is not plain data
        raise CheckpointError(f"{path}: unreadable checkpoint ({type(e).__name__})") from None


def rng_state() -> dict[str, Any]:
    """This process's RNG states as tensors and plain values."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
