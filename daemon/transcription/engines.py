"""Choosing the engine named by `[transcription] engine`."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from daemon.transcription.offline import PocketsphinxEngine
from daemon.transcription.remote import HttpEngine
from models.core.settings import TranscriptionSettings


class Engine(Protocol):
    """Turns one recording into text; raises TranscriptionError saying why it cannot."""

    name: str

    async def transcribe(self, path: Path) -> str: ...

    async def close(self) -> None: ...


def build_engine(settings: TranscriptionSettings) -> Engine | None:
    """The configured engine, or None for "none" (TranscriptionError for a bad setup)."""
    if settings.engine == "pocketsphinx":
        return PocketsphinxEngine(
            settings.pocketsphinx_model_dir,
            max_audio_minutes=settings.max_audio_minutes,
            timeout_seconds=settings.timeout_seconds,
        )
    if settings.engine == "http":
        return HttpEngine(
            settings.http_url,
            model=settings.http_model,
            language=settings.language,
            api_key=settings.http_api_key.get_secret_value(),
            timeout_seconds=settings.timeout_seconds,
            max_audio_minutes=settings.max_audio_minutes,
        )
    return None
