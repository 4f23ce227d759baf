"""Features equal transformers' ASTFeatureExtractor and a direct kaldi.fbank call."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf
import torch
from torchaudio.compliance import kaldi

from ast_core.audio import SAMPLE_RATE
from ast_core.audio.features import PRESETS, FbankConfig, compute_fbank, features, normalize


def _tone(seconds: float = 3.0, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(SAMPLE_RATE * seconds)) / SAMPLE_RATE
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _noise(seconds: float = 4.0) -> np.ndarray:
    noise = np.random.default_rng(1).standard_normal(int(SAMPLE_RATE * seconds))
    return (0.1 * noise).astype(np.float32)


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> np.ndarray:
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is missing: run `make test` (it installs the Debian packages)")
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-w", str(path), "the quick brown fox jumps"], check=True
    )
    wav, rate = sf.read(path, dtype="float32")
    return torch.from_numpy(wav)[None].float()
    # espeak speaks at 22.05 kHz; resampled to SAMPLE_RATE in the test that needs it


def _signals(speech) -> dict[str, np.ndarray]:
    from torchaudio.functional import resample

    return {
        "speech": resample(speech, 22050, SAMPLE_RATE)[0].numpy(),
        "tone": _tone(),
        "noise": _noise(),
    }


@pytest.mark.parametrize("preset", ["audioset", "esc50", "speechcommands"])
@pytest.mark.parametrize("kind", ["speech", "tone", "noise"])
def test_matches_transformers_feature_extractor(speech, preset, kind):
    from transformers import ASTFeatureExtractor

    cfg = PRESETS[preset]
    wav = _signals(speech)[kind]
    fe = ASTFeatureExtractor(max_length=cfg.target_length, mean=cfg.mean, std=cfg.std)
    ref = fe(wav, sampling_rate=SAMPLE_RATE, return_tensors="np")["input_values"][0]
    ours = features(torch.from_numpy(wav)[None], cfg)[0].numpy()
    assert ours.shape == (cfg.target_length, 128)
    exact = features(torch.from_numpy(wav).double()[None], cfg)[0].numpy()
    assert np.abs(ours - exact).max() <= 1e-4
    if kind == "noise":
        # transformers skips the reference's mean subtraction and rounds in float32: on white
        # noise its lowest mel bin is itself ~1.1e-4 from the exact (float64) value.
        assert np.abs(ours - ref).max() <= 1e-4 + np.abs(exact - ref).max()
        assert np.mean(np.abs(ours - ref) > 1e-4) < 1e-4
    else:
        assert np.abs(ours - ref).max() <= 1e-4


@pytest.mark.parametrize("kind", ["speech", "tone", "noise"])
def test_matches_direct_kaldi_call_with_reference_arguments(speech, kind):
    wav = torch.from_numpy(_signals(speech)[kind])
    ref = kaldi.fbank(
        (wav - wav.mean())[None],
        htk_compat=True,
        sample_frequency=SAMPLE_RATE,
        use_energy=False,
        window_type="hanning",
        num_mel_bins=128,
        dither=0.0,
        frame_shift=10,
    )
    cfg = FbankConfig()
    ours = compute_fbank(wav[None], cfg)[0]
    assert ours.shape == ref.shape == (1 + (len(wav) - 400) // 160, 128)
    assert (ours - ref).abs().max() <= 1e-4
    # pad then normalise exactly as the reference
    padded = torch.nn.functional.pad(ref, (0, 0, 0, 1024 - ref.shape[0]))
    expected = (padded - (-4.2677393)) / (4.5689974 * 2)
    assert (normalize(ours[None], cfg)[0] - expected).abs().max() <= 1e-4


def test_batched_equals_one_by_one():
    wavs = torch.from_numpy(np.stack([_tone(2.0, 300), _tone(2.0, 2000), _noise(2.0)]))
    cfg = PRESETS["speechcommands"]
    batch = features(wavs, cfg)
    assert batch.shape == (3, 128, 128)
    for i in range(3):
        assert torch.equal(batch[i], features(wavs[i : i + 1], cfg)[0])


def test_crop_and_pad_to_target_length():
    cfg = FbankConfig(target_length=100)
    long = compute_fbank(torch.from_numpy(_tone(3.0))[None], cfg)
    assert long.shape[1] == 298
    assert torch.equal(normalize(long, cfg), (long[:, :100] - cfg.mean) / (2 * cfg.std))
    short = compute_fbank(torch.from_numpy(_tone(0.5))[None], cfg)
    out = normalize(short, cfg)
    assert out.shape == (1, 100, 128)
    assert torch.allclose(out[0, short.shape[1] :], torch.full((1,), -cfg.mean / (2 * cfg.std)))


def test_frame_length_and_shift_are_configurable():
    wav = torch.from_numpy(_tone(1.0))[None]
    coarse = compute_fbank(wav, FbankConfig(frame_length_ms=50.0, frame_shift_ms=20.0))
    assert coarse.shape == (1, 1 + (SAMPLE_RATE - 800) // 320, 128)


def test_config_round_trip_and_window():
    cfg = PRESETS["esc50"]
    assert FbankConfig.from_dict(cfg.to_dict() | {"unknown": 1}) == cfg
    n = cfg.frames_to_samples(cfg.target_length)
    assert compute_fbank(torch.zeros(1, n) + 0.01, cfg).shape[1] == cfg.target_length


def test_one_sample_clip_still_gives_a_frame():
    out = features(torch.full((1, 1), 0.3), PRESETS["speechcommands"])
    assert out.shape == (1, 128, 128) and torch.isfinite(out).all()
