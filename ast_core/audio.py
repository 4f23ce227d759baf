"""Audio file I/O: decode anything libsndfile reads to mono float32 at 16 kHz, stream long files.

Decoding is libsndfile's (through `soundfile`), resampling is `torchaudio.functional.resample`
(default sinc kernel) on the gcd-reduced rates; channels are downmixed by their mean before
resampling. `load_audio` decodes a whole file, `iter_blocks` streams it block by block and yields
the same samples (to float rounding), so a multi-hour file never sits whole in memory.

Every failure raises `AudioError(path, reason)`; no raw soundfile/libsndfile exception escapes.
Decisions:
- NaN or infinite samples are rejected ("contains NaN or infinite samples"): a float file holding
  them is corrupt, and zeroing them silently would hide that. Finite values are never rejected,
  however loud.
- A file whose header promises more data than the file holds is rejected as "truncated or
  corrupt". libsndfile itself decodes what is there of a cut WAV/AIFF/AU (and only notes
  "data : N (should be M)" in its log, which is checked here), fails on a cut FLAC, refuses a cut
  OGG at open, and ends a cut MP3 early (checked against the header's frame count, with a slack
  of 1 % or two MPEG frames because an MP3 without a LAME/Xing tag only has an estimate).
  Length fields >= 0x7FFFF000 are "unknown length" placeholders of streaming writers (sox,
  ffmpeg), not truncation.
- A file with 0 frames is rejected ("no audio samples"); a 1-sample file is valid (callers pad).

MP3 note: soundfile seeks back to its own position after every read, and libsndfile's MP3 seek
is inexact, so chunked reads through the plain `SoundFile` return wrong samples. Files are read
through `_SequentialFile`, which tells soundfile the file is not seekable, so reads never seek.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as taf

from ast_core.errors import AudioError

TARGET_RATE = 16_000
SUPPORTED_EXTENSIONS = frozenset(
    {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".au"}
)

_READ_FRAMES = 1 << 20  # frames per read in load_audio
_PLACEHOLDER_LENGTH = 0x7FFFF000
_LENGTH_LINE = re.compile(
    r"^\s*(?:riff|form|data|ssnd|riff size|data size)\s*:\s*(\d+)\s*\(should be (\d+)\)",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says (before downmix and resampling)."""

    path: str
    sample_rate: int
    channels: int
    frames: int
    duration_s: float
    format: str  # libsndfile major format, e.g. "WAV", "FLAC", "OGG", "MP3"
    subtype: str  # e.g. "PCM_16", "FLOAT", "VORBIS", "OPUS", "MPEG_LAYER_III"


class _SequentialFile(sf.SoundFile):
    """A SoundFile read strictly front to back: soundfile skips its seek-after-read (see above)."""

    def seekable(self) -> bool:
        return False


def is_audio_path(path: str | os.PathLike) -> bool:
    """True if the file name has a supported audio extension (case-insensitive)."""
    return Path(path).suffix.lower() in SUPPORTED_EXTENSIONS


def _open_error(path: str, exc: Exception) -> AudioError:
    msg = getattr(exc, "error_string", None) or str(exc)
    low = msg.lower()
    if "unimplemented format" in low or "unsupported encoding" in low:
        return AudioError(path, f"unsupported codec ({msg})")
    if "malformed" in low:
        return AudioError(path, "truncated or corrupt (libsndfile: file is malformed)")
    # "Format not recognised"; libsndfile's MP3 probe also says "File does not exist or is
    # not a regular file" for a file it cannot parse (existence was checked before).
    return AudioError(path, "not an audio file or unsupported format")


def _open(path: str | os.PathLike) -> tuple[str, _SequentialFile]:
    """Check the path, open it with libsndfile and validate the header; caller closes."""
    p = os.fspath(path)
    if not os.path.exists(p):
        raise AudioError(p, "file not found")
    if os.path.isdir(p):
        raise AudioError(p, "is a directory, not an audio file")
    if not os.path.isfile(p):
        raise AudioError(p, "not a regular file")
    try:
        with open(p, "rb") as fh:
            empty = not fh.read(1)
    except PermissionError:
        raise AudioError(p, "permission denied") from None
    except OSError as e:
        raise AudioError(p, f"cannot read file ({e.strerror or e})") from None
    if empty:
        raise AudioError(p, "file is empty (0 bytes)")
    try:
        f = _SequentialFile(p)
    except (RuntimeError, ValueError, OSError) as e:  # soundfile.LibsndfileError is a RuntimeError
        raise _open_error(p, e) from None
    try:
        for declared, actual in _LENGTH_LINE.findall(f.extra_info):
            if int(actual) < int(declared) < _PLACEHOLDER_LENGTH:
                raise AudioError(p, f"truncated or corrupt (header says {declared} bytes, "
                                 f"file holds {actual})")
        if f.frames == 0:
            raise AudioError(p, "no audio samples after decoding (0 frames)")
    except BaseException:
        f.close()
        raise
    return p, f


