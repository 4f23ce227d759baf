"""`ast-studio bench`: our AST against transformers' on the same weights, in one run.

Reports medians after warm-up; the ratios are the numbers to compare across machines. With no
model given, random base384 weights are used: fine for timing, meaningless as predictions.
"""

from __future__ import annotations

import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from ast_core.accel import onednn
from ast_core.audio.features import PRESETS, compute_fbank
from ast_core.model.checkpoints import load_model, save_model
from ast_core.model.transformer import AudioSpectrogramTransformer, ModelConfig
from ast_core.run.classifier import Classifier
from ast_core.store.model_store import resolve


def _median_ms(
    fns: dict[str, Callable[[], object]], repeats: int, warmup: bool = True
) -> dict[str, float]:
    """Median ms of each of `fns` (after one warm-up call each), timed in turn round by round,
    so that the host's drift and bursts (a shared machine) hit them all alike."""
    for fn in fns.values() if warmup else ():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0) * 1000)
    return {name: statistics.median(ts) for name, ts in times.items()}


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
    }


def model_gflop(cfg: ModelConfig) -> float:
    """Matmul GFLOP of one clip as `forward_pooled` runs it: patch embedding, the blocks'
    linears and attention (the last block's queries, projection and MLP for the prefix only),
    the head."""
    n, p, d = cfg.num_patches + cfg.num_prefix_tokens, cfg.num_prefix_tokens, cfg.embed_dim
    hidden = int(d * cfg.mlp_ratio)

    def block(queries: int) -> int:  # qkv for all tokens (keys and values), the rest per query
        return 2 * n * d * 3 * d + 4 * queries * n * d + 2 * queries * d * (d + 2 * hidden)

    patches = 2 * cfg.num_patches * d * cfg.patch_size**2
    return (patches + (cfg.depth - 1) * block(n) + block(p) + 2 * d * cfg.num_labels) / 1e9


def matmul_gflops(dtype: torch.dtype, rows: int, dim: int, repeats: int = 9) -> float:
    """The machine's matmul rate in `dtype` on the model's largest linear shape,
    `(rows, dim) x (dim, 4 dim)`, through the path our CPU model takes (oneDNN-packed weights
    where available; for fp32 that is not what transformers uses: PyTorch sends it to MKL)."""
    x = torch.randn(rows, dim, dtype=dtype)
    w = torch.randn(4 * dim, dim, dtype=dtype)
    if onednn.available(dtype):
        fn = partial(onednn.linear, x, onednn.pack_weight(w, rows))
    else:
        fn = partial(torch.nn.functional.linear, x, w)
    with torch.inference_mode():
        ms = _median_ms({"ms": fn}, repeats)["ms"]
    return 2 * rows * dim * 4 * dim / ms / 1e6


def bench_signals(seconds: float = 10.0, rate: int = 16_000) -> np.ndarray:
    """Three deterministic clips `(3, samples)`: noise, a tone with harmonics, a chirp."""
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(0)
    noise = 0.1 * rng.standard_normal(t.size)
    tone = sum(0.2 / k * np.sin(2 * np.pi * 220 * k * t) for k in range(1, 6))
    chirp = 0.3 * np.sin(2 * np.pi * (100 + 300 * t) * t)
    return np.stack([noise, tone, chirp]).astype(np.float32)


def random_model_folder(size: str, path: Path, stride: int = 10) -> Path:
    """Random AudioSet-shaped weights of `size`, for timing only (never offered to users)."""
    torch.manual_seed(0)
    cfg = ModelConfig.for_size(size, target_length=1024, fstride=stride, tstride=stride)
    model = AudioSpectrogramTransformer(cfg)
    return save_model(path, model, [f"class {i}" for i in range(527)], PRESETS["audioset"])


def _model_folder(model_source: str | None, size: str, tmp: Path, stride: int) -> tuple[Path, str]:
    if model_source:
        return resolve(model_source), str(model_source)
    name = f"random {size} stride {stride} weights (timing only)"
    return random_model_folder(size, tmp, stride), name


