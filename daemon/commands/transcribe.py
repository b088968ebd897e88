"""centralita transcribe CALL_ID: transcribe one call's recording now and print the text (X2)."""

from __future__ import annotations

import argparse
import sys

from daemon.commands._db import with_db
from daemon.transcription import (
    EngineUnavailableError,
    TranscriptionError,
    TranscriptionWorker,
    build_engine,
    recordings_dir,
)
from models.core.clock import SystemClock
from models.core.errors import NotFound
from models.core.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "transcribe",
        help="transcribe a call's recording now with the [transcription] engine and print it "
        "(also when it was transcribed before, or the company switch is off)",
    )
    p.add_argument("call_id", type=int, metavar="CALL_ID")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        engine = build_engine(settings.transcription)
    except TranscriptionError as err:
        print(f"centralita transcribe: {err}", file=sys.stderr)
        return 2
    if engine is None:
        print(
            "centralita transcribe: no engine configured: set [transcription] engine to "
            '"pocketsphinx" or "http" in config.toml',
            file=sys.stderr,
        )
        return 2

    async def work() -> int:
        worker = TranscriptionWorker(engine, recordings_dir(settings), SystemClock())
        try:
            call = await worker.transcribe(args.call_id)
        except NotFound as err:
            print(f"centralita transcribe: {err}", file=sys.stderr)
            return 2
        except EngineUnavailableError as err:
            print(f"centralita transcribe: call {args.call_id}: {err}", file=sys.stderr)
            return 1
        finally:
            await engine.close()
        if call.transcription_error:
            print(
                f"centralita transcribe: call {call.id}: {call.transcription_error}",
                file=sys.stderr,
            )
            return 1
        print(call.transcript)
        return 0

    return with_db(settings, work)
