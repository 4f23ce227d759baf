"""The Audio Spectrogram Transformer, built from timm's ViT `Block`s.

Parameter names follow timm's VisionTransformer (`patch_embed.proj`, `cls_token`, `dist_token`,
`pos_embed`, `blocks.N`, `norm`) so the reference's `module.v.*` weights map one to one; the
classifier is `head_norm` + `head` (the reference's `mlp_head.0/1`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, NamedTuple

import torch
from timm.layers import trunc_normal_
from timm.models.vision_transformer import Block
from torch import nn

from ast_core.accel.cpu_attention import ASTAttention

LabelMode = Literal["multi", "single"]

# name -> (embed_dim, depth, num_heads); timm's DeiT models of the same shape give ImageNet init.
SIZES: dict[str, tuple[int, int, int]] = {
    "tiny": (192, 12, 3),
    "small": (384, 12, 6),
    "base224": (768, 12, 12),
    "base384": (768, 12, 12),
}


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of one AST; stored inside every checkpoint so loading never guesses."""

    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    mlp_ratio: float = 4.0
    patch_size: int = 16
    fstride: int = 10
    tstride: int = 10
    num_mel_bins: int = 128
    target_length: int = 1024
    num_prefix_tokens: int = 2
    num_labels: int = 527
    label_mode: LabelMode = "multi"
    layer_norm_eps: float = 1e-6  # timm blocks and final norm (HF checkpoints use 1e-12)
    head_norm_eps: float = 1e-5  # the reference's mlp_head LayerNorm

    @classmethod
    def for_size(cls, size: str, **kwargs: Any) -> ModelConfig:
        if size not in SIZES:
            raise ValueError(f"unknown model size {size!r}; choose one of {', '.join(SIZES)}")
        dim, depth, heads = SIZES[size]
        return cls(**{"embed_dim": dim, "depth": depth, "num_heads": heads, **kwargs})

    @property
    def grid(self) -> tuple[int, int]:
        """Patch grid (f, t): 12 x 101 for 128 mels, 1024 frames, stride 10."""
        f = (self.num_mel_bins - self.patch_size) // self.fstride + 1
        t = (self.target_length - self.patch_size) // self.tstride + 1
        return f, t

    @property
    def num_patches(self) -> int:
        f, t = self.grid
        return f * t

    def replace(self, **changes: Any) -> ModelConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


class ASTOutput(NamedTuple):
    logits: torch.Tensor  # (batch, num_labels)
    embedding: torch.Tensor  # (batch, embed_dim), the pooled prefix tokens
    attentions: tuple[torch.Tensor, ...] | None  # per layer, head-mean (batch, tokens, tokens)


