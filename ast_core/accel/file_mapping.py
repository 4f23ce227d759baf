"""Letting go of a weights file: safetensors loads every tensor as a view of one mapping of
the whole file, so a model that replaces its big weights (packed, quantised) must give the
tensors it keeps their own memory, or they keep the whole file mapped and resident."""

from __future__ import annotations

import torch
from torch import nn


def copy_out_of_mapping(model: nn.Module, replaced: set[torch.Tensor]) -> None:
    """Give each parameter and buffer of `model` except `replaced` its own memory, in place."""
    for tensor in [*model.parameters(), *model.buffers()]:
        if tensor not in replaced:
            tensor.data = tensor.data.clone()
