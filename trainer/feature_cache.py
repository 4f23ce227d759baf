"""Model-input features computed once per file and kept on disk.

A cache entry is `<root>/<key[:2]>/<key>.npy` holding the normalised `(target_length, mels)`
float32 fbank of one file. The key hashes the file's bytes and the FbankConfig, so an edited
file or another preset gets a new entry and stale entries are never read. Writes are atomic
(`ast_core.store.atomic`), so parallel processes (DDP ranks) and killed runs are safe.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from ast_core.audio.decode import load_audio
from ast_core.audio.features import FbankConfig, features
from ast_core.store.atomic import atomic_write
from ast_core.store.model_store import data_dir


def default_cache_dir() -> Path:
    return data_dir() / "feature-cache"


def file_digest(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class FeatureCache:
    """`path -> (target_length, mels)` features through an on-disk cache."""

    def __init__(self, root: str | Path, fbank: FbankConfig):
        self.root = Path(root)
        self.fbank = fbank
        self._cfg_digest = hashlib.sha256(
            json.dumps(fbank.to_dict(), sort_keys=True).encode()
        ).hexdigest()[:16]
        self._keys: dict[tuple[str, int, int], str] = {}
        self.hits = 0
        self.misses = 0

    def key(self, path: str | Path) -> str:
        """Content + config key; memoised per (path, size, mtime) for this process."""
        st = os.stat(path)
        memo = (str(path), st.st_size, st.st_mtime_ns)
        if memo not in self._keys:
            self._keys[memo] = f"{file_digest(path)[:40]}-{self._cfg_digest}"
        return self._keys[memo]

    def entry(self, path: str | Path) -> Path:
        k = self.key(path)
        return self.root / k[:2] / f"{k}.npy"

    def compute(self, path: str | Path) -> np.ndarray:
        """Decode and featurise one file (no cache): float32 `(target_length, mels)`."""
        wav = torch.from_numpy(load_audio(path)).unsqueeze(0)
        return features(wav, self.fbank)[0].numpy().astype(np.float32)

    def ensure(self, path: str | Path) -> Path:
        """The cache file for `path`, computing it first if missing."""
        entry = self.entry(path)
        if entry.exists():
            self.hits += 1
            return entry
        self.misses += 1
        x = self.compute(path)

        def write(tmp: str) -> None:
            with open(tmp, "wb") as f:  # a file object: np.save would append ".npy" to a name
                np.save(f, x)

        return atomic_write(entry, write)

    def prepare(
        self, paths: Sequence[str], progress: Callable[[int, int], None] | None = None
    ) -> list[Path]:
        """Cache every file (decoding only the missing ones); returns their entries."""
        out = []
        for i, p in enumerate(paths):
            out.append(self.ensure(p))
            if progress:
                progress(i + 1, len(paths))
        return out


def load_entry(entry: str | Path) -> torch.Tensor:
    return torch.from_numpy(np.load(entry))
