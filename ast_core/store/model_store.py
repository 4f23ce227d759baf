"""Where models come from: the Hugging Face hub cache, the user's own models, imports.

Imports nothing heavy at module level (the app reads `data_dir()` before torch loads).

Every model ends up as a folder in the one model format (see `checkpoints`). Hub models stay
in the standard HF cache; trained and imported models live in `models_dir()`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from ast_core.errors import ModelError
from ast_core.store.atomic import atomic_write_folder, atomic_write_text

AST_MODEL_TYPE = "audio-spectrogram-transformer"
KNOWN_HUB_MODELS: dict[str, str] = {
    "MIT/ast-finetuned-audioset-10-10-0.4593": "AudioSet 527 classes, stride 10 (mAP 0.459)",
    "MIT/ast-finetuned-audioset-10-10-0.450": "AudioSet 527 classes, stride 10 (mAP 0.450)",
    "MIT/ast-finetuned-audioset-10-10-0.448": "AudioSet 527 classes, stride 10 (mAP 0.448)",
    "MIT/ast-finetuned-audioset-12-12-0.447": "AudioSet 527 classes, stride 12, faster",
    "MIT/ast-finetuned-audioset-14-14-0.443": "AudioSet 527 classes, stride 14, faster",
    "MIT/ast-finetuned-audioset-16-16-0.442": "AudioSet 527 classes, stride 16, fastest",
    "MIT/ast-finetuned-speech-commands-v2": "Speech Commands V2, 35 words",
}
DEFAULT_HUB_MODEL = "MIT/ast-finetuned-audioset-10-10-0.4593"
_MODEL_FILES = ["config.json", "model.safetensors", "preprocessor_config.json"]

if TYPE_CHECKING:
    from ast_core.audio.features import FbankConfig

ProgressCallback = Callable[[int, int], None]  # (bytes done, bytes total)


class DownloadCancelled(Exception):
    """Raised inside a download when its cancel check returns True."""


@dataclass(frozen=True)
class InstalledModel:
    name: str  # hub id or folder name
    path: Path
    origin: str  # "hub", "user" (imported) or "trained"


def data_dir() -> Path:
    """User data folder (models, preferences); `AST_STUDIO_DATA_DIR` overrides it (tests)."""
    env = os.environ.get("AST_STUDIO_DATA_DIR")
    return Path(env) if env else Path(platformdirs.user_data_dir("ast-studio", "ast-studio"))


def models_dir() -> Path:
    return data_dir() / "models"


def _is_ast_folder(path: Path) -> bool:
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return config.get("model_type") == AST_MODEL_TYPE and (path / "model.safetensors").exists()


def cached_hub_model(repo_id: str) -> Path | None:
    """Local snapshot folder of a hub model already in the HF cache, else None (no network)."""
    from huggingface_hub import snapshot_download

    try:
        path = Path(snapshot_download(repo_id, allow_patterns=_MODEL_FILES, local_files_only=True))
    except Exception:  # not cached: huggingface_hub raises several kinds here
        return None
    return path if _is_ast_folder(path) else None


def installed_models() -> list[InstalledModel]:
    """AST models in the HF cache, the user's models folder and the app's training runs.

    Each cache entry is checked on its own, so one broken entry hides nothing else.
    """
    from huggingface_hub import constants

    found: list[InstalledModel] = []
    for entry in sorted(Path(constants.HF_HUB_CACHE).glob("models--*")):
        repo_id = entry.name.removeprefix("models--").replace("--", "/")
        path = cached_hub_model(repo_id)
        if path is not None:
            found.append(InstalledModel(repo_id, path, "hub"))
    root = models_dir()
    if root.is_dir():
        for path in sorted(root.iterdir()):
            if not path.name.startswith(".") and _is_ast_folder(path):  # not an import underway
                found.append(InstalledModel(path.name, path, "user"))
    for path in sorted((data_dir() / "training").glob("*/model")):  # the train dialog's runs
        if _is_ast_folder(path):
            found.append(InstalledModel(path.parent.name, path, "trained"))
    return found


def download(
    repo_id: str,
    progress: ProgressCallback | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Path:
    """Download a hub model into the HF cache; progress in bytes; cooperative cancel."""
    from huggingface_hub import snapshot_download
    from tqdm.auto import tqdm

    class _Progress(tqdm):  # huggingface_hub reports bytes through a tqdm class
        def __init__(self, *args, **kwargs):
            kwargs["disable"] = False
            super().__init__(*args, **kwargs)

        def update(self, n=1):
            if cancelled is not None and cancelled():
                raise DownloadCancelled(repo_id)
            super().update(n)
            if progress is not None and self.unit == "B":
                progress(int(self.n), int(self.total or 0))

    try:
        path = snapshot_download(repo_id, allow_patterns=_MODEL_FILES, tqdm_class=_Progress)
    except DownloadCancelled:
        raise
    except Exception as e:
        offline = os.environ.get("HF_HUB_OFFLINE") == "1" or "connect" in str(e).lower()
        hint = (
            " You seem to be offline: download the model on a machine with internet, or import a "
            "model file with `ast-studio import PATH` (a .pth, .safetensors or model folder)."
            if offline
            else ""
        )
        raise ModelError(f"{repo_id}: download failed ({type(e).__name__}).{hint}") from None
    if not _is_ast_folder(Path(path)):
        raise ModelError(f"{repo_id}: not an Audio Spectrogram Transformer model")
    return Path(path)


def resolve(source: str | os.PathLike) -> Path:
    """A model folder for a path or a hub id (from the cache; never downloads)."""
    path = Path(source).expanduser()
    if path.is_dir():
        return path
    user = models_dir() / str(source)
    if user.is_dir():
        return user
    if path.exists():
        raise ModelError(
            f"{path}: a model is a folder; import single files with `ast-studio import`"
        )
    if "/" in str(source) and not path.is_absolute():
        cached = cached_hub_model(str(source))
        if cached is not None:
            return cached
        raise ModelError(
            f"{source}: not downloaded yet. Run `ast-studio download {source}` "
            "(needs internet), or import a model file with `ast-studio import PATH`."
        )
    raise ModelError(f"{source}: no such model folder or installed model")


def _prefs_path() -> Path:
    return data_dir() / "preferences.json"


def default_model() -> Path | None:
    """The user's chosen model, else an installed AudioSet model, else any installed one."""
    try:
        chosen = json.loads(_prefs_path().read_text(encoding="utf-8")).get("default_model")
    except (OSError, ValueError):
        chosen = None
    if chosen:
        try:
            return resolve(chosen)
        except ModelError:
            pass
    installed = installed_models()
    for m in installed:
        if m.name == DEFAULT_HUB_MODEL:
            return m.path
    return installed[0].path if installed else None


