"""Weight adaptation on known arrays: channel sum, position-embedding cut/interpolate."""

from __future__ import annotations

import pytest
import torch

from ast_core.errors import ModelError
from ast_core.model.adapt import (
    clean_state_dict,
    from_audioset_ast,
    from_timm_vit,
    resample_pos_embed,
    resize_pos_grid,
    sum_rgb_patch_weight,
)
from ast_core.model.pretrained import audioset_init, imagenet_init
from ast_core.model.transformer import ModelConfig
from tests.support.model_factory import save_tiny_folder, tiny_config


def test_rgb_sum_equals_feeding_three_equal_channels():
    w = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 3, 2, 2)
    summed = sum_rgb_patch_weight(w)
    assert summed.shape == (2, 1, 2, 2)
    assert summed[0, 0].tolist() == [[12.0, 15.0], [18.0, 21.0]]  # 0+4+8, 1+5+9, ...
    x = torch.randn(1, 1, 4, 4)
    rgb = torch.nn.functional.conv2d(x.expand(1, 3, 4, 4), w, stride=2)
    assert torch.allclose(torch.nn.functional.conv2d(x, summed, stride=2), rgb, atol=1e-5)


def test_crop_takes_the_centre_time_axis_first():
    grid = torch.arange(24, dtype=torch.float32).reshape(1, 1, 4, 6)
    out = resize_pos_grid(grid, (2, 3))
    # time: start 6//2 - 3//2 = 2 -> columns 2..4; frequency: start 4//2 - 2//2 = 1 -> rows 1..2
    assert out[0, 0].tolist() == [[8.0, 9.0, 10.0], [14.0, 15.0, 16.0]]


def test_interpolation_is_bilinear_without_corner_alignment():
    grid = torch.tensor([[[[0.0, 1.0]]]])  # (1, 1, 1, 2)
    out = resize_pos_grid(grid, (1, 4))
    assert torch.allclose(out[0, 0, 0], torch.tensor([0.0, 0.25, 0.75, 1.0]))


def test_mixed_crop_and_interpolate_like_imagenet_to_audio():
    # 24x24 ImageNet grid -> AudioSet 12 x 101: time stretched, frequency cropped
    grid = torch.randn(1, 3, 24, 24)
    out = resize_pos_grid(grid, (12, 101))
    stretched = torch.nn.functional.interpolate(grid, size=(24, 101), mode="bilinear")
    assert torch.equal(out, stretched[:, :, 6:18, :])


def test_pos_embed_keeps_prefix_tokens_and_same_size_is_identity():
    pos = torch.randn(1, 2 + 12 * 101, 8)
    assert torch.equal(resample_pos_embed(pos, 2, (12, 101), (12, 101)), pos)
    short = resample_pos_embed(pos, 2, (12, 101), (12, 49))
    assert short.shape == (1, 2 + 12 * 49, 8)
    assert torch.equal(short[:, :2], pos[:, :2])
    grid = pos[:, 2:].transpose(1, 2).reshape(1, 8, 12, 101)
    assert torch.equal(short[:, 2:], grid[:, :, :, 26:75].reshape(1, 8, -1).transpose(1, 2))


def test_clean_state_dict_strips_wrappers():
    t = torch.zeros(1)
    out = clean_state_dict({"module._orig_mod.v.cls_token": t, "head.bias": t})
    assert set(out) == {"v.cls_token", "head.bias"}


def test_imagenet_init_from_a_local_timm_file(tmp_path):
    import timm
    from safetensors.torch import save_file

    vit = timm.create_model("deit_tiny_distilled_patch16_224", pretrained=False)
    save_file(vit.state_dict(), tmp_path / "deit_tiny.safetensors")
    cfg = tiny_config(target_length=128, num_labels=3, depth=12)
    model = imagenet_init(cfg, "tiny", tmp_path / "deit_tiny.safetensors")
    expected = from_timm_vit(vit.state_dict(), cfg, (14, 14))
    assert torch.equal(model.patch_embed.proj.weight, vit.patch_embed.proj.weight.sum(1, True))
    assert torch.equal(model.pos_embed, expected["pos_embed"])
    assert torch.equal(model.blocks[5].mlp.fc1.weight, vit.blocks[5].mlp.fc1.weight)
    assert model(torch.randn(1, 128, 128)).shape == (1, 3)


def test_imagenet_init_without_network_says_what_to_do(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="internet|local timm weights file"):
        imagenet_init(tiny_config(depth=12), "tiny", timm_name="deit_tiny_distilled_patch16_224")


def test_audioset_init_for_another_length(tmp_path):
    folder = save_tiny_folder(tmp_path / "as", target_length=1024)
    from ast_core.model.checkpoints import load_model

    source = load_model(folder)
    cfg = tiny_config(target_length=512, num_labels=4)
    model = audioset_init(cfg, folder)
    expected = from_audioset_ast(source.model.state_dict(), source.config, cfg)["pos_embed"]
    assert model.pos_embed.shape == (1, 2 + 12 * 50, 192)
    assert torch.equal(model.pos_embed, expected)
    assert torch.equal(model.blocks[1].attn.qkv.weight, source.model.blocks[1].attn.qkv.weight)
    with pytest.raises(ValueError, match="strides"):
        from_audioset_ast(source.model.state_dict(), source.config, cfg.replace(fstride=16))


def test_model_grid_follows_the_reference_formula():
    assert ModelConfig().grid == (12, 101)
    assert ModelConfig(fstride=16, tstride=16).grid == (8, 64)
    assert ModelConfig(target_length=128).grid == (12, 12)
