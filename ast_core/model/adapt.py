"""Weight adaptation as small pure functions: ImageNet ViT/DeiT or AudioSet AST -> this AST.

Position-embedding resizing follows the AST reference exactly: per axis (time first, then
frequency) crop the centre when the target is smaller, bilinear-interpolate when larger.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

from ast_core.model.transformer import ModelConfig

_WRAPPER_PREFIXES = ("module.", "_orig_mod.")


def clean_state_dict(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Strip DataParallel `module.` and torch.compile `_orig_mod.` prefixes from keys."""
    out = {}
    for key, value in state.items():
        changed = True
        while changed:
            changed = False
            for prefix in _WRAPPER_PREFIXES:
                if key.startswith(prefix):
                    key, changed = key[len(prefix) :], True
        out[key] = value
    return out


def sum_rgb_patch_weight(weight: torch.Tensor) -> torch.Tensor:
    """`(dim, 3, p, p) -> (dim, 1, p, p)`: the same as feeding the spectrogram to all 3 channels."""
    return weight.sum(dim=1, keepdim=True)


def _resize_axis(grid: torch.Tensor, axis: int, size: int) -> torch.Tensor:
    """Crop the centre of, or bilinearly stretch, one spatial axis of `(1, dim, H, W)`."""
    old = grid.shape[axis]
    if size <= old:
        start = old // 2 - size // 2
        return grid.narrow(axis, start, size)
    target = list(grid.shape[2:])
    target[axis - 2] = size
    return F.interpolate(grid, size=tuple(target), mode="bilinear", align_corners=False)


def resize_pos_grid(grid: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """`(1, dim, H, W) -> (1, dim, f, t)`: time axis first, then frequency, as the reference."""
    grid = _resize_axis(grid, 3, size[1])
    return _resize_axis(grid, 2, size[0])


def resample_pos_embed(
    pos: torch.Tensor, num_prefix: int, old_grid: tuple[int, int], new_grid: tuple[int, int]
) -> torch.Tensor:
    """`(1, prefix + H*W, dim) -> (1, prefix + f*t, dim)`, prefix tokens kept as they are."""
    dim = pos.shape[-1]
    prefix, patches = pos[:, :num_prefix], pos[:, num_prefix:]
    grid = patches.transpose(1, 2).reshape(1, dim, *old_grid)
    grid = resize_pos_grid(grid.float(), new_grid).to(pos.dtype)
    return torch.cat([prefix, grid.reshape(1, dim, -1).transpose(1, 2)], dim=1)


def from_timm_vit(
    timm_state: Mapping[str, torch.Tensor], cfg: ModelConfig, timm_grid: tuple[int, int]
) -> dict[str, torch.Tensor]:
    """Our state dict from a timm ViT/DeiT one (ImageNet); the audio head stays untouched.

    Drops the image heads, sums the RGB patch weights, resizes the position embedding from the
    image patch grid (24x24 or 14x14) to `cfg.grid`. Returns only the keys it fills.
    """
    state = clean_state_dict(timm_state)
    out = {
        k: v
        for k, v in state.items()
        if k.startswith(("blocks.", "norm.", "cls_token", "dist_token"))
    }
    out["patch_embed.proj.weight"] = sum_rgb_patch_weight(state["patch_embed.proj.weight"])
    out["patch_embed.proj.bias"] = state["patch_embed.proj.bias"]
    out["pos_embed"] = resample_pos_embed(
        state["pos_embed"], cfg.num_prefix_tokens, timm_grid, cfg.grid
    )
    return out


def from_audioset_ast(
    ast_state: Mapping[str, torch.Tensor], source: ModelConfig, cfg: ModelConfig
) -> dict[str, torch.Tensor]:
    """Backbone of a trained AST (e.g. AudioSet, 12x101 grid) for another input length.

    The classifier head is dropped (new labels); the position grid is cropped/interpolated.
    """
    if (source.fstride, source.tstride) != (cfg.fstride, cfg.tstride):
        raise ValueError("the source model's patch strides differ from the target's")
    out = {k: v for k, v in ast_state.items() if not k.startswith(("head.", "head_norm."))}
    out["pos_embed"] = resample_pos_embed(
        ast_state["pos_embed"], cfg.num_prefix_tokens, source.grid, cfg.grid
    )
    return out
