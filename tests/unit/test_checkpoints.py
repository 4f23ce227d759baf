"""The one model format: safe loading, atomic saving, resampling on load, the model store."""

from __future__ import annotations

import json
import os

import pytest
import torch

from ast_core.audio.features import FbankConfig
from ast_core.errors import ModelError
from ast_core.model import checkpoints
from ast_core.model.adapt import resample_pos_embed
from ast_core.model.checkpoints import load_model, read_weights_file, save_model
from ast_core.run.classifier import Classifier
from ast_core.store import model_store
from tests.support.model_factory import (
    hf_cache_entry,
    make_model,
    reference_state_dict,
    save_tiny_folder,
    tiny_config,
)


class _Payload:
    """Unpickling this runs `touch <marker>`."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def test_pth_with_code_running_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "audioset_0.4593.pth"
    state = reference_state_dict(make_model(tiny_config()))
    state["module.v.payload"] = _Payload(marker)
    torch.save(state, evil)
    with pytest.raises(ModelError, match="refused or unreadable"):
        read_weights_file(evil)
    with pytest.raises(ModelError):
        model_store.import_model(evil, "evil")
    assert not marker.exists()


def test_bad_weight_files_give_clear_errors(tmp_path):
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint at all")
    with pytest.raises(ModelError, match="junk.pth: refused or unreadable"):
        read_weights_file(tmp_path / "junk.pth")
    with pytest.raises(ModelError, match="file not found"):
        read_weights_file(tmp_path / "missing.pth")
    torch.save({"weight": torch.zeros(2)}, tmp_path / "other.pth")
    with pytest.raises(ModelError, match="not an AST checkpoint"):
        read_weights_file(tmp_path / "other.pth")


def test_bad_model_folders_give_clear_errors(tmp_path):
    with pytest.raises(ModelError, match="model folder not found"):
        load_model(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="not a model folder"):
        load_model(tmp_path / "empty")
    folder = save_tiny_folder(tmp_path / "m")
    (folder / "model.safetensors").write_bytes(b"\x00" * 100)
    with pytest.raises(ModelError, match="unreadable weights"):
        load_model(folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelError, match="no model.safetensors"):
        load_model(folder)


def test_loading_for_another_length_resamples_the_position_embedding(tmp_path):
    folder = save_tiny_folder(tmp_path / "m", target_length=1024)
    full = load_model(folder)
    short = load_model(folder, target_length=400)
    assert short.fbank.target_length == short.config.target_length == 400
    expected = resample_pos_embed(full.model.pos_embed, 2, (12, 101), short.config.grid)
    assert torch.equal(short.model.pos_embed, expected)
    assert short.model(torch.randn(1, 400, 128)).shape == (1, 5)


def test_save_is_atomic_and_self_describing(tmp_path, monkeypatch):
    folder = save_tiny_folder(tmp_path / "m", labels=["dog", "cat", "bird"])
    before = (folder / "model.safetensors").read_bytes()
    config = json.loads((folder / "config.json").read_text())
    assert config["id2label"] == {"0": "dog", "1": "cat", "2": "bird"}
    assert config["ast_studio"]["fbank"]["target_length"] == 128
    assert json.loads((folder / "preprocessor_config.json").read_text())["max_length"] == 128

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(checkpoints, "save_file", crash)
    loaded = load_model(folder)
    with pytest.raises(OSError, match="disk full"):
        save_model(folder, loaded.model, loaded.labels, loaded.fbank)
    assert (folder / "model.safetensors").read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "model.safetensors",
        "preprocessor_config.json",
    ]


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A redirected user data dir and an offline, pre-populated Hugging Face cache."""
    import huggingface_hub.constants as hf_constants

    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setenv("AST_STUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    return cache


def test_hub_model_in_the_cache_is_found_and_loads_offline(tmp_path, store):
    folder = save_tiny_folder(tmp_path / "src", labels=["speech", "music"])
    hf_cache_entry(store, "MIT/ast-finetuned-audioset-10-10-0.4593", folder)
    found = model_store.installed_models()
    assert [(m.name, m.origin) for m in found] == [
        ("MIT/ast-finetuned-audioset-10-10-0.4593", "hub")
    ]
    assert model_store.default_model() == found[0].path
    clf = Classifier.load("MIT/ast-finetuned-audioset-10-10-0.4593", device="cpu")
    assert clf.labels == ["speech", "music"]
    with pytest.raises(ModelError, match="ast-studio download"):
        model_store.resolve("MIT/ast-finetuned-speech-commands-v2")


def test_offline_download_says_how_to_import_instead(store):
    with pytest.raises(ModelError, match="import"):
        model_store.download("MIT/ast-finetuned-speech-commands-v2")


def test_import_pth_and_safetensors_become_user_models(tmp_path, store):
    model = make_model(tiny_config(num_labels=527, target_length=1024))
    torch.save(reference_state_dict(model), tmp_path / "audioset_10_10_0.4593.pth")
    path = model_store.import_model(tmp_path / "audioset_10_10_0.4593.pth", "as-ref")
    loaded = load_model(path)
    assert loaded.labels[0] == "Speech" and loaded.config.label_mode == "multi"
    x = torch.randn(1, 1024, 128)
    with torch.inference_mode():
        assert torch.allclose(loaded.model(x), model(x), atol=1e-5)
    from safetensors.torch import save_file

    save_file(reference_state_dict(model), tmp_path / "same.safetensors")
    model_store.import_model(tmp_path / "same.safetensors", "as-st")
    assert [m.name for m in model_store.installed_models()] == ["as-ref", "as-st"]
    with pytest.raises(ModelError, match="already exists"):
        model_store.import_model(tmp_path / "same.safetensors", "as-st")
    model_store.set_default_model("as-st")
    assert model_store.default_model().name == "as-st"


def test_an_import_that_fails_its_check_leaves_nothing_behind(tmp_path, store, monkeypatch):
    torch.save(reference_state_dict(make_model(tiny_config())), tmp_path / "m.pth")
    written = []

    def failing_check(path, *args, **kwargs):  # the load that checks the written folder
        written.extend(p.name for p in path.iterdir())
        raise ModelError(f"{path}: does not load")

    monkeypatch.setattr(checkpoints, "load_model", failing_check)
    with pytest.raises(ModelError, match="does not load"):
        model_store.import_model(tmp_path / "m.pth", "broken")
    assert "model.safetensors" in written  # it failed after the files were written
    assert list(model_store.models_dir().iterdir()) == []
    assert model_store.installed_models() == []


def test_no_model_message_names_the_ways_out(store):
    assert model_store.default_model() is None
    msg = model_store.no_model_message()
    assert "ast-studio download" in msg and "ast-studio import" in msg and "train" in msg


def test_fbank_config_travels_with_the_model(tmp_path):
    cfg = tiny_config(target_length=512)
    fbank = FbankConfig(target_length=512, mean=-6.6268077, std=5.358466, frame_shift_ms=10.0)
    save_model(tmp_path / "m", make_model(cfg), list("abcde"), fbank)
    assert load_model(tmp_path / "m").fbank == fbank


def test_models_trained_in_the_app_are_listed(tmp_path, store):
    from ast_core.store.model_store import data_dir

    save_tiny_folder(data_dir() / "training" / "birds-20261122-0100" / "model")
    (data_dir() / "training" / "crashed-run").mkdir()  # a run without a model yet
    found = model_store.installed_models()
    assert [(m.name, m.origin) for m in found] == [("birds-20261122-0100", "trained")]


def test_new_models_get_vit_init_and_loaded_ones_their_weights(tmp_path):
    from ast_core.model.transformer import AudioSpectrogramTransformer

    cfg = tiny_config()
    torch.manual_seed(0)
    fresh = AudioSpectrogramTransformer(cfg)
    w = fresh.blocks[0].mlp.fc1.weight
    assert abs(w.std().item() - 0.02) < 0.002  # nn.Linear's own init: about 0.042 here
    assert fresh.blocks[0].mlp.fc1.bias.abs().max() == 0
    save_model(tmp_path / "m", fresh, [f"c{i}" for i in range(cfg.num_labels)], FbankConfig())
    loaded = load_model(tmp_path / "m").model  # built on "meta", so never initialised
    state = loaded.state_dict()
    assert state.keys() == fresh.state_dict().keys()
    for name, a in fresh.state_dict().items():
        assert torch.equal(a, state[name]), name
