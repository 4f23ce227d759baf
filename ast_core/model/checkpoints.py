"""The one model format: a transformers AST folder plus our keys; and import of reference `.pth`.

A model folder holds `config.json` (transformers' `ASTConfig` with `id2label`, plus an
`ast_studio` section: our `ModelConfig`, `FbankConfig` and training summary),
`model.safetensors` in transformers' key layout, and `preprocessor_config.json`. Official hub
models load as they are; folders we write load in `transformers` too. Nothing here unpickles
code: safetensors, or `torch.load(weights_only=True)` for the reference's `.pth` files.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from ast_core.audio import SAMPLE_RATE
from ast_core.audio.features import FbankConfig
from ast_core.errors import ModelError
from ast_core.model.adapt import clean_state_dict, resample_pos_embed
from ast_core.model.transformer import AudioSpectrogramTransformer, ModelConfig
from ast_core.store.atomic import atomic_write, atomic_write_text
from ast_core.store.json_files import read_json

FORMAT_VERSION = 1
_HF = "audio_spectrogram_transformer."
# (ours, transformers') name pairs for everything but the fused qkv projection.
_LAYER_PAIRS = [
    ("norm1", "layernorm_before"),
    ("attn.proj", "attention.output.dense"),
    ("norm2", "layernorm_after"),
    ("mlp.fc1", "intermediate.dense"),
    ("mlp.fc2", "output.dense"),
]
_TOP_PAIRS = [
    ("cls_token", _HF + "embeddings.cls_token"),
    ("dist_token", _HF + "embeddings.distillation_token"),
    ("pos_embed", _HF + "embeddings.position_embeddings"),
    ("patch_embed.proj.weight", _HF + "embeddings.patch_embeddings.projection.weight"),
    ("patch_embed.proj.bias", _HF + "embeddings.patch_embeddings.projection.bias"),
    ("norm.weight", _HF + "layernorm.weight"),
    ("norm.bias", _HF + "layernorm.bias"),
    ("head_norm.weight", "classifier.layernorm.weight"),
    ("head_norm.bias", "classifier.layernorm.bias"),
    ("head.weight", "classifier.dense.weight"),
    ("head.bias", "classifier.dense.bias"),
]


@dataclass
class LoadedModel:
    """A model rebuilt from its files, with everything needed to use it."""

    model: AudioSpectrogramTransformer
    labels: list[str]
    fbank: FbankConfig
    source: str
    extra: dict[str, Any] = field(default_factory=dict)  # training summary etc.

    @property
    def config(self) -> ModelConfig:
        return self.model.cfg


# ---------------------------------------------------------------- key maps


def to_hf_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Our parameter names -> transformers' (qkv split into query/key/value)."""
    out = {}
    top = dict(_TOP_PAIRS)
    for key, value in state.items():
        m = re.match(r"blocks\.(\d+)\.(.+)\.(weight|bias)$", key)
        if key in top:
            out[top[key]] = value
        elif m:
            i, name, kind = m.groups()
            layer = f"{_HF}encoder.layer.{i}."
            if name == "attn.qkv":
                for part, chunk in zip(("query", "key", "value"), value.chunk(3), strict=True):
                    out[f"{layer}attention.attention.{part}.{kind}"] = chunk
            else:
                out[f"{layer}{dict(_LAYER_PAIRS)[name]}.{kind}"] = value
        else:
            raise KeyError(f"no transformers name for parameter {key!r}")
    return {k: v.contiguous() for k, v in out.items()}


