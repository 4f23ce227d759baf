"""`ast-studio bench --train`: training samples/s (forward, backward, AdamW step) on random
fbank input, no data loading."""

from __future__ import annotations

import time
from contextlib import nullcontext

import torch

from ast_core.accel.malloc_tuning import keep_freed_memory
from ast_core.model.transformer import AudioSpectrogramTransformer, ModelConfig


def training_throughput(
    size: str = "tiny",
    target_length: int = 1024,
    batch_size: int = 4,
    steps: int = 3,
    amp: str = "fp32",
    device: str = "cpu",
) -> dict:
    """Samples/s over `steps` steps after one warm-up step (the GPU synchronised at both ends)."""
    if device == "cpu":
        keep_freed_memory()  # as `train` does
    torch.manual_seed(0)
    cfg = ModelConfig.for_size(size, target_length=target_length, num_labels=50)
    model = AudioSpectrogramTransformer(cfg).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
    x = torch.randn(batch_size, target_length, cfg.num_mel_bins, device=device)
    y = torch.randint(0, cfg.num_labels, (batch_size,), device=device)
    ctx = torch.autocast(device, dtype=torch.bfloat16) if amp == "bf16" else nullcontext()

    def step() -> None:
        with ctx:
            loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    seconds = time.perf_counter() - t0
    return {
        "size": size,
        "frames": target_length,
        "batch_size": batch_size,
        "amp": amp,
        "device": device,
        "samples_per_s": batch_size * steps / seconds,
    }


def _sync(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)
