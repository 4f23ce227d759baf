"""A small AST actually trained (in seconds) to hear 1-kHz beeps over noise, for tests that
need a model whose answers are known: event times, long-file scans, live label changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ast_core.audio.features import FbankConfig, features
from ast_core.model.checkpoints import save_model
from ast_core.model.transformer import AudioSpectrogramTransformer, ModelConfig

RATE = 16_000
LABELS = ["beep", "background"]


def noise(rng: np.random.Generator, n: int, level: float = 0.05) -> np.ndarray:
    return (level * rng.standard_normal(n)).astype(np.float32)


def beep(n: int, freq: float = 1000.0, level: float = 0.3) -> np.ndarray:
    t = np.arange(n) / RATE
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)  # 10 ms fades, no clicks
    return (level * ramp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _clip(rng: np.random.Generator, n: int, with_beep: bool) -> np.ndarray:
    x = noise(rng, n, level=rng.uniform(0.01, 0.1))
    if with_beep:
        length = int(rng.uniform(0.2, 0.6) * RATE)
        start = int(rng.integers(0, n - length))
        x[start : start + length] += beep(length, level=rng.uniform(0.2, 0.5))
    return x


def _band_detector(fbank: FbankConfig) -> AudioSpectrogramTransformer:
    """A 1-block AST whose weights are set by hand so that its prefix tokens read the mean
    normalised energy of mel bins 43-44 (where 1 kHz falls) over the window.

    Patches are 16x16 without overlap (8 x 6 grid); the patch embedding averages those two mel
    bins of each patch; a large constant channel keeps every LayerNorm close to linear; the
    position embedding marks the patch row holding them (row 2: mel 32-47) so that the
    prefix tokens' attention (head 0) goes to that row only; the value path carries the band
    energy into channel 4 of the prefix tokens. The MLP is zero, so it adds nothing.
    """
    cfg = ModelConfig.for_size(
        "tiny",
        depth=1,
        fstride=16,
        tstride=16,
        target_length=100,
        num_labels=2,
        label_mode="single",
    )
    model = AudioSpectrogramTransformer(cfg).eval()
    big, mark, gain = 10.0, 5.0, 2.0
    f, t = cfg.grid
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        for m in model.modules():
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.fill_(1.0)
        model.patch_embed.proj.weight[0, 0, 11:13, :] = 1.0 / 32  # mean of mel 43-44, 16 frames
        model.patch_embed.proj.bias[1] = big
        model.cls_token[0, 0, 1] = big
        model.dist_token[0, 0, 1] = big
        band_row = slice(2 + 2 * t, 2 + 3 * t)  # after the 2 prefix tokens, patch row 2
        model.pos_embed[0, band_row, 3] = mark
        dim = cfg.embed_dim
        qkv = model.blocks[0].attn.qkv.weight
        qkv[0, 1] = gain  # head 0 query <- the constant channel of the prefix tokens
        qkv[dim, 3] = 1.0  # head 0 key <- the band-row mark
        qkv[2 * dim, 0] = 1.0  # head 0 value <- band energy
        model.blocks[0].attn.proj.weight[4, 0] = 1.0
    return model


def _band_feature(model: AudioSpectrogramTransformer, fbank: FbankConfig, wav: np.ndarray):
    """The head's input channel 4 for each clip: `(batch, samples) -> (batch,)`."""
    with torch.inference_mode():
        x = features(torch.from_numpy(wav), fbank)
        return model.head_norm(model.pool(model.forward_features(x)))[:, 4].numpy()


def train_beep_model(folder: str | Path, clips: int = 64, seed: int = 0) -> Path:
    """The band detector with its 2-number head fitted on clips with and without a beep.

    The score for "beep" is a sigmoid of the 1-kHz band energy: the threshold sits halfway
    between the most beep-like noise clip and the least beep-like beep clip (a 0.25-s beep
    of level 0.3 over noise of level 0.05). Saved as a model folder in the one format.
    """
    rng = np.random.default_rng(seed)
    fbank = FbankConfig(target_length=100, mean=-8.0, std=4.0)
    model = _band_detector(fbank)
    n = fbank.frames_to_samples(100)
    quiet = np.stack([noise(rng, n) for _ in range(clips)])
    beeps = quiet.copy()
    length = int(0.25 * RATE)
    for row in beeps:
        start = int(rng.integers(0, n - length))
        row[start : start + length] += beep(length)
    lo, hi = _band_feature(model, fbank, quiet).max(), _band_feature(model, fbank, beeps).min()
    if not hi > lo:
        raise RuntimeError(f"band detector cannot separate beeps ({lo:.3f} >= {hi:.3f})")
    thr, alpha = float(lo + hi) / 2, 8.0 / float(hi - lo)  # p(beep) ~ 0.98 at the margins
    with torch.no_grad():  # softmax over [a(z - thr)/2, -a(z - thr)/2] = sigmoid(a(z - thr))
        model.head.weight[0, 4], model.head.weight[1, 4] = alpha / 2, -alpha / 2
        model.head.bias[0], model.head.bias[1] = -alpha * thr / 2, alpha * thr / 2
    return save_model(folder, model, LABELS, fbank, {"trained_for": "tests: 1-kHz beeps"})
