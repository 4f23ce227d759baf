"""Classifier: predictions, windows over long audio, attention maps on the patch grid."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from ast_core.model.attention_map import grid_to_frames, prefix_map, rollout
from ast_core.run.classifier import Classifier
from tests.support.model_factory import save_tiny_folder


@pytest.fixture(scope="module")
def clf(tmp_path_factory) -> Classifier:
    folder = save_tiny_folder(tmp_path_factory.mktemp("m") / "tiny", target_length=200)
    return Classifier.load(folder, device="cpu", precision="fp32")


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.1 * rng.standard_normal(int(16000 * seconds))).astype(np.float32)


def test_predict_scores_are_sigmoid_of_logits_and_top_is_sorted(clf):
    wav = _noise(2.0)
    pred = clf.predict(wav)
    x = torch.from_numpy(clf.normalized_input(wav))[None]
    with torch.inference_mode():
        expected = clf.model(x).sigmoid()[0].numpy()
    assert np.allclose(pred.scores, expected, atol=1e-6)
    top = pred.top(3)
    assert [s for _, s in top] == sorted(pred.scores, reverse=True)[:3]
    assert pred.top(5, threshold=1.1) == []
    assert pred.embedding.shape == (192,)


def test_windows_cover_long_audio_and_equal_single_predictions(clf):
    wav = _noise(7.0, seed=1)
    ws = clf.score_windows(wav, window_s=2.0, hop_s=1.5, batch_size=3)
    assert ws.starts.tolist() == [0.0, 1.5, 3.0, 4.5, 5.0]  # last window reaches the end
    assert ws.ends[-1] == pytest.approx(7.0)
    assert ws.scores.shape == (5, 5)
    for i, start in enumerate(ws.starts):
        s = int(start * 16000)
        assert np.allclose(ws.scores[i], clf.predict(wav[s : s + 32000]).scores, atol=1e-5)


def test_clips_of_different_lengths_in_one_pass_equal_one_at_a_time(clf):
    clips = [_noise(0.3, seed=3), _noise(2.0, seed=4), _noise(clf.window_seconds, seed=5),
             _noise(3.5, seed=6)]  # shorter than, equal to and longer than the window
    together = clf.score_clips(clips)
    assert together.shape == (4, 5)
    for clip, row in zip(clips, together, strict=True):
        assert np.allclose(row, clf.predict(clip).scores, atol=1e-5)
    assert np.abs(together[0] - together[1]).max() > 1e-3  # each clip kept its own padding


def test_window_scores_are_gathered_across_row_blocks(clf, monkeypatch):
    from ast_core.run import classifier

    wav = _noise(7.0, seed=2)
    whole = clf.score_windows(wav, window_s=2.0, hop_s=0.5, batch_size=4)
    monkeypatch.setattr(classifier._Rows, "BLOCK", 3)  # 11 windows: 4 blocks, the last part-full
    blocked = clf.score_windows(wav, window_s=2.0, hop_s=0.5, batch_size=4)
    assert blocked.scores.shape == whole.scores.shape == (11, 5)
    assert np.array_equal(blocked.scores, whole.scores)
    assert np.array_equal(blocked.starts, whole.starts)


def test_default_window_is_the_models_with_half_overlap(clf):
    wav = _noise(6.0)
    ws = clf.score_windows(wav)
    assert ws.ends[0] - ws.starts[0] == pytest.approx(clf.window_seconds, abs=1e-3)
    assert ws.starts[1] == pytest.approx(clf.window_seconds / 2, abs=1e-3)
    short = clf.score_windows(_noise(0.5))
    assert short.scores.shape == (1, 5) and short.ends[0] == pytest.approx(0.5)


@pytest.mark.parametrize("window_s", [None, 2.0])
def test_audio_of_at_most_one_window_gets_predicts_scores_not_zero_padded_ones(clf, window_s):
    """fbank of the real samples, then the frames padded to the model input (the reference's
    way); zero samples appended to fill the window would give other scores."""
    wav = _noise(0.7, seed=7)
    ws = clf.score_windows(wav, window_s)
    assert ws.starts.tolist() == [0.0] and ws.ends.tolist() == [pytest.approx(0.7)]
    np.testing.assert_allclose(ws.scores[0], clf.predict(wav).scores, atol=1e-6)
    win = round((window_s or clf.window_seconds) * 16000)
    padded = clf.predict(np.pad(wav, (0, win - len(wav)))).scores
    assert np.abs(ws.scores[0] - padded).max() > 1e-3


def test_attention_maps_are_on_the_patch_grid(clf):
    pred = clf.predict(_noise(2.0), attention_maps=True)
    grid = clf.model.cfg.grid
    assert pred.attention_last.shape == grid == pred.attention_rollout.shape
    assert pred.layer_attention.shape == (clf.model.cfg.depth, *grid)
    assert pred.attention_last.sum() == pytest.approx(1.0, abs=1e-4)
    assert np.allclose(pred.scores, clf.predict(_noise(2.0)).scores, atol=1e-5)


def test_prefix_map_and_rollout_on_known_matrices():
    # 2 prefix tokens + a 1x2 grid; prefix rows attend 0.25/0.75 to the two patches
    a = torch.tensor([[[0, 0, 0.25, 0.75], [0, 0, 0.25, 0.75], [0, 0, 1, 0], [0, 0, 0, 1.0]]])
    assert torch.allclose(prefix_map(a, 2, (1, 2)), torch.tensor([[[0.25, 0.75]]]))
    # one layer: rollout = 0.5 A + 0.5 I, prefix rows renormalised over patches -> same map
    assert torch.allclose(rollout([a], 2, (1, 2)), torch.tensor([[[0.25, 0.75]]]))
    # identity attention everywhere keeps the prefix tokens to themselves: uniform fallback
    eye = torch.eye(4)[None]
    assert torch.allclose(rollout([eye, a], 2, (1, 2)), torch.tensor([[[0.25, 0.75]]]))


def test_grid_to_frames_averages_overlapping_patches():
    m = torch.zeros(12, 3)
    m[0, 0] = 1.0
    out = grid_to_frames(m, frames=36, mels=128, patch=16, fstride=10, tstride=10)
    assert out.shape == (36, 128)
    assert out[0, 0] == 1.0  # only patch (0,0) covers frame 0, mel 0
    assert out[12, 12] == pytest.approx(0.25)  # covered by 4 patches, one of them hot
    assert out[20, 20] == 0.0
    ones = grid_to_frames(torch.ones(12, 3), 36, 128, 16, 10, 10)
    assert torch.equal(ones[:, :126], torch.ones(36, 126))
    assert torch.equal(ones[:, 126:], torch.zeros(36, 2))  # top 2 mels: no patch sees them


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precision_agrees_with_fp32_on_a_model_with_real_answers(beep_model, precision):
    from tests.support.beep_model import beep, noise

    folder = beep_model
    fp32 = Classifier.load(folder, "cpu", precision="fp32")
    fast = Classifier.load(folder, "cpu", precision=precision)
    assert fast.precision == precision and fast.model.head.weight.dtype == torch.float32
    fc1 = fast.model.blocks[0].mlp.fc1
    if precision == "int8":  # the blocks' linears run as dynamic int8
        assert fc1.weight().dtype == torch.qint8 and fast.dtype == torch.float32
    else:
        assert fc1.weight.dtype == torch.bfloat16
    rng = np.random.default_rng(3)
    clips = np.stack([noise(rng, 16400) for _ in range(8)])
    clips[::2, 4000:8000] += beep(4000)
    a, b = fp32.score_batch(clips), fast.score_batch(clips)
    assert np.abs(a - b).max() <= 0.02
    assert (a.argmax(1) == b.argmax(1)).all() and a[::2, 0].min() > 0.9
    assert np.allclose(fast.predict(clips[0], attention_maps=True).scores, b[0], atol=0.02)


@pytest.mark.parametrize("precision", ["fp32", "bf16", "int8"])
def test_cpu_classifier_lets_go_of_the_weights_file(tmp_path, precision):
    """safetensors tensors are views of one mapping of the file: a model whose weights were
    converted, packed or quantised keeps none."""
    import gc

    from ast_core.model.checkpoints import load_model

    folder = save_tiny_folder(tmp_path / "tiny", target_length=200)
    weights = str(folder / "model.safetensors")

    def mapped() -> bool:
        with open("/proc/self/maps") as maps:
            return any(line.rstrip().endswith(weights) for line in maps)

    loaded = load_model(folder)
    assert mapped()  # the loaded model runs on the file's pages directly
    del loaded
    gc.collect()
    assert not mapped()
    fast = Classifier.load(folder, "cpu", precision=precision)
    assert not mapped()
    assert fast.predict(_noise(1.0)).scores.shape == (5,)


@pytest.mark.parametrize("precision, tol", [("fp32", 1e-5), ("bf16", 0.02)])
def test_packed_linears_give_the_plain_models_answers(tmp_path, precision, tol):
    from ast_core.accel import onednn
    from ast_core.accel.cpu_linear import PackedLinear
    from ast_core.model.checkpoints import load_model

    folder = save_tiny_folder(tmp_path / "tiny", target_length=200)
    assert onednn.available()  # x86-64 with oneDNN: what this project's CI and users' PCs have
    clf = Classifier.load(folder, "cpu", precision=precision)
    block = clf.model.blocks[0]
    assert isinstance(block.attn.qkv, PackedLinear) and isinstance(block.mlp.fc2, PackedLinear)
    assert block.mlp.fc1.gelu and isinstance(block.mlp.act, torch.nn.Identity)
    plain = load_model(folder).model.to(clf.dtype).eval()
    plain.head_norm.float()
    plain.head.float()
    wavs = np.stack([_noise(2.0, seed=s) for s in range(3)])
    x = clf._inputs(wavs)
    with torch.inference_mode():
        assert (clf.model(x) - plain(x)).abs().max() <= tol
        expected = plain.scores(plain(x)).numpy()
    # batch sizes other than the one packed for, and the attention-map path
    assert np.allclose(clf.score_batch(wavs), expected, atol=tol)
    with_maps = clf.predict(wavs[1], attention_maps=True)
    assert np.allclose(with_maps.scores, expected[1], atol=tol)
    assert with_maps.attention_last.shape == clf.model.cfg.grid


def test_bf16_where_onednn_has_no_bf16_runs_plain_linears_and_bmm_attention(
    tmp_path, monkeypatch
):
    """An AVX2-only CPU: PyTorch refuses oneDNN's bf16 ops there, so a bf16 model must keep
    nn.Linear and the bmm attention (here at 710 tokens, where oneDNN's softmax would run)."""
    from ast_core.accel import onednn

    folder = save_tiny_folder(tmp_path / "tiny", target_length=600)
    wavs = np.stack([_noise(6.0, seed=s) for s in range(2)])
    expected = Classifier.load(folder, "cpu", precision="fp32").score_batch(wavs)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    monkeypatch.setattr(onednn, "attention_head", None)  # any call would fail
    onednn.available.cache_clear()
    try:
        assert onednn.available(torch.float32) and not onednn.available(torch.bfloat16)
        clf = Classifier.load(folder, "cpu", precision="bf16")
        assert isinstance(clf.model.blocks[0].attn.qkv, torch.nn.Linear)
        assert np.allclose(clf.score_batch(wavs), expected, atol=0.02)
    finally:
        onednn.available.cache_clear()


def test_precision_auto_follows_the_hardware():
    from ast_core.accel.prepare import pick_precision, supports_bf16

    cpu = torch.device("cpu")
    assert pick_precision(cpu, "fp32") == torch.float32
    assert pick_precision(cpu, "bf16") == torch.bfloat16
    assert pick_precision(cpu, "auto") == (torch.bfloat16 if supports_bf16(cpu) else torch.float32)
    assert pick_precision(cpu, "int8") == torch.float32  # activations around int8 linears
    with pytest.raises(ValueError):
        pick_precision(cpu, "fp8")
    with pytest.raises(ValueError, match="CPU only"):
        pick_precision(torch.device("cuda"), "int8")


_FAULTS = """
import resource, sys, torch
from ast_core.accel.malloc_tuning import keep_freed_memory
from ast_core.model.transformer import AudioSpectrogramTransformer, ModelConfig
if sys.argv[1] == "tuned":
    assert keep_freed_memory()
model = AudioSpectrogramTransformer(ModelConfig.for_size("tiny", depth=2)).eval()
x = torch.randn(1, 1024, 128)
with torch.inference_mode():
    model(x)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(3):
        model(x)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc tuning")
def test_kept_freed_memory_saves_page_faults_per_forward():
    """Page faults in 3 forward passes (1214 tokens), with and without the malloc tuning."""

    def faults(mode: str) -> int:
        out = subprocess.run([sys.executable, "-c", _FAULTS, mode], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return int(out.stdout.split()[-1])

    plain, tuned = faults("plain"), faults("tuned")
    assert tuned * 4 < plain, (plain, tuned)
