"""Speech recognition of call recordings (X2), with speech made by espeak-ng from known words.

The offline engine (pocketsphinx, the package's English model) hears most of the words; the
HTTP engine speaks the OpenAI transcription API to a local server that checks what it gets;
the worker transcribes an answered call, the text shows on the call page, on the client's
timeline and is found by the calls list's search; the CLI prints it; bad recordings leave a
clear reason and the worker goes on; engine "none" transcribes nothing.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
import wave
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from daemon.transcription import (
    EngineUnavailableError,
    TranscriptionError,
    TranscriptionWorker,
    build_engine,
    start_transcription,
)
from daemon.transcription.audio import audioop
from daemon.transcription.offline import PocketsphinxEngine
from daemon.transcription.remote import HttpEngine
from models.core.errors import PermissionDenied
from models.core.events import CallEnded
from models.core.settings import Settings, TranscriptionSettings
from models.schema.activity import TimelineEntry
from models.schema.calls import Call
from models.schema.clients import Client
from models.telephony import transcription
from tests.daemon.test_cli_mail import run as run_cli
from tests.web.conftest import csrf_from, http, http_login, start_server, web_settings  # noqa: F401

SAID = "hello world this is a test call"
ORDER = (
    "good morning i would like to order two hundred boxes of paper for my office "
    "please send them on monday"
)
# Measured with pocketsphinx 5.1.1 (its 16 kHz English model) and espeak-ng 1.51 (en-us, 140
# words a minute): 45% of ORDER's words come back at 16 kHz, 35% at 8 kHz (MixMonitor's rate,
# upsampled). espeak's voice is far from a human one; the bar leaves margin for other versions.
MIN_OVERLAP = 0.25


def espeak_wav(text: str, path: Path, rate: int) -> Path:
    """`text` spoken by espeak-ng as a mono 16-bit WAV at `rate` Hz (MixMonitor writes 8 kHz)."""
    if shutil.which("espeak-ng") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("espeak-ng is missing in CI: scripts/setup --test installs it")
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    raw = path.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(raw), text], check=True)
    with wave.open(str(raw), "rb") as src:
        source_rate, pcm = src.getframerate(), src.readframes(src.getnframes())
    pcm, _ = audioop.ratecv(pcm, 2, 1, source_rate, rate, None)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    raw.unlink()
    return path


def overlap(said: str, heard: str) -> float:
    words = set(said.lower().split())
    return len(words & set(heard.lower().split())) / len(words)


@dataclass
class WhisperServer:
    """A local server speaking POST /v1/audio/transcriptions (OpenAI's API)."""

    url: str = ""
    reply: str = SAID
    status: int = 200
    requests: list[dict[str, object]] = field(default_factory=list)


@pytest.fixture
async def whisper():
    server = WhisperServer()

    async def transcriptions(request: web.Request) -> web.Response:
        fields: dict[str, object] = {"authorization": request.headers.get("Authorization")}
        async for part in await request.multipart():
            data = bytes(await part.read())  # type: ignore[union-attr]
            fields[part.name or ""] = data if part.name == "file" else data.decode()
            if part.name == "file":
                fields["filename"] = part.filename
                fields["content_type"] = part.headers.get("Content-Type")
        server.requests.append(fields)
        if server.status != 200:
            return web.json_response({"error": {"message": "no"}}, status=server.status)
        audio = fields.get("file")
        if not isinstance(audio, bytes) or audio[:4] != b"RIFF" or "model" not in fields:
            return web.json_response({"error": {"message": "bad request"}}, status=400)
        return web.json_response({"text": server.reply})

    app = web.Application()
    app.router.add_post("/v1/audio/transcriptions", transcriptions)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"http://127.0.0.1:{port}"
    yield server
    await runner.cleanup()


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("speech")
    speech = {rate: espeak_wav(SAID, folder / f"hello-{rate}.wav", rate) for rate in (8000, 16000)}
    for rate in (8000, 16000):
        speech[-rate] = espeak_wav(ORDER, folder / f"order-{rate}.wav", rate)
    return speech  # rate -> SAID, -rate -> ORDER


# -- the engines ----------------------------------------------------------------------------


async def test_pocketsphinx_hears_most_words_without_blocking_the_loop(speech):
    engine = PocketsphinxEngine()
    lags: list[float] = []

    async def ticker() -> None:  # how late the loop runs a 20 ms timer while decoding
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.02)
            lags.append(time.perf_counter() - started - 0.02)

    beat = asyncio.create_task(ticker())
    try:
        heard = {rate: await engine.transcribe(speech[-rate]) for rate in (8000, 16000)}
    finally:
        beat.cancel()
        await engine.close()
    for rate, text in heard.items():
        assert overlap(ORDER, text) >= MIN_OVERLAP, (rate, text)
    assert {"like", "order"} <= set(heard[16000].split()), heard
    assert lags and max(lags) < 0.5  # the decoder ran in its own process


