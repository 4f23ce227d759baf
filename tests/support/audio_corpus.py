"""Real audio files for tests, written on the spot with soundfile, sox and espeak-ng (no downloads).

Import it from tests (`from tests.support.audio_corpus import write_tone, ...`); not a test module.

- `write_tone`: a sine tone in any rate / channel count / subtype / container soundfile writes.
- `write_format_matrix`: `MATRIX_SECONDS` of a `MATRIX_FREQ` Hz tone in every container, sample
  format, rate and channel layout the app must read. Each name holds "<rate>Hz <channels>ch"
  (see `matrix_params`); names include spaces, unicode and upper-case extensions.
- `write_bad_corpus`: broken and edge-case inputs; `BAD_CASES` says what each must give.
- `speak`: a spoken phrase via espeak-ng, for speech signals.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf

MATRIX_SECONDS = 1.0
MATRIX_FREQ = 440.0

# case name -> expected outcome: a substring of the AudioError message, or "valid".
BAD_CASES: dict[str, str] = {
    "missing": "file not found",  # path that does not exist
    "directory": "is a directory",  # a folder named "folder.wav"
    "empty": "file is empty (0 bytes)",
    "header_only": "no audio samples",  # a valid WAV header with 0 frames
    "truncated_wav": "truncated or corrupt",  # cut mid-data: header promises more bytes
    "truncated_aiff": "truncated or corrupt",  # same for AIFF (SSND chunk)
    "truncated_flac": "truncated or corrupt",  # libsndfile: "flac decoder lost sync" on read
    "truncated_ogg": "truncated or corrupt",  # libsndfile: "malformed" at open
    "truncated_mp3": "truncated or corrupt",  # decodes short of the LAME header's frame count
    "random_wav": "not an audio file or unsupported format",  # random bytes named .wav
    "random_mp3": "not an audio file or unsupported format",  # random bytes named .mp3
    "text_flac": "not an audio file or unsupported format",  # a text file named .flac
    "unsupported_codec": "unsupported codec",  # AIFF-C with an unknown compression type
    "nan_float": "NaN or infinite",  # 32-bit float WAV with one NaN
    "inf_float": "NaN or infinite",  # 32-bit float WAV with one +Inf
    "one_sample": "valid",  # a 1-sample 16-bit WAV decodes to a short array
    "placeholder_length": "valid",  # streamed WAV with "unknown length" 0xFFFFFFFF sizes
}


def _tone(freq: float, seconds: float, rate: int, channels: int) -> np.ndarray:
    """float32 [frames, channels]; channel c has amplitude 0.5 * (c + 1) / channels."""
    t = np.arange(round(seconds * rate)) / rate
    wave = np.sin(2 * np.pi * freq * t)
    amps = 0.5 * np.arange(1, channels + 1) / channels
    return (wave[:, None] * amps[None, :]).astype(np.float32)


def write_tone(
    path: str | Path,
    freq: float = 440.0,
    seconds: float = 1.0,
    rate: int = 16000,
    channels: int = 1,
    subtype: str | None = None,
    format: str | None = None,
) -> Path:
    """Write a sine tone; container from the extension unless `format` is given (e.g. "MP3")."""
    path = Path(path)
    data = _tone(freq, seconds, rate, channels)
    sf.write(path, data if channels > 1 else data[:, 0], rate, subtype=subtype, format=format)
    return path


def matrix_params(path: Path) -> tuple[int, int]:
    """(sample_rate, channels) encoded in a format-matrix file name."""
    m = re.search(r"(\d+)Hz (\d+)ch", path.name)
    assert m, path
    return int(m[1]), int(m[2])


# (file name, rate, channels, soundfile subtype, soundfile format)
_MATRIX = [
    ("tone 8000Hz 1ch pcm16.wav", 8000, 1, "PCM_16", None),
    ("tone 11025Hz 1ch u8.wav", 11025, 1, "PCM_U8", None),
    ("tone 22050Hz 2ch pcm24.wav", 22050, 2, "PCM_24", None),
    ("tōne ä 44100Hz 1ch.wav", 44100, 1, "PCM_16", None),
    ("TONE 44100Hz 2ch PCM32.WAV", 44100, 2, "PCM_32", None),
    ("tone 48000Hz 6ch float.wav", 48000, 6, "FLOAT", None),
    ("tone 32000Hz 1ch double.wav", 32000, 1, "DOUBLE", None),
    ("tone 16000Hz 1ch.flac", 16000, 1, "PCM_16", None),
    ("TONE 96000Hz 2ch.FLAC", 96000, 2, "PCM_24", None),
    ("tone 192000Hz 6ch.flac", 192000, 6, "PCM_16", None),
    ("tone 44100Hz 2ch vorbis.ogg", 44100, 2, "VORBIS", None),
    ("tone 22050Hz 1ch vorbis.oga", 22050, 1, "VORBIS", "OGG"),
    ("tone 48000Hz 1ch.opus", 48000, 1, "OPUS", "OGG"),
    ("tone 16000Hz 2ch.opus", 16000, 2, "OPUS", "OGG"),
    ("tone 44100Hz 2ch.mp3", 44100, 2, None, "MP3"),
    ("tone 16000Hz 1ch.mp3", 16000, 1, None, "MP3"),
    ("tone 11025Hz 1ch.aiff", 11025, 1, "PCM_16", None),
    ("tone 8000Hz 1ch ulaw.au", 8000, 1, "ULAW", None),
]


SOX_MATRIX_NAME = "sox tone 24000Hz 2ch.wav"  # written only where sox is installed
MATRIX_NAMES = [row[0] for row in _MATRIX] + [SOX_MATRIX_NAME]


def write_format_matrix(dirpath: str | Path) -> list[Path]:
    """Write the format matrix into `dirpath`; returns the paths (see `matrix_params`)."""
    d = Path(dirpath)
    d.mkdir(parents=True, exist_ok=True)
    paths = [
        write_tone(d / name, MATRIX_FREQ, MATRIX_SECONDS, rate, ch, subtype, fmt)
        for name, rate, ch, subtype, fmt in _MATRIX
    ]
    if shutil.which("sox"):  # a second encoder's WAV (sox's own header writer)
        out = d / SOX_MATRIX_NAME
        subprocess.run(
            ["sox", "-n", "-r", "24000", "-c", "2", "-b", "16", str(out),
             "synth", str(MATRIX_SECONDS), "sine", str(MATRIX_FREQ), "gain", "-6"],
            check=True, capture_output=True,
        )
        paths.append(out)
    return paths


def _cut(src: Path, dst: Path, fraction: float = 0.5) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    src.unlink()
    return dst


def write_bad_corpus(dirpath: str | Path) -> dict[str, Path]:
    """Write every case of `BAD_CASES` into `dirpath` (the "missing" path is not created)."""
    d = Path(dirpath)
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1234)  # fixed bytes: random data named .mp3 must not decode
    c: dict[str, Path] = {"missing": d / "missing.wav", "directory": d / "folder.wav"}
    c["directory"].mkdir(exist_ok=True)
    c["empty"] = d / "empty.wav"
    c["empty"].write_bytes(b"")
    c["header_only"] = d / "header only.wav"
    sf.write(c["header_only"], np.zeros(0, np.float32), 16000, subtype="PCM_16")
    for case, ext, fmt in [("truncated_wav", "wav", None), ("truncated_aiff", "aiff", None),
                           ("truncated_flac", "flac", None), ("truncated_ogg", "ogg", None),
                           ("truncated_mp3", "mp3", "MP3")]:
        full = write_tone(d / f"full.{ext}", seconds=2.0, rate=16000, format=fmt)
        c[case] = _cut(full, d / f"truncated.{ext}")
    c["random_wav"] = d / "random.wav"
    c["random_wav"].write_bytes(rng.bytes(4096))
    c["random_mp3"] = d / "random.mp3"
    c["random_mp3"].write_bytes(rng.bytes(4096))
    c["text_flac"] = d / "notes.flac"
    c["text_flac"].write_text("this is not audio\n" * 50)
    c["unsupported_codec"] = d / "codec.aiff"
    write_tone(c["unsupported_codec"], seconds=0.1, rate=8000, subtype="ULAW", format="AIFF")
    raw = c["unsupported_codec"].read_bytes()
    c["unsupported_codec"].write_bytes(raw.replace(b"ulaw", b"QWER", 1))
    for case, bad in [("nan_float", np.nan), ("inf_float", np.inf)]:
        x = _tone(440.0, 0.5, 16000, 1)[:, 0]
        x[1000] = bad
        c[case] = d / f"{case}.wav"
        sf.write(c[case], x, 16000, subtype="FLOAT")
    c["one_sample"] = d / "one sample.wav"
    sf.write(c["one_sample"], np.array([0.25], np.float32), 16000, subtype="PCM_16")
    c["placeholder_length"] = d / "streamed.wav"
    write_tone(c["placeholder_length"], seconds=0.5, subtype="PCM_16")
    raw = bytearray(c["placeholder_length"].read_bytes())
    raw[4:8] = struct.pack("<I", 0xFFFFFFFF)  # RIFF size
    data_at = raw.index(b"data")
    raw[data_at + 4 : data_at + 8] = struct.pack("<I", 0xFFFFFFFF)
    c["placeholder_length"].write_bytes(bytes(raw))
    assert c.keys() == BAD_CASES.keys()
    return c


def speak(path: str | Path, text: str, voice: str = "en-us", rate_wpm: int = 150) -> Path:
    """Speak `text` into a WAV file (espeak-ng: 22.05 kHz mono 16-bit)."""
    path = Path(path)
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(rate_wpm), "-w", str(path), text],
        check=True, capture_output=True,
    )
    return path


def write_noisy_tone(path, seconds: float, rate: int, channels: int = 1, **kwargs):
    """A 440-Hz tone plus noise (so a misplaced sample cannot match), any container."""
    rng = np.random.default_rng(rate + channels)
    n = round(seconds * rate)
    x = 0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / rate) + 0.05 * rng.standard_normal(n)
    data = np.stack([x * (c + 1) / channels for c in range(channels)], axis=1)
    sf.write(path, data.astype(np.float32), rate, **kwargs)
    return path
