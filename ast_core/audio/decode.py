"""Audio file I/O: decode anything libsndfile reads to mono float32 at 16 kHz, stream long files.

Decoding is libsndfile's (through `soundfile`), resampling is `ast_core.audio.resample`'s
(torchaudio's sinc kernel on the gcd-reduced rates); channels are downmixed by their mean before
resampling. `load_audio` decodes a whole file, `iter_blocks` streams it block by block and yields
the same samples (to float rounding), so a multi-hour file never sits whole in memory, and
`read_range` seeks to a range and decodes only that (the same samples as the slice of
`load_audio`).

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
`read_range` seeks once with libsndfile itself. After a seek, mpg123 decodes the first frames
wrongly (their main data starts up to 511 bytes, the bit reservoir, before them: measured up
to 0.2 off in 5-35 % of seeks into libsndfile's 11-24 kHz mono MP3s and in nearly all into
sox's 8-kbps ones), so MP3 seeks land `_MP3_PREROLL` frames early and drop those. libsndfile's
Ogg Vorbis seek lands a few samples off (11-51 measured, files from sox and from libsndfile)
inside the last Ogg page, whose granule position counts the trimmed end: Ogg seeks never land
in the last `_OGG_LAST_PAGE` frames and decode on from there instead.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from ast_core.audio import SAMPLE_RATE
from ast_core.audio.resample import reduced_rates, resample
from ast_core.errors import AudioError

SUPPORTED_EXTENSIONS = frozenset(
    {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".au"}
)

_READ_FRAMES = 1 << 20  # frames per read in load_audio
_MP3_PREROLL = 12 * 1152  # > the reservoir at the lowest bitrates (~10 frames) + the overlap
_OGG_LAST_PAGE = 255 * 4096  # most frames one Ogg page ends: 255 packets of 4096 (Vorbis)
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


def read_into_cache(path: str | os.PathLike, max_bytes: int = 64 << 20) -> None:
    """Read up to `max_bytes` of a file and drop them, so the OS has them cached when it is
    decoded: run on a thread for the next file of a batch, it takes the disk's or network's
    wait off the model's path without taking CPU from it. Errors are left to the decoder."""
    try:
        with open(path, "rb", buffering=0) as f:
            buf = bytearray(1 << 20)
            left = max_bytes
            while left > 0 and (n := f.readinto(buf)):
                left -= n
    except OSError:
        pass


def probe(path: str | os.PathLike) -> AudioInfo:
    """Read the header only. Raises AudioError like `load_audio` does at open."""
    p, f = _open(path)
    with f:
        return AudioInfo(p, f.samplerate, f.channels, f.frames, f.frames / f.samplerate,
                         f.format, f.subtype)


def _libsndfile_error(p: str, e: RuntimeError) -> AudioError:
    msg = getattr(e, "error_string", None) or str(e)
    return AudioError(p, f"truncated or corrupt (libsndfile: {msg})")


