"""Which torch device runs the model: the one place that chooses it (app, CLI and trainer)."""

from __future__ import annotations

import torch


def pick_device(preference: str | None = None, local_rank: int | None = None) -> torch.device:
    """`preference` ("cpu", "cuda", "cuda:1", "mps") or, for None, the best available.

    `local_rank` is given by a process of a multi-process (DDP) run: a bare "cuda" becomes that
    process's GPU, and MPS is never chosen on its own (it has no process-group backend).
    """
    if preference:
        device = torch.device(preference)
        if device.type == "cuda" and device.index is None and local_rank is not None:
            device = torch.device("cuda", local_rank)
        return device
    if torch.cuda.is_available():
        return torch.device("cuda") if local_rank is None else torch.device("cuda", local_rank)
    if torch.backends.mps.is_available() and local_rank is None:
        return torch.device("mps")
    return torch.device("cpu")
