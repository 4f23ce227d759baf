"""Trainer pieces without training: data sources, pre-flight, splits, cache, augmentation,
metrics, config and learning-rate schedule."""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf
import torch

from ast_core.audio import SAMPLE_RATE
from ast_core.audio.features import PRESETS as FBANK_PRESETS
from tests.support.audio_corpus import write_bad_corpus, write_tone
from trainer import metrics
from trainer.augment import SpecAugment, mixup
from trainer.config import TrainConfig, make_config, preset_for_duration
from trainer.data import (
    DataError,
    kfold_splits,
    load_source,
    preflight,
    read_manifest,
    scan_folder,
    train_val_split,
)
from trainer.feature_cache import FeatureCache
from trainer.loop import get_lr


def _tones(folder, n, freq, seconds=0.5, ext="wav"):
    folder.mkdir(parents=True, exist_ok=True)
    return [write_tone(folder / f"tone {i}.{ext}", freq + 10 * i, seconds) for i in range(n)]


def test_scan_folder_nested_unicode_uppercase(tmp_path):
    _tones(tmp_path / "dög bark", 2, 300)
    _tones(tmp_path / "dög bark" / "more" / "deeper", 1, 500, ext="WAV")
    (tmp_path / "cat").mkdir()
    write_tone(tmp_path / "cat" / "ä b.FLAC")
    (tmp_path / "cat" / "notes.txt").write_text("not audio")
    (tmp_path / "stray.wav").write_bytes(b"")  # files at the root have no label: ignored
    data = scan_folder(tmp_path)
    assert data.labels == ["cat", "dög bark"]
    assert len(data.clips) == 4 and not data.multi_label
    assert sum(c.labels == ("dög bark",) for c in data.clips) == 3
    assert data.targets().sum(0).tolist() == [1.0, 3.0]


def test_manifest_multilabel_relative_paths(tmp_path):
    sub = tmp_path / "audio"
    _tones(sub, 3, 400)
    csv = tmp_path / "list.csv"
    csv.write_text("path,labels\naudio/tone 0.wav,dog;bark\n"
                   f"{sub / 'tone 1.wav'},dog\n\n\"audio/tone 2.wav\", cat ; bark \n")
    data = load_source(csv)
    assert data.multi_label and data.labels == ["bark", "cat", "dog"]
    assert data.clips[0].path == str(sub / "tone 0.wav")
    assert data.clips[2].labels == ("bark", "cat")
    csv.write_text("audio/tone 0.wav,\n")
    with pytest.raises(DataError, match="no label"):
        read_manifest(csv)


