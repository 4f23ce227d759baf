"""Inference and training on a CUDA GPU: the same answers as the CPU and as transformers.

These run only where torch sees a CUDA device (the project's CI machine has none); run them
there with `python -m pytest tests/unit/test_cuda.py`.
"""

from __future__ import annotations

import contextlib
import io
import json
from functools import partial

import numpy as np
import pytest
import soundfile as sf
import torch

from ast_core.audio import SAMPLE_RATE
from ast_core.run.classifier import Classifier
from tests.support.beep_model import beep, noise
from tests.support.model_factory import tiny_config
from tests.unit.test_model_parity import _hf_model

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _clips(count: int, samples: int, seed: int = 3) -> np.ndarray:
    """`(count, samples)` noise clips, every other one with a beep in it."""
    rng = np.random.default_rng(seed)
    clips = np.stack([noise(rng, samples) for _ in range(count)])
    clips[::2, samples // 4 : samples // 2] += beep(samples // 2 - samples // 4)
    return clips


def test_cuda_fp32_logits_match_transformers_on_cuda(tmp_path):
    cfg = tiny_config(target_length=300, num_labels=7, layer_norm_eps=1e-12, head_norm_eps=1e-12)
    hf = _hf_model(cfg)
    hf.save_pretrained(tmp_path / "hf")
    clf = Classifier.load(tmp_path / "hf", "cuda", precision="fp32")
    assert clf.device.type == "cuda" and next(clf.model.parameters()).is_cuda
    x = torch.randn(3, 300, 128, device="cuda")
    with torch.inference_mode():
        ref = hf.to("cuda")(x).logits
        assert (clf.model(x) - ref).abs().max() <= 1e-4


def test_cuda_scores_equal_cpu_scores_and_bf16_agrees(beep_model):
    clips = _clips(8, 16400)
    cpu = Classifier.load(beep_model, "cpu", precision="fp32").score_batch(clips)
    gpu = Classifier.load(beep_model, "cuda", precision="fp32")
    assert np.abs(gpu.score_batch(clips) - cpu).max() <= 1e-4
    bf16 = Classifier.load(beep_model, "cuda")  # auto: bf16 on GPUs that have it
    assert bf16.precision == "bf16"
    fast = bf16.score_batch(clips)
    assert np.abs(fast - cpu).max() <= 0.02 and (fast.argmax(1) == cpu.argmax(1)).all()
    assert cpu[::2, 0].min() > 0.9  # the beeps are heard


def test_cuda_long_audio_in_batches_equals_one_window_at_a_time(beep_model):
    wav = np.concatenate(list(_clips(12, SAMPLE_RATE)))  # 12 s, beeps in every other second
    gpu = Classifier.load(beep_model, "cuda", precision="fp32")
    assert gpu.batch_size > 2
    batched = gpu.score_windows(wav, 1.0, 0.25)
    single = gpu.score_windows(wav, 1.0, 0.25, batch_size=1)
    cpu = Classifier.load(beep_model, "cpu", precision="fp32").score_windows(wav, 1.0, 0.25)
    assert len(batched.starts) == 45 and np.array_equal(batched.starts, cpu.starts)
    assert np.abs(batched.scores - single.scores).max() <= 1e-4
    assert np.abs(batched.scores - cpu.scores).max() <= 1e-4


def test_cuda_folder_files_scored_together_equal_cpu_one_by_one(beep_model, tmp_path):
    from ast_core.run.batch import analyse_files, run_batch

    clips = _clips(11, SAMPLE_RATE)
    paths = []
    for i, clip in enumerate(clips):  # 0.5 to 1 s: all within the model's window
        paths.append(str(tmp_path / f"{i:02d}.wav"))
        sf.write(paths[-1], clip[: SAMPLE_RATE // 2 + i * SAMPLE_RATE // 20], SAMPLE_RATE)
    (tmp_path / "bad.wav").write_text("not audio")
    paths.insert(4, str(tmp_path / "bad.wav"))
    cpu = Classifier.load(beep_model, "cpu", precision="fp32")
    gpu = Classifier.load(beep_model, "cuda", precision="fp32")
    groups: list[int] = []

    def analyse(group: list[str]) -> list[dict]:
        groups.append(len(group))
        return analyse_files(gpu, group)

    expected = run_batch(partial(analyse_files, cpu), paths, cpu.name)
    got = run_batch(analyse, paths, gpu.name, group=gpu.clips_per_pass)
    assert groups == [8, 4] and got[4]["error"] and "bad.wav" in got[4]["error"]
    for a, b in zip(expected, got, strict=True):
        assert (a["file"], a["error"]) == (b["file"], b["error"])
        assert [t["label"] for t in a["top"]] == [t["label"] for t in b["top"]]
        assert np.allclose([t["score"] for t in a["top"]], [t["score"] for t in b["top"]],
                           atol=1e-4)
    beeps = [r for r in got if not r["error"]][::2]
    assert all(r["top"][0]["label"] == "beep" and r["top"][0]["score"] > 0.99 for r in beeps)


def test_cuda_training_learns_and_the_model_runs_on_the_cpu(tmp_path):
    from trainer.cli import main

    rng = np.random.default_rng(0)
    for label in ("beep", "quiet"):
        (tmp_path / "data" / label).mkdir(parents=True)
        for i in range(64):
            x = noise(rng, SAMPLE_RATE)
            if label == "beep":
                x[4000:12000] += beep(8000)
            sf.write(tmp_path / "data" / label / f"{i}.wav", x, SAMPLE_RATE)
    out = tmp_path / "run"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main([str(tmp_path / "data"), "--out", str(out), "--device", "cuda", "--amp", "bf16",
                   "--init", "scratch", "--size", "tiny", "--depth", "2", "--fstride", "16",
                   "--tstride", "16", "--target-length", "96", "--preset", "speechcommands",
                   "--mixup", "0", "--freqm", "0", "--timem", "0", "--batch-size", "8",
                   "--epochs", "20", "--lr", "1e-4", "--warmup-steps", "5",
                   "--schedule", "cosine", "--val-fraction", "0.25",
                   "--cache-dir", str(tmp_path / "cache"), "--progress", "jsonl"])
    events = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert rc == 0, [e for e in events if e["event"] == "error"]
    assert next(e for e in events if e["event"] == "start")["device"].startswith("cuda")
    assert [e for e in events if e["event"] == "epoch"][-1]["train_loss"] < 0.1
    (done,) = [e for e in events if e["event"] == "done"]
    assert done["metrics"]["val"]["accuracy"] >= 0.9
    clf = Classifier.load(out / "model", "cpu", precision="fp32")
    scores = clf.score_batch(_clips(4, SAMPLE_RATE, seed=9))
    assert [clf.labels[i] for i in scores.argmax(1)] == ["beep", "quiet", "beep", "quiet"]
