"""`ast-studio bench` (its default section): our AST against transformers' on the CPU, same
weights, one run: ms per clip for the model alone, clips/s for a folder of WAV files, and how
near the model comes to the machine's matmul rate.

Reports medians after warm-up; the ratios are the numbers to compare across machines. With no
model given, random base384 weights are used: fine for timing, meaningless as predictions.
"""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path

import soundfile as sf
import torch

from ast_core.accel import onednn
from ast_core.audio import SAMPLE_RATE
from ast_core.audio.features import PRESETS, compute_fbank
from ast_core.model.transformer import ModelConfig
from ast_core.run.loading import load_classifier
from bench.common import agreement, bench_signals, machine, median_ms, model_folder, model_input


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
        ms = median_ms({"ms": fn}, repeats)["ms"]
    return 2 * rows * dim * 4 * dim / ms / 1e6


def bench_model(folder: Path, repeats: int) -> dict:
    """ms per clip at batch 1, model only: ours in fp32, at the default precision and in int8,
    transformers (sdpa, fp32); the scores' agreement and how near the matmul floor ours is."""
    fp32 = load_classifier(folder, "cpu", precision="fp32")
    fast = load_classifier(folder, "cpu", precision="auto")
    int8 = load_classifier(folder, "cpu", precision="int8")
    wavs = bench_signals(fast.window_seconds)
    x32 = model_input(fp32, wavs[:1])
    xf = model_input(fast, wavs[:1])
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
            return out | median_ms(timed, repeats)
    ref = ASTForAudioClassification.from_pretrained(folder, attn_implementation="sdpa").eval()
    timed["transformers_sdpa_fp32_ms"] = lambda: ref(x32).logits
    with torch.inference_mode():
        out.update(median_ms(timed, repeats))
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


def bench_folder(folder: Path, clips: int, tmp: Path, rounds: int = 3) -> dict:
    """10-s clips per second for a folder of WAV files, decode and features included: the
    median of `rounds` passes over the folder, ours and transformers in turn."""
    from ast_core.run.batch import analyse_files, run_batch

    wavs = bench_signals(10.0)
    paths = []
    for i in range(clips):
        paths.append(str(tmp / f"clip{i:03d}.wav"))
        sf.write(paths[-1], wavs[i % len(wavs)], SAMPLE_RATE, subtype="PCM_16")
    passes = {}
    for precision, key in (("auto", "ours"), ("int8", "ours_int8")):
        clf = load_classifier(folder, "cpu", precision=precision)
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
                x = fe(audio, sampling_rate=SAMPLE_RATE, return_tensors="pt")
                with torch.inference_mode():
                    ref(**x).logits.sigmoid()

        reference(paths[:1])  # warm-up
        passes["transformers"] = partial(reference, paths)
    except ImportError:
        pass
    seconds = median_ms(passes, rounds, warmup=False)
    out: dict = {"clips": clips, "clip_seconds": 10.0, "rounds": rounds}
    out |= {f"{key}_clips_per_s": clips / (ms / 1000) for key, ms in seconds.items()}
    if "transformers" in seconds:
        out["speedup"] = out["ours_clips_per_s"] / out["transformers_clips_per_s"]
    return out


def run_cpu_bench(
    model_source: str | None = None,
    size: str = "base384",
    repeats: int = 5,
    folder_clips: int = 6,
    stride: int = 10,
) -> dict:
    """The model and folder sections of `ast-studio bench` (see README for the fields)."""
    fbank_cfg = PRESETS["audioset"]
    wav = torch.from_numpy(bench_signals(10.0)[0])
    fbank = median_ms({"ms": lambda: compute_fbank(wav[None], fbank_cfg)}, repeats)
    report: dict = {
        "machine": machine(),
        "fbank_ms_per_10s": fbank["ms"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder, name = model_folder(model_source, size, Path(tmp) / "model", stride)
        report["weights"] = name
        report["model"] = bench_model(folder, repeats)
        if folder_clips:
            (Path(tmp) / "clips").mkdir()
            report["folder"] = bench_folder(folder, folder_clips, Path(tmp) / "clips")
    return report