async def test_pocketsphinx_refuses_what_is_not_a_wav(tmp_path):
    bogus = tmp_path / "call.wav"
    bogus.write_bytes(b"this is not audio at all" * 10)
    engine = PocketsphinxEngine()
    try:
        with pytest.raises(TranscriptionError, match="not a PCM WAV"):
            await engine.transcribe(bogus)
    finally:
        await engine.close()


def test_a_model_folder_without_a_model_is_named(tmp_path):
    with pytest.raises(TranscriptionError, match="acoustic model"):
        PocketsphinxEngine(str(tmp_path))


async def test_http_engine_posts_the_recording_as_multipart(speech, whisper):
    engine = HttpEngine(whisper.url, model="small", language="es", api_key="k-123")
    try:
        text = await engine.transcribe(speech[8000])
    finally:
        await engine.close()
    assert text == SAID
    (sent,) = whisper.requests
    assert sent["model"] == "small" and sent["language"] == "es"
    assert sent["filename"] == "hello-8000.wav" and sent["content_type"] == "audio/wav"
    assert sent["file"] == speech[8000].read_bytes()
    assert sent["authorization"] == "Bearer k-123"


async def test_http_engine_errors_say_what_happened(speech, whisper, tmp_path):
    engine = HttpEngine(whisper.url, model="small", language="en", max_audio_minutes=0.01)
    try:
        with pytest.raises(TranscriptionError, match="max_audio_minutes"):
            await engine.transcribe(speech[8000])  # 2.6 s, more than 0.6 s
    finally:
        await engine.close()
    engine = HttpEngine(whisper.url, model="small", language="en")
    try:
        whisper.status = 503
        with pytest.raises(EngineUnavailableError, match="503"):
            await engine.transcribe(speech[8000])
        whisper.status = 400
        with pytest.raises(TranscriptionError, match="400"):
            await engine.transcribe(speech[8000])
    finally:
        await engine.close()
    down = HttpEngine("http://127.0.0.1:9", model="small", language="en")
    try:
        with pytest.raises(EngineUnavailableError, match="cannot reach"):
            await down.transcribe(speech[8000])
    finally:
        await down.close()


# -- calls ------------------------------------------------------------------------------------


async def answered_call(world, clock, recording: str, linkedid: str, client=None) -> Call:
    return await Call.create(
        linkedid=linkedid,
        direction="in",
        from_number="+34600111222",
        to_number="100",
        result="answered",
        started_at=clock.now(),
        answered_at=clock.now(),
        ended_at=clock.now(),
        talk_seconds=3,
        agent_id=world.ana.id,
        agent_extension="100",
        client_id=client.id if client else None,
        recording_path=recording,
    )


