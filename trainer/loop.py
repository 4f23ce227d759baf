"""The training loop, readable top to bottom (in the spirit of nanoGPT's `train.py`).

`train()` takes a TrainConfig and the already split clips (`RunData`), and writes into `out`:
`run.json` (config + split, written by the CLI), `checkpoint.pt` after every epoch,
`best.safetensors` (weights of the best validation epoch) and finally `model/`, a model folder
in the one model format. Under torchrun every rank trains on its shard of each epoch
(DistributedSampler) and only rank 0 writes files or reports.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler

from ast_core.accel.malloc_tuning import keep_freed_memory
from ast_core.model.checkpoints import save_model
from ast_core.store.atomic import atomic_write
from trainer import dist, metrics
from trainer.augment import SpecAugment, mixup
from trainer.config import TrainConfig
from trainer.data import LabeledClip
from trainer.feature_cache import FeatureCache, default_cache_dir, load_entry
from trainer.models import initial_model
from trainer.progress import Reporter
from trainer.state import (
    BEST_WEIGHTS,
    CHECKPOINT,
    MODEL_DIR,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    seed_everything,
    set_rng_state,
)


@dataclass
class RunData:
    """The labels and the split a run trains on (kept in run.json so --resume sees the same)."""

    labels: list[str]
    multi_label: bool
    train: list[LabeledClip]
    val: list[LabeledClip]
    test: list[LabeledClip] = field(default_factory=list)

    def targets(self, clips: list[LabeledClip]) -> np.ndarray:
        index = {name: i for i, name in enumerate(self.labels)}
        y = np.zeros((len(clips), len(self.labels)), np.float32)
        for row, clip in enumerate(clips):
            y[row, [index[n] for n in clip.labels]] = 1.0
        return y

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


def get_lr(cfg: TrainConfig, step: int, epoch: int, total_steps: int) -> float:
    """Linear warm-up over `warmup_steps`, then the schedule (epochs count from 1)."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    if cfg.schedule == "step":  # the reference: x decay every `every` epochs after `start`
        decays = (epoch - cfg.lr_decay_start - 1) // cfg.lr_decay_every + 1
        return cfg.lr * cfg.lr_decay ** max(0, decays)
    if cfg.schedule == "cosine":  # to 1 % of lr at the last step
        t = (step - cfg.warmup_steps) / max(1, total_steps - cfg.warmup_steps)
        return cfg.lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(t, 1.0))))
    return cfg.lr


def amp_dtype(cfg: TrainConfig, device: torch.device) -> torch.dtype | None:
    """bf16 autocast where the device supports it (auto: CUDA only; CPU bf16 is often slower)."""
    if cfg.amp == "fp16":
        return torch.float16 if device.type == "cuda" else None
    if cfg.amp == "bf16" or (cfg.amp == "auto" and device.type == "cuda"):
        ok = device.type == "cpu" or (device.type == "cuda" and torch.cuda.is_bf16_supported())
        return torch.bfloat16 if ok else None
    return None


def loss_fn(logits: torch.Tensor, y: torch.Tensor, bce: bool) -> torch.Tensor:
    """BCE for multi-label, CE (with soft targets after mixup) for single-label."""
    if bce:
        return F.binary_cross_entropy_with_logits(logits.float(), y)
    return F.cross_entropy(logits.float(), y)


@torch.no_grad()
def predict(model: torch.nn.Module, loader: DataLoader, device: torch.device, amp) -> tuple:
    """Logits and targets of a whole loader, as float32 numpy arrays."""
    model.eval()
    logits, targets = [], []
    for x, y in loader:
        with amp:
            logits.append(model(x.to(device)).float().cpu())
        targets.append(y)
    return torch.cat(logits), torch.cat(targets)


def evaluate(model, loader, device, amp, labels: list[str], bce: bool) -> dict[str, Any]:
    logits, y = predict(model, loader, device, amp)
    scores = logits.sigmoid() if bce else logits.softmax(-1)
    out = metrics.evaluate(scores.numpy(), y.numpy(), labels)
    out["loss"] = round(float(loss_fn(logits, y, bce)), 6)
    return out


