"""Opt-in int8 inference on CPU: the transformer blocks' linear layers as dynamic int8.

Weights are quantised once per output channel; each activation tensor is quantised on the fly
(PyTorch's fbgemm/oneDNN kernels, VNNI where the CPU has it). Attention maths runs in bf16
where the CPU has it natively. Not the default: the scores move further from fp32 than bf16's
(`ast-studio bench` states the agreement), and PyTorch marks this API as deprecated.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from ast_core.accel.file_mapping import copy_out_of_mapping
from ast_core.model.transformer import AudioSpectrogramTransformer


def quantize_blocks(model: AudioSpectrogramTransformer, attention_dtype: torch.dtype) -> None:
    """Replace `model.blocks`' `nn.Linear`s by dynamic int8 ones, in place (fp32 model, CPU)."""
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    engines = torch.backends.quantized.supported_engines
    previous = torch.backends.quantized.engine
    linears = [m for m in model.blocks.modules() if isinstance(m, nn.Linear)]
    copy_out_of_mapping(model, {m.weight for m in linears})  # else the whole file stays mapped
    try:  # the weights are packed for the engine chosen here, whatever the global one later
        if "onednn" in engines:  # faster than fbgemm on AVX512-VNNI CPUs
            torch.backends.quantized.engine = "onednn"
        with warnings.catch_warnings():  # the deprecation notices of torch.ao.quantization
            warnings.simplefilter("ignore")
            quantize_dynamic(  # in place: no second fp32 copy of the blocks
                model.blocks, {nn.Linear: per_channel_dynamic_qconfig}, torch.qint8, inplace=True
            )
    finally:
        torch.backends.quantized.engine = previous
    for block in model.blocks:
        block.attn.compute_dtype = attention_dtype
    # Each replaced fp32 linear's qconfig holds a closure that refers back to the linear. Break
    # that cycle so the linears are freed now. (A gc.collect() here hung the app: this runs in a
    # worker thread, and collecting there stalled the model load in the GUI test.)
    for linear in linears:
        vars(linear).pop("qconfig", None)
