"""`ast-studio bench --gpu`: our AST against transformers' on a CUDA GPU, same weights, one run.

Every time is taken with the device synchronised, so it is what a caller waits for. Sections:
per-clip latency at batch 1 and throughput at a larger batch (model only), agreement of our
bf16 with fp32, a folder of 10-s WAV files (decode and features included) and one hour of audio.
The CLI adds training samples/s (`bench.training_speed`).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from ast_core.audio import SAMPLE_RATE
from ast_core.run.loading import load_classifier
from bench.common import (
    agreement,
    bench_signals,
    model_folder,
    model_input,
    write_long_recording,
)


def _sync_ms(fn: Callable[[], object], repeats: int, warmup: int = 3) -> float:
    """Median wall time of `fn()` in ms, the GPU synchronised after each call."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _reference(folder: Path, dtype: torch.dtype):
    from transformers import ASTForAudioClassification

    ref = ASTForAudioClassification.from_pretrained(folder, attn_implementation="sdpa")
    return ref.to("cuda", dtype).eval()


def gpu_model(folder: Path, repeats: int, batch: int) -> dict:
    """Latency at batch 1 and clips/s at `batch`: ours (bf16, fp32) vs transformers (fp32, fp16)."""
    ours = {p: load_classifier(folder, "cuda", precision=p) for p in ("bf16", "fp32")}
    refs = {"fp32": _reference(folder, torch.float32), "fp16": _reference(folder, torch.float16)}
    wavs = bench_signals(ours["fp32"].window_seconds)
    clip = wavs[:1]
    many = np.resize(wavs, (batch, wavs.shape[1]))
    x1, xb = model_input(ours["fp32"], clip), model_input(ours["fp32"], many)
    out: dict = {"batch": batch}
    with torch.inference_mode():
        for p, clf in ours.items():  # end to end: features, model, scores back on the host
            out[f"ours_{p}_ms"] = _sync_ms(lambda clf=clf: clf.score_batch(clip), repeats)
            out[f"ours_{p}_model_ms"] = _sync_ms(lambda c=clf: c.model(x1.to(c.dtype)), repeats)
            out[f"ours_{p}_clips_per_s"] = batch * 1000 / _sync_ms(
                lambda c=clf: c.model(xb.to(c.dtype)), repeats
            )
        for p, ref in refs.items():
            out[f"transformers_{p}_model_ms"] = _sync_ms(
                lambda r=ref: r(x1.to(r.dtype)).logits, repeats
            )
            out[f"transformers_{p}_clips_per_s"] = batch * 1000 / _sync_ms(
                lambda r=ref: r(xb.to(r.dtype)).logits, repeats
            )
        diff = refs["fp32"](x1).logits - ours["fp32"].model(x1)
        out["max_abs_logit_diff_fp32"] = diff.abs().max().item()
    out["bf16_agreement"] = agreement(ours["fp32"], ours["bf16"], wavs)
    best_ref = min(out["transformers_fp32_model_ms"], out["transformers_fp16_model_ms"])
    out["latency_speedup_vs_transformers_fp32"] = out["transformers_fp32_model_ms"] / out[
        "ours_bf16_model_ms"]
    out["latency_speedup_vs_best_transformers"] = best_ref / out["ours_bf16_model_ms"]
    out["throughput_speedup_vs_transformers_fp16"] = (
        out["ours_bf16_clips_per_s"] / out["transformers_fp16_clips_per_s"]
    )
    return out


def gpu_folder(folder: Path, clips: int, tmp: Path) -> dict:
    """10-s WAV clips/s through `run_batch` on the GPU (decode, features, model, results), one
    and `clips_per_pass` files per forward pass, against transformers (fp16) doing the same."""
    from ast_core.run.batch import analyse_files, run_batch

    paths = []
    for i, wav in enumerate(np.resize(bench_signals(10.0), (clips, 10 * SAMPLE_RATE))):
        paths.append(str(tmp / f"clip{i:04d}.wav"))
        sf.write(paths[-1], wav, SAMPLE_RATE, subtype="PCM_16")
    clf = load_classifier(folder, "cuda")
    out: dict = {"clips": clips, "precision": clf.precision}
    for group, key in ((1, "one_per_pass"), (clf.clips_per_pass, "batched")):
        analyse_files(clf, paths[:group])  # warm-up
        t0 = time.perf_counter()
        run_batch(partial(analyse_files, clf), paths, clf.name, group=group)
        out[f"ours_clips_per_s_{key}"] = clips / (time.perf_counter() - t0)
    out["clips_per_pass"] = clf.clips_per_pass
    from transformers import ASTFeatureExtractor

    fe = ASTFeatureExtractor.from_pretrained(folder)
    ref = _reference(folder, torch.float16)

    def reference(group: list[str]) -> None:  # soundfile, feature extractor, fp16 model
        audio = [sf.read(p, dtype="float32")[0] for p in group]
        x = fe(audio, sampling_rate=SAMPLE_RATE, return_tensors="pt")["input_values"]
        with torch.inference_mode():
            ref(x.to("cuda", torch.float16)).logits.sigmoid().cpu()

    for group, key in ((1, "one_per_pass"), (clf.clips_per_pass, "batched")):
        reference(paths[:group])
        t0 = time.perf_counter()
        for i in range(0, clips, group):
            reference(paths[i : i + group])
        out[f"transformers_fp16_clips_per_s_{key}"] = clips / (time.perf_counter() - t0)
    out["speedup_batched"] = (
        out["ours_clips_per_s_batched"] / out["transformers_fp16_clips_per_s_batched"]
    )
    return out


def gpu_long(folder: Path, tmp: Path, hours: float = 1.0) -> dict:
    """Seconds to score `hours` of audio window by window (model window, 50 % hop)."""
    audio = write_long_recording(tmp / "long.wav", hours * 3600)
    clf = load_classifier(folder, "cuda")
    t0 = time.perf_counter()
    ws = clf.score_file(audio)
    return {"hours": hours, "windows": len(ws.starts), "batch_size": clf.batch_size,
            "seconds": time.perf_counter() - t0}


def run_gpu_bench(
    model_source: str | None = None,
    size: str = "base384",
    repeats: int = 20,
    batch: int = 32,
    folder_clips: int = 200,
    stride: int = 10,
) -> dict:
    """The `gpu` section of `ast-studio bench` (needs CUDA)."""
    if not torch.cuda.is_available():
        return {"error": "no CUDA device"}
    report: dict = {"device": torch.cuda.get_device_name(), "torch": torch.__version__}
    with tempfile.TemporaryDirectory() as tmp:
        folder, report["weights"] = model_folder(model_source, size, Path(tmp) / "m", stride)
        report["model"] = gpu_model(folder, repeats, batch)
        (Path(tmp) / "clips").mkdir()
        report["folder"] = gpu_folder(folder, folder_clips, Path(tmp) / "clips")
        report["long"] = gpu_long(folder, Path(tmp))
    return report
