"""Initial weights for training: ImageNet ViT/DeiT from timm, or a trained AST for new labels."""

from __future__ import annotations

from pathlib import Path

from ast_core.errors import ModelError
from ast_core.model.adapt import from_audioset_ast, from_timm_vit
from ast_core.model.checkpoints import load_model
from ast_core.model.transformer import AudioSpectrogramTransformer, ModelConfig

# Our size name -> timm's distilled DeiT (two prefix tokens, as the AST reference uses).
TIMM_IMAGENET = {
    "tiny": "deit_tiny_distilled_patch16_224.fb_in1k",
    "small": "deit_small_distilled_patch16_224.fb_in1k",
    "base224": "deit_base_distilled_patch16_224.fb_in1k",
    "base384": "deit_base_distilled_patch16_384.fb_in1k",
}


def imagenet_init(
    cfg: ModelConfig,
    size: str,
    weights_file: str | Path | None = None,
    timm_name: str | None = None,
) -> AudioSpectrogramTransformer:
    """A fresh AST whose backbone comes from an ImageNet ViT/DeiT.

    With `weights_file` (a timm `.safetensors`/`.pth`/`.bin` of that model, for offline use)
    timm reads it locally; otherwise timm downloads the pretrained weights (needs internet).
    `cfg.num_prefix_tokens` must match the timm model (2 for DeiT distilled, 1 for plain ViT).
    """
    import timm

    name = timm_name or TIMM_IMAGENET[size]
    overlay = {"file": str(weights_file)} if weights_file else None
    try:
        vit = timm.create_model(name, pretrained=True, pretrained_cfg_overlay=overlay)
    except Exception as e:  # timm/hub raise many kinds: no network, bad file, bad name
        how = (
            "check the file"
            if weights_file
            else "this needs internet; offline, pass a local timm weights file"
        )
        raise ModelError(
            f"ImageNet weights for {name} unavailable ({type(e).__name__}); {how}"
        ) from None
    if vit.num_prefix_tokens != cfg.num_prefix_tokens or vit.embed_dim != cfg.embed_dim:
        raise ModelError(f"{name} does not match the requested model size/prefix tokens")
    model = AudioSpectrogramTransformer(cfg)
    state = from_timm_vit(vit.state_dict(), cfg, tuple(vit.patch_embed.grid_size))
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or set(missing) - {
        "head_norm.weight",
        "head_norm.bias",
        "head.weight",
        "head.bias",
    }:
        raise ModelError(f"{name}: unexpected weights {unexpected[:3]} / missing {missing[:3]}")
    return model


def audioset_init(cfg: ModelConfig, source: str | Path) -> AudioSpectrogramTransformer:
    """A fresh AST (new head) whose backbone comes from a trained AST model folder,
    the position embedding cropped/interpolated to `cfg.target_length`."""
    src = load_model(source)
    if src.config.embed_dim != cfg.embed_dim or src.config.depth != cfg.depth:
        raise ModelError(f"{source}: model size differs from the requested one")
    model = AudioSpectrogramTransformer(cfg)
    state = from_audioset_ast(src.model.state_dict(), src.config, cfg)
    model.load_state_dict(state, strict=False)
    return model