def set_default_model(source: str) -> None:
    """Remember `source` (path or hub id) as the default model; atomic write."""
    resolve(source)
    atomic_write_text(_prefs_path(), json.dumps({"default_model": str(source)}))


def no_model_message() -> str:
    return (
        "No model is installed. Download one with `ast-studio download "
        f"{DEFAULT_HUB_MODEL}` (needs internet), import a file with `ast-studio import PATH`, "
        "or train your own with `ast-studio train`."
    )


def import_model(
    source: str | os.PathLike,
    name: str | None = None,
    labels: list[str] | None = None,
    fbank: FbankConfig | None = None,
    **arch: Any,
) -> Path:
    """Install a model folder, `.pth` or `.safetensors` as a user model in the one format.

    Single weight files carry no labels or features: `labels` default to AudioSet's when the
    model has 527 outputs, `fbank` to the AudioSet preset; `arch` goes to `model_from_weights`
    (strides, label mode). The result is checked by loading it before it is moved in place.
    """
    from ast_core.audio.features import PRESETS
    from ast_core.model.checkpoints import (
        load_model,
        model_from_weights,
        read_weights_file,
        save_model,
    )
    from ast_core.store.labels import load_labels

    source = Path(source).expanduser()
    name = name or source.stem
    target = models_dir() / name
    if target.exists():
        raise ModelError(f"{target}: a model named {name!r} already exists; choose another name")

    def write(tmp: Path) -> None:
        if source.is_dir():
            loaded = load_model(source)
            save_model(tmp, loaded.model, loaded.labels, loaded.fbank, loaded.extra)
        else:
            state = read_weights_file(source)
            outputs = state["head.weight"].shape[0]
            chosen = labels
            if chosen is None:
                chosen = load_labels("audioset") if outputs == 527 else None
                chosen = chosen or [f"class {i}" for i in range(outputs)]
            loaded = model_from_weights(
                state, chosen, fbank or PRESETS["audioset"], str(source), **arch
            )
            save_model(
                tmp, loaded.model, loaded.labels, loaded.fbank, {"imported_from": str(source)}
            )
        load_model(tmp)

    return atomic_write_folder(target, write)
