"""`ast-studio train` / `python -m trainer`: fine-tune an AST on a labeled folder or CSV.

    python -m trainer DATA --out DIR [--init imagenet|audioset|scratch] [--size tiny] ...
    python -m trainer --out DIR --resume
    torchrun --nproc_per_node=N -m trainer DATA --out DIR ...      (DDP)

A run folder holds run.json (config, labels and split), checkpoint.pt (every epoch) and at the
end model/ (the one model format). With --folds K each fold gets its own run folder foldN/.
User errors print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ast_core.errors import AstStudioError
from trainer import dist
from trainer.config import PRESETS, TrainConfig, make_config, preset_for_duration
from trainer.data import (
    DataError,
    LabeledSet,
    PreflightReport,
    kfold_splits,
    load_source,
    preflight,
    restrict_labels,
    train_val_split,
)
from trainer.feature_cache import default_cache_dir
from trainer.loop import train
from trainer.progress import JsonlReporter, Reporter, make_reporter
from trainer.run_data import RunData
from trainer.state import CHECKPOINT, RUN_FILE, read_json, write_json

FOLDS_FILE = "folds.json"

# CLI flag -> TrainConfig field, for the hyperparameters that are passed through unchanged
_PASS = ["init", "imagenet_weights", "audioset_model", "size", "depth", "fstride", "tstride",
         "target_length", "epochs", "batch_size", "lr", "weight_decay", "optimizer",
         "warmup_steps", "schedule", "lr_decay", "lr_decay_start", "lr_decay_every", "loss",
         "mixup", "freqm", "timem", "balanced", "patience", "wa_last", "grad_clip", "amp",
         "seed", "val_fraction", "min_seconds"]


def build_parser() -> argparse.ArgumentParser:
    """`python -m trainer`'s parser."""
    p = argparse.ArgumentParser(prog="ast-studio train", description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The training options, on `python -m trainer`'s parser and on `ast-studio train`'s."""
    p.add_argument("data", nargs="?", help="folder with one subfolder per label, or a CSV "
                   "manifest `path,labels` (labels separated by ';')")
    p.add_argument("--out", required=True, help="run folder (checkpoints and model/)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--progress", choices=["tqdm", "jsonl"], default="tqdm")
    p.add_argument("--device", help="cpu, cuda, cuda:1, mps (default: best available)")
    p.add_argument("--cache-dir", help="feature cache folder (default: user data folder)")
    p.add_argument("--preset", choices=list(PRESETS),
                   help="recipe; default chosen from the clips' median duration")
    p.add_argument("--val-dir", help="validation folder instead of a split of DATA")
    p.add_argument("--test-dir", help="held-out test folder, evaluated with the final weights")
    p.add_argument("--folds", type=int, default=0, help="k-fold cross-validation (e.g. 5)")
    g = p.add_argument_group("model")
    g.add_argument("--init", choices=["imagenet", "audioset", "scratch"])
    g.add_argument("--imagenet-weights", help="local timm DeiT weights file (offline)")
    g.add_argument("--audioset-model", help="trained AST folder, installed name or hub id")
    g.add_argument("--size", choices=["tiny", "small", "base224", "base384"])
    g.add_argument("--depth", type=int, help="fewer transformer blocks (scratch only)")
    g.add_argument("--fstride", type=int)
    g.add_argument("--tstride", type=int)
    g.add_argument("--target-length", type=int, help="frames per clip (10 ms each)")
    g = p.add_argument_group("optimisation (defaults from the preset)")
    g.add_argument("--epochs", type=int)
    g.add_argument("--batch-size", type=int)
    g.add_argument("--lr", type=float)
    g.add_argument("--weight-decay", type=float)
    g.add_argument("--optimizer", choices=["adamw", "adam"])
    g.add_argument("--warmup-steps", type=int)
    g.add_argument("--schedule", choices=["step", "cosine", "constant"])
    g.add_argument("--lr-decay", type=float)
    g.add_argument("--lr-decay-start", type=int)
    g.add_argument("--lr-decay-every", type=int)
    g.add_argument("--loss", choices=["auto", "bce", "ce"])
    g.add_argument("--mixup", type=float, help="probability of mixing a clip (0 = off)")
    g.add_argument("--freqm", type=int, help="widest frequency mask (0 = off)")
    g.add_argument("--timem", type=int, help="widest time mask (0 = off)")
    g.add_argument("--balanced", action="store_true", default=None,
                   help="class-balanced sampling")
    g.add_argument("--patience", type=int, help="early stopping patience in epochs (0 = off)")
    g.add_argument("--wa-last", type=int, help="average the weights of the last N epochs")
    g.add_argument("--grad-clip", type=float)
    g.add_argument("--amp", choices=["auto", "off", "bf16", "fp16"])
    g.add_argument("--seed", type=int)
    g.add_argument("--val-fraction", type=float)
    g.add_argument("--min-seconds", type=float, help="skip shorter clips")


def _checked(
    path: str, min_seconds: float, reporter: Reporter, role: str
) -> tuple[LabeledSet, PreflightReport]:
    """Scan + pre-flight a data folder; unusable files are reported and left out."""
    source = load_source(path)
    report = preflight(source, min_seconds=min_seconds)
    reporter.emit("preflight", role=role, report=report.to_dict())
    if not isinstance(reporter, JsonlReporter) and reporter.enabled:
        print(f"{role} data {path}: {report.summary()}", file=sys.stderr)
    if role == "train":
        report.check()
    source.clips = report.usable
    return source, report


def prepare_runs(args: argparse.Namespace, reporter: Reporter) -> list[Path]:
    """Pre-flight, choose the recipe, split, and write run.json for each run folder."""
    out = Path(args.out)
    if (out / CHECKPOINT).exists() or (out / FOLDS_FILE).exists():
        raise DataError(f"{out} already holds a run; pass --resume, or choose another --out")
    if not args.data:
        raise DataError("give the DATA folder (or CSV), or --resume to continue a run")
    min_s = args.min_seconds if args.min_seconds is not None else 0.1
    data, report = _checked(args.data, min_s, reporter, "train")
    preset = args.preset or preset_for_duration(report.duration_summary()["median"])
    try:
        cfg = make_config(preset, **{k: getattr(args, k) for k in _PASS})
    except ValueError as e:
        raise DataError(str(e)) from None
    test = (restrict_labels(data, _checked(args.test_dir, min_s, reporter, "test")[0])
            if args.test_dir else [])
    if args.val_dir:
        val = restrict_labels(data, _checked(args.val_dir, min_s, reporter, "val")[0])
        splits = [(data.clips, val)]
    elif args.folds:
        splits = kfold_splits(data, data.clips, args.folds, cfg.seed)
    else:
        splits = [train_val_split(data, data.clips, cfg.val_fraction, cfg.seed)]
    cache = str(Path(args.cache_dir) if args.cache_dir else default_cache_dir())
    dirs = [out / f"fold{k + 1}" for k in range(len(splits))] if args.folds else [out]
    for run_dir, (tr, va) in zip(dirs, splits, strict=True):
        run = RunData(data.labels, data.multi_label, tr, va, test)
        write_json(run_dir / RUN_FILE, {"config": cfg.to_dict(), "data": run.to_dict(),
                                        "cache_dir": cache, "source": str(args.data),
                                        "preflight": report.to_dict()})
    if args.folds:
        write_json(out / FOLDS_FILE, {"folds": [d.name for d in dirs]})
    return dirs


def existing_runs(out: Path) -> list[Path]:
    """The run folders of a previous invocation (for --resume)."""
    if (out / FOLDS_FILE).exists():
        return [out / name for name in read_json(out / FOLDS_FILE)["folds"]]
    read_json(out / RUN_FILE)  # raises "nothing to resume" when absent
    return [out]


def execute(run_dir: Path, args: argparse.Namespace, reporter: Reporter, d: dist.Dist,
            device) -> Path | None:
    """Train one run folder from its run.json (resuming when it has a checkpoint)."""
    run = read_json(run_dir / RUN_FILE)
    cfg = TrainConfig.from_dict(run["config"])
    if args.resume and args.epochs:
        cfg = cfg.replace(epochs=args.epochs)  # the one setting a resume may change
    resume = args.resume and (run_dir / CHECKPOINT).exists()
    return train(cfg, RunData.from_dict(run["data"]), run_dir, reporter, d, device,
                 Path(run["cache_dir"]), resume=resume)


def summarize_folds(out: Path, models: list[Path | None]) -> None:
    """folds.json: each fold's final validation metrics and their mean (the ESC-50 report)."""
    rows = []
    for m in models:
        training = read_json(m / "config.json")["ast_studio"]["training"]
        rows.append({"model": str(m), **{k: training["metrics"]["val"][k]
                                         for k in ("accuracy", "mAP")}})
    mean = {k: sum(r[k] or 0 for r in rows) / len(rows) for k in ("accuracy", "mAP")}
    write_json(out / FOLDS_FILE, {"folds": [m.parent.name for m in models], "runs": rows,
                                  "mean": mean})


def main(argv: list[str] | None = None) -> int:
    """Entry point of `ast-studio train` and `python -m trainer`; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse printed usage and the error (or --help)
        return int(e.code or 0)
    return run(args)


def run(args: argparse.Namespace) -> int:
    """Train with parsed options (those of `add_arguments`); returns the exit status."""
    d, device = dist.setup(args.device)
    reporter = make_reporter(args.progress, enabled=d.main)
    try:
        # rank 0 checks the data and writes run.json; the other ranks wait for its verdict
        error = None
        if d.main:
            try:
                dirs = existing_runs(Path(args.out)) if args.resume else prepare_runs(args,
                                                                                      reporter)
            except AstStudioError as e:
                error = str(e)
        error = dist.broadcast(d, error)
        if error:
            raise DataError(error)
        dirs = existing_runs(Path(args.out))
        models = []
        for k, run_dir in enumerate(dirs):
            if len(dirs) > 1:
                reporter.context = {"fold": k + 1, "folds": len(dirs)}
            models.append(execute(run_dir, args, reporter, d, device))
        if d.main and len(dirs) > 1:
            summarize_folds(Path(args.out), models)
        return 0
    except AstStudioError as e:
        reporter.emit("error", message=str(e))
        if d.main:
            print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        reporter.emit("error", message="interrupted; the last checkpoint is kept (--resume)")
        return 130
    finally:
        reporter.close()
        dist.teardown(d)