def test_preflight_reports_bad_files_with_reasons(tmp_path):
    _tones(tmp_path / "high", 3, 900)
    _tones(tmp_path / "low", 3, 200)
    bad = write_bad_corpus(tmp_path / "low" / "bad")
    silent = tmp_path / "high" / "silent.wav"
    sf.write(silent, np.zeros(SAMPLE_RATE // 2, np.float32), SAMPLE_RATE)
    short = write_tone(tmp_path / "high" / "short.wav", seconds=0.02)
    report = preflight(scan_folder(tmp_path))
    reasons = dict(report.problems)
    assert "silent" in reasons[str(silent)]
    assert "too short" in reasons[str(short)]
    assert reasons[str(bad["empty"])] == "file is empty (0 bytes)"
    assert "not an audio file" in reasons[str(bad["random_wav"])]
    assert "truncated or corrupt" in reasons[str(bad["truncated_flac"])]
    assert "NaN" in reasons[str(bad["nan_float"])]
    assert "too short" in reasons[str(bad["one_sample"])]  # decodes, but 1 sample
    assert report.clips_per_label() == {"high": 3, "low": 4}  # + the streamed WAV (valid)
    assert report.sample_rates[SAMPLE_RATE] == 7
    report.check()  # usable despite the bad files
    d = report.to_dict()
    assert d["usable"] == 7 and len(d["problems"]) == len(report.problems)
    assert "skipped" in report.summary()


def test_preflight_refuses_one_label_and_empty_label(tmp_path):
    _tones(tmp_path / "only", 2, 300)
    with pytest.raises(DataError, match="at least 2 labels.*'only'"):
        preflight(scan_folder(tmp_path)).check()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "x.wav").write_bytes(b"RIFF")
    with pytest.raises(DataError, match="no usable clip for label.*broken"):
        preflight(scan_folder(tmp_path)).check()
    with pytest.raises(DataError, match="not found"):
        scan_folder(tmp_path / "nope")


def test_stratified_split_and_kfold(tmp_path):
    for label, f in (("a", 200), ("b", 600), ("c", 1200)):
        _tones(tmp_path / label, 10, f, seconds=0.05)
    data = scan_folder(tmp_path)
    train, val = train_val_split(data, data.clips, 0.2, seed=1)
    assert len(val) == 6 and sorted(c.labels[0] for c in val) == ["a"] * 2 + ["b"] * 2 + ["c"] * 2
    assert train_val_split(data, data.clips, 0.2, seed=1) == (train, val)
    folds = kfold_splits(data, data.clips, 5, seed=0)
    assert len(folds) == 5
    assert sorted(c.path for _, va in folds for c in va) == sorted(c.path for c in data.clips)
    with pytest.raises(DataError, match="at least 11 clips"):
        kfold_splits(data, data.clips, 11, seed=0)


def test_feature_cache_hits_and_keys(tmp_path, monkeypatch):
    files = _tones(tmp_path / "a", 3, 300, seconds=0.3)
    cfg = FBANK_PRESETS["speechcommands"]
    cache = FeatureCache(tmp_path / "cache", cfg)
    entries = cache.prepare([str(f) for f in files])
    assert cache.misses == 3 and all(e.exists() for e in entries)
    x = np.load(entries[0])
    assert x.shape == (128, 128) and x.dtype == np.float32
    assert np.allclose(x, cache.compute(files[0]))

    again = FeatureCache(tmp_path / "cache", cfg)
    monkeypatch.setattr("trainer.feature_cache.load_audio", lambda p: pytest.fail("decoded"))
    assert again.prepare([str(f) for f in files]) == entries and again.hits == 3
    other = FeatureCache(tmp_path / "cache", FBANK_PRESETS["esc50"])
    assert other.entry(files[0]) != entries[0]  # another config, another entry
    assert not list((tmp_path / "cache").rglob("*.tmp"))


def test_specaugment_and_mixup():
    torch.manual_seed(0)
    x = torch.randn(4, 128, 128) + 5
    y = torch.eye(4)
    masked = SpecAugment(48, 48)(x)
    assert masked.shape == x.shape and (masked == 0).any() and (masked != 0).any()
    assert torch.equal(SpecAugment(0, 0)(x), x)
    mx, my = mixup(x, y, prob=1.0)
    assert torch.allclose(my.sum(1), torch.ones(4))
    lam = my.max(1).values
    assert ((lam > 0.5) & (lam < 0.9)).all()  # Beta(10,10) stays near 1/2
    assert mixup(x, y, prob=0.0)[0] is x


def test_metrics():
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    targets = np.array([[1, 0], [0, 1], [0, 1], [0, 1]], float)
    assert metrics.accuracy(scores, targets) == 0.75
    assert metrics.confusion(scores, targets).tolist() == [[1, 0], [1, 2]]
    out = metrics.evaluate(scores, targets, ["a", "b"])
    assert out["ap"]["a"] == pytest.approx(1.0) and out["mAP"] == pytest.approx(1.0)
    no_pos = metrics.evaluate(scores, np.array([[0, 1]] * 4, float), ["a", "b"])
    assert no_pos["ap"]["a"] is None and no_pos["mAP"] == pytest.approx(1.0)


def test_config_presets_and_lr_schedule():
    assert preset_for_duration(1.0) == "speechcommands"
    assert preset_for_duration(5.0) == "esc50"
    assert preset_for_duration(10.0) == "audioset"
    cfg = make_config("audioset", lr=None, epochs=3)
    assert (cfg.lr, cfg.epochs, cfg.wa_last, cfg.fbank.target_length) == (5e-5, 3, 20, 1024)
    assert make_config("speechcommands", target_length=96).fbank.target_length == 96
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="depth applies"):
        TrainConfig(depth=2)
    step = make_config("esc50", lr=1.0, warmup_steps=4)
    assert [get_lr(step, s, 1, 100) for s in range(5)] == [0.25, 0.5, 0.75, 1.0, 1.0]
    assert get_lr(step, 10, 5, 100) == 1.0 and get_lr(step, 10, 6, 100) == 0.85
    cos = make_config("esc50", lr=1.0, schedule="cosine")
    assert get_lr(cos, 100, 1, 100) == pytest.approx(0.01)
    assert get_lr(cos, 50, 1, 100) == pytest.approx(0.01 + 0.99 * 0.5)
    assert not math.isnan(get_lr(cos, 0, 1, 1))