def train(
    cfg: TrainConfig,
    data: RunData,
    out: Path,
    reporter: Reporter,
    d: dist.Dist,
    device: torch.device,
    cache_dir: Path | None = None,
    resume: bool = False,
) -> Path | None:
    """Train, checkpoint each epoch, export `out/model`; returns it (None on ranks > 0)."""
    out.mkdir(parents=True, exist_ok=True)
    if device.type == "cpu":
        keep_freed_memory()  # activations and gradients reuse the heap's pages
    bce = cfg.loss == "bce" or (cfg.loss == "auto" and data.multi_label)
    metric = "mAP" if data.multi_label else "accuracy"
    amp = amp_dtype(cfg, device)
    autocast = torch.autocast(device.type, dtype=amp) if amp else nullcontext()
    scaler = torch.amp.GradScaler(device.type) if amp == torch.float16 else None

    # -- features: decoded once and cached on disk; rank 0 fills the cache, the others read it
    cache = FeatureCache(cache_dir or default_cache_dir(), cfg.fbank)
    splits = {"train": data.train, "val": data.val, "test": data.test}
    if d.main:
        for name, clips in splits.items():
            cache.prepare([c.path for c in clips],
                          lambda i, n, s=name: reporter.emit("features", split=s, done=i, total=n))
    dist.barrier(d)
    sets = {name: CachedClips(cache.prepare([c.path for c in clips]), data.targets(clips))
            for name, clips in splits.items()}

    # -- model and optimizer; the same seed on every rank gives the same initial weights
    seed_everything(cfg.seed)
    model = initial_model(cfg, data.labels, "multi" if data.multi_label else "single").to(device)
    opt_cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    optimizer = opt_cls(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                        betas=(0.95, 0.999))  # the reference's betas
    specaug = SpecAugment(cfg.freqm, cfg.timem)

    # -- state that survives a restart
    start_epoch, step, best, best_epoch, bad = 1, 0, -math.inf, 0, 0
    wa_state: dict[str, torch.Tensor] = {}
    wa_count, history = 0, []
    if resume:
        ck = load_checkpoint(out / CHECKPOINT)
        model.load_state_dict(ck["model"])
        optimizer.load_state_dict(ck["optimizer"])
        if scaler is not None and ck.get("scaler"):
            scaler.load_state_dict(ck["scaler"])
        start_epoch, step = ck["epoch"] + 1, ck["scheduler"]["step"]
        best, best_epoch, bad = ck["best_metric"], ck["best_epoch"], ck["bad_epochs"]
        wa_state, wa_count, history = ck["wa_state"], ck["wa_count"], ck["history"]
        set_rng_state(ck["rng"][d.rank if d.rank < len(ck["rng"]) else 0])
        if cfg.patience and bad >= cfg.patience:
            start_epoch = cfg.epochs + 1  # it had stopped early: only export again
    else:
        torch.manual_seed(cfg.seed + 1000 * d.rank)  # augmentation differs between ranks
    raw_model = model
    if d.enabled:
        model = DistributedDataParallel(model, device_ids=[device] if device.type == "cuda"
                                        else None)

    # -- data order: a function of (seed, epoch) only, so a resumed epoch sees the same batches
    train_y = sets["train"].targets.numpy()
    sampler = (BalancedSampler(train_y, cfg.seed, d.rank, d.world) if cfg.balanced else
               DistributedSampler(sets["train"], d.world, d.rank, shuffle=True, seed=cfg.seed))
    pin = device.type == "cuda"
    train_loader = DataLoader(sets["train"], cfg.batch_size, sampler=sampler, pin_memory=pin)
    eval_loaders = {name: DataLoader(s, max(cfg.batch_size, 32), pin_memory=pin)
                    for name, s in sets.items()}
    steps_per_epoch = len(train_loader)
    total_steps = steps_per_epoch * cfg.epochs
    reporter.emit("start", epochs=cfg.epochs, first_epoch=start_epoch, labels=data.labels,
                  train_clips=len(data.train), val_clips=len(data.val),
                  test_clips=len(data.test), steps_per_epoch=steps_per_epoch,
                  metric=metric, device=str(device), world=d.world, out=str(out),
                  config=cfg.to_dict())

    run_t0 = time.time()
    for epoch in range(start_epoch, cfg.epochs + 1):
        t0 = time.time()
        sampler.set_epoch(epoch)
        model.train()
        loss_sum, seen = 0.0, 0
        for i, (x, y) in enumerate(train_loader):
            lr = get_lr(cfg, step, epoch, total_steps)
            for group in optimizer.param_groups:
                group["lr"] = lr
            x, y = x.to(device, non_blocking=pin), y.to(device, non_blocking=pin)
            x, y = mixup(x, y, cfg.mixup)  # mix first, then mask (as the reference does)
            x = specaug(x)
            with autocast:
                loss = loss_fn(model(x), y, bce)
            optimizer.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)
            else:
                loss.backward()
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            step += 1
            loss_sum += loss.item() * len(x)
            seen += len(x)
            reporter.emit("batch", epoch=epoch, step=i + 1, steps=steps_per_epoch)
        train_loss = dist.mean_over_ranks(d, loss_sum, seen, device)
        train_seconds = time.time() - t0

        # every rank validates the whole set (simple; validation is small next to training)
        val = evaluate(raw_model, eval_loaders["val"], device, autocast, data.labels, bce)
        value = val[metric] if val[metric] is not None else -val["loss"]
        if value > best:
            best, best_epoch, bad = value, epoch, 0
            if d.main:
                _save_weights(raw_model, out / BEST_WEIGHTS)
        else:
            bad += 1
        if cfg.wa_last and epoch > cfg.epochs - cfg.wa_last:  # running mean of the last N
            wa_count += 1
            for k, v in raw_model.state_dict().items():
                v = v.detach().float().cpu()
                prev = wa_state.get(k, v)
                wa_state[k] = prev + (v - prev) / wa_count
        seconds = time.time() - t0
        history.append({"epoch": epoch, "train_loss": round(train_loss, 6), "lr": lr, **{
            k: val[k] for k in ("accuracy", "mAP", "loss")}})

        rngs = dist.gather(d, rng_state())  # captured last, so resume continues from here
        if d.main:
            done = epoch - start_epoch + 1
            eta = (cfg.epochs - epoch) * (time.time() - run_t0) / done
            reporter.emit("epoch", epoch=epoch, epochs=cfg.epochs, train_loss=train_loss, lr=lr,
                          val=val, metric=metric, best=best, best_epoch=best_epoch,
                          seconds=round(seconds, 3), train_seconds=round(train_seconds, 3),
                          samples_per_s=round(len(data.train) / train_seconds, 2), eta_s=eta)
            save_checkpoint(out / CHECKPOINT, {
                "model": raw_model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": {"step": step}, "scaler": scaler.state_dict() if scaler else {},
                "rng": rngs, "epoch": epoch, "config": cfg.to_dict(), "metric": metric,
                "best_metric": best, "best_epoch": best_epoch, "bad_epochs": bad,
                "wa_state": wa_state, "wa_count": wa_count, "history": history,
            })
            reporter.emit("checkpoint", epoch=epoch, path=str(out / CHECKPOINT))
        if cfg.patience and bad >= cfg.patience:
            break

    if not d.main:
        return None
    # -- the exported weights: the average of the last epochs (WA), else the best epoch's
    if wa_count:
        raw_model.load_state_dict(wa_state)
        chosen = f"average of the last {wa_count} epochs"
    else:
        raw_model.load_state_dict(load_file(out / BEST_WEIGHTS))
        chosen = f"best epoch ({best_epoch}, val {metric} {best:.4f})"
    final = {name: evaluate(raw_model, eval_loaders[name], device, autocast, data.labels, bce)
             for name in ("val", "test") if len(sets[name])}
    summary = {
        "weights": chosen, "epochs_run": len(history), "best_epoch": best_epoch,
        "metric": metric, "loss": "bce" if bce else "ce", "config": cfg.to_dict(),
        "clips": {name: len(clips) for name, clips in splits.items()},
        "history": history, "metrics": final,
    }
    model_dir = save_model(out / MODEL_DIR, raw_model.cpu(), data.labels, cfg.fbank,
                           extra={"training": summary})
    reporter.emit("done", model=str(model_dir), metrics=final, weights=chosen)
    return model_dir


def _save_weights(model: torch.nn.Module, path: Path) -> None:
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    atomic_write(path, lambda tmp: save_file(state, tmp))