def _mono_chunks(
    p: str, f: sf.SoundFile, frames: int, start: int = 0, limit: int | None = None
) -> Iterator[np.ndarray]:
    """Read `frames` frames at a time (last chunk shorter), yield each downmixed, float32 [n].

    `f` stands at frame `start`; reading stops after `limit` frames (None: at the end). Reaching
    the end checks that the file held what its header promised.
    """
    total = 0
    while limit is None or total < limit:
        want = frames if limit is None else min(frames, limit - total)
        try:
            block = f.read(want, dtype="float32", always_2d=True)
        except RuntimeError as e:  # soundfile.LibsndfileError
            raise _libsndfile_error(p, e) from None
        if len(block):
            mono = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32)
            if not np.isfinite(mono).all():
                raise AudioError(p, "contains NaN or infinite samples")
            total += len(mono)
            yield np.ascontiguousarray(mono)
        if len(block) < want:
            break
    else:
        return  # `limit` frames read: the end was not reached
    slack = max(2304, f.frames // 100) if f.format == "MP3" else 0
    if start + total == 0:
        raise AudioError(p, "no audio samples after decoding")
    if start + total < f.frames - slack:
        raise AudioError(p, f"truncated or corrupt (decoded {start + total} of {f.frames} frames)")


def _context(down: int, up: int) -> int:
    """Input frames of context, each side, that make a piece resample exactly as inside the
    whole file: more than torchaudio's kernel reaches, and a multiple of `down`."""
    reach = 8 * max(1.0, down / up)  # > torchaudio's kernel half-width, in input frames
    return down * (math.ceil(reach / down) + 1)


def load_audio(path: str | os.PathLike, target_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Decode a whole file to mono float32 [N] at `target_rate` (N = ceil(frames * rate ratio))."""
    p, f = _open(path)
    with f:
        down, up = reduced_rates(f.samplerate, target_rate)
        x = np.concatenate(list(_mono_chunks(p, f, _READ_FRAMES)))
    return resample(x, down, up)


def iter_blocks(
    path: str | os.PathLike, block_seconds: float = 30.0, target_rate: int = SAMPLE_RATE
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
        down, up = reduced_rates(f.samplerate, target_rate)
        ctx = _context(down, up)
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
            out = resample(np.concatenate([left, cur, right]), down, up)
            start = len(left) * up // down
            stop = start + len(cur) * up // down if nxt is not None else len(out)
            yield out[start:stop]
            prev, cur = cur, nxt


def _landing(f: sf.SoundFile, frame: int) -> int:
    """Where to seek so that decoding on from there gives exact samples from `frame` on."""
    if f.format == "MP3":
        return max(0, frame - _MP3_PREROLL)
    if f.format == "OGG":
        return max(0, min(frame, f.frames - _OGG_LAST_PAGE))
    return frame


def _seek(p: str, f: sf.SoundFile, frame: int) -> None:
    """Move `f` (at frame 0) to `frame`: one libsndfile seek to `_landing` where the file allows
    seeking, then decode and drop what lies between (all of it for files that cannot seek)."""
    skip = frame
    if frame and sf.SoundFile.seekable(f):  # libsndfile's own flag (_SequentialFile hides it)
        land = _landing(f, frame)
        try:
            f.seek(land)
        except (RuntimeError, ValueError) as e:
            msg = getattr(e, "error_string", None) or str(e)
            raise AudioError(p, f"cannot seek to frame {land} ({msg})") from None
        skip = frame - land
    while skip > 0:
        try:
            got = len(f.read(min(skip, _READ_FRAMES), dtype="float32", always_2d=True))
        except RuntimeError as e:  # soundfile.LibsndfileError
            raise _libsndfile_error(p, e) from None
        if got == 0:
            return  # the file ends before `frame`: reading on gives nothing
        skip -= got


def read_range(
    path: str | os.PathLike, start_s: float, duration_s: float, target_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """`duration_s` seconds from `start_s` as mono float32 [n] at `target_rate`, seeking there.

    Equals `load_audio(path, target_rate)[a : a + n]` with `a = round(start_s * target_rate)`,
    `n = round(duration_s * target_rate)` (shorter where the file ends first), to float rounding:
    the input is read from a multiple of the reduced input rate with `_context` frames on each
    side, so the output falls on the whole file's grid. Only that part of the file is decoded
    (files libsndfile cannot seek in are decoded from the start and the rest dropped). A
    negative or non-finite range, or a start after the end, raises AudioError.
    """
    p, f = _open(path)
    with f:
        if not (math.isfinite(start_s) and math.isfinite(duration_s)
                and start_s >= 0 and duration_s >= 0):
            raise AudioError(p, f"cannot read {duration_s} s from {start_s} s "
                             "(start and duration must be finite and >= 0)")
        down, up = reduced_rates(f.samplerate, target_rate)
        a = round(start_s * target_rate)
        b = a + round(duration_s * target_rate)
        if a > -(-f.frames * up // down):
            raise AudioError(p, f"cannot read from {start_s:g} s: the file is only "
                             f"{f.frames / f.samplerate:g} s long")
        if a == b:
            return np.zeros(0, np.float32)
        ctx = _context(down, up)
        first = max(0, a // up * down - ctx)  # input frames [first, last), multiples of `down`
        last = -(-b // up) * down + ctx
        _seek(p, f, first)
        x = np.concatenate([np.zeros(0, np.float32),
                            *_mono_chunks(p, f, _READ_FRAMES, first, last - first)])
    offset = first * up // down
    return np.ascontiguousarray(resample(x, down, up)[a - offset : b - offset])


def save_wav(path: str | os.PathLike, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Write float samples [N] or [N, C] in [-1, 1] as 16-bit PCM WAV, atomically.

    The data goes to a temporary file in the target's folder, which then replaces the target
    (`ast_core.store.atomic`), so a failed write never leaves a partial file. The folder must
    exist. Out-of-range values are clipped.
    """
    from ast_core.store.atomic import atomic_write

    data = np.asarray(samples, dtype=np.float32)
    if data.ndim not in (1, 2) or not np.isfinite(data).all():
        raise ValueError("save_wav needs finite samples shaped [N] or [N, channels]")
    target = Path(path)

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            sf.write(fh, np.clip(data, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")

    try:
        atomic_write(target, write, make_parents=False)
    except (OSError, RuntimeError, TypeError, ValueError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise AudioError(target, f"cannot write WAV ({reason})") from None


def save_wav_blocks(
    path: str | os.PathLike, blocks: Iterable[np.ndarray], sample_rate: int = SAMPLE_RATE
) -> Path:
    """Write mono float blocks [n] in [-1, 1] one after another as a 16-bit PCM WAV, atomically.

    Memory holds one block: a long file can be written from `iter_blocks`. The blocks go to a
    temporary file beside the target, which replaces the target at the end
    (`ast_core.store.atomic`),
    so an error or a cancel (an exception from `blocks`, passed on as it is) never leaves a
    partial file. Out-of-range values are clipped; a failed write raises AudioError.
    """
    from ast_core.store.atomic import atomic_write

    def write(tmp: str) -> None:
        with sf.SoundFile(tmp, "w", sample_rate, 1, subtype="PCM_16", format="WAV") as f:
            for block in blocks:
                x = np.asarray(block, dtype=np.float32)
                if x.ndim != 1 or not np.isfinite(x).all():
                    raise ValueError("save_wav_blocks needs finite mono blocks shaped [n]")
                f.write(np.clip(x, -1.0, 1.0))

    try:
        return atomic_write(path, write)
    except (OSError, RuntimeError) as e:  # soundfile.LibsndfileError is a RuntimeError
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise AudioError(path, f"cannot write WAV ({reason})") from None
