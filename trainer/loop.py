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

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from ast_core.accel.malloc_tuning import keep_freed_memory
from ast_core.model.checkpoints import save_model
from ast_core.store.atomic import atomic_write
from trainer import dist, metrics
from trainer.augment import SpecAugment, mixup
from trainer.config import TrainConfig
from trainer.models import initial_model
from trainer.progress import Reporter
from trainer.run_data import RunData, cached_sets, loaders
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


@dataclass
class RunState:
    """What a restart restores besides weights, optimizer and RNGs (kept in checkpoint.pt)."""

    epoch: int = 0  # the last finished epoch
    step: int = 0  # optimizer steps so far: drives the learning-rate schedule
    best: float = -math.inf  # best validation value (the metric, or -loss without one)
    best_epoch: int = 0
    bad: int = 0  # epochs since the best, for early stopping
    wa_state: dict[str, torch.Tensor] = field(default_factory=dict)  # running mean of weights
    wa_count: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_checkpoint(cls, ck: dict[str, Any]) -> RunState:
        return cls(ck["epoch"], ck["scheduler"]["step"], ck["best_metric"], ck["best_epoch"],
                   ck["bad_epochs"], ck["wa_state"], ck["wa_count"], ck["history"])

    def to_checkpoint(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "scheduler": {"step": self.step},
                "best_metric": self.best, "best_epoch": self.best_epoch, "bad_epochs": self.bad,
                "wa_state": self.wa_state, "wa_count": self.wa_count, "history": self.history}

    def record(
        self, epoch: int, value: float, row: dict[str, Any], average: torch.nn.Module | None
    ) -> bool:
        """Note a validated epoch: best value and early-stopping count, `average`'s weights
        into the running mean (None: not averaged), its history `row`. True if the best yet."""
        best = value > self.best
        if best:
            self.best, self.best_epoch, self.bad = value, epoch, 0
        else:
            self.bad += 1
        if average is not None:
            self.wa_count += 1
            for k, v in average.state_dict().items():
                v = v.detach().float().cpu()
                prev = self.wa_state.get(k, v)
                self.wa_state[k] = prev + (v - prev) / self.wa_count
        self.epoch = epoch
        self.history.append({"epoch": epoch, **row})
        return best


@dataclass
class Fit:
    """The model being trained and what updates it, the same objects for the whole run."""

    model: torch.nn.Module  # wrapped in DistributedDataParallel under torchrun
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler | None  # fp16 autocast only
    autocast: Any  # torch.autocast, or nullcontext without mixed precision
    specaug: SpecAugment
    device: torch.device
    bce: bool  # multi-label BCE, else cross-entropy

    @property
    def module(self) -> torch.nn.Module:
        """The model itself, unwrapped from DDP."""
        ddp = isinstance(self.model, DistributedDataParallel)
        return self.model.module if ddp else self.model


def train_step(fit: Fit, x: torch.Tensor, y: torch.Tensor, cfg: TrainConfig) -> torch.Tensor:
    """One optimizer step on a batch `(batch, frames, mels)`, `(batch, labels)`; its loss."""
    with fit.autocast:
        loss = loss_fn(fit.model(x), y, fit.bce)
    fit.optimizer.zero_grad(set_to_none=True)
    if fit.scaler is not None:  # fp16: scale the loss, unscale before clipping
        fit.scaler.scale(loss).backward()
        fit.scaler.unscale_(fit.optimizer)
    else:
        loss.backward()
    if cfg.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(fit.model.parameters(), cfg.grad_clip)
    if fit.scaler is not None:
        fit.scaler.step(fit.optimizer)
        fit.scaler.update()
    else:
        fit.optimizer.step()
    return loss


