"""A frequency axis for a mel spectrogram: rows are mel bins, ticks are labelled in Hz.

Kaldi's (and the AST's) mel scale is `1127 ln(1 + f / 700)` with bins spaced evenly between
20 Hz and the Nyquist frequency; the image row of bin i spans [i, i + 1]. Tick labels sit at
round Hz values at their true mel position, so the spacing the eye sees is the model's.
"""

from __future__ import annotations

import math

import pyqtgraph as pg

from ast_core.audio import SAMPLE_RATE

LOW_HZ = 20.0
_TICKS_HZ = [50, 100, 200, 300, 500, 1000, 2000, 3000, 4000, 5000, 6000, 8000]
_MINOR_HZ = [150, 250, 400, 700, 1500, 2500, 3500, 7000]


def hz_to_mel(hz: float) -> float:
    return 1127.0 * math.log1p(hz / 700.0)


def mel_to_hz(mel: float) -> float:
    return 700.0 * math.expm1(mel / 1127.0)


def hz_to_row(hz: float, num_mels: int = 128, sample_rate: int = SAMPLE_RATE) -> float:
    """Image row coordinate (bin centres at i + 0.5) where frequency `hz` lies."""
    low, high = hz_to_mel(LOW_HZ), hz_to_mel(sample_rate / 2)
    delta = (high - low) / (num_mels + 1)
    return (hz_to_mel(hz) - low) / delta - 0.5


def row_to_hz(row: float, num_mels: int = 128, sample_rate: int = SAMPLE_RATE) -> float:
    low, high = hz_to_mel(LOW_HZ), hz_to_mel(sample_rate / 2)
    delta = (high - low) / (num_mels + 1)
    return mel_to_hz(low + (row + 0.5) * delta)


def format_hz(hz: float) -> str:
    return f"{hz / 1000:g}k" if hz >= 1000 else f"{hz:g}"


class MelAxis(pg.AxisItem):
    """Left axis of the spectrogram: mel-bin coordinates, Hz labels at mel-spaced positions."""

    def __init__(self, num_mels: int = 128, sample_rate: int = SAMPLE_RATE, **kwargs):
        super().__init__("left", **kwargs)
        self.num_mels, self.sample_rate = num_mels, sample_rate
        self.setLabel("Frequency", units="Hz, mel scale")
        self.enableAutoSIPrefix(False)

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph API)
        def rows(values):
            out = [hz_to_row(v, self.num_mels, self.sample_rate) for v in values
                   if v <= self.sample_rate / 2]
            return [r for r in out if minVal <= r <= maxVal]

        return [(1.0, rows(_TICKS_HZ)), (0.5, rows(_MINOR_HZ))]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph API)
        return [format_hz(round(row_to_hz(v, self.num_mels, self.sample_rate), -1))
                for v in values]
