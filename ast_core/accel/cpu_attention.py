"""Self-attention for CPU inference, a few heads at a time.

PyTorch's CPU flash attention runs far below the CPU's matmul rate, whatever the dtype (on
CPUs without AMX). For AST's 1214 tokens one head's score matrix is small enough (2.9 MB in
bf16) to stay in cache, so plain matmuls + softmax head by head run the attention several times
faster, in the weights' dtype. On x86-64 the heads go through oneDNN (`onednn.attention_head`):
its fp32 matmuls beat MKL's (see `onednn`), and from `ONEDNN_SOFTMAX_MIN_TOKENS` on its softmax
beats PyTorch's. Training (autograd) and other devices keep fused SDPA.
"""

from __future__ import annotations

import torch
from timm.layers import Attention

from ast_core.accel import onednn
from ast_core.accel.malloc_tuning import freed_memory_kept

SCORES_BUDGET_BYTES = 4 << 20  # score matrices computed at once: about one L2/L3 slice
ONEDNN_SOFTMAX_MIN_TOKENS = 600  # below, PyTorch's softmax on heads batched in bmm is faster


def attention_by_head(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float
) -> torch.Tensor:
    """softmax(q k^T * scale) v, a few heads at a time: `(B, H, N, D)` x 3 -> `(B, N, H * D)`.

    As many heads per step as keep their `(N, N)` scores within `SCORES_BUDGET_BYTES`
    (one head for AST's 1214 tokens, all heads for short live windows).
    """
    b, h, n, d = q.shape
    out = torch.empty(b * h, n, d, dtype=q.dtype, device=q.device)
    # oneDNN's softmax gets fresh (N, N) buffers for every head: that pays only where the heap
    # keeps freed memory (with glibc's defaults the page faults on them cost more than it saves)
    long = n >= ONEDNN_SOFTMAX_MIN_TOKENS and freed_memory_kept()
    on_onednn = q.device.type == "cpu" and onednn.available(q.dtype)
    if on_onednn and (long or q.dtype == torch.float32):
        # oneDNN, faster per layer than MKL's fp32 bmm and than PyTorch's softmax (bf16); on
        # dense matrices only: on the qkv split's strided views oneDNN falls back to a path
        # orders of magnitude slower
        q, k = (t.reshape(b * h, n, d).contiguous() for t in (q * scale, k))
        vt = v.transpose(2, 3).reshape(b * h, d, n).contiguous()
        for i in range(b * h):
            out[i] = onednn.attention_head(q[i], k[i], vt[i], onednn_softmax=long)
    else:
        step = max(1, SCORES_BUDGET_BYTES // (n * n * q.element_size()))
        q, k, v = (t.reshape(b * h, n, d) for t in (q * scale, k, v))
        for i in range(0, b * h, step):
            s = slice(i, i + step)
            torch.bmm(torch.bmm(q[s], k[s].transpose(1, 2)).softmax(dim=-1), v[s], out=out[s])
    return out.reshape(b, h, n, d).transpose(1, 2).reshape(b, n, h * d)


class ASTAttention(Attention):
    """timm's `Attention` (same parameters and names) with `attention_by_head` for CPU inference.

    `compute_dtype` (None: the input's dtype) lets fp32 activations, e.g. around int8
    linears, do their attention maths in bf16.
    """

    compute_dtype: torch.dtype | None = None

    def forward(
        self, x: torch.Tensor, attn_mask: torch.Tensor | None = None, is_causal: bool = False
    ) -> torch.Tensor:
        plain = attn_mask is None and not is_causal and self.gate is None
        if torch.is_grad_enabled() or x.device.type != "cpu" or not plain:
            return super().forward(x, attn_mask=attn_mask, is_causal=is_causal)
        b, n, _ = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.to(self.compute_dtype or qkv.dtype).unbind(0)
        out = attention_by_head(self.q_norm(q), self.k_norm(k), v, self.scale)
        return self.proj(self.norm(out.to(x.dtype)))
