"""What the training loop iterates: a run's split, its cached features, the batch order.

`RunData` is the split (kept in run.json so --resume sees the same clips); `cached_sets` turns
it into `(features, target)` datasets read from the feature cache; `loaders` gives the batches,
in an order that depends only on (seed, epoch), so a resumed epoch sees the same batches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler

from trainer import dist
from trainer.config import TrainConfig
from trainer.data import LabeledClip
from trainer.feature_cache import FeatureCache, default_cache_dir, load_entry
from trainer.progress import Reporter


@dataclass
class RunData:
    """The labels and the split a run trains on (kept in run.json so --resume sees the same)."""

    labels: list[str]
    multi_label: bool
    train: list[LabeledClip]
    val: list[LabeledClip]
    test: list[LabeledClip] = field(default_factory=list)

    def targets(self, clips: list[LabeledClip]) -> np.ndarray:
        """Multi-hot targets `(clips, labels)`, float32."""
        index = {name: i for i, name in enumerate(self.labels)}
        y = np.zeros((len(clips), len(self.labels)), np.float32)
        for row, clip in enumerate(clips):
            y[row, [index[n] for n in clip.labels]] = 1.0
        return y

    def splits(self) -> dict[str, list[LabeledClip]]:
        return {"train": self.train, "val": self.val, "test": self.test}

    def to_dict(self) -> dict[str, Any]:
        def rows(clips: list[LabeledClip]) -> list:
            return [[c.path, list(c.labels)] for c in clips]
        return {"labels": self.labels, "multi_label": self.multi_label,
                "train": rows(self.train), "val": rows(self.val), "test": rows(self.test)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunData:
        def clips(rows: list) -> list[LabeledClip]:
            return [LabeledClip(p, tuple(labels)) for p, labels in rows]
        return cls(d["labels"], d["multi_label"], clips(d["train"]), clips(d["val"]),
                   clips(d.get("test", [])))


class CachedClips(Dataset):
    """`(features (frames, mels), target (labels,))` pairs read from the feature cache."""

    def __init__(self, entries: list[Path], targets: np.ndarray):
        self.entries, self.targets = entries, torch.from_numpy(targets)

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return load_entry(self.entries[i]), self.targets[i]


class BalancedSampler(Sampler[int]):
    """Class-balanced sampling with replacement (the reference's weights: sum over a clip's
    labels of 1 / label count); the same draw on every rank, each rank taking its share."""

    def __init__(self, targets: np.ndarray, seed: int, rank: int = 0, world: int = 1):
        per_label = 1.0 / (targets.sum(0) + 0.01)
        self.weights = torch.from_numpy((targets * per_label).sum(1)).double()
        self.seed, self.rank, self.world, self.epoch = seed, rank, world, 0
        self.num_samples = math.ceil(len(targets) / world)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        draw = torch.multinomial(self.weights, self.num_samples * self.world, True, generator=g)
        return iter(draw[self.rank :: self.world].tolist())


def cached_sets(
    cfg: TrainConfig, data: RunData, cache_dir: Path | None, reporter: Reporter, d: dist.Dist
) -> dict[str, CachedClips]:
    """Every split's features, decoded once and cached on disk: rank 0 fills the cache (and
    reports progress), the other ranks wait for it and read it."""
    cache = FeatureCache(cache_dir or default_cache_dir(), cfg.fbank)
    if d.main:
        for name, clips in data.splits().items():
            cache.prepare([c.path for c in clips],
                          lambda i, n, s=name: reporter.emit("features", split=s, done=i, total=n))
    dist.barrier(d)
    return {name: CachedClips(cache.prepare([c.path for c in clips]), data.targets(clips))
            for name, clips in data.splits().items()}


def loaders(
    cfg: TrainConfig, sets: dict[str, CachedClips], d: dist.Dist, device: torch.device
) -> tuple[DataLoader, dict[str, DataLoader]]:
    """The training loader (this rank's share, class-balanced or shuffled per epoch: call its
    `sampler.set_epoch`) and one evaluation loader per split."""
    sampler = (BalancedSampler(sets["train"].targets.numpy(), cfg.seed, d.rank, d.world)
               if cfg.balanced else
               DistributedSampler(sets["train"], d.world, d.rank, shuffle=True, seed=cfg.seed))
    pin = device.type == "cuda"
    train_loader = DataLoader(sets["train"], cfg.batch_size, sampler=sampler, pin_memory=pin)
    eval_loaders = {name: DataLoader(s, max(cfg.batch_size, 32), pin_memory=pin)
                    for name, s in sets.items()}
    return train_loader, eval_loaders
