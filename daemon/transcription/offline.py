"""The offline engine: CMU pocketsphinx, in a worker process (never on the event loop).

The decoder is loaded once per worker process (about half a second) and kept. Speech is cut
into utterances by pocketsphinx's own voice-activity endpointer and each is decoded apart, so
a long call does not grow one huge search. The pocketsphinx package ships an English model;
`[transcription] pocketsphinx_model_dir` names another (Spanish: CMU Sphinx's es-es).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from daemon.transcription.audio import RATE, AudioError, read_wav
from daemon.transcription.errors import TranscriptionError

logger = logging.getLogger(__name__)

_decoder: Any = None  # the worker process's decoder (set by _load, in that process only)
_rate = RATE  # and the sample rate it is fed


def model_config(model_dir: str) -> dict[str, str]:
    """pocketsphinx's hmm/lm/dict for a model folder; {} for the package's English model."""
    if not model_dir:
        return {}
    root = Path(model_dir).expanduser()
    if not root.is_dir():
        raise TranscriptionError(f"[transcription] pocketsphinx_model_dir {root} is not a folder")
    hmm = next((p.parent for p in sorted(root.rglob("mdef"))), None)
    lm = next(
        (p for pattern in ("*.lm.bin", "*.lm", "*.lm.gz") for p in sorted(root.rglob(pattern))),
        None,
    )
    dic = next((p for pattern in ("*.dict", "*.dic") for p in sorted(root.rglob(pattern))), None)
    missing = [
        name
        for name, found in (
            ("acoustic model (mdef)", hmm),
            ("language model", lm),
            ("dictionary", dic),
        )
        if found is None
    ]
    if missing:
        raise TranscriptionError(f"no {', '.join(missing)} in {root}")
    return {"hmm": str(hmm), "lm": str(lm), "dict": str(dic)}


def model_rate(config: dict[str, str]) -> int:
    """The sample rate the acoustic model was trained on: 8000 for a telephone model (its
    feat.params stops below 4 kHz), else 16000 (the package's English model)."""
    params = Path(config["hmm"]) / "feat.params" if config.get("hmm") else None
    if params is not None and params.is_file():
        words = params.read_text(encoding="utf-8", errors="replace").split()
        for flag, value in zip(words, words[1:], strict=False):
            if flag == "-upperf" and float(value) <= 4000:
                return 8000
    return RATE


def _load(config: dict[str, str]) -> None:
    global _decoder, _rate
    from pocketsphinx import Decoder

    _rate = model_rate(config)
    _decoder = Decoder(samprate=_rate, logfn=os.devnull, **config)


def decode_pcm(decoder: Any, pcm: bytes, rate: int = RATE) -> str:
    """The words heard in mono 16-bit PCM at `rate`, utterance by utterance."""
    from pocketsphinx import Endpointer

    endpointer = Endpointer(sample_rate=rate)
    size = endpointer.frame_bytes
    words: list[str] = []
    in_utterance = False

    def finish() -> None:
        decoder.end_utt()
        hyp = decoder.hyp()
        if hyp is not None and hyp.hypstr:
            words.append(hyp.hypstr)

    for start in range(0, len(pcm), size):
        frame = pcm[start : start + size]
        last = len(frame) < size
        speech = endpointer.end_stream(frame) if last else endpointer.process(frame)
        if speech is not None:
            if not in_utterance:
                decoder.start_utt()
                in_utterance = True
            decoder.process_raw(speech)
            if not endpointer.in_speech:
                finish()
                in_utterance = False
        if last:
            break
    if in_utterance:
        finish()
    return " ".join(words)


def _transcribe_file(path: str, max_seconds: float) -> tuple[str, float]:
    """In the worker process: (text, audio seconds)."""
    audio = read_wav(Path(path), max_seconds=max_seconds, rate_out=_rate)
    return decode_pcm(_decoder, audio.pcm, _rate), audio.seconds


class PocketsphinxEngine:
    """Transcribes WAV files with pocketsphinx in one worker process (one call at a time)."""

    name = "pocketsphinx"

    def __init__(
        self,
        model_dir: str = "",
        *,
        max_audio_minutes: float = 60.0,
        timeout_seconds: float = 600.0,
    ) -> None:
        self._config = model_config(model_dir)  # a bad folder stops here, at start
        self._max_seconds = max_audio_minutes * 60
        self._timeout = timeout_seconds
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # "spawn": a fresh interpreter, not a fork of a process running an event loop.
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_load,
                initargs=(self._config,),
            )
        return self._pool

    async def transcribe(self, path: Path) -> str:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(
            self._executor(), _transcribe_file, str(path), self._max_seconds
        )
        try:
            text, _seconds = await asyncio.wait_for(future, self._timeout)
        except AudioError as err:
            raise TranscriptionError(str(err)) from err
        except TimeoutError:
            self._kill()  # the process is still decoding: stop it, a new one starts next time
            raise TranscriptionError(
                f"pocketsphinx took more than {self._timeout:.0f} s "
                "([transcription] timeout_seconds)"
            ) from None
        except BrokenProcessPool as err:
            self._kill()
            raise TranscriptionError(f"the pocketsphinx process died ({err})") from err
        return text

    def _kill(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # A running task cannot be cancelled: end its process (ProcessPoolExecutor keeps them
        # in `_processes`; there is no public way to stop a busy worker).
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        """Stop the worker process now, even in the middle of a recording (at shutdown the
        call stays due and is transcribed after the restart)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
        await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