async def test_a_call_gets_its_transcript_shown_and_found(
    world,
    hub,
    clock,
    tmp_path,
    speech,
    whisper,
    http,  # noqa: F811
):
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    shutil.copy(speech[8000], recordings / "in-1.wav")
    client = await Client.create(name="Papelería Sol")
    call = await answered_call(world, clock, "in-1.wav", "1700000000.1", client)
    await transcription.set_enabled(world.ana, True)
    whisper.reply = "I would like two hundred boxes of paper"
    finished: asyncio.Queue[Call] = asyncio.Queue()
    worker = TranscriptionWorker(
        HttpEngine(whisper.url, model="small", language="en"),
        recordings,
        clock,
        poll_seconds=3600,  # only the call's end wakes it here
        on_finished=finished.put_nowait,
    )
    worker.start(hub)
    try:
        hub.publish(CallEnded("1700000000.1", call.id, "100", world.ana.id, "answered", 3))
        done = await asyncio.wait_for(finished.get(), 10)
    finally:
        await worker.stop()
    assert done.id == call.id and done.transcription_error == ""
    assert await transcription.due_call_ids() == []  # not transcribed twice
    entry = await TimelineEntry.get(client_id=client.id, ref_id=call.id)
    assert entry.summary == "Call transcribed: I would like two hundred boxes of paper"

    settings = web_settings(tmp_path)
    runner, srv = await start_server(settings, hub, clock)
    try:
        await http_login(http, srv.url, "ana", world.password)
        async with http.get(f"{srv.url}/calls/{call.id}") as resp:
            assert "I would like two hundred boxes of paper" in await resp.text()
        async with http.get(f"{srv.url}/calls", params={"q": "boxes PAPER"}) as resp:
            assert f'data-call-id="{call.id}"' in await resp.text()
        async with http.get(f"{srv.url}/calls", params={"q": "boxes envelopes"}) as resp:
            assert f'data-call-id="{call.id}"' not in await resp.text()
        async with http.get(f"{srv.url}/clients/{client.id}") as resp:
            # Ana reads the panel in Spanish.
            assert "Llamada transcrita: I would like two hundred boxes" in await resp.text()
    finally:
        await runner.cleanup()


async def test_bad_recordings_are_recorded_and_the_worker_goes_on(
    world,
    hub,
    clock,
    tmp_path,
    speech,
    whisper,
    http,  # noqa: F811
):
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    (recordings / "corrupt.wav").write_bytes(b"garbage, not a wav")
    shutil.copy(speech[16000], recordings / "good.wav")
    missing = await answered_call(world, clock, "gone.wav", "1.1")
    corrupt = await answered_call(world, clock, "corrupt.wav", "1.2")
    outside = await answered_call(world, clock, "/etc/passwd", "1.3")
    good = await answered_call(world, clock, "good.wav", "1.4")
    await transcription.set_enabled(world.ana, True)
    engine = HttpEngine(whisper.url, model="small", language="en")
    worker = TranscriptionWorker(engine, recordings, clock)
    try:
        assert await worker.run_once() == 4
    finally:
        await engine.close()
    reasons = {c.id: c.transcription_error for c in await Call.all()}
    assert reasons[missing.id] == "the recording file is missing"
    assert reasons[corrupt.id].startswith("not a PCM WAV file")
    assert reasons[outside.id] == "the recording is outside the recordings folder"
    assert reasons[good.id] == "" and (await Call.get(id=good.id)).transcript == SAID
    assert len(whisper.requests) == 1  # only the good one reached the server
    assert await transcription.due_call_ids() == []  # failures are not tried forever

    runner, srv = await start_server(web_settings(tmp_path), hub, clock)
    try:
        await http_login(http, srv.url, "ana", world.password)
        async with http.get(f"{srv.url}/calls/{corrupt.id}") as resp:
            page = await resp.text()
        assert "No se pudo transcribir la grabación: not a PCM WAV file" in page
    finally:
        await runner.cleanup()


async def test_an_unreachable_server_leaves_the_call_due(world, clock, tmp_path, speech):
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    shutil.copy(speech[8000], recordings / "a.wav")
    call = await answered_call(world, clock, "a.wav", "2.1")
    await transcription.set_enabled(world.ana, True)
    engine = HttpEngine("http://127.0.0.1:9", model="small", language="en")
    try:
        assert await TranscriptionWorker(engine, recordings, clock).run_once() == 0
    finally:
        await engine.close()
    assert await transcription.due_call_ids() == [call.id]
    assert (await Call.get(id=call.id)).transcription_error == ""


