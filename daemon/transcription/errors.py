"""What can go wrong while transcribing a recording."""

from __future__ import annotations


class TranscriptionError(Exception):
    """This recording could not be transcribed; the message says why (kept on the call)."""


class EngineUnavailableError(TranscriptionError):
    """The engine cannot work now (server unreachable, overloaded): try the call again later."""