def probe(path: str | os.PathLike) -> AudioInfo:
    """Read the header only. Raises AudioError like `load_audio` does at open."""
    p, f = _open(path)
    with f:
        return AudioInfo(p, f.samplerate, f.channels, f.frames, f.frames / f.samplerate,
                         f.format, f.subtype)


def _mono_chunks(p: str, f: sf.SoundFile, frames: int) -> Iterator[np.ndarray]:
    """Read `frames` frames at a time (last chunk shorter), yield each downmixed, float32 [n]."""
    total = 0
    while True:
        try:
            block = f.read(frames, dtype="float32", always_2d=True)
        except RuntimeError as e:  # soundfile.LibsndfileError
            msg = getattr(e, "error_string", None) or str(e)
            raise AudioError(p, f"truncated or corrupt (libsndfile: {msg})") from None
        if len(block):
            mono = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32)
            if not np.isfinite(mono).all():
                raise AudioError(p, "contains NaN or infinite samples")
            total += len(mono)
            yield np.ascontiguousarray(mono)
        if len(block) < frames:
            break
    slack = max(2304, f.frames // 100) if f.format == "MP3" else 0
    if total == 0:
        raise AudioError(p, "no audio samples after decoding")
    if total < f.frames - slack:
        raise AudioError(p, f"truncated or corrupt (decoded {total} of {f.frames} frames)")


_MAX_REDUCED_RATE = 2000  # torchaudio's sinc kernel has (reduced up) x (reduced down) taps


def _rates(orig: int, target: int) -> tuple[int, int]:
    """The gcd-reduced (orig, target) pair used for resampling.

    Odd rates (e.g. 44101 Hz) reduce to huge pairs whose kernel would need gigabytes; those
    are resampled as if from the nearest multiple of 100 Hz (a speed error below 0.01 %).
    """
    g = math.gcd(orig, target)
    if orig // g > _MAX_REDUCED_RATE:
        return _rates(max(100, round(orig / 100) * 100), target)
    return orig // g, target // g


def _resample(x: np.ndarray, down: int, up: int) -> np.ndarray:
    """float32 [n] at rate `down` -> float32 [ceil(n * up / down)] at rate `up` (reduced)."""
    if down == up:
        return x
    return taf.resample(torch.from_numpy(x), down, up).numpy()


def load_audio(path: str | os.PathLike, target_rate: int = TARGET_RATE) -> np.ndarray:
    """Decode a whole file to mono float32 [N] at `target_rate` (N = ceil(frames * rate ratio))."""
    p, f = _open(path)
    with f:
        down, up = _rates(f.samplerate, target_rate)
        x = np.concatenate(list(_mono_chunks(p, f, _READ_FRAMES)))
    return _resample(x, down, up)


def iter_blocks(
    path: str | os.PathLike, block_seconds: float = 30.0, target_rate: int = TARGET_RATE
) -> Iterator[np.ndarray]:
    """Stream a file as mono float32 [n] blocks at `target_rate` (about `block_seconds` each).

    The concatenated blocks equal `load_audio(path, target_rate)`. Each input block is
    resampled with `ctx` frames of its neighbours on both sides (more than the sinc kernel
    reaches) and the output trimmed back; block and context lengths are multiples of the
    reduced input rate, so every block's output falls on the whole-file output grid. Errors
    (including NaN/Inf or truncation found mid-stream) raise AudioError when reached.
    """
    if not block_seconds > 0:
        raise ValueError(f"block_seconds must be > 0, got {block_seconds}")
    p, f = _open(path)
    with f:
        down, up = _rates(f.samplerate, target_rate)
        reach = 8 * max(1.0, down / up)  # > torchaudio's kernel half-width, in input frames
        ctx = down * (math.ceil(reach / down) + 1)
        block = max(math.ceil(block_seconds * f.samplerate / down) * down, ctx)
        chunks = _mono_chunks(p, f, block)
        if down == up:
            yield from chunks
            return
        prev = np.zeros(0, np.float32)
        cur = next(chunks)
        for nxt in itertools.chain(chunks, [None]):
            left = prev[-ctx:]
            right = nxt[:ctx] if nxt is not None else prev[:0]
            out = _resample(np.concatenate([left, cur, right]), down, up)
            start = len(left) * up // down
            stop = start + len(cur) * up // down if nxt is not None else len(out)
            yield out[start:stop]
            prev, cur = cur, nxt


def save_wav(path: str | os.PathLike, samples: np.ndarray, sample_rate: int = TARGET_RATE) -> None:
    """Write float samples [N] or [N, C] in [-1, 1] as 16-bit PCM WAV, atomically.

    The data goes to a hidden temporary file in the target's folder, which then replaces the
    target, so a failed write never leaves a partial file. Out-of-range values are clipped.
    """
    data = np.asarray(samples, dtype=np.float32)
    if data.ndim not in (1, 2) or not np.isfinite(data).all():
        raise ValueError("save_wav needs finite samples shaped [N] or [N, channels]")
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as fh:
            sf.write(fh, np.clip(data, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except (OSError, RuntimeError, TypeError, ValueError) as e:
        tmp.unlink(missing_ok=True)
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise AudioError(target, f"cannot write WAV ({reason})") from None