def train_epoch(
    fit: Fit, loader: DataLoader, cfg: TrainConfig, run: RunState, epoch: int,
    total_steps: int, reporter: Reporter,
) -> tuple[float, int, float]:
    """One pass over this rank's share: (summed loss, samples seen, last learning rate)."""
    pin = fit.device.type == "cuda"
    fit.model.train()
    loss_sum, seen, lr = 0.0, 0, cfg.lr
    for i, (x, y) in enumerate(loader):
        lr = get_lr(cfg, run.step, epoch, total_steps)
        for group in fit.optimizer.param_groups:
            group["lr"] = lr
        x, y = x.to(fit.device, non_blocking=pin), y.to(fit.device, non_blocking=pin)
        x, y = mixup(x, y, cfg.mixup)  # mix first, then mask (as the reference does)
        loss = train_step(fit, fit.specaug(x), y, cfg)
        run.step += 1
        loss_sum += loss.item() * len(x)
        seen += len(x)
        reporter.emit("batch", epoch=epoch, step=i + 1, steps=len(loader))
    return loss_sum, seen, lr


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
    metric = "mAP" if data.multi_label else "accuracy"
    sets = cached_sets(cfg, data, cache_dir, reporter, d)

    # -- model and optimizer; the same seed on every rank gives the same initial weights
    seed_everything(cfg.seed)
    model = initial_model(cfg, data.labels, "multi" if data.multi_label else "single").to(device)
    opt_cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    optimizer = opt_cls(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                        betas=(0.95, 0.999))  # the reference's betas
    amp = amp_dtype(cfg, device)
    scaler = torch.amp.GradScaler(device.type) if amp == torch.float16 else None
    run = _resume(out, model, optimizer, scaler, d) if resume else RunState()
    if not resume:
        torch.manual_seed(cfg.seed + 1000 * d.rank)  # augmentation differs between ranks
    if d.enabled:
        model = DistributedDataParallel(model, device_ids=[device] if device.type == "cuda"
                                        else None)
    fit = Fit(model, optimizer, scaler,
              torch.autocast(device.type, dtype=amp) if amp else nullcontext(),
              SpecAugment(cfg.freqm, cfg.timem), device,
              bce=cfg.loss == "bce" or (cfg.loss == "auto" and data.multi_label))

    train_loader, eval_loaders = loaders(cfg, sets, d, device)
    total_steps = len(train_loader) * cfg.epochs
    stopped_early = bool(cfg.patience and run.bad >= cfg.patience)  # then only export again
    start_epoch = cfg.epochs + 1 if stopped_early else run.epoch + 1
    reporter.emit("start", epochs=cfg.epochs, first_epoch=start_epoch, labels=data.labels,
                  train_clips=len(data.train), val_clips=len(data.val),
                  test_clips=len(data.test), steps_per_epoch=len(train_loader),
                  metric=metric, device=str(device), world=d.world, out=str(out),
                  config=cfg.to_dict())

    run_t0 = time.time()
    for epoch in range(start_epoch, cfg.epochs + 1):
        t0 = time.time()
        train_loader.sampler.set_epoch(epoch)
        loss_sum, seen, lr = train_epoch(fit, train_loader, cfg, run, epoch, total_steps,
                                         reporter)
        train_loss = dist.mean_over_ranks(d, loss_sum, seen, device)
        train_seconds = time.time() - t0

        # every rank validates the whole set (simple; validation is small next to training)
        val = evaluate(fit.module, eval_loaders["val"], device, fit.autocast, data.labels,
                       fit.bce)
        averaged = cfg.wa_last and epoch > cfg.epochs - cfg.wa_last  # mean of the last N
        row = {"train_loss": round(train_loss, 6), "lr": lr,
               **{k: val[k] for k in ("accuracy", "mAP", "loss")}}
        value = val[metric] if val[metric] is not None else -val["loss"]
        if run.record(epoch, value, row, fit.module if averaged else None) and d.main:
            _save_weights(fit.module, out / BEST_WEIGHTS)

        rngs = dist.gather(d, rng_state())  # captured last, so resume continues from here
        if d.main:
            eta = (cfg.epochs - epoch) * (time.time() - run_t0) / (epoch - start_epoch + 1)
            reporter.emit("epoch", epoch=epoch, epochs=cfg.epochs, train_loss=train_loss, lr=lr,
                          val=val, metric=metric, best=run.best, best_epoch=run.best_epoch,
                          seconds=round(time.time() - t0, 3),
                          train_seconds=round(train_seconds, 3),
                          samples_per_s=round(len(data.train) / train_seconds, 2), eta_s=eta)
            save_checkpoint(out / CHECKPOINT, {
                "model": fit.module.state_dict(), "optimizer": optimizer.state_dict(),
                "scaler": scaler.state_dict() if scaler else {}, "rng": rngs,
                "config": cfg.to_dict(), "metric": metric, **run.to_checkpoint(),
            })
            reporter.emit("checkpoint", epoch=epoch, path=str(out / CHECKPOINT))
        if cfg.patience and run.bad >= cfg.patience:
            break
    return export(fit, run, out, data, cfg, metric, eval_loaders, reporter) if d.main else None


def _resume(
    out: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    d: dist.Dist,
) -> RunState:
    """Load `out`'s checkpoint into the model, optimizer, scaler and this rank's RNGs."""
    ck = load_checkpoint(out / CHECKPOINT)
    model.load_state_dict(ck["model"])
    optimizer.load_state_dict(ck["optimizer"])
    if scaler is not None and ck.get("scaler"):
        scaler.load_state_dict(ck["scaler"])
    set_rng_state(ck["rng"][d.rank if d.rank < len(ck["rng"]) else 0])
    return RunState.from_checkpoint(ck)


def export(
    fit: Fit,
    run: RunState,
    out: Path,
    data: RunData,
    cfg: TrainConfig,
    metric: str,
    eval_loaders: dict[str, DataLoader],
    reporter: Reporter,
) -> Path:
    """Write `out/model` with the average of the last epochs (WA), else the best epoch's
    weights, and the final val/test metrics in its config; returns the folder."""
    model = fit.module
    if run.wa_count:
        model.load_state_dict(run.wa_state)
        chosen = f"average of the last {run.wa_count} epochs"
    else:
        model.load_state_dict(load_file(out / BEST_WEIGHTS))
        chosen = f"best epoch ({run.best_epoch}, val {metric} {run.best:.4f})"
    final = {
        name: evaluate(model, eval_loaders[name], fit.device, fit.autocast, data.labels, fit.bce)
        for name in ("val", "test") if len(eval_loaders[name].dataset)
    }
    summary = {
        "weights": chosen, "epochs_run": len(run.history), "best_epoch": run.best_epoch,
        "metric": metric, "loss": "bce" if fit.bce else "ce", "config": cfg.to_dict(),
        "clips": {name: len(clips) for name, clips in data.splits().items()},
        "history": run.history, "metrics": final,
    }
    model_dir = save_model(out / MODEL_DIR, model.cpu(), data.labels, cfg.fbank,
                           extra={"training": summary})
    reporter.emit("done", model=str(model_dir), metrics=final, weights=chosen)
    return model_dir


def _save_weights(model: torch.nn.Module, path: Path) -> None:
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    atomic_write(path, lambda tmp: save_file(state, tmp))
