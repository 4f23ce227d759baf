"""`load_classifier`: the one way the window, `classify`, `listen` and live mode load a model.

Imports nothing heavy at module level: torch and the model code are imported inside the call
(under `heavy_imports`), so a caller can import this module before showing anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ast_core.run.classifier import Classifier


def load_classifier(
    model: str | Path | None,
    device: str | None = None,
    precision: str = "auto",
    window_s: float | None = None,
) -> Classifier:
    """A `Classifier` for a model folder, installed name or cached hub id (None: the default).

    `device`: "cpu", "cuda", "mps" or None for the best available; `precision`: auto, fp32,
    bf16 or int8 (see `Classifier`). `window_s` shorter than the model's window crops the model
    input to that window (live tagging): the position embedding is cropped as AST does for
    shorter inputs, so each analysis costs the window rather than the model's full input.
    Raises `ModelError` with a message fit for a user when there is no model or it can't load.
    """
    from ast_core.accel.heavy_imports import heavy_imports
    from ast_core.errors import ModelError
    from ast_core.store.model_store import default_model, no_model_message, resolve

    with heavy_imports():
        from ast_core.model.checkpoints import load_model
        from ast_core.run.classifier import Classifier

    device = _checked_device(device, precision)
    source = model or default_model()
    if source is None:
        raise ModelError(no_model_message())
    path = resolve(source)
    loaded = load_model(path)
    if window_s is not None:
        fb = loaded.fbank
        shift = int(fb.sample_rate * fb.frame_shift_ms / 1000)
        length = int(fb.sample_rate * fb.frame_length_ms / 1000)
        frames = (round(window_s * fb.sample_rate) - length) // shift + 1
        if frames < fb.target_length:
            loaded = load_model(path, target_length=max(16, frames))
    return Classifier(loaded, device, precision)


def _checked_device(device: str | None, precision: str) -> str | None:
    """`device` if this machine has it and `precision` runs there, else a `ModelError` that says
    what to choose instead (never torch's own RuntimeError). int8 without a device runs on the CPU.
    """
    import torch

    from ast_core.accel import PRECISIONS
    from ast_core.errors import ModelError

    if precision not in PRECISIONS:
        raise ModelError(f"precision {precision!r} is not one of {', '.join(PRECISIONS)}")
    if not device:
        return "cpu" if precision == "int8" else None
    try:
        kind = torch.device(device).type
    except RuntimeError:
        raise ModelError(f"unknown device {device!r}: choose cpu, cuda or mps") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise ModelError("no CUDA GPU is usable here (no NVIDIA GPU or driver): choose the CPU")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise ModelError("Apple's MPS is not available on this machine: choose the CPU")
    if kind not in ("cpu", "cuda", "mps"):
        raise ModelError(f"device {device!r} is not supported: choose cpu, cuda or mps")
    if precision == "int8" and kind != "cpu":
        raise ModelError(f"int8 precision runs on the CPU only, not on {kind}")
    return device
