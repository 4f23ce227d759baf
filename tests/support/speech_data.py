"""A small spoken-word data set made with espeak-ng, for training tests (not a test module).

`spoken_words(root)` writes `root/train/<word>/*.wav` and `root/val/<word>/*.wav`;
validation uses voices that training never hears. espeak-ng is deterministic, so the files
(and therefore the feature-cache keys) are the same in every session.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

WORDS = ("yes", "no", "up", "down")
TRAIN_VOICES = ("en-us", "en-gb", "en-us+m1", "en-us+m3", "en-us+f1", "en-us+f3",
                "en-gb-scotland", "en-029", "en-us+m2", "en-gb+f2")
VAL_VOICES = ("en-gb-x-rp", "en-us-nyc", "en-us+f4", "en-us+m4")
SPEEDS = (130, 180)  # words per minute
PITCHES = (35, 65)

# Settings that learn this set from scratch within a minute on two CPU cores: two blocks,
# non-overlapping patches on 0.96 s clips, no augmentation (the set is tiny and clean).
FAST_ARGS = ["--init", "scratch", "--size", "tiny", "--depth", "2", "--fstride", "16",
             "--tstride", "16", "--target-length", "96", "--preset", "speechcommands",
             "--mixup", "0", "--freqm", "0", "--timem", "0", "--batch-size", "16"]


def say(path: Path, word: str, voice: str, speed: int, pitch: int) -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w",
                    str(path), word], check=True, capture_output=True)
    return path


def spoken_words(root: str | Path, words=WORDS, train_voices=TRAIN_VOICES,
                 val_voices=VAL_VOICES) -> Path:
    """Write the set once (a marker file says it is complete); returns `root`."""
    root = Path(root)
    marker = root / ".complete"
    if marker.exists():
        return root
    for split, voices in (("train", train_voices), ("val", val_voices)):
        for word in words:
            folder = root / split / word
            folder.mkdir(parents=True, exist_ok=True)
            for voice in voices:
                for speed in SPEEDS:
                    for pitch in PITCHES:
                        say(folder / f"{voice} {speed} {pitch}.wav", word, voice, speed, pitch)
    marker.write_text("ok\n")
    return root
