"""The transformer blocks' linear layers with weights packed once for oneDNN (CPU inference).

`nn.Linear` sends fp32 to MKL, which ran at about 170 GFLOP/s on this AVX-512 AMD CPU, and
re-lays out bf16 weights for oneDNN on every call. Packing each weight once for oneDNN (what
`torch.compile`'s weight freezing does) and fusing fc1's GELU into its matmul took the blocks'
linears per 10.24-s clip from 1085 to 486 ms in fp32 and from 274 to 243 ms in bf16.
"""

from __future__ import annotations

import platform

import torch
from torch import nn

from ast_core.file_mapping import copy_out_of_mapping
from ast_core.model import AudioSpectrogramTransformer


class PackedLinear(nn.Module):
    """`nn.Linear`, optionally followed by exact GELU, on a oneDNN-packed copy of its weight.

    Inference only: `(..., in_features) -> (..., out_features)`. `tokens`: the rows the packed
    layout is tuned for (one window's tokens; other sizes work too).
    """

    def __init__(self, linear: nn.Linear, tokens: int, gelu: bool = False):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        with torch.no_grad():
            weight = torch.ops.mkldnn._reorder_linear_weight(linear.weight, tokens)
            bias = None if linear.bias is None else linear.bias.clone()
        self.register_buffer("weight", weight)
        self.register_buffer("bias", bias)
        self.attr, self.algorithm = ("gelu", "none") if gelu else ("none", "")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.mkldnn._linear_pointwise(
            x, self.weight, self.bias, self.attr, [], self.algorithm
        )


def can_pack() -> bool:
    """oneDNN's packed linear exists here (x86-64 builds of PyTorch with oneDNN)."""
    return (
        platform.machine().lower() in ("x86_64", "amd64")
        and torch.backends.mkldnn.is_available()
        and hasattr(torch.ops.mkldnn, "_reorder_linear_weight")
    )


def pack_linears(model: AudioSpectrogramTransformer) -> None:
    """Replace the blocks' linears by `PackedLinear`s in place (CPU, fp32 or bf16 weights);
    fc1 takes over its block's GELU."""
    linears = [m for m in model.blocks.modules() if isinstance(m, nn.Linear)]
    copy_out_of_mapping(model, {m.weight for m in linears})  # the fp32 file's mapping goes
    tokens = model.cfg.num_patches + model.cfg.num_prefix_tokens
    for block in model.blocks:
        attn, mlp = block.attn, block.mlp
        attn.qkv = PackedLinear(attn.qkv, tokens)
        attn.proj = PackedLinear(attn.proj, tokens)
        fuse = isinstance(mlp.act, nn.GELU) and mlp.act.approximate == "none"
        mlp.fc1 = PackedLinear(mlp.fc1, tokens, gelu=fuse)
        if fuse:
            mlp.act = nn.Identity()
        mlp.fc2 = PackedLinear(mlp.fc2, tokens)
