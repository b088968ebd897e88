"""The transcription worker: after each answered call (and every `poll_seconds`), the calls
due are transcribed one at a time, the engine working off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

from daemon.transcription.engines import Engine, build_engine
from daemon.transcription.errors import EngineUnavailableError, TranscriptionError
from models.core.clock import Clock
from models.core.events import CallEnded
from models.core.hub import Hub, Subscription
from models.core.settings import Settings
from models.schema.calls import Call
from models.telephony import transcription

logger = logging.getLogger(__name__)


def recordings_dir(settings: Settings) -> Path:
    """Where MixMonitor's files are: `[ami] recordings_dir`, else data_dir/recordings (the
    folder the calls page serves them from)."""
    configured = settings.ami.recordings_dir
    return Path(configured) if configured else Path(settings.data_dir) / "recordings"


class TranscriptionWorker:
    """Picks the calls due (models/telephony/transcription.py) and transcribes them."""

    def __init__(
        self,
        engine: Engine,
        recordings: Path,
        clock: Clock,
        *,
        poll_seconds: float = 60.0,
        on_finished: Callable[[Call], None] | None = None,
    ) -> None:
        self.engine = engine
        self._on_finished = on_finished  # told of each call done (its text or its failure)
        self.recordings = recordings
        self.clock = clock
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None
        self._hub: Hub | None = None
        self.transcribed = 0  # calls done (text or failure) since start, for tests and benches

    async def transcribe(self, call_id: int) -> Call:
        """Transcribe one call now and keep the outcome on it (text, or why not).
        EngineUnavailableError leaves the call due and is raised to the caller."""
        call = await transcription.get_call(call_id)
        try:
            path = transcription.recording_of(call, self.recordings)
            text = await self.engine.transcribe(path)
        except EngineUnavailableError:
            raise
        except (transcription.RecordingUnusableError, TranscriptionError) as err:
            call = await transcription.record_failure(call_id, str(err), self.clock.now())
        else:
            call = await transcription.store_transcript(call_id, text, self.clock.now())
        if self._on_finished is not None:
            self._on_finished(call)
        return call

    async def run_once(self) -> int:
        """Transcribe every call due now, oldest first; how many were done."""
        done = 0
        while True:
            due = await transcription.due_call_ids(limit=20)
            if not due:
                return done
            for call_id in due:
                try:
                    await self.transcribe(call_id)
                except EngineUnavailableError as err:
                    logger.warning("transcription paused: %s", err)
                    return done
                except asyncio.CancelledError:
                    raise
                except Exception as err:
                    # A bug: keep it on the call so it is not tried forever, and go on.
                    logger.exception("call %s: transcription failed", call_id)
                    await transcription.record_failure(
                        call_id, f"internal error: {type(err).__name__}: {err}", self.clock.now()
                    )
                done += 1
                self.transcribed += 1

    def wake(self) -> None:
        """Look for calls due now rather than at the next poll."""
        self._wake.set()

    async def _on_event(self, event: object) -> None:
        if isinstance(event, CallEnded) and event.result == "answered":
            self.wake()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("transcription pass failed; trying again at the next poll")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    def start(self, hub: Hub | None = None) -> None:
        if hub is not None:
            self._hub = hub
            self._subscription = hub.subscribe("transcription", self._on_event, CallEnded)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="transcription")

    async def stop(self) -> None:
        """Cancel the loop and await it, leave the hub, close the engine."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._hub is not None and self._subscription is not None:
            await self._hub.unsubscribe(self._subscription)
            self._subscription = None
        await self.engine.close()


async def start_transcription(
    stack: AsyncExitStack, settings: Settings, hub: Hub, clock: Clock
) -> TranscriptionWorker | None:
    """Start the worker when `[transcription] engine` is set; it joins `stack` (stopped when
    the stack closes). None when the engine is "none"."""
    engine = build_engine(settings.transcription)
    if engine is None:
        return None
    worker = TranscriptionWorker(
        engine,
        recordings_dir(settings),
        clock,
        poll_seconds=settings.transcription.poll_seconds,
    )
    worker.start(hub)
    stack.push_async_callback(worker.stop)
    logger.info("transcription of calls: %s engine", engine.name)
    return worker
