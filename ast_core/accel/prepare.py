"""The one entry point of the speed-ups: a loaded model made ready to infer on a device.

`prepare_for_inference` picks the precision, moves the weights, and swaps in the CPU paths
(oneDNN-packed or int8 linear layers, the heap tuning); each path has a parity test against
the plain fp32 model.
"""

from __future__ import annotations

import torch
from torch import nn

from ast_core.accel import PRECISIONS, onednn
from ast_core.accel.cpu_linear import pack_linears
from ast_core.accel.int8 import quantize_blocks
from ast_core.accel.malloc_tuning import keep_freed_memory

_NAMES = {torch.float32: "fp32", torch.bfloat16: "bf16"}


def supports_bf16(device: torch.device) -> bool:
    """Whether bf16 matrix maths is native here (AVX512-BF16/AMX CPUs, recent GPUs)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        try:  # torch's own CPU feature probe
            return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
        except AttributeError:
            return False
    return False


def pick_precision(device: torch.device, preference: str = "auto") -> torch.dtype:
    """Dtype of the weights and activations.

    `auto`: bf16 where the hardware does it natively, else fp32; `fp32`/`bf16` force one;
    `int8` (CPU only) keeps fp32 activations around dynamic int8 linear layers.
    """
    if preference not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {preference!r}")
    if preference == "int8" and device.type != "cpu":
        raise ValueError(f"int8 precision runs on the CPU only, not on {device.type}")
    if preference in ("fp32", "int8") or (preference == "auto" and not supports_bf16(device)):
        return torch.float32
    return torch.bfloat16


def prepare_for_inference(
    model: nn.Module, device: torch.device, precision: str = "auto"
) -> tuple[nn.Module, torch.dtype, str]:
    """`model` (an AST) on `device` in eval mode at `precision`, with the CPU paths swapped in.

    Returns the model (changed in place), the activations' dtype and the precision's name
    (fp32, bf16 or int8). The classifier head stays fp32: it is tiny, and it keeps scores close
    to fp32's.
    """
    if device.type == "cpu":
        keep_freed_memory()  # activations reuse freed heap pages: faster than fresh ones
    dtype = pick_precision(device, precision)
    model = model.to(device, dtype).eval()
    if precision == "int8":
        quantize_blocks(model, torch.bfloat16 if supports_bf16(device) else torch.float32)
    elif device.type == "cpu" and onednn.available(dtype):
        pack_linears(model)
    model.head_norm.float()
    model.head.float()
    return model, dtype, "int8" if precision == "int8" else _NAMES[dtype]
