"""Where the model looked: attention of the prefix tokens over the patch grid."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F


def prefix_map(attn: torch.Tensor, num_prefix: int, grid: tuple[int, int]) -> torch.Tensor:
    """Mean attention of the prefix tokens to each patch.

    `(batch, tokens, tokens)` head-averaged attention -> `(batch, f, t)`, each map summing to 1.
    """
    rows = attn[:, :num_prefix, num_prefix:].mean(dim=1)
    rows = rows / rows.sum(dim=-1, keepdim=True).clamp_min(1e-12)
    return rows.reshape(rows.shape[0], *grid)


def rollout(attns: Sequence[torch.Tensor], num_prefix: int, grid: tuple[int, int]) -> torch.Tensor:
    """Attention rollout (Abnar & Zuidema 2020) over all layers -> `(batch, f, t)`.

    Each layer's head-averaged attention is mixed with the identity for the residual path,
    rows renormalised, and the layers multiplied from first to last.
    """
    eye = torch.eye(attns[0].shape[-1], dtype=attns[0].dtype, device=attns[0].device)
    joint = None
    for a in attns:
        a = 0.5 * a + 0.5 * eye
        a = a / a.sum(dim=-1, keepdim=True)
        joint = a if joint is None else a @ joint
    return prefix_map(joint, num_prefix, grid)


def grid_to_frames(
    grid_map: torch.Tensor, frames: int, mels: int, patch: int, fstride: int, tstride: int
) -> torch.Tensor:
    """Spread a patch-grid map back onto the spectrogram: `(f, t) -> (frames, mels)`.

    Each patch covers `patch` x `patch` bins; where patches overlap their values are averaged.
    """
    cols = grid_map.float().reshape(1, 1, -1).expand(1, patch * patch, -1)
    fold = dict(output_size=(mels, frames), kernel_size=patch, stride=(fstride, tstride))
    total = F.fold(cols, **fold)
    count = F.fold(torch.ones_like(cols), **fold)
    return (total / count.clamp_min(1))[0, 0].T
