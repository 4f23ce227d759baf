"""Logits equal transformers' ASTForAudioClassification on the same weights."""

from __future__ import annotations

import json

import pytest
import torch

from ast_core.audio.features import FbankConfig
from ast_core.model.checkpoints import (
    load_model,
    model_from_weights,
    read_weights_file,
    save_model,
)
from ast_core.model.transformer import ModelConfig
from tests.support.model_factory import make_model, reference_state_dict, tiny_config


def _hf_model(cfg: ModelConfig):
    from transformers import ASTConfig, ASTForAudioClassification

    hf_cfg = ASTConfig(
        hidden_size=cfg.embed_dim,
        num_hidden_layers=cfg.depth,
        num_attention_heads=cfg.num_heads,
        intermediate_size=int(cfg.embed_dim * cfg.mlp_ratio),
        frequency_stride=cfg.fstride,
        time_stride=cfg.tstride,
        max_length=cfg.target_length,
        num_labels=cfg.num_labels,
        layer_norm_eps=cfg.layer_norm_eps,
    )
    torch.manual_seed(0)
    model = ASTForAudioClassification(hf_cfg).eval()
    with torch.no_grad():  # norms and biases not trivially 1/0, so mapping mistakes show
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model


CASES = [
    pytest.param(
        ModelConfig.for_size("base384", num_labels=527, layer_norm_eps=1e-12, head_norm_eps=1e-12),
        id="base384-1024",
    ),
    pytest.param(
        tiny_config(
            target_length=300,
            num_labels=7,
            layer_norm_eps=1e-12,
            head_norm_eps=1e-12,
            fstride=12,
            tstride=14,
        ),
        id="tiny-300-s12x14",
    ),
    pytest.param(
        tiny_config(target_length=128, num_labels=35, layer_norm_eps=1e-12, head_norm_eps=1e-12),
        id="tiny-128",
    ),
]


@pytest.mark.parametrize("cfg", CASES)
def test_logits_match_transformers_through_every_format(tmp_path, cfg):
    from transformers import ASTForAudioClassification

    hf = _hf_model(cfg)
    hf.save_pretrained(tmp_path / "hf")  # an official-layout folder, as on the hub
    loaded = load_model(tmp_path / "hf")
    assert loaded.config.grid == cfg.grid and loaded.config.target_length == cfg.target_length
    x = torch.randn(1, cfg.target_length, 128)
    with torch.inference_mode():
        ref = hf(x).logits
        assert (loaded.model(x) - ref).abs().max() <= 1e-4
        # our folder loads in transformers, and in our loader, with the same logits
        save_model(
            tmp_path / "ours",
            loaded.model,
            loaded.labels,
            FbankConfig(target_length=cfg.target_length),
        )
        again = ASTForAudioClassification.from_pretrained(tmp_path / "ours").eval()
        assert (again(x).logits - ref).abs().max() <= 1e-4
        assert (load_model(tmp_path / "ours").model(x) - ref).abs().max() <= 1e-4
        # the same weights as an original-layout .pth (module.v.*, module.mlp_head.*)
        torch.save(reference_state_dict(loaded.model), tmp_path / "audioset_10_10.pth")
        state = read_weights_file(tmp_path / "audioset_10_10.pth")
        assert not any(k.startswith("head_dist") for k in state)
        imported = model_from_weights(
            state,
            loaded.labels,
            FbankConfig(target_length=cfg.target_length),
            "test",
            fstride=cfg.fstride,
            tstride=cfg.tstride,
            layer_norm_eps=cfg.layer_norm_eps,
            head_norm_eps=cfg.head_norm_eps,
        )
        assert imported.config.replace(label_mode="multi") == cfg.replace(label_mode="multi")
        assert (imported.model(x) - ref).abs().max() <= 1e-4


def test_reference_eps_defaults_follow_the_reference(tmp_path):
    cfg = tiny_config()
    torch.save(reference_state_dict(make_model(cfg)), tmp_path / "m.pth")
    loaded = model_from_weights(
        read_weights_file(tmp_path / "m.pth"), list("abcde"), FbankConfig(target_length=128), "m"
    )
    assert (loaded.config.layer_norm_eps, loaded.config.head_norm_eps) == (1e-6, 1e-5)
    assert loaded.model.blocks[0].norm1.eps == 1e-6 and loaded.model.head_norm.eps == 1e-5


