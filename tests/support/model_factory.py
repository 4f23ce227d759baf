"""Real model files for tests: random-init models saved in the formats users download."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from ast_core.audio.features import FbankConfig
from ast_core.model.checkpoints import save_model, to_hf_state_dict
from ast_core.model.transformer import AudioSpectrogramTransformer, ModelConfig


def tiny_config(target_length: int = 128, num_labels: int = 5, depth: int = 2, **kw) -> ModelConfig:
    return ModelConfig.for_size(
        "tiny", target_length=target_length, num_labels=num_labels, depth=depth, **kw
    )


def make_model(cfg: ModelConfig, seed: int = 0) -> AudioSpectrogramTransformer:
    torch.manual_seed(seed)
    model = AudioSpectrogramTransformer(cfg).eval()
    with torch.no_grad():  # non-trivial norms and biases so that mapping mistakes show
        for name, p in model.named_parameters():
            if name.endswith("bias") or "norm" in name:
                p.add_(torch.randn_like(p) * 0.1)
    return model


def save_tiny_folder(
    path: Path,
    labels: list[str] | None = None,
    target_length: int = 128,
    sharp_attention: bool = False,
    **kw,
) -> Path:
    """A random tiny model folder in the one model format (`kw` go to `tiny_config`:
    depth, label_mode, strides).

    `sharp_attention` scales the query/key weights up so attention is peaky, as in a trained
    model (a random model attends almost evenly, which draws an empty heatmap).
    """
    labels = labels or [f"sound {i}" for i in range(5)]
    cfg = tiny_config(target_length=target_length, num_labels=len(labels), **kw)
    model = make_model(cfg)
    if sharp_attention:
        with torch.no_grad():
            for block in model.blocks:
                block.attn.qkv.weight[: 2 * cfg.embed_dim] *= 6.0
    return save_model(path, model, labels, FbankConfig(target_length=target_length))


def reference_state_dict(model: AudioSpectrogramTransformer) -> dict[str, torch.Tensor]:
    """The AST reference's `DataParallel.state_dict()` layout for `model`'s weights,
    including the unused ImageNet heads the released files carry."""
    out = {}
    for key, value in model.state_dict().items():
        if key.startswith("head_norm."):
            out["module.mlp_head.0." + key.split(".", 1)[1]] = value.clone()
        elif key.startswith("head."):
            out["module.mlp_head.1." + key.split(".", 1)[1]] = value.clone()
        else:
            out["module.v." + key] = value.clone()
    dim = model.cfg.embed_dim
    out["module.v.head.weight"] = torch.zeros(1000, dim)
    out["module.v.head.bias"] = torch.zeros(1000)
    out["module.v.head_dist.weight"] = torch.zeros(1000, dim)
    out["module.v.head_dist.bias"] = torch.zeros(1000)
    return out


def hf_cache_entry(cache: Path, repo_id: str, folder: Path, revision: str = "0" * 40) -> Path:
    """Lay out `folder`'s files as a Hugging Face hub cache entry (refs/main + snapshot)."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snap = repo / "snapshots" / revision
    snap.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    (repo / "blobs").mkdir()
    for f in folder.iterdir():  # content-addressed blobs, symlinked from the snapshot, as the hub
        data = f.read_bytes()
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        (snap / f.name).symlink_to(Path("..", "..", "blobs", blob.name))
    return snap


__all__ = [
    "hf_cache_entry",
    "make_model",
    "reference_state_dict",
    "save_tiny_folder",
    "tiny_config",
    "to_hf_state_dict",
]
