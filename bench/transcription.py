"""Speech recognition of call recordings (X2): how fast each engine is on this machine.

Speech is made by espeak-ng (en-us) and written as MixMonitor writes it: 8 kHz mono 16-bit WAV.

1. Speed per engine on SECONDS (default 60) of speech: audio seconds / processing seconds
   (above 1: faster than real time; the usual "real-time factor" is its inverse). The
   pocketsphinx decoder is loaded first (the worker keeps it), its load time printed apart.
   The http engine runs against a local stub of POST /v1/audio/transcriptions that answers
   at once: that figure is the CRM's side only (reading, multipart upload, JSON), the
   recogniser's own speed is the server's (faster-whisper, whisper.cpp) and is not measured.
2. Calls per hour one worker keeps up with: CALLS answered calls of CALL_MINUTES (default 3)
   stored in a private database (SQLite, or --backend postgres) and transcribed by one
   TranscriptionWorker with pocketsphinx, wall clock over the whole pass (database included).

    python bench/transcription.py [--seconds 60] [--calls 2] [--call-minutes 3]
                                  [--backend sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import DEFAULT_PG, private_database  # noqa: E402
from aiohttp import web  # noqa: E402

from daemon.transcription import TranscriptionWorker  # noqa: E402
from daemon.transcription.audio import audioop  # noqa: E402
from daemon.transcription.offline import PocketsphinxEngine  # noqa: E402
from daemon.transcription.remote import HttpEngine  # noqa: E402
from models.core.clock import SystemClock  # noqa: E402
from models.core.db import close_db, open_db  # noqa: E402
from models.schema.calls import Call  # noqa: E402
from models.schema.company import TelephonySettings  # noqa: E402

TEXT = (
    "good morning this is the sales office how can i help you today. "
    "i would like to order two hundred boxes of paper for my office. "
    "of course we can send them on monday and the price is the same as last month. "
    "please call me back this afternoon to confirm the delivery address. "
)
RATE = 8000


def speech(path: Path, seconds: float) -> float:
    """At least `seconds` of espeak-ng speech as an 8 kHz WAV at `path`; its length."""
    if shutil.which("espeak-ng") is None:
        sys.exit("espeak-ng is not installed (apt-get install espeak-ng)")
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(raw), TEXT], check=True)
    with wave.open(str(raw), "rb") as src:
        rate, pcm = src.getframerate(), src.readframes(src.getnframes())
    raw.unlink()
    pcm, _ = audioop.ratecv(pcm, 2, 1, rate, RATE, None)
    pause = b"\0\0" * RATE  # a second between two sentences, as in a conversation
    chunk = pcm + pause
    repeats = int(seconds * RATE * 2 // len(chunk)) + 1
    audio = (chunk * repeats)[: int(seconds * RATE) * 2]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(audio)
    return len(audio) / 2 / RATE


async def stub_server() -> tuple[web.AppRunner, str]:
    async def transcriptions(request: web.Request) -> web.Response:
        async for part in await request.multipart():
            await part.read()  # type: ignore[union-attr]
        return web.json_response({"text": TEXT})

    app = web.Application(client_max_size=1024**3)
    app.router.add_post("/v1/audio/transcriptions", transcriptions)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def engine_speeds(folder: Path, seconds: float) -> None:
    audio = folder / "speech.wav"
    length = speech(audio, seconds)
    print(f"speech: {length:.1f} s of espeak-ng en-us at {RATE} Hz")
    warm = folder / "warm.wav"
    speech(warm, 1.0)
    engine = PocketsphinxEngine()
    try:
        started = time.perf_counter()
        await engine.transcribe(warm)  # starts the worker process and loads the model
        print(f"pocketsphinx: process start and model load {time.perf_counter() - started:.2f} s")
        started = time.perf_counter()
        text = await engine.transcribe(audio)
        spent = time.perf_counter() - started
    finally:
        await engine.close()
    print(
        f"pocketsphinx: {spent:.1f} s for {length:.0f} s of audio: speed {length / spent:.2f}x "
        f"real time (RTF {spent / length:.2f}); {len(text.split())} words heard"
    )
    runner, url = await stub_server()
    engine_http = HttpEngine(url, model="stub", language="en")
    try:
        await engine_http.transcribe(warm)
        rounds = 20
        started = time.perf_counter()
        for _ in range(rounds):
            await engine_http.transcribe(audio)
        spent = (time.perf_counter() - started) / rounds
    finally:
        await engine_http.close()
        await runner.cleanup()
    print(
        f"http (CRM side, stub server): {spent * 1000:.1f} ms per {length:.0f} s recording: "
        f"speed {length / spent:.0f}x real time; the server's recognition time comes on top"
    )


async def worker_rate(folder: Path, url: str, calls: int, minutes: float) -> None:
    recordings = folder / "recordings"
    recordings.mkdir()
    length = speech(recordings / "call.wav", minutes * 60)
    await open_db(url)
    try:
        await TelephonySettings.create(is_transcribe_calls=True)
        now = datetime.now(UTC)
        for n in range(calls):
            await Call.create(
                linkedid=f"bench.{n}",
                direction="in",
                result="answered",
                started_at=now,
                talk_seconds=int(length),
                recording_path="call.wav",
            )
        engine = PocketsphinxEngine()
        worker = TranscriptionWorker(engine, recordings, SystemClock())
        try:
            started = time.perf_counter()
            done = await worker.run_once()
            spent = time.perf_counter() - started
        finally:
            await engine.close()
        failed = await Call.exclude(transcription_error="").count()
    finally:
        await close_db()
    per_call = spent / max(1, done)
    print(
        f"worker: {done} calls of {length / 60:.0f} min in {spent:.1f} s ({failed} failed), "
        f"{per_call:.1f} s per call, model load included: one worker keeps up with "
        f"{3600 / per_call:.0f} calls of {length / 60:.0f} min per hour"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--calls", type=int, default=2)
    parser.add_argument("--call-minutes", type=float, default=3.0)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="centralita-bench-") as tmp:
        folder = Path(tmp)
        await engine_speeds(folder, args.seconds)
        async with private_database(args.backend, args.pg_url, None) as url:
            await worker_rate(folder, url, args.calls, args.call_minutes)


if __name__ == "__main__":
    asyncio.run(main())
