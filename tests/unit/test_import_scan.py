"""PySide6's per-import check gives the same answers from file bytes, and no source is kept."""

from __future__ import annotations

import linecache
import sys

import PySide6.QtCore  # noqa: F401  (installs PySide6's import hook)

from app.gui.import_scan import quick_pyside_scan


def _module(tmp_path, name: str, text: str) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    return str(path)


def test_quick_scan_same_answers_and_no_source_kept(tmp_path, monkeypatch):
    feature = sys.modules["shibokensupport.feature"]
    original = feature._mod_uses_pyside
    monkeypatch.syspath_prepend(str(tmp_path))
    qt_file = _module(tmp_path, "scan_uses_qt", "import PySide6.QtCore\nX = 1\n")
    plain_file = _module(tmp_path, "scan_plain", "X = 2\n")
    control_file = _module(tmp_path, "scan_control", "X = 3\n")

    with quick_pyside_scan():
        quick = feature._mod_uses_pyside
        assert quick is not original
        with quick_pyside_scan():  # overlapping blocks (two loads): the first one restores
            __import__("scan_uses_qt")  # builtins.__import__: the call PySide6 hooks
        assert feature._mod_uses_pyside is quick
        __import__("scan_plain")
    assert feature._mod_uses_pyside is original
    __import__("scan_control")  # PySide6's own check, outside the block

    marks = feature.pyside_feature_dict
    assert marks["scan_uses_qt"] == 0  # "uses PySide": feature switching applies
    assert marks["scan_plain"] == -1 and marks["scan_control"] == -1
    assert qt_file not in linecache.cache and plain_file not in linecache.cache
    assert control_file in linecache.cache  # what the block avoids: the source kept
    assert original(sys.modules["scan_uses_qt"]) is True
    for name in ("scan_uses_qt", "scan_plain", "scan_control"):
        del sys.modules[name]
