"""The transformer blocks' linear layers with weights packed once for oneDNN (CPU inference).

`nn.Linear` sends fp32 to MKL (see `onednn`) and re-lays out bf16 weights for oneDNN on every
call. Packing each weight once (what `torch.compile`'s weight freezing does) and fusing fc1's
GELU into its matmul makes the blocks' linears much faster in fp32 and a little faster in bf16
(`ast-studio bench` times the whole model: `ours_fp32_ms`, `ours_ms`).
"""

from __future__ import annotations

import torch
from torch import nn

from ast_core.accel import onednn
from ast_core.accel.file_mapping import copy_out_of_mapping
from ast_core.model.transformer import AudioSpectrogramTransformer


class PackedLinear(nn.Module):
    """`nn.Linear`, optionally followed by exact GELU, on a oneDNN-packed copy of its weight.

    Inference only: `(..., in_features) -> (..., out_features)`. `tokens`: the rows the packed
    layout is tuned for (one window's tokens; other sizes work too).
    """

    def __init__(self, linear: nn.Linear, tokens: int, gelu: bool = False):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.gelu = gelu
        with torch.no_grad():
            self.register_buffer("weight", onednn.pack_weight(linear.weight, tokens))
            self.register_buffer("bias", None if linear.bias is None else linear.bias.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return onednn.linear(x, self.weight, self.bias, self.gelu)


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
