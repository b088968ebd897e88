"""Speech recognition of call recordings (X2): engines (pocketsphinx offline, an
OpenAI-compatible HTTP server) and the worker that transcribes answered calls."""

from daemon.transcription.engines import Engine, build_engine
from daemon.transcription.errors import EngineUnavailableError, TranscriptionError
from daemon.transcription.worker import TranscriptionWorker, recordings_dir, start_transcription

__all__ = [
    "Engine",
    "EngineUnavailableError",
    "TranscriptionError",
    "TranscriptionWorker",
    "build_engine",
    "recordings_dir",
    "start_transcription",
]
