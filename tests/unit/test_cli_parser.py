"""The `ast-studio` parser: one subparser per command, the trainer's own options under `train`,
audio files routed to the window, and nothing heavy imported by the CLI modules."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import app.cli
from app.cli import build_parser, command_names, run

ROOT = Path(__file__).resolve().parents[2]
EIGHT = {"classify", "models", "download", "import", "train", "listen", "bench", "gui"}


def help_of(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as e:
        run(list(argv))
    assert e.value.code == 0
    return capsys.readouterr().out


def options(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text))


def test_help_lists_every_subparser(capsys):
    names = command_names()
    assert set(names) == EIGHT and len(names) == len(EIGHT)
    listed = re.findall(r"^    (\S+)  ", help_of(capsys, "--help"), flags=re.MULTILINE)
    assert listed == names


def test_every_command_parses_to_its_own_handler():
    parser = build_parser()
    argv = {"classify": ["a.wav"], "import": ["m.pth"], "train": ["data", "--out", "run"]}
    handlers = {name: parser.parse_args([name, *argv.get(name, [])]).handler
                for name in command_names()}
    assert len(set(handlers.values())) == len(EIGHT)
    assert all(h.__module__.startswith("app.cli.") for h in handlers.values())


def test_train_help_is_the_trainers_parser(capsys):
    from trainer.cli import build_parser as trainer_parser

    ours = help_of(capsys, "train", "--help")
    theirs = trainer_parser().format_help()
    assert "--init" in ours and "--resume" in ours and "usage: ast-studio train" in ours
    assert options(ours) == options(theirs)


def test_listen_help_shows_precision(capsys):
    text = help_of(capsys, "listen", "--help")
    assert {"--precision", "--fit-window", "--window", "--hop", "--list-devices"} <= options(text)
    assert "{auto,fp32,bf16,int8}" in text


def test_train_through_ast_studio_reaches_the_trainer(tmp_path, capsys):
    missing = tmp_path / "no such folder"
    assert run(["train", str(missing), "--out", str(tmp_path / "run"), "--device", "cpu"]) == 2
    assert str(missing) in capsys.readouterr().err


@pytest.mark.parametrize("argv, files", [([], []), (["a.wav", "b.flac"], ["a.wav", "b.flac"]),
                                         (["gui", "c.wav"], ["c.wav"])])
def test_no_command_or_files_open_the_window(monkeypatch, argv, files):
    opened = []
    monkeypatch.setattr("app.gui.launch.run_gui", lambda f: opened.append(list(f)) or 0)
    assert run(argv) == 0
    assert opened == [files]


def test_unknown_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        run(["--no-such-option"])
    assert e.value.code == 2 and "usage: ast-studio" in capsys.readouterr().err


def test_cli_modules_import_no_qt_nor_torch():
    code = (
        "import importlib, json, pkgutil, sys\n"
        "import app.cli\n"
        "mods = [m.name for m in pkgutil.iter_modules(app.cli.__path__, 'app.cli.')]\n"
        "for m in mods: importlib.import_module(m)\n"
        "app.cli.build_parser().format_help()\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6'))\n"
        "print(json.dumps({'modules': mods, 'heavy': heavy}))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    expected = {f"app.cli.{m.__name__.rsplit('.', 1)[1]}" for m in app.cli.COMMAND_MODULES}
    assert expected <= set(out["modules"])
    assert out["heavy"] == []
