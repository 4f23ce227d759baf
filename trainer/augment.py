"""The AST recipe's augmentations on normalised fbank batches `(batch, frames, mels)`.

All randomness comes from torch's global generator, which the checkpoint saves and restores,
so a resumed run draws the same masks and mixing weights as an uninterrupted one.
"""

from __future__ import annotations

import torch
import torchaudio.transforms as T


class SpecAugment(torch.nn.Module):
    """Frequency and time masking (SpecAugment), independently drawn for every clip.

    `freqm`/`timem` are the largest mask widths in mel bins / frames (the reference's
    `freqm`, `timem`); 0 turns a mask off. Masked cells are set to 0, the normalised mean.
    """

    def __init__(self, freqm: int, timem: int):
        super().__init__()
        self.freq = T.FrequencyMasking(freqm, iid_masks=True) if freqm > 0 else None
        self.time = T.TimeMasking(timem, iid_masks=True) if timem > 0 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.freq is None and self.time is None:
            return x
        spec = x.transpose(1, 2).unsqueeze(1)  # (batch, 1, mels, frames) for torchaudio
        if self.freq is not None:
            spec = self.freq(spec)
        if self.time is not None:
            spec = self.time(spec)
        return spec.squeeze(1).transpose(1, 2)


def mixup(
    x: torch.Tensor, y: torch.Tensor, prob: float, alpha: float = 10.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """With probability `prob` per clip, mix it with another clip of the batch.

    As in the reference: lambda ~ Beta(10, 10) per mixed clip; the targets mix with the same
    weight, so single-label targets become soft (CE accepts class probabilities).
    """
    if prob <= 0 or len(x) < 2:
        return x, y
    n = len(x)
    partner = torch.randint(0, n - 1, (n,))
    partner = partner + (partner >= torch.arange(n)).long()  # never mix a clip with itself
    lam = torch.distributions.Beta(alpha, alpha).sample((n,))
    lam = torch.where(torch.rand(n) < prob, lam, torch.ones(n))
    lx = lam.view(-1, 1, 1).to(x)
    ly = lam.view(-1, 1).to(y)
    return lx * x + (1 - lx) * x[partner], ly * y + (1 - ly) * y[partner]
