"""The model a run starts from: ImageNet DeiT, a trained (AudioSet) AST, or random weights."""

from __future__ import annotations

from ast_core.errors import ModelError
from ast_core.model.adapt import from_audioset_ast
from ast_core.model.checkpoints import load_model
from ast_core.model.pretrained import imagenet_init
from ast_core.model.transformer import AudioSpectrogramTransformer, LabelMode, ModelConfig
from ast_core.store.model_store import resolve
from trainer.config import TrainConfig

DEFAULT_AUDIOSET = "MIT/ast-finetuned-audioset-10-10-0.4593"


def model_config(cfg: TrainConfig, num_labels: int, label_mode: LabelMode) -> ModelConfig:
    """Architecture for `cfg` (size, strides, clip length) and the data's labels."""
    mc = ModelConfig.for_size(
        cfg.size, fstride=cfg.fstride, tstride=cfg.tstride, num_mel_bins=cfg.fbank.num_mel_bins,
        target_length=cfg.fbank.target_length, num_labels=num_labels, label_mode=label_mode,
    )
    # one LayerNorm eps for blocks and head: transformers' ASTConfig has a single one, so the
    # exported folder gives the same logits there (the reference's 1e-5 head eps does not)
    mc = mc.replace(head_norm_eps=mc.layer_norm_eps)
    return mc.replace(depth=cfg.depth) if cfg.depth else mc


def initial_model(
    cfg: TrainConfig, labels: list[str], label_mode: LabelMode
) -> AudioSpectrogramTransformer:
    """A fresh model with a new head for `labels`, initialised as `cfg.init` says."""
    if cfg.init == "scratch":
        return AudioSpectrogramTransformer(model_config(cfg, len(labels), label_mode))
    if cfg.init == "imagenet":
        return imagenet_init(model_config(cfg, len(labels), label_mode), cfg.size,
                             weights_file=cfg.imagenet_weights)
    # audioset: the source fixes the architecture (size, strides); the clip length is ours
    src = load_model(resolve(cfg.audioset_model or DEFAULT_AUDIOSET))
    if (cfg.fstride, cfg.tstride) not in ((10, 10), (src.config.fstride, src.config.tstride)):
        raise ModelError(
            f"{src.source}: trained with strides {src.config.fstride}/{src.config.tstride}; "
            "AudioSet init keeps them (leave --fstride/--tstride at their defaults)"
        )
    mc = src.config.replace(
        target_length=cfg.fbank.target_length, num_labels=len(labels), label_mode=label_mode,
        num_mel_bins=cfg.fbank.num_mel_bins,
    )
    model = AudioSpectrogramTransformer(mc)
    model.load_state_dict(from_audioset_ast(src.model.state_dict(), src.config, mc), strict=False)
    return model
