"""The HTTP engine: an OpenAI-compatible transcription server (faster-whisper-server,
whisper.cpp's server, OpenAI itself), `POST <http_url>/v1/audio/transcriptions` with the
recording as multipart `file` and the `model` and `language` fields; the answer is
`{"text": "..."}`."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp

from daemon.transcription.audio import AudioError, wav_seconds
from daemon.transcription.errors import EngineUnavailableError, TranscriptionError

logger = logging.getLogger(__name__)

PATH = "/v1/audio/transcriptions"


class HttpEngine:
    """Sends each recording to the server; one request at a time (the worker's pace)."""

    name = "http"

    def __init__(
        self,
        url: str,
        *,
        model: str,
        language: str,
        api_key: str = "",
        timeout_seconds: float = 600.0,
        max_audio_minutes: float = 60.0,
    ) -> None:
        if not url:
            raise TranscriptionError('[transcription] engine = "http" needs http_url')
        self.endpoint = url.rstrip("/") + PATH
        self._model = model
        self._language = language
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._max_seconds = max_audio_minutes * 60
        self._session: aiohttp.ClientSession | None = None

    async def transcribe(self, path: Path) -> str:
        try:
            seconds = await asyncio.to_thread(wav_seconds, path)
            if seconds > self._max_seconds:
                raise TranscriptionError(
                    f"the recording lasts {seconds / 60:.1f} min, more than the "
                    f"{self._max_seconds / 60:.0f} min allowed ([transcription] max_audio_minutes)"
                )
            data = await asyncio.to_thread(path.read_bytes)
        except AudioError as err:
            raise TranscriptionError(str(err)) from err
        except OSError as err:
            raise TranscriptionError(f"cannot read the recording ({err.strerror or err})") from err
        form = aiohttp.FormData()
        form.add_field("file", data, filename=path.name, content_type="audio/wav")
        form.add_field("model", self._model)
        form.add_field("language", self._language)
        form.add_field("response_format", "json")
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(self.endpoint, data=form, headers=self._headers) as resp:
                if resp.status == 429 or resp.status >= 500:
                    raise EngineUnavailableError(f"{self.endpoint} answered {resp.status}")
                if resp.status != 200:
                    body = (await resp.text())[:200]
                    raise TranscriptionError(f"{self.endpoint} answered {resp.status}: {body}")
                answer = await resp.json(content_type=None)
        except TimeoutError:
            raise TranscriptionError(
                f"{self.endpoint} did not answer within {self._timeout.total:.0f} s"
            ) from None
        except aiohttp.ContentTypeError as err:
            raise TranscriptionError(f"{self.endpoint} did not answer JSON ({err})") from err
        except ValueError as err:
            raise TranscriptionError(f"{self.endpoint} did not answer JSON ({err})") from err
        except aiohttp.ClientError as err:
            raise EngineUnavailableError(f"cannot reach {self.endpoint}: {err}") from err
        text = answer.get("text") if isinstance(answer, dict) else None
        if not isinstance(text, str):
            raise TranscriptionError(f'{self.endpoint} answered without a "text"')
        return text.strip()

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
