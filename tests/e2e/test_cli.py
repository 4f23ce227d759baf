"""`ast-studio` headless commands, run as users run them: in a subprocess."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from tests.support.audio_corpus import BAD_CASES, write_bad_corpus, write_tone
from tests.support.model_factory import (
    hf_cache_entry,
    make_model,
    reference_state_dict,
    save_tiny_folder,
    tiny_config,
)

HUB_ID = "MIT/ast-finetuned-audioset-10-10-0.4593"


@pytest.fixture
def env(tmp_path):
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    return {
        **os.environ,
        "AST_STUDIO_DATA_DIR": str(tmp_path / "data"),
        "HF_HUB_CACHE": str(cache),
        "HF_HUB_OFFLINE": "1",
    }


def cli(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def model_dir(tmp_path):
    return save_tiny_folder(tmp_path / "tiny", labels=["hum", "hiss", "click"], target_length=200)


def test_help_lists_every_command(env):
    from app.cli import command_names

    r = cli(env, "--help")
    assert r.returncode == 0, r.stderr
    listed = re.findall(r"^    (\S+)  ", r.stdout, flags=re.MULTILINE)
    assert listed == command_names()
    assert set(listed) == {"classify", "models", "download", "import", "train", "listen",
                           "bench", "gui"}


@pytest.mark.parametrize("command, options", [("train", ["--init", "--out", "--resume"]),
                                              ("listen", ["--precision", "--fit-window"])])
def test_command_help_shows_its_options(env, command, options):
    r = cli(env, command, "--help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"usage: ast-studio {command}")
    assert all(o in r.stdout for o in options)


def test_no_model_says_how_to_get_one(env, tmp_path):
    wav = write_tone(tmp_path / "a.wav")
    r = cli(env, "classify", str(wav))
    assert r.returncode == 2
    assert "ast-studio download" in r.stderr and "ast-studio import" in r.stderr
    assert "Traceback" not in r.stderr


def test_classify_json_with_good_and_bad_files(env, tmp_path, model_dir):
    good = write_tone(tmp_path / "tōne ä.WAV", seconds=1.5, rate=44100, channels=2)
    bad = write_bad_corpus(tmp_path / "bad")
    files = [str(good), *(str(p) for p in bad.values())]
    r = cli(env, "classify", *files, "--model", str(model_dir), "--format", "json", "--top-k", "2")
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    results = json.loads(r.stdout)
    assert [x["file"] for x in results] == files
    first = results[0]
    assert first["error"] is None and first["duration_s"] == pytest.approx(1.5, abs=1e-3)
    assert first["model"] == str(model_dir)
    assert [t["label"] for t in first["top"]] != [] and len(first["top"]) == 2
    assert all(0 < t["score"] < 1 for t in first["top"])
    for (case, expected), res in zip(BAD_CASES.items(), results[1:], strict=True):
        if expected == "valid":
            assert res["error"] is None, case
        else:
            assert expected in res["error"] and res["file"] in res["error"], case
            assert res["file"] in r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("ast-studio:")]
    assert len(errors) == sum(v != "valid" for v in BAD_CASES.values())


def test_classify_windows_json_and_scores_equal_the_library(env, tmp_path, model_dir):
    wav = write_tone(tmp_path / "long.flac", seconds=6.0, freq=1000)
    r = cli(
        env,
        "classify",
        str(wav),
        "--model",
        str(model_dir),
        "--format",
        "json",
        "--window",
        "2",
        "--hop",
        "1",
        "--top-k",
        "3",
    )
    assert r.returncode == 0, r.stderr
    [res] = json.loads(r.stdout)
    assert [(w["start_s"], w["end_s"]) for w in res["windows"]] == [
        (0.0, 2.0),
        (1.0, 3.0),
        (2.0, 4.0),
        (3.0, 5.0),
        (4.0, 6.0),
    ]
    from ast_core.audio.decode import load_audio
    from ast_core.run.classifier import Classifier

    ws = Classifier.load(model_dir, "cpu").score_windows(load_audio(wav), 2.0, 1.0)
    best = ws.scores.max(0)  # multi-label: a clip's score is its best window's
    assert res["top"][0]["score"] == pytest.approx(float(best.max()), abs=1e-5)
    assert res["windows"][2]["scores"][0]["score"] == pytest.approx(
        float(ws.scores[2].max()), abs=1e-5
    )


def test_long_clip_without_window_is_not_silently_cropped(env, tmp_path, model_dir):
    wav = write_tone(tmp_path / "long.wav", seconds=5.0)  # model window is 2 s
    quiet = np.zeros(16000 * 5, np.float32)
    quiet[16000 * 4 :] = np.random.default_rng(0).standard_normal(16000) * 0.5
    import soundfile as sf

    sf.write(tmp_path / "late.wav", quiet, 16000)
    r = cli(
        env,
        "classify",
        str(wav),
        str(tmp_path / "late.wav"),
        "--model",
        str(model_dir),
        "--format",
        "json",
        "--top-k",
        "3",
    )
    res = json.loads(r.stdout)
    from ast_core.audio.decode import load_audio
    from ast_core.run.classifier import Classifier

    clf = Classifier.load(model_dir, "cpu")
    quiet = load_audio(tmp_path / "late.wav")  # as the CLI reads it (16-bit quantised)
    late = clf.score_windows(quiet).scores.max(0)
    assert res[1]["top"][0]["score"] == pytest.approx(float(late.max()), abs=1e-5)
    assert res[1]["top"][0]["score"] != pytest.approx(float(clf.predict(quiet).scores.max()))


def test_csv_and_table_formats(env, tmp_path, model_dir):
    wav = write_tone(tmp_path / "a.ogg", seconds=1.0)
    r = cli(env, "classify", str(wav), "--model", str(model_dir), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [row["rank"] for row in rows] == ["1", "2", "3"]
    assert {row["label"] for row in rows} == {"hum", "hiss", "click"}
    r = cli(env, "classify", str(wav), "--model", str(model_dir))
    assert r.returncode == 0 and "a.ogg" in r.stdout and "%" in r.stdout


def test_hub_cache_model_is_listed_and_used_by_default(env, tmp_path, model_dir):
    from pathlib import Path

    hf_cache_entry(Path(env["HF_HUB_CACHE"]), HUB_ID, model_dir)
    r = cli(env, "models")
    assert r.returncode == 0
    assert f"* {HUB_ID}  [hub]" in r.stdout
    wav = write_tone(tmp_path / "a.mp3", seconds=1.0, format="MP3")
    r = cli(env, "classify", str(wav), "--format", "json")
    assert r.returncode == 0, r.stderr
    assert HUB_ID.replace("/", "--") in json.loads(r.stdout)[0]["model"]


def test_import_pth_then_classify_by_name(env, tmp_path):
    model = make_model(tiny_config(num_labels=35, target_length=128))
    torch.save(reference_state_dict(model), tmp_path / "speechcommands_10_10_0.9812.pth")
    r = cli(
        env,
        "import",
        str(tmp_path / "speechcommands_10_10_0.9812.pth"),
        "--labels",
        "speechcommands",
        "--name",
        "words",
        "--default",
    )
    assert r.returncode == 0, r.stderr
    wav = write_tone(tmp_path / "a.wav", seconds=1.0)
    r = cli(env, "classify", str(wav), "--format", "json", "--top-k", "35")
    assert r.returncode == 0, r.stderr
    top = json.loads(r.stdout)[0]["top"]
    assert sum(t["score"] for t in top) == pytest.approx(1.0, abs=1e-4)  # softmax model
    assert "backward" in {t["label"] for t in top}


def test_download_offline_is_a_clear_error(env):
    r = cli(env, "download", "MIT/ast-finetuned-speech-commands-v2")
    assert r.returncode == 2
    assert "import" in r.stderr and "Traceback" not in r.stderr


def test_bench_reports_ratios_against_transformers(env, tmp_path):
    out = tmp_path / "bench.json"
    r = cli(env, "bench", "--size", "tiny", "--repeats", "1", "--folder-clips", "2", "--startup",
            "--out", str(out))
    assert r.returncode == 0, r.stderr
    report = json.loads(out.read_text())
    m = report["model"]
    assert m["tokens"] == 1214 and m["max_abs_logit_diff_fp32"] <= 1e-4
    assert m["speedup_vs_transformers"] == pytest.approx(
        m["transformers_sdpa_fp32_ms"] / m["ours_ms"])
    assert m["agreement"]["clips"] == 3 and m["agreement"]["max_score_diff"] <= 0.02
    assert m["int8_agreement"]["clips"] == 3 and m["speedup_int8_vs_transformers"] > 0
    assert report["fbank_ms_per_10s"] > 0 and "random tiny" in report["weights"]
    assert m["matmul_gflops"] > 0 and m["floor_ms"] == pytest.approx(
        m["model_gflop"] / m["matmul_gflops"] * 1000)
    f = report["folder"]
    assert f["clips"] == 2 and f["speedup"] == pytest.approx(
        f["ours_clips_per_s"] / f["transformers_clips_per_s"])
    assert f["ours_int8_clips_per_s"] > 0
    s = report["startup"]
    assert s["model_state"] == "ready" and 0 < s["window_visible_s"] < s["model_ready_s"]


def test_model_gflop_matches_pytorchs_flop_counter():
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    from ast_core.model.transformer import ModelConfig
    from bench.cpu_inference import model_gflop
    from tests.support.model_factory import make_model

    cfg = ModelConfig.for_size("tiny", target_length=256, num_labels=3)
    model = make_model(cfg)
    counter = FlopCounterMode(display=False)
    # autograd on: plain linears and SDPA, here its maths path, whose matmuls the counter sees
    with counter, sdpa_kernel(SDPBackend.MATH):
        model(torch.zeros(1, 256, 128))
    assert model_gflop(cfg) * 1e9 == counter.get_total_flops()