class PatchEmbed(nn.Module):
    """Overlapping 16x16 patches: `(batch, 1, mels, frames) -> (batch, f*t, dim)`."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.proj = nn.Conv2d(1, cfg.embed_dim, cfg.patch_size, stride=(cfg.fstride, cfg.tstride))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


class AudioSpectrogramTransformer(nn.Module):
    """AST: `(batch, frames, mels)` normalised fbank -> `(batch, num_labels)` logits."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        if cfg.num_prefix_tokens not in (1, 2):
            raise ValueError("num_prefix_tokens must be 1 (ViT cls) or 2 (DeiT cls + dist)")
        self.cfg = cfg
        dim = cfg.embed_dim
        self.patch_embed = PatchEmbed(cfg)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.dist_token = (
            nn.Parameter(torch.zeros(1, 1, dim)) if cfg.num_prefix_tokens == 2 else None
        )
        self.pos_embed = nn.Parameter(torch.zeros(1, cfg.num_prefix_tokens + cfg.num_patches, dim))
        norm = partial(nn.LayerNorm, eps=cfg.layer_norm_eps)
        self.blocks = nn.Sequential(
            *[
                Block(
                    dim,
                    cfg.num_heads,
                    cfg.mlp_ratio,
                    qkv_bias=True,
                    norm_layer=norm,
                    attn_layer=ASTAttention,
                )
                for _ in range(cfg.depth)
            ]
        )
        self.norm = norm(dim)
        self.head_norm = nn.LayerNorm(dim, eps=cfg.head_norm_eps)
        self.head = nn.Linear(dim, cfg.num_labels)
        if not self.pos_embed.is_meta:  # built on "meta" to be loaded: nothing to init
            self.reset_parameters()

    def reset_parameters(self) -> None:
        """Random init as timm's ViT: truncated normal (std .02) weights, zero biases."""
        for p in (self.cls_token, self.dist_token, self.pos_embed):
            if p is not None:
                trunc_normal_(p, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _tokens(self, spec: torch.Tensor) -> torch.Tensor:
        """`(batch, frames, mels) -> (batch, prefix + f*t, dim)` with position embedding."""
        if spec.shape[1:] != (self.cfg.target_length, self.cfg.num_mel_bins):
            raise ValueError(
                f"expected input (batch, {self.cfg.target_length}, {self.cfg.num_mel_bins}), "
                f"got {tuple(spec.shape)}"
            )
        x = self.patch_embed(spec.unsqueeze(1).transpose(2, 3))
        prefix = [self.cls_token] + ([self.dist_token] if self.dist_token is not None else [])
        prefix = [p.expand(x.shape[0], -1, -1) for p in prefix]
        return torch.cat([*prefix, x], dim=1) + self.pos_embed

    def forward_features(self, spec: torch.Tensor) -> torch.Tensor:
        """`(batch, frames, mels) -> (batch, tokens, dim)` after the final norm."""
        return self.norm(self.blocks(self._tokens(spec)))

    def pool(self, tokens: torch.Tensor) -> torch.Tensor:
        """Mean of the prefix tokens: `(batch, tokens, dim) -> (batch, dim)`."""
        return tokens[:, : self.cfg.num_prefix_tokens].mean(dim=1)

    def forward_head(self, pooled: torch.Tensor) -> torch.Tensor:
        """`(batch, dim) -> (batch, num_labels)`, in the head's dtype (fp32 under bf16 use)."""
        return self.head(self.head_norm(pooled.to(self.head_norm.weight.dtype)))

    def forward_pooled(self, spec: torch.Tensor) -> torch.Tensor:
        """`pool(forward_features(spec))`: `(batch, frames, mels) -> (batch, dim)`, with the last
        block run for the prefix tokens alone, since nothing else reaches the pool (a twelfth
        less work for base)."""
        x = self.blocks[:-1](self._tokens(spec))
        prefix = _prefix_outputs(self.blocks[-1], x, self.cfg.num_prefix_tokens)
        return self.norm(prefix).mean(dim=1)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_pooled(spec))

    def forward_with_attention(self, spec: torch.Tensor) -> ASTOutput:
        """Logits, embedding and each layer's head-averaged attention `(batch, tokens, tokens)`.

        Attention is recomputed from each block's own q/k projections, so the blocks keep
        their fused attention; this path costs about one extra qkv projection per layer.
        """
        x = self._tokens(spec)
        maps = []
        for blk in self.blocks:
            maps.append(_attention_probs(blk.attn, blk.norm1(x)).mean(dim=1))
            x = blk(x)
        pooled = self.pool(self.norm(x))
        return ASTOutput(self.forward_head(pooled), pooled, tuple(maps))

    def scores(self, logits: torch.Tensor) -> torch.Tensor:
        """Sigmoid for multi-label models, softmax for single-label ones."""
        if self.cfg.label_mode == "single":
            return logits.softmax(dim=-1)
        return logits.sigmoid()


def _prefix_outputs(blk: Block, x: torch.Tensor, prefix: int) -> torch.Tensor:
    """`blk(x)[:, :prefix]` without the other tokens' outputs: `(B, N, C) -> (B, prefix, C)`.

    The other tokens enter a token's output only as attention keys and values, so their
    queries, attention rows, projection and MLP are skipped (timm's `Block` and `Attention`
    maths otherwise)."""
    a = blk.attn
    b, n, c = x.shape
    qkv = a.qkv(blk.norm1(x)).reshape(b, n, 3, a.num_heads, a.head_dim).permute(2, 0, 3, 1, 4)
    q, k, v = qkv.unbind(0)
    q, k = a.q_norm(q[:, :, :prefix]), a.k_norm(k)
    drop = a.attn_drop.p if a.training else 0.0
    o = nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=drop)
    o = a.proj_drop(a.proj(a.norm(o.transpose(1, 2).reshape(b, prefix, c))))
    y = x[:, :prefix] + blk.drop_path1(blk.ls1(o))
    return y + blk.drop_path2(blk.ls2(blk.mlp(blk.norm2(y))))


def _attention_probs(attn: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Softmax attention of a timm `Attention` on normed input: `(B, N, C) -> (B, heads, N, N)`."""
    b, n, c = x.shape
    qkv = attn.qkv(x).reshape(b, n, 3, attn.num_heads, c // attn.num_heads).permute(2, 0, 3, 1, 4)
    q, k = attn.q_norm(qkv[0]).float(), attn.k_norm(qkv[1]).float()
    return (q * attn.scale @ k.transpose(-2, -1)).softmax(dim=-1)
