"""Reading a call recording (a WAV written by MixMonitor) as mono 16-bit PCM at the
recogniser's rate (16 kHz for pocketsphinx's English model).

MixMonitor writes 8 kHz mono 16-bit WAV by default (`wav49`/`WAV` GSM is not read here);
other rates, widths and channel counts are converted with the standard library's `audioop`
(deprecated in 3.11+, still present up to 3.12; `audioop-lts` provides it on 3.13).
"""

from __future__ import annotations

import warnings
import wave
from dataclasses import dataclass
from pathlib import Path

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

RATE = 16_000  # what the recognisers are fed


class AudioError(Exception):
    """The file is not audio this module reads (not a PCM WAV, empty, too long)."""


@dataclass(frozen=True)
class Audio:
    pcm: bytes  # mono, signed 16-bit little-endian, at the rate asked for
    seconds: float


def wav_seconds(path: Path) -> float:
    """The recording's length, from its header."""
    try:
        with wave.open(str(path), "rb") as wav:
            rate = wav.getframerate()
            return wav.getnframes() / rate if rate else 0.0
    except (wave.Error, EOFError) as err:
        raise AudioError(f"not a PCM WAV file ({err})") from err


def read_wav(path: Path, *, max_seconds: float | None = None, rate_out: int = RATE) -> Audio:
    """The recording as mono 16-bit PCM at `rate_out` Hz; AudioError when it is not a
    readable PCM WAV or is longer than `max_seconds`."""
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.getnframes()
            seconds = frames / rate if rate else 0.0
            if max_seconds is not None and seconds > max_seconds:
                raise AudioError(
                    f"the recording lasts {seconds / 60:.1f} min, more than the "
                    f"{max_seconds / 60:.0f} min allowed ([transcription] max_audio_minutes)"
                )
            data = wav.readframes(frames)
    except (wave.Error, EOFError) as err:
        raise AudioError(f"not a PCM WAV file ({err})") from err
    if not data or not rate:
        raise AudioError("the recording is empty")
    if width not in (1, 2, 3, 4):
        raise AudioError(f"unsupported sample width: {width} bytes")
    if width == 1:  # 8-bit WAV is unsigned
        data = audioop.bias(data, 1, -128)
    if width != 2:
        data = audioop.lin2lin(data, width, 2)
    if channels == 2:
        data = audioop.tomono(data, 2, 0.5, 0.5)
    elif channels != 1:
        raise AudioError(f"unsupported channel count: {channels}")
    if rate != rate_out:
        data, _ = audioop.ratecv(data, 2, 1, rate, rate_out, None)
    return Audio(pcm=data, seconds=seconds)
