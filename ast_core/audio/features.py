"""Log-mel filterbank features exactly as the AST reference computes them.

`compute_fbank` is the one place that calls `torchaudio.compliance.kaldi.fbank`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torchaudio.compliance import kaldi

from ast_core.audio import SAMPLE_RATE


@dataclass(frozen=True)
class FbankConfig:
    """Everything needed to turn 16 kHz audio into the model's input spectrogram."""

    sample_rate: int = SAMPLE_RATE
    num_mel_bins: int = 128
    frame_length_ms: float = 25.0
    frame_shift_ms: float = 10.0
    window_type: str = "hanning"
    target_length: int = 1024
    mean: float = -4.2677393
    std: float = 4.5689974

    @property
    def window_seconds(self) -> float:
        """Audio covered by `target_length` frames (10.24 s for AudioSet)."""
        return self.frames_to_samples(self.target_length) / self.sample_rate

    def frames_to_samples(self, frames: int) -> int:
        """Number of samples that yield exactly `frames` kaldi frames (snip_edges=True)."""
        shift = int(self.sample_rate * self.frame_shift_ms / 1000)
        length = int(self.sample_rate * self.frame_length_ms / 1000)
        return length + (frames - 1) * shift

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FbankConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


PRESETS: dict[str, FbankConfig] = {
    "audioset": FbankConfig(target_length=1024, mean=-4.2677393, std=4.5689974),
    "esc50": FbankConfig(target_length=512, mean=-6.6268077, std=5.358466),
    "speechcommands": FbankConfig(target_length=128, mean=-6.845978, std=5.5654526),
}


def compute_fbank(waveforms: torch.Tensor, cfg: FbankConfig) -> torch.Tensor:
    """Raw log-mel filterbanks, `(batch, samples) -> (batch, frames, num_mel_bins)`.

    All waveforms in a batch have the same length. Each is made zero-mean first, as the
    reference does, then passed to kaldi fbank with the reference arguments. float64 input
    is computed in float64 (tests use it as the exact answer); the output is float32.
    """
    if waveforms.ndim != 2:
        raise ValueError(f"expected (batch, samples), got shape {tuple(waveforms.shape)}")
    min_samples = int(cfg.sample_rate * cfg.frame_length_ms / 1000)
    if waveforms.shape[1] < min_samples:  # kaldi needs one full frame
        waveforms = F.pad(waveforms, (0, min_samples - waveforms.shape[1]))
    out = []
    for wav in waveforms if waveforms.is_floating_point() else waveforms.float():
        wav = wav - wav.mean()
        out.append(
            kaldi.fbank(
                wav.unsqueeze(0),
                htk_compat=True,
                sample_frequency=cfg.sample_rate,
                use_energy=False,
                window_type=cfg.window_type,
                num_mel_bins=cfg.num_mel_bins,
                dither=0.0,
                frame_length=cfg.frame_length_ms,
                frame_shift=cfg.frame_shift_ms,
            )
        )
    return torch.stack(out).float()


def normalize(fbank: torch.Tensor, cfg: FbankConfig) -> torch.Tensor:
    """Zero-pad at the end or crop to `target_length`, then `(x - mean) / (2 * std)`.

    `(batch, frames, mels) -> (batch, target_length, mels)`.
    """
    frames = fbank.shape[1]
    if frames < cfg.target_length:
        fbank = F.pad(fbank, (0, 0, 0, cfg.target_length - frames))
    else:
        fbank = fbank[:, : cfg.target_length]
    return (fbank - cfg.mean) / (2 * cfg.std)


def features(waveforms: torch.Tensor, cfg: FbankConfig) -> torch.Tensor:
    """Model input from 16 kHz audio: `(batch, samples) -> (batch, target_length, mels)`."""
    return normalize(compute_fbank(waveforms, cfg), cfg)
