"""Training end to end on an espeak-ng spoken-word set: learning, export, resume, DDP, init."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from ast_core.audio.decode import load_audio
from ast_core.model.checkpoints import load_model
from ast_core.run.classifier import Classifier
from tests.support.speech_data import FAST_ARGS, spoken_words
from trainer.cli import main
from trainer.config import make_config
from trainer.models import initial_model
from trainer.progress import JsonlReporter
from trainer.state import CHECKPOINT, load_checkpoint

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> Path:
    return spoken_words(tmp_path_factory.getbasetemp() / "spoken-words")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.getbasetemp() / "feature-cache"


def run_cli(args: list[str]) -> tuple[int, list[dict]]:
    """`main(args + --progress jsonl)` in this process; returns (status, events)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main([*args, "--progress", "jsonl"])
    return rc, [json.loads(line) for line in buf.getvalue().splitlines()]


def of(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["event"] == kind]


@pytest.fixture(scope="module")
def trained(speech, cache_dir, tmp_path_factory):
    """10 epochs from scratch on 10 voices; validated on 4 other voices."""
    out = tmp_path_factory.mktemp("words") / "run"
    t0 = time.time()
    rc, events = run_cli([str(speech / "train"), "--val-dir", str(speech / "val"),
                          "--out", str(out), *FAST_ARGS, "--epochs", "10", "--lr", "1e-3",
                          "--warmup-steps", "10", "--schedule", "cosine",
                          "--cache-dir", str(cache_dir)])
    assert rc == 0, of(events, "error")
    return out, events, time.time() - t0


def test_spoken_words_train_well_above_chance(trained, speech):
    out, events, seconds = trained
    (start,) = of(events, "start")
    assert start["labels"] == ["down", "no", "up", "yes"] and start["train_clips"] == 160
    epochs = of(events, "epoch")
    assert [e["epoch"] for e in epochs] == list(range(1, 11))
    assert len(of(events, "checkpoint")) == 10
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"]
    e = epochs[-1]
    assert e["eta_s"] == 0 and e["samples_per_s"] > 0
    assert np.array(e["val"]["confusion"]).sum() == 64
    (done,) = of(events, "done")
    acc = done["metrics"]["val"]["accuracy"]
    print(f"\nspoken words: val accuracy {acc:.3f} (chance 0.25) in {seconds:.1f} s, "
          f"{np.median([x['samples_per_s'] for x in epochs]):.1f} clips/s")
    assert acc >= 0.5, f"held-out voices accuracy {acc} (chance 0.25)"
    assert Path(done["model"]) == out / "model"


def test_exported_model_loads_in_classifier_and_transformers(trained, speech):
    out, events, _ = trained
    clf = Classifier.load(out / "model", device="cpu", precision="fp32")  # exact parity
    assert clf.labels == ["down", "no", "up", "yes"] and clf.label_mode == "single"
    assert clf.fbank.target_length == 96
    training = clf.loaded.extra["training"]
    assert training["metrics"]["val"]["accuracy"] == of(events, "done")[0]["metrics"]["val"][
        "accuracy"]
    assert training["config"]["init"] == "scratch" and len(training["history"]) == 10
    wave = load_audio(speech / "val" / "yes" / "en-us-nyc 130 35.wav")
    pred = clf.predict(wave)
    assert pred.scores.sum() == pytest.approx(1.0, abs=1e-5)

    from transformers import ASTForAudioClassification

    hf = ASTForAudioClassification.from_pretrained(out / "model").eval()
    x = clf._inputs(wave[None].astype(np.float32))
    with torch.inference_mode():
        assert (hf(x).logits - clf.model(x)).abs().max() <= 1e-4


def test_resume_after_kill_reproduces_next_epochs(speech, cache_dir, tmp_path, monkeypatch):
    args = [str(speech / "val"), *FAST_ARGS, "--depth", "1", "--epochs", "3", "--lr", "1e-3",
            "--mixup", "0.5", "--freqm", "24", "--timem", "24", "--val-fraction", "0.25",
            "--schedule", "cosine", "--cache-dir", str(cache_dir)]
    rc, full = run_cli([*args, "--out", str(tmp_path / "full")])
    assert rc == 0

    class KilledAfterFirstCheckpoint(JsonlReporter):
        def _emit(self, event, fields):
            super()._emit(event, fields)
            if event == "checkpoint":
                raise KeyboardInterrupt  # as if the process died right after the write

    monkeypatch.setattr("trainer.cli.make_reporter",
                        lambda kind, enabled=True: KilledAfterFirstCheckpoint(enabled))
    rc, first = run_cli([*args, "--out", str(tmp_path / "cut")])
    assert rc == 130 and [e["epoch"] for e in of(first, "epoch")] == [1]
    ck = load_checkpoint(tmp_path / "cut" / CHECKPOINT)  # weights_only=True inside
    assert ck["epoch"] == 1 and set(ck["rng"][0]) == {"python", "numpy", "torch", "cuda"}
    monkeypatch.undo()

    rc, rest = run_cli(["--out", str(tmp_path / "cut"), "--resume"])
    assert rc == 0
    assert of(rest, "start")[0]["first_epoch"] == 2
    want = {e["epoch"]: e for e in of(full, "epoch")}
    for got in of(rest, "epoch"):
        ref = want[got["epoch"]]
        assert got["train_loss"] == pytest.approx(ref["train_loss"], abs=1e-6)
        assert got["val"]["loss"] == pytest.approx(ref["val"]["loss"], abs=1e-6)
        assert got["val"]["confusion"] == ref["val"]["confusion"]
    assert [e["epoch"] for e in of(rest, "epoch")] == [2, 3]


