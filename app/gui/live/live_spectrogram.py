"""The scrolling live spectrogram: new columns are computed from new audio only and rolled in.

`push(samples)` turns the frames that arrived since the last call into log-mel columns (a small
numpy STFT: 25-ms Hann frames every 20 ms, 64 mel bands up to 8 kHz) and rolls them into a fixed
array; `ImageItem.setImage(..., autoLevels=False)` redraws it under fixed dB levels. Nothing is
recomputed for audio already shown. The caller's QTimer decides the frame rate.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from ast_core.audio import SAMPLE_RATE

MELS = 64


def mel_filters(rate: int, n_fft: int, mels: int = MELS, fmax: float = 8000.0) -> np.ndarray:
    """Triangular mel filters, `(mels, n_fft // 2 + 1)` (HTK mel scale)."""
    def mel(f):
        return 2595 * np.log10(1 + f / 700)

    def hz(m):
        return 700 * (10 ** (m / 2595) - 1)

    edges = hz(np.linspace(mel(0.0), mel(min(fmax, rate / 2)), mels + 2))
    freqs = np.linspace(0, rate / 2, n_fft // 2 + 1)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (freqs - lo) / (mid - lo)
    down = (hi - freqs) / (hi - mid)
    return np.maximum(0.0, np.minimum(up, down)).astype(np.float32)


class ColumnMaker:
    """Incremental log-mel columns over a stream at any rate: `(samples,) -> (new cols, mels)`."""

    def __init__(self, rate: int, shift_s: float = 0.02, frame_s: float = 0.025):
        self.rate = rate
        self.shift = round(shift_s * rate)
        self.frame = round(frame_s * rate)
        self.n_fft = 1 << (self.frame - 1).bit_length()
        self.window = np.hanning(self.frame).astype(np.float32)
        self.filters = mel_filters(rate, self.n_fft)
        self._tail = np.zeros(0, np.float32)

    def push(self, samples: np.ndarray) -> np.ndarray:
        x = np.concatenate([self._tail, samples.astype(np.float32)])
        count = max(0, (len(x) - self.frame) // self.shift + 1)
        if count == 0:
            self._tail = x
            return np.zeros((0, len(self.filters)), np.float32)
        idx = np.arange(self.frame)[None, :] + self.shift * np.arange(count)[:, None]
        power = np.abs(np.fft.rfft(x[idx] * self.window, self.n_fft)) ** 2
        self._tail = x[count * self.shift :]
        return (10 * np.log10(power @ self.filters.T + 1e-10)).astype(np.float32)


class LiveSpectrogram(pg.GraphicsLayoutWidget):
    """The last `seconds` of audio as an image that scrolls left; newest at the right edge."""

    def __init__(self, seconds: float = 10.0, parent: QWidget | None = None):
        super().__init__(parent)
        self.setBackground("w")
        self.seconds = seconds
        self.plot = self.addPlot()
        self.plot.setLabel("bottom", "Time before now", units="s")
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.setLabel("left", "Mel band")
        self.plot.setMouseEnabled(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="col-major")
        self.plot.addItem(self.image)
        self.levels = (-100.0, -20.0)
        bar = pg.ColorBarItem(values=self.levels, colorMap=pg.colormap.get("viridis"),
                              label="dB", interactive=False)
        bar.setImageItem(self.image)
        self.addItem(bar)
        self.columns_drawn = 0  # total columns rolled in (tests watch it move)
        self.frames_drawn = 0  # image updates
        self.reset(SAMPLE_RATE)

    def reset(self, rate: int) -> None:
        self.maker = ColumnMaker(rate)
        cols = round(self.seconds * rate / self.maker.shift)
        self.data = np.full((cols, MELS), self.levels[0], np.float32)
        self.image.setImage(self.data, autoLevels=False, levels=self.levels)
        self.image.setRect(-self.seconds, 0, self.seconds, MELS)
        self.plot.setRange(xRange=(-self.seconds, 0), yRange=(0, MELS), padding=0)

    def push(self, samples: np.ndarray) -> int:
        """Roll in the columns of newly arrived audio; returns how many were added."""
        new = self.maker.push(samples)[-len(self.data) :]
        n = len(new)
        if n:
            self.data[:-n] = self.data[n:]  # scroll left by n columns (in place)
            self.data[-n:] = new
            self.image.setImage(self.data, autoLevels=False, levels=self.levels)
            self.columns_drawn += n
            self.frames_drawn += 1
        return n
