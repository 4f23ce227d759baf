"""`TrainConfig`: every choice of a training run, with presets from the AST reference recipes.

Presets mirror the reference's `run.sh` files (Gong et al., 2021):
- `speechcommands`: ~1 s clips, 128 frames, lr 2.5e-4, batch 128, 30 epochs, freqm 48, timem 48,
  mixup 0.6, lr x0.85 every epoch from epoch 5.
- `esc50`: 5 s clips, 512 frames, lr 1e-5, batch 48, 25 epochs, freqm 24, timem 96, no mixup,
  lr x0.85 every epoch from epoch 5 (train with `--folds 5` for the recipe's cross-validation).
- `audioset`: 10 s tagging, 1024 frames, the balanced-set recipe: lr 5e-5, batch 12, 25 epochs,
  freqm 48, timem 192, mixup 0.5, 1000 warm-up steps, lr x0.5 every 5 epochs from epoch 10,
  weight averaging of the last 20 epochs.
The reference learning rates assume pretrained weights; from scratch a larger `lr` is needed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ast_core.audio.features import PRESETS as FBANK_PRESETS
from ast_core.audio.features import FbankConfig
from ast_core.model.transformer import SIZES

INITS = ("imagenet", "audioset", "scratch")
SCHEDULES = ("step", "cosine", "constant")
OPTIMIZERS = ("adamw", "adam")
LOSSES = ("auto", "bce", "ce")
AMPS = ("auto", "off", "bf16", "fp16")


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one run; stored in every checkpoint and the exported model."""

    preset: str = "esc50"
    init: str = "imagenet"  # imagenet | audioset | scratch
    imagenet_weights: str | None = None  # local timm weights file (offline ImageNet init)
    audioset_model: str | None = None  # model folder / installed name / cached hub id
    size: str = "base384"  # tiny | small | base224 | base384 (audioset init: the source's)
    depth: int | None = None  # fewer transformer blocks (scratch only; for quick experiments)
    fstride: int = 10
    tstride: int = 10
    target_length: int | None = None  # frames; None = the preset's
    epochs: int = 25
    batch_size: int = 48
    lr: float = 1e-5
    weight_decay: float = 5e-7  # the reference's Adam weight decay
    optimizer: str = "adamw"
    warmup_steps: int = 0  # linear warm-up over the first steps
    schedule: str = "step"  # step: x lr_decay every lr_decay_every epochs from lr_decay_start
    lr_decay: float = 0.85
    lr_decay_start: int = 5
    lr_decay_every: int = 1
    loss: str = "auto"  # auto: CE for single-label data, BCE for multi-label
    mixup: float = 0.0  # probability that a clip is mixed with another (lambda ~ Beta(10,10))
    freqm: int = 24  # SpecAugment: widest frequency mask (mel bins)
    timem: int = 96  # SpecAugment: widest time mask (frames)
    balanced: bool = False  # class-balanced sampling
    patience: int = 0  # early stopping after this many epochs without improvement; 0 = off
    wa_last: int = 0  # average the weights of the last N epochs (the paper's WA); 0 = off
    grad_clip: float = 0.0  # max gradient norm; 0 = off
    amp: str = "auto"  # auto: bf16 on CUDA devices that support it, else off
    seed: int = 0
    val_fraction: float = 0.2
    min_seconds: float = 0.1  # shorter clips are skipped by the pre-flight check

    def __post_init__(self) -> None:
        checks = [
            (self.preset in FBANK_PRESETS, f"preset must be one of {', '.join(FBANK_PRESETS)}"),
            (self.init in INITS, f"--init must be one of {', '.join(INITS)}"),
            (self.size in SIZES, f"--size must be one of {', '.join(SIZES)}"),
            (self.schedule in SCHEDULES, f"schedule must be one of {', '.join(SCHEDULES)}"),
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}"),
            (self.loss in LOSSES, f"loss must be one of {', '.join(LOSSES)}"),
            (self.amp in AMPS, f"amp must be one of {', '.join(AMPS)}"),
            (self.epochs >= 1 and self.batch_size >= 1, "epochs and batch size must be >= 1"),
            (self.lr > 0, "learning rate must be > 0"),
            (self.depth is None or self.init == "scratch", "depth applies to --init scratch"),
            (self.target_length is None or self.target_length >= 16, "target length >= 16"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    @property
    def fbank(self) -> FbankConfig:
        base = FBANK_PRESETS[self.preset]
        if self.target_length is None:
            return base
        return dataclasses.replace(base, target_length=self.target_length)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)


PRESETS: dict[str, dict[str, Any]] = {
    "speechcommands": dict(
        epochs=30, batch_size=128, lr=2.5e-4, freqm=48, timem=48, mixup=0.6,
        lr_decay=0.85, lr_decay_start=5, lr_decay_every=1, warmup_steps=0, wa_last=0,
    ),
    "esc50": dict(
        epochs=25, batch_size=48, lr=1e-5, freqm=24, timem=96, mixup=0.0,
        lr_decay=0.85, lr_decay_start=5, lr_decay_every=1, warmup_steps=0, wa_last=0,
    ),
    "audioset": dict(
        epochs=25, batch_size=12, lr=5e-5, freqm=48, timem=192, mixup=0.5,
        lr_decay=0.5, lr_decay_start=10, lr_decay_every=5, warmup_steps=1000, wa_last=20,
    ),
}


def preset_for_duration(median_seconds: float) -> str:
    """The recipe whose clip length fits the data: <= 1.5 s speech-like, <= 6 s ESC-50-like."""
    if median_seconds <= 1.5:
        return "speechcommands"
    if median_seconds <= 6.0:
        return "esc50"
    return "audioset"


def make_config(preset: str, **overrides: Any) -> TrainConfig:
    """The preset's recipe with `overrides` (None values mean "keep the preset's")."""
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}")
    values = {**PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None}}
    return TrainConfig(preset=preset, **values)
