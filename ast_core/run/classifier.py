"""`Classifier`: the one door from the app and CLI into the model.

Loads a model folder (or hub id from the cache), picks a device, and turns 16 kHz audio into
label scores, embeddings, attention maps, and per-window scores (the sliding-window rules are
in `ast_core.run.windows`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ast_core.accel.device import pick_device
from ast_core.accel.prepare import prepare_for_inference
from ast_core.audio.decode import iter_blocks
from ast_core.audio.features import compute_fbank, features, normalize
from ast_core.model import attention_map
from ast_core.model.checkpoints import LoadedModel, load_model
from ast_core.run.windows import WindowScores, iter_windows, to_samples, window_and_hop
from ast_core.store.model_store import resolve


@dataclass
class Prediction:
    scores: np.ndarray  # (num_labels,) sigmoid or softmax outputs
    labels: list[str]
    embedding: np.ndarray  # (embed_dim,)
    attention_last: np.ndarray | None = None  # (f, t) prefix-token attention, last layer
    attention_rollout: np.ndarray | None = None  # (f, t) attention rollout over all layers
    layer_attention: np.ndarray | None = None  # (layers, f, t) per-layer prefix attention

    def top(self, k: int = 5, threshold: float = 0.0) -> list[tuple[str, float]]:
        """The k best (label, score) pairs with score >= threshold, best first."""
        order = np.argsort(-self.scores, kind="stable")[:k]
        return [
            (self.labels[i], float(self.scores[i])) for i in order if self.scores[i] >= threshold
        ]


class Classifier:
    """A loaded model ready to score audio; all inputs are mono float32 at 16 kHz.

    Takes ownership of `loaded.model`: it is moved to the device and precision chosen here.
    """

    def __init__(
        self,
        loaded: LoadedModel,
        device: str | torch.device | None = None,
        precision: str = "auto",
    ):
        self.loaded = loaded
        self.device = pick_device(str(device) if device else None)
        self.model, self.dtype, self.precision = prepare_for_inference(
            loaded.model, self.device, precision
        )
        self.labels = loaded.labels
        self.fbank = loaded.fbank
        self.name = loaded.source

    @classmethod
    def load(
        cls, source: str | Path, device: str | None = None, precision: str = "auto"
    ) -> Classifier:
        """From a model folder path, a user model name, or a cached hub id.

        `precision="auto"` runs bf16 weights where the hardware has native bf16 (scores agree
        with fp32 to about 0.01; `ast-studio bench` measures it), else fp32.
        """
        return cls(load_model(resolve(source)), device, precision)

    @property
    def batch_size(self) -> int:
        """Windows per forward pass for long audio: 8 on GPUs, 2 on CPUs, where larger batches
        take as long per window but cost memory."""
        return 2 if self.device.type == "cpu" else 8

    @property
    def clips_per_pass(self) -> int:
        """Short files scored per forward pass in folder runs (`batch.analyse_files`): one on
        CPUs, where batching doesn't pay, `batch_size` on GPUs."""
        return 1 if self.device.type == "cpu" else self.batch_size

    @property
    def window_seconds(self) -> float:
        return self.fbank.window_seconds

    @property
    def label_mode(self) -> str:
        return self.model.cfg.label_mode

    def spectrogram(self, waveform: np.ndarray) -> np.ndarray:
        """Log-mel spectrogram of the whole clip for display, `(samples,) -> (frames, mels)`."""
        with torch.inference_mode():
            return compute_fbank(torch.from_numpy(_as_batch(waveform)), self.fbank)[0].numpy()

    def _inputs(self, waves: np.ndarray) -> torch.Tensor:
        """`(batch, samples) -> (batch, target_length, mels)` model input on the device; CUDA
        computes the features too (the CPU's fbank would hold them back)."""
        wav = torch.from_numpy(waves)
        if self.device.type == "cuda":
            wav = wav.to(self.device)
        return features(wav, self.fbank).to(self.device, self.dtype)

    def predict(self, waveform: np.ndarray, attention_maps: bool = False) -> Prediction:
        """Scores for one clip (cropped/padded to the model window, as the reference does)."""
        x = self._inputs(_as_batch(waveform))
        with torch.inference_mode():
            if not attention_maps:
                emb = self.model.forward_pooled(x)
                scores = self.model.scores(self.model.forward_head(emb))
                emb = emb.float()
                return Prediction(scores[0].cpu().numpy(), self.labels, emb[0].cpu().numpy())
            out = self.model.forward_with_attention(x)
            scores = self.model.scores(out.logits)
            prefix, grid = self.model.cfg.num_prefix_tokens, self.model.cfg.grid
            maps = [a.float() for a in out.attentions]
            layers = torch.stack([attention_map.prefix_map(a, prefix, grid) for a in maps])
            return Prediction(
                scores[0].cpu().numpy(),
                self.labels,
                out.embedding[0].float().cpu().numpy(),
                attention_last=layers[-1, 0].cpu().numpy(),
                attention_rollout=attention_map.rollout(maps, prefix, grid)[0].cpu().numpy(),
                layer_attention=layers[:, 0].cpu().numpy(),
            )

    def window_and_hop(
        self, window_s: float | None = None, hop_s: float | None = None
    ) -> tuple[float, float]:
        """Window and hop in seconds, defaults filled in (see `ast_core.run.windows`)."""
        return window_and_hop(self.window_seconds, window_s, hop_s)

    def window_samples(
        self, window_s: float | None = None, hop_s: float | None = None
    ) -> tuple[int, int]:
        """Window and hop in samples, defaults filled in."""
        return to_samples(*self.window_and_hop(window_s, hop_s), self.fbank.sample_rate)

    def score_windows(
        self,
        waveform: np.ndarray,
        window_s: float | None = None,
        hop_s: float | None = None,
        batch_size: int | None = None,
    ) -> WindowScores:
        """Per-window scores: `(samples,) -> (windows, num_labels)`.

        Defaults: the model's window with 50 % overlap; the last window ends at the end of
        the audio. Each window is scored as `predict` scores a clip, so audio of at most one
        window gets `predict`'s scores (see `ast_core.run.windows`).
        """
        return self.score_blocks([waveform], window_s, hop_s, batch_size)

    def iter_window_scores(
        self,
        blocks: Iterable[np.ndarray],
        window_s: float | None = None,
        hop_s: float | None = None,
        batch_size: int | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> Iterator[WindowScores]:
        """The window scores of audio arriving in blocks, one forward pass (`batch_size`
        windows) at a time; memory bounded by a batch of windows + a block.

        `cancelled` is polled before each batch; when it returns True, `Cancelled` is raised.
        """
        win, hop = self.window_samples(window_s, hop_s)
        rate = self.fbank.sample_rate
        for batch in _batched(iter_windows(blocks, win, hop), batch_size or self.batch_size):
            if cancelled is not None and cancelled():
                raise Cancelled()
            starts = np.array([s for s, _ in batch], dtype=np.int64)
            ends = starts + np.array([len(w) for _, w in batch], dtype=np.int64)
            yield WindowScores(starts / rate, ends / rate, self.score_clips([w for _, w in batch]))

    def score_blocks(
        self,
        blocks: Iterable[np.ndarray],
        window_s: float | None = None,
        hop_s: float | None = None,
        batch_size: int | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> WindowScores:
        """`score_windows` over audio arriving in blocks; memory bounded by a window + block
        (and the score rows). `cancelled`: see `iter_window_scores`."""
        starts: list[float] = []
        ends: list[float] = []
        rows = _Rows(len(self.labels))
        for part in self.iter_window_scores(blocks, window_s, hop_s, batch_size, cancelled):
            starts.extend(part.starts.tolist())
            ends.extend(part.ends.tolist())
            rows.extend(part.scores)
        return WindowScores(np.asarray(starts), np.asarray(ends), rows.array())

    def score_file(
        self,
        path: str | Path,
        window_s: float | None = None,
        hop_s: float | None = None,
        batch_size: int | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> WindowScores:
        """`score_windows` for a file of any length, decoded block by block."""
        return self.score_blocks(iter_blocks(path), window_s, hop_s, batch_size, cancelled)

    def score_batch(self, waves: np.ndarray) -> np.ndarray:
        """`(batch, samples) -> (batch, num_labels)` scores."""
        with torch.inference_mode():
            return self.model.scores(self.model(self._inputs(waves))).cpu().numpy()

    def score_clips(self, waves: Sequence[np.ndarray]) -> np.ndarray:
        """Clips of any lengths in one forward pass, each cropped or padded to the model's
        window as `predict` does: `n x (samples,) -> (n, num_labels)` scores."""
        if len({len(w) for w in waves}) == 1:  # one feature pass and one copy to the device
            x = self._inputs(np.stack([np.asarray(w, np.float32) for w in waves]))
        else:
            x = torch.cat([self._inputs(_as_batch(w)) for w in waves])
        with torch.inference_mode():
            return self.model.scores(self.model(x)).cpu().numpy()

    def normalized_input(self, waveform: np.ndarray) -> np.ndarray:
        """The exact model input for a clip, `(samples,) -> (target_length, mels)`."""
        fb = compute_fbank(torch.from_numpy(_as_batch(waveform)), self.fbank)
        return normalize(fb, self.fbank)[0].numpy()


class Cancelled(Exception):
    """Raised when a long computation's `cancelled` callback returns True."""


class _Rows:
    """Score rows gathered into blocks allocated `BLOCK` rows at a time.

    Keeping each batch's small result array instead would leave it among the activations the
    forward pass just freed; those pins fragment the heap, and resident memory grew by about
    1 MB per window (2 windows per second) over an hour of audio.
    """

    BLOCK = 1024

    def __init__(self, width: int):
        self.width, self.blocks, self.used = width, [], self.BLOCK

    def extend(self, rows: np.ndarray) -> None:
        """Append `(n, width)` rows."""
        for row in rows:
            if self.used == self.BLOCK:
                self.blocks.append(np.empty((self.BLOCK, self.width), np.float32))
                self.used = 0
            self.blocks[-1][self.used] = row
            self.used += 1

    def array(self) -> np.ndarray:
        """All rows, `(n, width)`."""
        if not self.blocks:
            return np.zeros((0, self.width), np.float32)
        return np.concatenate([*self.blocks[:-1], self.blocks[-1][: self.used]])


def _batched(items: Iterable, n: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch


def _as_batch(waveform: np.ndarray) -> np.ndarray:
    w = np.asarray(waveform, dtype=np.float32)
    return w[None] if w.ndim == 1 else w
