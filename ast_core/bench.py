"""`ast-studio bench`: our AST against transformers' on the same weights, in one run.

Reports medians after warm-up; ratios are the numbers to compare across machines.
"""

from __future__ import annotations

import platform
import statistics
import tempfile
import time
from collections.abc import Callable

import numpy as np
import torch

from ast_core.checkpoints import load_model, save_model
from ast_core.features import PRESETS, compute_fbank, features
from ast_core.model import AudioSpectrogramTransformer, ModelConfig


def _median_ms(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_bench(size: str = "base384", repeats: int = 5) -> dict:
    """Fbank ms per 10 s of audio; model ms per clip at batch 1, ours vs transformers."""
    torch.manual_seed(0)
    fbank_cfg = PRESETS["audioset"]
    wav = torch.from_numpy(np.random.default_rng(0).standard_normal(160_000).astype(np.float32))
    report: dict = {
        "machine": {
            "cpu": _cpu_name(),
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
        },
        "fbank_ms_per_10s": _median_ms(lambda: compute_fbank(wav[None], fbank_cfg), repeats),
    }
    cfg = ModelConfig.for_size(size, target_length=fbank_cfg.target_length)
    with tempfile.TemporaryDirectory() as tmp:
        model = AudioSpectrogramTransformer(cfg)
        save_model(tmp, model, [f"class {i}" for i in range(cfg.num_labels)], fbank_cfg)
        ours = load_model(tmp).model.eval()
        x = features(wav[None], fbank_cfg)
        with torch.inference_mode():
            report["model"] = {"size": size, "tokens": cfg.num_patches + cfg.num_prefix_tokens}
            report["model"]["ours_ms"] = _median_ms(lambda: ours(x), repeats)
            try:
                from transformers import ASTForAudioClassification
            except ImportError:
                report["model"]["reference"] = "transformers not installed"
                return report
            ref = ASTForAudioClassification.from_pretrained(tmp, attn_implementation="sdpa").eval()
            report["model"]["transformers_sdpa_ms"] = _median_ms(lambda: ref(x).logits, repeats)
            diff = (ref(x).logits - ours(x)).abs().max().item()
    m = report["model"]
    m["speedup_vs_transformers"] = m["transformers_sdpa_ms"] / m["ours_ms"]
    m["max_abs_logit_diff"] = diff
    return report