async def test_nothing_is_transcribed_when_switched_off(world, hub, clock, tmp_path, speech):
    await answered_call(world, clock, "a.wav", "3.1")
    assert await transcription.due_call_ids() == []  # the company switch is off by default
    await transcription.set_enabled(world.ana, True)
    assert len(await transcription.due_call_ids()) == 1
    assert build_engine(TranscriptionSettings()) is None  # engine = "none"
    async with AsyncExitStack() as stack:
        assert await start_transcription(stack, Settings(data_dir=tmp_path), hub, clock) is None
    with pytest.raises(PermissionDenied):
        await transcription.set_enabled(world.luis, False)  # an agent may not


async def test_cli_prints_the_transcript(world, database, clock, tmp_path, speech, whisper):
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    shutil.copy(speech[8000], recordings / "c.wav")
    call = await answered_call(world, clock, "c.wav", "4.1")
    env = {
        "CENTRALITA_TRANSCRIPTION__ENGINE": "http",
        "CENTRALITA_TRANSCRIPTION__HTTP_URL": whisper.url,
        "CENTRALITA_AMI__RECORDINGS_DIR": str(recordings),
    }
    done = await asyncio.to_thread(run_cli, tmp_path, database, "transcribe", str(call.id), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == SAID
    assert (await Call.get(id=call.id)).transcript == SAID
    missing = await asyncio.to_thread(run_cli, tmp_path, database, "transcribe", "999", env=env)
    assert missing.returncode == 2 and "no call 999" in missing.stderr
    off = await asyncio.to_thread(run_cli, tmp_path, database, "transcribe", str(call.id))
    assert off.returncode == 2 and "[transcription] engine" in off.stderr


def test_the_http_api_key_is_secret():
    settings = TranscriptionSettings(engine="http", http_url="http://x", http_api_key="k-1")
    assert "k-1" not in repr(settings) and "k-1" not in str(settings.model_dump(mode="json"))
    with pytest.raises(ValueError, match="http://"):
        TranscriptionSettings(http_url="ftp://x")


async def test_an_admin_turns_transcription_on_in_the_settings(
    world,
    hub,
    clock,
    tmp_path,
    http,  # noqa: F811
):
    runner, srv = await start_server(web_settings(tmp_path), hub, clock)
    try:
        await http_login(http, srv.url, "ana", world.password)
        async with http.get(f"{srv.url}/settings/telephony") as resp:
            page = await resp.text()
        assert "Reconocimiento de voz" in page
        assert "No hay ningún motor de reconocimiento de voz" in page  # engine = "none"
        form = {"csrf_token": csrf_from(page), "widget_mode": "softphone"}
        form["is_transcribe_calls"] = "1"
        async with http.post(
            f"{srv.url}/settings/telephony", data=form, allow_redirects=False
        ) as resp:
            assert resp.status == 303, await resp.text()
    finally:
        await runner.cleanup()
    assert await transcription.is_enabled()


async def test_stopping_mid_recording_is_prompt_and_leaves_the_call_due(
    world, hub, clock, tmp_path
):
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    long_call = espeak_wav(" ".join([ORDER] * 12), recordings / "long.wav", 8000)  # ~80 s
    call = await answered_call(world, clock, "long.wav", "5.1")
    await transcription.set_enabled(world.ana, True)
    handed = asyncio.Event()

    class Watched(PocketsphinxEngine):
        async def transcribe(self, path: Path) -> str:
            handed.set()  # runs on until it awaits the decoder process, with the file handed
            return await super().transcribe(path)

    worker = TranscriptionWorker(Watched(), recordings, clock, poll_seconds=3600)
    worker.start(hub)
    await handed.wait()
    started = asyncio.get_running_loop().time()
    await worker.stop()  # the process is ended, not waited for (80 s of audio take ~50 s)
    assert asyncio.get_running_loop().time() - started < 10
    assert long_call.exists()
    assert await transcription.due_call_ids() == [call.id]
