"""Model picker: hub-cache and imported models appear and load; download progress and cancel."""

from __future__ import annotations

import threading

import torch

from ast_core.model.transformer import AudioSpectrogramTransformer, ModelConfig
from tests.support.gui_helpers import (
    WAIT_MS,
    installed_names,
    make_window,
    message_text,
    select_installed,
    wait_classified,
)
from tests.support.model_factory import reference_state_dict


def _reference_pth(path):
    """A `.pth` in the AST reference's DataParallel layout (a tiny 2-block model, 5 outputs)."""
    cfg = ModelConfig(embed_dim=192, depth=2, num_heads=3, target_length=1024, num_labels=5)
    torch.manual_seed(1)
    torch.save(reference_state_dict(AudioSpectrogramTransformer(cfg)), path)
    return path


def test_hub_cache_and_imported_pth_appear_and_load(qtbot, hf_cache_model, tmp_path, tone_wav):
    snapshot = hf_cache_model("acme/ast-tiny")
    pth = _reference_pth(tmp_path / "my-ast.pth")
    w = make_window(qtbot)  # nothing remembered: the store's default is the hub model
    assert w.model_state == "ready" and w.model_path == str(snapshot)

    picker = w.dialogs.choose_model()
    qtbot.waitUntil(lambda: "acme/ast-tiny" in installed_names(picker), timeout=WAIT_MS)
    assert any("(installed)" not in picker.hub.item(i).text() for i in range(picker.hub.count()))
    picker.import_path(str(pth))
    qtbot.waitUntil(lambda: "my-ast" in installed_names(picker), timeout=WAIT_MS)
    assert installed_names(picker) == ["acme/ast-tiny", "my-ast"]

    select_installed(picker, "my-ast")
    picker.use_button.click()
    qtbot.waitUntil(lambda: w.model_path.endswith("my-ast") and w.model_state == "ready",
                    timeout=WAIT_MS)
    w.open_files([str(tone_wav)])
    wait_classified(qtbot, w)
    assert w.analysis.labels == [f"class {i}" for i in range(5)]
    assert w.spectrogram.overlay.grid_map.shape == (12, 101)  # imported at AudioSet's 1024 frames

    picker = w.dialogs.choose_model()
    qtbot.waitUntil(lambda: len(installed_names(picker)) == 2, timeout=WAIT_MS)
    select_installed(picker, "acme/ast-tiny")
    picker.use_button.click()
    qtbot.waitUntil(lambda: w.model_path == str(snapshot) and w.analysis is not None
                    and w.analysis.labels[0] == "Speech", timeout=WAIT_MS)


def test_no_model_picker_offers_download_import_train(qtbot):
    w = make_window(qtbot)
    assert w.model_state == "none"
    picker = w.dialogs.choose_model()
    qtbot.waitUntil(lambda: picker.hub.count() > 0, timeout=WAIT_MS)
    assert picker.installed.count() == 0
    assert "No model is installed yet" in picker.status.text()
    assert not picker.use_button.isEnabled()
    assert picker.train_button.isEnabled() and picker.import_file_button.isEnabled()


def test_download_offline_fails_with_a_clear_message(qtbot):
    w = make_window(qtbot)
    picker = w.dialogs.choose_model()
    qtbot.waitUntil(lambda: picker.hub.count() > 0, timeout=WAIT_MS)
    picker.download_selected()
    qtbot.waitUntil(lambda: message_text(w) is not None, timeout=WAIT_MS)
    assert "offline" in message_text(w)
    assert picker.download_button.isEnabled()  # ready to try again


def test_download_progress_and_cancel(qtbot, monkeypatch):
    import app.gui.dialogs.model_picker as mp
    from ast_core.store.model_store import DownloadCancelled

    started = threading.Event()

    def fake_download(repo_id, bytes_signal, cancel):  # stands in for the network
        for done in range(0, 10**9, 1000):
            bytes_signal.progress.emit(done, 10**6)
            started.set()
            if cancel.wait(0.01):
                raise DownloadCancelled(repo_id)
        return ""

    monkeypatch.setattr(mp, "_download", fake_download)
    w = make_window(qtbot)
    picker = w.dialogs.choose_model()
    qtbot.waitUntil(lambda: picker.hub.count() > 0, timeout=WAIT_MS)
    picker.download_selected()
    qtbot.waitUntil(lambda: picker.progress.value() > 0, timeout=WAIT_MS)
    assert picker.cancel_button.isVisible()
    picker.cancel_button.click()
    qtbot.waitUntil(lambda: picker.status.text() == "Download cancelled.", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: picker.download_button.isEnabled(), timeout=WAIT_MS)
    assert message_text(w) is None  # cancelling is not an error