def test_ddp_two_cpu_processes(speech, cache_dir, tmp_path):
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "trainer", str(speech / "val"), "--out", str(out), *FAST_ARGS, "--depth", "1",
           "--epochs", "1", "--val-fraction", "0.25", "--cache-dir", str(cache_dir),
           "--progress", "jsonl", "--device", "cpu"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    (start,) = of(events, "start")  # only rank 0 reports
    assert start["world"] == 2 and start["steps_per_epoch"] == 2  # 48 clips / 2 ranks / 16
    assert len(of(events, "checkpoint")) == 1 and len(of(events, "done")) == 1
    assert load_checkpoint(out / CHECKPOINT)["epoch"] == 1
    assert len(load_checkpoint(out / CHECKPOINT)["rng"]) == 2  # one RNG state per rank
    assert sorted(p.name for p in out.iterdir()) == ["best.safetensors", "checkpoint.pt",
                                                      "model", "run.json"]


def test_imagenet_init_from_local_timm_file(speech, cache_dir, tmp_path):
    import timm
    from safetensors.torch import save_file

    vit = timm.create_model("deit_tiny_distilled_patch16_224", pretrained=False)
    weights = tmp_path / "deit tiny.safetensors"
    save_file({k: v.contiguous() for k, v in vit.state_dict().items()}, weights)
    cfg = make_config("speechcommands", init="imagenet", size="tiny", imagenet_weights=str(weights),
                      fstride=16, tstride=16, target_length=96)
    model = initial_model(cfg, ["a", "b"], "single")
    assert model.cfg.grid == (8, 6)
    assert torch.equal(model.blocks[3].attn.qkv.weight, vit.blocks[3].attn.qkv.weight)
    assert torch.allclose(model.patch_embed.proj.weight[:, 0], vit.patch_embed.proj.weight.sum(1))

    small = tmp_path / "small"  # 12-block model: keep the run to a few clips
    for word in ("yes", "no"):
        (small / word).mkdir(parents=True)
        for f in sorted((speech / "val" / word).iterdir())[:6]:
            shutil.copy(f, small / word)
    rc, events = run_cli([str(small), "--out", str(tmp_path / "run"), "--init",
                          "imagenet", "--imagenet-weights", str(weights), "--size", "tiny",
                          "--fstride", "16", "--tstride", "16", "--target-length", "96",
                          "--epochs", "1", "--batch-size", "8", "--lr", "1e-4",
                          "--val-fraction", "0.34",
                          "--cache-dir", str(cache_dir)])
    assert rc == 0, of(events, "error")
    assert Classifier.load(tmp_path / "run" / "model").model.cfg.depth == 12


def test_kfold_writes_one_model_per_fold(speech, cache_dir, tmp_path):
    rc, events = run_cli([str(speech / "val"), "--out", str(tmp_path / "cv"), *FAST_ARGS,
                          "--depth", "1", "--epochs", "1", "--folds", "2", "--balanced",
                          "--cache-dir", str(cache_dir)])
    assert rc == 0, of(events, "error")
    assert [e["fold"] for e in of(events, "done")] == [1, 2]
    summary = json.loads((tmp_path / "cv" / "folds.json").read_text())
    assert len(summary["runs"]) == 2 and 0 <= summary["mean"]["accuracy"] <= 1
    assert (tmp_path / "cv" / "fold2" / "model" / "config.json").exists()


def test_user_errors_are_one_line_and_status_2(speech, tmp_path, capsys):
    (tmp_path / "one" / "only").mkdir(parents=True)
    shutil.copy(speech / "train" / "yes" / "en-us 130 35.wav", tmp_path / "one" / "only")
    assert main([str(tmp_path / "one"), "--out", str(tmp_path / "o"), "--init", "scratch"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and "at least 2 labels" in err[-1]
    assert "Traceback" not in "\n".join(err)

    assert main(["--out", str(tmp_path / "nothing"), "--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err

    rc, events = run_cli([str(speech / "val"), "--out", str(tmp_path / "offline"),
                          "--init", "imagenet", "--size", "tiny", "--epochs", "1",
                          "--target-length", "96",
                          "--cache-dir", str(tmp_path / "c")])
    assert rc == 2
    assert "ImageNet weights" in of(events, "error")[0]["message"]
    assert main(["data", "--out", "x", "--size", "huge"]) == 2  # argparse's own message


def test_audioset_init_from_a_trained_model(trained, speech, cache_dir, tmp_path):
    """Any installed AST model can start a run; its position grid follows the new clip length."""
    source = trained[0] / "model"
    cfg = make_config("speechcommands", init="audioset", audioset_model=str(source),
                      target_length=128)
    model = initial_model(cfg, ["a", "b", "c"], "single")
    src = load_model(source).model
    assert model.cfg.grid == (8, 8) and src.cfg.grid == (8, 6)  # strides 16 kept from source
    assert torch.equal(model.blocks[1].mlp.fc2.weight, src.blocks[1].mlp.fc2.weight)
    rc, events = run_cli([str(speech / "val"), "--out", str(tmp_path / "as"), "--init",
                          "audioset", "--audioset-model", str(source), "--target-length", "128",
                          "--epochs", "1", "--batch-size", "16", "--lr", "1e-4",
                          "--cache-dir", str(cache_dir)])
    assert rc == 0, of(events, "error")
    assert Classifier.load(tmp_path / "as" / "model").fbank.target_length == 128
