"""oneDNN's matmul as PyTorch's own `torch.compile` uses it on CPUs (`torch.ops.mkldnn`).

For fp32, PyTorch's eager matmuls call MKL, which on the AVX-512 CPUs this was tuned on reaches
well under half of oneDNN's rate (`ast-studio bench` reports the rate reached here as
`matmul_gflops`). bf16 matmuls already go through oneDNN.
"""

from __future__ import annotations

import functools
import platform

import torch


@functools.cache
def available(dtype: torch.dtype = torch.float32) -> bool:
    """oneDNN's linear ops run here for `dtype` (fp32 or bf16): x86-64 builds of PyTorch with
    oneDNN; bf16 also needs the CPU features oneDNN's bf16 path asks for (AVX-512 or
    AVX-NE-CONVERT), else PyTorch refuses it."""
    built = (
        platform.machine().lower() in ("x86_64", "amd64")
        and torch.backends.mkldnn.is_available()
        and hasattr(torch.ops.mkldnn, "_reorder_linear_weight")
        and hasattr(torch._C._nn, "mkldnn_linear")
    )
    if dtype == torch.bfloat16:
        probe = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
        return built and probe is not None and bool(probe())
    return built and dtype == torch.float32


def pack_weight(weight: torch.Tensor, rows: int) -> torch.Tensor:
    """`(out, in)` weight laid out for `linear` with about `rows` input rows."""
    return torch.ops.mkldnn._reorder_linear_weight(weight, rows)


def linear(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, gelu: bool = False
) -> torch.Tensor:
    """`x @ weight.T + bias`, then exact GELU if asked: `(..., in) x (out, in) -> (..., out)`.
    `weight` is packed (`pack_weight`) or a plain contiguous matrix."""
    if gelu:
        return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "gelu", [], "none")
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")


def attention_head(
    q: torch.Tensor, k: torch.Tensor, vt: torch.Tensor, onednn_softmax: bool
) -> torch.Tensor:
    """softmax(q k^T) v for one head, scale already in `q`: `(N, D), (N, D), (D, N) -> (N, D)`.

    With `onednn_softmax` the `(N, N)` scores stay in a oneDNN tensor and get oneDNN's
    softmax, faster than PyTorch's on long rows but with a fixed cost per call (worth it from
    `cpu_attention.ONEDNN_SOFTMAX_MIN_TOKENS` tokens on). All inputs dense."""
    if onednn_softmax:
        scores = torch._C._nn.mkldnn_linear(q.to_mkldnn(), k, None)
        return torch._C._nn.mkldnn_linear(scores.softmax(-1), vt, None).to_dense()
    return linear(linear(q, k).softmax(dim=-1), vt)