def test_attention_path_gives_the_same_logits_and_valid_maps():
    cfg = tiny_config(target_length=200)
    model = make_model(cfg)
    x = torch.randn(2, 200, 128)
    with torch.inference_mode():
        out = model.forward_with_attention(x)
        assert (out.logits - model(x)).abs().max() <= 1e-5
        assert torch.allclose(out.embedding, model.pool(model.forward_features(x)), atol=1e-5)
    tokens = cfg.num_patches + 2
    assert len(out.attentions) == cfg.depth
    assert out.attentions[0].shape == (2, tokens, tokens)
    assert torch.allclose(out.attentions[-1].sum(-1), torch.ones(2, tokens), atol=1e-4)


def test_attention_matches_transformers_eager_attention(tmp_path):
    cfg = tiny_config(target_length=128, layer_norm_eps=1e-12, head_norm_eps=1e-12)
    hf = _hf_model(cfg)
    hf.save_pretrained(tmp_path / "hf")
    hf.config._attn_implementation = "eager"
    x = torch.randn(1, 128, 128)
    with torch.inference_mode():
        ref = hf(x, output_attentions=True).attentions
        ours = load_model(tmp_path / "hf").model.forward_with_attention(x).attentions
    for a, b in zip(ours, ref, strict=True):
        assert (a - b.mean(dim=1)).abs().max() <= 1e-5


def test_one_prefix_token_model_round_trips(tmp_path):
    cfg = tiny_config(num_prefix_tokens=1)
    model = make_model(cfg)
    save_model(tmp_path / "m", model, list("abcde"), FbankConfig(target_length=128))
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["ast_studio"]["model"]["num_prefix_tokens"] == 1
    loaded = load_model(tmp_path / "m")
    x = torch.randn(1, 128, 128)
    for name, value in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[name], value), name
    with torch.inference_mode():
        assert torch.allclose(loaded.model(x), model(x), atol=1e-6)


@pytest.mark.parametrize("prefix", [1, 2])
def test_last_block_run_for_the_prefix_tokens_alone_gives_the_same_pool_and_gradients(prefix):
    model = make_model(tiny_config(num_prefix_tokens=prefix))
    x = torch.randn(2, 128, 128)
    full = model.pool(model.forward_features(x))
    short = model.forward_pooled(x)
    assert (short - full).abs().max() <= 1e-5
    weight = model.blocks[-1].attn.qkv.weight  # its query rows, and keys and values
    (g_full,) = torch.autograd.grad(full.square().sum(), weight)
    (g_short,) = torch.autograd.grad(short.square().sum(), weight)
    assert g_full.abs().max() > 0 and (g_short - g_full).abs().max() <= 1e-4
    with torch.inference_mode():
        assert torch.allclose(model(x), model.forward_head(full), atol=1e-5)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.bfloat16, 0.05)])
@pytest.mark.parametrize("frames, heap_tuned", [(200, True), (600, True), (600, False)])
def test_cpu_inference_attention_equals_fused_sdpa(monkeypatch, dtype, tol, frames, heap_tuned):
    """Inference runs attention head by head; from ONEDNN_SOFTMAX_MIN_TOKENS tokens on, where
    the heap keeps freed memory, with oneDNN's softmax. With autograd on, timm's fused SDPA."""
    from ast_core.accel import cpu_attention, onednn
    from ast_core.accel.malloc_tuning import keep_freed_memory

    assert keep_freed_memory()  # as `Classifier` does
    if not heap_tuned:  # e.g. Windows and macOS
        monkeypatch.setattr(cpu_attention, "freed_memory_kept", lambda: False)
    calls, softmax_in_onednn = [], []
    by_head_fn, head_fn = cpu_attention.attention_by_head, onednn.attention_head

    def head(*args, onednn_softmax):
        softmax_in_onednn.append(onednn_softmax)
        return head_fn(*args, onednn_softmax=onednn_softmax)

    monkeypatch.setattr(onednn, "attention_head", head)
    monkeypatch.setattr(
        cpu_attention, "attention_by_head", lambda *a: calls.append(1) or by_head_fn(*a)
    )
    model = make_model(tiny_config(target_length=frames)).to(dtype)
    long = model.cfg.num_prefix_tokens + model.cfg.num_patches >= 600
    assert cpu_attention.ONEDNN_SOFTMAX_MIN_TOKENS == 600
    x = torch.randn(3, frames, 128, dtype=dtype)
    fused = model.forward_features(x).detach()  # autograd on: the training path
    assert not calls
    with torch.inference_mode():
        by_head = model.forward_features(x)
    assert len(calls) == model.cfg.depth
    onednn_softmax = long and heap_tuned
    onednn_heads = onednn_softmax or dtype == torch.float32
    assert set(softmax_in_onednn) == ({onednn_softmax} if onednn_heads else set())
    assert (by_head.float() - fused.float()).abs().max() <= tol
