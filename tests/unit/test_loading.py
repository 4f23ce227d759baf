"""`load_classifier`: the one loader of `classify`, `listen` and the window."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ast_core.audio import SAMPLE_RATE
from ast_core.errors import ModelError
from ast_core.model.checkpoints import load_model
from ast_core.run.classifier import Classifier
from ast_core.run.loading import load_classifier


def test_window_shorter_than_the_model_crops_its_input(tiny_model):
    full = load_classifier(tiny_model, "cpu", "fp32")
    fitted = load_classifier(tiny_model, "cpu", "fp32", window_s=1.0)
    # 1 s of 25-ms frames every 10 ms: (16000 - 400) // 160 + 1 = 98 frames
    assert full.fbank.target_length == 128 and fitted.fbank.target_length == 98
    assert fitted.window_seconds <= 1.0 < full.window_seconds
    same = Classifier(load_model(tiny_model, target_length=98), "cpu", "fp32")
    x = np.random.default_rng(0).standard_normal((2, SAMPLE_RATE)).astype(np.float32) * 0.1
    np.testing.assert_array_equal(fitted.score_batch(x), same.score_batch(x))


def test_window_longer_than_the_model_keeps_it(tiny_model):
    clf = load_classifier(tiny_model, "cpu", "fp32", window_s=5.0)
    assert clf.fbank.target_length == 128


@pytest.mark.parametrize("precision, dtype", [("fp32", torch.float32),
                                              ("bf16", torch.bfloat16)])
def test_precision_reaches_the_classifier(tiny_model, precision, dtype):
    clf = load_classifier(str(tiny_model), "cpu", precision, window_s=1.0)
    assert clf.precision == precision and clf.dtype == dtype
    assert clf.model.pos_embed.dtype == dtype


def test_no_model_says_how_to_get_one():
    with pytest.raises(ModelError, match="ast-studio download"):
        load_classifier(None, "cpu")


def test_default_model_is_used_when_none_is_named(tiny_model):
    from ast_core.store import model_store

    installed = model_store.import_model(str(tiny_model), "tiny", None)
    model_store.set_default_model(str(installed))
    assert load_classifier(None, "cpu").name == str(installed)


@pytest.mark.parametrize("device, precision, message", [
    pytest.param("cuda", "auto", "no CUDA GPU", marks=pytest.mark.skipif(
        torch.cuda.is_available(), reason="a machine without CUDA")),
    ("tpu9", "auto", "unknown device"),
    ("cpu", "fp16", "not one of"),
])
def test_unusable_device_or_precision_is_a_clear_error(tiny_model, device, precision, message):
    with pytest.raises(ModelError, match=message):
        load_classifier(tiny_model, device, precision)


def test_int8_without_a_device_runs_on_the_cpu(tiny_model):
    clf = load_classifier(tiny_model, None, "int8")
    assert clf.device.type == "cpu" and clf.precision == "int8"