def bench_model(folder: Path, repeats: int) -> dict:
    """ms per clip at batch 1: ours fp32, ours at the default precision, transformers sdpa."""
    fp32 = Classifier(load_model(folder), "cpu", precision="fp32")
    fast = Classifier(load_model(folder), "cpu", precision="auto")
    int8 = Classifier(load_model(folder), "cpu", precision="int8")
    wavs = bench_signals(fast.window_seconds)
    x32 = fp32._inputs(wavs[:1])
    xf = fast._inputs(wavs[:1])
    out = {
        "tokens": fp32.model.cfg.num_patches + fp32.model.cfg.num_prefix_tokens,
        "precision": fast.precision,
    }
    timed = {
        "ours_fp32_ms": lambda: fp32.model(x32),
        "ours_ms": lambda: fast.model(xf),
        "ours_int8_ms": lambda: int8.model(x32),
    }
    try:
        from transformers import ASTForAudioClassification
    except ImportError:
        out["reference"] = "transformers not installed"
        with torch.inference_mode():
            return out | _median_ms(timed, repeats)
    ref = ASTForAudioClassification.from_pretrained(folder, attn_implementation="sdpa").eval()
    timed["transformers_sdpa_fp32_ms"] = lambda: ref(x32).logits
    with torch.inference_mode():
        out.update(_median_ms(timed, repeats))
        out["max_abs_logit_diff_fp32"] = (ref(x32).logits - fp32.model(x32)).abs().max().item()
    out["agreement"] = agreement(fp32, fast, wavs)
    out["int8_agreement"] = agreement(fp32, int8, wavs)
    out["speedup_vs_transformers"] = out["transformers_sdpa_fp32_ms"] / out["ours_ms"]
    out["speedup_int8_vs_transformers"] = out["transformers_sdpa_fp32_ms"] / out["ours_int8_ms"]
    out["speedup_fp32_vs_transformers"] = out["transformers_sdpa_fp32_ms"] / out["ours_fp32_ms"]
    return out | hardware_limit(fast.model.cfg, fast.dtype, out["ours_ms"])


def hardware_limit(cfg: ModelConfig, dtype: torch.dtype, ours_ms: float) -> dict:
    """The clip's matmul work at the machine's matmul rate: how near the limit `ours_ms` is."""
    gflop = model_gflop(cfg)
    rate = matmul_gflops(dtype, cfg.num_patches + cfg.num_prefix_tokens, cfg.embed_dim)
    return {
        "model_gflop": gflop,
        "matmul_gflops": rate,
        "floor_ms": gflop / rate * 1000,
        "floor_over_ours": gflop / rate * 1000 / ours_ms,
    }


def agreement(reference: Classifier, other: Classifier, wavs: np.ndarray) -> dict:
    """How far `other`'s scores are from `reference`'s on the clips `(clips, samples)`."""
    a, b = reference.score_batch(wavs), other.score_batch(wavs)
    return {
        "clips": len(wavs),
        "max_score_diff": float(np.abs(a - b).max()),
        "top5_identical": bool((np.argsort(-a, 1)[:, :5] == np.argsort(-b, 1)[:, :5]).all()),
    }


def bench_folder(folder: Path, clips: int, tmp: Path, rounds: int = 3) -> dict:
    """10-s clips per second for a folder of WAV files, decode and features included: the
    median of `rounds` passes over the folder, ours and transformers in turn."""
    from ast_core.run.batch import analyse_files, run_batch

    rate = 16_000
    wavs = bench_signals(10.0)
    paths = []
    for i in range(clips):
        paths.append(str(tmp / f"clip{i:03d}.wav"))
        sf.write(paths[-1], wavs[i % len(wavs)], rate, subtype="PCM_16")
    passes = {}
    for precision, key in (("auto", "ours"), ("int8", "ours_int8")):
        clf = Classifier(load_model(folder), "cpu", precision=precision)
        analyse_files(clf, paths[:1])  # warm-up
        passes[key] = partial(
            run_batch, partial(analyse_files, clf), paths, clf.name, group=clf.clips_per_pass
        )
    try:
        from transformers import ASTFeatureExtractor, ASTForAudioClassification

        fe = ASTFeatureExtractor.from_pretrained(folder)
        ref = ASTForAudioClassification.from_pretrained(folder, attn_implementation="sdpa").eval()

        def reference(files: list[str]) -> None:  # what a transformers user writes (no ffmpeg)
            for path in files:
                audio, _ = sf.read(path, dtype="float32")
                with torch.inference_mode():
                    ref(**fe(audio, sampling_rate=rate, return_tensors="pt")).logits.sigmoid()

        reference(paths[:1])  # warm-up
        passes["transformers"] = partial(reference, paths)
    except ImportError:
        pass
    seconds = _median_ms(passes, rounds, warmup=False)
    out: dict = {"clips": clips, "clip_seconds": 10.0, "rounds": rounds}
    out |= {f"{key}_clips_per_s": clips / (ms / 1000) for key, ms in seconds.items()}
    if "transformers" in seconds:
        out["speedup"] = out["ours_clips_per_s"] / out["transformers_clips_per_s"]
    return out


def run_bench(
    model_source: str | None = None,
    size: str = "base384",
    repeats: int = 5,
    folder_clips: int = 6,
    stride: int = 10,
) -> dict:
    """The model and folder sections of `ast-studio bench` (see README for the fields)."""
    fbank_cfg = PRESETS["audioset"]
    wav = torch.from_numpy(bench_signals(10.0)[0])
    fbank = _median_ms({"ms": lambda: compute_fbank(wav[None], fbank_cfg)}, repeats)
    report: dict = {
        "machine": machine(),
        "fbank_ms_per_10s": fbank["ms"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder, name = _model_folder(model_source, size, Path(tmp) / "model", stride)
        report["weights"] = name
        report["model"] = bench_model(folder, repeats)
        if folder_clips:
            (Path(tmp) / "clips").mkdir()
            report["folder"] = bench_folder(folder, folder_clips, Path(tmp) / "clips")
    return report