def from_hf_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """transformers' AST parameter names -> ours (query/key/value fused into qkv)."""
    top = {hf: ours for ours, hf in _TOP_PAIRS}
    layer_map = {hf: ours for ours, hf in _LAYER_PAIRS}
    out: dict[str, torch.Tensor] = {}
    qkv: dict[tuple[str, str], dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        m = re.match(re.escape(_HF) + r"encoder\.layer\.(\d+)\.(.+)\.(weight|bias)$", key)
        if key in top:
            out[top[key]] = value
        elif m:
            i, name, kind = m.groups()
            qm = re.match(r"attention\.attention\.(query|key|value)$", name)
            if qm:
                qkv.setdefault((i, kind), {})[qm.group(1)] = value
            elif name in layer_map:
                out[f"blocks.{i}.{layer_map[name]}.{kind}"] = value
            else:
                raise ModelError(f"unexpected parameter {key!r} in the checkpoint")
        else:
            raise ModelError(f"unexpected parameter {key!r} in the checkpoint")
    for (i, kind), parts in qkv.items():
        out[f"blocks.{i}.attn.qkv.{kind}"] = torch.cat(
            [parts["query"], parts["key"], parts["value"]]
        )
    return out


# ---------------------------------------------------------------- folders


def _atomic_write_json(path: Path, obj: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def hf_config(cfg: ModelConfig, labels: list[str], fbank: FbankConfig, extra: dict) -> dict:
    """transformers' ASTConfig fields for `cfg`, plus our own section."""
    return {
        "architectures": ["ASTForAudioClassification"],
        "model_type": "audio-spectrogram-transformer",
        "hidden_size": cfg.embed_dim,
        "num_hidden_layers": cfg.depth,
        "num_attention_heads": cfg.num_heads,
        "intermediate_size": int(cfg.embed_dim * cfg.mlp_ratio),
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "initializer_range": 0.02,
        "layer_norm_eps": cfg.layer_norm_eps,
        "patch_size": cfg.patch_size,
        "qkv_bias": True,
        "frequency_stride": cfg.fstride,
        "time_stride": cfg.tstride,
        "max_length": cfg.target_length,
        "num_mel_bins": cfg.num_mel_bins,
        "problem_type": (
            "single_label_classification"
            if cfg.label_mode == "single"
            else "multi_label_classification"
        ),
        "id2label": {str(i): name for i, name in enumerate(labels)},
        "label2id": {name: i for i, name in enumerate(labels)},
        "ast_studio": {
            "format_version": FORMAT_VERSION,
            "model": cfg.to_dict(),
            "fbank": fbank.to_dict(),
            **extra,
        },
    }


def preprocessor_config(fbank: FbankConfig) -> dict:
    """transformers' ASTFeatureExtractor settings for `fbank`."""
    return {
        "feature_extractor_type": "ASTFeatureExtractor",
        "feature_size": 1,
        "num_mel_bins": fbank.num_mel_bins,
        "max_length": fbank.target_length,
        "sampling_rate": fbank.sample_rate,
        "padding_value": 0.0,
        "do_normalize": True,
        "mean": fbank.mean,
        "std": fbank.std,
        "return_attention_mask": False,
    }


def save_model(
    path: str | Path,
    model: AudioSpectrogramTransformer,
    labels: list[str],
    fbank: FbankConfig,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a model folder; each file is replaced atomically, weights last-but-one, config last."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    cfg = model.cfg
    if len(labels) != cfg.num_labels:
        raise ValueError(f"{len(labels)} labels for a model with {cfg.num_labels} outputs")
    state = to_hf_state_dict({k: v.detach().cpu() for k, v in model.state_dict().items()})
    atomic_write(path / "model.safetensors", lambda tmp: save_file(state, tmp, {"format": "pt"}))
    _atomic_write_json(path / "preprocessor_config.json", preprocessor_config(fbank))
    _atomic_write_json(path / "config.json", hf_config(cfg, labels, fbank, extra or {}))
    return path


def _read_json(path: Path) -> dict:
    return read_json(path, ModelError, f"{path.parent}: not a model folder (no {path.name})")


def _configs_from_hf(config: dict, pre: dict | None) -> tuple[ModelConfig, FbankConfig]:
    """Our configs from transformers' config.json (+ preprocessor_config.json if present)."""
    ours = config.get("ast_studio", {})
    num_labels = len(config.get("id2label", {})) or config.get("num_labels", 527)
    if "model" in ours:
        cfg = ModelConfig.from_dict(ours["model"])
    else:
        problem = config.get("problem_type")
        mode = "single" if problem == "single_label_classification" else "multi"
        if problem is None and num_labels != 527:
            mode = "single"  # e.g. the Speech Commands model: one word per clip
        hidden = config.get("hidden_size", 768)
        cfg = ModelConfig(
            embed_dim=hidden,
            depth=config.get("num_hidden_layers", 12),
            num_heads=config.get("num_attention_heads", 12),
            mlp_ratio=config.get("intermediate_size", 4 * hidden) / hidden,
            patch_size=config.get("patch_size", 16),
            fstride=config.get("frequency_stride", 10),
            tstride=config.get("time_stride", 10),
            num_mel_bins=config.get("num_mel_bins", 128),
            target_length=config.get("max_length", 1024),
            num_prefix_tokens=2,
            num_labels=num_labels,
            label_mode=mode,
            layer_norm_eps=config.get("layer_norm_eps", 1e-12),
            head_norm_eps=config.get("layer_norm_eps", 1e-12),
        )
    if "fbank" in ours:
        fbank = FbankConfig.from_dict(ours["fbank"])
    else:
        pre = pre or {}
        fbank = FbankConfig(
            sample_rate=pre.get("sampling_rate", SAMPLE_RATE),
            num_mel_bins=pre.get("num_mel_bins", cfg.num_mel_bins),
            target_length=pre.get("max_length", cfg.target_length),
            mean=pre.get("mean", FbankConfig.mean),
            std=pre.get("std", FbankConfig.std),
        )
    return cfg, fbank


def model_from_state_dict(
    cfg: ModelConfig, state: dict[str, torch.Tensor], source: str, target_length: int | None = None
) -> AudioSpectrogramTransformer:
    """Model from our-layout weights; resamples the position embedding for another length."""
    target = (
        cfg
        if target_length in (None, cfg.target_length)
        else cfg.replace(target_length=target_length)
    )
    if target is not cfg:
        state = dict(state)
        state["pos_embed"] = resample_pos_embed(
            state["pos_embed"], cfg.num_prefix_tokens, cfg.grid, target.grid
        )
    with torch.device("meta"):  # no random init: every weight comes from `state`
        model = AudioSpectrogramTransformer(target)
    try:
        model.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()
        raise ModelError(
            f"{source}: weights do not fit the model config ({first[-1].strip()})"
        ) from None
    return model.eval()


def load_model(path: str | Path, target_length: int | None = None) -> LoadedModel:
    """Load a model folder (ours or an official transformers AST); never runs pickled code."""
    path = Path(path)
    if not path.is_dir():
        raise ModelError(f"{path}: model folder not found")
    config = _read_json(path / "config.json")
    pre_path = path / "preprocessor_config.json"
    pre = _read_json(pre_path) if pre_path.exists() else None
    cfg, fbank = _configs_from_hf(config, pre)
    weights = path / "model.safetensors"
    if not weights.exists():
        raise ModelError(
            f"{path}: no model.safetensors (pickled pytorch_model.bin files are not loaded; "
            "re-save the model with safetensors)"
        )
    try:
        state = from_hf_state_dict(load_file(weights))
    except ModelError:
        raise
    except Exception as e:  # safetensors raises its own error types
        raise ModelError(f"{weights}: unreadable weights ({e})") from None
    labels = (
        [config["id2label"][str(i)] for i in range(cfg.num_labels)]
        if config.get("id2label")
        else [f"class {i}" for i in range(cfg.num_labels)]
    )
    if target_length is not None:
        fbank = FbankConfig.from_dict({**fbank.to_dict(), "target_length": target_length})
    model = model_from_state_dict(cfg, state, str(path), target_length)
    extra = {k: v for k, v in config.get("ast_studio", {}).items() if k not in ("model", "fbank")}
    return LoadedModel(model, labels, fbank, str(path), extra)


# ---------------------------------------------------------------- single weight files


def read_weights_file(path: str | Path) -> dict[str, torch.Tensor]:
    """Our-layout state dict from a reference `.pth` (`module.v.*`, `module.mlp_head.{0,1}.*`)
    or a `.safetensors` file in the reference's or transformers' layout. Never runs pickled code.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: file not found")
    try:
        if path.suffix.lower() == ".safetensors":
            raw = load_file(path)
        else:
            raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # unpickling refused, or the file is corrupt
        msg = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
        raise ModelError(
            f"{path}: refused or unreadable as a weights-only checkpoint "
            f"({type(e).__name__}: {msg})"
        ) from None
    if isinstance(raw, dict) and isinstance(raw.get("state_dict"), dict):
        raw = raw["state_dict"]
    if not isinstance(raw, dict) or not all(isinstance(v, torch.Tensor) for v in raw.values()):
        raise ModelError(f"{path}: not a state dict of tensors")
    state = clean_state_dict(raw)
    if any(k.startswith(_HF) for k in state):
        return from_hf_state_dict(state)
    ours: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.startswith("v.") and not key.startswith(("v.head.", "v.head_dist.")):
            ours[key[2:]] = value
        elif key.startswith("mlp_head."):
            ours[key.replace("mlp_head.0.", "head_norm.").replace("mlp_head.1.", "head.")] = value
    if "pos_embed" not in ours or "head.weight" not in ours:
        raise ModelError(f"{path}: not an AST checkpoint (no position embedding / head weights)")
    return ours


def model_from_weights(
    state: dict[str, torch.Tensor],
    labels: list[str],
    fbank: FbankConfig,
    source: str,
    fstride: int = 10,
    tstride: int | None = None,
    label_mode: str = "multi",
    layer_norm_eps: float = 1e-6,
    head_norm_eps: float = 1e-5,
) -> LoadedModel:
    """Rebuild a model whose architecture is read off its weights' shapes.

    Strides cannot be read off the weights; the defaults are the reference's 10/10. The
    eps defaults are the reference's timm blocks (1e-6) and `mlp_head` LayerNorm (1e-5).
    """
    dim = state["pos_embed"].shape[-1]
    depth = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("blocks."))
    num_prefix = 2 if "dist_token" in state else 1
    num_patches = state["pos_embed"].shape[1] - num_prefix
    tstride = tstride or fstride
    f = (fbank.num_mel_bins - 16) // fstride + 1
    if num_patches % f:
        raise ModelError(f"{source}: position embedding does not fit fstride={fstride}")
    t = num_patches // f
    target_length = fbank.target_length
    if (target_length - 16) // tstride + 1 != t:
        target_length = (t - 1) * tstride + 16
    cfg = ModelConfig(
        embed_dim=dim,
        depth=depth,
        num_heads={192: 3, 384: 6}.get(dim, dim // 64),
        mlp_ratio=state["blocks.0.mlp.fc1.weight"].shape[0] / dim,
        fstride=fstride,
        tstride=tstride,
        num_mel_bins=fbank.num_mel_bins,
        target_length=target_length,
        num_prefix_tokens=num_prefix,
        num_labels=state["head.weight"].shape[0],
        label_mode=label_mode,
        layer_norm_eps=layer_norm_eps,
        head_norm_eps=head_norm_eps,
    )
    if len(labels) != cfg.num_labels:
        raise ModelError(f"{source}: {cfg.num_labels} outputs but {len(labels)} labels given")
    model = model_from_state_dict(cfg, state, source, fbank.target_length)
    return LoadedModel(model, list(labels), fbank, source, {})
